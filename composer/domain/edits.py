"""The edits a user makes to a composition, each keeping it consistent.

Views call these and save the result; each raises EditError (a 4xx for the user)
and leaves the composition untouched when the edit is not possible.
"""

from __future__ import annotations

import copy
from typing import Any

from composer.domain import volumes
from composer.domain.characters import NUL_PROBLEM, nul_problems
from composer.domain.fitting import fitted_params
from composer.domain.kinds import KINDS, set_path
from composer.domain.model import NAME_IS_A_PARAM, Composition, Helper
from composer.domain.patterns import CATALOG, UnknownPattern, get_pattern
from composer.domain.render import build, effective_role, place_helper
from composer.domain.schema import container_fields
from composer.domain.shapes import container_problems


class EditError(ValueError):
    """An edit that cannot be made; `errors` maps a field to a message."""

    def __init__(self, message: str, errors: dict[str, str] | None = None):
        super().__init__(message)
        self.errors = errors or {}


def container_names(composition: Composition) -> set[str]:
    names = {composition.app.name}
    for helper in composition.helpers:
        pattern = CATALOG.get(helper.pattern)
        if pattern is not None:
            names.add(_container_name(pattern.id, pattern.clean_params(helper.params)[0]))
    return names


def _container_name(pattern_id: str, params: dict[str, Any]) -> str:
    if pattern_id == "custom":
        return str(params["container"].get("name", ""))
    return str(params["name"])


def _unique(base: str, taken: set[str]) -> str:
    if base not in taken:
        return base
    number = 2
    while f"{base}-{number}" in taken:
        number += 1
    return f"{base}-{number}"


def add_helper(
    composition: Composition, pattern_id: str, params: dict[str, Any] | None = None, position: int | None = None
) -> Helper:
    """Adds a helper with defaults for what `params` leaves out; the container name is made unique."""
    try:
        pattern = get_pattern(pattern_id)
    except UnknownPattern as error:
        raise EditError(str(error), {"pattern": str(error)}) from None
    params = copy.deepcopy(params or {})
    if not isinstance(params, dict):
        raise EditError("params must be an object", {"params": "must be an object"})
    cleaned, errors = pattern.clean_params(params)
    if errors:
        raise EditError("invalid parameters", errors)
    params = {**fitted_params(composition, pattern, params), **params}
    cleaned = pattern.clean_params(params)[0]
    taken = container_names(composition)
    if pattern.id == "custom":
        if not cleaned["container"].get("name") or not cleaned["container"].get("image"):
            raise EditError("invalid parameters", {"container": "needs at least a name and an image"})
        if cleaned["container"]["name"] in taken:
            params["container"] = {**cleaned["container"], "name": _unique(cleaned["container"]["name"], taken)}
    elif cleaned["name"] in taken:
        params["name"] = _unique(cleaned["name"], taken)
    helper = Helper(composition.next_helper_id(), pattern.id, params)
    index = len(composition.helpers) if position is None else max(0, min(position, len(composition.helpers)))
    composition.helpers.insert(index, helper)
    if _needs_process_namespace(composition, helper):
        composition.options.share_process_namespace = True
    return helper


def _needs_process_namespace(composition: Composition, helper: Helper) -> bool:
    return place_helper(helper, get_pattern(helper.pattern), composition).contribution.needs_share_process_namespace


def update_params(composition: Composition, helper_id: str, params: dict[str, Any]) -> Helper:
    helper = find_helper(composition, helper_id)
    pattern = get_pattern(helper.pattern)
    cleaned, errors = pattern.clean_params(params)
    if errors:
        raise EditError("invalid parameters", errors)
    new_name = _container_name(pattern.id, cleaned)
    others = container_names(composition) - {_container_name(pattern.id, pattern.clean_params(helper.params)[0])}
    if new_name in others:
        field = "container" if pattern.id == "custom" else "name"
        raise EditError("invalid parameters", {field: f"another container is already named '{new_name}'"})
    defaults = pattern.defaults()
    # Only what differs from the defaults is stored, so better defaults reach old compositions.
    helper.params = {k: v for k, v in cleaned.items() if v != defaults.get(k) or pattern.id == "custom"}
    return helper


