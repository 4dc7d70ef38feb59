"""The Pod's volumes as the composer edits them: the sources it has a form for, the checks the API server
makes on them, and the volumes the helpers bring (derived, never stored).

A volume whose source has a form (emptyDir, ConfigMap, Secret, PVC, hostPath) and nothing the form cannot
show but what it keeps as found (a ConfigMap's items …) is edited field by field; any other (projected,
downwardAPI, nfs, csi …, or one of those with more) is edited as YAML, whole.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from composer.domain.names import dns_label_problem, object_name_problem
from composer.domain.quantities import quantity_problem
from composer.domain.render import PlacedHelper, Rendering
from composer.domain.schema import volume_sources

YAML_SOURCE = "yaml"  # the kind of a volume edited as YAML
EMPTY_DIR_MEDIA = ("", "Memory")
HOST_PATH_TYPES = ("", "DirectoryOrCreate", "Directory", "FileOrCreate", "File", "Socket", "CharDevice",
                   "BlockDevice")


@dataclass(frozen=True)
class SourceKind:
    key: str  # the Volume field: emptyDir, configMap …
    title: str
    fields: tuple[str, ...]  # the source's fields the form edits
    kept: tuple[str, ...] = ()  # fields it keeps as found, not shown as inputs (a ConfigMap's items …)


SOURCE_KINDS = {
    kind.key: kind for kind in (
        SourceKind("emptyDir", "emptyDir", ("medium", "sizeLimit")),
        SourceKind("configMap", "ConfigMap", ("name",), ("items", "defaultMode", "optional")),
        SourceKind("secret", "Secret", ("secretName",), ("items", "defaultMode", "optional")),
        SourceKind("persistentVolumeClaim", "PVC", ("claimName", "readOnly")),
        SourceKind("hostPath", "hostPath", ("path", "type")),
    )
}


def source_key(volume: dict[str, Any]) -> str | None:
    """The volume's source field (emptyDir, projected …) if it has exactly one; else None."""
    keys = [key for key in volume if key != "name"]
    return keys[0] if len(keys) == 1 else None


def volume_kind(volume: dict[str, Any]) -> str:
    """The source kind whose form shows the whole volume, or YAML_SOURCE."""
    key = source_key(volume)
    kind = SOURCE_KINDS.get(key or "")
    source = volume.get(key) if key else None
    if kind is None or not isinstance(source, dict) or set(source) - set(kind.fields) - set(kind.kept):
        return YAML_SOURCE
    if any(not isinstance(source.get(field, ""), str) for field in kind.fields if field != "readOnly"):
        return YAML_SOURCE
    if source.get("medium", "") not in EMPTY_DIR_MEDIA or source.get("type", "") not in HOST_PATH_TYPES:
        return YAML_SOURCE
    if not isinstance(source.get("readOnly", False), bool):
        return YAML_SOURCE
    return kind.key


def volume_problems(volume: dict[str, Any]) -> dict[str, str]:
    """What the API server would refuse in one volume, by the composer's form field: `name`, the source's
    (see _source_problems), `source` for the source as a whole (a volume written as YAML)."""
    problems: dict[str, str] = {}
    name_problem = dns_label_problem(volume.get("name"))
    if name_problem:
        problems["name"] = f"a volume name is a DNS label: {name_problem}"
    key = source_key(volume)
    if key is None:
        problems["source"] = "a volume has exactly one source (emptyDir, configMap, secret, projected …)"
        return problems
    if key not in volume_sources():
        problems["source"] = f"'{key}' is not a kind of volume source (e.g. emptyDir, configMap, projected)"
        return problems
    source = volume[key]
    if not isinstance(source, dict):
        problems["source"] = f"{key} must be a mapping"
        return problems
    problems.update(_source_problems(key, source))
    return problems


# The field of each source that names an object, and the key of its message (a ConfigMap's `name` is not
# the volume's).
REFERENCES = {"configMap": ("name", "ConfigMap", "configMap"), "secret": ("secretName", "Secret", "secretName"),
              "persistentVolumeClaim": ("claimName", "PersistentVolumeClaim", "claimName")}


def _source_problems(key: str, source: dict[str, Any]) -> dict[str, str]:
    """By field: sizeLimit, configMap (its name), secretName, claimName, path, hostPathType."""
    problems: dict[str, str] = {}
    if key == "emptyDir":
        medium = source.get("medium", "")
        if not isinstance(medium, str) or not (medium in EMPTY_DIR_MEDIA or medium.startswith("HugePages")):
            problems["medium"] = "default (none), Memory, or HugePages"
        size = source.get("sizeLimit")
        problem = quantity_problem(str(size)) if size is not None and not isinstance(size, bool) else None
        if problem:
            problems["sizeLimit"] = problem
    if key in REFERENCES:
        field, kind, where = REFERENCES[key]
        problem = object_name_problem(kind, source.get(field, ""))  # required: the API server defaults none
        if problem:
            problems[where] = f"the {kind}'s name: {problem}"
    if key == "hostPath":
        path = source.get("path")
        if not isinstance(path, str) or not path.startswith("/"):
            problems["path"] = "a path on the node, from / (e.g. /var/log)"
        elif ".." in path.split("/"):
            problems["path"] = "must not contain '..' (the API server refuses it)"
        if source.get("type", "") not in HOST_PATH_TYPES:
            problems["hostPathType"] = f"one of {', '.join(t for t in HOST_PATH_TYPES if t)}, or none"
    return problems


def describe(volume: dict[str, Any]) -> str:
    """One line for a person: 'emptyDir (Memory, 64Mi)', 'ConfigMap app-config', 'projected' …"""
    key = source_key(volume) or "?"
    source = volume.get(key) if isinstance(volume.get(key), dict) else {}
    if key == "emptyDir":
        details = [str(source[field]) for field in ("medium", "sizeLimit") if source.get(field)]
        return f"emptyDir ({', '.join(details)})" if details else "emptyDir"
    if key == "configMap":
        return f"ConfigMap {source.get('name', '')}".strip()
    if key == "secret":
        return f"Secret {source.get('secretName', '')}".strip()
    if key == "persistentVolumeClaim":
        return f"PVC {source.get('claimName', '')}{' (read-only)' if source.get('readOnly') else ''}".strip()
    if key == "hostPath":
        return f"hostPath {source.get('path', '')}".strip()
    return key


def helper_volumes(rendering: Rendering) -> list[tuple[PlacedHelper, dict[str, Any]]]:
    """The volumes helpers declare, each with the first helper that declares it (its definition wins)."""
    found: dict[str, tuple[PlacedHelper, dict[str, Any]]] = {}
    for item in rendering.helpers:
        for volume in item.contribution.volumes:
            found.setdefault(volume.get("name", ""), (item, copy.deepcopy(volume)))
    return list(found.values())


def mounting(rendering: Rendering, name: str) -> list[str]:
    """The containers that mount the volume `name`, as rendered."""
    lists = [*rendering.init_containers(), *rendering.containers()]
    return [container.get("name", "") for container in lists
            if any(mount.get("name") == name for mount in container.get("volumeMounts") or [])]
