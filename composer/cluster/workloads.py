"""What a workload's own object says about its Pods, in words: a Job's progress, a CronJob's schedule
and its Jobs, a StatefulSet's ordinals, a DaemonSet's nodes, a ReplicaSet's replicas.

``workload_state(kind, name, obj, jobs, pods, now)`` reads the live object (``None``: it is not in the
cluster), a CronJob's Jobs and the Pods already found (pods.py) into a ``WorkloadState``: one sentence,
facts (label, value), notes that need saying (``web-1 waits for web-0``), the Jobs of a CronJob, and
what to say when there are no Pods. Pods and Deployments have none: their Pods say it all.

Which Pods belong to the workload and the feed that keeps this current are feed.py's business.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from composer.cluster.pods import PodStatus, parse_time
from composer.domain.cron import next_run

# Kinds whose own object the runtime reads (a bare Pod is its own status; a Deployment's Pods say enough).
STATED_KINDS = ("StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob")

JOB_NAME_LABEL = "batch.kubernetes.io/job-name"  # set by the Job controller on every Pod of a Job
SCHEDULED_AT = "batch.kubernetes.io/cronjob-scheduled-timestamp"  # on a Job the CronJob controller made
INSTANTIATE = "cronjob.kubernetes.io/instantiate"  # "manual" on a Job made with kubectl create job --from

STARTING, RUNNING, COMPLETE, FAILING, FAILED, SUSPENDED = (
    "starting", "running", "complete", "failing", "failed", "suspended")


@dataclass(frozen=True)
class JobRun:
    """A Job's progress, from its status."""

    name: str
    state: str  # starting, running, complete, failing (decided, its Pods being stopped), failed, suspended
    completions: int | None  # None: a work queue (the first success completes it)
    parallelism: int | None
    active: int = 0
    ready: int = 0
    succeeded: int = 0
    failed: int = 0
    reason: str = ""
    message: str = ""
    created: datetime | None = None
    started: datetime | None = None
    finished: datetime | None = None
    scheduled: datetime | None = None  # the schedule time a CronJob started it for
    manual: bool = False  # started by hand (kubectl create job --from=cronjob/…)

    @property
    def progress(self) -> str:
        """``1 of 2 completions succeeded, 1 active, 0 failed``."""
        if self.completions is None:
            done = f"{self.succeeded} succeeded (the first success completes it)"
        else:
            done = f"{self.succeeded} of {self.completions} completion{_s(self.completions)} succeeded"
        return f"{done}, {self.active} active, {self.failed} failed"

    @property
    def summary(self) -> str:
        if self.state == COMPLETE:
            took = f" in {_duration(self.finished - self.started)}" if self.finished and self.started else ""
            return f"Complete{took}: {self.progress}."
        if self.state in (FAILED, FAILING):
            why = f" ({self.reason})" if self.reason else ""
            said = f" {_sentence(self.message)}" if self.message else ""
            stopping = " Its Pods are being stopped." if self.state == FAILING else ""
            return f"{_capital(self.state)}{why}:{said} {_capital(self.progress)}.{stopping}"
        if self.state == SUSPENDED:
            return f"Suspended: it starts no Pods until it is resumed; {self.progress}."
        if self.state == STARTING:
            return "Starting: the Job controller has not started it yet."
        return f"Running: {self.progress}."


@dataclass(frozen=True)
class WorkloadState:
    kind: str
    name: str
    exists: bool
    summary: str
    facts: tuple[tuple[str, Any], ...] = ()  # (label, text or datetime)
    notes: tuple[str, ...] = ()  # worth saying out loud: a Pod waiting for another, a stale status
    jobs: tuple[JobRun, ...] = ()  # a CronJob's Jobs, newest first; a Job's own run
    no_pods: str = ""  # what to say when the workload has no Pods now
    details: dict[str, Any] = field(default_factory=dict)  # the numbers, for the API

    @property
    def label(self) -> str:
        return f"{self.kind} '{self.name}'"


def workload_state(
    kind: str,
    name: str,
    obj: dict[str, Any] | None,
    pods: Sequence[PodStatus],
    *,
    jobs: Iterable[dict[str, Any]] = (),
    now: datetime | None = None,
) -> WorkloadState:
    """The state of a workload from its live object (None: not in the cluster) and its Pods."""
    if obj is None:
        text = f"{kind} '{name}' is not in the cluster: it was deleted, or it is not created yet."
        return WorkloadState(kind, name, False, text, no_pods=text)
    now = now or datetime.now(UTC)
    state = _READERS[kind](name, obj, list(pods), list(jobs), now)
    metadata, status = obj.get("metadata") or {}, obj.get("status") or {}
    generation, observed = metadata.get("generation"), status.get("observedGeneration")
    if kind != "Job" and isinstance(generation, int) and isinstance(observed, int) and observed < generation:
        note = (f"The {kind} controller has not acted on the latest change yet (generation {generation}, "
                f"seen {observed}).")
        state = replace(state, notes=(*state.notes, note))
    return state


