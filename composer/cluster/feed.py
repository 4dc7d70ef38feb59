"""The Pods of a deployed workload: which ones, a snapshot of them now, and a live feed.

- ``Workload.from_manifest`` says which Pods belong to a deployed workload: a Pod by name, a Job by
  the ``batch.kubernetes.io/job-name`` label its controller sets, a CronJob's by its Pod template's
  labels and the Jobs it controls, anything else with a selector (Deployment, StatefulSet …) by its
  labels, so that every Pod of a rollout (old and new ReplicaSets) is included. ``Workload.order``
  puts them as one reads them: a StatefulSet's by ordinal, a DaemonSet's by node, others newest first.
- ``pod_statuses`` takes one ``StatusSnapshot`` (LIST of the Pods and of their Events; for the kinds
  in workloads.STATED_KINDS also the workload's own object, and a CronJob's Jobs).
- ``StatusFeed`` runs the watches (watch.py: the Pods, the Events of Pods in the namespace, the
  workload's object, a CronJob's Jobs) in threads and hands out the latest ``StatusSnapshot``
  whenever something changed.

What a snapshot says about each Pod (``PodStatus``, ``diagnose``) is in pods.py, about the workload's
own object (``WorkloadState``) in workloads.py.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from composer.cluster.contexts import Connection, connect
from composer.cluster.errors import ClusterError
from composer.cluster.paths import segment
from composer.cluster.pods import Blocker, PodStatus, diagnose, parse_pod
from composer.cluster.resources import kind_info
from composer.cluster.watch import Changed, Lost, Synced, Watch, WatchSettings
from composer.cluster.workloads import (
    JOB_NAME_LABEL,
    STATED_KINDS,
    WorkloadState,
    ordinal,
    owned_jobs,
    workload_state,
)

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
            raise ClusterError("invalid", "The deployed manifest has no workload (a Pod, a Deployment …) to watch.")
        if kind == "Pod":
            return cls(kind, name, namespace)
        if kind == "Job":  # the server generates its selector (a uid); the controller labels its Pods by name
            return cls(kind, name, namespace, f"{JOB_NAME_LABEL}={name}")
        spec = manifest.get("spec") or {}
        if kind == "CronJob":  # its Jobs' Pods carry the job template's Pod labels and a job-name
            template = ((spec.get("jobTemplate") or {}).get("spec") or {}).get("template") or {}
            return cls(kind, name, namespace, _labels_text(template) or JOB_NAME_LABEL)
        selector = _selector_text(spec.get("selector") or {}) or _labels_text(spec.get("template") or {})
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
    def object_path(self) -> str | None:
        """The collection holding the workload's own object, for the kinds whose object says something
        (workloads.STATED_KINDS); read with ``object_query``."""
        info = kind_info(self.kind) if self.kind in STATED_KINDS else None
        return info.path(self.namespace) if info else None

    def object_query(self) -> list[tuple[str, str]]:
        return [("fieldSelector", f"metadata.name={self.name}")]

    @property
    def jobs_path(self) -> str | None:
        """A CronJob's Pods belong to the Jobs it controls: where those are listed."""
        info = kind_info("Job")
        return info.path(self.namespace) if self.kind == "CronJob" and info else None

    @property
    def label(self) -> str:
        return f"{self.kind} '{self.name}' in namespace '{self.namespace}'"

    def may_own(self, pod_name: str) -> bool:
        """Whether a Pod of this name can be one of ours (controllers name Pods ``<workload>-…``).

        Lets the Events watch of a busy namespace keep only what may concern us. A CronJob's Jobs made
        by hand may have any name (``kubectl create job --from=cronjob/…``): all are kept for it."""
        if self.kind == "CronJob":
            return True
        return pod_name == self.name if self.kind == "Pod" else pod_name.startswith(f"{self.name}-")

    def select(self, pods: Iterable[dict[str, Any]], jobs: Sequence[dict[str, Any]] | None) -> list[dict[str, Any]]:
        """The Pods that are this workload's among those its label selector found. A CronJob's are the
        Pods of the Jobs it controls; when its Jobs could not be read (``None``), those of the Jobs its
        controller names ``<cronjob>-<n>``."""
        if self.kind != "CronJob":
            return list(pods)
        if jobs is None:
            return [p for p in pods if ordinal(self.name, _labels(p).get(JOB_NAME_LABEL, "")) is not None]
        names = {(job.get("metadata") or {}).get("name") for job in owned_jobs(self.name, jobs)}
        return [p for p in pods if _controller_of(p) == ("Job", _labels(p).get(JOB_NAME_LABEL)) and
                _labels(p).get(JOB_NAME_LABEL) in names]

    def order(self, pods: Iterable[PodStatus]) -> tuple[PodStatus, ...]:
        """As one reads them: a StatefulSet's by ordinal (web-0, web-1 …), a DaemonSet's by node, the
        others newest first (during a rollout the new ReplicaSet's Pods are what one watches)."""
        newest_first = sorted(pods, key=lambda p: (p.created or _EPOCH, p.name), reverse=True)
        if self.kind == "StatefulSet":
            return tuple(sorted(newest_first, key=lambda p: (n := ordinal(self.name, p.name)) is None or n))
        if self.kind == "DaemonSet":
            return tuple(sorted(newest_first, key=lambda p: (p.node == "", p.node)))
        return tuple(newest_first)


