"""The picture of the Pod as SVG markup: `render_svg(pod_picture(rendering))`.

Pure Python (neither Django nor Kubernetes), like `composer.presentation.picture.layout`, whose layout it only
draws: every coordinate comes from there, styles are in static/css/picture.css. Replaces the
Django template that used to draw it (too slow for an edit's budget); the view marks the
result safe and `templates/composer/compositions/_pod_picture.html` outputs it as is.

Names, images, ports, volumes and tooltips are user input: every piece of text goes through
`_e` (`html.escape(..., quote=True)`). Coordinates are integers written with `str()`, so
they never get thousand separators or decimal commas whatever the locale.
"""

from __future__ import annotations

from collections.abc import Iterator
from html import escape

from composer.presentation.picture.geometry import STEP_R
from composer.presentation.picture.model import (
    Area,
    Arrow,
    Band,
    ContainerBox,
    MountLine,
    PodPicture,
    PortTag,
    ProcessNamespace,
    ServiceBox,
    ServicePortChip,
    StepMarker,
    VolumePill,
)

ARROW_ID = "pod-picture-arrow"
SERVICE_ARROW_ID = "pod-picture-service-arrow"
TITLE_ID = "pod-picture-title"
DESC_ID = "pod-picture-desc"

NETWORK_TOOLTIP = "All running containers share one network namespace: one IP, and localhost reaches every container"
SHARED_PROCESS_TOOLTIP = "shareProcessNamespace: every container sees and can signal every other container's processes"
ISOLATED_PROCESS_TOOLTIP = "Each container sees only its own processes (shareProcessNamespace is off)"


def _e(text: object) -> str:
    """Text or an attribute value, escaped (quotes too)."""
    return escape(str(text), quote=True)


def _rect(css: str, area: Area, rx: int) -> str:
    return f'<rect class="{css}" x="{area.x}" y="{area.y}" width="{area.w}" height="{area.h}" rx="{rx}"/>'


def _text(css: str, x: int, y: int, text: object) -> str:
    return f'<text class="{css}" x="{x}" y="{y}">{_e(text)}</text>'


def _title(text: str) -> str:
    return f"<title>{_e(text)}</title>"


def _step(cx: int, cy: int, number: int) -> Iterator[str]:
    """The numbered circle of a step in the start-up sequence."""
    yield f'<circle class="pp-step" cx="{cx}" cy="{cy}" r="{STEP_R}"/>'
    yield f'<text class="pp-step-number" x="{cx}" y="{cy}" dy="4">{number}</text>'


def _line(css: str, x1: int, y1: int, x2: int, y2: int, marker: str = "") -> str:
    end = f' marker-end="url(#{marker})"' if marker else ""
    return f'<line class="{css}" x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}"{end}/>'


# --- one function per family of elements ------------------------------------------------------
def _head(picture: PodPicture) -> Iterator[str]:
    """The title and description (the accessible name and description), then the arrowheads."""
    yield f'<title id="{TITLE_ID}">{_e(picture.title)}</title>'
    yield f'<desc id="{DESC_ID}">{_e(picture.description)}</desc>'
    yield "<defs>"
    for marker_id, css in ((ARROW_ID, "pp-arrowhead"), (SERVICE_ARROW_ID, "pp-service-arrowhead")):
        yield (
            f'<marker id="{marker_id}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="6" markerHeight="6"'
            ' orient="auto-start-reverse">'
        )
        yield f'<path class="{css}" d="M 0 0 L 10 5 L 0 10 z"/>'
        yield "</marker>"
    yield "</defs>"


def _pod(picture: PodPicture) -> Iterator[str]:
    label = picture.pod_label
    yield '<g class="pp-pod">'
    yield _rect("pp-pod-frame", picture.pod, 12)
    yield _text("pp-pod-name", label.x, label.y, label.text)
    yield "</g>"


def _process_frame(ns: ProcessNamespace) -> Iterator[str]:
    if ns.frame:
        yield _rect("pp-process-frame", ns.frame, 10)


def _network(band: Band) -> Iterator[str]:
    yield '<g class="pp-network">'
    yield f"<title>{NETWORK_TOOLTIP}</title>"  # fixed text
    yield _rect("pp-band", band, 6)
    yield _text("pp-band-label", band.label.x, band.label.y, band.label.text)
    yield "</g>"


def _init_row(picture: PodPicture) -> Iterator[str]:
    """The init section's label and the arrows between the steps."""
    if picture.init_label:
        yield _text("pp-section", picture.init_label.x, picture.init_label.y, picture.init_label.text)
    yield from _arrows(picture.init_arrows)


def _arrows(arrows: tuple[Arrow, ...]) -> Iterator[str]:
    for arrow in arrows:
        yield _line("pp-step-arrow", arrow.x1, arrow.y1, arrow.x2, arrow.y2, ARROW_ID)


def _markers(markers: tuple[StepMarker, ...]) -> Iterator[str]:
    """Where a native sidecar starts in the init sequence."""
    for marker in markers:
        yield '<g class="pp-marker">'
        yield _title(marker.tooltip)
        yield _rect("pp-marker-box", marker, 8)
        yield from _step(marker.step_cx, marker.step_cy, marker.step)
        yield _text("pp-marker-name", marker.text_x, marker.text_y, marker.text)
        yield _text("pp-marker-note", marker.text_x, marker.note_y, "starts, keeps running")
        yield "</g>"


