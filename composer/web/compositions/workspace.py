"""What the composer page shows: palette, canvas and preview, built from one saved composition."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe

from composer.domain.edits import overridable_fields
from composer.domain.kinds import KINDS, WORKLOAD_KINDS
from composer.domain.patterns import patterns_by_role
from composer.domain.patterns.base import Param, ParamKind
from composer.domain.recognition import KnownImage, known_image
from composer.domain.render import PlacedHelper, Placement, Rendering
from composer.domain.volumes import HOST_PATH_TYPES
from composer.domain.yamlio import dump_documents, dump_value
from composer.models import SavedComposition
from composer.presentation.picture.layout import pod_picture
from composer.presentation.picture.svg import render_svg
from composer.services.previews import preview_of
from composer.web.compositions import fields as form_fields
from composer.web.compositions import volumes as volume_forms
from composer.web.compositions.containers import ContainerEditor, app_container
from composer.web.compositions.problem_links import problem_field
from composer.web.markup import yaml_html


@dataclass
class ParamField:
    param: Param
    value: Any
    input_id: str
    # A Container spec param (a custom helper's): the container editor, as on the app card.
    editor: ContainerEditor | None = None

    @property
    def text(self) -> str:
        """The value as the form shows it."""
        kind, value = self.param.kind, self.value
        if value is None:
            return ""
        if kind == ParamKind.LIST:
            return "\n".join(value)
        if kind == ParamKind.MAP:
            return form_fields.format_pairs(value)
        if kind == ParamKind.CONTAINER:
            return dump_documents([value]).strip()
        return str(value)

    @property
    def widget(self) -> str:
        kind = self.param.kind
        if kind == ParamKind.BOOL:
            return "checkbox"
        if kind == ParamKind.CHOICE:
            return "select"
        if kind in (ParamKind.TEXT, ParamKind.JSON, ParamKind.LIST, ParamKind.MAP, ParamKind.CONTAINER):
            return "textarea"
        if kind in (ParamKind.INT, ParamKind.PORT):
            return "number"
        return "text"


@dataclass
class OverrideField:
    """One top-level container field a helper sets by hand, beside what its pattern alone makes."""

    helper_id: str
    index: int  # in the helper's overrides: element ids (an imported field's name may be any text)
    name: str
    value: Any  # None: the field is left out
    pattern_sets: bool
    pattern_value: Any

    @property
    def input_id(self) -> str:
        return override_input_id(self.helper_id, self.index)

    @property
    def form_id(self) -> str:
        return override_form_id(self.helper_id, self.index)

    @property
    def element_id(self) -> str:
        return f"{self.helper_id}-{self.index}"

    @property
    def removed(self) -> bool:
        return self.value is None

    @property
    def text(self) -> str:
        return dump_value(self.value).rstrip("\n")

    @property
    def rows(self) -> int:
        return min(max(self.text.count("\n") + 2, 2), 12)

    @property
    def pattern_text(self) -> str:
        return dump_value(self.pattern_value).rstrip("\n")


@dataclass
class HelperCard:
    placed: PlacedHelper
    position: int  # in the composition's helper list
    sequence_number: int | None  # place in the init sequence, if it is in it
    fields: list[ParamField]
    overrides: list[OverrideField]

    @property
    def id(self) -> str:
        return self.placed.helper.id

    @property
    def in_sequence(self) -> bool:
        return self.placed.placement in (Placement.INIT, Placement.NATIVE_SIDECAR)

    @property
    def known_image(self) -> KnownImage | None:
        """What a custom container's well-known image is (istio-proxy, vault-agent, fluent-bit …)."""
        if self.placed.pattern.id != "custom":
            return None
        return known_image(str(self.placed.container.get("image", "")))

    @property
    def can_override(self) -> bool:
        """A custom container is written whole in its Container spec: nothing to set beside it."""
        return self.placed.pattern.id != "custom"

    @property
    def overrides_summary(self) -> str:
        count = len(self.overrides)
        if not count:
            return "Set fields by hand"
        return f"{count} field{'' if count == 1 else 's'} set by hand"

    @property
    def addable_options(self) -> str:
        """The <option>s of the Container fields not set by hand yet."""
        return _field_options(frozenset(override.name for override in self.overrides))


@functools.lru_cache(maxsize=64)
def _field_options(taken: frozenset[str]) -> str:
    # Built once per set of fields taken, not on every card of every render (two dozen options each).
    return format_html_join("", "<option>{}</option>", ((n,) for n in overridable_fields() if n not in taken))


def override_input_id(helper_id: str, index: int) -> str:
    return f"ov-{helper_id}-{index}"


