"""The runtime page's live streams (SSE, built on composer/http/sse.py): the status region of a
deploy's Pods, pushed again whenever they change, and followed logs as escaped HTML lines.

Page streams carry HTML for htmx's SSE extension (``status``, ``lines``, ``notice``, ``end``);
the API's log stream (composer/api/runtime.py) carries plain text (docs/runtime.md).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.template.loader import render_to_string
from django.utils.html import escape
from django.views.decorators.http import require_GET

from composer import cluster
from composer.cluster.feed import StatusFeed, StatusSnapshot
from composer.cluster.logfollow import LogBatch
from composer.http import sse
from composer.services import runtime
from composer.services.runtime import Deployed, LogChoice
from composer.web.runtime import views
from composer.web.runtime.views import deployed_or_404


def refused_page_stream(event: str, message: str) -> StreamingHttpResponse:
    """A page stream that only says why it cannot stream, and tells the browser to stop trying."""
    html = f'<p class="alert alert-warning small" role="alert">{escape(message)}</p>'
    body = sse.sse_event(event, html) + (sse.sse_event("end", "") if event != "end" else b"")
    return sse.sse_response(sse.EventStream(iter([body])))




def status_events(target: Deployed, feed: StatusFeed, heartbeat: float) -> Iterator[bytes]:
    yield f"retry: {sse.RECONNECT_AFTER_MS}\n\n".encode()
    while not feed.closed:
        snapshot = feed.next_snapshot(heartbeat)
        if snapshot is None:
            yield sse.KEEP_ALIVE
            continue
        html = render_to_string("composer/runtime/_status.html", views.status_context(target, snapshot))
        yield sse.sse_event("status", html)


@require_GET
def status_stream(request: HttpRequest, pk: int) -> HttpResponse:
    """The status region of the runtime page, pushed again whenever a Pod or its Events change."""
    target = deployed_or_404(request, pk)

    def open_stream() -> sse.EventStream:
        feed = StatusFeed(target.context, target.workload, settings=sse.watch_settings()).start()
        return sse.EventStream(status_events(target, feed, sse.heartbeat_seconds()), [feed.close])

    try:
        return sse.with_slot(request, open_stream, lambda message: refused_page_stream("notice", message))
    except cluster.ClusterError as error:  # e.g. the context is gone from the kubeconfig: nothing to retry
        snapshot = StatusSnapshot(target.workload, (), datetime.now(UTC), problem=error)
        html = render_to_string("composer/runtime/_status.html", views.status_context(target, snapshot))
        return sse.sse_response(sse.EventStream(iter([sse.sse_event("status", html) + sse.sse_event("end", "")])))


# ---------------------------------------------------------------------------
# Logs
# ---------------------------------------------------------------------------


class PageLines:
    """Batches for the page: one ``lines`` event of escaped HTML lines, notices as marked lines."""

    def __init__(self, choice: LogChoice, tags: dict[str, int]) -> None:
        self.choice, self.tags = choice, tags

    def events(self, batch: LogBatch) -> bytes:
        if not batch.chunks and not batch.notices:
            return b""
        parts = [views.render_chunk(chunk, merged=self.choice.merged, tags=self.tags) for chunk in batch.chunks]
        parts += [f'<div class="l notice" role="note">{escape(text)}</div>' for text in batch.notices]
        return sse.sse_event("lines", "\n".join(parts), event_id=runtime.position_id(batch.positions))

    def end(self) -> bytes:
        which = "every container's log" if self.choice.merged else f"container '{self.choice.container}'"
        return sse.sse_event("end", f'<span class="notice">The log stream of {escape(which)} ended: the container '
                                "stopped (or its log was closed).</span>")


def _only(message: str) -> StreamingHttpResponse:
    """A page log stream that only shows why it cannot follow, then ends."""
    line = f'<div class="l notice error" role="alert">{escape(message)}</div>'
    return sse.sse_response(sse.EventStream(iter([sse.sse_event("lines", line) + sse.sse_event("end", "")])))


@require_GET
def log_stream(request: HttpRequest, pk: int) -> HttpResponse:
    """The page's followed log: batches of escaped HTML lines, ``end`` when the log closes."""
    target = deployed_or_404(request, pk)
    snapshot = runtime.take_snapshot(target, events=False)
    choice = runtime.choose_log(request.GET, snapshot, tail_limit=runtime.max_lines())
    pod = snapshot.pod(choice.pod) if choice else None
    if choice is None or pod is None:
        return _only(snapshot.problem.message if snapshot.problem else "That Pod is gone.")

    def open_stream() -> sse.EventStream:
        follower = runtime.start_follower(target, choice, choice.containers(pod),
                                           request.headers.get("Last-Event-ID", ""))
        render = PageLines(choice, views.container_tags(pod))
        return sse.EventStream(sse.log_events(follower, render, sse.heartbeat_seconds()), [follower.close])

    try:
        return sse.with_slot(request, open_stream, lambda message: refused_page_stream("end", message))
    except cluster.ClusterError as error:
        return _only(error.message)