_EPOCH = datetime.min.replace(tzinfo=UTC)


def _labels(obj: dict[str, Any]) -> dict[str, str]:
    return (obj.get("metadata") or {}).get("labels") or {}


def _controller_of(obj: dict[str, Any]) -> tuple[str, str] | None:
    for ref in (obj.get("metadata") or {}).get("ownerReferences") or []:
        if ref.get("controller"):
            return ref.get("kind", ""), ref.get("name", "")
    return None


def _labels_text(template: dict[str, Any]) -> str:
    labels = (template.get("metadata") or {}).get("labels") or {}
    return ",".join(f"{key}={value}" for key, value in sorted(labels.items()))


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
# One snapshot
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class StatusSnapshot:
    """The Pods of a workload at one moment; ``problem`` is set when the cluster could not be asked
    (then ``pods`` are the last ones known). ``state`` is what the workload's own object says (None for
    a Pod or a Deployment, or when it could not be read)."""

    workload: Workload
    pods: tuple[PodStatus, ...]
    taken_at: datetime
    problem: ClusterError | None = None
    state: WorkloadState | None = None

    @property
    def blockers(self) -> list[Blocker]:
        return [blocker for pod in self.pods if (blocker := diagnose(pod)) is not None]

    def pod(self, name: str) -> PodStatus | None:
        return next((p for p in self.pods if p.name == name), None)


@dataclass(frozen=True)
class Controller:
    """What was read of a workload's own object: ``obj`` None when it is not in the cluster; ``jobs``
    (a CronJob's, among the namespace's Jobs) None when they could not be read."""

    obj: dict[str, Any] | None
    jobs: tuple[dict[str, Any], ...] | None = None


def _events_path(namespace: str) -> str:
    return f"/api/v1/namespaces/{segment(namespace)}/events"


POD_EVENTS_QUERY = [("fieldSelector", "involvedObject.kind=Pod")]


def build_snapshot(
    workload: Workload,
    pods: Iterable[dict[str, Any]],
    events: Iterable[dict[str, Any]],
    problem: ClusterError | None = None,
    *,
    controller: Controller | None = None,
    jobs: Sequence[dict[str, Any]] | None = None,
) -> StatusSnapshot:
    """The workload's Pods (``Workload.select``, in ``Workload.order``) with their Events; the workload's
    state when its object was read (``controller``)."""
    by_pod: dict[str, list[dict[str, Any]]] = {}
    for event in events:
        involved = event.get("involvedObject") or {}
        by_pod.setdefault(involved.get("name", ""), []).append(event)
    if controller is not None and jobs is None:
        jobs = controller.jobs
    mine = workload.select(pods, jobs)
    parsed = workload.order(parse_pod(pod, by_pod.get(pod["metadata"]["name"], ())) for pod in mine)
    state = None
    if controller is not None:
        state = workload_state(workload.kind, workload.name, controller.obj, parsed, jobs=jobs or ())
    return StatusSnapshot(workload, parsed, datetime.now(UTC), problem, state)


def _extra(read: Callable[[], Any]) -> Any:
    """What an extra read returns, or None when the user may not read it.

    Events, the workload's object and a CronJob's Jobs are extra: a user who may read Pods but not
    the rest (a common team Role; the real control plane's team-a-user) still gets the Pods, not
    "Access denied" and nothing."""
    try:
        return read()
    except ClusterError as error:
        if error.kind != "forbidden":
            raise
        return None


def _listing(connection: Connection, path: str, query: list[tuple[str, str]] | None = None
             ) -> tuple[dict[str, Any], ...] | None:
    listed = _extra(lambda: connection.request("GET", path, query=query or [])[1])
    return None if listed is None else tuple(listed.get("items") or [])


