"""Server-Sent Events: the live status of a deploy's Pods, and followed logs.

Each stream is a ``StreamingHttpResponse`` over an ``EventStream``: the WSGI server calls
its ``close()`` when the browser has gone (a write failed) or the stream ended, and that
stops the cluster watch or log follow behind it and frees its slot. A write happens at
least every ``PODSTUDIO_SSE_HEARTBEAT`` seconds (a comment line when there is no news),
so a closed tab is noticed within about that long.

Streams hold a thread and connections to the cluster for as long as they are open, so a
server process serves at most ``PODSTUDIO_MAX_STREAMS`` at once, and in team mode one person
at most ``PODSTUDIO_MAX_STREAMS_PER_USER`` (so one viewer cannot take them all); beyond that a
page stream answers with a message saying which limit was hit (and tells the browser not to
reconnect), and the API answers 429.

Page streams carry HTML for htmx's SSE extension (``status``, ``lines``, ``notice``,
``end``); the API's log stream carries plain text (docs/runtime.md).
"""

from __future__ import annotations

import contextlib
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.template.loader import render_to_string
from django.utils.html import escape
from django.views.decorators.http import require_GET

from composer import access, cluster
from composer.cluster import logs as cluster_logs
from composer.cluster import status as cluster_status
from composer.cluster.status import PodStatus
from composer.views import runtime
from composer.views.runtime import Deployed, LogChoice

KEEP_ALIVE = b": keep-alive\n\n"
RECONNECT_AFTER_MS = 3000


def heartbeat_seconds() -> float:
    return float(runtime.setting("PODSTUDIO_SSE_HEARTBEAT", 15.0))


def watch_settings() -> cluster_status.WatchSettings:
    return cluster_status.WatchSettings(watch_seconds=int(runtime.setting("PODSTUDIO_WATCH_SECONDS", 50)))


# ---------------------------------------------------------------------------
# Slots: a bounded number of open streams per process
# ---------------------------------------------------------------------------


class StreamSlots:
    """Counts open streams per process and per user; the limits are read from the settings each time
    (tests change them). A user is a team-mode account: in local mode only the process limit applies."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open = 0
        self._by_user: Counter[int] = Counter()

    @property
    def limit(self) -> int:
        return int(runtime.setting("PODSTUDIO_MAX_STREAMS", 40))

    @property
    def per_user_limit(self) -> int:
        return int(runtime.setting("PODSTUDIO_MAX_STREAMS_PER_USER", 8))

    @property
    def open(self) -> int:
        return self._open

    def open_for(self, user: int | None) -> int:
        return self._by_user[user] if user is not None else 0

    def acquire(self, user: int | None) -> str:
        """Takes a slot: "" when it did, otherwise which limit was hit, in words for the page."""
        with self._lock:
            if self._open >= self.limit:
                return (f"This Pod Studio server already serves {self.limit} live streams, its limit for everyone. "
                        "Close other runtime pages (or stop following a log) and reload.")
            if user is not None and self._by_user[user] >= self.per_user_limit:
                return (f"You already have {self.per_user_limit} live streams open, the limit for one person. "
                        "Close some of your other runtime pages or log views, then reload.")
            self._open += 1
            if user is not None:
                self._by_user[user] += 1
            return ""

    def release(self, user: int | None) -> None:
        with self._lock:
            self._open = max(self._open - 1, 0)
            if user is not None:
                self._by_user[user] -= 1
                if self._by_user[user] <= 0:
                    del self._by_user[user]


SLOTS = StreamSlots()


def stream_owner(request: HttpRequest) -> int | None:
    """Whose streams a request's stream counts against (None: only the process limit applies)."""
    if access.team_mode() and request.user.is_authenticated:
        return request.user.pk
    return None


# ---------------------------------------------------------------------------
# SSE framing and the response
# ---------------------------------------------------------------------------


def sse_event(event: str, data: str, *, event_id: str = "") -> bytes:
    """One event; every line of ``data`` becomes a ``data:`` field (the browser joins them with \\n).

    A carriage return would end a field too: it is dropped."""
    head = f"id: {event_id}\n" if event_id else ""
    body = data.replace("\r", "").replace("\n", "\ndata: ")
    return f"{head}event: {event}\ndata: {body}\n\n".encode()


