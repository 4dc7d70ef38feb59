"""A stand-in Kubernetes API server for tests.

It speaks real HTTP/JSON on 127.0.0.1 so that the real ``kubernetes`` client and
kubectl reach it through an ordinary kubeconfig (see ``tests/support/kubeconfig.py``).
It keeps objects in memory, fills in the metadata a real API server fills in, serves
discovery, label/field selectors, watches, container logs and server-side apply, and
lets a test inject faults and inspect the requests it received.

It schedules nothing and runs no kubelet or controller: a test sets Pod status itself
(``PUT/PATCH .../pods/NAME/status`` or ``set_pod_status``; both fire watches) and
feeds container logs with ``add_log`` / ``end_log``.

With ``tls=True`` it serves HTTPS with a self-signed certificate made by the openssl
command (``ca_data`` goes into the kubeconfig): real clusters use TLS, and kubectl
sends bearer tokens only over TLS. Usage::

    with ApiServer(tls=True) as server:          # or the ``apiserver`` fixture
        write_standin_kubeconfig(path, server)   # tests/support/kubeconfig.py
        server.inject("PATCH", r"/deployments/web$", status=409)
        server.set_pod_status("default", "web", {"phase": "Running"})
        server.add_log("default", "web", "app", "started")

Deliberate simplifications, so that nobody mistakes it for the real thing:

- strategic-merge patches are treated as JSON merge patches (lists are replaced);
  JSON patches are not supported (415);
- server-side apply merges a list of objects by the first key every element has
  (``name``, ``mountPath``, ``containerPort``, ``port``); other lists are atomic;
- validation covers object names, Pod containers, Deployment selectors and the
  immutable fields of Pods and Deployments; no defaulting beyond metadata and phases;
- deletes are immediate (no grace period, no finalizers, no garbage collection).
"""

from __future__ import annotations

import atexit
import base64
import contextlib
import copy
import functools
import json
import re
import secrets
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cached_property
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import yaml

DEFAULT_VERSION = "v1.33.1"
DEFAULT_USER = "tester"
STAND_IN_MANAGER = "stand-in"

APPLY_PATCH = "application/apply-patch+yaml"
MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_MERGE_PATCH = "application/strategic-merge-patch+json"

# Paths a real cluster serves to anonymous callers (system:public-info-viewer).
PUBLIC_PATHS = frozenset({"/version", "/healthz", "/livez", "/readyz"})


