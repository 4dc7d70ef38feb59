"""Importing YAML: text → manifests → one saved composition per workload (the import page and the API share this)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from composer.domain.importer import ManifestImportError, import_workloads
from composer.domain.yamlio import YamlError, load_documents
from composer.models import SavedComposition


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


def import_yaml(text: str, owner=None) -> list[Imported]:
    """Saves one composition per workload in `text` (all or none), each with the notes of what was left out."""
    try:
        results = import_workloads(load_documents(text))
    except YamlError as error:
        raise ImportRefused(str(error), error.line, error.column) from None
    except ManifestImportError as error:
        raise ImportRefused(str(error)) from None
    message = "imported from YAML" if len(results) == 1 else f"imported from YAML with {len(results) - 1} more"
    with transaction.atomic():
        return [Imported(SavedComposition.create(result.composition, message=message, owner=owner), result.warnings)
                for result in results]
