"""The runtime API of a deploy (docs/runtime.md): status as JSON, logs as text, logs as SSE.

Errors follow composer/http/errors.py: a JSON body ``{"error": "…"}`` with a 4xx status,
or 502/504 when the cluster cannot be reached or does not answer; never a 500, and never
anything from the kubeconfig's credentials (ClusterError messages name contexts only).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import asdict
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse

from composer import cluster
from composer.api.decorators import ApiError, api_view
from composer.cluster import logs as cluster_logs
from composer.cluster.feed import StatusSnapshot, pod_statuses
from composer.cluster.logfollow import LogBatch
from composer.cluster.pods import ContainerStatus, PodStatus
from composer.cluster.workloads import WorkloadState
from composer.http import sse
from composer.http.errors import cluster_status as status_of_kind
from composer.services import runtime
from composer.services.runtime import ALL_CONTAINERS, Deployed, LogChoice


def _target(request: HttpRequest, pk: int) -> Deployed:
    try:
        return runtime.deployed(request.user, pk)
    except runtime.NotWatchable as error:
        raise ApiError(error.status, error.message) from None


def _cluster_failure(error: cluster.ClusterError) -> ApiError:
    if error.details.get("waiting"):
        return ApiError(409, error.message)  # not yet: the container has not started
    return ApiError(status_of_kind(error.kind), error.message)


# ---------------------------------------------------------------------------
# Status
# ---------------------------------------------------------------------------


def container_json(container: ContainerStatus) -> dict[str, Any]:
    return {**asdict(container), "summary": container.summary, "failing": container.failing}


def pod_json(pod: PodStatus) -> dict[str, Any]:
    return {
        "name": pod.name,
        "namespace": pod.namespace,
        "phase": pod.phase,
        "status": pod.status,
        "ready": pod.ready,
        "node": pod.node,
        "ip": pod.ip,
        "created": pod.created,
        "deleting": pod.deleting,
        "owner": pod.owner,
        "reason": pod.reason,
        "message": pod.message,
        "restarts": pod.restarts,
        "init_progress": {"done": pod.init_done, "total": len(pod.init_containers), "text": pod.init_progress},
        "conditions": [asdict(condition) for condition in pod.conditions],
        "init_containers": [container_json(c) for c in pod.init_containers],
        "containers": [container_json(c) for c in pod.containers],
        "events": [asdict(event) for event in pod.events],
    }


def state_json(state: WorkloadState | None) -> dict[str, Any] | None:
    """What the workload's own object says (None for a Pod or a Deployment, or when it cannot be read)."""
    if state is None:
        return None
    return {
        "exists": state.exists,
        "summary": state.summary,
        "notes": list(state.notes),
        "no_pods": state.no_pods,
        "facts": [{"label": label, "value": value} for label, value in state.facts],
        **state.details,
        "jobs": [{**asdict(run), "summary": run.summary, "progress": run.progress} for run in state.jobs],
    }


def snapshot_json(target: Deployed, snapshot: StatusSnapshot) -> dict[str, Any]:
    workload = target.workload
    return {
        "deployment": target.record.pk,
        "context": target.record.context,
        "namespace": workload.namespace,
        "workload": {"kind": workload.kind, "name": workload.name, "selector": workload.label_selector,
                     "state": state_json(snapshot.state)},
        "observed_at": snapshot.taken_at,
        "blocked": [asdict(blocker) for blocker in snapshot.blockers],
        "pods": [pod_json(pod) for pod in snapshot.pods],
    }


@api_view("GET")
def status(request: HttpRequest, pk: int) -> JsonResponse:
    target = _target(request, pk)
    try:
        snapshot = pod_statuses(target.context, target.workload.namespace, target.workload)
    except cluster.ClusterError as error:
        raise _cluster_failure(error) from None
    return JsonResponse(snapshot_json(target, snapshot))


# ---------------------------------------------------------------------------
# Logs
# ---------------------------------------------------------------------------


def _pod(snapshot: StatusSnapshot, target: Deployed, name: str) -> PodStatus:
    if snapshot.problem is not None:
        raise _cluster_failure(snapshot.problem)
    if not snapshot.pods:
        raise ApiError(404, f"{target.workload.label} has no Pods right now")
    if not name:
        return snapshot.pods[0]  # the newest
    pod = snapshot.pod(name)
    if pod is None:
        known = ", ".join(p.name for p in snapshot.pods)
        raise ApiError(404, f"Pod '{name}' is not one of the Pods of deployment {target.record.pk} ({known})")
    return pod


def _container(pod: PodStatus, name: str) -> str:
    if name == ALL_CONTAINERS or pod.container(name) is not None:
        return name
    if not name and len(pod.all_containers) == 1:
        return pod.all_containers[0].name
    names = ", ".join(c.name + (f" ({runtime.KIND_LABELS[c.kind]})" if c.kind != "container" else "")
                      for c in pod.all_containers)
    if not name:
        raise ApiError(400, f"choose a container of Pod '{pod.name}': {names}, or * for all of them",
                       {"container": "required"})
    raise ApiError(404, f"Pod '{pod.name}' has no container '{name}' (it has {names})")


