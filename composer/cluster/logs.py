"""Container logs: tail, previous instance, raw download and a merged view (following: logfollow.py).

Lines are requested with ``timestamps=true`` unless a caller says otherwise: the timestamp
orders the merged view of several containers, lets a reconnecting follower resume exactly
after the last line it delivered (``since``), and lets the page show or hide it without
asking again. ``raw_log`` relays the bytes untouched (what the user asked for, e.g. a
download).

Lines travel as ``LogChunk``s: the lines of one network read, decoded once and kept as one
string that renderers treat as a whole (one escape, one substitution) instead of line by
line, because a busy container writes hundreds of thousands of lines a second.
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from itertools import repeat
from typing import Any, NamedTuple

import urllib3

from composer.cluster.contexts import Connection, connect
from composer.cluster.errors import ClusterError
from composer.cluster.paths import segment
from composer.cluster.streams import open_stream, shut

DEFAULT_TAIL = 500
READ_SIZE = 256 * 1024


class LogLine(NamedTuple):
    container: str
    timestamp: str  # RFC 3339 with nanoseconds, as the kubelet writes it; "" if there was none
    text: str


class LogChunk:
    """Consecutive lines of one container as they came in one read: one string (lines joined by
    newlines, each starting with "<timestamp> " when ``stamped``), split only when needed."""

    __slots__ = ("block", "container", "count", "plain", "stamped")

    def __init__(self, container: str, block: str, *, stamped: bool, plain: bool | None = None) -> None:
        self.container, self.block, self.stamped = container, block, stamped
        self.plain = plain  # no control characters or escape sequences (None: not known)
        self.count = block.count("\n") + 1

    def __repr__(self) -> str:
        return f"LogChunk({self.container!r}, {self.count} lines)"

    @property
    def last_stamp(self) -> str:
        return self.block[self.block.rfind("\n") + 1 :].partition(" ")[0] if self.stamped else ""

    def columns(self) -> tuple[list[str], list[str]]:
        """(timestamps, texts); timestamps are "" when there are none."""
        texts = self.block.split("\n")
        if not self.stamped:
            return [""] * len(texts), texts
        parts = [text.partition(" ") for text in texts]
        return [part[0] for part in parts], [part[2] for part in parts]

    def lines(self) -> Iterator[LogLine]:
        stamps, texts = self.columns()
        return map(LogLine, repeat(self.container), stamps, texts)

    def after(self, key: str) -> LogChunk | None:
        """The lines stamped later than ``key`` (a timestamp_key), or None when there are none."""
        stamps, texts = self.columns()
        for index, stamp in enumerate(stamps):
            if not stamp or timestamp_key(stamp) > key:
                if index == 0:
                    return self
                kept = [f"{s} {t}" for s, t in zip(stamps[index:], texts[index:], strict=True)]
                return LogChunk(self.container, "\n".join(kept), stamped=True, plain=self.plain)
        return None


@dataclass(frozen=True)
class LogRequest:
    pod: str
    container: str
    previous: bool = False
    tail: int | None = DEFAULT_TAIL  # None: the whole log
    timestamps: bool = True
    follow: bool = False
    since: str = ""  # a timestamp: only lines after it (used to resume)

    def query(self) -> list[tuple[str, Any]]:
        query: list[tuple[str, Any]] = [("container", self.container)]
        if self.previous:
            query.append(("previous", "true"))
        if self.follow:
            query.append(("follow", "true"))
        if self.timestamps:
            query.append(("timestamps", "true"))
        if self.since:
            # Whole seconds are enough for the server; lines up to ``since`` itself are dropped here.
            query.append(("sinceTime", self.since.split(".")[0].rstrip("Z") + "Z"))
        elif self.tail is not None:
            query.append(("tailLines", max(self.tail, 0)))
        return query


def log_path(namespace: str, pod: str) -> str:
    return f"/api/v1/namespaces/{segment(namespace)}/pods/{segment(pod)}/log"


# ---------------------------------------------------------------------------
# Parsing
# ---------------------------------------------------------------------------


def timestamp_key(timestamp: str) -> str:
    """A sortable form of an RFC 3339 timestamp (fractions padded to nanoseconds)."""
    seconds, dot, rest = timestamp.partition(".")
    if not dot:
        return seconds.rstrip("Z") + ".000000000"
    return f"{seconds}.{rest.rstrip('Z')[:9]:0<9}"


def read_blocks(response: urllib3.BaseHTTPResponse, chunk_size: int = READ_SIZE) -> Iterator[bytes]:
    """The complete lines of a streamed body, one block per read as it arrives (lines joined by
    newlines, without the last one). ``read1`` returns what has arrived instead of waiting."""
    pending = b""
    while data := response.read1(chunk_size):
        pending += data
        cut = pending.rfind(b"\n")
        if cut < 0:
            continue
        block, pending = pending[:cut], pending[cut + 1 :]
        yield block
    if pending:
        yield pending


# Control characters other than newline and tab (ESC starts the colour codes among them).
_CONTROL_BYTES = bytes([*range(0, 9), *range(11, 32), 127])


def to_chunk(container: str, raw: bytes, *, timestamps: bool) -> LogChunk:
    text = raw.decode("utf-8", "replace")
    # One C pass over the bytes tells whether the whole block can be rendered the fast way.
    plain = len(raw.translate(None, _CONTROL_BYTES)) == len(raw)
    # A server that was asked for timestamps but did not add them (a proxy?) still gets its lines shown.
    return LogChunk(container, text, stamped=timestamps and text[:4].isdigit(), plain=plain)


# ---------------------------------------------------------------------------
# Errors in words
# ---------------------------------------------------------------------------


def explain(error: ClusterError, request: LogRequest) -> ClusterError:
    """Reword the kubelet's answers about logs that do not exist (yet)."""
    if error.status != 400:
        return error
    text, name, pod = error.message, request.container, request.pod
    if "is waiting to start" in text:
        why = text.split("is waiting to start:", 1)[1].strip() if "waiting to start:" in text else ""
        return ClusterError(
            "not_found",
            f"Container '{name}' has not started yet{f' ({why})' if why else ''}: it has no logs so far.",
            status=400,
            details={"waiting": True},
        )
    if "previous terminated container" in text:
        return ClusterError(
            "not_found", f"Container '{name}' has no previous instance: it has not restarted.", status=400
        )
    if "is not valid for pod" in text:
        return ClusterError("not_found", f"Pod '{pod}' has no container '{name}'.", status=400)
    return error