class EventStream:
    """The iterable behind a StreamingHttpResponse: ``close()`` stops the producer exactly once,
    whether or not iteration ever started (Django registers it as a resource closer)."""

    def __init__(self, events: Iterator[bytes], on_close: Iterable[Callable[[], None]] = ()) -> None:
        self._events = events
        self._on_close = list(on_close)
        self._closed = False
        self._lock = threading.Lock()

    def __iter__(self) -> Iterator[bytes]:
        return self._events

    def on_close(self, callback: Callable[[], None]) -> None:
        self._on_close.append(callback)

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
        try:
            for callback in self._on_close:  # first: stops the producer even if it is blocked right now
                callback()
        finally:
            close = getattr(self._events, "close", None)
            if close is not None:
                with contextlib.suppress(ValueError):  # "generator already executing" in another thread
                    close()


def sse_response(stream: EventStream) -> StreamingHttpResponse:
    response = StreamingHttpResponse(stream, content_type="text/event-stream; charset=utf-8")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"  # a proxy in front must not hold events back
    return response


def refused_page_stream(event: str, message: str) -> StreamingHttpResponse:
    """A page stream that only says why it cannot stream, and tells the browser to stop trying."""
    html = f'<p class="alert alert-warning small" role="alert">{escape(message)}</p>'
    body = sse_event(event, html) + (sse_event("end", "") if event != "end" else b"")
    return sse_response(EventStream(iter([body])))


def with_slot(request: HttpRequest, open_stream: Callable[[], EventStream],
              refuse: Callable[[str], HttpResponse]) -> HttpResponse:
    """Run ``open_stream`` in a slot (freed when the stream closes), or ``refuse`` with the reason."""
    owner = stream_owner(request)
    refusal = SLOTS.acquire(owner)
    if refusal:
        return refuse(refusal)
    try:
        stream = open_stream()
    except BaseException:
        SLOTS.release(owner)
        raise
    stream.on_close(lambda: SLOTS.release(owner))
    return sse_response(stream)


# ---------------------------------------------------------------------------
# Status
# ---------------------------------------------------------------------------


def status_events(target: Deployed, feed: cluster_status.StatusFeed, heartbeat: float) -> Iterator[bytes]:
    yield f"retry: {RECONNECT_AFTER_MS}\n\n".encode()
    while not feed.closed:
        snapshot = feed.next_snapshot(heartbeat)
        if snapshot is None:
            yield KEEP_ALIVE
            continue
        html = render_to_string("composer/_runtime_status.html", runtime.status_context(target, snapshot))
        yield sse_event("status", html)


@require_GET
def status_stream(request: HttpRequest, pk: int) -> HttpResponse:
    """The status region of the runtime page, pushed again whenever a Pod or its Events change."""
    target = runtime.deployed_or_404(request, pk)

    def open_stream() -> EventStream:
        feed = cluster_status.StatusFeed(target.context, target.workload, settings=watch_settings()).start()
        return EventStream(status_events(target, feed, heartbeat_seconds()), [feed.close])

    try:
        return with_slot(request, open_stream, lambda message: refused_page_stream("notice", message))
    except cluster.ClusterError as error:  # e.g. the context is gone from the kubeconfig: nothing to retry
        snapshot = cluster_status.StatusSnapshot(target.workload, (), datetime.now(UTC), problem=error)
        html = render_to_string("composer/_runtime_status.html", runtime.status_context(target, snapshot))
        return sse_response(EventStream(iter([sse_event("status", html) + sse_event("end", "")])))


# ---------------------------------------------------------------------------
# Logs
# ---------------------------------------------------------------------------


def parse_positions(last_event_id: str) -> dict[str, str]:
    """``app=2024-…Z,sidecar=2024-…Z`` (our event ids) back into container -> timestamp."""
    positions = {}
    for part in last_event_id.split(","):
        name, equals, stamp = part.partition("=")
        if equals and name and stamp[:4].isdigit():
            positions[name.strip()] = stamp.strip()
    return positions


def position_id(positions: dict[str, str]) -> str:
    return ",".join(f"{name}={stamp}" for name, stamp in sorted(positions.items()) if stamp)


def start_follower(
    target: Deployed, choice: LogChoice, containers: list[str], request: HttpRequest, *, timestamps: bool = True
) -> cluster_logs.LogFollower:
    """A follower for the chosen containers, resuming after the client's Last-Event-ID if any."""
    since = parse_positions(request.headers.get("Last-Event-ID", ""))
    return cluster_logs.follow(
        target.context, target.workload.namespace, choice.pod, containers, tail=choice.tail, since=since,
        timestamps=timestamps,
    )


