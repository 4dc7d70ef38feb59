"""Container logs: tail, previous instance, raw download, a merged view, and follow in batches.

Lines are requested with ``timestamps=true`` unless a caller says otherwise: the timestamp
orders the merged view of several containers, lets a reconnecting follower resume exactly
after the last line it delivered (``since``), and lets the page show or hide it without
asking again. ``raw_log`` relays the bytes untouched (what the user asked for, e.g. a
download).

``LogFollower`` follows one or more containers of a Pod, one daemon thread per container
reading its stream into a bounded queue (a slow reader slows the cluster's stream down
instead of filling memory); ``next_batch`` hands out many lines at once, at most
``batch_lines`` and waiting at most ``batch_wait`` seconds for more after the first.
A lost connection is retried from the last delivered line; a container that has not
started yet is waited for; ``close()`` stops everything from any thread.

Followed lines travel as ``LogChunk``s: the lines of one network read, decoded once and kept
as one string that renderers treat as a whole (one escape, one substitution) instead of
line by line, because a busy container writes hundreds of thousands of lines a second.
"""

from __future__ import annotations

import heapq
import queue
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from itertools import repeat
from typing import Any, NamedTuple

import urllib3

from composer.cluster.contexts import Connection, connect
from composer.cluster.errors import ClusterError
from composer.cluster.paths import segment
from composer.cluster.status import open_stream, shut

DEFAULT_TAIL = 500
# A followed container may stay quiet for hours; after this long without a byte we reconnect
# (from the last line), which also notices a cluster that went away without closing the stream.
QUIET_RECONNECT_SECONDS = 300.0
WAIT_FOR_START_SECONDS = 2.0
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


def now_stamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class _SinceFilter:
    """Drops lines at or before a timestamp (the server only filters by whole seconds)."""

    def __init__(self, since: str) -> None:
        self.key = timestamp_key(since) if since else ""

    def after(self, chunk: LogChunk) -> LogChunk | None:
        if not self.key:
            return chunk
        kept = chunk.after(self.key)
        if kept is not None:
            self.key = ""  # lines come in order: once past it, everything is new
        return kept


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
            self._response = open_stream(
                connection, log_path(namespace, request.pod), request.query(), read_timeout=connection.timeouts.read
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
            if error.status != 400:  # the Pod is gone, access denied …: nothing to merge
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


# ---------------------------------------------------------------------------
# Follow
# ---------------------------------------------------------------------------


@dataclass
class LogBatch:
    chunks: list[LogChunk] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)  # in words: lost connection, reconnected, waiting …
    ended: list[str] = field(default_factory=list)  # containers whose stream ended (the container stopped)
    finished: bool = False  # every followed stream has ended: nothing more will come
    positions: dict[str, str] = field(default_factory=dict)  # container -> last timestamp delivered
    line_count: int = 0

    @property
    def lines(self) -> list[LogLine]:
        return [line for chunk in self.chunks for line in chunk.lines()]


class _Item(NamedTuple):
    kind: str  # lines, notice, ended
    container: str
    payload: Any


