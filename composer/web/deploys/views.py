"""Deploying from the composer page, the deploy history and undeploy (pages and htmx fragments)."""

from __future__ import annotations

import csv

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from composer import cluster
from composer.http.errors import cluster_status, status_for
from composer.models import DeployRecord
from composer.services import access, deploys
from composer.services import history as audit
from composer.web.markup import yaml_html
from composer.web.objects import composition_or_404, record_or_404
from composer.web.requests import HtmxHttpRequest


def deploy_request(data, default_context: str = "") -> deploys.DeployRequest:
    return deploys.DeployRequest(
        context=(data.get("context") or default_context).strip(),
        namespace=(data.get("namespace") or "").strip(),
        dry_run=data.get("action") == "dry-run",
        force=data.get("force") == "on",
        create_namespace=data.get("create_namespace") == "on",
    )


@require_GET
def namespaces(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """The namespaces of the chosen context as <option>s, or why they cannot be listed."""
    composition_or_404(request, pk)
    context = request.GET.get("context", "")
    try:
        access.require(request.user, access.Action.VIEW, context)
        allowed = access.checker(request.user, access.Action.VIEW)
        names, problem = [n for n in cluster.list_namespaces(context) if allowed(context, n)], ""
    except access.Refused as error:
        names, problem = [], str(error)
    except cluster.ClusterError as error:
        names, problem = [], error.message
    return render(request, "composer/deploys/_namespace_options.html", {"names": names, "problem": problem})


@require_POST
def deploy(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    saved = composition_or_404(request, pk)
    wanted = deploy_request(request.POST)
    action = request.POST.get("action", "deploy")
    try:
        if action == "diff":
            return _diff(request, deploys.diff(saved, wanted, request.user), wanted)
        if action == "recreate":
            record = deploys.recreate(saved, wanted, request.user)
        elif action in ("deploy", "dry-run"):
            record = deploys.deploy(saved, wanted, request.user)
        else:
            raise deploys.DeployRefused(f"unknown action {action!r}")
    except (access.Refused, deploys.DeployRefused) as error:
        return render(request, "composer/deploys/_refused.html", {"message": str(error)}, status=status_for(error))
    return render(request, "composer/deploys/_result.html", {"record": record, "saved": saved, "wanted": wanted,
                                                             "recreatable": deploys.recreatable(record)})


def _diff(request: HtmxHttpRequest, result: deploys.DiffResult, wanted: deploys.DeployRequest) -> HttpResponse:
    if result.diffs is None:
        status = cluster_status(result.record.error_kind)
        return render(request, "composer/deploys/_refused.html", {"message": result.record.message}, status=status)
    return render(request, "composer/deploys/_diff.html", {"diffs": result.diffs, "wanted": wanted})


@require_GET
def history(request: HttpRequest) -> HttpResponse:
    composition = request.GET.get("composition", "")
    page = audit.records_page(request.user, page=request.GET.get("page"), composition=composition)
    context = {"records": page, "page": page, "composition": composition}
    return render(request, "composer/deploys/deployments.html", context)


EXPORT_FIELDS = ("id", "created", "action", "outcome", "user", "context", "namespace", "composition_name",
                 "revision", "force", "error_kind", "message")


# A spreadsheet reads a cell that starts with one of these as a formula (or strips it first).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value):
    """A value safe to open in a spreadsheet: text that could start a formula gets a leading ' (OWASP)."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


@require_GET
def export_csv(request: HttpRequest) -> HttpResponse:
    """The audit trail as CSV: every deploy, dry run and undeploy this user may see."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="pod-studio-deploys.csv"'
    writer = csv.writer(response)
    writer.writerow(EXPORT_FIELDS)
    for record in audit.audit_trail(request.user):
        row = [getattr(record, "pk" if field == "id" else field) for field in EXPORT_FIELDS]
        writer.writerow([csv_cell(value.isoformat() if hasattr(value, "isoformat") else value) for value in row])
    return response


@require_GET
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    record = record_or_404(request, pk)
    return render(request, "composer/deploys/deployment.html", {
        "record": record,
        "yaml_html": yaml_html(record.manifest_yaml),
        "undeployed": DeployRecord.objects.filter(undeploy_of=record, outcome=DeployRecord.Outcome.SUCCEEDED).first(),
    })


@require_POST
def redeploy(request: HttpRequest, pk: int) -> HttpResponse:
    previous = record_or_404(request, pk)
    try:
        record = deploys.redeploy(previous, request.user, force=request.POST.get("force") == "on")
    except (deploys.DeployRefused, access.Refused) as error:
        context = {"record": previous, "error": str(error), "yaml_html": yaml_html(previous.manifest_yaml)}
        return render(request, "composer/deploys/deployment.html", context, status=status_for(error))
    return redirect(record)


@require_http_methods(["GET", "POST"])
def undeploy(request: HttpRequest, pk: int) -> HttpResponse:
    """GET asks for confirmation; POST deletes every object the deploy sent."""
    deployed = record_or_404(request, pk)
    if request.method == "GET":
        return render(request, "composer/deploys/undeploy.html", {"record": deployed})
    try:
        record = deploys.undeploy(deployed, request.user)
    except (deploys.DeployRefused, access.Refused) as error:
        context = {"record": deployed, "error": str(error)}
        return render(request, "composer/deploys/undeploy.html", context, status=status_for(error))
    return redirect(record)
