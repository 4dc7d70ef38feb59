"""The JSON/YAML API (docs/api.md). Every error is a 4xx JSON body; nothing is saved on failure."""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.defaults import page_not_found

from composer import access, cluster, deploys
from composer.domain import edits
from composer.domain.importer import ManifestImportError, import_manifests
from composer.domain.model import Composition, CompositionError
from composer.domain.patterns import CATALOG
from composer.domain.preview import preview
from composer.domain.render import render
from composer.domain.schema import resolve_version
from composer.domain.yamlio import YamlError, dump_documents, load_documents
from composer.models import DeployRecord, SavedComposition
from composer.views.workspace import owner_of

JSON_TYPES = ("application/json",)
YAML_TYPES = ("application/yaml", "application/x-yaml", "text/yaml")


class ApiError(Exception):
    def __init__(self, status: int, message: str, errors: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.message, self.errors = status, message, errors or {}

    def response(self) -> JsonResponse:
        body: dict[str, Any] = {"error": self.message}
        if self.errors:
            body["errors"] = self.errors
        return JsonResponse(body, status=self.status)


def api_view(*methods: str) -> Callable:
    """Allows only `methods`; turns every user error into a JSON 4xx.

    The API is exempt from the CSRF token because it accepts only JSON and YAML
    bodies: a browser cannot send those cross-site without a CORS preflight.
    """

    def decorate(view: Callable) -> Callable:
        @csrf_exempt
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method not in methods:
                response = ApiError(405, f"method {request.method} not allowed here").response()
                response["Allow"] = ", ".join(methods)
                return response
            try:
                return view(request, *args, **kwargs)
            except RequestDataTooBig:
                limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
                return ApiError(413, f"the body is too large: the limit is {limit:,} bytes").response()
            except ApiError as error:
                return error.response()
            except access.Refused as error:
                return ApiError(403, str(error)).response()
            except deploys.DeployRefused as error:
                return ApiError(400, str(error)).response()
            except CompositionError as error:
                return ApiError(400, "invalid composition", error.errors).response()
            except edits.EditError as error:
                return ApiError(400, str(error), error.errors).response()

        return wrapper

    return decorate


def _content_type(request: HttpRequest) -> str:
    return request.content_type.split(";")[0].strip().lower()


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(f"{text} is too large a number")
    return number


def _json_body(request: HttpRequest) -> Any:
    if _content_type(request) not in JSON_TYPES:
        raise ApiError(415, "send the body as JSON with Content-Type: application/json")
    try:
        body = json.loads(request.body or b"null", parse_constant=_refuse_constant, parse_float=_finite_float)
        # Lone surrogates ("\ud800") decode, but could never be stored or shown.
        json.dumps(body, ensure_ascii=False).encode()
    except RecursionError:
        raise ApiError(400, "the body is not valid JSON: nested too deeply") from None
    except (ValueError, UnicodeError) as error:
        raise ApiError(400, f"the body is not valid JSON: {error}") from None
    return body


def _json_object(request: HttpRequest) -> dict[str, Any]:
    body = _json_body(request)
    if not isinstance(body, dict):
        raise ApiError(400, "the body must be a JSON object")
    return body


def _saved(request: HttpRequest, pk: int) -> SavedComposition:
    try:
        return SavedComposition.objects.visible_to(request.user).get(pk=pk)
    except SavedComposition.DoesNotExist:
        raise ApiError(404, f"no composition with id {pk}") from None


def _summary(saved: SavedComposition) -> dict[str, Any]:
    return {"id": saved.pk, "name": saved.name, "revision": saved.revision, "updated": saved.updated.isoformat()}


def _detail(saved: SavedComposition, status: int = 200, **extra: Any) -> JsonResponse:
    return JsonResponse({**_summary(saved), "composition": saved.data, **extra}, status=status)


def _kubernetes_version(request: HttpRequest) -> str:
    version = request.GET.get("kubernetes_version") or settings.PODSTUDIO_KUBERNETES_VERSION
    try:
        resolve_version(version)
    except ValueError:
        raise ApiError(400, f"kubernetes_version {version!r} is not a version such as 1.33") from None
    return version


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Every 404: JSON under /api/ (as docs/api.md promises), templates/404.html elsewhere."""
    if request.path.startswith("/api/"):
        return ApiError(404, f"no API endpoint at {request.path}; see docs/api.md").response()
    return page_not_found(request, exception)


@api_view("GET")
def patterns(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"patterns": [pattern.as_dict() for pattern in CATALOG.values()]})


@api_view("GET", "POST")
def compositions(request: HttpRequest) -> JsonResponse:
    if request.method == "GET":
        visible = SavedComposition.objects.visible_to(request.user)
        return JsonResponse({"compositions": [_summary(s) for s in visible]})
    composition = Composition.from_dict(_json_object(request))
    _check_patterns(composition)
    return _detail(SavedComposition.create(composition, owner=owner_of(request)), status=201)


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
    if _content_type(request) not in YAML_TYPES:
        raise ApiError(415, "send the manifests as YAML with Content-Type: application/yaml")
    try:
        documents = load_documents(request.body.decode("utf-8"))
        result = import_manifests(documents)
    except UnicodeDecodeError:
        raise ApiError(400, "the body is not UTF-8 text") from None
    except YamlError as error:
        raise ApiError(400, str(error), _yaml_position(error)) from None
    except ManifestImportError as error:
        raise ApiError(400, str(error)) from None
    saved = SavedComposition.create(result.composition, message="imported from YAML", owner=owner_of(request))
    return _detail(saved, status=201, warnings=result.warnings)


def _yaml_position(error: YamlError) -> dict[str, str]:
    if error.line is None:
        return {}
    return {"line": str(error.line), "column": str(error.column)}


@api_view("GET", "PUT", "DELETE")
def composition(request: HttpRequest, pk: int) -> HttpResponse:
    saved = _saved(request, pk)
    if request.method == "DELETE":
        saved.delete()
        return HttpResponse(status=204)
    if request.method == "PUT":
        replacement = Composition.from_dict(_json_object(request))
        _check_patterns(replacement)
        saved.record(replacement, "replaced through the API")
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
    result = preview(_saved(request, pk).composition(), _kubernetes_version(request))
    return JsonResponse({
        "kubernetes_version": _kubernetes_version(request),
        "errors": result.error_count,
        "problems": [p.as_dict() for p in result.problems],
    })


@api_view("POST")
def helpers(request: HttpRequest, pk: int) -> JsonResponse:
    saved = _saved(request, pk)
    body = _json_object(request)
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
    saved.record(current, f"added {helper.pattern}")
    return _detail(saved, status=201, helper={"id": helper.id, "pattern": helper.pattern})


@api_view("PATCH", "DELETE")
def helper(request: HttpRequest, pk: int, helper_id: str) -> HttpResponse:
    saved = _saved(request, pk)
    current = saved.composition()
    edits.find_helper(current, helper_id)
    if request.method == "DELETE":
        _index, removed = edits.remove_helper(current, helper_id)
        saved.record(current, f"removed {removed.pattern}")
        return _detail(saved)
    body = _json_object(request)
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
    saved.record(current, f"edited helper {helper_id}")
    return _detail(saved)


@api_view("POST")
def helper_order(request: HttpRequest, pk: int) -> JsonResponse:
    saved = _saved(request, pk)
    order = _json_object(request).get("order")
    if not isinstance(order, list) or not all(isinstance(item, str) for item in order):
        raise ApiError(400, "order must be a list of helper ids", {"order": "a list of helper ids"})
    current = saved.composition()
    edits.reorder_helpers(current, order)
    saved.record(current, "reordered helpers")
    return _detail(saved)


# --- deploy -----------------------------------------------------------------------------------

# How a failed deploy answers: the record is always in the body; the status says what went wrong.
STATUS_FOR_ERROR = {
    "unauthorized": 401, "forbidden": 403, "not_found": 404, "conflict": 409, "invalid": 422, "immutable": 422,
    "unsupported": 422, "rate_limited": 429, "unreachable": 502, "server": 502, "timeout": 504,
}


def _context_json(context: cluster.ContextInfo) -> dict[str, Any]:
    return {"name": context.name, "cluster": context.cluster, "namespace": context.namespace,
            "server": context.server, "current": context.is_current, "in_cluster": context.in_cluster}


def record_json(record: DeployRecord) -> dict[str, Any]:
    return {
        "id": record.pk, "action": record.action, "outcome": record.outcome, "message": record.message,
        "error_kind": record.error_kind or None, "composition": record.composition_id,
        "composition_name": record.composition_name, "revision": record.revision, "context": record.context,
        "namespace": record.namespace, "user": record.user, "force": record.force,
        "created": record.created.isoformat(), "results": record.results, "manifest": record.manifest_yaml,
        "undeploy_of": record.undeploy_of_id,
    }


def _record_response(record: DeployRecord) -> JsonResponse:
    status = 201 if record.succeeded else STATUS_FOR_ERROR.get(record.error_kind, 502)
    return JsonResponse(record_json(record), status=status)


@api_view("GET")
def contexts(request: HttpRequest) -> JsonResponse:
    try:
        found = cluster.list_contexts()
    except cluster.ClusterError as error:
        raise ApiError(400, error.message) from None
    allowed = access.checker(request.user, access.Action.VIEW)
    visible = [c for c in found if allowed(c.name)]
    return JsonResponse({"contexts": [_context_json(c) for c in visible]})


def _deploy_request(body: dict[str, Any]) -> deploys.DeployRequest:
    unknown = set(body) - {"context", "namespace", "dry_run", "force", "create_namespace"}
    if unknown:
        raise ApiError(400, f"unknown fields: {', '.join(sorted(unknown))}")
    for flag in ("dry_run", "force", "create_namespace"):
        if not isinstance(body.get(flag, False), bool):
            raise ApiError(400, f"{flag} must be true or false", {flag: "true or false"})
    for text in ("context", "namespace"):
        if not isinstance(body.get(text), str):
            raise ApiError(400, f"{text} is required", {text: "a string"})
    return deploys.DeployRequest(body["context"], body["namespace"], body.get("dry_run", False),
                                 body.get("force", False), body.get("create_namespace", False))


@api_view("POST")
def deploy(request: HttpRequest, pk: int) -> JsonResponse:
    saved = _saved(request, pk)
    wanted = _deploy_request(_json_object(request))
    return _record_response(deploys.deploy(saved, wanted, request.user))


@api_view("POST")
def diff(request: HttpRequest, pk: int) -> JsonResponse:
    saved = _saved(request, pk)
    result = deploys.diff(saved, _deploy_request(_json_object(request)), request.user)
    if result.diffs is None:
        raise ApiError(STATUS_FOR_ERROR.get(result.record.error_kind, 502), result.record.message)
    return JsonResponse({"record": result.record.pk, "diffs": [
        {"kind": d.kind, "name": d.name, "new": d.is_new, "changed": d.changed, "diff": d.diff, "refusal": d.refusal}
        for d in result.diffs
    ]})


@api_view("GET")
def deployments(request: HttpRequest) -> JsonResponse:
    records = DeployRecord.objects.all()[:300]
    allowed = access.checker(request.user, access.Action.VIEW)
    visible = [r for r in records if allowed(r.context, r.namespace)]
    return JsonResponse({"deployments": [record_json(r) for r in visible]})


@api_view("GET", "DELETE")
def deployment(request: HttpRequest, pk: int) -> JsonResponse:
    try:
        record = DeployRecord.objects.get(pk=pk)
    except DeployRecord.DoesNotExist:
        raise ApiError(404, f"no deployment with id {pk}") from None
    if not access.may(request.user, access.Action.VIEW, record.context, record.namespace):
        raise ApiError(404, f"no deployment with id {pk}")
    if request.method == "GET":
        return JsonResponse(record_json(record))
    return _record_response(deploys.undeploy(record, request.user))
