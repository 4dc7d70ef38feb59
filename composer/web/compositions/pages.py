"""Full pages: home (saved compositions, import, examples gallery), the composer, history."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import RequestDataTooBig
from django.db import DatabaseError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from composer.domain.examples import EXAMPLES, EXAMPLES_BY_ID
from composer.domain.kinds import WORKLOAD_KINDS
from composer.domain.yamlio import MAX_YAML_BYTES
from composer.models import SavedComposition
from composer.services import access, deploys, imports
from composer.web.compositions import fields as form_fields
from composer.web.compositions.fields import starting_composition
from composer.web.compositions.workspace import workspace_context
from composer.web.objects import composition_or_404
from composer.web.requests import HtmxHttpRequest


@login_not_required
@require_GET
def healthz(request: HtmxHttpRequest) -> HttpResponse:
    """For probes: the process answers and its database does."""
    try:
        SavedComposition.objects.exists()
    except DatabaseError:
        return HttpResponse("database unavailable\n", status=503, content_type="text/plain")
    return HttpResponse("ok\n", content_type="text/plain")


@require_GET
def home(request: HtmxHttpRequest) -> HttpResponse:
    """The compositions (filtered by `q`, a part of the name; htmx asks for the list alone) and the gallery."""
    query = request.GET.get("q", "").strip()
    compositions = access.visible_compositions(request.user)
    if query:
        compositions = compositions.filter(name__icontains=query)
    context = {"compositions": compositions, "examples": EXAMPLES, "query": query}
    if request.htmx and request.htmx.target == "composition-list":
        return render(request, "composer/compositions/_composition_list.html", context)
    return render(request, "composer/compositions/home.html", context)


@require_http_methods(["GET", "POST"])
def new_composition(request: HtmxHttpRequest) -> HttpResponse:
    """Asks for the name and the app image first: nothing is saved until both are valid."""
    if request.method == "GET":
        return render(request, "composer/compositions/new.html",
                      {"name": "", "image": "", "kind": "Pod", "kinds": WORKLOAD_KINDS})
    name, image = request.POST.get("name", "").strip(), request.POST.get("image", "").strip()
    kind = request.POST.get("kind", "Pod")
    try:
        composition = starting_composition(name, image, kind)
    except form_fields.FormErrors as error:
        context = {"name": name, "image": image, "kind": kind, "kinds": WORKLOAD_KINDS, "errors": error.errors}
        return render(request, "composer/compositions/new.html", context, status=400)
    return redirect(SavedComposition.create(composition, owner=access.owner(request.user)))


@require_POST
def open_example(request: HtmxHttpRequest, example_id: str) -> HttpResponse:
    example = EXAMPLES_BY_ID.get(example_id)
    if example is None:
        return render(request, "composer/compositions/home.html", {
            "compositions": access.visible_compositions(request.user),
            "examples": EXAMPLES,
            "error": f"There is no example called '{example_id}'.",
        }, status=404)
    message = f"from example '{example.title}'"
    return redirect(SavedComposition.create(example.build(), message=message, owner=access.owner(request.user)))


@require_POST
def duplicate(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    return redirect(composition_or_404(request, pk).duplicate(owner=access.owner(request.user)))


@require_http_methods(["GET", "POST"])
def delete(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """GET asks for confirmation; POST deletes."""
    saved = composition_or_404(request, pk)
    if request.method == "POST":
        saved.delete()
        return redirect("composer:home")
    return render(request, "composer/compositions/delete.html", {"saved": saved})


@require_http_methods(["GET", "POST"])
def import_yaml(request: HtmxHttpRequest) -> HttpResponse:
    if request.method == "GET":
        return render(request, "composer/compositions/import.html", {})
    try:
        text = request.POST.get("yaml", "")
        upload = request.FILES.get("file")
    except RequestDataTooBig:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        return _import_failed(request, "", f"The YAML is too large to read: the limit is {limit:,} bytes; "
                                           f"imports are limited to {MAX_YAML_BYTES:,} bytes.")
    try:
        if upload is not None:
            if upload.size > MAX_YAML_BYTES:
                raise imports.ImportRefused(f"the file is {upload.size:,} bytes; the limit is {MAX_YAML_BYTES:,} bytes")
            text = imports.decode(upload.read(), "the file")
        if not text.strip():
            raise imports.ImportRefused("paste YAML or choose a file")
        created = imports.import_yaml(text, owner=access.owner(request.user))
    except imports.ImportRefused as error:
        return _import_failed(request, text, error.message, error.line)
    if len(created) > 1:
        request.session["imported"] = [{"pk": item.saved.pk, "warnings": item.warnings} for item in created]
        return redirect("composer:imported")
    imported = created[0]
    if imported.warnings:
        request.session[f"import-warnings-{imported.saved.pk}"] = imported.warnings
    return redirect(imported.saved)


@require_GET
def imported(request: HtmxHttpRequest) -> HttpResponse:
    """What an import of several workloads created (once: a reload shows the compositions' list instead)."""
    batch = request.session.pop("imported", None)
    if not batch:
        return redirect("composer:home")
    created = []
    for item in batch:
        try:
            created.append(imports.Imported(composition_or_404(request, item["pk"]), item["warnings"]))
        except Http404:
            continue  # deleted since, in another tab
    return render(request, "composer/compositions/imported.html", {"created": created})


def _import_failed(request: HtmxHttpRequest, text: str, message: str, line: int | None = None) -> HttpResponse:
    context = {"yaml": text, "error": message, "error_line": line}
    return render(request, "composer/compositions/import.html", context, status=400)


@require_GET
def composition(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    saved = composition_or_404(request, pk)
    warnings = request.session.pop(f"import-warnings-{saved.pk}", [])
    context = workspace_context(saved, import_warnings=warnings)
    context.update(deploys.targets(request.user, context["composition"].workload.namespace))
    context["last_deploy"] = deploys.last_deploy(request.user, saved)
    return render(request, "composer/compositions/composer.html", context)


@require_GET
def history(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    saved = composition_or_404(request, pk)
    context = {"saved": saved, "revisions": saved.revisions.all()[:200]}
    return render(request, "composer/compositions/history.html", context)