# ---------------------------------------------------------------------------
# Jobs and CronJobs
# ---------------------------------------------------------------------------


def job_run(job: dict[str, Any]) -> JobRun:
    metadata, spec, status = job.get("metadata") or {}, job.get("spec") or {}, job.get("status") or {}
    conditions = {c.get("type"): c for c in status.get("conditions") or [] if c.get("status") == "True"}
    annotations = metadata.get("annotations") or {}
    if "Complete" in conditions:
        state, condition = COMPLETE, conditions["Complete"]
    elif "Failed" in conditions:
        state, condition = FAILED, conditions["Failed"]
    elif "FailureTarget" in conditions:  # decided: its Pods are being stopped, then Failed is set
        state, condition = FAILING, conditions["FailureTarget"]
    elif spec.get("suspend"):
        state, condition = SUSPENDED, {}
    elif not status.get("startTime"):
        state, condition = STARTING, {}
    else:
        state, condition = RUNNING, {}
    return JobRun(
        name=metadata.get("name", ""),
        state=state,
        completions=_int(spec.get("completions")),
        parallelism=_int(spec.get("parallelism")),
        active=_int(status.get("active")) or 0,
        ready=_int(status.get("ready")) or 0,
        succeeded=_int(status.get("succeeded")) or 0,
        failed=_int(status.get("failed")) or 0,
        reason=condition.get("reason") or "",
        message=condition.get("message") or "",
        created=parse_time(metadata.get("creationTimestamp")),
        started=parse_time(status.get("startTime")),
        finished=parse_time(status.get("completionTime")) or (parse_time(condition.get("lastTransitionTime"))
                                                               if state == FAILED else None),
        scheduled=parse_time(annotations.get(SCHEDULED_AT)),
        manual=annotations.get(INSTANTIATE) == "manual",
    )


def _job(name: str, obj: dict[str, Any], pods: list[PodStatus], jobs: list[dict[str, Any]], now: datetime
         ) -> WorkloadState:
    run = job_run(obj)
    spec = obj.get("spec") or {}
    facts: list[tuple[str, Any]] = [
        ("Completions", "any one success" if run.completions is None else str(run.completions)),
        ("Parallelism", str(run.parallelism if run.parallelism is not None else 1)),
        ("Back-off limit", str(spec.get("backoffLimit", 6))),
    ]
    if run.started:
        facts.append(("Started", run.started))
    if run.finished:
        facts.append(("Finished", run.finished))
    if run.state in (COMPLETE, FAILED):
        kept = spec.get("ttlSecondsAfterFinished")
        gone = (f"deleted {kept} s after it finished (ttlSecondsAfterFinished)" if kept is not None
                else "deleted since")
        no_pods = f"Job '{name}' has finished and none of its Pods is left: they were {gone}."
    elif run.state == SUSPENDED:
        no_pods = f"Job '{name}' is suspended: it starts no Pods until it is resumed."
    else:
        no_pods = f"No Pods of Job '{name}' yet: the Job controller creates them."
    details = {"state": run.state, "completions": run.completions, "parallelism": run.parallelism,
               "active": run.active, "ready": run.ready, "succeeded": run.succeeded, "failed": run.failed,
               "reason": run.reason, "progress": run.progress}
    return WorkloadState("Job", name, True, f"Job '{name}': {run.summary}", tuple(facts), jobs=(run,),
                         no_pods=no_pods, details=details)


