"""Lint of the Pod's volumes: declared and mounted, one name one definition, what a hostPath gives away."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from composer.domain.problems import Problem, Severity
from composer.domain.render import Rendering

E, W, I = Severity.ERROR, Severity.WARNING, Severity.INFO  # noqa: E741


def _claim_templates(rendering: Rendering) -> list[str]:
    """A StatefulSet's volumeClaimTemplates: each Pod gets a PVC of that name, mounted like a volume."""
    if rendering.workload["kind"] != "StatefulSet":
        return []
    templates = rendering.workload["spec"].get("volumeClaimTemplates") or []
    return [(t.get("metadata") or {}).get("name") for t in templates if isinstance(t, dict)]


def volumes(rendering: Rendering, where: str) -> Iterator[Problem]:
    declared = [v.get("name") for v in rendering.pod_spec.get("volumes") or []]
    claims = _claim_templates(rendering)
    used: set[str] = set()
    for list_name, index, container in rendering.all_containers():
        paths: dict[str, str] = {}
        for mount_index, mount in enumerate(container.get("volumeMounts") or []):
            name, path = mount.get("name"), mount.get("mountPath")
            used.add(name)
            location = f"{where}: spec.{list_name}[{index}].volumeMounts[{mount_index}]"
            if name not in declared and name not in claims:
                yield Problem(E, "missing-volume",
                              f"Container '{container.get('name')}' mounts volume '{name}', which the Pod does "
                              "not declare: add it under Volumes", location)
            if path in paths and not mount.get("subPath"):
                yield Problem(E, "duplicate-mount-path",
                              f"Container '{container.get('name')}' mounts two volumes at {path}", location)
            paths[path] = name
    for index, name in enumerate(declared):
        if name not in used:
            yield Problem(I, "unused-volume", f"Volume '{name}' is declared but no container mounts it",
                          f"{where}: spec.volumes[{index}]")
    seen = set()
    for index, name in enumerate(declared):
        if name in seen:
            yield Problem(E, "duplicate-volume", f"Two volumes are named '{name}'", f"{where}: spec.volumes[{index}]")
        seen.add(name)
    yield from _volume_conflicts(rendering, where)


def _volume_conflicts(rendering: Rendering, where: str) -> Iterator[Problem]:
    """Two helpers (or a helper and the Pod) declaring one volume name differently: only the first is kept."""
    first: dict[str, tuple[str, dict[str, Any]]] = {}
    declared = [(f"helper {item.helper.id} ('{item.container_name}')", volume)
                for item in rendering.helpers for volume in item.contribution.volumes]
    declared += [("the Pod's volumes", volume) for volume in rendering.composition.options.volumes]
    for owner, volume in declared:
        name = volume.get("name")
        if name in first and first[name][1] != volume:
            yield Problem(E, "volume-conflict",
                          f"Volume '{name}' of {owner} is declared differently by {first[name][0]}, whose "
                          "definition wins: give one of them another volume name", f"{where}: spec.volumes")
        first.setdefault(name, (owner, volume))


def host_paths(rendering: Rendering, where: str) -> Iterator[Problem]:
    """A hostPath volume is allowed, and said to be what it is."""
    for index, volume in enumerate(rendering.pod_spec.get("volumes") or []):
        source = volume.get("hostPath")
        if isinstance(source, dict):
            yield Problem(W, "host-path",
                          f"Volume '{volume.get('name')}' is the node's path {source.get('path', '')!s} (hostPath): "
                          "the Pod reads, and unless mounted read-only writes, the node's own files (the "
                          "kubelet's, other Pods'), its data stays on that one node, and Pod Security 'baseline' "
                          "and 'restricted' reject it (a deploy needs the right to run privileged workloads)",
                          f"{where}: spec.volumes[{index}]")
