"""The picture of the Pod: a deterministic layout for the composer's SVG preview.

Pure Python (neither Django nor Kubernetes): `pod_picture(rendering)` turns a
`composer.domain.render.Rendering` into positioned boxes, pills, tags, lines and
labels (all integer coordinates), plus a plain-text description for screen readers.
`composer.presentation.picture.svg.render_svg` only draws what this module computes.

Top to bottom:

    Pod header
    init containers, in run order (1 → 2 → …); a native sidecar's start is a dashed step
    volumes (pills), with lines up to the init containers and down to the running ones
    running containers (app first), ports as tags on their bottom edge,
        inside a dashed "shared process namespace" frame when shareProcessNamespace is on
    the shared network band ("shared network · localhost") they all sit on
    the Service (outside the Pod), its ports pointing up at the container ports they target

Built from the rendered Pod spec, so imported custom containers are drawn exactly
like pattern-built ones.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from composer.domain.render import Placement, Rendering

# --- geometry (SVG user units; the SVG scales through its viewBox) ------------------
MARGIN = 12  # around the whole picture
POD_PAD = 22  # inside the Pod frame, left and right
HEADER_H = 40  # the Pod title
MIN_CONTENT_W = 440

BOX_W = 164  # a container box; longer names are cut (ports and badges widen a box further)
BOX_MIN_W = 128
BOX_GAP = 22
RUN_H = 78
INIT_H = 52
INIT_H_WITH_PORTS = 70
INIT_GAP = 34  # room for the "then" arrow
MARKER_W = 156
STEP_R = 11

TAG_H = 18
TAG_GAP = 6
PILL_H = 26
PILL_GAP = 16
VOL_GAP_UP = 46  # init row bottom -> pills
VOL_GAP_DOWN = 62  # pills -> running row top
BAND_H = 38
FRAME_PAD = 14  # shared-process frame around the running row
SERVICE_GAP = 44  # Pod bottom -> Service top
SERVICE_H = 44
CHIP_H = 22
MOUNT_LABEL_W = 22
MOUNT_LABEL_H = 14
# Where a mount's rw/ro label may go, from the container's edge along the line (first free one wins).
MOUNT_LABEL_OFFSETS_INIT = (15, 27, 37)
MOUNT_LABEL_OFFSETS_RUNNING = (-30, -42, -52)

# Font sizes (must match static/css/picture.css) and the width estimate per character.
NAME_SIZE = 13
SMALL_SIZE = 11
TINY_SIZE = 10
MONO_ADVANCE = 0.61  # DejaVu Sans Mono and friends: 0.6 em per character
NARROW = set(".,:;|!iljtfr'`()[]{} -/")
WIDE = set("mwMW@%")

ROLES = ("app", "init", "sidecar", "ambassador", "adapter")
NATIVE_BADGE = "sidecar ↻"


# --- the layout ------------------------------------------------------------------------
@dataclass(frozen=True)
class Area:
    x: int
    y: int
    w: int
    h: int

    @property
    def right(self) -> int:
        return self.x + self.w

    @property
    def bottom(self) -> int:
        return self.y + self.h

    @property
    def cx(self) -> int:
        return self.x + self.w // 2

    @property
    def cy(self) -> int:
        return self.y + self.h // 2

    def overlaps(self, other: Area) -> bool:
        return self.x < other.right and other.x < self.right and self.y < other.bottom and other.y < self.bottom


@dataclass(frozen=True)
class Label:
    """One line of text: `x`/`y` is the anchor point (baseline), `area` the box it occupies."""

    text: str
    x: int
    y: int
    anchor: str  # "start" | "middle" | "end"
    area: Area
    css: str = ""


@dataclass(frozen=True)
class PortTag(Area):
    container: str
    number: int
    protocol: str
    name: str
    text: str  # "8080/TCP http" (possibly truncated)
    tooltip: str
    exposed: bool = False  # a Service port points here

    @property
    def text_x(self) -> int:
        return self.x + 6

    @property
    def text_y(self) -> int:
        return self.y + self.h - 5


@dataclass(frozen=True)
class ContainerBox(Area):
    name: str
    text: str  # the name, truncated to fit
    image: str
    image_text: str
    kind: str  # Placement value: "init" | "native-sidecar" | "container"
    role: str  # "app" | "init" | "sidecar" | "ambassador" | "adapter" | other custom role
    badge: str  # "app", "adapter", "sidecar ↻" … ("" for init containers: their row says so)
    badge_w: int
    step: int | None  # position in the start-up sequence (init containers and native sidecars)
    ports: tuple[PortTag, ...]
    tooltip: str

    @property
    def is_app(self) -> bool:
        return self.role == "app"

    @property
    def is_init(self) -> bool:
        return self.kind == Placement.INIT

    @property
    def role_class(self) -> str:
        return f"pp-role-{self.role}" if self.role in ROLES else "pp-role-other"

    @property
    def step_cx(self) -> int:
        return self.x + 8 + STEP_R

    @property
    def step_cy(self) -> int:
        return self.y + (self.h // 2 if self.is_init else 22)

    @property
    def text_x(self) -> int:
        return self.x + (16 + 2 * STEP_R if self.step is not None else 12)

    @property
    def text_y(self) -> int:
        return self.y + (22 if self.is_init else 26)

    @property
    def image_y(self) -> int:
        return self.text_y + 16

    @property
    def badge_x(self) -> int:
        return self.x + 12

    @property
    def badge_y(self) -> int:
        return self.y + 50

    @property
    def badge_text_x(self) -> int:
        return self.badge_x + self.badge_w // 2

    @property
    def badge_text_y(self) -> int:
        return self.badge_y + 12


@dataclass(frozen=True)
class StepMarker(Area):
    """Where a native sidecar starts in the init sequence; the container itself runs in the row below."""

    step: int
    container: str
    text: str
    tooltip: str

    @property
    def step_cx(self) -> int:
        return self.x + 8 + STEP_R

    @property
    def step_cy(self) -> int:
        return self.cy

    @property
    def text_x(self) -> int:
        return self.x + 16 + 2 * STEP_R

    @property
    def text_y(self) -> int:
        return self.y + 22

    @property
    def note_y(self) -> int:
        return self.y + 38


@dataclass(frozen=True)
class Arrow:
    x1: int
    y1: int
    x2: int
    y2: int


@dataclass(frozen=True)
class VolumePill(Area):
    name: str
    text: str
    kind: str  # "emptyDir", "configMap", "secret", "emptyDir · memory", "not declared" …
    declared: bool
    mounted: bool
    tooltip: str

    @property
    def text_x(self) -> int:
        return self.x + 12

    @property
    def text_y(self) -> int:
        return self.y + 17


@dataclass(frozen=True)
class MountLine:
    volume: str
    container: str
    read_only: bool
    paths: tuple[str, ...]
    x1: int  # at the volume
    y1: int
    x2: int  # at the container
    y2: int
    label: Label  # "rw" / "ro", near the container end
    tooltip: str

    @property
    def mode(self) -> str:
        return "ro" if self.read_only else "rw"


@dataclass(frozen=True)
class ServicePortChip(Area):
    name: str
    port: int | str
    protocol: str
    target: int | str
    text: str
    targets: tuple[str, ...]  # containers declaring the target port
    tooltip: str

    @property
    def matched(self) -> bool:
        return bool(self.targets)

    @property
    def text_x(self) -> int:
        return self.cx

    @property
    def text_y(self) -> int:
        return self.y + 15


@dataclass(frozen=True)
class ServiceLink:
    port: str  # the chip's text
    container: str
    x1: int  # at the Service port
    y1: int
    x2: int  # at the container port
    y2: int


@dataclass(frozen=True)
class ServiceBox(Area):
    name: str
    type: str
    label: Label
    ports: tuple[ServicePortChip, ...]
    links: tuple[ServiceLink, ...]
    tooltip: str


@dataclass(frozen=True)
class Band(Area):
    label: Label


@dataclass(frozen=True)
class ProcessNamespace:
    shared: bool
    frame: Area | None  # the dashed frame around the running containers, when shared
    label: Label  # "shared process namespace" on the frame, or "process namespaces isolated"


@dataclass(frozen=True)
class PodPicture:
    width: int
    height: int
    title: str
    description: str
    pod: Area  # the Pod frame
    pod_label: Label
    init_label: Label | None
    init_boxes: tuple[ContainerBox, ...]
    markers: tuple[StepMarker, ...]
    init_arrows: tuple[Arrow, ...]
    boxes: tuple[ContainerBox, ...]  # running containers: the app first
    volumes: tuple[VolumePill, ...]
    mounts: tuple[MountLine, ...]
    network: Band
    process_namespace: ProcessNamespace
    service: ServiceBox | None

    @property
    def view_box(self) -> str:
        return f"0 0 {self.width} {self.height}"

    @property
    def containers(self) -> tuple[ContainerBox, ...]:
        """Every container: init containers in run order, then the running ones."""
        return (*self.init_boxes, *self.boxes)

    @property
    def ports(self) -> tuple[PortTag, ...]:
        return tuple(tag for box in self.containers for tag in box.ports)

    def container(self, name: str) -> ContainerBox:
        for box in self.containers:
            if box.name == name:
                return box
        raise KeyError(name)


# --- text measuring and truncation -------------------------------------------------------
def text_width(text: str, size: float, mono: bool = False, bold: bool = False) -> int:
    """A generous estimate of the rendered width, so that text stays inside its box."""
    if mono:
        return round(len(text) * size * MONO_ADVANCE)
    units = 0.0
    for char in text:
        if char in NARROW:
            units += 0.36
        elif char in WIDE or char.isupper():
            units += 0.8
        else:
            units += 0.62
    return round(units * size * (1.1 if bold else 1.0))


def fit(text: str, width: int, size: float, mono: bool = False, bold: bool = False, keep_end: bool = False) -> str:
    """`text`, cut with "…" so that it fits `width`; `keep_end` keeps the tail (an image's tag)."""
    if text_width(text, size, mono, bold) <= width:
        return text
    for keep in range(len(text) - 1, 0, -1):
        candidate = "…" + text[-keep:] if keep_end else text[:keep] + "…"
        if text_width(candidate, size, mono, bold) <= width:
            return candidate
    return "…"


# --- reading the Pod spec ----------------------------------------------------------------
@dataclass
class _Entry:
    container: dict[str, Any]
    kind: Placement
    role: str
    step: int | None
    order: int  # helper index in the composition, or -1 for the app


def _entries(rendering: Rendering) -> tuple[list[_Entry], list[_Entry]]:
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

    sequence: list[_Entry] = []
    for position, container in enumerate(init_specs):
        index, helper = helper_for(position, container, init_helpers, len(init_specs))
        native = container.get("restartPolicy") == "Always"
        kind = Placement.NATIVE_SIDECAR if native else Placement.INIT
        role = helper.role if helper is not None else ("sidecar" if native else "init")
        if not native:
            role = "init"
        order = index if index is not None else len(rendering.helpers) + position
        sequence.append(_Entry(container, kind, role, position + 1, order))

    running: list[_Entry] = []
    if run_specs:
        running.append(_Entry(run_specs[0], Placement.CONTAINER, "app", None, -1))
    for position, container in enumerate(run_specs[1:]):
        index, helper = helper_for(position, container, run_helpers, len(run_specs) - 1)
        role = helper.role if helper is not None else "sidecar"
        order = index if index is not None else len(rendering.helpers) + len(init_specs) + position
        running.append(_Entry(container, Placement.CONTAINER, role, None, order))
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


def _valid_ports(container: dict[str, Any]) -> list[dict[str, Any]]:
    return [p for p in container.get("ports") or [] if isinstance(p, dict) and p.get("containerPort") is not None]


def _volume_kind(volume: dict[str, Any]) -> str:
    kinds = [key for key in volume if key != "name"]
    if not kinds:
        return "emptyDir"
    kind = kinds[0]
    if kind == "emptyDir" and isinstance(volume[kind], dict) and volume[kind].get("medium") == "Memory":
        return "emptyDir · memory"
    return {"persistentVolumeClaim": "PVC"}.get(kind, kind)


def _role_words(box: ContainerBox) -> str:
    if box.kind == Placement.NATIVE_SIDECAR:
        role = "" if box.role == "sidecar" else f"{box.role}, "
        return f"{role}native sidecar, starts at step {box.step}"
    if box.is_app:
        return "app container"
    return box.role


def _ports_words(tags: tuple[PortTag, ...]) -> str:
    if not tags:
        return ""
    words = []
    for tag in tags:
        number = str(tag.number) if tag.protocol == "TCP" else f"{tag.number}/{tag.protocol}"
        words.append(f"{number} {tag.name}" if tag.name else number)
    return ("port " if len(words) == 1 else "ports ") + ", ".join(words)


# --- building the boxes --------------------------------------------------------------------
def _port_tags(container: dict[str, Any], x: int, y: int, max_w: int) -> tuple[PortTag, ...]:
    tags, cursor = [], x
    for port in _valid_ports(container):
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
    widths = [text_width(_port_text(p), TINY_SIZE, mono=True) + 12 for p in _valid_ports(container)]
    return sum(widths) + TAG_GAP * max(len(widths) - 1, 0)


def _badge(entry: _Entry) -> str:
    if entry.kind == Placement.NATIVE_SIDECAR:
        return NATIVE_BADGE if entry.role == "sidecar" else f"{entry.role} · {NATIVE_BADGE}"
    return "" if entry.kind == Placement.INIT else entry.role


def _text_x(entry: _Entry) -> int:
    return 16 + 2 * STEP_R if entry.step is not None else 12


def _least_width(entry: _Entry) -> int:
    """What the ports and the badge need: never cut."""
    badge = _badge(entry)
    badge_w = text_width(badge, TINY_SIZE, bold=True) + 14 if badge else 0
    ports_x = _text_x(entry) if entry.kind == Placement.INIT else 12
    return max(ports_x + _ports_width(entry.container) + 12, badge_w + 24)


def _row_width(entries: list[_Entry]) -> int:
    """One width for a row of boxes: enough for the longest name and image, within [BOX_MIN_W, BOX_W]."""
    wanted = BOX_MIN_W
    for entry in entries:
        text_x = _text_x(entry)
        name = text_width(_name(entry.container), NAME_SIZE, bold=True)
        image = text_width(_image(entry.container), SMALL_SIZE, mono=True)
        wanted = max(wanted, text_x + max(name, image) + 12, _least_width(entry))
    return min(wanted, BOX_W)


def _box(entry: _Entry, x: int, y: int, h: int, row_w: int) -> ContainerBox:
    container = entry.container
    badge = _badge(entry)
    badge_w = text_width(badge, TINY_SIZE, bold=True) + 14 if badge else 0
    w = max(row_w, _least_width(entry))
    name, image = _name(container), _image(container)
    text_x = _text_x(entry)
    text = fit(name, w - text_x - 10, NAME_SIZE, bold=True)
    image_text = fit(image, w - text_x - 10, SMALL_SIZE, mono=True, keep_end=True)
    if entry.kind == Placement.INIT:
        tags = _port_tags(container, x + text_x, y + h - TAG_H - 6, w - text_x - 10) if _valid_ports(container) else ()
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
    details = [image, _role_words(box)]
    if entry.kind == Placement.INIT:
        details.append(f"init step {entry.step}: must exit 0 before the next step starts")
    return replace(box, tooltip=f"{name} — " + "; ".join(d for d in details if d))


def _marker(entry: _Entry, x: int, y: int, h: int) -> StepMarker:
    name = _name(entry.container)
    text = fit("↻ " + name, MARKER_W - 16 - 2 * STEP_R - 8, SMALL_SIZE, bold=True)
    tooltip = f"Step {entry.step}: native sidecar {name} starts here and keeps running beside the app"
    return StepMarker(x, y, MARKER_W, h, entry.step or 0, name, text, tooltip)


def _centered(cx: int, cy: int, w: int, h: int) -> Area:
    return Area(cx - w // 2, cy - h // 2, w, h)


def _spread(start: int, width: int, count: int, margin: int) -> list[int]:
    if count == 1:
        return [start + width // 2]
    usable = max(width - 2 * margin, 0)
    return [start + margin + round(usable * i / (count - 1)) for i in range(count)]


def _at_y(x1: int, y1: int, x2: int, y2: int, y: float) -> float:
    if y2 == y1:
        return float(x1)
    return x1 + (x2 - x1) * (y - y1) / (y2 - y1)


def _free_slot(blocked: list[tuple[float, float]], lo: int, hi: int, width: int, from_right: bool) -> int | None:
    """The start of a free interval of `width` in [lo, hi] that avoids every blocked interval."""
    spans = sorted((max(a, lo), min(b, hi)) for a, b in blocked if b > lo and a < hi)
    gaps, cursor = [], float(lo)
    for a, b in spans:
        if a - cursor >= width:
            gaps.append((cursor, a))
        cursor = max(cursor, b)
    if hi - cursor >= width:
        gaps.append((cursor, float(hi)))
    if not gaps:
        return None
    if from_right:
        return int(gaps[-1][1] - width)
    return int(round(gaps[0][0] + 0.499))


# --- the picture -----------------------------------------------------------------------------
def pod_picture(rendering: Rendering) -> PodPicture:
    composition = rendering.composition
    spec = rendering.pod_spec
    shared = bool(spec.get("shareProcessNamespace"))
    sequence, running = _entries(rendering)
    left = MARGIN + POD_PAD  # content left
    content_right = left + MIN_CONTENT_W

    # Pod header
    workload = composition.workload
    kind = rendering.workload.get("kind", workload.kind) if rendering.manifests else workload.kind
    pod_name = fit(workload.name, 420, 14, bold=True)
    header = f"Pod {pod_name}" if kind == "Pod" else f"Deployment {pod_name} · Pod template"
    pod_label = Label(
        header,
        MARGIN + 14,
        MARGIN + 25,
        "start",
        Area(MARGIN + 14, MARGIN + 11, text_width(header, 14, bold=True), 18),
        "pod-name",
    )
    content_right = max(content_right, pod_label.area.right - 8)
    cursor = MARGIN + HEADER_H

    # Init sequence
    init_label = None
    init_boxes: list[ContainerBox] = []
    markers: list[StepMarker] = []
    arrows: list[Arrow] = []
    init_top = init_h = 0
    if sequence:
        text = "init containers · run one at a time, in order"
        init_label = Label(
            text, left, cursor + 10, "start", Area(left, cursor, text_width(text, SMALL_SIZE), 14), "section"
        )
        cursor += 20
        init_top = cursor
        has_ports = any(_valid_ports(e.container) for e in sequence if e.kind == Placement.INIT)
        init_h = INIT_H_WITH_PORTS if has_ports else INIT_H
        x = left
        previous: Area | None = None
        init_w = _row_width([e for e in sequence if e.kind == Placement.INIT])
        for entry in sequence:
            if previous is not None:
                arrows.append(Arrow(previous.right + 5, init_top + init_h // 2, x - 5, init_top + init_h // 2))
            if entry.kind == Placement.INIT:
                item: Area = _box(entry, x, init_top, init_h, init_w)
                init_boxes.append(item)  # type: ignore[arg-type]
            else:
                item = _marker(entry, x, init_top, init_h)
                markers.append(item)  # type: ignore[arg-type]
            previous = item
            x = item.right + INIT_GAP
        content_right = max(content_right, previous.right if previous else 0)
        cursor = init_top + init_h

    # Volumes: every declared volume, plus any mounted volume that is not declared.
    unique: dict[str, dict[str, Any]] = {}
    for volume in spec.get("volumes") or []:
        if isinstance(volume, dict):
            unique.setdefault(str(volume.get("name", "")), volume)  # a duplicate is lint's business
    declared = list(unique.values())
    volume_names = list(unique)
    mounts_by_container: dict[int, dict[str, list[dict[str, Any]]]] = {}
    all_entries = [e for e in sequence if e.kind == Placement.INIT] + running
    for position, entry in enumerate(all_entries):
        grouped: dict[str, list[dict[str, Any]]] = {}
        for mount in entry.container.get("volumeMounts") or []:
            if isinstance(mount, dict) and mount.get("name"):
                grouped.setdefault(str(mount["name"]), []).append(mount)
        mounts_by_container[position] = grouped
    undeclared = []
    for grouped in mounts_by_container.values():
        for volume in grouped:
            if volume not in volume_names and volume not in undeclared:
                undeclared.append(volume)
    all_volumes = [(str(v.get("name", "")), _volume_kind(v), True) for v in declared]
    all_volumes += [(name, "not declared", False) for name in undeclared]

    pill_top = 0
    if all_volumes:
        init_mounts = any(grouped for position, grouped in mounts_by_container.items() if position < len(init_boxes))
        cursor += (VOL_GAP_UP if init_mounts else 26) if sequence else 16
        pill_top = cursor
        cursor += PILL_H + VOL_GAP_DOWN
    else:
        cursor += 40 if sequence else 22
    run_top = cursor

    # Running containers
    boxes: list[ContainerBox] = []
    run_w = _row_width(running)
    x = left
    for entry in running:
        box = _box(entry, x, run_top, RUN_H, run_w)
        boxes.append(box)
        x = box.right + BOX_GAP
    if boxes:
        content_right = max(content_right, boxes[-1].right)
    cursor = run_top + RUN_H
    band_top = cursor
    cursor += BAND_H

    # Volume pills, placed near the containers that mount them.
    box_for_position = {i: box for i, box in enumerate([*init_boxes, *boxes])}
    users: dict[str, list[int]] = {name: [] for name, _, _ in all_volumes}
    for position, grouped in mounts_by_container.items():
        for volume in grouped:
            users.setdefault(volume, []).append(position)
    pills: list[VolumePill] = []
    wanted = []
    for index, (name, vkind, is_declared) in enumerate(all_volumes):
        centers = [box_for_position[p].cx for p in users.get(name, [])]
        name_text = fit(name, 220, SMALL_SIZE, bold=True)
        w = text_width(name_text, SMALL_SIZE, bold=True) + text_width(" " + vkind, TINY_SIZE, mono=True) + 26
        desired = sum(centers) / len(centers) if centers else left + w / 2
        wanted.append((desired, index, name, name_text, vkind, is_declared, w))
    x_min = left
    for desired, _index, name, name_text, vkind, is_declared, w in sorted(wanted):
        x = max(round(desired - w / 2), x_min)
        mounted = bool(users.get(name))
        tooltip = f"Volume {name} ({vkind})"
        if not is_declared:
            tooltip += ": mounted but missing from spec.volumes"
        elif not mounted:
            tooltip += ": no container mounts it"
        pills.append(VolumePill(x, pill_top, w, PILL_H, name, name_text, vkind, is_declared, mounted, tooltip))
        x_min = x + w + PILL_GAP
    if pills:
        content_right = max(content_right, max(p.right for p in pills))
    pill_by_name = {p.name: p for p in pills}
    # Keep the declared order for drawing and reading.
    pills.sort(key=lambda p: [name for name, _, _ in all_volumes].index(p.name))

    # Mount lines: ends spread along the pill's edge and the container's edge.
    pairs = []  # (position, volume, mounts)
    for position, grouped in mounts_by_container.items():
        for volume, mounts in grouped.items():
            pairs.append((position, volume, mounts))
    pill_ends: dict[tuple[int, str], tuple[int, int]] = {}
    for pill in pills:
        for upward in (True, False):
            mine = [
                (box_for_position[p].cx, p)
                for p, v, _ in pairs
                if v == pill.name and box_for_position[p].is_init == upward
            ]
            mine.sort()
            xs = _spread(pill.x, pill.w, len(mine), 12)
            for (_, p), px in zip(mine, xs, strict=True):
                pill_ends[(p, pill.name)] = (px, pill.y if upward else pill.bottom)
    box_ends: dict[tuple[int, str], tuple[int, int]] = {}
    for position, box in box_for_position.items():
        mine = sorted((pill_by_name[v].cx, v) for p, v, _ in pairs if p == position)
        xs = _spread(box.x, box.w, len(mine), 18)
        for (_, volume), bx in zip(mine, xs, strict=True):
            box_ends[(position, volume)] = (bx, box.bottom if box.is_init else box.y)
    mount_lines: list[MountLine] = []
    for position, volume, mounts in sorted(pairs, key=lambda t: ([p.name for p in pills].index(t[1]), t[0])):
        box = box_for_position[position]
        x1, y1 = pill_ends[(position, volume)]
        x2, y2 = box_ends[(position, volume)]
        read_only = all(bool(m.get("readOnly")) for m in mounts)
        mode = "ro" if read_only else "rw"
        # Near the container end; further along the line when another label is already there.
        offsets = MOUNT_LABEL_OFFSETS_INIT if box.is_init else MOUNT_LABEL_OFFSETS_RUNNING
        label = None
        for offset in offsets:
            label_y = y2 + offset
            label_x = round(_at_y(x1, y1, x2, y2, label_y))
            candidate = Label(
                mode,
                label_x,
                label_y + 4,
                "middle",
                _centered(label_x, label_y, MOUNT_LABEL_W, MOUNT_LABEL_H),
                f"mount-label {mode}",
            )
            label = label or candidate
            if not any(candidate.area.overlaps(other.label.area) for other in mount_lines):
                label = candidate
                break
        paths = tuple(str(m.get("mountPath", "")) for m in mounts)
        access = "read-only" if read_only else "read-write"
        tooltip = f"{box.name} mounts {volume} {access} at {', '.join(paths)}"
        mount_lines.append(MountLine(volume, box.name, read_only, paths, x1, y1, x2, y2, label, tooltip))

    # The Service (outside the Pod, below it), its ports pointing up at the ports they target.
    service_manifest = next((m for m in rendering.manifests if m.get("kind") == "Service"), None)
    pod_bottom = band_top + BAND_H + 26
    service_top = pod_bottom + SERVICE_GAP
    chips: list[ServicePortChip] = []
    links: list[ServiceLink] = []
    running_tags = [tag for box in boxes for tag in box.ports]
    exposed: set[tuple[str, int, str]] = set()
    if service_manifest is not None:
        placed = []
        for index, port in enumerate((service_manifest.get("spec") or {}).get("ports") or []):
            if not isinstance(port, dict):
                continue
            number = port.get("port", "?")
            protocol = str(port.get("protocol") or "TCP")
            target = port.get("targetPort", number)
            if isinstance(target, str) and target.isdigit():
                target = int(target)
            if isinstance(target, str):
                matches = [t for t in running_tags if t.name == target]
            else:
                matches = [t for t in running_tags if t.number == target and t.protocol == protocol]
            shown = str(number) if protocol == "TCP" else f"{number}/{protocol}"
            text = fit(f"{shown} → {target}", 200, TINY_SIZE, mono=True)
            w = text_width(text, TINY_SIZE, mono=True) + 16
            if matches:
                desired = sum(t.cx for t in matches) / len(matches)
                owners = tuple(dict.fromkeys(t.container for t in matches))
                port_name = port.get("name") or "unnamed"
                tooltip = f"Service port {shown} ({port_name}) → {target} on {', '.join(owners)}"
            else:
                desired = 10**6 + index  # after the matched ones
                owners = ()
                tooltip = f"Service port {shown} targets {target}, which no container declares"
            placed.append((desired, index, port, shown, protocol, target, text, w, matches, owners, tooltip))
        x_min = left
        for desired, _index, port, _shown, protocol, target, text, w, matches, owners, tooltip in sorted(
            placed, key=lambda item: (item[0], item[1])
        ):
            x = max(round(desired - w / 2), x_min) if matches else x_min
            chip = ServicePortChip(
                x,
                service_top - CHIP_H // 2,
                w,
                CHIP_H,
                str(port.get("name") or ""),
                port.get("port", "?"),
                protocol,
                target,
                text,
                owners,
                tooltip,
            )
            chips.append(chip)
            x_min = chip.right + 10
            for tag in matches:
                exposed.add((tag.container, tag.number, tag.protocol))
                links.append(ServiceLink(text, tag.container, chip.cx, chip.y, tag.cx, tag.bottom))
        if chips:
            content_right = max(content_right, max(c.right for c in chips))
        boxes = [
            replace(
                box,
                ports=tuple(replace(t, exposed=(t.container, t.number, t.protocol) in exposed) for t in box.ports),
            )
            for box in boxes
        ]

    # The network band and its label, placed where no Service line crosses it.
    band_text = "shared network · localhost"
    band_label_w = text_width(band_text, SMALL_SIZE)
    strip_top, strip_bottom = band_top + TAG_H // 2 + 2, band_top + BAND_H
    blocked = []
    for link in links:
        xa = _at_y(link.x1, link.y1, link.x2, link.y2, strip_top)
        xb = _at_y(link.x1, link.y1, link.x2, link.y2, strip_bottom)
        blocked.append((min(xa, xb) - 8, max(xa, xb) + 8))
    band_x = left - 10
    label_x = _free_slot(blocked, band_x + 12, max(content_right, left + MIN_CONTENT_W), band_label_w, False)
    if label_x is None:
        label_x = round(max(b for _, b in blocked)) + 4
        content_right = max(content_right, label_x + band_label_w + 4)
    band_label = Label(
        band_text,
        label_x,
        band_top + BAND_H - 9,
        "start",
        Area(label_x, band_top + BAND_H - 21, band_label_w, 15),
        "network-label",
    )

    # The process namespace label: where no line crosses it. "shared process namespace" on the top
    # edge of the dashed frame, else on its bottom edge; "process namespaces isolated" below the band,
    # else above the running row; else in extra room on the right.
    ns_text = "shared process namespace" if shared else "process namespaces isolated"
    ns_w = text_width(ns_text, TINY_SIZE) + 10
    band_bottom = band_top + BAND_H
    top = (run_top - FRAME_PAD, [(m.x1, m.y1, m.x2, m.y2) for m in mount_lines if m.y2 == run_top])
    bottom = (band_bottom + 10, [(k.x1, k.y1, k.x2, k.y2) for k in links])
    candidates = []
    for ns_y, lines in (top, bottom) if shared else (bottom, top):
        ns_blocked = []
        for x1, y1, x2, y2 in lines:
            xa, xb = _at_y(x1, y1, x2, y2, ns_y - 8), _at_y(x1, y1, x2, y2, ns_y + 6)
            ns_blocked.append((min(xa, xb) - 5, max(xa, xb) + 5))
        candidates.append((ns_y, ns_blocked, _free_slot(ns_blocked, left, content_right, ns_w, True)))
    ns_y, ns_blocked, ns_x = next((c for c in candidates if c[2] is not None), (*candidates[0][:2], None))
    if ns_x is None:
        ns_x = round(max(b for _, b in ns_blocked)) + 4
        content_right = max(content_right, ns_x + ns_w)
    ns_label = Label(
        ns_text,
        ns_x + ns_w // 2,
        ns_y + 4,
        "middle",
        Area(ns_x, ns_y - 8, ns_w, 14),
        "process-label shared" if shared else "process-label isolated",
    )

    # The Pod frame, the process namespace frame and the Service box now that the width is known.
    band_w = content_right + 10 - band_x
    network = Band(band_x, band_top, band_w, BAND_H, band_label)
    pod = Area(MARGIN, MARGIN, content_right + POD_PAD - MARGIN, pod_bottom - MARGIN)
    frame = (
        Area(
            left - FRAME_PAD,
            run_top - FRAME_PAD,
            content_right - left + 2 * FRAME_PAD,
            band_bottom + 10 - (run_top - FRAME_PAD),
        )
        if shared
        else None
    )
    process = ProcessNamespace(shared, frame, ns_label)

    service = None
    height = pod.bottom + MARGIN
    if service_manifest is not None:
        meta = service_manifest.get("metadata") or {}
        service_name = str(meta.get("name") or workload.name)
        service_type = str((service_manifest.get("spec") or {}).get("type") or "ClusterIP")
        text = f"Service {fit(service_name, 300, SMALL_SIZE, bold=True)} · {service_type}"
        label = Label(
            text,
            pod.x + 14,
            service_top + 29,
            "start",
            Area(pod.x + 14, service_top + 17, text_width(text, SMALL_SIZE, bold=True), 15),
            "service-name",
        )
        tooltip = f"Service {service_name} ({service_type}) selects this Pod by its labels"
        service = ServiceBox(
            pod.x,
            service_top,
            pod.w,
            SERVICE_H,
            service_name,
            service_type,
            label,
            tuple(chips),
            tuple(links),
            tooltip,
        )
        height = service.bottom + MARGIN

    picture = PodPicture(
        width=pod.right + MARGIN,
        height=height,
        title=f"Picture of {header}",
        description="",
        pod=pod,
        pod_label=pod_label,
        init_label=init_label,
        init_boxes=tuple(init_boxes),
        markers=tuple(markers),
        init_arrows=tuple(arrows),
        boxes=tuple(boxes),
        volumes=tuple(pills),
        mounts=tuple(mount_lines),
        network=network,
        process_namespace=process,
        service=service,
    )
    return replace(picture, description=describe(picture, kind, workload.name))


# --- the words -----------------------------------------------------------------------------
def describe(picture: PodPicture, kind: str, name: str) -> str:
    """The picture in plain sentences, for <desc> and screen readers."""
    subject = f"Pod {name}" if kind == "Pod" else f"Deployment {name} (Pod template)"
    sentences = []
    sequence: list[tuple[int, str]] = [(box.step or 0, box.name) for box in picture.init_boxes]
    sequence += [(marker.step, f"{marker.container} (native sidecar, keeps running)") for marker in picture.markers]
    if sequence:
        steps = ", ".join(f"{step} {text}" for step, text in sorted(sequence))
        sentences.append(f"{subject}: init containers run in order: {steps}.")
    else:
        sentences.append(f"{subject}: no init containers.")
    running = []
    for box in picture.boxes:
        if box.is_app:
            details = [box.image] if box.name == "app" else ["app container", box.image]
        else:
            details = [_role_words(box)]
        ports = _ports_words(box.ports)
        if ports:
            details.append(ports)
        running.append(f"{box.name} ({', '.join(details)})")
    sentences.append(f"Running: {', '.join(running)}." if running else "Running: nothing.")
    for pill in picture.volumes:
        users = [f"{line.container} {line.mode}" for line in picture.mounts if line.volume == pill.name]
        where = f"Volume {pill.name} ({pill.kind})"
        sentences.append(f"{where}: {', '.join(users)}." if users else f"{where}: not mounted.")
    if picture.service is not None:
        ports = []
        for chip in picture.service.ports:
            shown = chip.text.split(" → ")[0]
            goes = ", ".join(chip.targets) if chip.targets else f"no container declares {chip.target}"
            ports.append(f"{shown} → {goes}")
        listed = "; ".join(ports) if ports else "no ports"
        sentences.append(f"Service {picture.service.name} ({picture.service.type}): {listed}.")
    sentences.append("Network: shared, every running container reaches the others on localhost.")
    if picture.process_namespace.shared:
        sentences.append("Process namespace: shared by all containers.")
    else:
        sentences.append("Process namespace: isolated.")
    return " ".join(sentences)
