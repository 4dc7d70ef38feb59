"""The deploy API (docs/api.md): contexts, deploy, dry run, diff, the audit trail and undeploy."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, JsonResponse

from composer import cluster
from composer.api.decorators import ApiError, api_view, json_object
from composer.http.errors import cluster_status
from composer.models import DeployRecord
from composer.services import access, deploys, history


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
    status = 201 if record.succeeded else cluster_status(record.error_kind)
    return JsonResponse(record_json(record), status=status)


@api_view("GET")
def contexts(request: HttpRequest) -> JsonResponse:
    allowed = access.checker(request.user, access.Action.VIEW)
    visible = [c for c in cluster.list_contexts() if allowed(c.name)]
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
    saved = access.composition_for(request.user, pk)
    wanted = _deploy_request(json_object(request))
    return _record_response(deploys.deploy(saved, wanted, request.user))


@api_view("POST")
def diff(request: HttpRequest, pk: int) -> JsonResponse:
    saved = access.composition_for(request.user, pk)
    result = deploys.diff(saved, _deploy_request(json_object(request)), request.user)
    if result.diffs is None:
        raise ApiError(cluster_status(result.record.error_kind), result.record.message)
    return JsonResponse({"record": result.record.pk, "diffs": [
        {"kind": d.kind, "name": d.name, "new": d.is_new, "changed": d.changed, "diff": d.diff, "refusal": d.refusal}
        for d in result.diffs
    ]})


@api_view("GET")
def deployments(request: HttpRequest) -> JsonResponse:
    """The records this user may see, newest first: `?page=`, `?per_page=` (at most 200), `?composition=`."""
    page = history.records_page(request.user, page=request.GET.get("page"), per_page=request.GET.get("per_page"),
                                composition=request.GET.get("composition"))
    return JsonResponse({
        "deployments": [record_json(r) for r in page],
        "count": page.paginator.count,
        "page": page.number,
        "pages": page.paginator.num_pages,
        "next": page.next_page_number() if page.has_next() else None,
        "previous": page.previous_page_number() if page.has_previous() else None,
    })


@api_view("GET", "DELETE")
def deployment(request: HttpRequest, pk: int) -> JsonResponse:
    record = access.record_for(request.user, pk)
    if request.method == "GET":
        return JsonResponse(record_json(record))
    return _record_response(deploys.undeploy(record, request.user))
