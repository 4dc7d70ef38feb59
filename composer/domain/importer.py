"""Manifests -> Composition: the inverse of render().

Helpers are recognised by their shape (composer.domain.recognition proposes a pattern and params for
each container; an old composition's `pod-studio.dev/helpers` annotation proposes what it recorded).
A proposal is kept only if the pattern, with the container's extra fields as overrides, renders the
Pod exactly as an import of every helper as a `custom` container does; anything else stays `custom`
(nothing is lost, nothing mis-attributed). Whatever cannot be represented is reported as a warning.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from typing import Any

from composer.domain.kinds import KINDS, WORKLOAD_KINDS, get_path, set_path
from composer.domain.model import (
    SECRET_REFUSAL,
    SERVICE_TYPES,
    AppContainer,
    Composition,
    CompositionError,
    Helper,
    PodOptions,
    ServiceExposure,
    Workload,
)
from composer.domain.patterns import CATALOG
from composer.domain.patterns.custom import CUSTOM_ROLES
from composer.domain.podspecs import pod_specs, pod_template_metadata
from composer.domain.recognition import Found, candidates, known_image
from composer.domain.render import PlacedHelper, place_helper, render
from composer.domain.shapes import (
    MAX_CONTAINERS,
    container_problems,
    list_of_mappings_problem,
    service_port_problems,
    type_name,
)

APP_FIELDS = {"name", "image", "command", "args", "env", "ports", "volumeMounts", "resources"}
SERVER_METADATA = {"uid", "resourceVersion", "creationTimestamp", "managedFields", "generation", "selfLink"}
# What a composition keeps of an object's metadata (the rest is named in a warning).
OBJECT_METADATA = {"name", "namespace", "labels", "annotations"}
MAX_OBJECTS = 200  # documents in one import: a Pod and its companions, with room to spare
# Compositions saved before recognition by shape recorded their helpers here; still read, never written.
HELPERS_ANNOTATION = "pod-studio.dev/helpers"


class ManifestImportError(ValueError):
    """The manifests cannot become a composition; the message says why."""


@dataclass
class ImportResult:
    composition: Composition
    warnings: list[str] = field(default_factory=list)


def import_workloads(documents: list[dict[str, Any]]) -> list[ImportResult]:
    """One composition per workload, in the order of the manifests, each with its own ConfigMaps and Services."""
    try:
        objects = _objects(documents)
        workloads = [o for o in objects if o.get("kind") in WORKLOAD_KINDS]
        if len(workloads) == 1:
            return [_import(objects, workloads[0])]
        results = []
        for workload, own, notes in _shared_out(objects, workloads):
            result = _import(own, workload)
            results.append(ImportResult(result.composition, notes + result.warnings))
        return results
    except (AttributeError, TypeError, KeyError) as error:
        # A shape no check below foresaw: still the user's input, never a server error.
        raise ManifestImportError(f"the manifests have an unexpected shape ({error})") from None


def import_manifests(documents: list[dict[str, Any]]) -> ImportResult:
    """The composition of manifests holding one workload (and its companions)."""
    results = import_workloads(documents)
    if len(results) > 1:
        names = ", ".join(f"{r.composition.workload.kind} {r.composition.workload.name!r}" for r in results)
        raise ManifestImportError(f"{len(results)} workloads ({names}): a composition holds one")
    return results[0]


def _mapping(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ManifestImportError(f"{where} must be a mapping (found {type_name(value)})")
    return value


def _objects(documents: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The objects of the documents (Lists unpacked), shapes checked, at least one workload among them."""
    objects = _flatten(documents)
    if len(objects) > MAX_OBJECTS:
        raise ManifestImportError(f"too many objects: {len(objects):,} (at most {MAX_OBJECTS} in one import)")
    for manifest in objects:
        _check_companion_shape(manifest)
    if not any(o.get("kind") in WORKLOAD_KINDS for o in objects):
        kinds = ", ".join(sorted({str(o.get("kind")) for o in objects})) or "nothing"
        raise ManifestImportError(f"no workload found (a {', '.join(WORKLOAD_KINDS)}; found: {kinds})")
    return objects