class LogFollower:
    """Follows the logs of ``containers`` of one Pod; see the module docstring."""

    def __init__(
        self,
        context: str | None,
        namespace: str,
        pod: str,
        containers: Sequence[str],
        *,
        tail: int | None = DEFAULT_TAIL,
        since: dict[str, str] | None = None,
        timestamps: bool = True,
        batch_lines: int = 1000,
        batch_wait: float = 0.05,
        queue_size: int = 8,  # chunks (up to READ_SIZE each) waiting for a slow reader, per follower
        backoff_max: float = 10.0,
    ) -> None:
        if not containers:
            raise ValueError("follow at least one container")
        self.connection = connect(context)
        self.namespace = namespace
        self.pod = pod
        self.containers = list(containers)
        self.tail = tail
        # Without timestamps a reconnect resumes from our clock's time of the last read, to the second.
        self.timestamps = timestamps
        self.batch_lines = batch_lines
        self.batch_wait = batch_wait
        self.backoff_max = backoff_max
        self.positions = dict(since or {})  # container -> timestamp of the last line handed out
        self._read_up_to = dict(self.positions)  # the same for lines read (each pump thread writes its own key)
        self._queue: queue.Queue[_Item] = queue.Queue(maxsize=queue_size)
        self._stop = threading.Event()
        self._responses: dict[str, urllib3.BaseHTTPResponse] = {}
        self._lock = threading.Lock()
        self._running = set(self.containers)
        self._threads = [
            threading.Thread(target=self._pump, args=(name,), name=f"logs-{pod}-{name}", daemon=True)
            for name in self.containers
        ]

    # -- consumer side -----------------------------------------------------------

    def start(self) -> LogFollower:
        for thread in self._threads:
            thread.start()
        return self

    @property
    def closed(self) -> bool:
        return self._stop.is_set()

    @property
    def finished(self) -> bool:
        return not self._running and self._queue.empty()

    def next_batch(self, timeout: float) -> LogBatch | None:
        """The lines (and notices) that arrived; None when nothing came within ``timeout`` seconds."""
        if self.finished:
            return LogBatch(finished=True, positions=dict(self.positions))
        try:
            first = self._queue.get(timeout=timeout)
        except queue.Empty:
            return None
        batch = LogBatch()
        self._add(batch, first)
        deadline = time.monotonic() + self.batch_wait
        while batch.line_count < self.batch_lines:
            remaining = deadline - time.monotonic()
            try:
                item = self._queue.get(timeout=remaining) if remaining > 0 else self._queue.get_nowait()
            except queue.Empty:
                break
            self._add(batch, item)
        batch.finished = self.finished
        batch.positions = dict(self.positions)
        return batch

    def _add(self, batch: LogBatch, item: _Item) -> None:
        if item.kind == "lines":
            batch.chunks.append(item.payload)
            batch.line_count += item.payload.count
            if stamp := item.payload.last_stamp:
                self.positions[item.container] = stamp
        elif item.kind == "notice":
            batch.notices.append(item.payload)
        else:
            batch.ended.append(item.container)
            self._running.discard(item.container)

    def close(self) -> None:
        self._stop.set()
        with self._lock:
            responses = list(self._responses.values())
            self._responses.clear()
        for response in responses:
            shut(response)

    # -- one thread per container ------------------------------------------------

    def _put(self, item: _Item) -> bool:
        """Queue an item, waiting while the queue is full (back-pressure); False once closed."""
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.25)
                return True
            except queue.Full:
                continue
        return False

    def _pump(self, container: str) -> None:
        backoff, recovered_notice = 0.5, ""  # what to say once a stream opens again after a problem
        first = LogRequest(self.pod, container, tail=self.tail, follow=True, timestamps=self.timestamps,
                           since=self.positions.get(container, ""))
        request = first
        while not self._stop.is_set():
            try:
                response = self._open(request)
                if recovered_notice:
                    self._put(_Item("notice", container, recovered_notice))
                    recovered_notice, backoff = "", 0.5
                self._relay(container, response, _SinceFilter(request.since))
                self._put(_Item("ended", container, None))  # the server ended the stream: the container stopped
                return
            except ClusterError as error:
                if self._stop.is_set():
                    return
                error = explain(error, request)
                pause = self._pause_after(container, error, already_said=bool(recovered_notice), backoff=backoff)
                if pause is None:
                    return
                if error.details.get("waiting"):
                    recovered_notice = f"Container '{container}' started."
                elif error.kind != "timeout":
                    recovered_notice = f"Reconnected to the log of '{container}'."
                self._stop.wait(pause)
                backoff = min(backoff * 2, self.backoff_max)
            except Exception:
                if self._stop.is_set():  # close() cut the connection under the read
                    return
                raise
            # Go on after the last line read, not from the tail again.
            resume_at = self._read_up_to.get(container, "")
            request = replace(first, tail=None if resume_at else first.tail, since=resume_at)

    def _pause_after(self, container: str, error: ClusterError, *, already_said: bool, backoff: float) -> float | None:
        """How long to wait before trying again (telling the reader why), or None to give up."""
        if error.kind == "timeout":  # quiet for QUIET_RECONNECT_SECONDS: reconnect at once, say nothing
            return 0.0
        if error.details.get("waiting"):
            if not already_said:
                self._put(_Item("notice", container, f"{error.message} Waiting for it to start…"))
            return WAIT_FOR_START_SECONDS
        if error.kind in ("unreachable", "server", "rate_limited"):
            self._put(_Item("notice", container, f"{error.message} Reconnecting…"))
            return backoff
        self._put(_Item("notice", container, error.message))
        self._put(_Item("ended", container, None))
        return None

    def _open(self, request: LogRequest) -> urllib3.BaseHTTPResponse:
        response = open_stream(
            self.connection, log_path(self.namespace, self.pod), request.query(), read_timeout=QUIET_RECONNECT_SECONDS
        )
        with self._lock:
            if self._stop.is_set():
                shut(response)
                raise ClusterError("unreachable", "The log stream was closed.")
            self._responses[request.container] = response
        return response

    def _relay(self, container: str, response: urllib3.BaseHTTPResponse, since: _SinceFilter) -> None:
        try:
            with self.connection.translated_errors():
                for block in read_blocks(response):
                    chunk = since.after(to_chunk(container, block, timestamps=self.timestamps))
                    if chunk is None:
                        continue
                    self._read_up_to[container] = chunk.last_stamp or now_stamp()  # a reconnect goes on from here
                    if not self._put(_Item("lines", container, chunk)):
                        return
        finally:
            with self._lock:
                self._responses.pop(container, None)
            shut(response)


def follow(
    context: str | None,
    namespace: str,
    pod: str,
    containers: Iterable[str],
    **options: Any,
) -> LogFollower:
    """A started LogFollower (see its docstring); close it when done."""
    return LogFollower(context, namespace, pod, list(containers), **options).start()
