"""The runtime page of a deploy: its Pods coming up, and every container's logs.

The page renders a first snapshot itself (it works without the live stream), then
``streams.py`` keeps the status current over SSE and follows logs. This module turns
snapshots into what the templates show (``status_context``, ``log_panel``); finding the
deployed workload and the log choice are services (composer/services/runtime.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import groupby
from typing import Any
from urllib.parse import urlencode

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_GET

from composer import cluster
from composer.cluster import logs as cluster_logs
from composer.cluster import pods as cluster_pods
from composer.cluster.feed import StatusSnapshot
from composer.cluster.pods import ContainerStatus, PodStatus
from composer.models import DeployRecord
from composer.presentation import logtext
from composer.services import runtime
from composer.services.runtime import (
    ALL_CONTAINERS,
    KIND_LABELS,
    Deployed,
    LogChoice,
    NotWatchable,
    choose_log,
    line_chars,
    max_lines,
    take_snapshot,
)


def deployed_or_404(request: HttpRequest, pk: int) -> Deployed:
    try:
        return runtime.deployed(request.user, pk)
    except NotWatchable as error:
        raise Http404(error.message) from None


# ---------------------------------------------------------------------------
# What the status templates show
# ---------------------------------------------------------------------------

# (icon, tone) by situation; the words beside the icon always say the same.
_ICONS = {
    "done": ("✓", "ok"),
    "running": ("●", "running"),
    "unready": ("◐", "warn"),
    "failed": ("✗", "bad"),
    "waiting": ("…", "pending"),
    "unknown": ("○", "pending"),
}


def container_look(container: ContainerStatus) -> tuple[str, str]:
    if container.failing:
        return _ICONS["failed"]
    if container.state == cluster_pods.TERMINATED:
        return _ICONS["done"]
    if container.state == cluster_pods.RUNNING:
        ready = container.ready or container.kind == cluster_pods.INIT
        return _ICONS["running" if ready else "unready"]
    if container.state == cluster_pods.WAITING:
        return _ICONS["waiting"]
    return _ICONS["unknown"]


def age(moment: datetime | None, now: datetime) -> str:
    if moment is None:
        return "—"
    seconds = max(int((now - moment).total_seconds()), 0)
    if seconds < 120:
        return f"{seconds}s"
    minutes = seconds // 60
    if minutes < 120:
        return f"{minutes}m"
    hours = minutes // 60
    return f"{hours}h{minutes % 60}m" if hours < 48 else f"{hours // 24}d"


def logs_query(pod: str, container: str, *, previous: bool = False) -> str:
    params = {"pod": pod, "container": container}
    if previous:
        params["previous"] = "1"
    return urlencode(params)


@dataclass(frozen=True)
class ContainerRow:
    status: ContainerStatus
    pod: str
    icon: str
    tone: str
    kind_label: str
    logs_query: str
    previous_query: str

    @property
    def option_label(self) -> str:
        """How the log picker names it: icon, run-order step, name, kind, state."""
        step = f"{self.status.position}. " if self.status.kind != cluster_pods.CONTAINER else ""
        kind = f"{self.kind_label}, " if self.kind_label else ""
        return f"{self.icon} {step}{self.status.name} ({kind}{self.status.summary})"


def container_row(pod: PodStatus, container: ContainerStatus) -> ContainerRow:
    icon, tone = container_look(container)
    return ContainerRow(
        container,
        pod.name,
        icon,
        tone,
        KIND_LABELS[container.kind],
        logs_query(pod.name, container.name),
        logs_query(pod.name, container.name, previous=True),
    )


@dataclass(frozen=True)
class PodView:
    pod: PodStatus
    tone: str
    age: str
    init_rows: list[ContainerRow]
    long_running_rows: list[ContainerRow]
    warnings: int


def pod_view(pod: PodStatus, now: datetime) -> PodView:
    blocked = cluster_pods.diagnose(pod) is not None
    tone = "bad" if blocked else ("done" if pod.phase == "Succeeded" else ("ok" if pod.ready else "pending"))
    return PodView(
        pod,
        tone,
        age(pod.created, now),
        [container_row(pod, c) for c in pod.init_containers],
        [container_row(pod, c) for c in pod.long_running],
        sum(1 for e in pod.events if e.type == "Warning"),
    )


PROBLEM_TITLES = {
    "unreachable": "The cluster cannot be reached.",
    "timeout": "The cluster does not answer.",
    "unauthorized": "The cluster does not accept the credentials.",
    "forbidden": "Access denied.",
    "not_found": "Not found.",
}


def status_context(target: Deployed, snapshot: StatusSnapshot) -> dict[str, Any]:
    now = datetime.now(UTC)
    pods = [pod_view(pod, now) for pod in snapshot.pods]
    problem = snapshot.problem
    return {
        "problem_title": PROBLEM_TITLES.get(problem.kind, "The cluster answered with an error.") if problem else "",
        "record": target.record,
        "workload": target.workload,
        "snapshot": snapshot,
        "pods": pods,
        "blockers": [
            (blocker, logs_query(blocker.pod, blocker.container) if blocker.container else "")
            for blocker in snapshot.blockers
        ],
        "ready_count": sum(1 for pod in snapshot.pods if pod.ready),
        "completed_count": sum(1 for pod in snapshot.pods if pod.phase == "Succeeded"),
        "failed_count": sum(1 for pod in snapshot.pods if pod.phase == "Failed"),
        "state": snapshot.state,
    }


# ---------------------------------------------------------------------------
# The log panel
# ---------------------------------------------------------------------------


@dataclass
class LogPanel:
    choice: LogChoice | None
    pod: PodStatus | None
    pods: list[str] = field(default_factory=list)
    options: list[tuple[str, str, bool]] = field(default_factory=list)  # value, label, selected
    can_previous: bool = False
    lines_html: SafeString = mark_safe("")
    line_count: int = 0
    notes: list[str] = field(default_factory=list)
    error: str = ""
    stream_url: str = ""
    download_url: str = ""
    label: str = "Log"


def render_lines(lines: list[cluster_logs.LogLine], *, merged: bool, tags: dict[str, int]) -> str:
    """Log lines as page HTML (escaped by logtext). ``tags`` numbers the containers for colours."""
    parts = []
    for container, run in groupby(lines, key=lambda line: line.container):
        stamps, texts = zip(*((line.timestamp, line.text) for line in run), strict=True)
        parts.append(logtext.lines_html(stamps, texts, container=container if merged else "",
                                        tag_index=tags.get(container, 0), limit=line_chars()))
    return "\n".join(parts)


CHUNK_LINES = 100  # as in static/js/runtime.js: the browser lays out (or skips) a chunk of lines at once


def in_chunks(lines_html: str) -> str:
    """Lines of HTML (one per text line) grouped in ``<div class="chunk">`` elements."""
    if not lines_html:
        return ""
    lines = lines_html.split("\n")
    return "".join(
        f'<div class="{_chunk_class(len(lines) - first)}">' + "".join(lines[first : first + CHUNK_LINES]) + "</div>"
        for first in range(0, len(lines), CHUNK_LINES)
    )


def _chunk_class(lines_left: int) -> str:
    # Only full chunks may be skipped off-screen: their placeholder height is right for 100 lines.
    return "chunk" if lines_left >= CHUNK_LINES else "chunk partial"


def render_chunk(chunk: cluster_logs.LogChunk, *, merged: bool, tags: dict[str, int]) -> str:
    return logtext.block_html(
        chunk.block,
        stamped=chunk.stamped,
        plain=chunk.plain,
        container=chunk.container if merged else "",
        tag_index=tags.get(chunk.container, 0),
        limit=line_chars(),
    )


def container_tags(pod: PodStatus | None) -> dict[str, int]:
    return {c.name: index for index, c in enumerate(pod.all_containers)} if pod else {}


def log_panel(target: Deployed, snapshot: StatusSnapshot, query: Any) -> LogPanel:
    choice = choose_log(query, snapshot, tail_limit=max_lines())
    if choice is None:
        return LogPanel(None, None, error=snapshot.problem.message if snapshot.problem else "")
    pod = snapshot.pod(choice.pod)
    assert pod is not None
    chosen = pod.container(choice.container)
    panel = LogPanel(
        choice,
        pod,
        pods=[p.name for p in snapshot.pods],
        options=[(row.status.name, row.option_label, row.status.name == choice.container)
                 for row in (container_row(pod, c) for c in pod.all_containers)]
        + [(ALL_CONTAINERS, "All containers (merged)", choice.merged)],
        can_previous=chosen is not None and chosen.restarts > 0,
        label=_log_label(choice),
    )
    pk = target.record.pk
    panel.download_url = reverse("composer:api-deployment-logs", args=[pk]) + "?" + _download_query(choice)
    if choice.follow:
        panel.stream_url = reverse("composer:runtime-logs-stream", args=[pk]) + "?" + choice.query()
    else:
        _fill_lines(panel, target, choice, pod)
    return panel


def _log_label(choice: LogChoice) -> str:
    if choice.merged:
        return f"Logs of all containers of {choice.pod}"
    return f"Log of {choice.container}" + (" (previous instance)" if choice.previous else "")


def _download_query(choice: LogChoice) -> str:
    params = {"pod": choice.pod, "container": choice.container, "download": "1"}
    if choice.previous:
        params["previous"] = "1"
    if choice.timestamps:
        params["timestamps"] = "1"
    return urlencode(params)


def _fill_lines(panel: LogPanel, target: Deployed, choice: LogChoice, pod: PodStatus) -> None:
    namespace = target.workload.namespace
    try:
        if choice.merged:
            lines, panel.notes = cluster_logs.fetch_merged(
                target.context, namespace, pod.name, choice.containers(pod), tail=choice.tail, keep=max_lines()
            )
        else:
            request = cluster_logs.LogRequest(pod.name, choice.container, previous=choice.previous, tail=choice.tail)
            lines = cluster_logs.fetch(target.context, namespace, request)
    except cluster.ClusterError as error:
        panel.error = error.message
        return
    panel.line_count = len(lines)
    # Safe: every piece of log text went through logtext's escaping.
    panel.lines_html = mark_safe(in_chunks(render_lines(lines, merged=choice.merged, tags=container_tags(pod))))


# ---------------------------------------------------------------------------
# Views
# ---------------------------------------------------------------------------


def _page_context(target: Deployed, snapshot: StatusSnapshot, query: Any) -> dict[str, Any]:
    undone_by = DeployRecord.objects.filter(undeploy_of=target.record).order_by("-created").first()
    return {
        **status_context(target, snapshot),
        "log": log_panel(target, snapshot, query),
        "max_lines": max_lines(),
        "undone_by": undone_by,
    }


@require_GET
def page(request: HttpRequest, pk: int) -> HttpResponse:
    target = deployed_or_404(request, pk)
    snapshot = take_snapshot(target)
    return render(request, "composer/runtime/page.html", _page_context(target, snapshot, request.GET))


@require_GET
def status_partial(request: HttpRequest, pk: int) -> HttpResponse:
    """The status region alone (what the live stream pushes; also a plain refresh)."""
    target = deployed_or_404(request, pk)
    return render(request, "composer/runtime/_status.html", status_context(target, take_snapshot(target)))


@require_GET
def logs_partial(request: HttpRequest, pk: int) -> HttpResponse:
    """The log panel for the chosen Pod, container and options."""
    target = deployed_or_404(request, pk)
    snapshot = take_snapshot(target, events=False)
    context = {"record": target.record, "log": log_panel(target, snapshot, request.GET), "max_lines": max_lines()}
    return render(request, "composer/runtime/_logs.html", context)