def _shared_out(
    objects: list[dict[str, Any]], workloads: list[dict[str, Any]],
) -> list[tuple[dict[str, Any], list[dict[str, Any]], list[str]]]:
    """(workload, its objects, notes) for each workload: the ConfigMaps it uses and the Services that select
    its Pods. One used by several goes with each (said); one used by none, and every other kind, goes with
    the first workload, so nothing is lost and each warning is given once."""
    owners: dict[int, list[int]] = {}
    for index, manifest in enumerate(objects):
        if manifest.get("kind") in ("ConfigMap", "Service"):
            owners[index] = [number for number, workload in enumerate(workloads) if _belongs(manifest, workload)]
    shares: list[tuple[dict[str, Any], list[dict[str, Any]], list[str]]] = [(w, [w], []) for w in workloads]
    for index, manifest in enumerate(objects):
        if manifest.get("kind") in WORKLOAD_KINDS:
            continue
        users = owners.get(index) or [0]
        for number in users:
            shares[number][1].append(manifest)
        if len(users) > 1:
            names = ", ".join(_describe(workloads[number]) for number in users)
            for number in users:
                shares[number][2].append(f"{_describe(manifest)} is used by {names}: each composition carries "
                                         "it, and undeploying one removes it for the others")
        elif index in owners and not owners[index]:
            shares[0][2].append(f"{_describe(manifest)} is used by no workload: kept with this composition")
    return shares


def _belongs(companion: dict[str, Any], workload: dict[str, Any]) -> bool:
    """A ConfigMap the workload's Pods use, or a Service that selects them, in the same namespace."""
    namespaces = {(companion.get("metadata") or {}).get("namespace") or "",
                  (workload.get("metadata") or {}).get("namespace") or ""}
    if len(namespaces - {""}) > 1:
        return False
    found = pod_template_metadata(workload)
    labels = (workload.get("metadata") if found is None else found[1]).get("labels") or {}
    name = (companion.get("metadata") or {}).get("name")
    if companion.get("kind") == "Service":
        return _selects((companion.get("spec") or {}).get("selector") or {}, _strings(labels, "labels"))
    return any(name in _config_maps_used(pod_spec) for _, pod_spec in pod_specs(workload))


def _config_maps_used(pod_spec: dict[str, Any]) -> set[str]:
    """The ConfigMaps a Pod spec refers to: volumes (projected too), envFrom and env valueFrom."""
    used = set()
    for volume in pod_spec.get("volumes") or []:
        used.add((volume.get("configMap") or {}).get("name"))
        for source in (volume.get("projected") or {}).get("sources") or []:
            used.add((source.get("configMap") or {}).get("name"))
    for container in [*(pod_spec.get("initContainers") or []), *(pod_spec.get("containers") or [])]:
        for source in container.get("envFrom") or []:
            used.add((source.get("configMapRef") or {}).get("name"))
        for variable in container.get("env") or []:
            used.add(((variable.get("valueFrom") or {}).get("configMapKeyRef") or {}).get("name"))
    return used - {None}


def _import(objects: list[dict[str, Any]], workload_manifest: dict[str, Any]) -> ImportResult:
    """The composition of one workload, with the other objects as its companions."""
    warnings: list[str] = []
    _, pod_metadata, pod_spec = _workload(workload_manifest, [])  # its warnings come with the assembly below
    containers = pod_spec.get("containers") or []
    if not containers:
        raise ManifestImportError(f"{_describe(workload_manifest)} has no containers")
    _check_pod_spec_shape(pod_spec, _describe(workload_manifest))
    recorded = _recorded_helpers((pod_metadata.get("annotations") or {}).get(HELPERS_ANNOTATION), warnings)

    config_maps = _config_maps(objects)
    # As a pattern would generate them: a proposal whose ConfigMap the import holds otherwise is not the Pod's.
    imported_config_maps = [_comparable(cm) for cm in config_maps]

    def assemble(chosen: dict[int, dict[str, Any]]) -> tuple[Composition, list[str], set[int]]:
        return _assemble(objects, workload_manifest, recorded, chosen, imported_config_maps)

    composition, warnings_found, _ = assemble({})
    as_custom = render(composition)
    chosen: dict[int, dict[str, Any]] = {}
    by_name = {cm["metadata"].get("name"): cm for cm in config_maps}
    for position, proposals in _proposals(pod_spec, recorded, by_name, composition.workload.name).items():
        # Of the proposals that render the Pod exactly, the one that needs the fewest overrides (the first of
        # those): an old annotation written before the YAML was edited by hand still renders it, with the edit
        # as an override, but the shape's params say the edit as the pattern says it (a log tailer's new file).
        before, best = _overridden(composition), None
        for proposal in proposals:
            trial, trial_warnings, recognised = assemble({**chosen, position: proposal})
            if position in recognised and render(trial) == as_custom:
                overridden = _overridden(trial)
                if best is None or overridden < best[0]:
                    best = (overridden, proposal, trial, trial_warnings)
                if overridden == before:
                    break  # none: no proposal does better
        if best is not None:
            _, chosen[position], composition, warnings_found = best
    try:
        # Validate exactly as the API would, so an import never stores what could not be saved.
        Composition.from_dict(composition.to_dict())
    except CompositionError as error:
        raise ManifestImportError(f"the manifests do not make a valid composition: {error}") from None
    return ImportResult(composition, warnings + warnings_found)


