"""The picture of the Pod: a deterministic layout for the composer's SVG preview.

Pure Python (neither Django nor Kubernetes): `pod_picture(rendering)` turns a
`composer.domain.render.Rendering` into positioned boxes, pills, tags, lines and
labels (all integer coordinates; the dataclasses of `model.py`), plus a plain-text
description for screen readers (`describe.py`).
`composer.presentation.picture.svg.render_svg` only draws what this module computes.

Top to bottom:

    Pod header
    init containers, in run order (1 → 2 → …); a native sidecar's start is a dashed step
    volumes (pills), with lines up to the init containers and down to the running ones
    running containers (app first), ports as tags on their bottom edge,
        inside a dashed "shared process namespace" frame when shareProcessNamespace is on
    the shared network band ("shared network · localhost") they all sit on
    the Service (outside the Pod), its ports pointing up at the container ports they target

`PictureLayout` places them one band per method; sizes and text measuring are in
`geometry.py`, reading the containers and building one container box in `boxes.py`.

Built from the rendered Pod spec, so imported custom containers are drawn exactly
like pattern-built ones.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from composer.domain.render import Placement, Rendering
from composer.presentation.picture.boxes import container_box, entries, row_width, step_marker, valid_ports
from composer.presentation.picture.describe import describe
from composer.presentation.picture.geometry import (
    BAND_H,
    BOX_GAP,
    CHIP_H,
    FRAME_PAD,
    HEADER_H,
    INIT_GAP,
    INIT_H,
    INIT_H_WITH_PORTS,
    MARGIN,
    MIN_CONTENT_W,
    PILL_GAP,
    PILL_H,
    POD_PAD,
    RUN_H,
    SERVICE_GAP,
    SERVICE_H,
    SMALL_SIZE,
    TAG_H,
    TINY_SIZE,
    VOL_GAP_DOWN,
    VOL_GAP_UP,
    at_y,
    fit,
    free_slot,
    text_width,
)
from composer.presentation.picture.model import (
    Area,
    Arrow,
    Band,
    ContainerBox,
    Label,
    MountLine,
    PodPicture,
    PortTag,
    ProcessNamespace,
    ServiceBox,
    ServiceLink,
    ServicePortChip,
    StepMarker,
    VolumePill,
)
from composer.presentation.picture.volumes import mount_lines, volumes_and_mounts


def pod_picture(rendering: Rendering) -> PodPicture:
    return PictureLayout(rendering).picture()


class PictureLayout:
    """The layout of one Rendering's picture, placed band by band by ``picture()``.

    Each band starts at ``cursor`` (the next free y) and moves it down; ``content_right`` is the
    right edge of what has been placed so far: the Pod frame takes its width from it at the end.
    Two bands wait for later ones: the volume row keeps its room above the running row, and its
    pills are placed once the containers that mount them are; the network band's label and the
    process namespace label go where the mount and Service lines leave room.
    """

    def __init__(self, rendering: Rendering) -> None:
        self.rendering = rendering
        self.spec = rendering.pod_spec
        self.workload = rendering.composition.workload
        self.shared = bool(self.spec.get("shareProcessNamespace"))
        self.sequence, self.running = entries(rendering)
        self.left = MARGIN + POD_PAD  # content left
        self.content_right = self.left + MIN_CONTENT_W
        self.cursor = MARGIN
        # Pod header
        self.kind = self.header = ""
        self.pod_label: Label
        # init sequence
        self.init_label: Label | None = None
        self.init_boxes: list[ContainerBox] = []
        self.markers: list[StepMarker] = []
        self.arrows: list[Arrow] = []
        # volumes: (name, kind, declared), and by container position (init, then running): volume -> mounts
        self.all_volumes: list[tuple[str, str, bool]] = []
        self.mounts_by_container: dict[int, dict[str, list[dict[str, Any]]]] = {}
        self.pill_top = 0
        self.pills: list[VolumePill] = []
        self.mount_lines: list[MountLine] = []
        # running containers and the network band under them
        self.run_top = self.band_top = 0
        self.boxes: list[ContainerBox] = []
        self.box_for_position: dict[int, ContainerBox] = {}
        self.band_x = self.left - 10
        self.band_label: Label
        self.ns_label: Label
        # the Service
        self.service_manifest = next((m for m in rendering.manifests if m.get("kind") == "Service"), None)
        self.pod_bottom = self.service_top = 0
        self.chips: list[ServicePortChip] = []
        self.links: list[ServiceLink] = []

    def picture(self) -> PodPicture:
        self.place_header()
        self.place_init_sequence()
        self.keep_room_for_volumes()
        self.place_running_row()
        self.place_volume_pills()
        self.place_mount_lines()
        self.place_service_ports()
        self.place_network_label()
        self.place_process_label()
        network, pod, process = self.frames()
        service = self.service_box(pod)
        picture = PodPicture(
            width=pod.right + MARGIN,
            height=(service.bottom if service is not None else pod.bottom) + MARGIN,
            title=f"Picture of {self.header}",
            description="",
            pod=pod,
            pod_label=self.pod_label,
            init_label=self.init_label,
            init_boxes=tuple(self.init_boxes),
            markers=tuple(self.markers),
            init_arrows=tuple(self.arrows),
            boxes=tuple(self.boxes),
            volumes=tuple(self.pills),
            mounts=tuple(self.mount_lines),
            network=network,
            process_namespace=process,
            service=service,
        )
        return replace(picture, description=describe(picture, self.kind, self.workload.name))

    # --- top to bottom ---------------------------------------------------------------------------
    def place_header(self) -> None:
        """The Pod header: "Pod <name>", or "<kind> <name> · Pod template" (a Deployment's, a Job's …)."""
        rendering, workload = self.rendering, self.workload
        self.kind = rendering.workload.get("kind", workload.kind) if rendering.manifests else workload.kind
        pod_name = fit(workload.name, 420, 14, bold=True)
        self.header = f"Pod {pod_name}" if self.kind == "Pod" else f"{self.kind} {pod_name} · Pod template"
        self.pod_label = Label(
            self.header,
            MARGIN + 14,
            MARGIN + 25,
            "start",
            Area(MARGIN + 14, MARGIN + 11, text_width(self.header, 14, bold=True), 18),
            "pod-name",
        )
        self.content_right = max(self.content_right, self.pod_label.area.right - 8)
        self.cursor = MARGIN + HEADER_H

    def place_init_sequence(self) -> None:
        """The init containers in run order, a native sidecar's start as a step marker, arrows between."""
        if not self.sequence:
            return
        left = self.left
        text = "init containers · run one at a time, in order"
        self.init_label = Label(
            text, left, self.cursor + 10, "start", Area(left, self.cursor, text_width(text, SMALL_SIZE), 14), "section"
        )
        init_top = self.cursor + 20
        has_ports = any(valid_ports(e.container) for e in self.sequence if e.kind == Placement.INIT)
        init_h = INIT_H_WITH_PORTS if has_ports else INIT_H
        x = left
        previous: Area | None = None
        init_w = row_width([e for e in self.sequence if e.kind == Placement.INIT])
        for entry in self.sequence:
            if previous is not None:
                self.arrows.append(Arrow(previous.right + 5, init_top + init_h // 2, x - 5, init_top + init_h // 2))
            if entry.kind == Placement.INIT:
                item: Area = container_box(entry, x, init_top, init_h, init_w)
                self.init_boxes.append(item)  # type: ignore[arg-type]
            else:
                item = step_marker(entry, x, init_top, init_h)
                self.markers.append(item)  # type: ignore[arg-type]
            previous = item
            x = item.right + INIT_GAP
        self.content_right = max(self.content_right, previous.right if previous else 0)
        self.cursor = init_top + init_h

    def keep_room_for_volumes(self) -> None:
        """Which volumes to show, and the room of their row between the init sequence and the running row."""
        containers = [e for e in self.sequence if e.kind == Placement.INIT] + self.running
        self.all_volumes, self.mounts_by_container = volumes_and_mounts(self.spec, containers)
        if self.all_volumes:
            init_mounts = any(
                grouped for position, grouped in self.mounts_by_container.items() if position < len(self.init_boxes)
            )
            self.cursor += (VOL_GAP_UP if init_mounts else 26) if self.sequence else 16
            self.pill_top = self.cursor
            self.cursor += PILL_H + VOL_GAP_DOWN
        else:
            self.cursor += 40 if self.sequence else 22
        self.run_top = self.cursor

    def place_running_row(self) -> None:
        """The running containers, the app first, and under them the room of the network band."""
        run_w = row_width(self.running)
        x = self.left
        for entry in self.running:
            box = container_box(entry, x, self.run_top, RUN_H, run_w)
            self.boxes.append(box)
            x = box.right + BOX_GAP
        if self.boxes:
            self.content_right = max(self.content_right, self.boxes[-1].right)
        self.band_top = self.run_top + RUN_H
        self.cursor = self.band_top + BAND_H

    def place_volume_pills(self) -> None:
        """The volume pills, placed near the containers that mount them."""
        self.box_for_position = {i: box for i, box in enumerate([*self.init_boxes, *self.boxes])}
        users: dict[str, list[int]] = {name: [] for name, _, _ in self.all_volumes}
        for position, grouped in self.mounts_by_container.items():
            for volume in grouped:
                users.setdefault(volume, []).append(position)
        wanted = []
        for index, (name, vkind, is_declared) in enumerate(self.all_volumes):
            centers = [self.box_for_position[p].cx for p in users.get(name, [])]
            name_text = fit(name, 220, SMALL_SIZE, bold=True)
            w = text_width(name_text, SMALL_SIZE, bold=True) + text_width(" " + vkind, TINY_SIZE, mono=True) + 26
            desired = sum(centers) / len(centers) if centers else self.left + w / 2
            wanted.append((desired, index, name, name_text, vkind, is_declared, w))
        pills = self.pills
        x_min = self.left
        for desired, _index, name, name_text, vkind, is_declared, w in sorted(wanted):
            x = max(round(desired - w / 2), x_min)
            mounted = bool(users.get(name))
            tooltip = f"Volume {name} ({vkind})"
            if not is_declared:
                tooltip += ": mounted but missing from spec.volumes"
            elif not mounted:
                tooltip += ": no container mounts it"
            pills.append(VolumePill(x, self.pill_top, w, PILL_H, name, name_text, vkind, is_declared, mounted, tooltip))
            x_min = x + w + PILL_GAP
        if pills:
            self.content_right = max(self.content_right, max(p.right for p in pills))
        # Keep the declared order for drawing and reading.
        pills.sort(key=lambda p: [name for name, _, _ in self.all_volumes].index(p.name))

    def place_mount_lines(self) -> None:
        """A line from each volume to each container that mounts it (see volumes.py)."""
        self.mount_lines = mount_lines(self.pills, self.box_for_position, self.mounts_by_container)

    def place_service_ports(self) -> None:
        """The Service (outside the Pod, below it), its ports pointing up at the ports they target."""
        self.pod_bottom = self.band_top + BAND_H + 26
        self.service_top = self.pod_bottom + SERVICE_GAP
        manifest = self.service_manifest
        if manifest is None:
            return
        exposed: set[tuple[str, int, str]] = set()
        x_min = self.left
        for desired, _index, port, _shown, protocol, target, text, w, matches, owners, tooltip in sorted(
            self._service_ports(manifest), key=lambda item: (item[0], item[1])
        ):
            x = max(round(desired - w / 2), x_min) if matches else x_min
            chip = ServicePortChip(
                x,
                self.service_top - CHIP_H // 2,
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
            self.chips.append(chip)
            x_min = chip.right + 10
            for tag in matches:
                exposed.add((tag.container, tag.number, tag.protocol))
                self.links.append(ServiceLink(text, tag.container, chip.cx, chip.y, tag.cx, tag.bottom))
        if self.chips:
            self.content_right = max(self.content_right, max(c.right for c in self.chips))
        self.boxes = [
            replace(
                box,
                ports=tuple(replace(t, exposed=(t.container, t.number, t.protocol) in exposed) for t in box.ports),
            )
            for box in self.boxes
        ]

    def _service_ports(self, manifest: dict[str, Any]) -> list[tuple[Any, ...]]:
        """Each Service port with the running container ports it targets and where it wants to be."""
        running_tags: list[PortTag] = [tag for box in self.boxes for tag in box.ports]
        placed = []
        for index, port in enumerate((manifest.get("spec") or {}).get("ports") or []):
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
        return placed

    def place_network_label(self) -> None:
        """The network band's label, placed where no Service line crosses it."""
        band_top, left = self.band_top, self.left
        band_text = "shared network · localhost"
        band_label_w = text_width(band_text, SMALL_SIZE)
        strip_top, strip_bottom = band_top + TAG_H // 2 + 2, band_top + BAND_H
        blocked = []
        for link in self.links:
            xa = at_y(link.x1, link.y1, link.x2, link.y2, strip_top)
            xb = at_y(link.x1, link.y1, link.x2, link.y2, strip_bottom)
            blocked.append((min(xa, xb) - 8, max(xa, xb) + 8))
        label_x = free_slot(
            blocked, self.band_x + 12, max(self.content_right, left + MIN_CONTENT_W), band_label_w, False
        )
        if label_x is None:
            label_x = round(max(b for _, b in blocked)) + 4
            self.content_right = max(self.content_right, label_x + band_label_w + 4)
        self.band_label = Label(
            band_text,
            label_x,
            band_top + BAND_H - 9,
            "start",
            Area(label_x, band_top + BAND_H - 21, band_label_w, 15),
            "network-label",
        )

    def place_process_label(self) -> None:
        """The process namespace label, where no line crosses it.

        "shared process namespace" on the top edge of the dashed frame, else on its bottom edge;
        "process namespaces isolated" below the band, else above the running row; else in extra
        room on the right."""
        shared, run_top = self.shared, self.run_top
        ns_text = "shared process namespace" if shared else "process namespaces isolated"
        ns_w = text_width(ns_text, TINY_SIZE) + 10
        band_bottom = self.band_top + BAND_H
        top = (run_top - FRAME_PAD, [(m.x1, m.y1, m.x2, m.y2) for m in self.mount_lines if m.y2 == run_top])
        bottom = (band_bottom + 10, [(k.x1, k.y1, k.x2, k.y2) for k in self.links])
        candidates = []
        for ns_y, lines in (top, bottom) if shared else (bottom, top):
            ns_blocked = []
            for x1, y1, x2, y2 in lines:
                xa, xb = at_y(x1, y1, x2, y2, ns_y - 8), at_y(x1, y1, x2, y2, ns_y + 6)
                ns_blocked.append((min(xa, xb) - 5, max(xa, xb) + 5))
            candidates.append((ns_y, ns_blocked, free_slot(ns_blocked, self.left, self.content_right, ns_w, True)))
        ns_y, ns_blocked, ns_x = next((c for c in candidates if c[2] is not None), (*candidates[0][:2], None))
        if ns_x is None:
            ns_x = round(max(b for _, b in ns_blocked)) + 4
            self.content_right = max(self.content_right, ns_x + ns_w)
        self.ns_label = Label(
            ns_text,
            ns_x + ns_w // 2,
            ns_y + 4,
            "middle",
            Area(ns_x, ns_y - 8, ns_w, 14),
            "process-label shared" if shared else "process-label isolated",
        )

    # --- now that the width is known -------------------------------------------------------------
    def frames(self) -> tuple[Band, Area, ProcessNamespace]:
        """The network band, the Pod frame and the process namespace (with its dashed frame when shared)."""
        left, content_right = self.left, self.content_right
        band_w = content_right + 10 - self.band_x
        network = Band(self.band_x, self.band_top, band_w, BAND_H, self.band_label)
        pod = Area(MARGIN, MARGIN, content_right + POD_PAD - MARGIN, self.pod_bottom - MARGIN)
        frame = (
            Area(
                left - FRAME_PAD,
                self.run_top - FRAME_PAD,
                content_right - left + 2 * FRAME_PAD,
                self.band_top + BAND_H + 10 - (self.run_top - FRAME_PAD),
            )
            if self.shared
            else None
        )
        return network, pod, ProcessNamespace(self.shared, frame, self.ns_label)

    def service_box(self, pod: Area) -> ServiceBox | None:
        """The Service under the Pod, as wide as it, with the port chips placed on its top edge."""
        if self.service_manifest is None:
            return None
        meta = self.service_manifest.get("metadata") or {}
        service_name = str(meta.get("name") or self.workload.name)
        service_type = str((self.service_manifest.get("spec") or {}).get("type") or "ClusterIP")
        text = f"Service {fit(service_name, 300, SMALL_SIZE, bold=True)} · {service_type}"
        service_top = self.service_top
        label = Label(
            text,
            pod.x + 14,
            service_top + 29,
            "start",
            Area(pod.x + 14, service_top + 17, text_width(text, SMALL_SIZE, bold=True), 15),
            "service-name",
        )
        tooltip = f"Service {service_name} ({service_type}) selects this Pod by its labels"
        return ServiceBox(
            pod.x,
            service_top,
            pod.w,
            SERVICE_H,
            service_name,
            service_type,
            label,
            tuple(self.chips),
            tuple(self.links),
            tooltip,
        )
