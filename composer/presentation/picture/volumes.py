"""The volumes of the Pod picture: which ones it shows and who mounts them, and the mount lines
between the volume pills and the containers, with their rw/ro labels.

Containers are numbered by position: the init containers in run order, then the running ones
(the order of `PictureLayout`'s boxes).
"""

from __future__ import annotations

from typing import Any

from composer.presentation.picture.boxes import Entry
from composer.presentation.picture.geometry import (
    MOUNT_LABEL_H,
    MOUNT_LABEL_OFFSETS_INIT,
    MOUNT_LABEL_OFFSETS_RUNNING,
    MOUNT_LABEL_W,
    at_y,
    spread,
)
from composer.presentation.picture.model import Area, ContainerBox, Label, MountLine, VolumePill

Mounts = dict[int, dict[str, list[dict[str, Any]]]]  # container position -> volume -> its volumeMounts
Ends = dict[tuple[int, str], tuple[int, int]]  # (container position, volume) -> (x, y)


def volumes_and_mounts(spec: dict[str, Any], containers: list[Entry]) -> tuple[list[tuple[str, str, bool]], Mounts]:
    """Every declared volume, plus any mounted volume that is not declared, as (name, kind, declared);
    and the mounts of each container."""
    unique: dict[str, dict[str, Any]] = {}
    for volume in spec.get("volumes") or []:
        if isinstance(volume, dict):
            unique.setdefault(str(volume.get("name", "")), volume)  # a duplicate is lint's business
    declared = list(unique.values())
    volume_names = list(unique)
    mounts_by_container: Mounts = {}
    for position, entry in enumerate(containers):
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
    all_volumes = [(str(v.get("name", "")), volume_kind(v), True) for v in declared]
    all_volumes += [(name, "not declared", False) for name in undeclared]
    return all_volumes, mounts_by_container


def volume_kind(volume: dict[str, Any]) -> str:
    kinds = [key for key in volume if key != "name"]
    if not kinds:
        return "emptyDir"
    kind = kinds[0]
    if kind == "emptyDir" and isinstance(volume[kind], dict) and volume[kind].get("medium") == "Memory":
        return "emptyDir · memory"
    return {"persistentVolumeClaim": "PVC"}.get(kind, kind)


def mount_lines(
    pills: list[VolumePill], box_for_position: dict[int, ContainerBox], mounts_by_container: Mounts
) -> list[MountLine]:
    """The mount lines: ends spread along the pill's edge and the container's edge."""
    pairs = []  # (position, volume, mounts)
    for position, grouped in mounts_by_container.items():
        for volume, mounts in grouped.items():
            pairs.append((position, volume, mounts))
    pill_ends = _pill_ends(pills, box_for_position, pairs)
    box_ends = _box_ends({p.name: p for p in pills}, box_for_position, pairs)
    lines: list[MountLine] = []
    for position, volume, mounts in sorted(pairs, key=lambda t: ([p.name for p in pills].index(t[1]), t[0])):
        box = box_for_position[position]
        x1, y1 = pill_ends[(position, volume)]
        x2, y2 = box_ends[(position, volume)]
        read_only = all(bool(m.get("readOnly")) for m in mounts)
        label = _mount_label("ro" if read_only else "rw", box, (x1, y1, x2, y2), lines)
        paths = tuple(str(m.get("mountPath", "")) for m in mounts)
        access = "read-only" if read_only else "read-write"
        tooltip = f"{box.name} mounts {volume} {access} at {', '.join(paths)}"
        lines.append(MountLine(volume, box.name, read_only, paths, x1, y1, x2, y2, label, tooltip))
    return lines


def _pill_ends(pills: list[VolumePill], box_for_position: dict[int, ContainerBox], pairs: list) -> Ends:
    """Where each line leaves its pill: the top edge towards init containers, else the bottom edge."""
    ends: Ends = {}
    for pill in pills:
        for upward in (True, False):
            mine = [
                (box_for_position[p].cx, p)
                for p, v, _ in pairs
                if v == pill.name and box_for_position[p].is_init == upward
            ]
            mine.sort()
            xs = spread(pill.x, pill.w, len(mine), 12)
            for (_, p), px in zip(mine, xs, strict=True):
                ends[(p, pill.name)] = (px, pill.y if upward else pill.bottom)
    return ends


def _box_ends(pill_by_name: dict[str, VolumePill], box_for_position: dict[int, ContainerBox], pairs: list) -> Ends:
    """Where each line reaches its container: an init container's bottom edge, else the top edge."""
    ends: Ends = {}
    for position, box in box_for_position.items():
        mine = sorted((pill_by_name[v].cx, v) for p, v, _ in pairs if p == position)
        xs = spread(box.x, box.w, len(mine), 18)
        for (_, volume), bx in zip(mine, xs, strict=True):
            ends[(position, volume)] = (bx, box.bottom if box.is_init else box.y)
    return ends


def _mount_label(mode: str, box: ContainerBox, line: tuple[int, int, int, int], placed: list[MountLine]) -> Label:
    """Near the container end; further along the line when another label is already there."""
    x1, y1, x2, y2 = line
    offsets = MOUNT_LABEL_OFFSETS_INIT if box.is_init else MOUNT_LABEL_OFFSETS_RUNNING
    label = None
    for offset in offsets:
        label_y = y2 + offset
        label_x = round(at_y(x1, y1, x2, y2, label_y))
        candidate = Label(
            mode,
            label_x,
            label_y + 4,
            "middle",
            _centered(label_x, label_y, MOUNT_LABEL_W, MOUNT_LABEL_H),
            f"mount-label {mode}",
        )
        label = label or candidate
        if not any(candidate.area.overlaps(other.label.area) for other in placed):
            label = candidate
            break
    return label  # type: ignore[return-value]  # there is always an offset to try


def _centered(cx: int, cy: int, w: int, h: int) -> Area:
    return Area(cx - w // 2, cy - h // 2, w, h)