def pod_statuses(
    context: str | None,
    namespace: str,
    workload_manifest: dict[str, Any] | Workload,
    *,
    events: bool = True,
    controller: bool = True,
) -> StatusSnapshot:
    """The Pods of a deployed workload (its manifest, or a Workload) and their recent Events, now, with
    what the workload's own object says (workloads.py) for the kinds that have something to say.

    Raises ClusterError. ``events=False`` and ``controller=False`` save requests when only the Pods matter
    (a CronJob's Jobs are read all the same: they say which Pods are its)."""
    workload = (
        workload_manifest
        if isinstance(workload_manifest, Workload)
        else Workload.from_manifest(workload_manifest, namespace)
    )
    connection = connect(context)
    _, pods = connection.request("GET", workload.pods_path, query=workload.pod_query())
    jobs = _listing(connection, workload.jobs_path) if workload.jobs_path else None
    items = workload.select(pods.get("items") or [], jobs)
    relevant: list[dict[str, Any]] = []
    if events and items:
        names = {item["metadata"]["name"] for item in items}
        listing = _listing(connection, _events_path(workload.namespace), POD_EVENTS_QUERY) or ()
        relevant = [e for e in listing if (e.get("involvedObject") or {}).get("name") in names]
    found = None
    if controller and workload.object_path:
        objects = _listing(connection, workload.object_path, workload.object_query())
        found = None if objects is None else Controller(objects[0] if objects else None, jobs)
    return build_snapshot(workload, items, relevant, controller=found, jobs=jobs)


# ---------------------------------------------------------------------------
# The live status of a workload: a watch per collection, one picture
# ---------------------------------------------------------------------------


@dataclass
class _FeedState:
    stores: dict[str, dict[str, dict[str, Any]]]  # by watch name: objects by name (events by event name)
    problems: dict[str, ClusterError] = field(default_factory=dict)  # by watch name
    synced: set[str] = field(default_factory=set)  # watches that have listed once
    forbidden: set[str] = field(default_factory=set)  # extra watches the user may not read
    version: int = 0  # bumped on every change


# Watches whose answer only adds to the Pods: a refusal leaves them out instead of showing a problem.
_EXTRA = ("events", "object", "jobs")


class StatusFeed:
    """The latest StatusSnapshot of a workload, kept current by watches in daemon threads: its Pods, the
    Events of Pods, and for the kinds in workloads.STATED_KINDS its own object (and a CronJob's Jobs).

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
        if workload.object_path:
            self._watches["object"] = Watch(connection, workload.object_path, workload.object_query(), settings)
        if workload.jobs_path:
            self._watches["jobs"] = Watch(connection, workload.jobs_path, (), settings)
        self._state = _FeedState({name: {} for name in self._watches})
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
        """Something new, and the first picture complete: the Pods listed (a CronJob's Jobs too, which say
        which Pods are its; the workload's object, so that its state does not flash in a moment later),
        unless a watch failed or was refused."""
        state = self._state
        if state.version == self._handed_out:
            return False
        waited_for = {"pods", "object", "jobs"} & set(self._watches)
        return waited_for <= state.synced | state.forbidden or bool(state.problems)

    def _snapshot(self) -> StatusSnapshot:
        state = self._state
        problem = next((state.problems[name] for name in self._watches if name in state.problems), None)
        jobs = self._known("jobs")
        pods = self.workload.select(state.stores["pods"].values(), None if jobs is None else tuple(jobs.values()))
        names = {(pod.get("metadata") or {}).get("name") for pod in pods}
        events = [e for e in state.stores["events"].values() if (e.get("involvedObject") or {}).get("name") in names]
        objects = self._known("object")
        controller = None
        if objects is not None:
            controller = Controller(objects.get(self.workload.name), None if jobs is None else tuple(jobs.values()))
        return build_snapshot(self.workload, pods, events, problem, controller=controller,
                              jobs=None if jobs is None else tuple(jobs.values()))

    def _known(self, name: str) -> dict[str, dict[str, Any]] | None:
        """A watch's objects once it has listed; None when it is not watched, not listed yet or refused."""
        state = self._state
        if name not in self._watches or name in state.forbidden or name not in state.synced:
            return None
        return state.stores[name]

    def _run(self, name: str) -> None:
        watch = self._watches[name]
        try:
            for update in watch:
                if name in _EXTRA and isinstance(update, Lost) and update.error.kind == "forbidden":
                    # Not allowed to read it (see _extra): the Pods without it, no problem shown. The
                    # watch keeps retrying (backing off), in case it was an API server that had just
                    # started and not yet loaded its RBAC rules.
                    with self._changed:
                        if name not in self._state.forbidden:
                            self._state.forbidden.add(name)
                            self._state.version += 1
                            self._changed.notify_all()
                    continue
                with self._changed:
                    if isinstance(update, Lost):
                        self._state.problems[name] = update.error
                    else:
                        self._state.problems.pop(name, None)
                        self._state.forbidden.discard(name)
                        self._apply(name, update)
                    self._state.version += 1
                    self._changed.notify_all()
        except Exception as error:  # a bug must not kill the page silently: show it as a problem
            with self._changed:
                self._state.problems[name] = ClusterError("server", f"Watching {name} failed: {error!r}")
                self._state.version += 1
                self._changed.notify_all()

    def _apply(self, name: str, update: Synced | Changed) -> None:
        keep = self._about_our_pods if name == "events" else (lambda obj: True)
        _apply(self._state.stores[name], update, _object_key, keep=keep)
        if isinstance(update, Synced):
            self._state.synced.add(name)

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
