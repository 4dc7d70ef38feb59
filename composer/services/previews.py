"""The preview of a composition (manifests, lint, schema validation) against one Kubernetes version
everywhere: the page, the API's problems and the deploy gate all ask here."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from composer.domain.kinds import KINDS
from composer.domain.model import Composition
from composer.domain.preview import Preview, preview
from composer.domain.yamlio import YamlError, load_documents
from composer.models import DeployRecord, SavedComposition


def kubernetes_version() -> str:
    """The version whose schemas validate when the target cluster's is unknown (PODSTUDIO_KUBERNETES_VERSION)."""
    return settings.PODSTUDIO_KUBERNETES_VERSION


def preview_of(composition: Composition, version: str | None = None, saved: SavedComposition | None = None) -> Preview:
    """With `saved`, lint also compares the selector with the one each deploy of it left in the cluster."""
    deployed = deployed_selectors(saved, composition) if saved is not None else None
    return preview(composition, version or kubernetes_version(), deployed_selectors=deployed)


def deployed_selectors(saved: SavedComposition, composition: Composition) -> dict[str, dict[str, Any]]:
    """The selector of the composition's workload where a deploy left it, by "context/namespace": the latest
    deploy or undeploy to each target decides (a failed one changed nothing). A bare Pod has none."""
    kind = composition.workload.kind
    if KINDS[kind].is_pod:
        return {}
    # Every field edit previews: read the records newest first without their manifests, and only the
    # manifest of each target's latest one (a composition deployed often has many records).
    latest: dict[tuple[str, str], DeployRecord] = {}
    records = saved.deploys.filter(action__in=[DeployRecord.Action.DEPLOY, DeployRecord.Action.UNDEPLOY])
    newest_first = records.exclude(outcome=DeployRecord.Outcome.FAILED).order_by("-created", "-pk")
    for record in newest_first.only("pk", "context", "namespace", "action", "results"):
        latest.setdefault((record.context, record.namespace), record)
    name = composition.workload.name
    selectors = {}
    for (context, namespace), record in latest.items():
        applied = any(result.get("kind") == kind and result.get("name") == name
                      and result.get("outcome") in DeployRecord.APPLIED_OUTCOMES for result in record.results or [])
        if record.action != DeployRecord.Action.DEPLOY or not applied:
            continue
        selector = _selector_sent(record.manifest_yaml, kind, name)
        if selector is not None:
            selectors[f"{context}/{namespace}"] = selector
    return selectors


def _selector_sent(manifest_yaml: str, kind: str, name: str) -> dict[str, Any] | None:
    try:
        documents = load_documents(manifest_yaml)
    except YamlError:
        return None
    for document in documents:
        if document.get("kind") == kind and (document.get("metadata") or {}).get("name") == name:
            selector = (document.get("spec") or {}).get("selector")
            return selector if isinstance(selector, dict) else None
    return None
