"""Kubernetes' rules for names, namespaces and labels (apimachinery's validation), in one place.

Names end up in request paths, so they are checked as the API server checks them wherever they
enter: the model, the importer (through the model) and the cluster layer right before a request.
"""

from __future__ import annotations

import re
from typing import Any

from composer.domain.podspecs import pod_specs, pod_template_metadata

MAX_LABEL = 63
MAX_SUBDOMAIN = 253
MAX_LABEL_VALUE = 63

_DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_DNS1035_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
_QUALIFIED_NAME_PART = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")

LABEL_RULE = "lower-case letters, digits and '-', starting and ending with a letter or digit"
SUBDOMAIN_RULE = f"{LABEL_RULE}, in parts joined by '.'"
DNS1035_RULE = "lower-case letters, digits and '-', starting with a letter and ending with a letter or digit"

# Kinds whose names must be DNS-1035 labels (they become DNS names of their own); every other
# kind Pod Studio sends takes a DNS-1123 subdomain.
DNS1035_KINDS = frozenset({"Service"})
DNS1123_LABEL_KINDS = frozenset({"Namespace"})


def _text_problem(value: Any) -> str | None:
    if not isinstance(value, str):
        return "must be a string"
    if not value:
        return "must not be empty"
    return None


def _name_problem(value: Any, pattern: re.Pattern, maximum: int, rule: str) -> str | None:
    problem = _text_problem(value)
    if problem:
        return problem
    if len(value) > maximum:
        return f"at most {maximum} characters ({len(value)} given)"
    return None if pattern.fullmatch(value) else f"{rule} (max {maximum})"


def dns_label_problem(value: Any) -> str | None:
    """What is wrong with `value` as an RFC 1123 label (container, volume and namespace names)."""
    return _name_problem(value, _DNS1123_LABEL, MAX_LABEL, LABEL_RULE)


def dns_subdomain_problem(value: Any) -> str | None:
    """What is wrong with `value` as an RFC 1123 subdomain (most object names)."""
    return _name_problem(value, _DNS1123_SUBDOMAIN, MAX_SUBDOMAIN, SUBDOMAIN_RULE)


def dns1035_label_problem(value: Any) -> str | None:
    """What is wrong with `value` as an RFC 1035 label (Service names)."""
    return _name_problem(value, _DNS1035_LABEL, MAX_LABEL, DNS1035_RULE)


def object_name_problem(kind: str, name: Any) -> str | None:
    """What is wrong with `name` as the metadata.name of an object of `kind`."""
    if kind in DNS1035_KINDS:
        return dns1035_label_problem(name)
    if kind in DNS1123_LABEL_KINDS:
        return dns_label_problem(name)
    return dns_subdomain_problem(name)


def qualified_name_problem(key: Any) -> str | None:
    """A label or annotation key: an optional DNS-subdomain prefix and '/', then a name of at most 63."""
    problem = _text_problem(key)
    if problem:
        return problem
    prefix, slash, name = key.rpartition("/")
    if slash and (not prefix or dns_subdomain_problem(prefix)):
        return f"the prefix before '/' must be a DNS subdomain ({SUBDOMAIN_RULE})"
    if len(name) > MAX_LABEL or not _QUALIFIED_NAME_PART.fullmatch(name):
        return "at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit"
    return None


def label_value_problem(value: Any) -> str | None:
    if not isinstance(value, str):
        return "must be a string"
    if len(value) > MAX_LABEL_VALUE or not _LABEL_VALUE.fullmatch(value):
        return "at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit"
    return None


def labels_problems(labels: Any, where: str) -> dict[str, str]:
    """Problems of a label map, keyed by `where.key`."""
    if not isinstance(labels, dict):
        return {where: "must be a mapping of strings"}
    problems = {}
    for key, value in labels.items():
        problem = qualified_name_problem(key)
        if problem:
            problems[f"{where}.{key}"] = f"label key: {problem}"
        else:
            value_problem = label_value_problem(value)
            if value_problem:
                problems[f"{where}.{key}"] = f"label value: {value_problem}"
    return problems


def annotation_keys_problems(annotations: Any, where: str) -> dict[str, str]:
    if not isinstance(annotations, dict):
        return {where: "must be a mapping of strings"}
    return {
        f"{where}.{key}": f"annotation key: {problem}"
        for key in annotations
        for problem in [qualified_name_problem(key)]
        if problem
    }


def metadata_problems(kind: str, metadata: Any, where: str) -> dict[str, str]:
    """Problems of an object's name, namespace, labels and annotation keys."""
    if not isinstance(metadata, dict):
        return {f"{where}.metadata": "must be a mapping"}
    problems = {}
    name_problem = object_name_problem(kind, metadata.get("name"))
    if name_problem:
        problems[f"{where}.metadata.name"] = f"{kind} name {metadata.get('name')!r}: {name_problem}"
    if metadata.get("namespace") is not None:
        namespace_problem = dns_label_problem(metadata["namespace"])
        if namespace_problem:
            problems[f"{where}.metadata.namespace"] = f"namespace {metadata['namespace']!r}: {namespace_problem}"
    if "labels" in metadata:
        problems.update(labels_problems(metadata["labels"], f"{where}.metadata.labels"))
    if "annotations" in metadata:
        problems.update(annotation_keys_problems(metadata["annotations"], f"{where}.metadata.annotations"))
    return problems


def manifest_name_problems(manifest: dict[str, Any]) -> dict[str, str]:
    """Every name in a manifest that the API server would refuse (and that could escape a URL path):
    the object's metadata, the pod template's labels, container and volume names."""
    kind = str(manifest.get("kind") or "?")
    problems = metadata_problems(kind, manifest.get("metadata"), kind)
    template = pod_template_metadata(manifest)
    if template is not None:
        path, metadata = template
        problems.update(labels_problems(metadata.get("labels") or {}, f"{kind}.{path}.labels"))
    for path, spec in pod_specs(manifest):
        for list_name in ("initContainers", "containers", "ephemeralContainers", "volumes"):
            items = spec.get(list_name) or []
            for index, item in enumerate(items if isinstance(items, list) else []):
                name = item.get("name") if isinstance(item, dict) else None
                problem = dns_label_problem(name)
                if problem:
                    problems[f"{kind}.{path}.{list_name}[{index}].name"] = f"name {name!r}: {problem}"
    return problems
