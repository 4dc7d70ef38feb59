"""The preview path: composition -> manifests, YAML text and every problem found."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from composer.domain.lint import lint
from composer.domain.model import Composition
from composer.domain.problems import Problem, Severity
from composer.domain.render import Rendering, build
from composer.domain.schema import validate_manifests
from composer.domain.yamlio import dump_documents


@dataclass
class Preview:
    rendering: Rendering
    yaml_text: str
    problems: list[Problem]

    @property
    def manifests(self) -> list[dict]:
        return self.rendering.manifests

    @property
    def error_count(self) -> int:
        return sum(1 for p in self.problems if p.severity == Severity.ERROR)


def preview(
    composition: Composition,
    kubernetes_version: str | None = None,
    cluster_version: tuple[int, int] | None = None,
    deployed_selectors: dict[str, dict[str, Any]] | None = None,
) -> Preview:
    rendering = build(composition)
    problems = lint(rendering, cluster_version, deployed_selectors)
    problems += validate_manifests(rendering.manifests, kubernetes_version)
    order = (Severity.ERROR, Severity.WARNING, Severity.INFO)
    problems.sort(key=lambda p: order.index(p.severity))
    return Preview(rendering, dump_documents(rendering.manifests), problems)
