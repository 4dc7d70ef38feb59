"""Importing YAML: text → manifests → one saved composition per workload (the import page and the API share this),
and a saved composition replaced by the YAML of one workload (the composer's YAML editor and the API's YAML PUT)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from composer.domain.importer import ImportResult, ManifestImportError, import_workloads
from composer.domain.render import render
from composer.domain.yamlio import YamlError, load_documents
from composer.models import SavedComposition, StaleRevision

ONE_WORKLOAD = "the YAML of one composition holds one workload; import the others from the Import page"


class ImportRefused(ValueError):
    """The text is not manifests that make a composition; nothing was saved. `line`/`column` point at
    the YAML error when there is one."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None) -> None:
        super().__init__(message)
        self.message, self.line, self.column = message, line, column


@dataclass(frozen=True)
class Imported:
    saved: SavedComposition
    warnings: list[str]


def decode(data: bytes, what: str = "the body") -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ImportRefused(f"{what} is not UTF-8 text") from None


def _workloads(text: str) -> list[ImportResult]:
    try:
        return import_workloads(load_documents(text))
    except YamlError as error:
        raise ImportRefused(str(error), error.line, error.column) from None
    except ManifestImportError as error:
        raise ImportRefused(str(error)) from None


def import_yaml(text: str, owner=None) -> list[Imported]:
    """Saves one composition per workload in `text` (all or none), each with the notes of what was left out."""
    results = _workloads(text)
    message = "imported from YAML" if len(results) == 1 else f"imported from YAML with {len(results) - 1} more"
    with transaction.atomic():
        return [Imported(SavedComposition.create(result.composition, message=message, owner=owner), result.warnings)
                for result in results]


@dataclass(frozen=True)
class Replaced:
    changed: bool  # False: the YAML renders what the saved composition renders, and no revision was made
    warnings: list[str]


def replace_from_yaml(saved: SavedComposition, text: str, message: str, based_on: int | None = None) -> Replaced:
    """The composition of `text` (one workload, its ConfigMaps and Services, helpers recognised as the
    import recognises them) becomes the next revision of `saved`, which keeps its id.

    Refused (ImportRefused, nothing saved) as an import is, and for more than one workload; an edit made
    on a revision that is no longer the newest is StaleRevision even when it changes nothing. Text that
    renders exactly what the saved composition renders makes no revision."""
    if not text.strip():
        raise ImportRefused("the YAML is empty: write the manifests of one workload")
    results = _workloads(text)
    if len(results) > 1:
        names = ", ".join(f"{r.composition.workload.kind} {r.composition.workload.name!r}" for r in results)
        raise ImportRefused(f"{len(results)} workloads ({names}): {ONE_WORKLOAD}")
    result = results[0]
    if based_on is not None and based_on != saved.revision:
        raise StaleRevision(saved.name, based_on, saved.revision)
    if render(result.composition) == render(saved.composition()):
        return Replaced(changed=False, warnings=result.warnings)
    saved.record(result.composition, message, based_on)
    return Replaced(changed=True, warnings=result.warnings)