def _overridden(composition: Composition) -> int:
    """How many container fields the helpers override."""
    return sum(len(helper.overrides) for helper in composition.helpers)


def _assemble(
    objects: list[dict[str, Any]], workload_manifest: dict[str, Any], recorded: list[dict[str, Any]],
    chosen: dict[int, dict[str, Any]], imported_config_maps: list[dict[str, Any]],
) -> tuple[Composition, list[str], set[int]]:
    """The composition with the chosen proposals (by helper position) and every other helper custom."""
    warnings: list[str] = []
    workload, pod_metadata, pod_spec = _workload(workload_manifest, warnings)
    annotations = dict(pod_metadata.get("annotations") or {})
    annotations.pop(HELPERS_ANNOTATION, None)
    workload.annotations = annotations
    as_found = _app(pod_spec["containers"][0])
    composition = Composition(workload=workload, app=as_found)
    placed, _ = _helpers(composition, pod_spec, recorded, chosen, imported_config_maps)
    # Patterns that copy the app's own settings (migrations) are recognised only once the
    # env and mounts the other helpers derived are taken off the app again.
    composition.app = _without_derived(as_found, placed)
    placed, recognised = _helpers(composition, pod_spec, recorded, chosen, imported_config_maps)
    composition.app = _without_derived(as_found, placed)
    composition.helpers = [item.helper for item in placed]
    composition.options = _options(pod_spec, placed)
    composition.extra_objects, services = _companions(objects, workload_manifest, placed, warnings)
    composition.options.service = _service(services, composition, placed, warnings)
    return composition, warnings, recognised


def _helper_containers(pod_spec: dict[str, Any]) -> list[tuple[dict[str, Any], bool]]:
    """(container, is in initContainers) for every container but the app, in Pod order."""
    return ([(c, True) for c in pod_spec.get("initContainers") or []]
            + [(c, False) for c in (pod_spec.get("containers") or [])[1:]])


def _proposals(
    pod_spec: dict[str, Any], recorded: list[dict[str, Any]], config_maps: dict[str, dict[str, Any]], workload: str,
) -> dict[int, list[dict[str, Any]]]:
    """Per helper position, the (pattern, params) to try: what an old annotation recorded, then the shape's."""
    by_container = {entry["container"]: entry for entry in recorded}
    proposals = {}
    for position, (container, in_init) in enumerate(_helper_containers(pod_spec)):
        entry = by_container.get(container.get("name"))
        listed = [{**entry, "recorded": True}] if entry and entry.get("pattern") != "custom" else []
        found = Found.in_pod(container, in_init, pod_spec, config_maps, workload)
        listed += [{"pattern": pattern_id, "params": params} for pattern_id, params in candidates(found)]
        if listed:
            proposals[position] = listed
    return proposals


def _flatten(documents: list[dict[str, Any]]) -> list[dict[str, Any]]:
    objects = []
    for document in documents:
        kind = document.get("kind")
        if "kind" in document and not isinstance(kind, str):
            raise ManifestImportError(f"kind must be a string such as Pod (found {type_name(kind)})")
        if kind is not None and kind.endswith("List"):
            items = document.get("items") or []
            if not isinstance(items, list):
                raise ManifestImportError(f"the items of a {kind} must be a list (found {type_name(items)})")
            objects.extend(item for item in items if isinstance(item, dict))
        else:
            objects.append(document)
    return objects