def owned_jobs(cronjob: str, jobs: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The Jobs a CronJob controls (its scheduled runs, and those made from it by hand), newest first."""
    mine = [job for job in jobs if any(
        ref.get("kind") == "CronJob" and ref.get("name") == cronjob and ref.get("controller")
        for ref in (job.get("metadata") or {}).get("ownerReferences") or []
    )]
    return sorted(mine, key=lambda j: ((j.get("metadata") or {}).get("creationTimestamp") or "",
                                       (j.get("metadata") or {}).get("name") or ""), reverse=True)


def _cronjob(name: str, obj: dict[str, Any], pods: list[PodStatus], jobs: list[dict[str, Any]], now: datetime
             ) -> WorkloadState:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    schedule, zone_name = str(spec.get("schedule") or ""), spec.get("timeZone") or ""
    zone = _zone(zone_name)
    runs = tuple(job_run(job) for job in owned_jobs(name, jobs))
    last_scheduled = parse_time(status.get("lastScheduleTime"))
    last_succeeded = parse_time(status.get("lastSuccessfulTime"))
    active = [ref.get("name", "") for ref in status.get("active") or []]
    upcoming = next_run(schedule, now.astimezone(zone)) if zone is not None and not spec.get("suspend") else None
    upcoming = upcoming.astimezone(UTC) if upcoming else None
    where = f" ({zone_name})" if zone_name else ""
    when = f"; the next Job starts at {upcoming:%Y-%m-%d %H:%M} UTC" if upcoming else ""
    if spec.get("suspend"):
        summary = (f"CronJob '{name}' is suspended: no Job starts on its schedule '{schedule}'{where} until it "
                   "is resumed.")
        no_pods = summary
    elif last_scheduled is None and not runs:
        summary = f"CronJob '{name}' has not run yet: it waits for its schedule '{schedule}'{where}{when}."
        no_pods = summary
    else:
        ran = (f"last scheduled at {last_scheduled:%Y-%m-%d %H:%M:%S} UTC" if last_scheduled
               else "not started by its schedule yet")
        running = (f"{len(active)} active Job{_s(len(active))}: {', '.join(active)}" if active
                   else "no Job running now")
        summary = f"CronJob '{name}' runs on schedule '{schedule}'{where}: {ran}; {running}{when}."
        no_pods = (f"None of the Jobs of CronJob '{name}' has Pods now (a finished Job's Pods go with it when "
                   "the CronJob keeps no more of its history)." if runs
                   else f"CronJob '{name}' keeps none of its Jobs now.")
    facts: list[tuple[str, Any]] = [("Schedule", schedule + where),
                                    ("Concurrency", spec.get("concurrencyPolicy") or "Allow")]
    facts += [(label, value) for label, value in (("Last scheduled", last_scheduled),
                                                   ("Last succeeded", last_succeeded), ("Next run", upcoming))
              if value is not None]
    facts.append(("Active Jobs", ", ".join(active) if active else "none"))
    details = {"schedule": schedule, "time_zone": zone_name or None, "suspended": bool(spec.get("suspend")),
               "last_schedule": last_scheduled, "last_successful": last_succeeded, "next_run": upcoming,
               "active_jobs": active}
    return WorkloadState("CronJob", name, True, summary, tuple(facts), jobs=runs, no_pods=no_pods, details=details)


def _zone(name: str) -> tzinfo | None:
    if not name:
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None  # a zone this machine does not know: no next run rather than a wrong one


# ---------------------------------------------------------------------------
# Controllers of long-running Pods
# ---------------------------------------------------------------------------


def ordinal(statefulset: str, pod_name: str) -> int | None:
    """``web-2`` -> 2 for StatefulSet ``web``; None for a name that is not one of its ordinals."""
    match = re.fullmatch(re.escape(statefulset) + r"-(\d+)", pod_name)
    return int(match.group(1)) if match else None


def _up(pod: PodStatus) -> bool:
    return pod.phase == "Running" and pod.ready and not pod.deleting


def _statefulset(name: str, obj: dict[str, Any], pods: list[PodStatus], jobs: list[dict[str, Any]], now: datetime
                 ) -> WorkloadState:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    replicas = _int(spec.get("replicas"))
    replicas = 1 if replicas is None else replicas
    start = _int((spec.get("ordinals") or {}).get("start")) or 0
    policy = spec.get("podManagementPolicy") or "OrderedReady"
    ready = _int(status.get("readyReplicas")) or 0
    names = [f"{name}-{i}" for i in range(start, start + replicas)]
    span = f" ({names[0]} … {names[-1]})" if len(names) > 2 else f" ({', '.join(names)})" if names else ""
    order = ("started one by one in order, each once the one before is Running and Ready (OrderedReady)"
             if policy == "OrderedReady" else "started all at once (Parallel)")
    summary = f"StatefulSet '{name}': {ready} of {replicas} Pod{_s(replicas)} ready{span}, {order}."
    notes = []
    waiting = _ordered_wait(name, pods, start, replicas) if policy == "OrderedReady" else None
    if waiting:
        notes.append(f"Pod '{waiting[0]}' waits for '{waiting[1]}' to be Running and Ready: OrderedReady starts "
                     "the Pods one by one.")
    facts = (("Replicas", str(replicas)), ("Ready", str(ready)), ("Pod management", policy),
             ("Headless Service", spec.get("serviceName") or "none"),
             ("Updated", f"{_int(status.get('updatedReplicas')) or 0} of {replicas}"))
    details = {"replicas": replicas, "ready": ready, "pod_management": policy, "service": spec.get("serviceName"),
               "ordinals": names, "waiting": {"pod": waiting[0], "for": waiting[1]} if waiting else None}
    return WorkloadState("StatefulSet", name, True, summary, facts, tuple(notes), details=details,
                         no_pods=f"No Pods of StatefulSet '{name}' yet: the StatefulSet controller creates "
                                 f"{names[0] if names else 'them'} first." if replicas else
                                 f"StatefulSet '{name}' is scaled to 0 replicas.")


def _ordered_wait(name: str, pods: list[PodStatus], start: int, replicas: int) -> tuple[str, str] | None:
    """(the Pod that waits, the Pod it waits for) when OrderedReady holds the next ordinal back."""
    by_ordinal = {number: pod for pod in pods if (number := ordinal(name, pod.name)) is not None}
    for number in range(start, start + replicas - 1):
        pod = by_ordinal.get(number)
        if pod is None:
            return None  # being created: nothing waits on it yet
        if not _up(pod):
            return (f"{name}-{number + 1}", pod.name) if number + 1 not in by_ordinal else None
    return None


def _daemonset(name: str, obj: dict[str, Any], pods: list[PodStatus], jobs: list[dict[str, Any]], now: datetime
               ) -> WorkloadState:
    status = obj.get("status") or {}
    desired = _int(status.get("desiredNumberScheduled")) or 0
    scheduled = _int(status.get("currentNumberScheduled")) or 0
    ready = _int(status.get("numberReady")) or 0
    wrong = _int(status.get("numberMisscheduled")) or 0
    nodes = sorted({pod.node for pod in pods if pod.node})
    on = f" (on {', '.join(nodes)})" if nodes else ""
    if desired == 0 and not nodes:
        summary = (f"DaemonSet '{name}' runs on no node: none matches its node selector, affinity and "
                   "tolerations (or the controller has not counted them yet).")
    else:
        runs = "runs" if desired == 1 else "run"
        summary = f"DaemonSet '{name}': {ready} of {desired} node{_s(desired)} {runs} a ready Pod{on}."
    notes = [f"{wrong} Pod{_s(wrong)} run{'s' if wrong == 1 else ''} on nodes that no longer match."] if wrong else []
    facts = (("Nodes wanted", str(desired)), ("Scheduled", str(scheduled)), ("Ready", str(ready)),
             ("Updated", str(_int(status.get("updatedNumberScheduled")) or 0)))
    details = {"desired": desired, "scheduled": scheduled, "ready": ready, "misscheduled": wrong, "nodes": nodes}
    return WorkloadState("DaemonSet", name, True, summary, facts, tuple(notes), details=details,
                         no_pods=f"No Pods of DaemonSet '{name}' yet: it makes one per matching node.")


def _replicaset(name: str, obj: dict[str, Any], pods: list[PodStatus], jobs: list[dict[str, Any]], now: datetime
                ) -> WorkloadState:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    replicas = _int(spec.get("replicas"))
    replicas = 1 if replicas is None else replicas
    ready, available = _int(status.get("readyReplicas")) or 0, _int(status.get("availableReplicas")) or 0
    summary = f"ReplicaSet '{name}': {ready} of {replicas} replica{_s(replicas)} ready, {available} available."
    facts = (("Replicas", str(replicas)), ("Ready", str(ready)), ("Available", str(available)))
    details = {"replicas": replicas, "ready": ready, "available": available}
    return WorkloadState("ReplicaSet", name, True, summary, facts, details=details,
                         no_pods=f"No Pods of ReplicaSet '{name}' yet: it creates {replicas}." if replicas
                         else f"ReplicaSet '{name}' is scaled to 0 replicas.")


_READERS = {"Job": _job, "CronJob": _cronjob, "StatefulSet": _statefulset, "DaemonSet": _daemonset,
            "ReplicaSet": _replicaset}


# ---------------------------------------------------------------------------
# Words
# ---------------------------------------------------------------------------


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _s(count: int | None) -> str:
    return "" if count == 1 else "s"


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith((".", "!", "?")) else text + "."


def _duration(delta) -> str:
    seconds = max(int(delta.total_seconds()), 0)
    if seconds < 120:
        return f"{seconds} s"
    minutes = seconds // 60
    return f"{minutes} min" if minutes < 120 else f"{minutes // 60} h {minutes % 60} min"
