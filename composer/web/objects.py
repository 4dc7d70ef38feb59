"""The objects a page is about, found through the access rules: one the user may not see is a 404."""

from __future__ import annotations

from django.http import Http404, HttpRequest

from composer.models import DeployRecord, SavedComposition
from composer.services import access


def composition_or_404(request: HttpRequest, pk: int) -> SavedComposition:
    try:
        return access.composition_for(request.user, pk)
    except access.NotVisible as error:
        raise Http404(str(error)) from None


def record_or_404(request: HttpRequest, pk: int) -> DeployRecord:
    try:
        return access.record_for(request.user, pk)
    except access.NotVisible as error:
        raise Http404(str(error)) from None