def _describe(manifest: dict[str, Any]) -> str:
    metadata = manifest.get("metadata")
    name = metadata.get("name", "?") if isinstance(metadata, dict) else "?"
    return f"{manifest.get('kind', '?')} {name!r}"


def _check_companion_shape(manifest: dict[str, Any]) -> None:
    where = _describe(manifest)
    if "metadata" in manifest:
        metadata = _mapping(manifest["metadata"], f"{where}: metadata")
        if "name" in metadata and not isinstance(metadata["name"], str):
            raise ManifestImportError(f"{where}: metadata.name must be a string (found {type_name(metadata['name'])})")
    if manifest.get("kind") == "Service":
        spec = _mapping(manifest.get("spec") or {}, f"{where}: spec")
        problems = service_port_problems(spec.get("ports") or [], f"{where}: spec.ports")
        if problems:
            raise ManifestImportError("; ".join(problems))
        _mapping(spec.get("selector") or {}, f"{where}: spec.selector")
    if manifest.get("kind") == "ConfigMap":
        _mapping(manifest.get("data") or {}, f"{where}: data")


def _check_pod_spec_shape(pod_spec: dict[str, Any], where: str) -> None:
    for list_name in ("containers", "initContainers", "volumes"):
        if list_name in pod_spec:
            problem = list_of_mappings_problem(pod_spec[list_name], f"{where}: spec.{list_name}")
            if problem:
                raise ManifestImportError(problem)
    count = len(pod_spec.get("containers") or []) + len(pod_spec.get("initContainers") or [])
    if count > MAX_CONTAINERS:
        raise ManifestImportError(f"too many containers: {count:,} in one Pod (at most {MAX_CONTAINERS})")
    for list_name in ("initContainers", "containers"):
        for index, container in enumerate(pod_spec.get(list_name) or []):
            problems = container_problems(container, f"{where}: spec.{list_name}[{index}]")
            if problems:
                raise ManifestImportError("; ".join(problems))


def _workload(manifest: dict[str, Any], warnings: list[str]) -> tuple[Workload, dict, dict]:
    where = _describe(manifest)
    metadata = _mapping(manifest.get("metadata") or {}, f"{where}: metadata")
    spec = manifest.get("spec") or {}
    if not isinstance(spec, dict):
        raise ManifestImportError(f"{where}: spec must be a mapping")
    name = metadata.get("name")
    if not isinstance(name, str) or not name:
        raise ManifestImportError(f"{manifest['kind']} without metadata.name")
    _warn_not_kept(metadata, OBJECT_METADATA, f"{where}: metadata", warnings)
    kind = KINDS[manifest["kind"]]
    workload = Workload(kind=kind.name, name=name, namespace=metadata.get("namespace", "") or "")
    if kind.is_pod:
        pod_metadata, pod_spec = metadata, spec
    else:
        if manifest.get("apiVersion") != kind.api_version:
            warnings.append(f"{where}: apiVersion {manifest.get('apiVersion')!r} is rendered as {kind.api_version}")
        extra = copy.deepcopy(spec)
        template_path = ".".join(kind.template_path)
        holder: Any = extra
        for depth, part in enumerate(kind.template_path[:-1]):
            holder = _mapping(holder.get(part) or {}, f"{where}: spec.{'.'.join(kind.template_path[:depth + 1])}")
        template = _mapping(get_path(extra, template_path) or {}, f"{where}: spec.{template_path}")
        set_path(extra, template_path, None)  # the composition is the template (a jobTemplate left empty goes too)
        pod_metadata = _mapping(template.get("metadata") or {}, f"{where}: spec.template.metadata")
        # kubectl's generated manifests carry `creationTimestamp: null`, which means nothing.
        written = {k: v for k, v in pod_metadata.items() if not (k == "creationTimestamp" and v is None)}
        _warn_not_kept(written, {"labels", "annotations"}, f"{where}: spec.template.metadata", warnings)
        pod_spec = _mapping(template.get("spec") or {}, f"{where}: spec.template.spec")
        workload.replicas = extra.pop("replicas", None) if kind.replicated else None
        if "replicas" in extra:
            del extra["replicas"]
            warnings.append(f"{where}: spec.replicas not kept: a {kind.name} has none")
        workload.own_labels = _strings(metadata.get("labels"), f"{where}: metadata.labels")
        workload.own_annotations = dict(_mapping(metadata.get("annotations") or {}, f"{where}: metadata.annotations"))
        if "selector" in extra:
            workload.selector = copy.deepcopy(_mapping(extra.pop("selector"), f"{where}: spec.selector"))
            if "matchLabels" in workload.selector:
                workload.selector["matchLabels"] = _strings(
                    workload.selector["matchLabels"], f"{where}: spec.selector.matchLabels")
        workload.extra = extra
    workload.labels = _strings(pod_metadata.get("labels"), f"{where}: labels")
    _mapping(pod_metadata.get("annotations") or {}, f"{where}: annotations")
    return workload, pod_metadata, pod_spec


