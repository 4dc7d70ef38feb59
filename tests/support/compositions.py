"""Hypothesis strategies for compositions, and the equivalence the round-trip tests use.

Pod Studio writes nothing of its own into the manifests, so an import reads a composition back from what
the Pod shows. What it cannot show (which of two render-identical params, the role of a custom helper
beside the app) is compared as the import reads it, and only where the manifests are the same either way."""

from __future__ import annotations

import copy
import json
from typing import Any

from hypothesis import strategies as st

from composer.domain import edits
from composer.domain.kinds import KINDS, WORKLOAD_KINDS, KeyField, set_path
from composer.domain.model import AppContainer, Composition, Helper, PodOptions, ServiceExposure, Workload
from composer.domain.patterns import CATALOG
from composer.domain.patterns.base import Param, ParamKind, existing_config_param
from composer.domain.render import Placement, build, place_helper, render

names = st.from_regex(r"[a-z][a-z0-9]{0,8}(-[a-z0-9]{1,4})?", fullmatch=True)
paths = st.lists(st.from_regex(r"[a-z][a-z0-9_]{0,6}", fullmatch=True), min_size=1, max_size=3).map(
    lambda parts: "/" + "/".join(parts)
)
texts = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=20).filter(
    lambda s: s.strip() == s
)
images = st.sampled_from(["nginx:1.27", "busybox:1.36", "alpine:3.20", "registry.example.com/team/app:2.0.1"])


def _param_values(param: Param) -> st.SearchStrategy[Any]:
    kind = param.kind
    if kind in (ParamKind.NAME, ParamKind.OBJECT_NAME):
        return names
    if kind == ParamKind.IMAGE:
        return images
    if kind == ParamKind.PATH:
        return paths
    if kind in (ParamKind.INT, ParamKind.PORT):
        return st.integers(1, 65535)
    if kind == ParamKind.BOOL:
        return st.booleans()
    if kind == ParamKind.CHOICE:
        return st.sampled_from(param.choices)
    if kind == ParamKind.LIST:
        return st.lists(texts, min_size=1, max_size=3)
    if kind == ParamKind.MAP:
        return st.dictionaries(st.from_regex(r"[a-z][a-z.]{0,8}", fullmatch=True), texts, min_size=1, max_size=3)
    if kind == ParamKind.TEXT:
        return st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=60).map(
            lambda s: s or "x"
        )
    if kind == ParamKind.JSON:
        return st.dictionaries(st.from_regex(r"[a-z]{1,6}", fullmatch=True),
                               st.one_of(st.integers(0, 9999), texts, st.booleans()), max_size=3).map(json.dumps)
    if kind == ParamKind.CONTAINER:
        return st.fixed_dictionaries({"name": names, "image": images})
    return texts.filter(lambda s: "\n" not in s)


# Params a recogniser reads for their meaning (an exporter's image, a migration command, the settings that bind
# the app to localhost, the proxy variables a program reads): random text has none, so they are drawn meaningfully.
MEANINGFUL: dict[tuple[str, str], st.SearchStrategy[Any]] = {
    ("prometheus-exporter", "image"): st.sampled_from(
        ["oliver006/redis_exporter:v1.62.0", "quay.io/prometheus/mysqld-exporter:v0.15.1"]),
    ("migrations", "command"): st.sampled_from(
        ["python manage.py migrate --noinput", "bundle exec rails db:migrate", "alembic upgrade head"]),
    ("tls-terminator", "app_env"): st.sampled_from(
        [{}, {"network.host": "127.0.0.1"}, {"SERVER_HOST": "localhost", "bind.address": "::1"}]),
    ("egress-proxy", "proxy_variables"): st.sampled_from(
        [["http_proxy"], ["HTTP_PROXY"], ["http_proxy", "HTTP_PROXY"], ["HTTP_PROXY", "http_proxy"]]),
}


def param_values(pattern_id: str, param: Param) -> st.SearchStrategy[Any]:
    return MEANINGFUL.get((pattern_id, param.name), _param_values(param))


