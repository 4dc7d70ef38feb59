"""Live streams: Server-Sent Events framing, the slots that bound them, and the loop that turns a
log follower into events. The runtime page's streams and the API's log stream are built on this.

Each stream is a ``StreamingHttpResponse`` over an ``EventStream``: the server calls its
``close()`` when the browser has gone (a write failed) or the stream ended, and that stops the
cluster watch or log follow behind it and frees its slot. A write happens at least every
``PODSTUDIO_SSE_HEARTBEAT`` seconds (a comment line when there is no news), so a closed tab is
noticed within about that long.

Streams hold a thread and connections to the cluster for as long as they are open, so a
server process serves at most ``PODSTUDIO_MAX_STREAMS`` at once, and in team mode one person
at most ``PODSTUDIO_MAX_STREAMS_PER_USER`` (so one viewer cannot take them all); beyond that a
stream is refused with words saying which limit was hit (a page stream tells the browser not to
reconnect; the API answers 429).

Streams hold no database connection while they wait: the view's is closed before the first event,
and whatever producing an event opened is closed before waiting for the next
(``release_database``). A stream lasts minutes to hours; PostgreSQL serves a bounded number of
connections (``max_connections``), and an idle one may be cut by the server or a proxy meanwhile,
so a stream that kept one would exhaust the database or fail on its next query.
"""

from __future__ import annotations

import contextlib
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from typing import Protocol

from django.conf import settings
from django.db import connections
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse

from composer.cluster.logfollow import LogBatch, LogFollower
from composer.cluster.watch import WatchSettings
from composer.services import access


class LogRenderer(Protocol):
    def events(self, batch: LogBatch) -> bytes: ...

    def end(self) -> bytes: ...


KEEP_ALIVE = b": keep-alive\n\n"


RECONNECT_AFTER_MS = 3000


def heartbeat_seconds() -> float:
    return float(settings.PODSTUDIO_SSE_HEARTBEAT)


def watch_settings() -> WatchSettings:
    return WatchSettings(watch_seconds=int(settings.PODSTUDIO_WATCH_SECONDS))


class StreamSlots:
    """Counts open streams per process and per user; the limits are read from the settings each time
    (tests change them). A user is a team-mode account: in local mode only the process limit applies."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open = 0
        self._by_user: Counter[int] = Counter()

    @property
    def limit(self) -> int:
        return settings.PODSTUDIO_MAX_STREAMS

    @property
    def per_user_limit(self) -> int:
        return settings.PODSTUDIO_MAX_STREAMS_PER_USER

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


def sse_event(event: str, data: str, *, event_id: str = "") -> bytes:
    """One event; every line of ``data`` becomes a ``data:`` field (the browser joins them with \\n).

    A carriage return would end a field too: it is dropped."""
    head = f"id: {event_id}\n" if event_id else ""
    body = data.replace("\r", "").replace("\n", "\ndata: ")
    return f"{head}event: {event}\ndata: {body}\n\n".encode()


def release_database() -> None:
    """Close this thread's database connections; the next query opens one again. A connection inside
    a transaction (a test's, or ATOMIC_REQUESTS) is left alone: closing it would roll the transaction
    back under its owner."""
    for connection in connections.all(initialized_only=True):
        if not connection.in_atomic_block:
            connection.close()


class EventStream:
    """The iterable behind a StreamingHttpResponse: ``close()`` stops the producer exactly once,
    whether or not iteration ever started (Django registers it as a resource closer)."""

    def __init__(self, events: Iterator[bytes], on_close: Iterable[Callable[[], None]] = ()) -> None:
        self._events = events
        self._on_close = list(on_close)
        self._closed = False
        self._lock = threading.Lock()

    def __iter__(self) -> Iterator[bytes]:
        # Under WSGI this runs in the view's thread, so the first release closes the view's connection;
        # under ASGI in a stream thread (middleware/streaming.py closes the view's).
        release_database()
        for event in self._events:
            release_database()
            yield event

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


def log_events(follower: LogFollower, render: LogRenderer, heartbeat: float) -> Iterator[bytes]:
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