def _strings(value: Any, where: str) -> dict[str, str]:
    """A label map; YAML may have read a value such as `version: 1` as a number."""
    return {str(k): str(v) for k, v in _mapping(value or {}, where).items()}


def _warn_not_kept(metadata: dict[str, Any], kept: set[str], where: str, warnings: list[str]) -> None:
    dropped = sorted(set(metadata) - kept - SERVER_METADATA)
    if dropped:
        warnings.append(f"{where}: not kept: {', '.join(dropped)}")


def _recorded_helpers(annotation: Any, warnings: list[str]) -> list[dict[str, Any]]:
    if annotation is None:
        return []
    try:
        entries = json.loads(annotation)
    except (TypeError, ValueError):
        warnings.append(f"annotation {HELPERS_ANNOTATION} is not valid JSON; containers imported as custom")
        return []
    if not isinstance(entries, list):
        return []
    return [e for e in entries if isinstance(e, dict) and isinstance(e.get("container"), str)]


def _app(container: dict[str, Any]) -> AppContainer:
    return AppContainer(
        name=container.get("name", "app"),
        image=container.get("image", ""),
        command=list(container.get("command") or []),
        args=list(container.get("args") or []),
        env=copy.deepcopy(container.get("env") or []),
        ports=copy.deepcopy(container.get("ports") or []),
        volume_mounts=copy.deepcopy(container.get("volumeMounts") or []),
        resources=copy.deepcopy(container.get("resources") or {}),
        extra={k: copy.deepcopy(v) for k, v in container.items() if k not in APP_FIELDS},
    )


def _helpers(
    composition: Composition, pod_spec: dict, recorded: list[dict[str, Any]], chosen: dict[int, dict[str, Any]],
    imported_config_maps: list[dict[str, Any]],
) -> tuple[list[PlacedHelper], set[int]]:
    """The helpers in order, and the positions whose chosen proposal was recognised."""
    recorded_by_container = {entry["container"]: entry for entry in recorded}
    order = {entry["container"]: index for index, entry in enumerate(recorded)}
    found: list[tuple[int, int, PlacedHelper]] = []
    recognised = set()
    for position, (container, in_init) in enumerate(_helper_containers(pod_spec)):
        helper_id = f"h{position + 1}"
        native = in_init and container.get("restartPolicy") == "Always"
        spec = {k: v for k, v in container.items() if not (native and k == "restartPolicy")}
        placed = (_recognise(composition, pod_spec, helper_id, spec, native, chosen[position], imported_config_maps)
                  if position in chosen else None)
        if placed is None:
            placed = _as_custom(composition, helper_id, spec, in_init, native, recorded_by_container)
        else:
            recognised.add(position)
        # Recorded helpers keep their recorded order; others follow in Pod order.
        found.append((order.get(container.get("name"), len(order)), position, placed))
    found.sort(key=lambda item: (item[0], item[1]))
    placed_helpers = [item[2] for item in found]
    for number, item in enumerate(placed_helpers, start=1):
        item.helper.id = f"h{number}"
    return placed_helpers, recognised


