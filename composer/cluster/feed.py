"""The Pods of a deployed workload: which ones, a snapshot of them now, and a live feed.

- ``Workload.from_manifest`` says which Pods belong to a deployed workload: a Pod by name,
  anything with a selector (Deployment …) by its labels, so that every Pod of a rollout
  (old and new ReplicaSets) is included.
- ``pod_statuses`` takes one ``StatusSnapshot`` (LIST of the Pods and of their Events).
- ``StatusFeed`` runs two watches (watch.py: the Pods, and the Events of Pods in the namespace)
  in threads and hands out the latest ``StatusSnapshot`` whenever something changed.

What a snapshot says about each Pod (``PodStatus``, ``diagnose``) is in pods.py.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from composer.cluster.contexts import connect
from composer.cluster.errors import ClusterError
from composer.cluster.paths import segment
from composer.cluster.pods import Blocker, PodStatus, diagnose, parse_pod
from composer.cluster.watch import Changed, Lost, Synced, Watch, WatchSettings

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
# One snapshot
# ---------------------------------------------------------------------------


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
        try:
            _, listing = connection.request("GET", _events_path(workload.namespace), query=POD_EVENTS_QUERY)
        except ClusterError as error:
            # Events are extra: a user who may read Pods but not Events (a common team Role; the real
            # control plane's team-a-user) still gets the Pods, not "Access denied" and nothing.
            if error.kind != "forbidden":
                raise
            listing = {}
        relevant = [e for e in listing.get("items") or [] if (e.get("involvedObject") or {}).get("name") in names]
    return build_snapshot(workload, items, relevant)


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
                if name == "events" and isinstance(update, Lost) and update.error.kind == "forbidden":
                    # Not allowed to read Events (see pod_statuses): the Pods alone, no problem shown.
                    # The watch keeps retrying (backing off), in case it was an API server that had
                    # just started and not yet loaded its RBAC rules.
                    continue
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
