"""The Volumes card: the Pod's volumes as forms (the user's, editable) and lines (the helpers', read-only),
and a volume form back to a volume (composer/domain/volumes.py checks it; edits.py saves it)."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from composer.domain import volumes
from composer.domain.characters import NUL_PROBLEM
from composer.domain.render import Rendering
from composer.domain.yamlio import YamlError, dump_value, load_value
from composer.web.compositions.fields import FormErrors

KINDS = (
    ("emptyDir", "emptyDir (scratch space)"),
    ("configMap", "ConfigMap (its keys as files)"),
    ("secret", "Secret (its keys as files)"),
    ("persistentVolumeClaim", "PVC (lasting storage)"),
    ("hostPath", "hostPath (a path on the node)"),
    (volumes.YAML_SOURCE, "Other, as YAML (projected …)"),
)
# The form's fields for each kind (the add form has them all, the page shows those of the kind chosen).
KIND_FIELDS = {"emptyDir": ("medium", "sizeLimit"), "configMap": ("configMap",), "secret": ("secretName",),
               "persistentVolumeClaim": ("claimName", "readOnly"), "hostPath": ("path", "hostPathType"),
               volumes.YAML_SOURCE: ("source",)}
FIELDS = ("name", "kind", *(name for names in KIND_FIELDS.values() for name in names))


def volume_from_form(post, kind: str, before: dict[str, Any] | None = None) -> dict[str, Any]:
    """The volume the form says; what the form keeps of one of its kind as found (a ConfigMap's items …)
    comes from `before`. FormErrors for a kind it does not know or YAML it cannot read."""
    name = post.get("name", "").strip()
    text = {field: post.get(field, "").strip() for field in FIELDS}
    nul = [field for field, typed in text.items() if "\x00" in typed]
    if nul:  # PostgreSQL cannot store it, and no volume setting means it
        raise FormErrors({field: NUL_PROBLEM for field in nul})
    if kind == volumes.YAML_SOURCE:
        return {"name": name, **_yaml_source(post.get("source", ""))}
    if kind not in volumes.SOURCE_KINDS:
        raise FormErrors({"kind": f"one of {', '.join(key for key, _ in KINDS)}"})
    source: dict[str, Any] = {}
    if before and volumes.source_key(before) == kind and isinstance(before.get(kind), dict):
        source = {key: copy.deepcopy(v) for key, v in before[kind].items() if key in volumes.SOURCE_KINDS[kind].kept}
    if kind == "emptyDir":
        source.update({key: text[key] for key in ("medium", "sizeLimit") if text[key]})
    elif kind == "configMap":
        source = {"name": text["configMap"], **source}
    elif kind == "secret":
        source = {"secretName": text["secretName"], **source}
    elif kind == "persistentVolumeClaim":
        source["claimName"] = text["claimName"]
        if post.get("readOnly") == "on":
            source["readOnly"] = True
    elif kind == "hostPath":
        source["path"] = text["path"]
        if text["hostPathType"]:
            source["type"] = text["hostPathType"]
    return {"name": name, kind: source}


def _yaml_source(text: str) -> dict[str, Any]:
    try:
        loaded = load_value(text)
    except YamlError as error:
        raise FormErrors({"source": str(error)}) from None
    if not isinstance(loaded, dict) or not loaded:
        raise FormErrors({"source": "the volume's source as YAML, e.g. projected: {sources: [...]}"})
    if "name" in loaded:
        raise FormErrors({"source": "the volume's name is the field above, not part of its source"})
    return loaded


def form_errors(kind: str, problems: dict[str, str]) -> dict[str, str]:
    """The domain's messages by the form's fields: a volume written as YAML has one field for its source."""
    if kind != volumes.YAML_SOURCE:
        return problems
    return {("name" if field == "name" else "source"): message for field, message in problems.items()}


@dataclass
class VolumeRow:
    """One volume the user declared (or an import kept), as its form shows it."""

    index: int
    volume: dict[str, Any]
    mounted_by: list[str]
    also_helper: str  # a helper that declares the same name ("" for none): its definition wins

    @property
    def kind(self) -> str:
        return volumes.volume_kind(self.volume)

    @property
    def name(self) -> str:
        return str(self.volume.get("name", ""))

    @property
    def title(self) -> str:
        kind = volumes.SOURCE_KINDS.get(self.kind)
        return kind.title if kind else (volumes.source_key(self.volume) or "YAML")

    @property
    def form_id(self) -> str:
        return f"volume-{self.index}"

    @property
    def index_text(self) -> str:  # element ids are made in the template
        return str(self.index)

    @property
    def fields(self) -> tuple[str, ...]:
        return ("name", *KIND_FIELDS[self.kind])

    @property
    def source(self) -> dict[str, Any]:
        found = self.volume.get(self.kind)
        return found if isinstance(found, dict) else {}

    @property
    def kept(self) -> list[str]:
        """The fields of its source the form keeps as they are without showing them."""
        kind = volumes.SOURCE_KINDS.get(self.kind)
        return [key for key in self.source if kind and key in kind.kept]

    @property
    def source_text(self) -> str:
        return dump_value({key: value for key, value in self.volume.items() if key != "name"}).rstrip("\n")

    @property
    def source_rows(self) -> int:
        return min(max(self.source_text.count("\n") + 2, 3), 14)

    @property
    def mounted_text(self) -> str:
        if not self.mounted_by:
            return "No container mounts it yet."
        return f"Mounted by {', '.join(self.mounted_by)}."


@dataclass
class DerivedVolume:
    volume: dict[str, Any]
    helper: str  # the container name of the helper that declares it
    pattern: str
    mounted_by: list[str]

    @property
    def name(self) -> str:
        return str(self.volume.get("name", ""))

    @property
    def description(self) -> str:
        return volumes.describe(self.volume)


def volume_rows(rendering: Rendering) -> tuple[list[VolumeRow], list[DerivedVolume]]:
    """(the Pod's own volumes, the helpers' that it does not declare the same)."""
    derived = volumes.helper_volumes(rendering)
    theirs = {volume.get("name"): (placed, volume) for placed, volume in derived}
    own, shown = [], set()
    for index, volume in enumerate(rendering.composition.options.volumes):
        name = volume.get("name")
        helper = theirs.get(name)
        if helper and helper[1] == volume:
            continue  # an import kept it in the Pod's order: it is the helper's
        own.append(VolumeRow(index, volume, volumes.mounting(rendering, name),
                             helper[0].container_name if helper else ""))
        shown.add(name)
    helpers = [DerivedVolume(volume, placed.container_name, placed.pattern.title,
                             volumes.mounting(rendering, volume.get("name", "")))
               for placed, volume in derived if volume.get("name") not in shown]
    return own, helpers


def summary(own: list[VolumeRow], derived: list[DerivedVolume]) -> str:
    parts = [f"{len(own)} declared"] if own else []
    if derived:
        parts.append(f"{len(derived)} from helpers")
    return " · ".join(parts) or "none yet"