def _as_custom(
    composition: Composition, helper_id: str, spec: dict, in_init: bool, native: bool,
    recorded_by_container: dict[str, dict[str, Any]],
) -> PlacedHelper:
    """A custom helper in the role recorded, else the one its place and image say (init, or what the image is)."""
    entry = recorded_by_container.get(spec.get("name")) or {}
    role = entry.get("params", {}).get("role") if entry.get("pattern") == "custom" else None
    if role not in CUSTOM_ROLES:
        known = known_image(str(spec.get("image", "")))
        long_running_role = known.role if known and known.role != "init" else "sidecar"
        role = "init" if in_init and not native else long_running_role
    helper = Helper(helper_id, "custom", {"role": role, "container": copy.deepcopy(spec)}, native)
    return place_helper(helper, CATALOG["custom"], composition)


def _recognise(
    composition: Composition, pod_spec: dict, helper_id: str, spec: dict, native: bool, proposal: dict[str, Any],
    imported_config_maps: list[dict[str, Any]],
) -> PlacedHelper | None:
    """The pattern proposed, with the container's other fields as overrides; None if it cannot be the container."""
    pattern = CATALOG.get(proposal.get("pattern", ""))
    if pattern is None or pattern.id == "custom" or not isinstance(proposal.get("params"), dict):
        return None
    helper = Helper(helper_id, pattern.id, dict(proposal["params"]), native)
    placed = place_helper(helper, pattern, composition)
    if placed.param_errors or placed.container.get("name") != spec.get("name"):
        return None
    # A shape's pattern must find what it adds to the app there as it adds it, not shadowed by the app's own
    # (an annotation recorded the helpers together, and one may shadow another's as render() does).
    # So must the ConfigMap it generates be: the import's own of that name would win over it, and the params
    # would describe a config that is not the Pod's.
    app, contribution = pod_spec["containers"][0], placed.contribution
    shadowed = not (_all_in(contribution.app_env, app.get("env"))
                    and _all_in(contribution.app_mounts, app.get("volumeMounts"))
                    and _all_in(contribution.config_maps, imported_config_maps))
    if shadowed and not proposal.get("recorded"):
        return None
    defaults = pattern.defaults()
    helper.params = {k: v for k, v in placed.params.items() if v != defaults.get(k)}
    helper.overrides = _overrides(spec, placed.container)
    return place_helper(helper, pattern, composition)


def _all_in(derived: list[dict[str, Any]], found: list[dict[str, Any]] | None) -> bool:
    return all(entry in (found or []) for entry in derived)


def _overrides(found: dict[str, Any], derived: dict[str, Any]) -> dict[str, Any]:
    """Field by field, what makes the derived container the one found (None: leave the field out)."""
    changed = {key: copy.deepcopy(value) for key, value in found.items() if derived.get(key) != value}
    return {**changed, **{key: None for key in derived if key not in found}}


def _without_derived(as_found: AppContainer, placed: list[PlacedHelper]) -> AppContainer:
    app = copy.deepcopy(as_found)
    derived_env = [e for item in placed for e in item.contribution.app_env]
    derived_mounts = [m for item in placed for m in item.contribution.app_mounts]
    app.env = _take_off(app.env, derived_env, "name")
    app.volume_mounts = _take_off(app.volume_mounts, derived_mounts, "mountPath")
    if any(item.contribution.app_command == app.command for item in placed if item.contribution.app_command):
        app.command = []
    return app