def _log_choice(request: HttpRequest, target: Deployed) -> tuple[LogChoice, PodStatus]:
    query = request.GET
    tail = runtime.parse_tail(query.get("tail"), default=None, most=None)
    if query.get("tail") not in (None, "", "all") and tail is None:
        raise ApiError(400, "tail must be a number of lines (or 'all')", {"tail": "a positive number"})
    snapshot = runtime.take_snapshot(target, events=False)
    pod = _pod(snapshot, target, query.get("pod", ""))
    choice = LogChoice(
        pod.name,
        _container(pod, query.get("container", "")),
        previous=runtime.query_flag(query, "previous"),
        tail=tail,
        timestamps=runtime.query_flag(query, "timestamps"),
    )
    return choice, pod


def _merged_text(merged: cluster_logs.MergedLog, pod: str, timestamps: bool) -> Iterator[bytes]:
    """kubectl's ``--prefix`` format: ``[pod/<pod>/<container>] <line>``, newest last, in chunks."""
    for note in merged.notes:
        yield f"# {note}\n".encode()
    chunk: list[str] = []
    for line in merged.lines:
        stamp = f"{line.timestamp} " if timestamps and line.timestamp else ""
        chunk.append(f"[pod/{pod}/{line.container}] {stamp}{line.text}\n")
        if len(chunk) >= 1000:
            yield "".join(chunk).encode()
            chunk = []
    if chunk:
        yield "".join(chunk).encode()


class _Relay:
    """Chunks from a log source for a StreamingHttpResponse; closes the source when done."""

    def __init__(self, chunks: Iterator[bytes], source: Any) -> None:
        self._chunks, self._source = chunks, source

    def __iter__(self) -> Iterator[bytes]:
        try:
            yield from self._chunks
        except cluster.ClusterError as error:  # the headers are gone: say it in the text
            yield f"\n# The log stream broke off: {error.message}\n".encode()

    def close(self) -> None:
        self._source.close()


@api_view("GET")
def logs(request: HttpRequest, pk: int) -> HttpResponse:
    target = _target(request, pk)
    choice, pod = _log_choice(request, target)
    namespace = target.workload.namespace
    try:
        if choice.merged:
            source = cluster_logs.merged_log(
                target.context, namespace, pod.name, choice.containers(pod), tail=choice.tail, previous=choice.previous
            )
            chunks = _merged_text(source, pod.name, choice.timestamps)
        else:
            request_ = cluster_logs.LogRequest(
                pod.name, choice.container, previous=choice.previous, tail=choice.tail, timestamps=choice.timestamps
            )
            source = cluster_logs.raw_log(target.context, namespace, request_)
            chunks = iter(source)
    except cluster.ClusterError as error:
        raise _cluster_failure(error) from None
    response = StreamingHttpResponse(_Relay(chunks, source), content_type="text/plain; charset=utf-8")
    response["X-Pod"] = pod.name
    if runtime.query_flag(request.GET, "download"):
        suffix = "all" if choice.merged else choice.container
        previous = "-previous" if choice.previous else ""
        response["Content-Disposition"] = f'attachment; filename="{pod.name}-{suffix}{previous}.log"'
    return response


@api_view("GET")
def logs_stream(request: HttpRequest, pk: int) -> HttpResponse:
    """Follow as SSE: ``lines`` events (one ``data:`` per log line), ``notice`` events, ``end``."""
    target = _target(request, pk)
    choice, pod = _log_choice(request, target)
    if choice.previous:
        raise ApiError(400, "a previous instance has stopped: fetch its log without /stream")

    def refuse(message: str) -> HttpResponse:
        response = ApiError(429, message).response()
        response["Retry-After"] = "10"
        return response

    try:
        return text_log_stream(target, choice, pod, request, refuse)
    except cluster.ClusterError as error:
        raise _cluster_failure(error) from None


class TextLines:
    """Batches for the API: ``notice`` events, then one ``lines`` event with a ``data:`` field per line
    (tagged ``[pod/<pod>/<container>]`` in the merged view, like ``kubectl logs --prefix``)."""

    def __init__(self, choice: LogChoice, pod: str) -> None:
        self.choice, self.pod = choice, pod

    def events(self, batch: LogBatch) -> bytes:
        events = [sse.sse_event("notice", text) for text in batch.notices]
        if batch.chunks:
            text = "\n".join(self._text(chunk) for chunk in batch.chunks)
            events.append(sse.sse_event("lines", text, event_id=runtime.position_id(batch.positions)))
        return b"".join(events)

    def _text(self, chunk: cluster_logs.LogChunk) -> str:
        if not self.choice.merged:
            return chunk.block
        prefix = f"[pod/{self.pod}/{chunk.container}] "
        return prefix + chunk.block.replace("\n", "\n" + prefix)

    def end(self) -> bytes:
        return sse.sse_event("end", "")


def text_log_stream(
    target: Deployed, choice: LogChoice, pod: PodStatus, request: HttpRequest, refuse: Callable[[str], HttpResponse]
) -> HttpResponse:
    """The SSE twin of the text log."""

    def open_stream() -> sse.EventStream:
        # Like kubectl, ask the cluster for timestamps only when the client wants them (ids to resume need them).
        resume_after = request.headers.get("Last-Event-ID", "")
        follower = runtime.start_follower(target, choice, choice.containers(pod), resume_after,
                                          timestamps=choice.timestamps)
        events = sse.log_events(follower, TextLines(choice, pod.name), sse.heartbeat_seconds())
        return sse.EventStream(events, [follower.close])

    return sse.with_slot(request, open_stream, refuse)
