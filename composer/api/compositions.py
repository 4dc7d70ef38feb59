"""The compositions API (docs/api.md): patterns, compositions, import, manifests, problems, helpers."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse

from composer.api.decorators import JSON_TYPES, YAML_TYPES, ApiError, api_view, content_type, json_object
from composer.domain import edits
from composer.domain.model import Composition
from composer.domain.patterns import CATALOG
from composer.domain.render import render
from composer.domain.schema import resolve_version
from composer.domain.yamlio import dump_documents
from composer.http.preconditions import edited_revision, revision_etag
from composer.models import SavedComposition
from composer.services import access, imports
from composer.services.previews import kubernetes_version, preview_of


def _summary(saved: SavedComposition) -> dict[str, Any]:
    return {"id": saved.pk, "name": saved.name, "revision": saved.revision, "updated": saved.updated.isoformat()}


def _detail(saved: SavedComposition, status: int = 200, **extra: Any) -> JsonResponse:
    response = JsonResponse({**_summary(saved), "composition": saved.data, **extra}, status=status)
    response["ETag"] = revision_etag(saved.revision)  # for If-Match on the next edit
    return response


def _saved(request: HttpRequest, pk: int) -> SavedComposition:
    return access.composition_for(request.user, pk)


def _kubernetes_version(request: HttpRequest) -> str:
    version = request.GET.get("kubernetes_version") or kubernetes_version()
    try:
        resolve_version(version)
    except ValueError:
        raise ApiError(400, f"kubernetes_version {version!r} is not a version such as 1.33") from None
    return version


@api_view("GET")
def patterns(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"patterns": [pattern.as_dict() for pattern in CATALOG.values()]})


@api_view("GET", "POST")
def compositions(request: HttpRequest) -> JsonResponse:
    if request.method == "GET":
        visible = access.visible_compositions(request.user)
        return JsonResponse({"compositions": [_summary(s) for s in visible]})
    composition = Composition.from_dict(json_object(request))
    _check_patterns(composition)
    return _detail(SavedComposition.create(composition, owner=access.owner(request.user)), status=201)


def _check_patterns(composition: Composition) -> None:
    errors = {}
    for index, helper in enumerate(composition.helpers):
        pattern = CATALOG.get(helper.pattern)
        if pattern is None:
            errors[f"helpers[{index}].pattern"] = f"unknown pattern {helper.pattern!r}"
            continue
        for name, message in pattern.clean_params(helper.params)[1].items():
            errors[f"helpers[{index}].params.{name}"] = message
    if errors:
        raise ApiError(400, "invalid composition", errors)


@api_view("POST")
def import_composition(request: HttpRequest) -> JsonResponse:
    if content_type(request) not in YAML_TYPES:
        raise ApiError(415, "send the manifests as YAML with Content-Type: application/yaml")
    first, *others = imports.import_yaml(imports.decode(request.body), owner=access.owner(request.user))
    # The first workload's composition in full, as for one; `created` lists every one (a file of several).
    created = [{**_summary(item.saved), "kind": item.saved.data["workload"]["kind"], "warnings": item.warnings}
               for item in [first, *others]]
    return _detail(first.saved, status=201, warnings=first.warnings, created=created)


@api_view("GET", "PUT", "DELETE")
def composition(request: HttpRequest, pk: int) -> HttpResponse:
    saved = _saved(request, pk)
    if request.method == "DELETE":
        saved.delete()
        return HttpResponse(status=204)
    if request.method == "PUT" and content_type(request) in YAML_TYPES:
        # The YAML of one workload, read as an import (helpers recognised by shape), as the composer's YAML editor does.
        replaced = imports.replace_from_yaml(saved, imports.decode(request.body), "replaced with YAML through the API",
                                             edited_revision(request))
        return _detail(saved, warnings=replaced.warnings, changed=replaced.changed)
    if request.method == "PUT":
        if content_type(request) not in JSON_TYPES:
            raise ApiError(415, "send the composition as JSON with Content-Type: application/json, or the YAML of "
                                "one workload with Content-Type: application/yaml")
        replacement = Composition.from_dict(json_object(request))
        _check_patterns(replacement)
        saved.record(replacement, "replaced through the API", edited_revision(request))
    return _detail(saved)


@api_view("GET")
def manifest(request: HttpRequest, pk: int) -> HttpResponse:
    composition = _saved(request, pk).composition()
    _kubernetes_version(request)  # refused like /problems: it may be a typo the caller relies on
    response = HttpResponse(dump_documents(render(composition)), content_type="application/yaml; charset=utf-8")
    if request.GET.get("download"):
        response["Content-Disposition"] = f'attachment; filename="{composition.workload.name}.yaml"'
    return response


@api_view("GET")
def problems(request: HttpRequest, pk: int) -> JsonResponse:
    saved = _saved(request, pk)
    result = preview_of(saved.composition(), _kubernetes_version(request), saved=saved)
    return JsonResponse({
        "kubernetes_version": _kubernetes_version(request),
        "errors": result.error_count,
        "problems": [p.as_dict() for p in result.problems],
    })


@api_view("POST")
def helpers(request: HttpRequest, pk: int) -> JsonResponse:
    saved = _saved(request, pk)
    body = json_object(request)
    unknown = set(body) - {"pattern", "params", "position", "native_sidecar"}
    if unknown:
        raise ApiError(400, f"unknown fields: {', '.join(sorted(unknown))}")
    if not isinstance(body.get("pattern"), str):
        raise ApiError(400, "pattern is required", {"pattern": "a pattern id from /api/v1/patterns"})
    position = body.get("position")
    if position is not None and (not isinstance(position, int) or isinstance(position, bool)):
        raise ApiError(400, "position must be a whole number", {"position": "a whole number"})
    current = saved.composition()
    helper = edits.add_helper(current, body["pattern"], body.get("params"), position)
    if body.get("native_sidecar"):
        edits.set_native_sidecar(current, helper.id, True)
    saved.record(current, f"added {helper.pattern}", edited_revision(request))
    return _detail(saved, status=201, helper={"id": helper.id, "pattern": helper.pattern})


@api_view("PATCH", "DELETE")
def helper(request: HttpRequest, pk: int, helper_id: str) -> HttpResponse:
    saved = _saved(request, pk)
    current = saved.composition()
    edits.find_helper(current, helper_id)
    if request.method == "DELETE":
        _index, removed = edits.remove_helper(current, helper_id)
        saved.record(current, f"removed {removed.pattern}", edited_revision(request))
        return _detail(saved)
    body = json_object(request)
    unknown = set(body) - {"params", "native_sidecar", "position"}
    if unknown:
        raise ApiError(400, f"unknown fields: {', '.join(sorted(unknown))}")
    if "params" in body:
        if not isinstance(body["params"], dict):
            raise ApiError(400, "params must be an object")
        edits.update_params(current, helper_id, body["params"])
    if "native_sidecar" in body:
        if not isinstance(body["native_sidecar"], bool):
            raise ApiError(400, "native_sidecar must be true or false")
        edits.set_native_sidecar(current, helper_id, body["native_sidecar"])
    if "position" in body:
        if not isinstance(body["position"], int) or isinstance(body["position"], bool):
            raise ApiError(400, "position must be a whole number")
        edits.move_helper(current, helper_id, body["position"])
    saved.record(current, f"edited helper {helper_id}", edited_revision(request))
    return _detail(saved)


@api_view("PUT", "DELETE")
def helper_override(request: HttpRequest, pk: int, helper_id: str, field: str) -> JsonResponse:
    """PUT {"value": …} sets one field of the helper's container by hand (null: left out); DELETE resets
    it to the pattern's."""
    saved = _saved(request, pk)
    current = saved.composition()
    if request.method == "DELETE":
        message = edits.reset_override(current, helper_id, field)
    else:
        body = json_object(request)
        if set(body) != {"value"}:
            raise ApiError(400, 'send {"value": …} (null leaves the field out)', {"value": "required, and alone"})
        message = edits.set_override(current, helper_id, field, body["value"])
    saved.record(current, message, edited_revision(request))
    return _detail(saved)


@api_view("DELETE")
def helper_overrides(request: HttpRequest, pk: int, helper_id: str) -> JsonResponse:
    """Every field of the helper's container set by hand back to the pattern's."""
    saved = _saved(request, pk)
    current = saved.composition()
    message = edits.reset_override(current, helper_id, None)
    saved.record(current, message, edited_revision(request))
    return _detail(saved)


@api_view("POST")
def helper_order(request: HttpRequest, pk: int) -> JsonResponse:
    saved = _saved(request, pk)
    order = json_object(request).get("order")
    if not isinstance(order, list) or not all(isinstance(item, str) for item in order):
        raise ApiError(400, "order must be a list of helper ids", {"order": "a list of helper ids"})
    current = saved.composition()
    edits.reorder_helpers(current, order)
    saved.record(current, "reordered helpers", edited_revision(request))
    return _detail(saved)


# --- deploy -----------------------------------------------------------------------------------