def find_helper(composition: Composition, helper_id: str) -> Helper:
    try:
        return composition.helper(helper_id)
    except KeyError:
        raise EditError(f"no helper '{helper_id}' in this composition") from None


def remove_helper(composition: Composition, helper_id: str) -> tuple[int, Helper]:
    helper = find_helper(composition, helper_id)
    index = composition.helpers.index(helper)
    composition.helpers.remove(helper)
    return index, helper


def move_helper(composition: Composition, helper_id: str, position: int) -> None:
    helper = find_helper(composition, helper_id)
    if not 0 <= position < len(composition.helpers):
        raise EditError(f"position must be from 0 to {len(composition.helpers) - 1}")
    composition.helpers.remove(helper)
    composition.helpers.insert(position, helper)


def reorder_helpers(composition: Composition, helper_ids: list[str]) -> None:
    """Puts the helpers in the given order; every helper must be named exactly once."""
    current = {h.id: h for h in composition.helpers}
    if sorted(helper_ids) != sorted(current):
        raise EditError("the new order must name every helper exactly once", {"order": ", ".join(helper_ids)})
    composition.helpers = [current[helper_id] for helper_id in helper_ids]


def set_native_sidecar(composition: Composition, helper_id: str, native: bool) -> None:
    helper = find_helper(composition, helper_id)
    pattern = get_pattern(helper.pattern)
    params = pattern.clean_params(helper.params)[0]
    if native and (not pattern.can_be_native_sidecar or effective_role(pattern, params) == "init"):
        raise EditError(f"{pattern.title} runs to completion; only long-running helpers can be native sidecars")
    helper.native_sidecar = native


def change_kind(composition: Composition, kind_name: str) -> None:
    """Makes the composition another kind of workload, with what that kind needs and nothing the old one had:
    its key fields' defaults, a restartPolicy its Pods may have, replicas only where it runs replicas."""
    if kind_name not in KINDS:
        raise EditError(f"unknown workload kind '{kind_name}'", {"kind": f"must be one of {', '.join(KINDS)}"})
    workload, new = composition.workload, KINDS[kind_name]
    if workload.kind == kind_name:
        return
    old = KINDS[workload.kind]
    workload.kind = kind_name
    # The old kind's spec fields mean nothing to the new one (a schedule on a Deployment is refused).
    workload.extra = {}
    for key_field in new.key_fields:
        if key_field.default is not None:
            set_path(workload.extra, key_field.path, key_field.default)
    if kind_name == "StatefulSet":
        _give_headless_service(composition)
    if new.replicated and not old.replicated and workload.replicas is None:
        workload.replicas = 1
    elif not new.replicated:
        workload.replicas = None
    if not new.needs_selector:
        workload.selector = None  # the server makes a Job's
    policy = composition.options.extra.get("restartPolicy")
    if new.runs_to_completion and policy not in ("Never", "OnFailure"):
        composition.options.extra["restartPolicy"] = "Never"
    elif not new.runs_to_completion and not new.is_pod and policy not in (None, "Always"):
        del composition.options.extra["restartPolicy"]  # a controller's Pods always restart


def _give_headless_service(composition: Composition) -> None:
    """A StatefulSet's Pods get their DNS names (web-0.web) from a headless Service: its own, unless it has one."""
    service = composition.options.service
    if not service.enabled:
        service.enabled = True
        service.extra["clusterIP"] = "None"
    composition.workload.extra["serviceName"] = service.name or composition.workload.name