def override_form_id(helper_id: str, index: int) -> str:
    return f"override-{helper_id}-{index}"


def _override_fields(placed: PlacedHelper) -> list[OverrideField]:
    own = placed.pattern_container
    return [OverrideField(placed.helper.id, index, name, value, name in own, own.get(name))
            for index, (name, value) in enumerate(placed.helper.overrides.items())]


def helper_cards(rendering: Rendering) -> tuple[list[HelperCard], list[HelperCard]]:
    """(init sequence in run order, helpers beside the app)."""
    sequence, beside = [], []
    for position, placed in enumerate(rendering.helpers):
        helper_id = placed.helper.id
        fields = [
            ParamField(param, placed.params.get(param.name), f"{helper_id}-{param.name}",
                       ContainerEditor(placed.params.get(param.name) or {}, helper_id, f"helper-{helper_id}",
                                       mount_hint(rendering)) if param.kind == ParamKind.CONTAINER else None)
            for param in placed.pattern.params
        ]
        card = HelperCard(placed, position, None, fields, _override_fields(placed))
        if card.in_sequence:
            card.sequence_number = len(sequence) + 1
            sequence.append(card)
        else:
            beside.append(card)
    return sequence, beside


def mount_hint(rendering: Rendering) -> str:
    """The volumes there are to mount, for a container's Volume mounts field."""
    owners = {volume.get("name"): placed.container_name for placed in rendering.helpers
              for volume in placed.contribution.volumes}
    names = [f"{name} (from {owners[name]})" if name in owners else name
             for name in (volume.get("name", "") for volume in rendering.pod_spec.get("volumes") or [])]
    if not names:
        return "The Pod has no volumes yet: add one under Volumes, then mount it here."
    return f"Volumes of the Pod: {', '.join(names)}. Helpers add their own mounts."


def workspace_context(saved: SavedComposition, **extra: Any) -> dict[str, Any]:
    composition = saved.composition()
    result = preview_of(composition, saved=saved)
    sequence, beside = helper_cards(result.rendering)
    own_volumes, derived_volumes = volume_forms.volume_rows(result.rendering)
    return {
        "saved": saved,
        "composition": composition,
        "preview": result,
        "problem_links": [(problem, problem_field(problem, result.rendering)) for problem in result.problems],
        "yaml_html": yaml_html(result.yaml_text),
        "picture_svg": mark_safe(render_svg(pod_picture(result.rendering))),  # noqa: S308 (escaped by render_svg)
        "palette": patterns_by_role(),
        "sequence": sequence,
        "beside": beside,
        "cards": sequence + beside,
        "app_editor": ContainerEditor(app_container(composition), "app", "app", mount_hint(result.rendering)),
        "own_volumes": own_volumes,
        "derived_volumes": derived_volumes,
        "volume_summary": volume_forms.summary(own_volumes, derived_volumes),
        "volume_kinds": volume_forms.KINDS,
        "host_path_types": HOST_PATH_TYPES,
        "kind_fields": form_fields.kind_field_rows(composition),
        "workload_kinds": WORKLOAD_KINDS,
        "kind": KINDS[composition.workload.kind],
        "pod_text": {
            "labels": form_fields.format_pairs(composition.workload.labels),
            "service_ports": form_fields.format_service_ports(composition.options.service.ports),
        },
        "derived_app_command": next(
            (h.contribution.app_command for h in result.rendering.helpers if h.contribution.app_command), None
        ),
        **extra,
    }


def render_workspace(request: HttpRequest, saved: SavedComposition, **extra: Any) -> HttpResponse:
    return render(request, "composer/compositions/_workspace.html", workspace_context(saved, **extra))


def render_after_field_edit(
    request: HttpRequest, saved: SavedComposition, form_id: str, fields: list[str], errors: dict[str, str],
    **extra: Any,
) -> HttpResponse:
    """The preview, plus the messages beside every field of the edited form (cleared ones too); a 400 when
    there are any (composer/http/errors.py: bad input, nothing saved)."""
    context = workspace_context(saved, **extra)
    if context.get("edited_override"):  # (helper id, index): its "removed" mark follows the value
        helper_id, index = context["edited_override"]
        context["edited_override"] = next(
            (o for card in context["cards"] for o in card.overrides if (o.helper_id, o.index) == (helper_id, index)),
            None,
        )
    context.update({
        "form_id": form_id,
        "field_errors": [(f, errors.get(f, "")) for f in fields],
        "field_errors_present": bool(errors),
    })
    return render(request, "composer/compositions/_after_field_edit.html", context, status=400 if errors else 200)
