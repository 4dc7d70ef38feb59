"""What a person needs to know about a Pod, parsed from its JSON, and why it does not come up.

- ``PodStatus`` / ``ContainerStatus`` hold the state of a Pod and of its containers, in run order:
  init containers (and native sidecars, which are init containers with ``restartPolicy:
  Always``) first, then the app containers; ``parse_pod`` builds them from a Pod object and
  the Events about it.
- ``diagnose`` says why a Pod does not come up: which container, why, in words.

Taking snapshots of a workload's Pods and keeping them current is feed.py's business.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

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
# Pods and containers
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
        """Ready, and not finished: a Pod that has succeeded or failed serves nothing. A kubelet sets Ready
        False when a Pod completes (reason PodCompleted); kwok leaves it True (seen on the test cluster)."""
        return self.phase not in ("Succeeded", "Failed") and any(c.type == "Ready" and c.ok for c in self.conditions)

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
        # A sidecar that exited 0 has done its step too (kubectl counts it so): once a Pod has failed
        # or finished, its sidecars are stopped, and one that stopped cleanly reports terminated,
        # exit 0. Seen on a real API server (kwok's init-container failure): without this the Pod
        # read "Init:Completed" and the init container that failed after the sidecar went undiagnosed.
        return bool(container.started) or container.state == RUNNING or container.succeeded
    return container.succeeded


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
    # As kubectl: init steps count once the kubelet reports them; before that the Pod is Pending.
    reported = init if status.get("initContainerStatuses") else ()
    for index, container in enumerate(reported):
        if _init_step_done(container):
            continue
        if container.state == TERMINATED:
            reason = "Init:" + (container.reason or f"ExitCode:{container.exit_code}")
        elif container.state == WAITING and container.reason and container.reason != "PodInitializing":
            reason = "Init:" + container.reason
        else:
            reason = f"Init:{index}/{len(reported)}"
        break
    else:
        reason = _app_display_status(reason, app)
    if (pod.get("metadata") or {}).get("deletionTimestamp"):
        return "Terminating"
    if any(c.get("type") == "PodScheduled" and c.get("reason") == "SchedulingGated"
           for c in status.get("conditions") or []):
        return "SchedulingGated"  # held before scheduling: no container has a state to show yet
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
    """Why a Pod does not come up. ``container`` is empty when no container is at fault (scheduling).
    ``stopped``: the Pod has failed for good (phase Failed, as a Job's Pod with restartPolicy Never does) and
    nothing restarts it: it is no rollout waiting to go on."""

    pod: str
    container: str
    kind: str
    reason: str
    message: str
    exit_code: int | None = None
    stopped: bool = False


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
    return Blocker(pod.name, container.name, container.kind, container.reason or "Error", text, exit_code,
                   stopped=pod.phase == "Failed")
