"""The Pod picture's sizes, and the arithmetic of its layout: measuring and cutting text, spreading
points along an edge, finding room for a label between lines.

Pure Python; all sizes are SVG user units (the SVG scales through its viewBox).
"""

from __future__ import annotations

# --- sizes -------------------------------------------------------------------------------
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


# --- placing points and labels ----------------------------------------------------------
def spread(start: int, width: int, count: int, margin: int) -> list[int]:
    if count == 1:
        return [start + width // 2]
    usable = max(width - 2 * margin, 0)
    return [start + margin + round(usable * i / (count - 1)) for i in range(count)]


def at_y(x1: int, y1: int, x2: int, y2: int, y: float) -> float:
    if y2 == y1:
        return float(x1)
    return x1 + (x2 - x1) * (y - y1) / (y2 - y1)


def free_slot(blocked: list[tuple[float, float]], lo: int, hi: int, width: int, from_right: bool) -> int | None:
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