# Container fields a helper's overrides may not set: its name is a parameter, and whether it restarts
# follows where it runs (an init container, or a native sidecar: the "Run as native sidecar" switch).
NOT_OVERRIDABLE = {
    "name": NAME_IS_A_PARAM,
    "restartPolicy": "restartPolicy follows where the helper runs: use Run as native sidecar",
}


def overridable_fields() -> list[str]:
    """The Container fields (the newest Kubernetes schema shipped) a helper may have set by hand."""
    return sorted(container_fields() - NOT_OVERRIDABLE.keys())


def set_override(composition: Composition, helper_id: str, field: str, value: Any) -> str:
    """Sets one top-level field of the helper's container by hand (None: the field is left out), over what
    its pattern makes; returns the revision message."""
    helper = find_helper(composition, helper_id)
    problem = NOT_OVERRIDABLE.get(field)
    if problem is None and field not in container_fields():
        problem = f"'{field}' is not a field of a Kubernetes container"
    if problem is None and helper.pattern == "custom":
        problem = "a custom container is written whole in its Container spec parameter: edit it there"
    if problem:
        raise EditError(f"cannot set {field} of {helper_id} by hand", {"field": problem})
    # Shapes only (render and lint rely on them); the values are the schema check's.
    shape = container_problems({"name": "", **({} if value is None else {field: value})}, "container")
    if nul_problems(value):  # PostgreSQL cannot store it, and no container setting means it
        shape = [NUL_PROBLEM]
    if shape:
        raise EditError(f"cannot set {field} of {helper_id} by hand",
                        {"value": shape[0].removeprefix("container.")})
    helper.overrides[field] = copy.deepcopy(value)
    return f"set {field} of {helper_id} by hand"


def reset_override(composition: Composition, helper_id: str, field: str | None) -> str:
    """Drops the helper's own value of `field` (every field: None), so the pattern's applies again;
    returns the revision message."""
    helper = find_helper(composition, helper_id)
    if field is None:
        if not helper.overrides:
            raise EditError(f"no field of {helper_id} is set by hand")
        helper.overrides = {}
        return f"reset every field of {helper_id} to the pattern's"
    if field not in helper.overrides:
        raise EditError(f"{field} of {helper_id} is not set by hand", {"field": "not set by hand"})
    del helper.overrides[field]
    return f"reset {field} of {helper_id} to the pattern's"


LANES = ("sequence", "beside", "pod")


def drop_helper(composition: Composition, pattern_id: str, lane: str, position: int | None = None
                ) -> tuple[Helper, str]:
    """A pattern dropped on the Pod: it lands where its role says, and the note says why when that is not
    where it was dropped. On the start-up sequence a long-running helper becomes a native sidecar; an
    init pattern dropped beside the app (or on the app, or the picture) joins the end of the sequence."""
    if lane not in LANES:
        raise EditError(f"unknown drop target '{lane}'", {"lane": f"must be one of {', '.join(LANES)}"})
    try:
        pattern = get_pattern(pattern_id)
    except UnknownPattern as error:
        raise EditError(str(error), {"pattern": str(error)}) from None
    runs_first = effective_role(pattern, pattern.defaults()) == "init"
    at = position if lane == "sequence" else None
    helper = add_helper(composition, pattern_id, None, at)
    if lane == "sequence" and not runs_first:
        if pattern.can_be_native_sidecar:
            helper.native_sidecar = True
            return helper, f"{pattern.title} runs as a native sidecar: it starts before the app and keeps running."
        return helper, f"{pattern.title} cannot start before the app: it was placed beside it."
    if lane == "beside" and runs_first:
        return helper, (f"{pattern.title} runs to completion before the app starts: it was placed in the start-up "
                        "sequence.")
    return helper, ""


