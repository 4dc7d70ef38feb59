"""Composition -> Kubernetes manifests (ConfigMaps, Service, then the workload: a Pod, Deployment, Job …).

Deterministic: the same composition always renders the same manifests, so previews,
diffs and the import round-trip are stable.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from composer.domain.kinds import KINDS
from composer.domain.model import Composition, Helper
from composer.domain.patterns import CATALOG, Pattern
from composer.domain.patterns.base import BuildContext, Contribution, Role


class Placement(StrEnum):
    INIT = "init"  # regular init container: runs to completion, in order
    NATIVE_SIDECAR = "native-sidecar"  # init container with restartPolicy: Always
    CONTAINER = "container"  # beside the app


@dataclass
class PlacedHelper:
    helper: Helper
    pattern: Pattern
    role: str
    params: dict[str, Any]
    param_errors: dict[str, str]
    contribution: Contribution
    placement: Placement
    # The container as the pattern makes it from the params, before the helper's overrides.
    pattern_container: dict[str, Any] = field(default_factory=dict)

    @property
    def container(self) -> dict[str, Any]:
        return self.contribution.container

    @property
    def container_name(self) -> str:
        return self.contribution.container.get("name", "")


@dataclass
class Rendering:
    composition: Composition
    helpers: list[PlacedHelper]
    unknown_helpers: list[Helper]
    pod_spec: dict[str, Any]
    manifests: list[dict[str, Any]] = field(default_factory=list)

    @property
    def workload(self) -> dict[str, Any]:
        return self.manifests[-1]

    def init_containers(self) -> list[dict[str, Any]]:
        return self.pod_spec.get("initContainers", [])

    def containers(self) -> list[dict[str, Any]]:
        return self.pod_spec.get("containers", [])

    def all_containers(self) -> Iterator[tuple[str, int, dict[str, Any]]]:
        """(list name, index, container): the init containers, then the others."""
        for index, container in enumerate(self.init_containers()):
            yield "initContainers", index, container
        for index, container in enumerate(self.containers()):
            yield "containers", index, container

    def running_containers(self) -> Iterator[tuple[str, int, dict[str, Any]]]:
        """The containers that run together on the Pod's network: native sidecars and the others (a regular
        init container has exited before they start)."""
        for list_name, index, container in self.all_containers():
            if list_name == "containers" or container.get("restartPolicy") == "Always":
                yield list_name, index, container


def render(composition: Composition) -> list[dict[str, Any]]:
    return build(composition).manifests


def effective_role(pattern: Pattern, params: dict[str, Any]) -> str:
    if pattern.role == Role.CUSTOM:
        return str(params.get("role", "sidecar"))
    return str(pattern.role)


def place_helper(helper: Helper, pattern: Pattern, composition: Composition) -> PlacedHelper:
    params, errors = pattern.clean_params(helper.params)
    context = BuildContext(helper, params, composition.app, composition.workload.name)
    contribution = pattern.build(context)
    own = contribution.container
    contribution.container = with_overrides(own, helper.overrides)
    role = effective_role(pattern, params)
    if contribution.init:
        placement = Placement.INIT
    elif helper.native_sidecar:
        placement = Placement.NATIVE_SIDECAR
    else:
        placement = Placement.CONTAINER
    return PlacedHelper(helper, pattern, role, params, errors, contribution, placement, own)


def with_overrides(container: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """The pattern's container with the helper's own fields: a value replaces the field, None removes it."""
    if not overrides:
        return container
    merged = {**container, **copy.deepcopy(overrides)}
    return {key: value for key, value in merged.items() if value is not None}


def build(composition: Composition) -> Rendering:
    placed, unknown = [], []
    for helper in composition.helpers:
        pattern = CATALOG.get(helper.pattern)
        if pattern is None:
            unknown.append(helper)
        else:
            placed.append(place_helper(helper, pattern, composition))
    pod_spec = _pod_spec(composition, placed)
    rendering = Rendering(composition, placed, unknown, pod_spec)
    rendering.manifests = [*_companion_objects(composition, placed), _workload(composition, placed, pod_spec)]
    return rendering


def _pod_spec(composition: Composition, placed: list[PlacedHelper]) -> dict[str, Any]:
    options = composition.options
    spec: dict[str, Any] = {}
    if options.share_process_namespace:
        spec["shareProcessNamespace"] = True
    if options.termination_grace_period_seconds is not None:
        spec["terminationGracePeriodSeconds"] = options.termination_grace_period_seconds
    init_containers = []
    for item in placed:
        if item.placement == Placement.INIT:
            init_containers.append(copy.deepcopy(item.container))
        elif item.placement == Placement.NATIVE_SIDECAR:
            init_containers.append({**copy.deepcopy(item.container), "restartPolicy": "Always"})
    if init_containers:
        spec["initContainers"] = init_containers
    beside = [copy.deepcopy(item.container) for item in placed if item.placement == Placement.CONTAINER]
    spec["containers"] = [_app_container(composition, placed), *beside]
    volumes = _unique_by_name([v for item in placed for v in item.contribution.volumes] + options.volumes)
    # A volume the composition lists keeps its place (an import keeps the Pod's order); helpers' own come first.
    listed = [volume.get("name") for volume in options.volumes]
    volumes.sort(key=lambda volume: listed.index(volume["name"]) if volume.get("name") in listed else -1)
    if volumes:
        spec["volumes"] = volumes
    for key, value in options.extra.items():
        spec.setdefault(key, copy.deepcopy(value))
    return spec


def _app_container(composition: Composition, placed: list[PlacedHelper]) -> dict[str, Any]:
    app = composition.app
    container: dict[str, Any] = {"name": app.name, "image": app.image}
    command = list(app.command)
    for item in placed:
        if item.contribution.app_command:
            command = list(item.contribution.app_command)
    if command:
        container["command"] = command
    if app.args:
        container["args"] = list(app.args)
    env = _merge_unique(app.env, [e for item in placed for e in item.contribution.app_env], key="name")
    if env:
        container["env"] = env
    if app.ports:
        container["ports"] = copy.deepcopy(app.ports)
    mounts = _merge_unique(
        app.volume_mounts, [m for item in placed for m in item.contribution.app_mounts], key="mountPath"
    )
    if mounts:
        container["volumeMounts"] = mounts
    if app.resources:
        container["resources"] = copy.deepcopy(app.resources)
    for key, value in app.extra.items():
        container.setdefault(key, copy.deepcopy(value))
    return container


def _merge_unique(own: list[dict], derived: list[dict], key: str) -> list[dict]:
    """The app's own entries first; a derived entry is added unless one with the same key exists."""
    merged = [copy.deepcopy(item) for item in own]
    seen = {item.get(key) for item in merged if item.get(key)}
    for item in derived:
        if not item.get(key) or item.get(key) not in seen:
            merged.append(copy.deepcopy(item))
            seen.add(item.get(key))
    return merged