def _mode_class(line: MountLine) -> str:
    return "pp-ro" if line.read_only else "pp-rw"


def _mount_lines(mounts: tuple[MountLine, ...]) -> Iterator[str]:
    for line in mounts:
        yield f'<g class="pp-mount {_mode_class(line)}">'
        yield _title(line.tooltip)
        yield _line("pp-mount-line", line.x1, line.y1, line.x2, line.y2)
        yield "</g>"


def _volumes(pills: tuple[VolumePill, ...]) -> Iterator[str]:
    for pill in pills:
        if not pill.declared:
            state = " pp-undeclared"
        elif not pill.mounted:
            state = " pp-unused"
        else:
            state = ""
        yield f'<g class="pp-volume{state}">'
        yield _title(pill.tooltip)
        yield _rect("pp-pill", pill, 13)
        yield (
            f'<text class="pp-pill-text" x="{pill.text_x}" y="{pill.text_y}">'
            f'<tspan class="pp-pill-name">{_e(pill.text)}</tspan> <tspan class="pp-pill-kind">{_e(pill.kind)}</tspan>'
            "</text>"
        )
        yield "</g>"


def _mount_modes(mounts: tuple[MountLine, ...]) -> Iterator[str]:
    """The rw/ro labels, drawn over the pills and lines."""
    for line in mounts:
        yield f'<g class="pp-mount-mode {_mode_class(line)}">'
        yield _title(line.tooltip)
        yield _rect("pp-mode-bg", line.label.area, 4)
        yield _text("pp-mode", line.label.x, line.label.y, line.label.text)
        yield "</g>"


def _containers(boxes: tuple[ContainerBox, ...]) -> Iterator[str]:
    for box in boxes:
        app = " pp-app" if box.is_app else ""
        yield f'<g class="pp-container pp-{_e(box.kind)} {_e(box.role_class)}{app}">'
        yield _title(box.tooltip)
        yield _rect("pp-box", box, 8)
        if box.step:
            yield from _step(box.step_cx, box.step_cy, box.step)
        yield _text("pp-name", box.text_x, box.text_y, box.text)
        yield _text("pp-image", box.text_x, box.image_y, box.image_text)
        if box.badge:
            yield _rect("pp-badge", Area(box.badge_x, box.badge_y, box.badge_w, 16), 8)
            yield _text("pp-badge-text", box.badge_text_x, box.badge_text_y, box.badge)
        yield from _ports(box.ports)
        yield "</g>"


def _ports(tags: tuple[PortTag, ...]) -> Iterator[str]:
    for tag in tags:
        yield f'<g class="pp-port{" pp-exposed" if tag.exposed else ""}">'
        yield _title(tag.tooltip)
        yield _rect("pp-tag", tag, 4)
        yield _text("pp-tag-text", tag.text_x, tag.text_y, tag.text)
        yield "</g>"


def _process_label(ns: ProcessNamespace) -> Iterator[str]:
    yield f'<g class="pp-process {"pp-shared" if ns.shared else "pp-isolated"}">'
    yield f"<title>{SHARED_PROCESS_TOOLTIP if ns.shared else ISOLATED_PROCESS_TOOLTIP}</title>"  # fixed text
    yield _rect("pp-process-label-bg", ns.label.area, 4)
    yield _text("pp-process-label", ns.label.x, ns.label.y, ns.label.text)
    yield "</g>"


def _service(service: ServiceBox | None) -> Iterator[str]:
    """The Service below the Pod; its links point up at the container ports they target."""
    if service is None:
        return
    yield '<g class="pp-service">'
    yield _title(service.tooltip)
    for link in service.links:
        yield _line("pp-service-link", link.x1, link.y1, link.x2, link.y2, SERVICE_ARROW_ID)
    yield _rect("pp-service-box", service, 10)
    yield _text("pp-service-name", service.label.x, service.label.y, service.label.text)
    yield from _service_ports(service.ports)
    yield "</g>"


def _service_ports(chips: tuple[ServicePortChip, ...]) -> Iterator[str]:
    for chip in chips:
        yield f'<g class="pp-service-port{"" if chip.matched else " pp-unmatched"}">'
        yield _title(chip.tooltip)
        yield _rect("pp-chip", chip, 11)
        yield _text("pp-chip-text", chip.text_x, chip.text_y, chip.text)
        yield "</g>"


# --- the whole picture ---------------------------------------------------------------------------
def _parts(picture: PodPicture) -> Iterator[str]:
    """Back to front, in the order the template drew them."""
    yield from _head(picture)
    yield from _pod(picture)
    yield from _process_frame(picture.process_namespace)
    yield from _network(picture.network)
    yield from _init_row(picture)
    yield from _markers(picture.markers)
    yield from _mount_lines(picture.mounts)
    yield from _volumes(picture.volumes)
    yield from _mount_modes(picture.mounts)
    yield from _containers(picture.containers)
    yield from _process_label(picture.process_namespace)
    yield from _service(picture.service)


def render_svg(picture: PodPicture) -> str:
    """The SVG markup of `picture`: an accessible image (role, title, description), escaped text."""
    opening = (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="pod-picture" role="img"'
        f' aria-labelledby="{TITLE_ID} {DESC_ID}" viewBox="{_e(picture.view_box)}"'
        f' width="{picture.width}" height="{picture.height}" preserveAspectRatio="xMidYMin meet">'
    )
    return "\n".join((opening, *_parts(picture), "</svg>"))