@st.composite
def helper_specs(draw: st.DrawFn) -> tuple[str, dict[str, Any], bool]:
    pattern = CATALOG[draw(st.sampled_from(sorted(CATALOG)))]
    overridden = draw(st.lists(st.sampled_from([p.name for p in pattern.params]), unique=True, max_size=3))
    params = {name: draw(param_values(pattern.id, pattern.param(name))) for name in overridden}
    if pattern.id == "prometheus-exporter":
        params.setdefault("image", draw(MEANINGFUL[(pattern.id, "image")]))
    native = pattern.can_be_native_sidecar and draw(st.booleans())
    return pattern.id, params, native


def _key_field_values(key_field: KeyField) -> st.SearchStrategy[Any]:
    if key_field.number:
        return st.integers(0, 10)
    if key_field.choices:
        return st.sampled_from(key_field.choices)
    if key_field.path == "schedule":
        return st.sampled_from(["*/5 * * * *", "0 3 * * 1-5", "@hourly"])
    return names


@st.composite
def kind_extras(draw: st.DrawFn, kind_name: str) -> dict[str, Any]:
    """Some of the kind's key fields, at their paths in the workload's spec."""
    extra: dict[str, Any] = {}
    key_fields = KINDS[kind_name].key_fields
    for key_field in draw(st.lists(st.sampled_from(key_fields), unique=True)) if key_fields else []:
        set_path(extra, key_field.path, draw(_key_field_values(key_field)))
    if kind_name == "CronJob" and "schedule" not in extra:
        extra["schedule"] = "*/5 * * * *"
    return extra


@st.composite
def compositions(draw: st.DrawFn) -> Composition:
    name = draw(names)
    kind = KINDS[draw(st.sampled_from(WORKLOAD_KINDS))]
    replicas = draw(st.one_of(st.none(), st.integers(0, 5))) if kind.replicated else None
    composition = Composition(
        workload=Workload(kind=kind.name, name=name, labels={"app": name}, replicas=replicas,
                          extra=draw(kind_extras(kind.name))),
        app=AppContainer(
            name="app",
            image=draw(images),
            env=[{"name": "MODE", "value": draw(texts)}] if draw(st.booleans()) else [],
            ports=[{"name": "http", "containerPort": draw(st.integers(1, 65535))}] if draw(st.booleans()) else [],
        ),
        options=PodOptions(
            share_process_namespace=draw(st.booleans()),
            extra={"restartPolicy": draw(st.sampled_from(["Never", "OnFailure"]))} if kind.runs_to_completion else {},
            service=ServiceExposure(
                enabled=draw(st.booleans()), ports=[{"name": "web", "port": 80, "targetPort": "http"}]
            ),
        ),
    )
    for pattern_id, params, native in draw(st.lists(helper_specs(), max_size=5)):
        try:
            helper = edits.add_helper(composition, pattern_id, params)
        except edits.EditError:
            continue
        if native and not (pattern_id == "custom" and params.get("role") == "init"):
            edits.set_native_sidecar(composition, helper.id, True)
    # A Pod lists its init containers first; helpers held in another order render their volumes in that order,
    # which an import keeps as the Pod's own (the helpers in the Pod's order would list them otherwise).
    in_pod_order = {item.helper.id: item.placement == Placement.CONTAINER for item in build(composition).helpers}
    composition.helpers.sort(key=lambda helper: in_pod_order[helper.id])
    composition.extra_objects = existing_config_maps(composition)
    return composition


def existing_config_maps(composition: Composition) -> list[dict[str, Any]]:
    """The ConfigMaps that helpers name as existing, as a user would import them beside the Pod: holding what the
    pattern would have generated."""
    found: dict[str, dict[str, Any]] = {}
    for helper in composition.helpers:
        pattern = CATALOG[helper.pattern]
        params = pattern.clean_params(helper.params)[0]
        if existing_config_param() not in pattern.params or params["config_map"] in ("", *found):
            continue
        generating = Helper(helper.id, helper.pattern, {**params, "config_map": ""})
        [generated] = place_helper(generating, pattern, composition).contribution.config_maps
        found[params["config_map"]] = {**generated, "metadata": {"name": params["config_map"]}}
    return [found[name] for name in sorted(found)]  # the order render lists them in


