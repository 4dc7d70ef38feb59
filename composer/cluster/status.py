"""Pod status snapshots, a resumable watch, and the words for a blocked rollout.

- ``Workload.from_manifest`` says which Pods belong to a deployed workload: a Pod by name,
  anything with a selector (Deployment …) by its labels, so that every Pod of a rollout
  (old and new ReplicaSets) is included.
- ``pod_statuses`` takes one snapshot (LIST of the Pods and of their Events);
  ``PodStatus`` / ``ContainerStatus`` hold what a person needs, in run order: init
  containers (and native sidecars, which are init containers with ``restartPolicy:
  Always``) first, then the app containers.
- ``Watch`` is the list-then-watch loop of a Kubernetes client: it LISTs, WATCHes from the
  list's resourceVersion, re-WATCHes from the last seen resourceVersion when the server
  ends a watch (timeoutSeconds), re-LISTs on 410 Gone, and after a failure reports it,
  waits (growing back-off) and re-LISTs. ``close()`` works from any thread.
- ``StatusFeed`` runs two watches (the Pods, and the Events of Pods in the namespace) in
  threads and hands out the latest ``StatusSnapshot`` whenever something changed.
- ``diagnose`` says why a Pod does not come up: which container, why, in words.

Requests go through the ``Connection``'s ApiClient as plain requests (see contexts.py);
streamed ones use ``open_stream`` here, which sets its own read timeout.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import urllib3
from kubernetes.client.exceptions import ApiException

from composer.cluster.contexts import Connection, connect
from composer.cluster.errors import ClusterError
from composer.cluster.paths import segment

# Container kinds, in the order a Pod runs them.
INIT = "init"
NATIVE_SIDECAR = "native-sidecar"
CONTAINER = "container"

WAITING, RUNNING, TERMINATED, UNKNOWN = "waiting", "running", "terminated", "unknown"

# Waiting reasons that mean "this will not start by itself"; ContainerCreating,
# PodInitializing and friends are normal steps on the way up.
FAILING_WAIT_REASONS = frozenset(
    {
        "CrashLoopBackOff",
        "ImagePullBackOff",
        "ErrImagePull",
        "ErrImageNeverPull",
        "InvalidImageName",
        "CreateContainerConfigError",
        "CreateContainerError",
        "RunContainerError",
        "PreStartHookError",
        "PostStartHookError",
    }
)
IMAGE_REASONS = frozenset({"ImagePullBackOff", "ErrImagePull", "ErrImageNeverPull", "InvalidImageName"})

EVENTS_KEPT = 20  # per Pod, newest first


# ---------------------------------------------------------------------------
# Which Pods belong to a workload
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Workload:
    """A deployed workload and how to find its Pods."""

    kind: str
    name: str
    namespace: str
    label_selector: str = ""  # empty for a bare Pod, which is found by name

    @classmethod
    def from_manifest(cls, manifest: dict[str, Any], namespace: str) -> Workload:
        kind = str(manifest.get("kind") or "")
        metadata = manifest.get("metadata") or {}
        name = str(metadata.get("name") or "")
        namespace = str(metadata.get("namespace") or namespace)
        if not kind or not name:
            raise ClusterError("invalid", "The deployed manifest has no workload (a Pod or a Deployment) to watch.")
        if kind == "Pod":
            return cls(kind, name, namespace)
        spec = manifest.get("spec") or {}
        selector = _selector_text(spec.get("selector") or {})
        if not selector:  # e.g. a Job, whose selector the server generates: use the template's labels
            labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
            selector = ",".join(f"{key}={value}" for key, value in sorted(labels.items()))
        if not selector:
            raise ClusterError("invalid", f"{kind} '{name}' has no selector or Pod labels to find its Pods by.")
        return cls(kind, name, namespace, selector)

    @property
    def pods_path(self) -> str:
        return f"/api/v1/namespaces/{segment(self.namespace)}/pods"

    def pod_query(self) -> list[tuple[str, str]]:
        if self.label_selector:
            return [("labelSelector", self.label_selector)]
        return [("fieldSelector", f"metadata.name={self.name}")]

    @property
    def label(self) -> str:
        return f"{self.kind} '{self.name}' in namespace '{self.namespace}'"

    def may_own(self, pod_name: str) -> bool:
        """Whether a Pod of this name can be one of ours (controllers name Pods ``<workload>-…``).

        Lets the Events watch of a busy namespace keep only what may concern us."""
        return pod_name == self.name if self.kind == "Pod" else pod_name.startswith(f"{self.name}-")


def _selector_text(selector: dict[str, Any]) -> str:
    """A LabelSelector (matchLabels + matchExpressions) in the query-string syntax."""
    terms = [f"{key}={value}" for key, value in sorted((selector.get("matchLabels") or {}).items())]
    for expression in selector.get("matchExpressions") or []:
        key, operator = expression.get("key", ""), expression.get("operator", "")
        values = ",".join(expression.get("values") or [])
        terms.append(
            {
                "In": f"{key} in ({values})",
                "NotIn": f"{key} notin ({values})",
                "Exists": key,
                "DoesNotExist": f"!{key}",
            }.get(operator, "")
        )
    return ",".join(term for term in terms if term)


# ---------------------------------------------------------------------------
# Snapshots
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Termination:
    exit_code: int | None
    reason: str = ""
    message: str = ""
    signal: int | None = None
    finished_at: datetime | None = None

    @property
    def summary(self) -> str:
        code = f"exit code {self.exit_code}" if self.exit_code is not None else "no exit code"
        return f"{code} ({self.reason})" if self.reason else code


@dataclass(frozen=True)
class ContainerStatus:
    name: str
    kind: str  # init, native-sidecar, container
    position: int  # 1-based, within its list (initContainers or containers)
    image: str = ""
    state: str = UNKNOWN  # waiting, running, terminated, unknown (no status reported yet)
    reason: str = ""
    message: str = ""
    exit_code: int | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    restarts: int = 0
    ready: bool = False
    started: bool | None = None
    last_termination: Termination | None = None

    @property
    def succeeded(self) -> bool:
        return self.state == TERMINATED and self.exit_code == 0

    @property
    def failing(self) -> bool:
        """Stuck or failed: will not get further without a change (or a lucky retry)."""
        if self.state == TERMINATED:
            return self.exit_code != 0
        return self.state == WAITING and self.reason in FAILING_WAIT_REASONS

    @property
    def summary(self) -> str:
        """The state in a few words: ``running``, ``waiting: CrashLoopBackOff``, ``exited: exit code 1 (Error)``."""
        if self.state == TERMINATED:
            return "exited: " + Termination(self.exit_code, self.reason).summary
        if self.state == WAITING:
            return f"waiting: {self.reason}" if self.reason else "waiting"
        if self.state == RUNNING:
            return "running" if self.ready or self.kind == INIT else "running, not ready"
        return "not started"


@dataclass(frozen=True)
class Condition:
    type: str
    status: str  # "True", "False", "Unknown"
    reason: str = ""
    message: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "True"


@dataclass(frozen=True)
class PodEvent:
    type: str  # Normal, Warning
    reason: str
    message: str
    count: int
    last_seen: datetime | None
    container: str = ""  # from involvedObject.fieldPath, when the event is about one container


@dataclass(frozen=True)
class PodStatus:
    name: str
    namespace: str
    phase: str
    status: str  # what ``kubectl get pods`` shows: Init:1/3, Init:CrashLoopBackOff, Running …
    node: str = ""
    ip: str = ""
    created: datetime | None = None
    deleting: bool = False
    owner: str = ""  # e.g. the ReplicaSet of a Deployment's Pod
    reason: str = ""
    message: str = ""
    conditions: tuple[Condition, ...] = ()
    init_containers: tuple[ContainerStatus, ...] = ()  # run order, native sidecars included
    containers: tuple[ContainerStatus, ...] = ()
    events: tuple[PodEvent, ...] = ()

    @property
    def all_containers(self) -> tuple[ContainerStatus, ...]:
        return self.init_containers + self.containers

    @property
    def long_running(self) -> tuple[ContainerStatus, ...]:
        """Native sidecars and app containers: what keeps running once the Pod is up."""
        return tuple(c for c in self.init_containers if c.kind == NATIVE_SIDECAR) + self.containers

    @property
    def init_done(self) -> int:
        """Init steps finished: plain init containers that exited 0, native sidecars that started."""
        return sum(1 for c in self.init_containers if _init_step_done(c))

    @property
    def init_progress(self) -> str:
        return f"Init {self.init_done}/{len(self.init_containers)}" if self.init_containers else ""

    @property
    def restarts(self) -> int:
        return sum(c.restarts for c in self.all_containers)

    @property
    def ready(self) -> bool:
        return any(c.type == "Ready" and c.ok for c in self.conditions)

    def container(self, name: str) -> ContainerStatus | None:
        return next((c for c in self.all_containers if c.name == name), None)

    def default_container(self) -> ContainerStatus | None:
        """The container whose logs matter most now: the one failing, else the one running its turn."""
        blocker = diagnose(self)
        if blocker is not None and blocker.container:
            return self.container(blocker.container)
        pending_init = next((c for c in self.init_containers if not _init_step_done(c)), None)
        if pending_init is not None and pending_init.state != UNKNOWN:
            return pending_init
        running = next((c for c in self.containers if c.state == RUNNING), None)
        return running or (self.containers[0] if self.containers else None)


def _init_step_done(container: ContainerStatus) -> bool:
    if container.kind == NATIVE_SIDECAR:
        return bool(container.started) or container.state == RUNNING
    return container.succeeded


@dataclass(frozen=True)
class StatusSnapshot:
    """The Pods of a workload at one moment; ``problem`` is set when the cluster could not be asked
    (then ``pods`` are the last ones known)."""

    workload: Workload
    pods: tuple[PodStatus, ...]
    taken_at: datetime
    problem: ClusterError | None = None

    @property
    def blockers(self) -> list[Blocker]:
        return [blocker for pod in self.pods if (blocker := diagnose(pod)) is not None]

    def pod(self, name: str) -> PodStatus | None:
        return next((p for p in self.pods if p.name == name), None)


# ---------------------------------------------------------------------------
# Parsing Pod objects
# ---------------------------------------------------------------------------


def parse_time(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _termination(terminated: dict[str, Any] | None) -> Termination | None:
    if not terminated:
        return None
    return Termination(
        terminated.get("exitCode"),
        terminated.get("reason") or "",
        terminated.get("message") or "",
        terminated.get("signal"),
        parse_time(terminated.get("finishedAt")),
    )


def _container_status(spec: dict[str, Any], kind: str, position: int, status: dict[str, Any] | None) -> ContainerStatus:
    base = ContainerStatus(spec.get("name", ""), kind, position, image=spec.get("image", ""))
    if status is None:
        return base
    state = status.get("state") or {}
    common = {
        "image": status.get("image") or base.image,
        "restarts": int(status.get("restartCount") or 0),
        "ready": bool(status.get("ready")),
        "started": status.get("started"),
        "last_termination": _termination((status.get("lastState") or {}).get("terminated")),
    }
    if "terminated" in state:
        term = state["terminated"] or {}
        return replace(
            base,
            state=TERMINATED,
            reason=term.get("reason") or "",
            message=term.get("message") or "",
            exit_code=term.get("exitCode"),
            started_at=parse_time(term.get("startedAt")),
            finished_at=parse_time(term.get("finishedAt")),
            **common,
        )
    if "running" in state:
        running = state["running"] or {}
        return replace(base, state=RUNNING, started_at=parse_time(running.get("startedAt")), **common)
    if "waiting" in state:
        waiting = state["waiting"] or {}
        return replace(base, state=WAITING, reason=waiting.get("reason") or "", message=waiting.get("message") or "",
                       **common)
    return replace(base, **common)


def _containers(spec_list: list[dict[str, Any]], statuses: list[dict[str, Any]], *, init: bool) -> tuple:
    by_name = {s.get("name"): s for s in statuses or []}
    found = []
    for index, spec in enumerate(spec_list or [], start=1):
        kind = CONTAINER
        if init:
            kind = NATIVE_SIDECAR if spec.get("restartPolicy") == "Always" else INIT
        found.append(_container_status(spec, kind, index, by_name.get(spec.get("name"))))
    return tuple(found)


def _pod_display_status(
    pod: dict[str, Any], init: tuple[ContainerStatus, ...], app: tuple[ContainerStatus, ...]
) -> str:
    """The STATUS column of ``kubectl get pods`` (a simplified port of kubectl's printPod)."""
    status = pod.get("status") or {}
    reason = status.get("reason") or status.get("phase") or "Pending"
    for index, container in enumerate(init):
        if _init_step_done(container):
            continue
        if container.state == TERMINATED:
            reason = "Init:" + (container.reason or f"ExitCode:{container.exit_code}")
        elif container.state == WAITING and container.reason and container.reason != "PodInitializing":
            reason = "Init:" + container.reason
        else:
            reason = f"Init:{index}/{len(init)}"
        break
    else:
        reason = _app_display_status(reason, app)
    if (pod.get("metadata") or {}).get("deletionTimestamp"):
        return "Terminating"
    return reason


def _app_display_status(reason: str, app: tuple[ContainerStatus, ...]) -> str:
    running = False
    for container in reversed(app):
        if container.state == WAITING and container.reason:
            reason = container.reason
        elif container.state == TERMINATED:
            reason = container.reason or f"ExitCode:{container.exit_code}"
        elif container.state == RUNNING and container.ready:
            running = True
    if reason == "Completed" and running:
        return "Running"
    return reason


def _owner(metadata: dict[str, Any]) -> str:
    owners = metadata.get("ownerReferences") or []
    controller = next((o for o in owners if o.get("controller")), owners[0] if owners else None)
    return f"{controller.get('kind', '')} {controller.get('name', '')}".strip() if controller else ""


def parse_pod(pod: dict[str, Any], events: Iterable[dict[str, Any]] = ()) -> PodStatus:
    """A PodStatus from a Pod object (as JSON) and the Events about it."""
    metadata, spec, status = pod.get("metadata") or {}, pod.get("spec") or {}, pod.get("status") or {}
    init = _containers(spec.get("initContainers"), status.get("initContainerStatuses"), init=True)
    app = _containers(spec.get("containers"), status.get("containerStatuses"), init=False)
    return PodStatus(
        name=metadata.get("name", ""),
        namespace=metadata.get("namespace", ""),
        phase=status.get("phase") or "Pending",
        status=_pod_display_status(pod, init, app),
        node=spec.get("nodeName") or "",
        ip=status.get("podIP") or "",
        created=parse_time(metadata.get("creationTimestamp")),
        deleting=bool(metadata.get("deletionTimestamp")),
        owner=_owner(metadata),
        reason=status.get("reason") or "",
        message=status.get("message") or "",
        conditions=tuple(
            Condition(c.get("type", ""), c.get("status", "Unknown"), c.get("reason") or "", c.get("message") or "")
            for c in status.get("conditions") or []
        ),
        init_containers=init,
        containers=app,
        events=parse_events(events),
    )


def _event_time(event: dict[str, Any]) -> datetime | None:
    series = event.get("series") or {}
    for value in (
        series.get("lastObservedTime"),
        event.get("lastTimestamp"),
        event.get("eventTime"),
        event.get("firstTimestamp"),
        (event.get("metadata") or {}).get("creationTimestamp"),
    ):
        if moment := parse_time(value):
            return moment
    return None


def _event_container(field_path: str) -> str:
    # "spec.initContainers{migrate}" or "spec.containers{app}"
    if "{" in field_path and field_path.endswith("}"):
        return field_path[field_path.index("{") + 1 : -1]
    return ""


def parse_events(events: Iterable[dict[str, Any]]) -> tuple[PodEvent, ...]:
    parsed = [
        PodEvent(
            type=e.get("type") or "Normal",
            reason=e.get("reason") or "",
            message=e.get("message") or e.get("note") or "",
            count=int(e.get("count") or (e.get("series") or {}).get("count") or 1),
            last_seen=_event_time(e),
            container=_event_container((e.get("involvedObject") or {}).get("fieldPath") or ""),
        )
        for e in events
    ]
    oldest = datetime.min.replace(tzinfo=UTC)
    parsed.sort(key=lambda e: e.last_seen or oldest, reverse=True)
    return tuple(parsed[:EVENTS_KEPT])


# ---------------------------------------------------------------------------
# Blocked rollouts
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Blocker:
    """Why a Pod does not come up. ``container`` is empty when no container is at fault (scheduling)."""

    pod: str
    container: str
    kind: str
    reason: str
    message: str
    exit_code: int | None = None


def diagnose(pod: PodStatus) -> Blocker | None:
    """The first thing, in run order, that keeps this Pod from running; None when nothing does."""
    unscheduled = next(
        (c for c in pod.conditions if c.type == "PodScheduled" and c.status == "False" and c.reason == "Unschedulable"),
        None,
    )
    if unscheduled is not None:
        message = f"Pod '{pod.name}' cannot be scheduled: {unscheduled.message}"
        return Blocker(pod.name, "", "", "Unschedulable", message)
    total_init = len(pod.init_containers)
    for container in pod.init_containers:
        if container.failing:
            return _container_blocker(pod, container, f"step {container.position} of {total_init}")
        if not _init_step_done(container):
            return None  # still on its way: the later steps have not had their turn
    for container in pod.containers:
        if container.failing and (container.state == WAITING or pod.phase == "Failed" or container.restarts):
            return _container_blocker(pod, container, "")
    return None


def _container_blocker(pod: PodStatus, container: ContainerStatus, step: str) -> Blocker:
    what = {INIT: "Init container", NATIVE_SIDECAR: "Native sidecar"}.get(container.kind, "Container")
    who = f"{what} '{container.name}'" + (f" ({step})" if step else "") + f" of Pod '{pod.name}'"
    last = container.last_termination
    restarts = f", {container.restarts} restart{'s' if container.restarts != 1 else ''}" if container.restarts else ""
    if container.state == TERMINATED:
        text = f"{who} failed with {Termination(container.exit_code, container.reason).summary}."
        exit_code = container.exit_code
    elif container.reason == "CrashLoopBackOff":
        last_run = f": last run ended with {last.summary}" if last else ""
        text = f"{who} keeps failing (CrashLoopBackOff){last_run}{restarts}."
        exit_code = last.exit_code if last else None
    elif container.reason in IMAGE_REASONS:
        text = f"{who} cannot start: its image '{container.image}' cannot be pulled ({container.reason})."
        exit_code = None
    else:
        text = f"{who} cannot start ({container.reason})."
        exit_code = None
    if detail := container.message.strip():
        text += f" {detail}" + ("" if detail.endswith((".", "!", "?")) else ".")
    if container.kind == INIT:
        text += " The containers after it cannot start until it succeeds."
    return Blocker(pod.name, container.name, container.kind, container.reason or "Error", text, exit_code)


# ---------------------------------------------------------------------------
# One snapshot
# ---------------------------------------------------------------------------


def _events_path(namespace: str) -> str:
    return f"/api/v1/namespaces/{segment(namespace)}/events"


POD_EVENTS_QUERY = [("fieldSelector", "involvedObject.kind=Pod")]


def _pod_sort_key(pod: dict[str, Any]) -> tuple[str, str]:
    metadata = pod.get("metadata") or {}
    return (metadata.get("creationTimestamp") or "", metadata.get("name") or "")


def build_snapshot(
    workload: Workload,
    pods: Iterable[dict[str, Any]],
    events: Iterable[dict[str, Any]],
    problem: ClusterError | None = None,
) -> StatusSnapshot:
    """Newest Pods first (during a rollout the new ReplicaSet's Pods are what one watches)."""
    by_pod: dict[str, list[dict[str, Any]]] = {}
    for event in events:
        involved = event.get("involvedObject") or {}
        by_pod.setdefault(involved.get("name", ""), []).append(event)
    ordered = sorted(pods, key=_pod_sort_key, reverse=True)
    parsed = tuple(parse_pod(pod, by_pod.get(pod["metadata"]["name"], ())) for pod in ordered)
    return StatusSnapshot(workload, parsed, datetime.now(UTC), problem)


def pod_statuses(
    context: str | None, namespace: str, workload_manifest: dict[str, Any] | Workload, *, events: bool = True
) -> StatusSnapshot:
    """The Pods of a deployed workload (its manifest, or a Workload) and their recent Events, now.

    Raises ClusterError. ``events=False`` saves the second request when only the Pods matter."""
    workload = (
        workload_manifest
        if isinstance(workload_manifest, Workload)
        else Workload.from_manifest(workload_manifest, namespace)
    )
    connection = connect(context)
    _, pods = connection.request("GET", workload.pods_path, query=workload.pod_query())
    items = pods.get("items") or []
    relevant: list[dict[str, Any]] = []
    if events and items:
        names = {item["metadata"]["name"] for item in items}
        _, listing = connection.request("GET", _events_path(workload.namespace), query=POD_EVENTS_QUERY)
        relevant = [e for e in listing.get("items") or [] if (e.get("involvedObject") or {}).get("name") in names]
    return build_snapshot(workload, items, relevant)


# ---------------------------------------------------------------------------
# Streamed requests
# ---------------------------------------------------------------------------


def open_stream(
    connection: Connection, path: str, query: Iterable[tuple[str, Any]], *, read_timeout: float
) -> urllib3.BaseHTTPResponse:
    """GET ``path`` without reading the body (a watch, a followed log). Raises ClusterError.

    ``read_timeout`` is how long a silent connection may stay silent before it counts as lost.
    """
    with connection.translated_errors():
        serialized = connection.client.param_serialize(
            method="GET",
            resource_path=path,
            query_params=list(query),
            header_params={"Accept": "application/json, */*"},
            auth_settings=["BearerToken"],
        )
        rest_response = connection.client.call_api(
            *serialized, _request_timeout=(connection.timeouts.connect, read_timeout)
        )
        response = rest_response.response
        if not 200 <= response.status <= 299:
            try:
                raise ApiException(http_resp=response)
            finally:
                response.release_conn()
    return response


def shut(response: urllib3.BaseHTTPResponse | None) -> None:
    """Interrupt a blocked read on ``response`` from another thread, and close it."""
    if response is None:
        return
    with contextlib.suppress(Exception):  # it may have finished or been closed meanwhile
        response.shutdown()
    with contextlib.suppress(Exception):
        response.close()


def read_lines(response: urllib3.BaseHTTPResponse, chunk_size: int = 65536) -> Iterator[list[bytes]]:
    """The complete lines of a streamed body, in groups as they arrive (without the newline).

    ``read1`` returns whatever has arrived instead of waiting for ``chunk_size`` bytes, so a
    line is handed on as soon as the server sends it.
    """
    pending = b""
    while True:
        data = response.read1(chunk_size)
        if not data:
            break
        pending += data
        if b"\n" not in data:
            continue
        *complete, pending = pending.split(b"\n")
        yield complete
    if pending:
        yield [pending]


# ---------------------------------------------------------------------------
# Watch: LIST, then WATCH from the list's resourceVersion, for as long as asked
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Synced:
    """A fresh LIST: ``items`` is the whole current set."""

    items: tuple[dict[str, Any], ...]
    resource_version: str


@dataclass(frozen=True)
class Changed:
    type: str  # ADDED, MODIFIED, DELETED
    object: dict[str, Any]


@dataclass(frozen=True)
class Lost:
    """The cluster could not be asked; the watch retries after ``retry_in`` seconds."""

    error: ClusterError
    retry_in: float


@dataclass(frozen=True)
class WatchSettings:
    watch_seconds: int = 50  # the server ends each watch after this; we re-watch from the last version
    read_grace: float = 10.0  # silence beyond watch_seconds + this means the connection is dead
    backoff_first: float = 0.5
    backoff_max: float = 15.0


class _Expired(Exception):
    """410 Gone: the resourceVersion is older than the server's history; LIST again."""


class Watch:
    """Iterate for Synced / Changed / Lost updates of one collection, until ``close()``."""

    def __init__(
        self,
        connection: Connection,
        path: str,
        query: Iterable[tuple[str, Any]] = (),
        settings: WatchSettings | None = None,
    ) -> None:
        self.connection = connection
        self.path = path
        self.query = list(query)
        self.settings = settings or WatchSettings()
        self._stop = threading.Event()
        self._response: urllib3.BaseHTTPResponse | None = None
        self._lock = threading.Lock()

    @property
    def closed(self) -> bool:
        return self._stop.is_set()

    def close(self) -> None:
        self._stop.set()
        with self._lock:
            response, self._response = self._response, None
        shut(response)

    def __iter__(self) -> Iterator[Synced | Changed | Lost]:
        backoff = self.settings.backoff_first
        while not self.closed:
            try:
                version = yield from self._list()
                backoff = self.settings.backoff_first
                while not self.closed:
                    version = yield from self._watch_from(version)
            except _Expired:
                continue  # LIST again straight away
            except ClusterError as error:
                if self.closed:
                    return
                yield Lost(error, backoff)
                self._stop.wait(backoff)
                backoff = min(backoff * 2, self.settings.backoff_max)

    def _list(self) -> Iterator[Synced]:
        _, listing = self.connection.request("GET", self.path, query=self.query)
        version = str((listing.get("metadata") or {}).get("resourceVersion") or "")
        yield Synced(tuple(listing.get("items") or []), version)
        return version

    def _watch_from(self, version: str) -> Iterator[Changed]:
        """One WATCH request; returns the last resourceVersion seen when the server ends it."""
        query = [
            *self.query,
            ("watch", "true"),
            ("resourceVersion", version),
            ("allowWatchBookmarks", "true"),
            ("timeoutSeconds", self.settings.watch_seconds),
        ]
        read_timeout = self.settings.watch_seconds + self.settings.read_grace
        response = open_stream(self.connection, self.path, query, read_timeout=read_timeout)
        with self._lock:
            if self.closed:
                shut(response)
                return version
            self._response = response
        try:
            with self.connection.translated_errors():
                for lines in read_lines(response):
                    for line in lines:
                        version = yield from self._handle(line, version)
        except Exception:
            if self.closed:  # close() cut the connection under the read: whatever it raised, we are done
                return version
            raise
        finally:
            with self._lock:
                self._response = None
            shut(response)
        return version

    def _handle(self, line: bytes, version: str) -> Iterator[Changed]:
        if not line.strip():
            return version
        try:
            event = json.loads(line)
        except ValueError:
            raise ClusterError("server", "The cluster sent a watch event that is not JSON.") from None
        kind, obj = event.get("type"), event.get("object") or {}
        if kind == "ERROR":
            if obj.get("code") == 410:
                raise _Expired()
            message = f"The cluster ended the watch with an error: {obj.get('message') or 'unknown error'}"
            raise ClusterError("server", message, status=obj.get("code"))
        new_version = (obj.get("metadata") or {}).get("resourceVersion") or version
        if kind != "BOOKMARK":
            yield Changed(kind, obj)
        return new_version


# ---------------------------------------------------------------------------
# The live status of a workload: two watches, one picture
# ---------------------------------------------------------------------------


@dataclass
class _FeedState:
    pods: dict[str, dict[str, Any]] = field(default_factory=dict)
    events: dict[str, dict[str, Any]] = field(default_factory=dict)  # by event uid/name
    problems: dict[str, ClusterError] = field(default_factory=dict)  # by watch name
    pods_synced: bool = False
    version: int = 0  # bumped on every change


class StatusFeed:
    """The latest StatusSnapshot of a workload, kept current by watches in two daemon threads.

    ``next_snapshot(timeout)`` blocks until something changed (or the timeout passed: None).
    Changes that arrive close together are handed out as one snapshot (``coalesce`` seconds).
    """

    def __init__(
        self,
        context: str | None,
        workload: Workload,
        *,
        settings: WatchSettings | None = None,
        coalesce: float = 0.05,
    ) -> None:
        self.workload = workload
        self.coalesce = coalesce
        connection = connect(context)
        self._watches = {
            "pods": Watch(connection, workload.pods_path, workload.pod_query(), settings),
            "events": Watch(connection, _events_path(workload.namespace), POD_EVENTS_QUERY, settings),
        }
        self._state = _FeedState()
        self._changed = threading.Condition()
        self._handed_out = -1
        self._threads = [
            threading.Thread(target=self._run, args=(name,), name=f"status-{name}-{workload.name}", daemon=True)
            for name in self._watches
        ]

    def start(self) -> StatusFeed:
        for thread in self._threads:
            thread.start()
        return self

    def close(self) -> None:
        for watch in self._watches.values():
            watch.close()
        with self._changed:
            self._changed.notify_all()

    @property
    def closed(self) -> bool:
        return all(watch.closed for watch in self._watches.values())

    def next_snapshot(self, timeout: float) -> StatusSnapshot | None:
        """The next picture that differs from the last one handed out; None after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not self._ready():
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self.closed:
                    return None
                self._changed.wait(remaining)
        time.sleep(self.coalesce)  # let a burst of events (a rollout step) land in one picture
        with self._changed:
            self._handed_out = self._state.version
            return self._snapshot()

    def _ready(self) -> bool:
        state = self._state
        return state.version != self._handed_out and (state.pods_synced or bool(state.problems))

    def _snapshot(self) -> StatusSnapshot:
        state = self._state
        problem = state.problems.get("pods") or state.problems.get("events")
        events = [e for e in state.events.values() if (e.get("involvedObject") or {}).get("name") in state.pods]
        return build_snapshot(self.workload, list(state.pods.values()), events, problem)

    def _run(self, name: str) -> None:
        apply = self._apply_pod_update if name == "pods" else self._apply_event_update
        watch = self._watches[name]
        try:
            for update in watch:
                with self._changed:
                    if isinstance(update, Lost):
                        self._state.problems[name] = update.error
                    else:
                        self._state.problems.pop(name, None)
                        apply(update)
                    self._state.version += 1
                    self._changed.notify_all()
        except Exception as error:  # a bug must not kill the page silently: show it as a problem
            with self._changed:
                self._state.problems[name] = ClusterError("server", f"Watching {name} failed: {error!r}")
                self._state.version += 1
                self._changed.notify_all()

    def _apply_pod_update(self, update: Synced | Changed) -> None:
        _apply(self._state.pods, update, _object_key)
        self._state.pods_synced = True

    def _apply_event_update(self, update: Synced | Changed) -> None:
        _apply(self._state.events, update, _object_key, keep=self._about_our_pods)

    def _about_our_pods(self, event: dict[str, Any]) -> bool:
        return self.workload.may_own((event.get("involvedObject") or {}).get("name", ""))


def _object_key(obj: dict[str, Any]) -> str:
    return (obj.get("metadata") or {}).get("name", "")


def _apply(
    store: dict[str, dict[str, Any]],
    update: Synced | Changed,
    key: Callable[[dict[str, Any]], str],
    keep: Callable[[dict[str, Any]], bool] = lambda obj: True,
) -> None:
    if isinstance(update, Synced):
        store.clear()
        store.update((key(item), item) for item in update.items if keep(item))
    elif update.type == "DELETED":
        store.pop(key(update.object), None)
    elif keep(update.object):
        store[key(update.object)] = update.object
