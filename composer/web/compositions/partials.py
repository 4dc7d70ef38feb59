"""htmx fragments: every edit on the composer page, saved at once (autosave).

Structural edits (add, remove, reorder, native sidecar, undo) return the whole
workspace; field edits return the preview and the messages beside the fields, so
the form a user is typing in is never replaced under their fingers.

An edit made on a revision that is no longer the newest (another tab, another person saved since;
composer.js sends the revision the page shows as If-Match) changes nothing: the answer is a 409
that puts a message with a Reload button above the composer (``refuses_stale_edits``).
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRedirect, trigger_client_event

from composer.domain import edits, volumes
from composer.domain.model import Composition
from composer.domain.patterns import get_pattern
from composer.domain.patterns.base import ParamKind, Pattern
from composer.domain.render import build
from composer.domain.yamlio import MAX_YAML_BYTES, YamlError, load_documents, load_value
from composer.http.preconditions import BadPrecondition, edited_revision
from composer.models import SavedComposition, StaleRevision
from composer.services import imports
from composer.web.compositions import container_inputs, containers
from composer.web.compositions import fields as form_fields
from composer.web.compositions import volumes as volume_forms
from composer.web.compositions.workspace import (
    helper_cards,
    override_form_id,
    override_input_id,
    render_after_field_edit,
    render_workspace,
)
from composer.web.objects import composition_or_404
from composer.web.requests import HtmxHttpRequest

APP_FIELDS = container_inputs.field_names()
POD_FIELDS = [
    "kind", "name", "namespace", "labels", "replicas", "termination_grace_period_seconds", "service_type",
    "service_ports",
]


def refuses_stale_edits(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A stale edit's 409 (or a malformed If-Match's 400): the message and a Reload button in the page's
    conflict region, whatever the edit's own target was, and the saved state saying nothing was saved."""

    @functools.wraps(view)
    def wrapper(request: HtmxHttpRequest, pk: int, *args, **kwargs) -> HttpResponse:
        try:
            return view(request, pk, *args, **kwargs)
        except StaleRevision as error:
            return _refused_edit(request, pk, error.message, error.edited, status=409)
        except BadPrecondition as error:
            return _refused_edit(request, pk, error.message, None, status=400)

    return wrapper


def _refused_edit(request: HtmxHttpRequest, pk: int, message: str, shown_revision: int | None,
                  status: int) -> HttpResponse:
    saved = composition_or_404(request, pk)
    context = {"saved": saved, "message": message,
               # the page keeps sending the revision it shows, so later edits are refused too until it reloads
               "shown_revision": shown_revision if shown_revision is not None else saved.revision}
    response = render(request, "composer/compositions/_edit_conflict.html", context, status=status)
    response["HX-Retarget"] = "#edit-conflict"
    response["HX-Reswap"] = "outerHTML"
    return response


def _record(request: HtmxHttpRequest, saved: SavedComposition, composition: Composition, message: str,
            field_edit: bool = False) -> None:
    """`field_edit`: typing in one field (or set of fields) soon after makes one revision, not one per change."""
    saved.record(composition, message, edited_revision(request), coalesce=field_edit)


def _edit_failed(request: HtmxHttpRequest, saved: SavedComposition, error: edits.EditError,
                 **extra) -> HttpResponse:
    response = render_workspace(request, saved, notice=_message(error), notice_is_error=True, **extra)
    response.status_code = 400  # composer/http/errors.py: bad input, as the API answers it
    return response


def _message(error: edits.EditError) -> str:
    details = "; ".join(f"{field}: {message}" for field, message in error.errors.items())
    return f"{error}: {details}" if details else str(error)


