"""Workload kinds: every kind that holds a Pod template, where its template lives, and its key fields.

A composition is one Pod template; its kind says what runs it (a bare Pod, a Deployment, a Job …).
Fields of the kind's spec that the composition does not model stay verbatim in `Workload.extra`;
the key fields below are the ones the composer offers to edit there, by their path in that spec.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class KeyField:
    """A field of the kind's spec the composer edits: `path` inside `Workload.extra` (dotted)."""

    path: str
    label: str
    help: str
    choices: tuple[str, ...] = ()
    number: bool = False  # a whole number of at least 0
    # Written when a composition becomes this kind and the field is missing (None: left out).
    default: Any = None


@dataclass(frozen=True)
class Kind:
    name: str
    api_version: str
    replicated: bool = False  # spec.replicas
    needs_selector: bool = False  # spec.selector is required (else the server generates it, as for a Job)
    runs_to_completion: bool = False  # its Pods must end: restartPolicy Never or OnFailure
    # Where the Pod template sits in the kind's spec.
    template_path: tuple[str, ...] = ("template",)
    key_fields: tuple[KeyField, ...] = ()

    @property
    def is_pod(self) -> bool:
        return self.name == "Pod"


_JOB_FIELDS = (
    KeyField("completions", "Completions", "How many Pods must succeed; empty: one.", number=True),
    KeyField("parallelism", "Parallelism", "How many Pods may run at once; empty: one.", number=True),
    KeyField("backoffLimit", "Back-off limit", "Retries before the Job is failed; empty: the server's 6.",
             number=True),
    KeyField("ttlSecondsAfterFinished", "Delete after (seconds)",
             "How long a finished Job (and its Pods, with their logs) is kept; empty: forever.", number=True),
)

KINDS: dict[str, Kind] = {kind.name: kind for kind in (
    Kind("Pod", "v1", template_path=()),
    Kind("Deployment", "apps/v1", replicated=True, needs_selector=True, key_fields=(
        KeyField("strategy.type", "Update strategy",
                 "RollingUpdate replaces Pods a few at a time; Recreate stops them all first.",
                 choices=("RollingUpdate", "Recreate")),
    )),
    Kind("StatefulSet", "apps/v1", replicated=True, needs_selector=True, key_fields=(
        KeyField("serviceName", "Headless Service",
                 "The Service (clusterIP: None) that gives each Pod its DNS name <pod>.<service>."),
        KeyField("podManagementPolicy", "Pod management",
                 "OrderedReady starts Pods one by one (0, 1, 2 …); Parallel starts them all at once.",
                 choices=("OrderedReady", "Parallel")),
    )),
    Kind("DaemonSet", "apps/v1", needs_selector=True, key_fields=(
        KeyField("updateStrategy.type", "Update strategy",
                 "RollingUpdate replaces each node's Pod in turn; OnDelete only when you delete it.",
                 choices=("RollingUpdate", "OnDelete")),
    )),
    Kind("ReplicaSet", "apps/v1", replicated=True, needs_selector=True),
    Kind("Job", "batch/v1", runs_to_completion=True, key_fields=_JOB_FIELDS),
    Kind("CronJob", "batch/v1", runs_to_completion=True, template_path=("jobTemplate", "spec", "template"),
         key_fields=(
             KeyField("schedule", "Schedule", "When to start a Job, in cron syntax (minute hour day month weekday).",
                      default="*/5 * * * *"),
             KeyField("concurrencyPolicy", "Concurrency",
                      "Allow: Jobs may overlap; Forbid: skip a start while one runs; Replace: stop the running one.",
                      choices=("Allow", "Forbid", "Replace")),
             *(KeyField(f"jobTemplate.spec.{f.path}", f.label, f.help, number=True) for f in _JOB_FIELDS),
         )),
)}
WORKLOAD_KINDS = tuple(KINDS)


def get_path(data: dict[str, Any], path: str) -> Any:
    value: Any = data
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def set_path(data: dict[str, Any], path: str, value: Any) -> None:
    """Set (or, with None, remove) a dotted path; parents left empty by a removal go too."""
    *parents, last = path.split(".")
    chain = [data]
    for part in parents:
        child = chain[-1].get(part)
        if not isinstance(child, dict):
            if value is None:
                return
            child = chain[-1][part] = {}
        chain.append(child)
    if value is None:
        chain[-1].pop(last, None)
        for parent, part in zip(reversed(chain[:-1]), reversed(parents), strict=True):
            if parent.get(part) == {}:
                del parent[part]
    else:
        chain[-1][last] = value