# ---------------------------------------------------------------------------
# Resource types
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ResourceType:
    group: str
    version: str
    kind: str
    plural: str
    namespaced: bool = True
    short_names: tuple[str, ...] = ()
    status_subresource: bool = False

    @property
    def group_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def resource_name(self) -> str:
        """How real error messages name the resource: ``pods``, ``deployments.apps``."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def qualified_kind(self) -> str:
        """How real validation messages name the kind: ``Pod``, ``Deployment.apps``."""
        return f"{self.kind}.{self.group}" if self.group else self.kind


RESOURCES: tuple[ResourceType, ...] = (
    ResourceType("", "v1", "Namespace", "namespaces", False, ("ns",), True),
    ResourceType("", "v1", "Pod", "pods", True, ("po",), True),
    ResourceType("", "v1", "Service", "services", True, ("svc",), True),
    ResourceType("", "v1", "ConfigMap", "configmaps", True, ("cm",)),
    ResourceType("", "v1", "Secret", "secrets"),
    ResourceType("", "v1", "Event", "events", True, ("ev",)),
    ResourceType("apps", "v1", "Deployment", "deployments", True, ("deploy",), True),
    ResourceType("apps", "v1", "ReplicaSet", "replicasets", True, ("rs",), True),
)
RESOURCES_BY_PLURAL = {rt.plural: rt for rt in RESOURCES}
_RESOURCES_BY_PATH = {(rt.group, rt.version, rt.plural): rt for rt in RESOURCES}
_RESOURCES_BY_KIND = {(rt.group_version, rt.kind): rt for rt in RESOURCES}
NAMESPACES = RESOURCES_BY_PLURAL["namespaces"]
PODS = RESOURCES_BY_PLURAL["pods"]

_VERBS = ["create", "delete", "get", "list", "patch", "update", "watch"]


def resource_for(api_version: str, kind: str) -> ResourceType:
    try:
        return _RESOURCES_BY_KIND[(api_version, kind)]
    except KeyError:
        raise ValueError(f"the stand-in server does not serve {api_version} {kind}") from None


@dataclass(frozen=True)
class Target:
    """What a resource URL points at."""

    resource: ResourceType
    namespace: str | None
    name: str | None
    subresource: str | None


def parse_resource_path(path: str) -> Target | None:
    parts = [part for part in path.split("/") if part]
    if len(parts) >= 3 and parts[0] == "api" and parts[1] == "v1":
        group, version, rest = "", "v1", parts[2:]
    elif len(parts) >= 4 and parts[0] == "apis":
        group, version, rest = parts[1], parts[2], parts[3:]
    else:
        return None
    namespace = None
    if len(rest) >= 3 and rest[0] == "namespaces" and (group, version, rest[2]) in _RESOURCES_BY_PATH:
        namespace, rest = rest[1], rest[2:]
    if len(rest) > 3:
        return None
    resource = _RESOURCES_BY_PATH.get((group, version, rest[0]))
    if resource is None or (namespace is not None and not resource.namespaced):
        return None
    name = rest[1] if len(rest) > 1 else None
    subresource = rest[2] if len(rest) > 2 else None
    return Target(resource, namespace, name, subresource)


# ---------------------------------------------------------------------------
# Errors answered with a Status body
# ---------------------------------------------------------------------------

REASONS = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    409: "Conflict",
    410: "Expired",
    415: "UnsupportedMediaType",
    422: "Invalid",
    429: "TooManyRequests",
    500: "InternalError",
    503: "ServiceUnavailable",
    504: "Timeout",
}


class ApiError(Exception):
    """An error the server answers with a ``Status`` body, like the real one."""

    def __init__(
        self,
        code: int,
        message: str,
        *,
        reason: str | None = None,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.reason = reason or REASONS.get(code, "Unknown")
        self.details = details
        self.headers = headers or {}

    def status_body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        }
        if self.details:
            body["details"] = self.details
        return body


def not_found(resource: ResourceType, name: str) -> ApiError:
    details = {"name": name, "group": resource.group, "kind": resource.plural}
    return ApiError(404, f'{resource.resource_name} "{name}" not found', details=details)


def already_exists(resource: ResourceType, name: str) -> ApiError:
    details = {"name": name, "group": resource.group, "kind": resource.plural}
    message = f'{resource.resource_name} "{name}" already exists'
    return ApiError(409, message, reason="AlreadyExists", details=details)


def modified_conflict(resource: ResourceType, name: str) -> ApiError:
    message = (
        f'Operation cannot be fulfilled on {resource.resource_name} "{name}": the object has been '
        "modified; please apply your changes to the latest version and try again"
    )
    return ApiError(409, message, details={"name": name, "group": resource.group, "kind": resource.plural})


def forbidden(
    user: str,
    verb: str,
    resource: ResourceType,
    namespace: str | None,
    name: str | None,
    subresource: str | None = None,
) -> ApiError:
    what = f'{resource.resource_name} "{name}"' if name else resource.resource_name
    resource_text = f"{resource.plural}/{subresource}" if subresource else resource.plural
    scope = f' in the namespace "{namespace}"' if namespace else " at the cluster scope"
    message = (
        f'{what} is forbidden: User "{user}" cannot {verb} resource "{resource_text}" '
        f'in API group "{resource.group}"{scope}'
    )
    details = {"name": name or "", "group": resource.group, "kind": resource.plural}
    return ApiError(403, message, details=details)


def invalid(resource: ResourceType, name: str, causes: list[dict[str, str]]) -> ApiError:
    parts = [f"{cause['field']}: {cause['message']}" for cause in causes]
    summary = parts[0] if len(parts) == 1 else "[" + ", ".join(parts) + "]"
    details = {"name": name, "group": resource.group, "kind": resource.kind, "causes": causes}
    return ApiError(422, f'{resource.qualified_kind} "{name}" is invalid: {summary}', details=details)


def required(path: str) -> dict[str, str]:
    return {"reason": "FieldValueRequired", "message": "Required value", "field": path}


def invalid_value(path: str, value: Any, detail: str) -> dict[str, str]:
    return {
        "reason": "FieldValueInvalid",
        "message": f"Invalid value: {json.dumps(value)}: {detail}",
        "field": path,
    }


def duplicate(path: str, value: Any) -> dict[str, str]:
    return {
        "reason": "FieldValueDuplicate",
        "message": f"Duplicate value: {json.dumps(value)}",
        "field": path,
    }


def forbidden_field(path: str, detail: str) -> dict[str, str]:
    return {"reason": "FieldValueForbidden", "message": f"Forbidden: {detail}", "field": path}


# ---------------------------------------------------------------------------
# Label and field selectors
# ---------------------------------------------------------------------------

_SELECTOR_SPLIT = re.compile(r",(?![^()]*\))")
_SET_TERM = re.compile(r"^([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)$")
_EQUALITY_TERM = re.compile(r"^([\w./-]+)\s*(==|=|!=)\s*([\w./-]*)$")
_EXISTS_TERM = re.compile(r"^(!?)([\w./-]+)$")


@dataclass(frozen=True)
class Requirement:
    key: str
    operator: str  # "in", "notin", "exists", "!exists"
    values: frozenset[str] = frozenset()

    def matches(self, labels: dict[str, str]) -> bool:
        if self.operator == "exists":
            return self.key in labels
        if self.operator == "!exists":
            return self.key not in labels
        if self.operator == "in":
            return labels.get(self.key) in self.values
        return labels.get(self.key) not in self.values


def parse_selector(text: str | None) -> list[Requirement]:
    """Parse ``a=b,c!=d,e in (x,y),f notin (z),g,!h``; raises ApiError(400) when malformed."""
    requirements = []
    for term in _SELECTOR_SPLIT.split(text or ""):
        term = term.strip()
        if term:
            requirements.append(_parse_term(term))
    return requirements


def _parse_term(term: str) -> Requirement:
    if match := _SET_TERM.match(term):
        values = frozenset(v.strip() for v in match.group(3).split(",") if v.strip())
        return Requirement(match.group(1), match.group(2), values)
    if match := _EQUALITY_TERM.match(term):
        operator = "notin" if match.group(2) == "!=" else "in"
        return Requirement(match.group(1), operator, frozenset({match.group(3)}))
    if match := _EXISTS_TERM.match(term):
        return Requirement(match.group(2), "!exists" if match.group(1) else "exists")
    raise ApiError(400, f"unable to parse requirement: {term!r}")


def _labels_of(obj: dict[str, Any]) -> dict[str, str]:
    return (obj.get("metadata") or {}).get("labels") or {}


def _fields_of(obj: dict[str, Any], requirements: list[Requirement]) -> dict[str, str]:
    """The dotted fields a field selector asks about (``metadata.name``, ``status.phase``…)."""
    values = {}
    for requirement in requirements:
        node: Any = obj
        for part in requirement.key.split("."):
            node = node.get(part) if isinstance(node, dict) else None
        values[requirement.key] = "" if node is None else str(node)
    return values


@dataclass(frozen=True)
class Selection:
    """A namespace plus label and field selectors: which objects a list or watch wants."""

    namespace: str | None
    labels: list[Requirement]
    fields: list[Requirement]

    def matches(self, obj: dict[str, Any]) -> bool:
        meta = obj.get("metadata") or {}
        if self.namespace is not None and meta.get("namespace") != self.namespace:
            return False
        labels = _labels_of(obj)
        if not all(r.matches(labels) for r in self.labels):
            return False
        field_values = _fields_of(obj, self.fields)
        return all(r.matches(field_values) for r in self.fields)


# ---------------------------------------------------------------------------
# Patches and field ownership (server-side apply)
# ---------------------------------------------------------------------------


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch; returns the patched value (target is modified in place)."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    if not isinstance(target, dict):
        target = {}
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
        else:
            target[key] = merge_patch(target.get(key), value)
    return target


@dataclass(frozen=True)
class ListKey:
    """One element of an associative list, e.g. the container named "app"."""

    field: str
    value: str | int

    def encoded(self) -> str:
        return "k:" + json.dumps({self.field: self.value}, separators=(",", ":"))

    def __str__(self) -> str:
        return f"[{self.field}={json.dumps(self.value)}]"


FieldPath = tuple[str | ListKey, ...]

# The value recorded for "this list element exists" (fieldsV1 writes it as ".").
_ELEMENT = object()
_LIST_KEY_FIELDS = ("name", "mountPath", "containerPort", "port")

# Metadata the server owns; it never appears in managedFields.
_SERVER_METADATA = frozenset(
    {
        "name",
        "namespace",
        "generateName",
        "uid",
        "resourceVersion",
        "generation",
        "creationTimestamp",
        "managedFields",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "selfLink",
    }
)


def _list_key_field(items: list[Any]) -> str | None:
    if not items or not all(isinstance(item, dict) for item in items):
        return None
    for key in _LIST_KEY_FIELDS:
        values = [item.get(key) for item in items]
        if all(isinstance(v, str | int) for v in values) and len(set(values)) == len(values):
            return key
    return None


def leaf_fields(value: Any, prefix: FieldPath = ()) -> dict[FieldPath, Any]:
    """Every field path a manager can own in ``value``, with its value."""
    leaves: dict[FieldPath, Any] = {}
    _collect_leaves(value, prefix, leaves)
    return leaves


def _collect_leaves(value: Any, path: FieldPath, leaves: dict[FieldPath, Any]) -> None:
    if isinstance(value, dict) and value:
        for key, child in value.items():
            _collect_leaves(child, (*path, key), leaves)
        return
    key_field = _list_key_field(value) if isinstance(value, list) else None
    if key_field is None:
        leaves[path] = value
        return
    for item in value:
        element = (*path, ListKey(key_field, item[key_field]))
        leaves[element] = _ELEMENT
        for key, child in item.items():
            _collect_leaves(child, (*element, key), leaves)


def owned_view(obj: dict[str, Any]) -> dict[str, Any]:
    """The part of an object that field managers own: not identity, not status."""
    view = {k: v for k, v in obj.items() if k not in ("apiVersion", "kind", "metadata", "status")}
    metadata = {k: v for k, v in (obj.get("metadata") or {}).items() if k not in _SERVER_METADATA}
    return {"metadata": metadata, **view} if metadata else view


def _child(node: Any, segment: str | ListKey) -> tuple[bool, Any]:
    if isinstance(segment, ListKey):
        if isinstance(node, list):
            for item in node:
                if isinstance(item, dict) and item.get(segment.field) == segment.value:
                    return True, item
        return False, None
    if isinstance(node, dict) and segment in node:
        return True, node[segment]
    return False, None


def get_at(obj: Any, path: FieldPath) -> tuple[bool, Any]:
    node = obj
    for segment in path:
        found, node = _child(node, segment)
        if not found:
            return False, None
    return True, node


def _holds(obj: Any, path: FieldPath, value: Any) -> bool:
    found, current = get_at(obj, path)
    return found if value is _ELEMENT else found and current == value


def _ensure_child(node: Any, segment: str | ListKey, next_segment: str | ListKey | None) -> Any:
    if isinstance(segment, ListKey):
        found, element = _child(node, segment)
        if not found:
            element = {segment.field: segment.value}
            node.append(element)
        return element
    wanted_type = list if isinstance(next_segment, ListKey) else dict
    if not isinstance(node.get(segment), wanted_type):
        node[segment] = wanted_type()
    return node[segment]


def set_at(obj: dict[str, Any], path: FieldPath, value: Any) -> None:
    node: Any = obj
    for index, segment in enumerate(path[:-1]):
        node = _ensure_child(node, segment, path[index + 1])
    last = path[-1]
    if isinstance(last, ListKey):
        _ensure_child(node, last, None)
    else:
        node[last] = copy.deepcopy(value)


def remove_at(obj: dict[str, Any], path: FieldPath) -> None:
    """Remove a field (or list element), then drop the maps and lists it left empty."""
    found, parent = get_at(obj, path[:-1])
    if not found:
        return
    last = path[-1]
    if isinstance(last, ListKey) and isinstance(parent, list):
        parent[:] = [
            item for item in parent if not (isinstance(item, dict) and item.get(last.field) == last.value)
        ]
    elif isinstance(last, str) and isinstance(parent, dict):
        parent.pop(last, None)
    for depth in range(len(path) - 1, 0, -1):
        found, container = get_at(obj, path[:depth])
        if not found or container not in ({}, []):
            break
        _, holder = get_at(obj, path[: depth - 1])
        if isinstance(holder, dict):
            holder.pop(path[depth - 1], None)
        elif isinstance(holder, list):
            holder[:] = [item for item in holder if item is not container]


def format_field_path(path: FieldPath) -> str:
    return "".join(str(s) if isinstance(s, ListKey) else f".{s}" for s in path)


@dataclass
class FieldManager:
    """One managedFields entry, with its fields decoded into paths."""

    manager: str
    operation: str
    api_version: str
    time: str
    fields: set[FieldPath]


def _parse_segment(name: str) -> str | ListKey | None:
    if name.startswith("f:"):
        return name[2:]
    if name.startswith("k:"):
        key = json.loads(name[2:])
        if isinstance(key, dict) and len(key) == 1:
            ((key_field, value),) = key.items()
            return ListKey(key_field, value)
    return None


def decode_fields(tree: dict[str, Any], prefix: FieldPath = ()) -> set[FieldPath]:
    paths: set[FieldPath] = set()
    for name, child in tree.items():
        if name == ".":
            paths.add(prefix)
            continue
        segment = _parse_segment(name)
        if segment is None:
            continue
        path = (*prefix, segment)
        paths |= decode_fields(child, path) if child else {path}
    return paths


def encode_fields(paths: Iterable[FieldPath]) -> dict[str, Any]:
    root: dict[str, Any] = {}
    for path in sorted(paths, key=lambda p: tuple(str(s) for s in p)):
        node = root
        for segment in path:
            node = node.setdefault(segment.encoded() if isinstance(segment, ListKey) else f"f:{segment}", {})
        if path and isinstance(path[-1], ListKey):
            node.setdefault(".", {})
    return root


def read_managers(obj: dict[str, Any] | None) -> list[FieldManager]:
    entries = ((obj or {}).get("metadata") or {}).get("managedFields") or []
    return [
        FieldManager(
            e.get("manager", ""),
            e.get("operation", "Update"),
            e.get("apiVersion", ""),
            e.get("time", ""),
            decode_fields(e.get("fieldsV1") or {}),
        )
        for e in entries
    ]


def write_managers(obj: dict[str, Any], managers: list[FieldManager]) -> None:
    entries = [
        {
            "manager": m.manager,
            "operation": m.operation,
            "apiVersion": m.api_version,
            "time": m.time,
            "fieldsType": "FieldsV1",
            "fieldsV1": encode_fields(m.fields),
        }
        for m in managers
        if m.fields
    ]
    metadata = obj.setdefault("metadata", {})
    if entries:
        metadata["managedFields"] = entries
    else:
        metadata.pop("managedFields", None)


def _assign(
    managers: list[FieldManager],
    name: str,
    operation: str,
    fields: set[FieldPath],
    api_version: str,
    now: str,
) -> None:
    """Give ``fields`` to one manager entry; its time moves only when its fields change."""
    for entry in managers:
        if entry.manager == name and entry.operation == operation:
            if entry.fields != fields or entry.api_version != api_version:
                entry.fields, entry.api_version, entry.time = fields, api_version, now
            return
    managers.append(FieldManager(name, operation, api_version, now, fields))


class ApplyConflict(Exception):
    def __init__(self, conflicts: list[tuple[str, str, str]]) -> None:
        super().__init__(f"{len(conflicts)} conflicts")
        self.conflicts = conflicts  # (field path, manager, apiVersion)


def _find_conflicts(
    live: dict[str, Any], managers: list[FieldManager], wanted: dict[FieldPath, Any], applier: str
) -> list[tuple[str, str, str]]:
    conflicts = []
    for path, value in wanted.items():
        if value is _ELEMENT or _holds(live, path, value) or not get_at(live, path)[0]:
            continue
        for entry in managers:
            if entry.manager != applier and path in entry.fields:
                conflicts.append((format_field_path(path), entry.manager, entry.api_version))
    return conflicts


def _release_dropped_fields(
    obj: dict[str, Any], managers: list[FieldManager], applier: str, wanted: dict[FieldPath, Any]
) -> None:
    """Fields this applier set last time and omits now go away, unless someone else owns them."""
    mine = next((m for m in managers if m.manager == applier and m.operation == "Apply"), None)
    if mine is None:
        return
    others = [path for m in managers if m is not mine for path in m.fields]
    # Shallowest first: a dropped list element goes as a whole, before its fields (and key) would.
    for path in sorted(mine.fields - wanted.keys(), key=len):
        if not any(other[: len(path)] == path for other in others):
            remove_at(obj, path)


def _order_like(target: Any, applied: Any) -> None:
    """Associative lists follow the order of the applied configuration (init containers!)."""
    if isinstance(applied, dict) and isinstance(target, dict):
        for key, value in applied.items():
            if key in target:
                _order_like(target[key], value)
        return
    if not (isinstance(applied, list) and isinstance(target, list)):
        return
    key = _list_key_field(applied)
    if key is None or _list_key_field(target) != key:
        return
    by_key = {item[key]: item for item in target}
    ordered = [by_key.pop(item[key]) for item in applied if item[key] in by_key]
    target[:] = ordered + [item for item in target if item[key] in by_key]
    for item in applied:
        _order_like(_child(target, ListKey(key, item[key]))[1], item)


def server_side_apply(
    live: dict[str, Any] | None, applied: dict[str, Any], manager: str, *, force: bool, now: str
) -> dict[str, Any]:
    """The object after ``manager`` applies ``applied`` to ``live``; raises ApplyConflict."""
    result = copy.deepcopy(live) if live is not None else {}
    managers = read_managers(result)
    wanted = leaf_fields(owned_view(applied))
    conflicts = _find_conflicts(result, managers, wanted, manager)
    if conflicts and not force:
        raise ApplyConflict(conflicts)
    changed = {path for path, value in wanted.items() if not _holds(result, path, value)}
    _release_dropped_fields(result, managers, manager, wanted)
    for path, value in wanted.items():
        if path in changed:
            set_at(result, path, value)
    _order_like(result, owned_view(applied))
    for entry in managers:
        if not (entry.manager == manager and entry.operation == "Apply"):
            entry.fields -= changed
    _assign(managers, manager, "Apply", set(wanted), applied.get("apiVersion", ""), now)
    write_managers(result, managers)
    result["apiVersion"], result["kind"] = applied.get("apiVersion"), applied.get("kind")
    return result


def record_update(before: dict[str, Any] | None, after: dict[str, Any], manager: str, now: str) -> None:
    """Record an ordinary write (create, replace, merge patch) as operation "Update"."""
    managers = read_managers(before)
    old = leaf_fields(owned_view(before)) if before else {}
    new = leaf_fields(owned_view(after))
    changed = {path for path, value in new.items() if path not in old or old[path] != value}
    for entry in managers:
        entry.fields = {path for path in entry.fields if path in new and path not in changed}
    existing = next((m.fields for m in managers if m.manager == manager and m.operation == "Update"), set())
    _assign(managers, manager, "Update", existing | changed, after.get("apiVersion", ""), now)
    write_managers(after, managers)


# ---------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------

_DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_LABEL_NAMED = frozenset({"namespaces", "services"})

POD_UPDATE_FORBIDDEN = (
    "pod updates may not change fields other than `spec.containers[*].image`,"
    "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,"
    "`spec.tolerations` (only additions to existing tolerations),"
    "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)"
)


def _validate_name(resource: ResourceType, name: str | None) -> list[dict[str, str]]:
    if not name:
        return [
            {
                "reason": "FieldValueRequired",
                "field": "metadata.name",
                "message": "Required value: name or generateName is required",
            }
        ]
    if resource.plural in _LABEL_NAMED:
        if len(name) > 63 or not _DNS1123_LABEL.match(name):
            return [
                invalid_value(
                    "metadata.name",
                    name,
                    "a lowercase RFC 1123 label must consist of "
                    "lower case alphanumeric characters or '-', and must start and end "
                    "with an alphanumeric character",
                )
            ]
    elif len(name) > 253 or not _DNS1123_SUBDOMAIN.match(name):
        return [
            invalid_value(
                "metadata.name",
                name,
                "a lowercase RFC 1123 subdomain must consist of "
                "lower case alphanumeric characters, '-' or '.', and must start and end "
                "with an alphanumeric character",
            )
        ]
    return []


def _validate_pod_spec(spec: Any, prefix: str, minor: int) -> list[dict[str, str]]:
    spec = spec if isinstance(spec, dict) else {}
    causes = []
    if not spec.get("containers"):
        causes.append(required(f"{prefix}.containers"))
    seen: set[str] = set()
    for group in ("initContainers", "containers"):
        for index, container in enumerate(spec.get(group) or []):
            causes += _validate_container(
                container, f"{prefix}.{group}[{index}]", seen, init=group == "initContainers", minor=minor
            )
    return causes


def _validate_container(
    container: dict[str, Any], path: str, seen: set[str], *, init: bool, minor: int
) -> list[dict[str, str]]:
    causes = []
    name = container.get("name")
    if not name:
        causes.append(required(f"{path}.name"))
    elif name in seen:
        causes.append(duplicate(f"{path}.name", name))
    seen.add(name)
    if not container.get("image"):
        causes.append(required(f"{path}.image"))
    if init and "restartPolicy" in container:
        if minor < 29:  # native sidecars arrived (as beta, on by default) in 1.29
            causes.append(forbidden_field(f"{path}.restartPolicy", "may not be set for init containers"))
        elif container["restartPolicy"] != "Always":
            causes.append(
                {
                    "reason": "FieldValueNotSupported",
                    "field": f"{path}.restartPolicy",
                    "message": f'Unsupported value: "{container["restartPolicy"]}": '
                    'supported values: "Always"',
                }
            )
    return causes


def _validate_workload(obj: dict[str, Any], minor: int) -> list[dict[str, str]]:
    spec = obj.get("spec") or {}
    selector = (spec.get("selector") or {}).get("matchLabels")
    template = spec.get("template") or {}
    template_labels = (template.get("metadata") or {}).get("labels") or {}
    causes = []
    if not selector:
        causes.append(required("spec.selector"))
    elif any(template_labels.get(k) != v for k, v in selector.items()):
        causes.append(
            invalid_value(
                "spec.template.metadata.labels",
                template_labels,
                "`selector` does not match template `labels`",
            )
        )
    return causes + _validate_pod_spec(template.get("spec"), "spec.template.spec", minor)


def validate(resource: ResourceType, obj: dict[str, Any], minor: int) -> list[dict[str, str]]:
    causes = _validate_name(resource, (obj.get("metadata") or {}).get("name"))
    if resource.kind == "Pod":
        causes += _validate_pod_spec(obj.get("spec"), "spec", minor)
    elif resource.kind in ("Deployment", "ReplicaSet"):
        causes += _validate_workload(obj, minor)
    return causes


def _pod_spec_without_mutable_fields(spec: dict[str, Any] | None) -> dict[str, Any]:
    frozen = copy.deepcopy(spec or {})
    for group in ("containers", "initContainers"):
        for container in frozen.get(group) or []:
            container.pop("image", None)
    for key in ("activeDeadlineSeconds", "tolerations", "terminationGracePeriodSeconds"):
        frozen.pop(key, None)
    return frozen


def validate_update(resource: ResourceType, old: dict[str, Any], new: dict[str, Any]) -> list[dict[str, str]]:
    """The immutable-field rules of a real server for Pods and Deployments."""
    if resource.kind == "Pod":
        if _pod_spec_without_mutable_fields(old.get("spec")) != _pod_spec_without_mutable_fields(
            new.get("spec")
        ):
            return [forbidden_field("spec", POD_UPDATE_FORBIDDEN)]
    elif resource.kind in ("Deployment", "ReplicaSet"):
        old_selector = (old.get("spec") or {}).get("selector")
        new_selector = (new.get("spec") or {}).get("selector")
        if old_selector != new_selector:
            return [invalid_value("spec.selector", new_selector, "field is immutable")]
    return []


# ---------------------------------------------------------------------------
# Object store with a bounded watch history
# ---------------------------------------------------------------------------


def _timestamp(moment: datetime | None = None) -> str:
    return (moment or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _copy(obj: Any) -> Any:
    return copy.deepcopy(obj)


@dataclass(frozen=True)
class WatchEvent:
    resource_version: int
    plural: str
    type: str  # ADDED, MODIFIED, DELETED
    object: dict[str, Any]

    @cached_property
    def line(self) -> bytes:
        return (json.dumps({"type": self.type, "object": self.object}) + "\n").encode()


class ObjectStore:
    """Objects by resource, namespace and name; every write is one resourceVersion and one event.

    Stored objects are never modified in place (writes store new dicts), so watch
    events and readers can share them without copying.
    """

    def __init__(self, history_limit: int) -> None:
        self.lock = threading.RLock()
        self.changed = threading.Condition(self.lock)
        self._objects: dict[str, dict[str, dict[str, dict[str, Any]]]] = {rt.plural: {} for rt in RESOURCES}
        self._history: dict[int, WatchEvent] = {}
        self._oldest_event = 1
        self._resource_version = 0
        self._history_limit = history_limit

    @property
    def resource_version(self) -> int:
        return self._resource_version

    def get(self, plural: str, namespace: str | None, name: str) -> dict[str, Any] | None:
        return self._objects[plural].get(namespace or "", {}).get(name)

    def items(self, plural: str, namespace: str | None = None) -> list[dict[str, Any]]:
        with self.lock:
            by_namespace = self._objects[plural]
            namespaces = [namespace] if namespace is not None else sorted(by_namespace)
            found = []
            for each in namespaces:
                objects = by_namespace.get(each, {})
                found.extend(objects[name] for name in sorted(objects))
            return found

    def commit(self, plural: str, event_type: str, obj: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            self._resource_version += 1
            obj["metadata"]["resourceVersion"] = str(self._resource_version)
            namespace, name = obj["metadata"].get("namespace", ""), obj["metadata"]["name"]
            if event_type == "DELETED":
                self._objects[plural].get(namespace, {}).pop(name, None)
            else:
                self._objects[plural].setdefault(namespace, {})[name] = obj
            self._history[self._resource_version] = WatchEvent(
                self._resource_version, plural, event_type, obj
            )
            while len(self._history) > self._history_limit:
                del self._history[self._oldest_event]
                self._oldest_event += 1
            self.changed.notify_all()
            return obj

    def events_after(self, resource_version: int) -> list[WatchEvent] | None:
        """Events newer than ``resource_version``; None when some of them were already forgotten."""
        with self.lock:
            if resource_version + 1 < self._oldest_event:
                return None
            first = max(resource_version + 1, self._oldest_event)
            return [self._history[rv] for rv in range(first, self._resource_version + 1)]

    def compact(self) -> None:
        """Forget the whole event history, as etcd compaction does."""
        with self.lock:
            self._history.clear()
            self._oldest_event = self._resource_version + 1

    def too_old_message(self, resource_version: int) -> str:
        return f"too old resource version: {resource_version} ({self._oldest_event - 1})"


# ---------------------------------------------------------------------------
# Resource operations (no HTTP here)
# ---------------------------------------------------------------------------


def _spec_part(obj: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if k not in ("metadata", "status", "apiVersion", "kind")}


def _initial_status(resource: ResourceType) -> dict[str, Any] | None:
    return {
        "Pod": {"phase": "Pending"},
        "Namespace": {"phase": "Active"},
        "Service": {"loadBalancer": {}},
    }.get(resource.kind)


class ResourceApi:
    """Create, replace, patch, apply, status writes and deletes, with real-server rules."""

    def __init__(self, store: ObjectStore, minor_version: Callable[[], int]) -> None:
        self.store = store
        self._minor_version = minor_version

    # -- reads ---------------------------------------------------------------

    def get(self, resource: ResourceType, namespace: str | None, name: str) -> dict[str, Any]:
        obj = self.store.get(resource.plural, namespace, name)
        if obj is None:
            raise not_found(resource, name)
        return obj

    # -- writes --------------------------------------------------------------

    def create(
        self,
        resource: ResourceType,
        namespace: str | None,
        body: dict[str, Any],
        *,
        manager: str,
        dry_run: bool = False,
        keep_status: bool = False,
    ) -> dict[str, Any]:
        obj = _copy(body)
        self._check_type(resource, obj)
        metadata = obj.setdefault("metadata", {})
        self._check_namespace(resource, namespace, metadata)
        if not metadata.get("name") and metadata.get("generateName"):
            metadata["name"] = metadata["generateName"] + secrets.token_hex(3)[:5]
        with self.store.lock:
            self._require_namespace(resource, namespace)
            name = metadata.get("name")
            if name and self.store.get(resource.plural, namespace, name):
                raise already_exists(resource, name)
            self._raise_if_invalid(resource, obj, validate(resource, obj, self._minor_version()))
            self._stamp_new(resource, obj, keep_status=keep_status)
            record_update(None, obj, manager, _timestamp())
            return obj if dry_run else self.store.commit(resource.plural, "ADDED", obj)

    def replace(
        self,
        resource: ResourceType,
        namespace: str | None,
        name: str,
        body: dict[str, Any],
        *,
        manager: str,
        dry_run: bool = False,
    ) -> dict[str, Any]:
        candidate = _copy(body)
        self._check_type(resource, candidate)
        self._check_identity(resource, namespace, name, candidate)
        with self.store.lock:
            live = self.get(resource, namespace, name)
            sent_version = (candidate.get("metadata") or {}).get("resourceVersion")
            if sent_version and sent_version != live["metadata"]["resourceVersion"]:
                raise modified_conflict(resource, name)
            return self._save(resource, live, candidate, manager=manager, dry_run=dry_run)

    def patch(
        self,
        resource: ResourceType,
        namespace: str | None,
        name: str,
        patch: dict[str, Any],
        *,
        manager: str,
        dry_run: bool = False,
    ) -> dict[str, Any]:
        with self.store.lock:
            live = self.get(resource, namespace, name)
            candidate = merge_patch(_copy(live), patch)
            return self._save(resource, live, candidate, manager=manager, dry_run=dry_run)

    def apply(
        self,
        resource: ResourceType,
        namespace: str | None,
        name: str,
        body: dict[str, Any],
        *,
        manager: str,
        force: bool,
        dry_run: bool = False,
    ) -> tuple[int, dict[str, Any]]:
        """Server-side apply; returns (201, created) or (200, result)."""
        if not manager:
            raise ApiError(
                422,
                'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: '
                "is required for apply patch",
            )
        if not body.get("apiVersion") or not body.get("kind"):
            raise ApiError(400, "invalid object: apiVersion and kind must be set in an apply patch")
        self._check_type(resource, body)
        self._check_identity(resource, namespace, name, body)
        with self.store.lock:
            live = self.store.get(resource.plural, namespace, name)
            try:
                result = server_side_apply(live, body, manager, force=force, now=_timestamp())
            except ApplyConflict as conflict:
                raise self._conflict_error(conflict) from None
            if live is not None:
                return 200, self._save(resource, live, result, manager=None, dry_run=dry_run)
            self._require_namespace(resource, namespace)
            result["metadata"].update({"name": name, **({"namespace": namespace} if namespace else {})})
            self._raise_if_invalid(resource, result, validate(resource, result, self._minor_version()))
            self._stamp_new(resource, result)
            return 201, (result if dry_run else self.store.commit(resource.plural, "ADDED", result))

    def write_status(
        self,
        resource: ResourceType,
        namespace: str | None,
        name: str,
        body: dict[str, Any],
        *,
        patch: bool,
        dry_run: bool = False,
    ) -> dict[str, Any]:
        """PUT or PATCH of the status subresource: only .status changes."""
        with self.store.lock:
            live = self.get(resource, namespace, name)
            source = merge_patch(_copy(live), body) if patch else body
            candidate = _copy(live)
            if source.get("status") is None:
                candidate.pop("status", None)
            else:
                candidate["status"] = _copy(source["status"])
            if candidate == live or dry_run:
                return candidate
            return self.store.commit(resource.plural, "MODIFIED", candidate)

    def delete(
        self, resource: ResourceType, namespace: str | None, name: str, *, dry_run: bool = False,
        uid: str | None = None,
    ) -> dict[str, Any]:
        with self.store.lock:
            live = self.get(resource, namespace, name)
            if uid and live["metadata"].get("uid") != uid:
                raise ApiError(409, f"Precondition failed: UID in precondition: {uid}, UID in object meta: "
                               f"{live['metadata'].get('uid')}", details={"name": name, "kind": resource.plural})
            if dry_run:
                return live
            if resource is NAMESPACES:
                self._delete_namespace_contents(name)
            return self.store.commit(resource.plural, "DELETED", _copy(live))

    # -- helpers -------------------------------------------------------------

    def _save(
        self,
        resource: ResourceType,
        live: dict[str, Any],
        candidate: dict[str, Any],
        *,
        manager: str | None,
        dry_run: bool,
    ) -> dict[str, Any]:
        """Finish an update: keep server-owned fields, validate, record the manager, store."""
        self._keep_server_fields(resource, live, candidate)
        causes = validate(resource, candidate, self._minor_version()) + validate_update(
            resource, live, candidate
        )
        self._raise_if_invalid(resource, candidate, causes)
        if _spec_part(candidate) != _spec_part(live):
            candidate["metadata"]["generation"] = live["metadata"].get("generation", 1) + 1
        if manager is not None:
            record_update(live, candidate, manager, _timestamp())
        if candidate == live or dry_run:
            return candidate
        return self.store.commit(resource.plural, "MODIFIED", candidate)

    @staticmethod
    def _keep_server_fields(resource: ResourceType, live: dict[str, Any], candidate: dict[str, Any]) -> None:
        metadata = candidate.setdefault("metadata", {})
        for key in ("name", "namespace", "uid", "creationTimestamp", "generation", "resourceVersion"):
            if key in live["metadata"]:
                metadata[key] = live["metadata"][key]
        if "managedFields" in live["metadata"] and "managedFields" not in metadata:
            metadata["managedFields"] = _copy(live["metadata"]["managedFields"])
        candidate["apiVersion"], candidate["kind"] = live["apiVersion"], live["kind"]
        if resource.status_subresource:  # status only changes through .../status
            if "status" in live:
                candidate["status"] = _copy(live["status"])
            else:
                candidate.pop("status", None)

    def _stamp_new(self, resource: ResourceType, obj: dict[str, Any], *, keep_status: bool = False) -> None:
        obj["apiVersion"], obj["kind"] = resource.group_version, resource.kind
        metadata = obj["metadata"]
        metadata.update(uid=str(uuid.uuid4()), creationTimestamp=_timestamp(), generation=1)
        metadata.pop("resourceVersion", None)
        if resource.status_subresource and not keep_status:
            obj.pop("status", None)
            if (status := _initial_status(resource)) is not None:
                obj["status"] = status

    def _require_namespace(self, resource: ResourceType, namespace: str | None) -> None:
        if resource.namespaced and self.store.get("namespaces", None, namespace or "") is None:
            raise not_found(NAMESPACES, namespace or "")

    @staticmethod
    def _check_type(resource: ResourceType, obj: dict[str, Any]) -> None:
        if not isinstance(obj, dict):
            raise ApiError(400, "the request body must be a JSON or YAML object")
        api_version, kind = obj.get("apiVersion"), obj.get("kind")
        if api_version and api_version != resource.group_version:
            raise ApiError(
                400,
                f"the API version in the data ({api_version}) does not match the expected "
                f"API version ({resource.group_version})",
            )
        if kind and kind != resource.kind:
            raise ApiError(
                400, f"the kind in the data ({kind}) does not match the expected kind ({resource.kind})"
            )

    @staticmethod
    def _check_namespace(resource: ResourceType, namespace: str | None, metadata: dict[str, Any]) -> None:
        if not resource.namespaced:
            metadata.pop("namespace", None)
            return
        sent = metadata.get("namespace")
        if sent and sent != namespace:
            raise ApiError(
                400, "the namespace of the provided object does not match the namespace sent on the request"
            )
        metadata["namespace"] = namespace

    def _check_identity(
        self, resource: ResourceType, namespace: str | None, name: str, body: dict[str, Any]
    ) -> None:
        metadata = body.setdefault("metadata", {})
        self._check_namespace(resource, namespace, metadata)
        if metadata.get("name") and metadata["name"] != name:
            raise ApiError(400, "the name of the object does not match the name on the URL")

    @staticmethod
    def _raise_if_invalid(resource: ResourceType, obj: dict[str, Any], causes: list[dict[str, str]]) -> None:
        if causes:
            raise invalid(resource, (obj.get("metadata") or {}).get("name") or "", causes)

    @staticmethod
    def _conflict_error(conflict: ApplyConflict) -> ApiError:
        causes = [
            {
                "reason": "FieldManagerConflict",
                "message": f'conflict with "{manager}" using {version}',
                "field": path,
            }
            for path, manager, version in conflict.conflicts
        ]
        listed = "\n".join(f"- {c['message']}: {c['field']}" for c in causes)
        count = len(causes)
        message = f"Apply failed with {count} conflict{'s' if count > 1 else ''}: {listed}"
        return ApiError(409, message, reason="Conflict", details={"causes": causes})

    def _delete_namespace_contents(self, namespace: str) -> None:
        for resource in RESOURCES:
            if resource.namespaced:
                for obj in self.store.items(resource.plural, namespace):
                    self.store.commit(resource.plural, "DELETED", _copy(obj))


# ---------------------------------------------------------------------------
# Container logs
# ---------------------------------------------------------------------------

LogKey = tuple[str, str, str, bool]  # namespace, pod, container, previous


@dataclass
class _LogStream:
    lines: list[tuple[datetime, str]] = field(default_factory=list)
    ended: bool = False


class LogBook:
    """Log lines per container, fed by tests; followers wait on ``changed``."""

    def __init__(self) -> None:
        self.changed = threading.Condition()
        self._streams: dict[LogKey, _LogStream] = {}

    def append(self, key: LogKey, lines: Iterable[str], at: datetime | None = None) -> None:
        with self.changed:
            stream = self._streams.setdefault(key, _LogStream())
            for text in lines:
                for line in str(text).splitlines() or [""]:
                    stream.lines.append((at or datetime.now(UTC), line))
            self.changed.notify_all()

    def end(self, key: LogKey) -> None:
        with self.changed:
            self._streams.setdefault(key, _LogStream()).ended = True
            self.changed.notify_all()

    def exists(self, key: LogKey) -> bool:
        with self.changed:
            return key in self._streams

    def read(self, key: LogKey, start: int = 0) -> tuple[list[tuple[datetime, str]], bool]:
        with self.changed:
            stream = self._streams.get(key)
            return (stream.lines[start:], stream.ended) if stream else ([], False)


def format_log_line(moment: datetime, text: str, *, timestamps: bool) -> bytes:
    prefix = f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond:06d}000Z " if timestamps else ""
    return f"{prefix}{text}\n".encode()


# ---------------------------------------------------------------------------
# Faults, denials and the request log
# ---------------------------------------------------------------------------


@dataclass
class Fault:
    """Makes matching requests fail: answer ``status``, ``stall`` first, or ``drop`` the connection."""

    method: str | None
    path: re.Pattern[str]
    status: int | None = None
    times: int | None = 1  # None: every matching request
    stall: float = 0.0
    drop: bool = False
    message: str | None = None
    reason: str | None = None
    causes: list[dict[str, str]] | None = None
    retry_after: int | None = None
    hits: int = 0

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method.upper() == method) and bool(self.path.search(path))

    @property
    def exhausted(self) -> bool:
        return self.times is not None and self.hits >= self.times


@dataclass(frozen=True)
class Denial:
    user: str
    verb: str
    resource: str
    namespace: str | None

    def matches(self, user: str, verb: str, resource: str, namespace: str | None) -> bool:
        return (
            self.user in ("*", user)
            and self.verb in ("*", verb)
            and self.resource in ("*", resource)
            and (self.namespace is None or self.namespace == namespace)
        )


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    content_type: str | None
    body: str
    headers: dict[str, str]  # names in Title-Case: "Authorization", "Content-Type"

    def param(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None

    def json(self) -> Any:
        if not self.body:
            return None
        return (
            yaml.safe_load(self.body) if (self.content_type or "").endswith("yaml") else json.loads(self.body)
        )


def _truthy(value: str | None) -> bool:
    return value is not None and value.lower() in ("true", "1")


# ---------------------------------------------------------------------------
# HTTP
# ---------------------------------------------------------------------------


class _ClientGone(Exception):
    """The client closed the connection while we were writing."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive and chunked streams, like the real server
    server_version = "stand-in-apiserver"
    sys_version = ""
    server: _HttpServer

    def setup(self) -> None:
        super().setup()
        # Without this, Nagle's algorithm and delayed ACKs add ~40 ms to every answer.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the request log on ApiServer replaces the stderr access log

    def do_GET(self) -> None:
        self._handle()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    @property
    def api(self) -> ApiServer:
        return self.server.api

    # -- request flow --------------------------------------------------------

    def _handle(self) -> None:
        url = urlsplit(self.path)
        query = parse_qs(url.query, keep_blank_values=True)
        body = self._read_body()
        request = RecordedRequest(
            self.command,
            url.path,
            query,
            self.headers.get("Content-Type"),
            body.decode("utf-8", "replace")[:65536],
            {name.title(): value for name, value in self.headers.items()},
        )
        self.api._record(request)
        try:
            if self._answer_fault(request):
                return
            user = self._authenticate(url.path)
            self._route(request, user)
        except ApiError as error:
            self._send_status(error)
        except _ClientGone:
            self.close_connection = True
        except Exception as error:  # a bug in the stand-in: answer 500, show it in the test output
            traceback.print_exc()
            self._send_status(ApiError(500, f"stand-in server error: {error!r}"))

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _answer_fault(self, request: RecordedRequest) -> bool:
        """Apply an injected fault; True when it answered (or dropped) the request."""
        fault = self.api._take_fault(request.method, request.path)
        if fault is None:
            return False
        if fault.stall:
            self.api._stopping.wait(fault.stall)
        if fault.drop:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return True
        if fault.status:
            self._send_status(self.api._fault_error(fault, request))
            return True
        return False

    def _authenticate(self, path: str) -> str:
        header = self.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() == "bearer" and (user := self.api._user_for(token.strip())):
            return user
        if not header and path in PUBLIC_PATHS:
            return "system:anonymous"
        raise ApiError(401, "Unauthorized")

    def _route(self, request: RecordedRequest, user: str) -> None:
        path = request.path.rstrip("/") or "/"
        document = self.api._discovery(path) if request.method == "GET" else None
        if document is not None:
            self._send_json(200, document)
            return
        target = parse_resource_path(path)
        if target is None:
            raise ApiError(404, "the server could not find the requested resource", details={})
        verb = _verb(request, target)
        self.api._authorize(user, verb, target)
        self._dispatch(request, target, verb)

    def _dispatch(self, request: RecordedRequest, target: Target, verb: str) -> None:
        resources, resource = self.api._resources, target.resource
        namespace, name = target.namespace, target.name
        dry_run = request.param("dryRun") == "All"
        if target.subresource == "log" and resource is PODS and verb == "get":
            self._serve_log(target, request)
        elif target.subresource == "status" and name:
            if verb == "get":
                self._send_json(200, resources.get(resource, namespace, name))
            elif verb in ("update", "patch"):
                body = self._parse_body(request)
                obj = resources.write_status(
                    resource, namespace, name, body, patch=verb == "patch", dry_run=dry_run
                )
                self._send_json(200, obj)
            else:
                raise ApiError(405, f"{request.method} is not supported on the status subresource")
        elif target.subresource:
            raise ApiError(404, "the server could not find the requested resource", details={})
        elif verb == "watch":
            self._serve_watch(target, request)
        elif verb == "list":
            self._send_json(200, self.api._list_document(target, request))
        elif verb == "get":
            self._send_json(200, resources.get(resource, namespace, name))
        else:
            self._write(request, target, verb, dry_run)

    def _write(self, request: RecordedRequest, target: Target, verb: str, dry_run: bool) -> None:
        resources, resource = self.api._resources, target.resource
        namespace, name = target.namespace, target.name
        manager = request.param("fieldManager") or request.headers.get("User-Agent", "unknown").split("/")[0]
        if verb == "create" and name is None:
            obj = resources.create(
                resource, namespace, self._parse_body(request), manager=manager, dry_run=dry_run
            )
            self._send_json(201, obj)
        elif verb == "update" and name:
            obj = resources.replace(
                resource, namespace, name, self._parse_body(request), manager=manager, dry_run=dry_run
            )
            self._send_json(200, obj)
        elif verb == "patch" and name:
            self._patch(request, target, manager, dry_run)
        elif verb == "delete" and name:
            options = self._parse_body(request) if request.body else {}
            uid = ((options or {}).get("preconditions") or {}).get("uid")
            obj = resources.delete(resource, namespace, name, dry_run=dry_run, uid=uid)
            self._send_json(200, obj if resource.kind in ("Pod", "Namespace") else _success(obj, resource))
        else:
            raise ApiError(405, f"{request.method} is not supported on {request.path}")

    def _patch(self, request: RecordedRequest, target: Target, manager: str, dry_run: bool) -> None:
        resources, resource = self.api._resources, target.resource
        content_type = (request.content_type or "").split(";")[0].strip()
        body = self._parse_body(request)
        assert target.name is not None
        if content_type == APPLY_PATCH:
            code, obj = resources.apply(
                resource,
                target.namespace,
                target.name,
                body,
                manager=request.param("fieldManager") or "",
                force=_truthy(request.param("force")),
                dry_run=dry_run,
            )
            self._send_json(code, obj)
        elif content_type in (MERGE_PATCH, STRATEGIC_MERGE_PATCH):
            obj = resources.patch(
                resource, target.namespace, target.name, body, manager=manager, dry_run=dry_run
            )
            self._send_json(200, obj)
        else:
            raise ApiError(415, f"the stand-in server does not support patch type {content_type!r}")

    @staticmethod
    def _parse_body(request: RecordedRequest) -> dict[str, Any]:
        try:
            body = request.json()
        except (ValueError, yaml.YAMLError) as error:
            raise ApiError(400, f"the request body could not be decoded: {error}") from None
        if not isinstance(body, dict):
            raise ApiError(400, "the request body must be a JSON or YAML object")
        return body

    # -- streams -------------------------------------------------------------

    def _serve_watch(self, target: Target, request: RecordedRequest) -> None:
        store = self.api._store
        selection = self.api._selection(target, request)
        timeout = float(request.param("timeoutSeconds") or 1800)
        deadline = time.monotonic() + timeout
        since = request.param("resourceVersion") or "0"
        with store.lock:
            if since == "0":  # "any version": the current state as ADDED events, then changes
                cursor = store.resource_version
                initial = [
                    WatchEvent(cursor, target.resource.plural, "ADDED", obj)
                    for obj in store.items(target.resource.plural, target.namespace)
                ]
            else:
                cursor, initial = int(since), []
        self._start_stream("application/json")
        for event in initial:
            if selection.matches(event.object):
                self._write_chunk(event.line)
        while not self.api._stopping.is_set() and time.monotonic() < deadline:
            with store.changed:
                events = store.events_after(cursor)
                if events == []:
                    store.changed.wait(min(0.25, max(deadline - time.monotonic(), 0.0)))
                    continue
            if events is None:
                self._write_chunk(_expired_event(store.too_old_message(cursor)))
                break
            cursor = events[-1].resource_version
            for event in events:
                if event.plural == target.resource.plural and selection.matches(event.object):
                    self._write_chunk(event.line)
        self._end_stream()

    def _serve_log(self, target: Target, request: RecordedRequest) -> None:
        assert target.name is not None and target.namespace is not None
        pod = self.api._resources.get(PODS, target.namespace, target.name)
        container = _log_container(pod, request.param("container"))
        previous = _truthy(request.param("previous"))
        key: LogKey = (target.namespace, target.name, container, previous)
        logs = self.api._logs
        if previous and not logs.exists(key):
            raise ApiError(
                400, f'previous terminated container "{container}" in pod "{target.name}" not found'
            )
        everything, _ = logs.read(key)
        lines = _select_log_lines(everything, request)
        timestamps = _truthy(request.param("timestamps"))
        payload = b"".join(format_log_line(moment, text, timestamps=timestamps) for moment, text in lines)
        limit = int(request.param("limitBytes") or 0)
        if limit:
            payload = payload[:limit]
        if not _truthy(request.param("follow")):
            self._send(200, payload, "text/plain")
            return
        self._start_stream("text/plain")
        self._write_chunk(payload)
        self._follow_log(key, len(everything), timestamps)
        self._end_stream()

    def _follow_log(self, key: LogKey, position: int, timestamps: bool) -> None:
        logs = self.api._logs
        while not self.api._stopping.is_set():
            with logs.changed:
                lines, ended = logs.read(key, position)
                if not lines and not ended:
                    logs.changed.wait(0.25)
                    continue
            position += len(lines)
            self._write_chunk(b"".join(format_log_line(m, t, timestamps=timestamps) for m, t in lines))
            if ended:
                return

    # -- writing -------------------------------------------------------------

    def _send(
        self, code: int, payload: bytes, content_type: str, headers: dict[str, str] | None = None
    ) -> None:
        try:
            self.send_response(code)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)
        except OSError:
            self.close_connection = True

    def _send_json(self, code: int, document: Any) -> None:
        self._send(code, json.dumps(document).encode(), "application/json")

    def _send_status(self, error: ApiError) -> None:
        self._send(error.code, json.dumps(error.status_body()).encode(), "application/json", error.headers)

    def _start_stream(self, content_type: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Cache-Control", "no-cache, private")
        self.end_headers()

    def _write_chunk(self, data: bytes) -> None:
        if not data:
            return
        try:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        except OSError as error:
            raise _ClientGone from error

    def _end_stream(self) -> None:
        try:
            self.wfile.write(b"0\r\n\r\n")
        except OSError as error:
            raise _ClientGone from error


def _verb(request: RecordedRequest, target: Target) -> str:
    if request.method == "GET":
        if target.name:
            return "get"
        return "watch" if _truthy(request.param("watch")) else "list"
    return {"POST": "create", "PUT": "update", "PATCH": "patch"}.get(
        request.method, "delete" if target.name else "deletecollection"
    )


def _success(obj: dict[str, Any], resource: ResourceType) -> dict[str, Any]:
    metadata = obj["metadata"]
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
        "details": {
            "name": metadata["name"],
            "group": resource.group,
            "kind": resource.plural,
            "uid": metadata.get("uid"),
        },
    }


