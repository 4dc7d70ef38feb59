"""Hypothesis strategies for compositions, and the equivalence the round-trip tests use."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import strategies as st

from composer.domain import edits
from composer.domain.kinds import KINDS, WORKLOAD_KINDS, KeyField, set_path
from composer.domain.model import AppContainer, Composition, PodOptions, ServiceExposure, Workload
from composer.domain.patterns import CATALOG
from composer.domain.patterns.base import Param, ParamKind

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
    if kind == ParamKind.NAME:
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
    if kind == ParamKind.CONTAINER:
        return st.fixed_dictionaries({"name": names, "image": images})
    return texts.filter(lambda s: "\n" not in s)


@st.composite
def helper_specs(draw: st.DrawFn) -> tuple[str, dict[str, Any], bool]:
    pattern = CATALOG[draw(st.sampled_from(sorted(CATALOG)))]
    overridden = draw(st.lists(st.sampled_from([p.name for p in pattern.params]), unique=True, max_size=3))
    params = {name: draw(_param_values(pattern.param(name))) for name in overridden}
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
    return composition


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
