"""The preview of a composition (manifests, lint, schema validation) against one Kubernetes version
everywhere: the page, the API's problems and the deploy gate all ask here."""

from __future__ import annotations

from django.conf import settings

from composer.domain.model import Composition
from composer.domain.preview import Preview, preview


def kubernetes_version() -> str:
    """The version whose schemas validate when the target cluster's is unknown (PODSTUDIO_KUBERNETES_VERSION)."""
    return settings.PODSTUDIO_KUBERNETES_VERSION


def preview_of(composition: Composition, version: str | None = None) -> Preview:
    return preview(composition, version or kubernetes_version())
