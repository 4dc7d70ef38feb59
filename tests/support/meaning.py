"""What a set of manifests means, for comparing an import's rendering with the original field by field.

Only what is provably equivalent is normalised: key order (dicts compare unordered), the API server's
defaults that the render writes or leaves out (a Service's type, empty lists and maps, a false
shareProcessNamespace), a selector-less extensions/v1beta1 workload (the server defaulted the selector to
the template's labels) and Pod Studio's own helpers annotation. Everything else must be equal.
"""

from __future__ import annotations

import copy
from typing import Any

from composer.domain.importer import HELPERS_ANNOTATION
from composer.domain.kinds import KINDS

EMPTY_CONTAINER_FIELDS = ("command", "args", "env", "ports", "volumeMounts", "resources")
EMPTY_POD_FIELDS = ("initContainers", "volumes")


def meaning(manifests: list[dict[str, Any]], warnings: list[str] = ()) -> dict[tuple[str, str], dict[str, Any]]:
    """The objects by kind and name, normalised; `warnings` say what the import said it changed."""
    return {(m.get("kind", ""), (m.get("metadata") or {}).get("name", "")): _normal(m, warnings) for m in manifests}


def differences(expected: Any, found: Any, path: str = "") -> list[str]:
    """Every field where `found` differs from `expected`, by path."""
    if isinstance(expected, dict) and isinstance(found, dict):
        problems = []
        for key in sorted(set(expected) | set(found), key=str):
            where = f"{path}.{key}" if path else str(key)
            if key not in found:
                problems.append(f"{where}: missing (was {expected[key]!r})")
            elif key not in expected:
                problems.append(f"{where}: added ({found[key]!r})")
            else:
                problems.extend(differences(expected[key], found[key], where))
        return problems
    if isinstance(expected, list) and isinstance(found, list) and len(expected) == len(found):
        return [p for index, (a, b) in enumerate(zip(expected, found, strict=True))
                for p in differences(a, b, f"{path}[{index}]")]
    return [] if expected == found else [f"{path}: {expected!r} became {found!r}"]


def _normal(manifest: dict[str, Any], warnings: list[str]) -> dict[str, Any]:
    manifest = copy.deepcopy(manifest)
    kind = manifest.get("kind")
    name = (manifest.get("metadata") or {}).get("name")
    if kind == "Service":
        manifest.setdefault("spec", {}).setdefault("type", "ClusterIP")
    if kind == "Pod":
        _pod_metadata(manifest["metadata"])
        _pod_spec(manifest.get("spec") or {})
    if kind in KINDS and not KINDS[kind].is_pod:
        known = KINDS[kind]
        if any(f"{kind} {name!r}: apiVersion" in warning for warning in warnings):
            manifest["apiVersion"] = known.api_version  # said in a warning
        spec = manifest["spec"]
        holder = spec
        for part in known.template_path[:-1]:
            holder = holder.setdefault(part, {})
        template = holder.setdefault(known.template_path[-1], {})
        metadata = template.setdefault("metadata", {})
        _pod_metadata(metadata)
        metadata.pop("creationTimestamp", None)
        if "selector" not in spec and known.needs_selector:
            spec["selector"] = {"matchLabels": dict(metadata.get("labels") or {})}
        _pod_spec(template.get("spec") or {})
    return manifest


def _pod_metadata(metadata: dict[str, Any]) -> None:
    annotations = metadata.get("annotations") or {}
    annotations.pop(HELPERS_ANNOTATION, None)
    if not annotations:
        metadata.pop("annotations", None)
    if not metadata.get("labels"):
        metadata.pop("labels", None)


def _pod_spec(spec: dict[str, Any]) -> None:
    if spec.get("shareProcessNamespace") is False:
        del spec["shareProcessNamespace"]
    for field in EMPTY_POD_FIELDS:
        if field in spec and not spec[field]:
            del spec[field]
    for container in [*spec.get("initContainers", []), *spec.get("containers", [])]:
        for field in EMPTY_CONTAINER_FIELDS:
            if field in container and not container[field]:
                del container[field]
