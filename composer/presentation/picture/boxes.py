"""The Pod picture's containers: reading them from the rendered Pod spec, in the order they are
drawn, and building one container box (with its port tags) or one native sidecar's step marker.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from composer.domain.render import Placement, Rendering
from composer.presentation.picture.describe import role_words
from composer.presentation.picture.geometry import (
    BOX_MIN_W,
    BOX_W,
    MARKER_W,
    NAME_SIZE,
    SMALL_SIZE,
    STEP_R,
    TAG_GAP,
    TAG_H,
    TINY_SIZE,
    fit,
    text_width,
)
from composer.presentation.picture.model import ContainerBox, PortTag, StepMarker

NATIVE_BADGE = "sidecar ↻"


# --- reading the Pod spec ----------------------------------------------------------------
@dataclass
class Entry:
    container: dict[str, Any]
    kind: Placement
    role: str
    step: int | None
    order: int  # helper index in the composition, or -1 for the app


def entries(rendering: Rendering) -> tuple[list[Entry], list[Entry]]:
    """(init sequence in run order, running containers with the app first)."""
    spec = rendering.pod_spec
    init_specs = list(spec.get("initContainers") or [])
    run_specs = list(spec.get("containers") or [])
    init_helpers = [(i, h) for i, h in enumerate(rendering.helpers) if h.placement != Placement.CONTAINER]
    run_helpers = [(i, h) for i, h in enumerate(rendering.helpers) if h.placement == Placement.CONTAINER]
    by_name = {h.container_name: (i, h) for i, h in enumerate(rendering.helpers)}

    def helper_for(position: int, container: dict[str, Any], candidates: list, expected: int):
        if len(candidates) == expected:
            return candidates[position]
        return by_name.get(container.get("name", ""), (None, None))

    sequence: list[Entry] = []
    for position, container in enumerate(init_specs):
        index, helper = helper_for(position, container, init_helpers, len(init_specs))
        native = container.get("restartPolicy") == "Always"
        kind = Placement.NATIVE_SIDECAR if native else Placement.INIT
        role = helper.role if helper is not None else ("sidecar" if native else "init")
        if not native:
            role = "init"
        order = index if index is not None else len(rendering.helpers) + position
        sequence.append(Entry(container, kind, role, position + 1, order))

    running: list[Entry] = []
    if run_specs:
        running.append(Entry(run_specs[0], Placement.CONTAINER, "app", None, -1))
    for position, container in enumerate(run_specs[1:]):
        index, helper = helper_for(position, container, run_helpers, len(run_specs) - 1)
        role = helper.role if helper is not None else "sidecar"
        order = index if index is not None else len(rendering.helpers) + len(init_specs) + position
        running.append(Entry(container, Placement.CONTAINER, role, None, order))
    natives = [entry for entry in sequence if entry.kind == Placement.NATIVE_SIDECAR]
    running = running[:1] + sorted(running[1:] + natives, key=lambda entry: entry.order)
    return sequence, running


def _name(container: dict[str, Any]) -> str:
    return str(container.get("name") or "(unnamed)")


def _image(container: dict[str, Any]) -> str:
    return str(container.get("image") or "(no image)")


def _port_text(port: dict[str, Any]) -> str:
    text = f"{port.get('containerPort')}/{port.get('protocol') or 'TCP'}"
    return f"{text} {port['name']}" if port.get("name") else text


def valid_ports(container: dict[str, Any]) -> list[dict[str, Any]]:
    return [p for p in container.get("ports") or [] if isinstance(p, dict) and p.get("containerPort") is not None]


# --- building the boxes --------------------------------------------------------------------
def _port_tags(container: dict[str, Any], x: int, y: int, max_w: int) -> tuple[PortTag, ...]:
    tags, cursor = [], x
    for port in valid_ports(container):
        full = _port_text(port)
        text = fit(full, max_w - 12, TINY_SIZE, mono=True)
        w = text_width(text, TINY_SIZE, mono=True) + 12
        protocol = str(port.get("protocol") or "TCP")
        tooltip = f"{_name(container)} listens on {port.get('containerPort')}/{protocol}"
        if port.get("name"):
            tooltip += f" (port name {port['name']})"
        tags.append(
            PortTag(
                cursor,
                y,
                w,
                TAG_H,
                _name(container),
                port["containerPort"],
                protocol,
                str(port.get("name") or ""),
                text,
                tooltip,
            )
        )
        cursor += w + TAG_GAP
    return tuple(tags)


def _ports_width(container: dict[str, Any]) -> int:
    widths = [text_width(_port_text(p), TINY_SIZE, mono=True) + 12 for p in valid_ports(container)]
    return sum(widths) + TAG_GAP * max(len(widths) - 1, 0)


def _badge(entry: Entry) -> str:
    if entry.kind == Placement.NATIVE_SIDECAR:
        return NATIVE_BADGE if entry.role == "sidecar" else f"{entry.role} · {NATIVE_BADGE}"
    return "" if entry.kind == Placement.INIT else entry.role


def _text_x(entry: Entry) -> int:
    return 16 + 2 * STEP_R if entry.step is not None else 12


def _least_width(entry: Entry) -> int:
    """What the ports and the badge need: never cut."""
    badge = _badge(entry)
    badge_w = text_width(badge, TINY_SIZE, bold=True) + 14 if badge else 0
    ports_x = _text_x(entry) if entry.kind == Placement.INIT else 12
    return max(ports_x + _ports_width(entry.container) + 12, badge_w + 24)


def row_width(entries: list[Entry]) -> int:
    """One width for a row of boxes: enough for the longest name and image, within [BOX_MIN_W, BOX_W]."""
    wanted = BOX_MIN_W
    for entry in entries:
        text_x = _text_x(entry)
        name = text_width(_name(entry.container), NAME_SIZE, bold=True)
        image = text_width(_image(entry.container), SMALL_SIZE, mono=True)
        wanted = max(wanted, text_x + max(name, image) + 12, _least_width(entry))
    return min(wanted, BOX_W)


def container_box(entry: Entry, x: int, y: int, h: int, row_w: int) -> ContainerBox:
    container = entry.container
    badge = _badge(entry)
    badge_w = text_width(badge, TINY_SIZE, bold=True) + 14 if badge else 0
    w = max(row_w, _least_width(entry))
    name, image = _name(container), _image(container)
    text_x = _text_x(entry)
    text = fit(name, w - text_x - 10, NAME_SIZE, bold=True)
    image_text = fit(image, w - text_x - 10, SMALL_SIZE, mono=True, keep_end=True)
    if entry.kind == Placement.INIT:
        tags = _port_tags(container, x + text_x, y + h - TAG_H - 6, w - text_x - 10) if valid_ports(container) else ()
    else:
        tags = _port_tags(container, x + 12, y + h - TAG_H // 2, w - 24)
    box = ContainerBox(
        x,
        y,
        w,
        h,
        name,
        text,
        image,
        image_text,
        entry.kind.value,
        entry.role,
        badge,
        badge_w,
        entry.step,
        tags,
        "",
    )
    details = [image, role_words(box)]
    if entry.kind == Placement.INIT:
        details.append(f"init step {entry.step}: must exit 0 before the next step starts")
    return replace(box, tooltip=f"{name} — " + "; ".join(d for d in details if d))


def step_marker(entry: Entry, x: int, y: int, h: int) -> StepMarker:
    name = _name(entry.container)
    text = fit("↻ " + name, MARKER_W - 16 - 2 * STEP_R - 8, SMALL_SIZE, bold=True)
    tooltip = f"Step {entry.step}: native sidecar {name} starts here and keeps running beside the app"
    return StepMarker(x, y, MARKER_W, h, entry.step or 0, name, text, tooltip)