def ambiguous(composition: Composition) -> bool:
    """Whether the manifests cannot say which helper meant what: a helper's volume, app env, app mount or ConfigMap
    is not there as it derives it (another of the same name or path came first), the app mounts one volume at
    two paths for two helpers, two containers listen on one port (which the app's env points at?), or a helper
    that sets whatever env it is given shares the app's env with another."""
    rendering = build(composition)
    volumes, app = rendering.pod_spec.get("volumes", []), rendering.pod_spec["containers"][0]
    containers = [*rendering.pod_spec.get("initContainers", []), *rendering.pod_spec["containers"]]
    ports = [p.get("containerPort") for c in containers for p in c.get("ports", [])]
    if len(ports) != len(set(ports)):
        return True
    # A helper that sets any env on the app it is given (a TLS terminator's "Env on the app") may be read as
    # having set the env another helper derives too.
    setting_env = [item for item in rendering.helpers if item.contribution.app_env]
    if len(setting_env) > 1 and any("app_env" in item.params for item in setting_env):
        return True
    mounted = {(m["name"], m["mountPath"]) for item in rendering.helpers for m in item.contribution.app_mounts}
    if len(mounted) != len({volume for volume, _ in mounted}):
        return True
    for item in rendering.helpers:
        derived = item.contribution
        if not (all(v in volumes for v in derived.volumes) and all(e in app.get("env", []) for e in derived.app_env)
                and all(m in app.get("volumeMounts", []) for m in derived.app_mounts)
                and all(cm in rendering.manifests for cm in derived.config_maps)):
            return True
    return False


def _container_name(helper: Helper) -> str:
    params = CATALOG[helper.pattern].clean_params(helper.params)[0]
    return str(params["container"]["name"] if helper.pattern == "custom" else params["name"])


def as_its_manifests_tell(composition: Composition, imported: Composition) -> Composition:
    """`composition` with what its manifests cannot tell taken as the import read it, param by param, each where
    the manifests are the same either way."""
    told = copy.deepcopy(composition)
    manifests = render(told)
    read = {_container_name(helper): helper for helper in imported.helpers}
    for helper in told.helpers:
        other = read.get(_container_name(helper))
        if other is None or other.pattern != helper.pattern:
            continue
        pattern = CATALOG[helper.pattern]
        mine, theirs = pattern.clean_params(helper.params)[0], pattern.clean_params(other.params)[0]
        for name in (name for name in mine if mine[name] != theirs[name]):
            before = helper.params
            helper.params = {**before, name: theirs[name]}
            if render(told) != manifests:
                helper.params = before
    return told


def canonical(composition: Composition) -> dict[str, Any]:
    """The composition with every helper's parameters cleaned and defaulted: equal means the same."""
    data = copy.deepcopy(composition.to_dict())
    # A draft keeps settings the manifests cannot carry (a disabled Service's ports, a Pod's replicas).
    if not data["options"]["service"]["enabled"]:
        data["options"]["service"] = {"enabled": False}
    workload, service = data["workload"], data["options"]["service"]
    if not KINDS[workload["kind"]].replicated:
        workload["replicas"] = None  # a kind without replicas writes none, and none is read back
    if workload["kind"] == "Pod":
        # A Pod's own metadata is its Pod metadata; the controllers' settings mean nothing.
        workload.update(own_annotations={}, extra={})
    # Defaults written out: the Pod's labels, the workload's name.
    workload["own_labels"] = composition.workload.effective_own_labels()
    workload["selector"] = composition.workload.effective_selector()
    if service.get("enabled"):
        service["name"] = service["name"] or workload["name"]
        service["selector"] = workload["labels"] if service["selector"] is None else service["selector"]
    for helper in data["helpers"]:
        pattern = CATALOG[helper["pattern"]]
        helper["params"] = pattern.clean_params(helper["params"])[0]
        if not pattern.can_be_native_sidecar or helper["params"].get("role") == "init":
            helper["native_sidecar"] = False
        del helper["id"]
    return data
