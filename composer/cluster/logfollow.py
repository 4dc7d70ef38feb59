"""Following container logs: one daemon thread per container, handed out in batches.

``LogFollower`` follows one or more containers of a Pod, one daemon thread per container
reading its stream into a bounded queue (a slow reader slows the cluster's stream down
instead of filling memory); ``next_batch`` hands out many lines at once, at most
``batch_lines``, collecting for at most ``batch_wait`` seconds after the first while more
keep coming (a pause of ``batch_gap`` ends the batch: a quiet log's lone line goes out at
once, a busy one's in a few large events; the knobs are in ``FollowSettings``). A lost
connection is retried from the last delivered line; a container that has not started yet is
waited for; ``close()`` stops everything from any thread. Lines come as logs.py's ``LogChunk``s.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime
from typing import Any, NamedTuple

import urllib3

from composer.cluster.contexts import connect
from composer.cluster.errors import ClusterError
from composer.cluster.logs import (
    DEFAULT_TAIL,
    LogChunk,
    LogLine,
    LogRequest,
    explain,
    log_path,
    not_on_a_node_yet,
    read_blocks,
    timestamp_key,
    to_chunk,
)
from composer.cluster.streams import open_stream, shut

# A followed container may stay quiet for hours; after this long without a byte we reconnect
# (from the last line), which also notices a cluster that went away without closing the stream.
QUIET_RECONNECT_SECONDS = 300.0
WAIT_FOR_START_SECONDS = 2.0


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


@dataclass(frozen=True)
class FollowSettings:
    """How a LogFollower batches, buffers and reconnects."""

    batch_lines: int = 1000  # at most this many lines in one batch
    batch_wait: float = 0.05  # after the first item of a batch, how long at most to collect more
    batch_gap: float = 0.005  # a pause this long between items ends the batch early
    queue_size: int = 8  # chunks (up to logs.READ_SIZE bytes each) waiting for a slow reader, per follower
    backoff_first: float = 0.5  # the first wait before reconnecting after a lost connection
    backoff_max: float = 10.0
    # The module's constants, read when the settings are made (so tests can change them):
    quiet_reconnect: float = field(default_factory=lambda: QUIET_RECONNECT_SECONDS)
    wait_for_start: float = field(default_factory=lambda: WAIT_FOR_START_SECONDS)


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
        settings: FollowSettings | None = None,
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
        self.settings = settings or FollowSettings()
        self.positions = dict(since or {})  # container -> timestamp of the last line handed out
        self._read_up_to = dict(self.positions)  # the same for lines read (each pump thread writes its own key)
        self._queue: queue.Queue[_Item] = queue.Queue(maxsize=self.settings.queue_size)
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
        deadline = time.monotonic() + self.settings.batch_wait
        while batch.line_count < self.settings.batch_lines:
            remaining = min(deadline - time.monotonic(), self.settings.batch_gap)
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
        # recovered_notice: what to say once a stream opens again after a problem
        backoff, recovered_notice = self.settings.backoff_first, ""
        first = LogRequest(self.pod, container, tail=self.tail, follow=True, timestamps=self.timestamps,
                           since=self.positions.get(container, ""))
        request = first
        while not self._stop.is_set():
            try:
                response = self._open(request)
                if recovered_notice:
                    self._put(_Item("notice", container, recovered_notice))
                    recovered_notice, backoff = "", self.settings.backoff_first
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
                backoff = min(backoff * 2, self.settings.backoff_max)
            except Exception:
                if self._stop.is_set():  # close() cut the connection under the read
                    return
                raise
            # Go on after the last line read, not from the tail again.
            resume_at = self._read_up_to.get(container, "")
            request = replace(first, tail=None if resume_at else first.tail, since=resume_at)

    def _pause_after(self, container: str, error: ClusterError, *, already_said: bool, backoff: float) -> float | None:
        """How long to wait before trying again (telling the reader why), or None to give up."""
        if error.kind == "timeout":  # quiet for settings.quiet_reconnect: reconnect at once, say nothing
            return 0.0
        if error.details.get("waiting"):
            if not already_said:
                self._put(_Item("notice", container, f"{error.message} Waiting for it to start…"))
            return self.settings.wait_for_start
        if error.kind in ("unreachable", "server", "rate_limited"):
            self._put(_Item("notice", container, f"{error.message} Reconnecting…"))
            return backoff
        self._put(_Item("notice", container, error.message))
        self._put(_Item("ended", container, None))
        return None

    def _open(self, request: LogRequest) -> urllib3.BaseHTTPResponse:
        response = open_stream(
            self.connection,
            log_path(self.namespace, self.pod),
            request.query(),
            read_timeout=self.settings.quiet_reconnect,
        )
        # A Pod without a node answers 204 at once: waiting, not a stream that ended (see logs.py).
        response = not_on_a_node_yet(response, request)
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
    """A started LogFollower (see its docstring); close it when done.

    ``options`` are LogFollower's (tail, since, timestamps, settings) and, for short, FollowSettings'
    fields (``batch_lines=…``), which override those of ``settings``."""
    knobs = {name: options.pop(name) for name in _SETTINGS_FIELDS & options.keys()}
    if knobs:
        options["settings"] = replace(options.get("settings") or FollowSettings(), **knobs)
    return LogFollower(context, namespace, pod, list(containers), **options).start()


_SETTINGS_FIELDS = frozenset(knob.name for knob in fields(FollowSettings))