class PageLines:
    """Batches for the page: one ``lines`` event of escaped HTML lines, notices as marked lines."""

    def __init__(self, choice: LogChoice, tags: dict[str, int]) -> None:
        self.choice, self.tags = choice, tags

    def events(self, batch: cluster_logs.LogBatch) -> bytes:
        if not batch.chunks and not batch.notices:
            return b""
        parts = [runtime.render_chunk(chunk, merged=self.choice.merged, tags=self.tags) for chunk in batch.chunks]
        parts += [f'<div class="l notice" role="note">{escape(text)}</div>' for text in batch.notices]
        return sse_event("lines", "\n".join(parts), event_id=position_id(batch.positions))

    def end(self) -> bytes:
        which = "every container's log" if self.choice.merged else f"container '{self.choice.container}'"
        return sse_event("end", f'<span class="notice">The log stream of {escape(which)} ended: the container '
                                "stopped (or its log was closed).</span>")


class TextLines:
    """Batches for the API: ``notice`` events, then one ``lines`` event with a ``data:`` field per line
    (tagged ``[pod/<pod>/<container>]`` in the merged view, like ``kubectl logs --prefix``)."""

    def __init__(self, choice: LogChoice, pod: str) -> None:
        self.choice, self.pod = choice, pod

    def events(self, batch: cluster_logs.LogBatch) -> bytes:
        events = [sse_event("notice", text) for text in batch.notices]
        if batch.chunks:
            text = "\n".join(self._text(chunk) for chunk in batch.chunks)
            events.append(sse_event("lines", text, event_id=position_id(batch.positions)))
        return b"".join(events)

    def _text(self, chunk: cluster_logs.LogChunk) -> str:
        if not self.choice.merged:
            return chunk.block
        prefix = f"[pod/{self.pod}/{chunk.container}] "
        return prefix + chunk.block.replace("\n", "\n" + prefix)

    def end(self) -> bytes:
        return sse_event("end", "")


def log_events(follower: cluster_logs.LogFollower, render: PageLines | TextLines, heartbeat: float) -> Iterator[bytes]:
    """Batches as events (ids say where to resume), then ``end`` when every followed log has ended."""
    yield f"retry: {RECONNECT_AFTER_MS}\n\n".encode()
    while not follower.closed:
        batch = follower.next_batch(heartbeat)
        if batch is None:
            yield KEEP_ALIVE
            continue
        yield render.events(batch)
        if batch.finished:
            yield render.end()
            return


def _only(message: str) -> StreamingHttpResponse:
    """A page log stream that only shows why it cannot follow, then ends."""
    line = f'<div class="l notice error" role="alert">{escape(message)}</div>'
    return sse_response(EventStream(iter([sse_event("lines", line) + sse_event("end", "")])))


@require_GET
def log_stream(request: HttpRequest, pk: int) -> HttpResponse:
    """The page's followed log: batches of escaped HTML lines, ``end`` when the log closes."""
    target = runtime.deployed_or_404(request, pk)
    snapshot = runtime.take_snapshot(target, events=False)
    choice = runtime.choose_log(request.GET, snapshot, tail_limit=runtime.max_lines())
    pod = snapshot.pod(choice.pod) if choice else None
    if choice is None or pod is None:
        return _only(snapshot.problem.message if snapshot.problem else "That Pod is gone.")

    def open_stream() -> EventStream:
        follower = start_follower(target, choice, choice.containers(pod), request)
        render = PageLines(choice, runtime.container_tags(pod))
        return EventStream(log_events(follower, render, heartbeat_seconds()), [follower.close])

    try:
        return with_slot(request, open_stream, lambda message: refused_page_stream("end", message))
    except cluster.ClusterError as error:
        return _only(error.message)


def text_log_stream(
    target: Deployed, choice: LogChoice, pod: PodStatus, request: HttpRequest, refuse: Callable[[str], HttpResponse]
) -> HttpResponse:
    """The API's SSE twin of the text log (see runtime_api)."""

    def open_stream() -> EventStream:
        # Like kubectl, ask the cluster for timestamps only when the client wants them (ids to resume need them).
        follower = start_follower(target, choice, choice.containers(pod), request, timestamps=choice.timestamps)
        return EventStream(log_events(follower, TextLines(choice, pod.name), heartbeat_seconds()), [follower.close])

    return with_slot(request, open_stream, refuse)