def _expired_event(message: str) -> bytes:
    status = ApiError(410, message, reason="Expired").status_body()
    return (json.dumps({"type": "ERROR", "object": status}) + "\n").encode()


def _log_container(pod: dict[str, Any], requested: str | None) -> str:
    spec = pod.get("spec") or {}
    name = pod["metadata"]["name"]
    containers = [c.get("name") for c in spec.get("containers") or []]
    init_containers = [c.get("name") for c in spec.get("initContainers") or []]
    if requested:
        if requested in containers or requested in init_containers:
            return requested
        raise ApiError(400, f"container {requested} is not valid for pod {name}")
    if len(containers) == 1:
        return containers[0]
    message = f"a container name must be specified for pod {name}, choose one of: [{' '.join(containers)}]"
    if init_containers:
        message += f" or one of the init containers: [{' '.join(init_containers)}]"
    raise ApiError(400, message)


def _select_log_lines(
    lines: list[tuple[datetime, str]], request: RecordedRequest
) -> list[tuple[datetime, str]]:
    since = request.param("sinceSeconds")
    if since:
        cutoff = datetime.now(UTC) - timedelta(seconds=int(since))
        lines = [line for line in lines if line[0] >= cutoff]
    tail = request.param("tailLines")
    if tail is not None and int(tail) >= 0:
        lines = lines[len(lines) - int(tail) :] if int(tail) else []
    return lines