@require_POST
@refuses_stale_edits
def add_helper(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    saved = composition_or_404(request, pk)
    composition = saved.composition()
    position = request.POST.get("position", "")
    at = int(position) if position.isdigit() else None
    lane = request.POST.get("lane", "")
    try:
        if lane:  # dropped somewhere on the Pod: it lands where its role says
            helper, note = edits.drop_helper(composition, request.POST.get("pattern", ""), lane, at)
        else:
            helper, note = edits.add_helper(composition, request.POST.get("pattern", ""), None, at), ""
    except edits.EditError as error:
        return _edit_failed(request, saved, error)
    _record(request, saved, composition, f"added {helper.pattern}")
    title = get_pattern(helper.pattern).title
    return render_workspace(request, saved, notice=f"Added {title}. {note}".strip(), opened=helper.id)


@require_POST
@refuses_stale_edits
def remove_helper(request: HtmxHttpRequest, pk: int, helper_id: str) -> HttpResponse:
    saved = composition_or_404(request, pk)
    composition = saved.composition()
    before = saved.revision
    try:
        _index, removed = edits.remove_helper(composition, helper_id)
    except edits.EditError as error:
        return _edit_failed(request, saved, error)
    _record(request, saved, composition, f"removed {removed.pattern}")
    return render_workspace(
        request, saved, notice=f"Removed {get_pattern(removed.pattern).title}.", undo_revision=before
    )


@require_POST
@refuses_stale_edits
def move_helper(request: HtmxHttpRequest, pk: int, helper_id: str) -> HttpResponse:
    """Moves a helper one step earlier or later in the run order (the keyboard alternative to dragging)."""
    saved = composition_or_404(request, pk)
    composition = saved.composition()
    try:
        helper = edits.find_helper(composition, helper_id)
        order = _sequence_aware_order(composition, helper_id, request.POST.get("direction", ""))
        edits.reorder_helpers(composition, order)
    except edits.EditError as error:
        return _edit_failed(request, saved, error)
    _record(request, saved, composition, f"moved {helper.pattern}")
    return render_workspace(request, saved, focus=f"move-{request.POST.get('direction')}-{helper_id}")


def _sequence_aware_order(composition: Composition, helper_id: str, direction: str) -> list[str]:
    """Swaps the helper with its neighbour among the helpers shown in the same list."""
    if direction not in ("up", "down"):
        raise edits.EditError("direction must be up or down")
    sequence, beside = helper_cards(build(composition))
    for cards in (sequence, beside):
        ids = [card.id for card in cards]
        if helper_id in ids:
            index = ids.index(helper_id)
            other = index - 1 if direction == "up" else index + 1
            if not 0 <= other < len(ids):
                raise edits.EditError(f"'{helper_id}' is already {'first' if direction == 'up' else 'last'}")
            order = [h.id for h in composition.helpers]
            a, b = order.index(ids[index]), order.index(ids[other])
            order[a], order[b] = order[b], order[a]
            return order
    raise edits.EditError(f"no helper '{helper_id}' in this composition")


@require_POST
@refuses_stale_edits
def reorder_helpers(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """The init sequence after a drag: the listed helpers take the places the sequence had."""
    saved = composition_or_404(request, pk)
    composition = saved.composition()
    dragged = request.POST.getlist("order")
    current = [h.id for h in composition.helpers]
    slots = [index for index, helper_id in enumerate(current) if helper_id in dragged]
    if sorted(dragged) != sorted(current[i] for i in slots) or len(slots) != len(dragged):
        return _edit_failed(request, saved, edits.EditError("the order names unknown or repeated helpers"))
    for slot, helper_id in zip(slots, dragged, strict=True):
        current[slot] = helper_id
    edits.reorder_helpers(composition, current)
    _record(request, saved, composition, "reordered helpers")
    return render_workspace(request, saved)


@require_POST
@refuses_stale_edits
def native_sidecar(request: HtmxHttpRequest, pk: int, helper_id: str) -> HttpResponse:
    saved = composition_or_404(request, pk)
    composition = saved.composition()
    native = request.POST.get("native_sidecar") == "on"
    try:
        edits.set_native_sidecar(composition, helper_id, native)
    except edits.EditError as error:
        return _edit_failed(request, saved, error)
    _record(request, saved, composition, f"{'made' if native else 'unmade'} {helper_id} a native sidecar")
    return render_workspace(request, saved, focus=f"native-{helper_id}")


def _params_from_post(pattern: Pattern, post, current: dict) -> tuple[dict, dict[str, str]]:
    params, errors = {}, {}
    for param in pattern.params:
        if param.kind == ParamKind.BOOL:
            params[param.name] = post.get(param.name) == "on"
        elif param.kind == ParamKind.CONTAINER and param.name not in post:
            # the card's container editor (the API and older pages send the whole spec as YAML)
            try:
                params[param.name] = containers.edit_container(current.get(param.name) or {}, post)
            except form_fields.FormErrors as error:
                errors.update(error.errors)
        elif param.kind == ParamKind.CONTAINER:
            try:
                documents = load_documents(post.get(param.name, ""))
            except YamlError as error:
                errors[param.name] = str(error)
                continue
            if len(documents) != 1:
                errors[param.name] = "write one YAML mapping (a container spec)"
                continue
            params[param.name] = documents[0]
        elif param.name in post:
            params[param.name] = post[param.name]
    return params, errors


@require_POST
@refuses_stale_edits
def helper_params(request: HtmxHttpRequest, pk: int, helper_id: str) -> HttpResponse:
    saved = composition_or_404(request, pk)
    composition = saved.composition()
    try:
        helper = edits.find_helper(composition, helper_id)
    except edits.EditError as error:
        return _edit_failed(request, saved, error)
    pattern = get_pattern(helper.pattern)
    editor = any(param.kind == ParamKind.CONTAINER and param.name not in request.POST for param in pattern.params)
    fields = [param.name for param in pattern.params if not (editor and param.kind == ParamKind.CONTAINER)]
    if editor:
        fields += container_inputs.field_names()
    params, errors = _params_from_post(pattern, request.POST, pattern.clean_params(helper.params)[0])
    if not errors:
        try:
            edits.update_params(composition, helper_id, params)
        except edits.EditError as error:
            errors = error.errors or {"": str(error)}
    if editor and "container" in errors:  # the spec's name (taken, missing) or image: beside its name
        errors["name"] = errors.pop("container")
    if not errors:
        _record(request, saved, composition, f"edited {pattern.title}", field_edit=True)
    return render_after_field_edit(request, saved, f"helper-{helper_id}", fields, errors)


def _beside_the_form(response: HttpResponse) -> HttpResponse:
    """An add form refused: the messages go beside the form in the preview's swap; the form stays as typed."""
    response["HX-Retarget"] = "#preview"
    response["HX-Reswap"] = "outerHTML"
    return response


def _override_index(composition: Composition, helper_id: str, field: str) -> int:
    """Where `field` is (or, set now, will be) among the helper's overrides: its editor's element ids."""
    try:
        names = list(composition.helper(helper_id).overrides)
    except KeyError:
        return 0
    return names.index(field) if field in names else len(names)


@require_POST
@refuses_stale_edits
def edit_override(request: HtmxHttpRequest, pk: int, helper_id: str) -> HttpResponse:
    """A field set by hand, edited where it is shown: a field edit (the preview, the message beside it)."""
    saved = composition_or_404(request, pk)
    composition = saved.composition()
    field = request.POST.get("field", "")
    index = _override_index(composition, helper_id, field)
    errors: dict[str, str] = {}
    try:
        message = edits.set_override(composition, helper_id, field, load_value(request.POST.get("value", "")))
    except YamlError as error:
        errors = {"value": str(error)}
    except edits.EditError as error:
        errors = {"value": "; ".join(error.errors.values()) or str(error)}
    else:
        _record(request, saved, composition, message, field_edit=True)
    return render_after_field_edit(request, saved, override_form_id(helper_id, index), ["value"], errors,
                                   edited_override=(helper_id, index))


@require_POST
@refuses_stale_edits
def add_override(request: HtmxHttpRequest, pk: int, helper_id: str) -> HttpResponse:
    """Sets another field by hand: the card shows it (the workspace), its editor focused; a bad field or
    value is a message beside it, and the form stays as typed."""
    saved = composition_or_404(request, pk)
    composition = saved.composition()
    field = request.POST.get("field", "")
    errors = {} if field else {"field": "choose a container field"}
    try:
        value = load_value(request.POST.get("value", ""))
    except YamlError as error:
        errors["value"] = str(error)
    if not errors:
        try:
            message = edits.set_override(composition, helper_id, field, value)
        except edits.EditError as error:
            errors = error.errors or {"field": str(error)}
    if errors:
        return _beside_the_form(render_after_field_edit(request, saved, f"override-add-{helper_id}",
                                                        ["field", "value"], errors))
    _record(request, saved, composition, message)
    focus = override_input_id(helper_id, _override_index(composition, helper_id, field))
    return render_workspace(request, saved, overrides_open=helper_id, focus=focus)


@require_POST
@refuses_stale_edits
def reset_override(request: HtmxHttpRequest, pk: int, helper_id: str) -> HttpResponse:
    """One field set by hand back to the pattern's; the panel stays open, focused."""
    return _reset(request, pk, helper_id, request.POST.get("field", ""))


@require_POST
@refuses_stale_edits
def reset_overrides(request: HtmxHttpRequest, pk: int, helper_id: str) -> HttpResponse:
    """Every field set by hand back to the pattern's; the panel stays open, focused."""
    return _reset(request, pk, helper_id, None)


def _reset(request: HtmxHttpRequest, pk: int, helper_id: str, field: str | None) -> HttpResponse:
    saved = composition_or_404(request, pk)
    composition = saved.composition()
    kept_open = {"overrides_open": helper_id, "focus": f"overrides-{helper_id}"}
    try:
        message = edits.reset_override(composition, helper_id, field)
    except edits.EditError as error:
        return _edit_failed(request, saved, error, **kept_open)
    _record(request, saved, composition, message)
    what = "Every field is" if field is None else f"{field or repr(field)} is"
    return render_workspace(request, saved, notice=f"{what} the pattern's again.", **kept_open)


def _form_edit(request: HtmxHttpRequest, pk: int, apply_form, form_id: str, fields: list[str], message: str):
    saved = composition_or_404(request, pk)
    try:
        composition = apply_form(saved.composition(), request.POST)
    except form_fields.FormErrors as error:
        return render_after_field_edit(request, saved, form_id, fields, error.errors)
    _record(request, saved, composition, message, field_edit=True)
    return render_after_field_edit(request, saved, form_id, fields, {})


@require_POST
@refuses_stale_edits
def app_settings(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    return _form_edit(request, pk, containers.apply_app_form, "app", APP_FIELDS, "edited the app container")


@require_POST
@refuses_stale_edits
def pod_settings(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """A kind change also brings the new kind's own fields into the form (its other fields stay as typed)."""
    saved = composition_or_404(request, pk)
    before = saved.composition().workload
    kind_before, labels_before = before.kind, before.labels
    fields = POD_FIELDS + form_fields.kind_field_names(kind_before)
    try:
        composition = form_fields.apply_pod_form(saved.composition(), request.POST)
    except form_fields.FormErrors as error:
        return render_after_field_edit(request, saved, "pod", fields, error.errors)
    _record(request, saved, composition, "edited the Pod settings", field_edit=True)
    return render_after_field_edit(request, saved, "pod", fields, {},
                                   kind_changed=composition.workload.kind != kind_before,
                                   labels_changed=composition.workload.labels != labels_before)


@require_POST
@refuses_stale_edits
def restore(request: HtmxHttpRequest, pk: int, number: int) -> HttpResponse:
    """Undo and history restore: the chosen revision becomes the newest one."""
    saved = composition_or_404(request, pk)
    if not saved.revisions.filter(number=number).exists():
        return _edit_failed(request, saved, edits.EditError(f"revision {number} is no longer kept"))
    saved.restore(number, edited_revision(request))
    if request.htmx:
        if request.POST.get("from") == "history":
            return HttpResponseClientRedirect(saved.get_absolute_url())
        return render_workspace(request, saved, notice=f"Restored revision {number}.")
    return redirect(saved)


@require_POST
@refuses_stale_edits
def yaml_source(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """The YAML editor's Save: the text goes through the importer (helpers recognised by shape stay patterns)
    and replaces the composition as its next revision, same id. A refusal (unreadable YAML, manifests that
    make no composition, several workloads) saves nothing: its message, with the YAML error's line and
    column, goes to the editor's alert region and the editor keeps the text."""
    saved = composition_or_404(request, pk)
    before = saved.revision
    try:
        text = request.POST.get("yaml", "")
    except RequestDataTooBig:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        return _yaml_refused(request, imports.ImportRefused(
            f"the YAML is too large to read: the limit is {limit:,} bytes; a composition's YAML is limited to "
            f"{MAX_YAML_BYTES:,} bytes"))
    try:
        replaced = imports.replace_from_yaml(saved, text, "edited the YAML", edited_revision(request))
    except imports.ImportRefused as error:
        return _yaml_refused(request, error)
    if not request.htmx:
        return redirect(saved)
    if replaced.changed:
        response = render_workspace(request, saved, notice="Saved the YAML.", notice_notes=replaced.warnings,
                                    undo_revision=before)
    else:
        response = render_workspace(request, saved, notice="No changes: the YAML says what the composition says.",
                                    notice_notes=replaced.warnings)
    # composer's yaml-editor.js closes the editor once the new workspace is in
    return trigger_client_event(response, "yaml-saved", {"changed": replaced.changed}, after="settle")


def _yaml_refused(request: HtmxHttpRequest, error: imports.ImportRefused) -> HttpResponse:
    context = {"message": error.message, "line": error.line, "column": error.column}
    response = render(request, "composer/compositions/_yaml_error.html", context, status=400)
    response["HX-Retarget"] = "#yaml-editor-error"  # the editor's alert region: the editor and its text stay
    response["HX-Reswap"] = "innerHTML"
    return response


def _written_mounts(composition: Composition) -> list:
    """Every mount the user wrote: the app's, and each helper's (a custom container, fields set by hand)."""
    return copy.deepcopy([composition.app.volume_mounts, *((h.params, h.overrides) for h in composition.helpers)])


def _volume_index(request: HtmxHttpRequest) -> int:
    index = request.POST.get("index", "")
    if not (index.isascii() and index.isdigit() and len(index) <= 6):
        raise edits.EditError("which volume? (the form sends its place in the list)")
    return int(index)


@require_POST
@refuses_stale_edits
def add_volume(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Declares a volume: the card shows it (the workspace, the app's mount hint naming it); a bad field is a
    message beside it, and the form stays as typed."""
    saved = composition_or_404(request, pk)
    composition = saved.composition()
    kind = request.POST.get("kind", "")
    try:
        volume = volume_forms.volume_from_form(request.POST, kind)
        message = edits.add_volume(composition, volume)
    except form_fields.FormErrors as error:
        errors = error.errors
    except edits.EditError as error:
        errors = volume_forms.form_errors(kind, error.errors or {"name": str(error)})
    else:
        _record(request, saved, composition, message)
        return render_workspace(request, saved, volumes_open=True, focus="volumes-summary",
                                notice=f"Added volume {volume['name']}: mount it in a container's Volume mounts "
                                       f"as '{volume['name']} /path'.")
    return _beside_the_form(render_after_field_edit(request, saved, "volume-add", list(volume_forms.FIELDS), errors))


@require_POST
@refuses_stale_edits
def update_volume(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """A volume's fields, edited where they are shown: a field edit (the preview, the messages beside them).
    A new name that mounts follow shows the whole workspace: the app card's mounts changed too."""
    saved = composition_or_404(request, pk)
    composition = saved.composition()
    try:
        index = _volume_index(request)
        if index >= len(composition.options.volumes):
            raise edits.EditError(f"the Pod declares no volume number {index + 1}: reload the page")
        before = composition.options.volumes[index]
        kind = volumes.volume_kind(before)
        volume = volume_forms.volume_from_form(request.POST, kind, before)
        mounts = _written_mounts(composition)
        message = edits.update_volume(composition, index, volume)
    except form_fields.FormErrors as error:
        errors = error.errors
    except edits.EditError as error:
        if not error.errors:  # no such volume (any more): the page is out of date
            return _edit_failed(request, saved, error, volumes_open=True)
        errors = volume_forms.form_errors(kind, error.errors)
    else:
        _record(request, saved, composition, message)
        if _written_mounts(composition) != mounts:
            return render_workspace(request, saved, volumes_open=True, focus=f"vol-{index}-name",
                                    notice=f"{message[0].upper()}{message[1:]}.")
        errors = {}
    return render_after_field_edit(request, saved, f"volume-{index}", list(volume_forms.FIELDS), errors)


@require_POST
@refuses_stale_edits
def remove_volume(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    saved = composition_or_404(request, pk)
    composition = saved.composition()
    before = saved.revision
    try:
        message = edits.remove_volume(composition, _volume_index(request))
    except edits.EditError as error:
        return _edit_failed(request, saved, error, volumes_open=True)
    _record(request, saved, composition, message)
    name, _, still = message.removeprefix("removed volume ").partition(" (")
    notice = f"Removed volume {name}." + (f" {still.removesuffix(')')}: remove the mount too, or undo."
                                          if still else "")
    return render_workspace(request, saved, notice=notice, undo_revision=before, volumes_open=True)
