"""Importing YAML: text → manifests → a saved composition (the import page and the API share this)."""

from __future__ import annotations

from dataclasses import dataclass

from composer.domain.importer import ManifestImportError, import_manifests
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


def import_yaml(text: str, owner=None) -> Imported:
    """Saves the composition the manifests in `text` make, with the notes of what was left out."""
    try:
        result = import_manifests(load_documents(text))
    except YamlError as error:
        raise ImportRefused(str(error), error.line, error.column) from None
    except ManifestImportError as error:
        raise ImportRefused(str(error)) from None
    saved = SavedComposition.create(result.composition, message="imported from YAML", owner=owner)
    return Imported(saved, result.warnings)
