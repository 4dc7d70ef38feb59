"""Where a manifest keeps its Pod spec: a Pod's own, a workload's template, a CronJob's job template."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


def _template(manifest: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    """(path, pod template) of a workload: its own, or its job template's for a CronJob."""
    spec = manifest.get("spec")
    if not isinstance(spec, dict) or manifest.get("kind") == "Pod":
        return None
    prefix = "spec"
    job_template = spec.get("jobTemplate")
    if isinstance(job_template, dict) and isinstance(job_template.get("spec"), dict):
        spec, prefix = job_template["spec"], "spec.jobTemplate.spec"
    template = spec.get("template")
    return (f"{prefix}.template", template) if isinstance(template, dict) else None


def pod_specs(manifest: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(path, pod spec) pairs of a manifest; none for kinds without a Pod."""
    if manifest.get("kind") == "Pod":
        if isinstance(manifest.get("spec"), dict):
            yield "spec", manifest["spec"]
        return
    found = _template(manifest)
    if found is not None and isinstance(found[1].get("spec"), dict):
        yield f"{found[0]}.spec", found[1]["spec"]


def pod_template_metadata(manifest: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    """(path, metadata) of a workload's pod template; None for a bare Pod or a kind without one."""
    found = _template(manifest)
    if found is None or not isinstance(found[1].get("metadata"), dict):
        return None
    return f"{found[0]}.metadata", found[1]["metadata"]