def _unique_by_name(items: list[dict]) -> list[dict]:
    unique: dict[str, dict] = {}
    for item in items:
        unique.setdefault(item.get("name", ""), copy.deepcopy(item))
    return list(unique.values())


def _pod_metadata(composition: Composition) -> dict[str, Any]:
    workload = composition.workload
    metadata: dict[str, Any] = {}
    if workload.labels:
        metadata["labels"] = dict(workload.labels)
    if workload.annotations:
        metadata["annotations"] = dict(workload.annotations)
    return metadata


def _workload(composition: Composition, placed: list[PlacedHelper], pod_spec: dict[str, Any]) -> dict[str, Any]:
    workload = composition.workload
    pod_metadata = _pod_metadata(composition)
    if KINDS[workload.kind].is_pod:
        own = {"name": workload.name, **_namespace(composition), **pod_metadata}
        return {"apiVersion": "v1", "kind": "Pod", "metadata": own, "spec": pod_spec}
    kind = KINDS[workload.kind]
    metadata: dict[str, Any] = {"name": workload.name, **_namespace(composition)}
    own_labels = workload.effective_own_labels()
    if own_labels:
        metadata["labels"] = own_labels
    if workload.own_annotations:
        metadata["annotations"] = dict(workload.own_annotations)
    spec: dict[str, Any] = {}
    if kind.replicated and workload.replicas is not None:
        spec["replicas"] = workload.replicas
    selector = workload.effective_selector()
    if selector is not None:
        spec["selector"] = selector
    template = {"metadata": pod_metadata, "spec": pod_spec}
    *holders, last = kind.template_path
    if not holders:  # the template right after the selector, as kubectl and the docs write it
        spec[last] = template
    for key, value in workload.extra.items():
        spec.setdefault(key, copy.deepcopy(value))
    holder = spec
    for part in holders:  # a CronJob's template is inside its jobTemplate
        holder = holder.setdefault(part, {})
    holder[last] = template
    return {"apiVersion": kind.api_version, "kind": kind.name, "metadata": metadata, "spec": spec}


def _namespace(composition: Composition) -> dict[str, str]:
    return {"namespace": composition.workload.namespace} if composition.workload.namespace else {}


def _companion_objects(composition: Composition, placed: list[PlacedHelper]) -> list[dict[str, Any]]:
    objects: dict[tuple[str, str], dict[str, Any]] = {}
    # Objects that came with an import win over generated ones of the same name: nothing the user wrote is lost.
    for extra in composition.extra_objects:
        objects[(extra.get("kind", ""), extra.get("metadata", {}).get("name", ""))] = copy.deepcopy(extra)
    for item in placed:
        for generated in item.contribution.config_maps:
            key = ("ConfigMap", generated["metadata"]["name"])
            objects.setdefault(key, _with_namespace(composition, generated))
    ordered = sorted(objects.values(), key=lambda o: (o.get("kind", ""), o.get("metadata", {}).get("name", "")))
    service = _service(composition, placed)
    return [*ordered, service] if service else ordered


def _with_namespace(composition: Composition, manifest: dict[str, Any]) -> dict[str, Any]:
    manifest = copy.deepcopy(manifest)
    manifest["metadata"] = {"name": manifest["metadata"]["name"], **_namespace(composition)}
    return manifest


def service_name(composition: Composition) -> str:
    return composition.options.service.name or composition.workload.name


def _service(composition: Composition, placed: list[PlacedHelper]) -> dict[str, Any] | None:
    service = composition.options.service
    if not service.enabled:
        return None
    ports = _merge_unique(service.ports, [p for item in placed for p in item.contribution.service_ports], key="name")
    selector = composition.workload.labels if service.selector is None else service.selector
    spec: dict[str, Any] = {"type": service.type, "selector": dict(selector), "ports": ports}
    for key, value in service.extra.items():
        spec.setdefault(key, copy.deepcopy(value))
    metadata: dict[str, Any] = {"name": service_name(composition), **_namespace(composition)}
    if service.labels:
        metadata["labels"] = dict(service.labels)
    if service.annotations:
        metadata["annotations"] = dict(service.annotations)
    return {"apiVersion": "v1", "kind": "Service", "metadata": metadata, "spec": spec}