def tls_available() -> bool:
    """TLS needs the openssl command to make a certificate (no Python dependency for it)."""
    return shutil.which("openssl") is not None


@functools.cache
def self_signed_certificate() -> tuple[Path, Path]:
    """(certificate, key) for 127.0.0.1, made once per test process; the certificate is its own CA."""
    directory = Path(tempfile.mkdtemp(prefix="stand-in-tls-"))
    atexit.register(shutil.rmtree, directory, True)
    certificate, key = directory / "tls.crt", directory / "tls.key"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(certificate),
            "-days",
            "3650",
            "-subj",
            "/CN=stand-in-apiserver",
            "-addext",
            "subjectAltName=IP:127.0.0.1,DNS:localhost",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,digitalSignature,keyCertSign",
            "-addext",
            "extendedKeyUsage=serverAuth",
        ],
        check=True,
        capture_output=True,
    )
    return certificate, key


class _HttpServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, api: ApiServer, tls: bool) -> None:
        self.api = api
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _Handler)
        if tls:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*self_signed_certificate())
            # The handshake happens on first read, in the handler thread, so that a client
            # that never completes it cannot block the accept loop.
            self.socket = context.wrap_socket(self.socket, server_side=True, do_handshake_on_connect=False)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], OSError):
            return  # a client hung up or failed the TLS handshake: normal in tests that stop streams
        super().handle_error(request, client_address)

    def close_connections(self) -> None:
        """Hang up on keep-alive clients so that nothing lingers after stop()."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


# ---------------------------------------------------------------------------
# The server object tests use
# ---------------------------------------------------------------------------


def parse_version(git_version: str) -> tuple[int, int]:
    match = re.match(r"^v(\d+)\.(\d+)", git_version)
    if not match:
        raise ValueError(f"not a Kubernetes version: {git_version!r} (expected e.g. 'v1.33.1')")
    return int(match.group(1)), int(match.group(2))


class ApiServer:
    """The stand-in API server: start(), stop(), and controls for tests.

    Controls (all thread-safe):

    - ``inject(method, path_regex, status=…, times=…, stall=…, drop=…)``: fault injection;
    - ``deny(user, verb, resource, namespace)``: RBAC-like 403 answers;
    - ``add_user(name)``: another bearer token; ``version = "v1.28.4"``: what /version says;
    - ``add_log`` / ``end_log``: container logs; ``set_pod_status``: Pod status (fires watches);
    - ``get`` / ``objects`` / ``put_object`` / ``delete``: read and seed objects directly;
    - ``requests`` / ``requests_matching``: what the server received; ``compact()``: forget
      the watch history so that old resourceVersions get 410 Expired.
    """

    def __init__(
        self,
        *,
        version: str = DEFAULT_VERSION,
        user: str = DEFAULT_USER,
        token: str | None = None,
        namespaces: Iterable[str] = ("default",),
        history_limit: int = 1000,
        request_log_limit: int = 1000,
        tls: bool = False,
    ) -> None:
        self.tls = tls
        self.version = version
        self.user = user
        self.token = token or secrets.token_urlsafe(24)
        self._tokens = {self.token: user}
        self._store = ObjectStore(history_limit)
        self._resources = ResourceApi(self._store, lambda: self.minor_version)
        self._logs = LogBook()
        self._faults: list[Fault] = []
        self._denials: list[Denial] = []
        self._requests: deque[RecordedRequest] = deque(maxlen=request_log_limit)
        self._control_lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd: _HttpServer | None = None
        self._thread: threading.Thread | None = None
        for namespace in namespaces:
            self.ensure_namespace(namespace)

    # -- lifecycle -----------------------------------------------------------

    def start(self) -> ApiServer:
        self._httpd = _HttpServer(self, self.tls)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"stand-in-apiserver-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """End every stream and stall, close every connection, free the port."""
        self._stopping.set()
        with self._store.changed:
            self._store.changed.notify_all()
        with self._logs.changed:
            self._logs.changed.notify_all()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.close_connections()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> ApiServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._httpd is not None, "start() the server first"
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    @property
    def ca_data(self) -> str | None:
        """Base64 of the CA certificate clients must trust (kubeconfig certificate-authority-data)."""
        if not self.tls:
            return None
        return base64.b64encode(self_signed_certificate()[0].read_bytes()).decode()

    # -- identity and version ------------------------------------------------

    @property
    def version(self) -> str:
        return self._version

    @version.setter
    def version(self, git_version: str) -> None:
        parse_version(git_version)
        self._version = git_version

    @property
    def minor_version(self) -> int:
        return parse_version(self._version)[1]

    def add_user(self, user: str, token: str | None = None) -> str:
        """Accept another bearer token, authenticating as ``user``; returns the token."""
        token = token or secrets.token_urlsafe(24)
        with self._control_lock:
            self._tokens[token] = user
        return token

    def deny(
        self, user: str = "*", verb: str = "*", resource: str = "*", namespace: str | None = None
    ) -> None:
        """Answer 403 like RBAC would, e.g. ``deny("team-a-user", "list", "namespaces")``.

        ``resource`` is a plural, or ``pods/log`` for a subresource; ``namespace`` None = any.
        """
        with self._control_lock:
            self._denials.append(Denial(user, verb, resource, namespace))

    # -- faults --------------------------------------------------------------

    def inject(
        self,
        method: str | None,
        path: str,
        *,
        status: int | None = None,
        times: int | None = 1,
        stall: float = 0.0,
        drop: bool = False,
        message: str | None = None,
        reason: str | None = None,
        causes: list[dict[str, str]] | None = None,
        retry_after: int | None = None,
    ) -> Fault:
        """Make the next ``times`` requests matching ``method`` (None = any) and the regex
        ``path`` (searched in the URL path) fail. ``stall`` waits that many seconds first;
        then ``drop`` hangs up without answering, ``status`` answers with a realistic Status
        body (``message``/``reason``/``causes`` override it), or, with neither, the request
        is served normally after the stall. Returns the Fault (``.hits`` counts uses)."""
        fault = Fault(
            method, re.compile(path), status, times, stall, drop, message, reason, causes, retry_after
        )
        with self._control_lock:
            self._faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        with self._control_lock:
            self._faults.clear()

    # -- requests received ---------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._control_lock:
            return list(self._requests)

    def requests_matching(self, method: str | None = None, path: str = "") -> list[RecordedRequest]:
        pattern = re.compile(path)
        return [r for r in self.requests if (method is None or r.method == method) and pattern.search(r.path)]

    def clear_requests(self) -> None:
        with self._control_lock:
            self._requests.clear()

    # -- objects -------------------------------------------------------------

    @property
    def resource_version(self) -> int:
        return self._store.resource_version

    def get(self, resource: str, namespace: str | None, name: str) -> dict[str, Any] | None:
        """A copy of a stored object (resource is a plural: "pods", "deployments"…), or None."""
        return _copy(self._store.get(resource, namespace, name))

    def objects(self, resource: str, namespace: str | None = None) -> list[dict[str, Any]]:
        return _copy(self._store.items(resource, namespace))

    def ensure_namespace(self, name: str) -> None:
        with self._store.lock:
            if self._store.get("namespaces", None, name) is None:
                self._resources.create(
                    NAMESPACES, None, {"metadata": {"name": name}}, manager=STAND_IN_MANAGER
                )

    def put_object(self, obj: dict[str, Any]) -> dict[str, Any]:
        """Create (or replace) an object directly, keeping any ``status`` it carries."""
        resource = resource_for(obj["apiVersion"], obj["kind"])
        metadata = obj.get("metadata") or {}
        namespace = (metadata.get("namespace") or "default") if resource.namespaced else None
        with self._store.lock:
            if self._store.get(resource.plural, namespace, metadata["name"]) is None:
                stored = self._resources.create(
                    resource, namespace, obj, manager=STAND_IN_MANAGER, keep_status=True
                )
                return _copy(stored)
            self._resources.replace(resource, namespace, metadata["name"], obj, manager=STAND_IN_MANAGER)
            if "status" in obj:
                self._resources.write_status(resource, namespace, metadata["name"], obj, patch=False)
            return self.get(resource.plural, namespace, metadata["name"]) or {}

    def set_status(
        self, resource: str, namespace: str | None, name: str, status: dict[str, Any], *, merge: bool = False
    ) -> dict[str, Any]:
        """Write .status (replace, or JSON-merge with ``merge=True``); watchers see MODIFIED."""
        obj = self._resources.write_status(
            RESOURCES_BY_PLURAL[resource], namespace, name, {"status": status}, patch=merge
        )
        return _copy(obj)

    def set_pod_status(
        self, namespace: str, name: str, status: dict[str, Any], *, merge: bool = False
    ) -> dict[str, Any]:
        return self.set_status("pods", namespace, name, status, merge=merge)

    def delete(self, resource: str, namespace: str | None, name: str) -> None:
        self._resources.delete(RESOURCES_BY_PLURAL[resource], namespace, name)

    def compact(self) -> None:
        """Forget the watch history: watches from an older resourceVersion get 410 Expired."""
        self._store.compact()

    # -- logs ----------------------------------------------------------------

    def add_log(
        self,
        namespace: str,
        pod: str,
        container: str,
        *lines: str,
        previous: bool = False,
        at: datetime | None = None,
    ) -> None:
        """Append lines to a container's log (``previous=True``: the last terminated instance)."""
        self._logs.append((namespace, pod, container, previous), lines, at)

    def end_log(self, namespace: str, pod: str, container: str, *, previous: bool = False) -> None:
        """The container stopped: followers get the rest and their stream ends."""
        self._logs.end((namespace, pod, container, previous))

    # -- used by the request handler -----------------------------------------

    def _record(self, request: RecordedRequest) -> None:
        with self._control_lock:
            self._requests.append(request)

    def _take_fault(self, method: str, path: str) -> Fault | None:
        with self._control_lock:
            for fault in self._faults:
                if fault.matches(method, path) and not fault.exhausted:
                    fault.hits += 1
                    return fault
        return None

    def _user_for(self, token: str) -> str | None:
        with self._control_lock:
            return self._tokens.get(token)

    def _authorize(self, user: str, verb: str, target: Target) -> None:
        resource = target.resource.plural + (f"/{target.subresource}" if target.subresource else "")
        with self._control_lock:
            denied = any(d.matches(user, verb, resource, target.namespace) for d in self._denials)
        if denied:
            raise forbidden(user, verb, target.resource, target.namespace, target.name, target.subresource)

    def _fault_error(self, fault: Fault, request: RecordedRequest) -> ApiError:
        error = self._default_fault_error(fault.status or 500, request)
        if fault.message:
            error.message = fault.message
        if fault.reason:
            error.reason = fault.reason
        if fault.causes is not None:
            error.details = {**(error.details or {}), "causes": fault.causes}
        return error

    def _default_fault_error(self, code: int, request: RecordedRequest) -> ApiError:
        """A Status body like the one a real server sends for this request and code."""
        target = parse_resource_path(request.path)
        header = request.headers.get("Authorization", "")
        user = self._user_for(header.partition(" ")[2].strip()) or "system:anonymous"
        name = (target.name if target else None) or "stand-in"
        if code == 403 and target is not None:
            return forbidden(
                user,
                _verb(request, target),
                target.resource,
                target.namespace,
                target.name,
                target.subresource,
            )
        if code == 404 and target is not None:
            return not_found(target.resource, name)
        if code == 409 and target is not None:
            return modified_conflict(target.resource, name)
        if code == 422 and target is not None:
            return invalid(target.resource, name, [invalid_value("spec", None, "stand-in fault")])
        if code == 429:
            return ApiError(
                429,
                "Too many requests, please try again later.",
                details={"causes": [], "retryAfterSeconds": 1},
                headers={"Retry-After": "1"},
            )
        if code == 401:
            return ApiError(401, "Unauthorized")
        return ApiError(
            code,
            f"Internal error occurred: injected fault ({code})"
            if code >= 500
            else f"injected fault ({code})",
        )

    def _selection(self, target: Target, request: RecordedRequest) -> Selection:
        return Selection(
            target.namespace,
            parse_selector(request.param("labelSelector")),
            parse_selector(request.param("fieldSelector")),
        )

    def _list_document(self, target: Target, request: RecordedRequest) -> dict[str, Any]:
        selection = self._selection(target, request)
        with self._store.lock:
            items = [
                obj
                for obj in self._store.items(target.resource.plural, target.namespace)
                if selection.matches(obj)
            ]
            version = self._store.resource_version
        resource = target.resource
        return {
            "kind": f"{resource.kind}List",
            "apiVersion": resource.group_version,
            "metadata": {"resourceVersion": str(version)},
            "items": items,
        }

    def _discovery(self, path: str) -> dict[str, Any] | None:
        if path == "/version":
            return self._version_document()
        if path in ("/healthz", "/livez", "/readyz"):
            return None
        if path == "/api":
            return {
                "kind": "APIVersions",
                "versions": ["v1"],
                "serverAddressByClientCIDRs": [
                    {"clientCIDR": "0.0.0.0/0", "serverAddress": f"127.0.0.1:{self.port}"}
                ],
            }
        if path == "/apis":
            return {"kind": "APIGroupList", "apiVersion": "v1", "groups": [_group_document("apps")]}
        if path == "/apis/apps":
            return {"kind": "APIGroup", "apiVersion": "v1", **_group_document("apps")}
        if path == "/api/v1":
            return _resource_list("", "v1")
        if path == "/apis/apps/v1":
            return _resource_list("apps", "v1")
        return None

    def _version_document(self) -> dict[str, str]:
        major, minor = parse_version(self._version)
        return {
            "major": str(major),
            "minor": str(minor),
            "gitVersion": self._version,
            "gitCommit": "0" * 40,
            "gitTreeState": "clean",
            "buildDate": "2025-01-01T00:00:00Z",
            "goVersion": "go1.24.0",
            "compiler": "gc",
            "platform": "linux/amd64",
        }


