"""Watching what a deploy left running: the use cases the runtime page, its streams and the API share.

Finding the deployed workload of a deploy record that the user may see (``deployed``), a snapshot
of its Pods, reading which log the user wants (``LogChoice``) and following it, resumed where an
event id says (``start_follower``). The runtime knobs (docs/runtime.md) are Django settings read
each time, so tests can change them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from django.conf import settings

from composer import cluster
from composer.cluster import logfollow
from composer.cluster import logs as cluster_logs
from composer.cluster import pods as cluster_pods
from composer.cluster.feed import StatusSnapshot, Workload, pod_statuses
from composer.cluster.pods import ContainerStatus, PodStatus
from composer.domain.kinds import WORKLOAD_KINDS
from composer.domain.yamlio import YamlError, load_documents
from composer.models import DeployRecord
from composer.services import access

ALL_CONTAINERS = "*"


def max_lines() -> int:
    return settings.PODSTUDIO_LOG_MAX_LINES


def line_chars() -> int:
    return settings.PODSTUDIO_LOG_LINE_CHARS


class NotWatchable(Exception):
    """This deploy record has nothing in a cluster to watch; ``status`` is the HTTP answer."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


@dataclass(frozen=True)
class Deployed:
    record: DeployRecord
    workload: Workload

    @property
    def context(self) -> str:
        return self.record.context


def deployed(user, pk: int) -> Deployed:
    """The record and the workload it deployed. Raises NotWatchable (404, 409).

    A record in a context or namespace the user may not view is "not there" (404), as on the deploy pages."""
    try:
        record = access.record_for(user, pk)
    except access.NotVisible:
        raise NotWatchable(404, f"no deployment with id {pk}") from None
    if record.action != DeployRecord.Action.DEPLOY:
        what = {DeployRecord.Action.DRY_RUN: "a dry run", DeployRecord.Action.DIFF: "a diff"}.get(
            record.action, "an undeploy")
        raise NotWatchable(409, f"deployment {pk} is {what}: it left nothing running to watch")
    try:
        documents = load_documents(record.manifest_yaml)
    except YamlError as error:
        raise NotWatchable(409, f"the manifest of deployment {pk} cannot be read: {error}") from None
    manifest = next((d for d in reversed(documents) if d.get("kind") in WORKLOAD_KINDS), None)
    if manifest is None:
        raise NotWatchable(409, f"deployment {pk} sent no workload ({', '.join(WORKLOAD_KINDS)})")
    try:
        workload = Workload.from_manifest(manifest, record.namespace)
    except cluster.ClusterError as error:
        raise NotWatchable(409, error.message) from None
    return Deployed(record, workload)


def take_snapshot(target: Deployed, *, events: bool = True) -> StatusSnapshot:
    """A snapshot now; when the cluster cannot be asked, an empty one that says why. Without ``events``
    only the Pods matter (choosing a log): neither their Events nor the workload's state are read."""
    try:
        return pod_statuses(target.context, target.workload.namespace, target.workload, events=events,
                            controller=events)
    except cluster.ClusterError as error:
        return StatusSnapshot(target.workload, (), datetime.now(UTC), problem=error)


def query_flag(query: Any, name: str) -> bool:
    return str(query.get(name, "")).lower() in ("1", "true", "on", "yes")


@dataclass(frozen=True)
class LogChoice:
    """Which log the user wants, checked against the Pods that exist."""

    pod: str
    container: str  # a container name, or ALL_CONTAINERS for the merged view
    previous: bool = False
    tail: int | None = cluster_logs.DEFAULT_TAIL
    follow: bool = False
    timestamps: bool = False

    @property
    def merged(self) -> bool:
        return self.container == ALL_CONTAINERS

    def containers(self, pod: PodStatus) -> list[str]:
        return [c.name for c in pod.all_containers] if self.merged else [self.container]

    def query(self, **changes: Any) -> str:
        choice = replace(self, **changes)
        params = {"pod": choice.pod, "container": choice.container}
        if choice.tail is not None:
            params["tail"] = str(choice.tail)
        params.update({name: "1" for name in ("previous", "follow", "timestamps") if getattr(choice, name)})
        return urlencode(params)


def parse_tail(value: Any, *, default: int | None, most: int | None) -> int | None:
    """A tail length: a positive number (at most ``most``), ``all`` for everything, else ``default``."""
    text = str(value or "").strip().lower()
    if text == "all":
        return most
    try:
        number = int(text)
    except ValueError:
        return default
    number = max(number, 1)
    return min(number, most) if most else number


def choose_log(query: Any, snapshot: StatusSnapshot, *, tail_limit: int | None) -> LogChoice | None:
    """The log to show: the requested one when it exists, else the one that matters most now."""
    pod = snapshot.pod(query.get("pod", "")) or (snapshot.pods[0] if snapshot.pods else None)
    if pod is None:
        return None
    requested = query.get("container", "")
    chosen = pod.container(requested) if requested != ALL_CONTAINERS else None
    if chosen is None and requested != ALL_CONTAINERS:
        chosen = pod.default_container()
    name = ALL_CONTAINERS if requested == ALL_CONTAINERS else (chosen.name if chosen else "")
    previous = query_flag(query, "previous") and chosen is not None and chosen.restarts > 0
    explicit_follow = "follow" in query or "tail" in query  # the form was used: respect its checkbox
    follow = query_flag(query, "follow") if explicit_follow else _worth_following(chosen)
    return LogChoice(
        pod.name,
        name,
        previous=previous,
        tail=parse_tail(query.get("tail"), default=cluster_logs.DEFAULT_TAIL, most=tail_limit),
        follow=follow and not previous,
        timestamps=query_flag(query, "timestamps"),
    )


def _worth_following(container: ContainerStatus | None) -> bool:
    """Follow by default what is running or about to start; a finished or failing one's log is complete."""
    if container is None or container.failing:
        return False
    return container.state in (cluster_pods.RUNNING, cluster_pods.WAITING)


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
    target: Deployed, choice: LogChoice, containers: list[str], last_event_id: str, *, timestamps: bool = True
) -> logfollow.LogFollower:
    """A follower for the chosen containers, resuming after the client's Last-Event-ID if any."""
    since = parse_positions(last_event_id)
    return logfollow.follow(
        target.context, target.workload.namespace, choice.pod, containers, tail=choice.tail, since=since,
        timestamps=timestamps,
    )


KIND_LABELS = {
    cluster_pods.INIT: "init",
    cluster_pods.NATIVE_SIDECAR: "native sidecar",
    cluster_pods.CONTAINER: "",
}
