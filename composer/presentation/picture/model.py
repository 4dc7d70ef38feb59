"""What the layout of the Pod picture produces: positioned boxes, pills, tags, lines and labels.

`composer.presentation.picture.layout.pod_picture` computes a `PodPicture` (all integer
coordinates), `composer.presentation.picture.svg.render_svg` draws it. The properties here only
place text and marks inside their shape.
"""

from __future__ import annotations

from dataclasses import dataclass

from composer.domain.render import Placement
from composer.presentation.picture.geometry import STEP_R

ROLES = ("app", "init", "sidecar", "ambassador", "adapter")


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