def _group_document(group: str) -> dict[str, Any]:
    version = {"groupVersion": f"{group}/v1", "version": "v1"}
    return {"name": group, "versions": [version], "preferredVersion": version}


def _resource_list(group: str, version: str) -> dict[str, Any]:
    resources: list[dict[str, Any]] = []
    for rt in RESOURCES:
        if (rt.group, rt.version) != (group, version):
            continue
        entry = {
            "name": rt.plural,
            "singularName": rt.kind.lower(),
            "namespaced": rt.namespaced,
            "kind": rt.kind,
            "verbs": _VERBS,
        }
        if rt.short_names:
            entry["shortNames"] = list(rt.short_names)
        resources.append(entry)
        if rt.status_subresource:
            resources.append(
                {
                    "name": f"{rt.plural}/status",
                    "singularName": "",
                    "namespaced": rt.namespaced,
                    "kind": rt.kind,
                    "verbs": ["get", "patch", "update"],
                }
            )
        if rt is PODS:
            resources.append(
                {"name": "pods/log", "singularName": "", "namespaced": True, "kind": "Pod", "verbs": ["get"]}
            )
    group_version = f"{group}/{version}" if group else version
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": group_version,
        "resources": resources,
    }


def iter_stream_lines(response: Any) -> Iterator[str]:
    """Lines of a streamed (``_preload_content=False``) response, as they arrive."""
    buffer = b""
    for chunk in response.stream(1024, decode_content=False):
        buffer += chunk
        while b"\n" in buffer:
            line, buffer = buffer.split(b"\n", 1)
            yield line.decode()
    if buffer:
        yield buffer.decode()