def _take_off(found: list[dict[str, Any]], derived: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    """The entries no helper derives; all of them when rendering (own entries, then derived) would reorder them."""
    own = [entry for entry in found if entry not in derived]
    own_keys = [entry.get(key) for entry in own]
    derived_keys = [entry.get(key) for entry in derived if entry in found and entry.get(key) not in own_keys]
    rendered = own_keys + list(dict.fromkeys(derived_keys))
    return own if rendered == [entry.get(key) for entry in found] else found


def _options(pod_spec: dict[str, Any], placed: list[PlacedHelper]) -> PodOptions:
    derived_volumes = [v for item in placed for v in item.contribution.volumes]
    handled = {"containers", "initContainers", "volumes", "shareProcessNamespace", "terminationGracePeriodSeconds"}
    return PodOptions(
        share_process_namespace=bool(pod_spec.get("shareProcessNamespace", False)),
        termination_grace_period_seconds=pod_spec.get("terminationGracePeriodSeconds"),
        volumes=_own_volumes(pod_spec.get("volumes") or [], derived_volumes),
        extra={k: copy.deepcopy(v) for k, v in pod_spec.items() if k not in handled},
    )


def _own_volumes(found: list[dict[str, Any]], derived: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The volumes no helper derives; all of them, in the Pod's order, when rendering would reorder them."""
    own = [copy.deepcopy(v) for v in found if v not in derived]
    derived_names = list(dict.fromkeys(v.get("name") for v in derived if v in found))
    rendered_order = derived_names + [v.get("name") for v in own if v.get("name") not in derived_names]
    if rendered_order != [v.get("name") for v in found]:
        return copy.deepcopy(found)
    return own


def _config_maps(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [_clean_metadata(o) for o in objects if o.get("kind") == "ConfigMap"]


def _comparable(config_map: dict[str, Any]) -> dict[str, Any]:
    """A ConfigMap as a pattern generates it: its namespace is the workload's, and it has no other metadata."""
    return {**config_map, "metadata": {"name": config_map["metadata"].get("name")}}


def _clean_metadata(manifest: dict[str, Any]) -> dict[str, Any]:
    manifest = copy.deepcopy(manifest)
    manifest.pop("status", None)
    metadata = manifest.get("metadata") or {}
    manifest["metadata"] = {k: v for k, v in metadata.items() if k not in SERVER_METADATA}
    return manifest


def _companions(
    objects: list[dict[str, Any]], workload: dict[str, Any], placed: list[PlacedHelper], warnings: list[str]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    generated = [cm for item in placed for cm in item.contribution.config_maps]
    extra, services = [], []
    for manifest in objects:
        kind = manifest.get("kind")
        if manifest is workload or kind in WORKLOAD_KINDS:
            continue
        if kind == "ConfigMap":
            cleaned = _clean_metadata(manifest)
            if _comparable(cleaned) not in generated:
                extra.append(cleaned)
        elif kind == "Service":
            services.append(_clean_metadata(manifest))
        elif kind == "Secret":
            warnings.append(f"{_describe(manifest)} not imported: {SECRET_REFUSAL}")
        else:
            warnings.append(f"{_describe(manifest)} not imported: only workloads (a {', '.join(WORKLOAD_KINDS)}), "
                            "ConfigMaps and Services are understood")
    return extra, services


def _selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    return bool(selector) and all(labels.get(str(k)) == str(v) for k, v in selector.items())


def _service(
    services: list[dict[str, Any]], composition: Composition, placed: list[PlacedHelper], warnings: list[str]
) -> ServiceExposure:
    """The first Service that selects the workload's Pods, kept whole; the others stay companions as written."""
    workload = composition.workload
    chosen = next(
        (s for s in services
         if (s["metadata"].get("namespace") or "") == workload.namespace
         and (s.get("spec") or {}).get("type", "ClusterIP") in SERVICE_TYPES
         and _selects((s.get("spec") or {}).get("selector") or {}, workload.labels)),
        None,
    )
    composition.extra_objects.extend(other for other in services if other is not chosen)
    if chosen is None:
        return ServiceExposure()
    where = _describe(chosen)
    metadata, spec = chosen["metadata"], chosen.get("spec") or {}
    _warn_not_kept(metadata, OBJECT_METADATA, f"{where}: metadata", warnings)
    kept = {k: v for k, v in chosen.items() if k not in ("metadata", "spec")}
    if kept != {"apiVersion": "v1", "kind": "Service"}:
        warnings.append(f"{where}: not kept: {', '.join(sorted(set(kept) - {'apiVersion', 'kind'}))}")
    derived_ports = [p for item in placed for p in item.contribution.service_ports]
    return ServiceExposure(
        enabled=True,
        type=spec.get("type", "ClusterIP"),
        ports=copy.deepcopy(_take_off(spec.get("ports") or [], derived_ports, "name")),
        name=metadata.get("name", ""),
        selector=_strings(spec.get("selector"), f"{where}: spec.selector"),
        labels=_strings(metadata.get("labels"), f"{where}: metadata.labels"),
        annotations=dict(_mapping(metadata.get("annotations") or {}, f"{where}: metadata.annotations")),
        extra={k: copy.deepcopy(v) for k, v in spec.items() if k not in ("type", "selector", "ports")},
    )
