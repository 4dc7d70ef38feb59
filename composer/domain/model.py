"""The composition: what a user builds, independent of how it is stored or deployed.

A composition is the workload settings, the app container, an ordered list of
helpers and the Pod options. Everything a helper adds to the Pod (containers,
volumes, mounts and env on the app, ConfigMaps, Service ports) is derived from
`(pattern, params)` by `render()`, never stored, so edits re-derive consistently.
"""

from __future__ import annotations

import copy
import re
from dataclasses import asdict, dataclass, field
from typing import Any

from composer.domain.characters import composition_character_problems
from composer.domain.kinds import KINDS, WORKLOAD_KINDS, Kind, get_path
from composer.domain.names import (
    LABEL_RULE,
    MAX_LABEL,
    annotation_keys_problems,
    dns_label_problem,
    dns_subdomain_problem,
    labels_problems,
    metadata_problems,
    object_name_problem,
)
from composer.domain.shapes import MAX_CONTAINERS, container_problems, service_port_problems

SERVICE_TYPES = ("ClusterIP", "NodePort", "LoadBalancer")
SELECTOR_OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")
# Helper ids end up in URLs and element ids.
HELPER_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,30}$")


class CompositionError(ValueError):
    """Input that cannot become a composition; `errors` maps a field path to a message."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("; ".join(f"{path}: {message}" for path, message in errors.items()))


@dataclass
class Workload:
    kind: str = "Pod"
    name: str = "my-app"
    namespace: str = ""
    # The Pod's labels and annotations (a controller's Pod template's).
    labels: dict[str, str] = field(default_factory=lambda: {"app": "my-app"})
    # None: not written, the API server's default of 1 (or an autoscaler's choice).
    replicas: int | None = 1
    annotations: dict[str, str] = field(default_factory=dict)
    # A controller's own metadata.labels; None: the Pod's labels (as compositions made before had it).
    own_labels: dict[str, str] | None = None
    own_annotations: dict[str, str] = field(default_factory=dict)
    # A controller's spec.selector as written (matchLabels, matchExpressions); None: the Pod's labels where
    # the kind needs a selector, else none (the server generates a Job's).
    selector: dict[str, Any] | None = None
    # The kind's other spec fields (strategy, serviceName, schedule, a CronJob's jobTemplate without its
    # template …), kept verbatim.
    extra: dict[str, Any] = field(default_factory=dict)

    def effective_own_labels(self) -> dict[str, str]:
        return dict(self.labels if self.own_labels is None else self.own_labels)

    def effective_selector(self) -> dict[str, Any] | None:
        if self.selector is not None:
            return copy.deepcopy(self.selector)
        return {"matchLabels": dict(self.labels)} if KINDS[self.kind].needs_selector else None


@dataclass
class AppContainer:
    name: str = "app"
    image: str = "nginx:1.27"
    command: list[str] = field(default_factory=list)
    args: list[str] = field(default_factory=list)
    env: list[dict[str, Any]] = field(default_factory=list)
    ports: list[dict[str, Any]] = field(default_factory=list)
    volume_mounts: list[dict[str, Any]] = field(default_factory=list)
    resources: dict[str, Any] = field(default_factory=dict)
    # Any other container fields (probes, securityContext, workingDir …), kept verbatim.
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Helper:
    id: str
    pattern: str
    params: dict[str, Any] = field(default_factory=dict)
    # Sidecar-like helpers may run as an init container with restartPolicy: Always (k8s >= 1.29).
    native_sidecar: bool = False
    # What the real container says that the pattern does not produce, top-level field by field
    # (None: the field is left out), so that an imported helper renders exactly as found.
    overrides: dict[str, Any] = field(default_factory=dict)


@dataclass
class ServiceExposure:
    enabled: bool = False
    type: str = "ClusterIP"
    # Ports the user declares; helpers may add their own at render time.
    ports: list[dict[str, Any]] = field(default_factory=list)
    # "": the workload's name.
    name: str = ""
    # spec.selector as written; None: the Pod's labels.
    selector: dict[str, str] | None = None
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    # Other spec fields (clusterIP, sessionAffinity, externalTrafficPolicy …), kept verbatim.
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class PodOptions:
    share_process_namespace: bool = False
    termination_grace_period_seconds: int | None = None
    service: ServiceExposure = field(default_factory=ServiceExposure)
    # Volumes the user (or an import) declares beyond those the helpers derive.
    volumes: list[dict[str, Any]] = field(default_factory=list)
    # Any other Pod spec fields from an import (nodeSelector, tolerations …), kept verbatim.
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Composition:
    workload: Workload = field(default_factory=Workload)
    app: AppContainer = field(default_factory=AppContainer)
    helpers: list[Helper] = field(default_factory=list)
    options: PodOptions = field(default_factory=PodOptions)
    # ConfigMaps and Secrets that came with an import and no helper generates.
    extra_objects: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return copy.deepcopy(asdict(self))

    @classmethod
    def from_dict(cls, data: Any) -> Composition:
        return _parse_composition(data)

    def helper(self, helper_id: str) -> Helper:
        for helper in self.helpers:
            if helper.id == helper_id:
                return helper
        raise KeyError(helper_id)

    def next_helper_id(self) -> str:
        taken = {h.id for h in self.helpers}
        number = len(self.helpers) + 1
        while f"h{number}" in taken:
            number += 1
        return f"h{number}"


def _parse_composition(data: Any) -> Composition:
    errors: dict[str, str] = {}
    if not isinstance(data, dict):
        raise CompositionError({"": "a composition is a JSON object"})
    _reject_unknown(data, {"workload", "app", "helpers", "options", "extra_objects"}, "", errors)
    workload = _parse_workload(data.get("workload", {}), errors)
    app = _parse_app(data.get("app", {}), errors)
    helpers = _parse_helpers(data.get("helpers", []), errors)
    options = _parse_options(data.get("options", {}), errors)
    extra_objects = _list_of_dicts(data.get("extra_objects", []), "extra_objects", errors)
    for index, extra in enumerate(extra_objects):
        errors.update(extra_object_problems(extra, f"extra_objects[{index}]"))
    errors.update(composition_character_problems(data))  # NUL anywhere, control characters in names
    if errors:
        raise CompositionError(errors)
    return Composition(workload, app, helpers, options, extra_objects)


NAME_IS_A_PARAM = "the container name is a parameter, not an override"
SECRET_REFUSAL = (
    "Pod Studio never stores Secrets: create it in the cluster instead (kubectl create secret generic NAME "
    "--from-literal=KEY=VALUE -n NAMESPACE) and refer to it by name (a Secret volume or env valueFrom)"
)
# Kinds a composition may carry beside its workload; everything else has no place in a Pod's companions.
EXTRA_OBJECT_KINDS = {"ConfigMap": "v1", "Service": "v1"}


def extra_object_problems(extra: dict[str, Any], where: str) -> dict[str, str]:
    """A companion object: a ConfigMap or Service (never a Secret) with names the API server accepts."""
    kind = extra.get("kind")
    if kind == "Secret":
        return {f"{where}.kind": SECRET_REFUSAL}
    if kind not in EXTRA_OBJECT_KINDS:
        return {f"{where}.kind": f"must be one of {', '.join(EXTRA_OBJECT_KINDS)} (found {kind!r})"}
    if extra.get("apiVersion", "v1") != EXTRA_OBJECT_KINDS[kind]:
        return {f"{where}.apiVersion": f"a {kind} has apiVersion {EXTRA_OBJECT_KINDS[kind]}"}
    return metadata_problems(kind, extra.get("metadata"), where)


def _reject_unknown(data: dict, allowed: set[str], prefix: str, errors: dict[str, str]) -> None:
    for key in data:
        if key not in allowed:
            errors[f"{prefix}{key}"] = f"unknown field (expected one of: {', '.join(sorted(allowed))})"


def _parse_workload(data: Any, errors: dict[str, str]) -> Workload:
    defaults = Workload()
    if not isinstance(data, dict):
        errors["workload"] = "must be an object"
        return defaults
    allowed = {"kind", "name", "namespace", "labels", "replicas", "annotations", "own_labels", "own_annotations",
               "selector", "extra"}
    _reject_unknown(data, allowed, "workload.", errors)
    kind = data.get("kind", defaults.kind)
    if kind not in WORKLOAD_KINDS:
        errors["workload.kind"] = f"must be one of {', '.join(WORKLOAD_KINDS)}"
    name = _dns_name(data.get("name", defaults.name), "workload.name", errors, subdomain=True)
    namespace = data.get("namespace", "")
    if namespace:
        _dns_name(namespace, "workload.namespace", errors)
    labels = _labels(data.get("labels", defaults.labels), "workload.labels", errors)
    replicas = data.get("replicas", 1)
    if replicas is not None:
        replicas = _int(replicas, "workload.replicas", errors, minimum=0, maximum=1000)
    annotations = _annotations(data.get("annotations", {}), "workload.annotations", errors)
    own_labels = data.get("own_labels")
    if own_labels is not None:
        own_labels = _labels(own_labels, "workload.own_labels", errors)
    own_annotations = _annotations(data.get("own_annotations", {}), "workload.own_annotations", errors)
    selector = data.get("selector")
    if selector is not None:
        selector = _label_selector(selector, "workload.selector", errors)
    extra = _dict(data.get("extra", {}), "workload.extra", errors)
    if isinstance(kind, str) and kind in KINDS:
        _check_kind_fields(KINDS[kind], extra, errors)
    return Workload(kind, name, namespace, labels, replicas, annotations, own_labels, own_annotations, selector, extra)


def _check_kind_fields(kind: Kind, extra: dict[str, Any], errors: dict[str, str]) -> None:
    """The key fields of the kind with the values the API server accepts; no second Pod template."""
    for key_field in kind.key_fields:
        value = get_path(extra, key_field.path)
        path = f"workload.extra.{key_field.path}"
        if value is None:
            continue
        if key_field.number and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
            errors[path] = "a whole number of at least 0"
        elif key_field.choices and value not in key_field.choices:
            errors[path] = f"must be one of {', '.join(key_field.choices)}"
        elif not key_field.number and not isinstance(value, str):
            errors[path] = "must be text"
    holder: Any = extra
    for depth, part in enumerate(kind.template_path[:-1]):
        holder = holder.get(part, {})
        if not isinstance(holder, dict):
            errors[f"workload.extra.{'.'.join(kind.template_path[:depth + 1])}"] = "must be an object"
            return
    if kind.template_path and get_path(extra, ".".join(kind.template_path)) is not None:
        errors[f"workload.extra.{'.'.join(kind.template_path)}"] = "the Pod template is the composition itself"
    for name in ("replicas", "selector"):
        if name in extra:
            errors[f"workload.extra.{name}"] = f"{name} is a field of the workload, not an extra"


def _label_selector(data: Any, path: str, errors: dict[str, str]) -> dict[str, Any]:
    """A LabelSelector as the API server accepts it: matchLabels and matchExpressions."""
    if not isinstance(data, dict):
        errors[path] = "must be an object with matchLabels and/or matchExpressions"
        return {}
    _reject_unknown(data, {"matchLabels", "matchExpressions"}, f"{path}.", errors)
    selector = copy.deepcopy(data)
    if "matchLabels" in data:
        selector["matchLabels"] = _labels(data["matchLabels"], f"{path}.matchLabels", errors)
    for index, expression in enumerate(_list_of_dicts(data.get("matchExpressions", []), f"{path}.matchExpressions",
                                                      errors)):
        where = f"{path}.matchExpressions[{index}]"
        values = expression.get("values", [])
        if not isinstance(expression.get("key"), str) or expression.get("operator") not in SELECTOR_OPERATORS:
            errors[where] = f"needs a key and an operator ({', '.join(SELECTOR_OPERATORS)})"
        elif not isinstance(values, list) or not all(isinstance(value, str) for value in values):
            errors[f"{where}.values"] = "must be a list of strings"
    return selector


def _parse_app(data: Any, errors: dict[str, str]) -> AppContainer:
    defaults = AppContainer()
    if not isinstance(data, dict):
        errors["app"] = "must be an object"
        return defaults
    allowed = {"name", "image", "command", "args", "env", "ports", "volume_mounts", "resources", "extra"}
    _reject_unknown(data, allowed, "app.", errors)
    name = _dns_name(data.get("name", defaults.name), "app.name", errors)
    image = data.get("image", defaults.image)
    if not isinstance(image, str) or not image.strip() or any(c.isspace() for c in image):
        errors["app.image"] = "an image reference such as nginx:1.27 (no spaces)"
    app = AppContainer(
        name=name,
        image=image if isinstance(image, str) else "",
        command=_string_list(data.get("command", []), "app.command", errors),
        args=_string_list(data.get("args", []), "app.args", errors),
        env=_list_of_dicts(data.get("env", []), "app.env", errors),
        ports=_list_of_dicts(data.get("ports", []), "app.ports", errors),
        volume_mounts=_list_of_dicts(data.get("volume_mounts", []), "app.volume_mounts", errors),
        resources=_dict(data.get("resources", {}), "app.resources", errors),
        extra=_dict(data.get("extra", {}), "app.extra", errors),
    )
    entries = {"name": app.name, "env": app.env, "ports": app.ports, "volumeMounts": app.volume_mounts}
    for problem in container_problems(entries, "app"):
        field, _, message = problem.partition(" ")
        errors.setdefault(field.replace("volumeMounts", "volume_mounts"), message)
    return app


def _parse_helpers(data: Any, errors: dict[str, str]) -> list[Helper]:
    if not isinstance(data, list):
        errors["helpers"] = "must be a list"
        return []
    if len(data) > MAX_CONTAINERS - 1:
        errors["helpers"] = f"at most {MAX_CONTAINERS - 1} helpers (a Pod of {MAX_CONTAINERS} containers)"
        return []
    helpers = []
    seen_ids: set[str] = set()
    for index, item in enumerate(data):
        path = f"helpers[{index}]"
        if not isinstance(item, dict):
            errors[path] = "must be an object with pattern and params"
            continue
        _reject_unknown(item, {"id", "pattern", "params", "native_sidecar", "overrides"}, f"{path}.", errors)
        helper_id = item.get("id", f"h{index + 1}")
        if not isinstance(helper_id, str) or not HELPER_ID.fullmatch(helper_id) or helper_id in seen_ids:
            errors[f"{path}.id"] = "a unique id of lower-case letters, digits and '-' (e.g. h1)"
        seen_ids.add(str(helper_id))
        pattern = item.get("pattern")
        if not isinstance(pattern, str) or not pattern:
            errors[f"{path}.pattern"] = "required: a pattern id from /api/v1/patterns"
        params = _dict(item.get("params", {}), f"{path}.params", errors)
        native = item.get("native_sidecar", False)
        if not isinstance(native, bool):
            errors[f"{path}.native_sidecar"] = "must be true or false"
        overrides = _dict(item.get("overrides", {}), f"{path}.overrides", errors)
        if "name" in overrides:
            errors[f"{path}.overrides.name"] = NAME_IS_A_PARAM
        # Shapes as a container's (render and lint rely on them); None leaves a field out.
        shaped = {"name": "", **{key: value for key, value in overrides.items() if value is not None and key != "name"}}
        for problem in container_problems(shaped, f"{path}.overrides"):
            field, _, message = problem.partition(" ")
            errors.setdefault(field, message)
        helpers.append(Helper(str(helper_id), str(pattern), params, bool(native), overrides))
    return helpers


def _parse_options(data: Any, errors: dict[str, str]) -> PodOptions:
    if not isinstance(data, dict):
        errors["options"] = "must be an object"
        return PodOptions()
    allowed = {"share_process_namespace", "termination_grace_period_seconds", "service", "volumes", "extra"}
    _reject_unknown(data, allowed, "options.", errors)
    share = data.get("share_process_namespace", False)
    if not isinstance(share, bool):
        errors["options.share_process_namespace"] = "must be true or false"
    grace = data.get("termination_grace_period_seconds")
    if grace is not None:
        grace = _int(grace, "options.termination_grace_period_seconds", errors, minimum=0, maximum=86400)
    service = _parse_service(data.get("service", {}), errors)
    volumes = _list_of_dicts(data.get("volumes", []), "options.volumes", errors)
    for index, volume in enumerate(volumes):
        if dns_label_problem(volume.get("name")):
            errors[f"options.volumes[{index}].name"] = f"each volume needs a DNS-label name ({LABEL_RULE})"
    extra = _dict(data.get("extra", {}), "options.extra", errors)
    return PodOptions(bool(share), grace, service, volumes, extra)


def _parse_service(data: Any, errors: dict[str, str]) -> ServiceExposure:
    if not isinstance(data, dict):
        errors["options.service"] = "must be an object"
        return ServiceExposure()
    _reject_unknown(data, {"enabled", "type", "ports", "name", "selector", "labels", "annotations", "extra"},
                    "options.service.", errors)
    enabled = data.get("enabled", False)
    if not isinstance(enabled, bool):
        errors["options.service.enabled"] = "must be true or false"
    service_type = data.get("type", "ClusterIP")
    if service_type not in SERVICE_TYPES:
        errors["options.service.type"] = f"must be one of {', '.join(SERVICE_TYPES)}"
    ports = _list_of_dicts(data.get("ports", []), "options.service.ports", errors)
    for problem in service_port_problems(ports, "options.service.ports"):
        field, _, message = problem.partition(" ")
        errors.setdefault(field, message)
    for index, port in enumerate(ports):
        number = port.get("port")
        if not isinstance(number, int) or isinstance(number, bool) or not 1 <= number <= 65535:
            errors[f"options.service.ports[{index}].port"] = "a port number from 1 to 65535"
    name = data.get("name", "")
    name_problem = object_name_problem("Service", name) if name != "" else None
    if name_problem:
        errors["options.service.name"] = name_problem
    selector = data.get("selector")
    if selector is not None:
        selector = _labels(selector, "options.service.selector", errors)
    labels = _labels(data.get("labels", {}), "options.service.labels", errors)
    annotations = _annotations(data.get("annotations", {}), "options.service.annotations", errors)
    extra = _dict(data.get("extra", {}), "options.service.extra", errors)
    return ServiceExposure(bool(enabled), service_type, ports, name, selector, labels, annotations, extra)


def _dns_name(value: Any, path: str, errors: dict[str, str], subdomain: bool = False) -> str:
    """A DNS label (or, with `subdomain`, a subdomain of at most 63 characters: a workload's name is
    also the value of its Pods' labels)."""
    problem = dns_subdomain_problem(value) if subdomain else dns_label_problem(value)
    if problem is None and len(value) > MAX_LABEL:
        problem = f"at most {MAX_LABEL} characters ({len(value)} given)"
    if problem:
        errors[path] = problem
        return value if isinstance(value, str) else ""
    return value


def _int(value: Any, path: str, errors: dict[str, str], minimum: int, maximum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
        errors[path] = f"a whole number from {minimum} to {maximum}"
        return minimum
    return value


def _string_list(value: Any, path: str, errors: dict[str, str]) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        errors[path] = "must be a list of strings"
        return []
    return list(value)


def _labels(value: Any, path: str, errors: dict[str, str]) -> dict[str, str]:
    labels = _string_map(value, path, errors)
    errors.update(labels_problems(labels, path))
    return labels


def _annotations(value: Any, path: str, errors: dict[str, str]) -> dict[str, str]:
    annotations = _string_map(value, path, errors)
    errors.update(annotation_keys_problems(annotations, path))
    return annotations


def _string_map(value: Any, path: str, errors: dict[str, str]) -> dict[str, str]:
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        errors[path] = "must be an object of string values"
        return {}
    return dict(value)


def _dict(value: Any, path: str, errors: dict[str, str]) -> dict[str, Any]:
    if not isinstance(value, dict):
        errors[path] = "must be an object"
        return {}
    return copy.deepcopy(value)


def _list_of_dicts(value: Any, path: str, errors: dict[str, str]) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        errors[path] = "must be a list of objects"
        return []
    return copy.deepcopy(value)