def not_on_a_node_yet(response: urllib3.BaseHTTPResponse, request: LogRequest) -> urllib3.BaseHTTPResponse:
    """``response``, unless it is the API server's 204 No Content for a Pod that has no node yet.

    For a Pod not scheduled yet (unschedulable, or held by a scheduling gate) the API server
    asks no kubelet and answers 204 with no body, follow or not (seen on a real API server). That
    is no log *yet*, not an empty log, nor a followed one that ended
    because the container stopped: say so as a kubelet says it of a waiting container.
    """
    if response.status != 204:
        return response
    shut(response)
    raise ClusterError(
        "not_found",
        f"Container '{request.container}' has not started yet (Pod '{request.pod}' is not on a node yet): "
        "it has no logs so far.",
        status=204,
        details={"waiting": True},
    )


# ---------------------------------------------------------------------------
# Tail (not followed)
# ---------------------------------------------------------------------------


class RawLog:
    """The bytes of one log, relayed as they come: iterate, and ``close()`` when done."""

    def __init__(
        self, connection: Connection, namespace: str, request: LogRequest, chunk_size: int = READ_SIZE
    ) -> None:
        self.connection = connection
        self.request = request
        self.chunk_size = chunk_size
        try:
            self._response = not_on_a_node_yet(
                open_stream(
                    connection, log_path(namespace, request.pod), request.query(), read_timeout=connection.timeouts.read
                ),
                request,
            )
        except ClusterError as error:
            raise explain(error, request) from None

    def __iter__(self) -> Iterator[bytes]:
        with self.connection.translated_errors():
            while chunk := self._response.read1(self.chunk_size):
                yield chunk

    def lines(self) -> Iterator[LogLine]:
        with self.connection.translated_errors():
            for block in read_blocks(self._response, self.chunk_size):
                yield from to_chunk(self.request.container, block, timestamps=self.request.timestamps).lines()

    def close(self) -> None:
        shut(self._response)


def raw_log(context: str | None, namespace: str, request: LogRequest) -> RawLog:
    """One container's log as bytes, exactly as the cluster sends it. Raises ClusterError."""
    return RawLog(connect(context), namespace, replace(request, follow=False))


def fetch(context: str | None, namespace: str, request: LogRequest) -> list[LogLine]:
    """The last ``request.tail`` lines of one container (or of its previous instance)."""
    log = raw_log(context, namespace, replace(request, timestamps=True))
    try:
        return list(log.lines())
    finally:
        log.close()


@dataclass
class MergedLog:
    """Several containers' logs in one, ordered by timestamp. ``notes`` say what is missing and why."""

    lines: Iterator[LogLine]
    notes: list[str] = field(default_factory=list)
    _logs: list[RawLog] = field(default_factory=list)

    def close(self) -> None:
        for log in self._logs:
            log.close()


def merged_log(
    context: str | None,
    namespace: str,
    pod: str,
    containers: Sequence[str],
    *,
    tail: int | None = DEFAULT_TAIL,
    previous: bool = False,
) -> MergedLog:
    """Every container's log (``tail`` lines each) merged by time, read lazily: memory stays small
    even for a full download."""
    connection = connect(context)
    merged = MergedLog(iter(()))
    for container in containers:
        request = LogRequest(pod, container, previous=previous, tail=tail)
        try:
            merged._logs.append(RawLog(connection, namespace, request))
        except ClusterError as error:
            if error.status != 400 and not error.details.get("waiting"):  # Pod gone, access denied …: nothing to merge
                merged.close()
                raise
            merged.notes.append(error.message)
    merged.lines = heapq.merge(*(log.lines() for log in merged._logs), key=lambda line: timestamp_key(line.timestamp))
    return merged


def fetch_merged(
    context: str | None,
    namespace: str,
    pod: str,
    containers: Sequence[str],
    *,
    tail: int | None = DEFAULT_TAIL,
    previous: bool = False,
    keep: int | None = None,
) -> tuple[list[LogLine], list[str]]:
    """The merged view as a list (the newest ``keep`` lines), with notes about containers without logs."""
    merged = merged_log(context, namespace, pod, containers, tail=tail, previous=previous)
    try:
        return list(deque(merged.lines, maxlen=keep)), merged.notes
    finally:
        merged.close()