def _volume_name_problem(composition: Composition, volume: dict[str, Any], index: int | None) -> str | None:
    """A name another volume of the Pod has: one the user declared, or one a helper declares itself (kept
    when a volume already had it: lint's volume-conflict says which definition wins)."""
    name = volume.get("name")
    declared = composition.options.volumes
    if any(other.get("name") == name for position, other in enumerate(declared) if position != index):
        return f"another volume is already named '{name}'"
    if index is not None and declared[index].get("name") == name:
        return None
    for placed, theirs in volumes.helper_volumes(build(composition)):
        if theirs.get("name") == name:
            return (f"helper {placed.helper.id} ('{placed.container_name}', {placed.pattern.title}) declares a "
                    f"volume named '{name}' itself: choose another name")
    return None


def _checked_volume(composition: Composition, volume: Any, index: int | None, verb: str) -> dict[str, Any]:
    if not isinstance(volume, dict):
        raise EditError(f"cannot {verb} the volume", {"source": "a volume is a mapping with a name and a source"})
    problems = volumes.volume_problems(volume)
    if nul_problems(volume):  # PostgreSQL cannot store it, and no volume setting means it
        problems["name" if "\x00" in str(volume.get("name")) else "source"] = NUL_PROBLEM
    taken = None if "name" in problems else _volume_name_problem(composition, volume, index)
    if taken:
        problems = {"name": taken, **problems}
    if problems:
        raise EditError(f"cannot {verb} volume {volume.get('name')!r}", problems)
    return copy.deepcopy(volume)


def _volume_index(composition: Composition, index: int) -> int:
    if not 0 <= index < len(composition.options.volumes):
        raise EditError(f"the Pod declares no volume number {index + 1}: reload the page")
    return index


def add_volume(composition: Composition, volume: dict[str, Any]) -> str:
    """Declares a volume of the Pod's own; returns the revision message."""
    checked = _checked_volume(composition, volume, None, "add")
    composition.options.volumes.append(checked)
    return f"added volume {checked['name']} ({volumes.describe(checked)})"


def update_volume(composition: Composition, index: int, volume: dict[str, Any]) -> str:
    """Replaces the Pod's volume at `index`; a new name is followed by the mounts the user wrote (the app's,
    a custom helper's, a helper's mounts set by hand). Returns the revision message."""
    before = composition.options.volumes[_volume_index(composition, index)]
    checked = _checked_volume(composition, volume, index, "change")
    composition.options.volumes[index] = checked
    old, new = before.get("name"), checked["name"]
    if old == new:
        return f"edited volume {new} ({volumes.describe(checked)})"
    followed = _rename_mounts(composition, old, new)
    mounts = f" and {followed} mount{'' if followed == 1 else 's'}" if followed else ""
    return f"renamed volume {old} to {new}{mounts}"


def _rename_mounts(composition: Composition, old: str, new: str) -> int:
    lists = [composition.app.volume_mounts]
    for helper in composition.helpers:
        container = helper.params.get("container") if helper.pattern == "custom" else None
        if isinstance(container, dict) and isinstance(container.get("volumeMounts"), list):
            lists.append(container["volumeMounts"])
        if isinstance(helper.overrides.get("volumeMounts"), list):
            lists.append(helper.overrides["volumeMounts"])
    renamed = 0
    for mounts in lists:
        for mount in mounts:
            if isinstance(mount, dict) and mount.get("name") == old:
                mount["name"] = new
                renamed += 1
    return renamed


def remove_volume(composition: Composition, index: int) -> str:
    """Removes the Pod's volume at `index`, even if a container still mounts it: lint's missing-volume then
    names the mount (and the message does), and Undo brings the volume back. Returns the revision message."""
    removed = composition.options.volumes.pop(_volume_index(composition, index))
    name = removed.get("name", "")
    rendering = build(composition)
    still = volumes.mounting(rendering, name)
    declared = {volume.get("name") for volume in rendering.pod_spec.get("volumes") or []}
    if still and name not in declared:  # (a helper may declare it too: an import keeps the Pod's order so)
        return f"removed volume {name} ({', '.join(still)} still mount{'s' if len(still) == 1 else ''} it)"
    return f"removed volume {name}"
