"""Where the API serves each kind Pod Studio sends or reads: ``/api/v1`` or ``/apis/<group>/<version>``
plus its plural, namespaced or not.

Every workload kind of the composition model (composer/domain/kinds.py: Pod, Deployment,
StatefulSet, DaemonSet, ReplicaSet, Job, CronJob) and the companions a composition brings
(Service, ConfigMap). apply.py deploys exactly these; feed.py reads a workload's own object here.
"""

from __future__ import annotations

from dataclasses import dataclass

from composer.cluster.paths import segment
from composer.domain.kinds import KINDS as WORKLOAD_KINDS


@dataclass(frozen=True)
class KindInfo:
    """Where the API serves a kind: ``/api/v1`` or ``/apis/<group>/<version>`` plus its plural."""

    api_version: str
    plural: str
    namespaced: bool = True

    def path(self, namespace: str, name: str | None = None) -> str:
        base = "/api/v1" if self.api_version == "v1" else f"/apis/{self.api_version}"
        scoped = f"{base}/namespaces/{segment(namespace)}/{self.plural}" if self.namespaced else f"{base}/{self.plural}"
        return f"{scoped}/{segment(name)}" if name else scoped


# The plural of every workload kind is its name in lower case plus "s" (pods, statefulsets, cronjobs …).
KINDS: dict[tuple[str, str], KindInfo] = {
    ("v1", "Service"): KindInfo("v1", "services"),
    ("v1", "ConfigMap"): KindInfo("v1", "configmaps"),
    **{(kind.api_version, kind.name): KindInfo(kind.api_version, kind.name.lower() + "s")
       for kind in WORKLOAD_KINDS.values()},
}


def kind_info(kind: str) -> KindInfo | None:
    """The KindInfo of a workload or companion kind by its name alone (each has one API version here)."""
    return next((info for (_, name), info in KINDS.items() if name == kind), None)
