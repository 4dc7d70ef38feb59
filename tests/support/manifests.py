"""Manifests the cluster tests deploy or create: plain dicts, as Pod Studio renders them.

- ``container(name, image="", **fields)``: image ``registry.example/<name>:1`` unless given.
- ``pod(name, containers=…, init=…, labels=…, annotations=…, **spec)``: label ``app: <name>``,
  one container ``app`` unless given; ``init`` are the init containers (native sidecars
  included); empty lists and maps are left out, as a person writing the manifest would.
- ``deployment(name, replicas=1, …)``: the same Pod as its template, selected by ``app: <name>``.
- ``config_map``, ``service``, ``secret``.
"""

from __future__ import annotations

import base64
from typing import Any


def container(name: str, image: str = "", **fields: Any) -> dict[str, Any]:
    return {"name": name, "image": image or f"registry.example/{name}:1", **fields}


def pod(
    name: str = "web",
    *,
    containers: list[dict[str, Any]] | None = None,
    init: tuple[dict[str, Any], ...] | list[dict[str, Any]] = (),
    labels: dict[str, str] | None = None,
    annotations: dict[str, str] | None = None,
    **spec: Any,
) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name, "labels": {"app": name, **(labels or {})}}
    if annotations:
        metadata["annotations"] = dict(annotations)
    pod_spec: dict[str, Any] = {"containers": containers or [container("app")], **spec}
    if init:
        pod_spec["initContainers"] = list(init)
    return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": pod_spec}


def deployment(name: str = "web", *, replicas: int = 1, **template: Any) -> dict[str, Any]:
    """``template``: pod()'s keywords (containers, init, labels, annotations, spec fields)."""
    pod_template = pod(name, **template)
    del pod_template["apiVersion"], pod_template["kind"], pod_template["metadata"]["name"]
    selector = {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": dict(selector)},
        "spec": {"replicas": replicas, "selector": {"matchLabels": selector}, "template": pod_template},
    }


def config_map(name: str = "web-config", **data: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": data or {"mode": "fast"}}


def service(name: str = "web") -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name},
        "spec": {"selector": {"app": name}, "ports": [{"name": "http", "port": 80, "targetPort": 8080}]},
    }


def secret(name: str = "tls", **values: str) -> dict[str, Any]:
    data = {key: base64.b64encode(value.encode()).decode() for key, value in values.items()}
    return {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name}, "type": "Opaque", "data": data}
