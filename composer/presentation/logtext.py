"""Untrusted log text as safe HTML: escaped, ANSI colours as classed spans, long lines cut.

Everything a container prints reaches the page only through ``line_html``: the text is
HTML-escaped, SGR colour codes become ``<span class="ansi-…">`` (class names come from this
module, never from the log; no inline styles), every other escape sequence and
control character is dropped, and a line longer than ``limit`` characters shows its start
with the rest behind an "expand" button (at most ``hard_limit`` characters are kept at
all, so that one runaway line cannot weigh megabytes in the browser).

Pure Python (no Django): the web layer marks the result safe.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from html import escape

DEFAULT_LIMIT = 2000
DEFAULT_HARD_LIMIT = 100_000
TAG_COLOURS = 8  # container tags in the merged view cycle through tag-0 … tag-7

# ESC [ params final (CSI; SGR when final is "m"), ESC ] … BEL or ESC \ (OSC: titles, links),
# and two-character escapes. A lone ESC at the end is dropped with the other controls.
_ESCAPE = re.compile(r"\x1b(?:\[([0-9;:?<=>]*)[ -/]*([@-~])|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[ -/]*[0-~])")
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")  # tab stays; a newline would end the line (and an SSE field)
_CONTROL_OR_ESCAPE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")  # the same without newline; ESC is among them

_BASIC = ("black", "red", "green", "yellow", "blue", "magenta", "cyan", "white")


@dataclass
class _Style:
    fg: str = ""  # a colour class suffix: "red", "bright-red" …
    bg: str = ""
    bold: bool = False
    dim: bool = False
    italic: bool = False
    underline: bool = False
    strike: bool = False
    inverse: bool = False

    def span_open(self) -> str:
        flags = (("bold", self.bold), ("dim", self.dim), ("italic", self.italic), ("underline", self.underline),
                 ("strike", self.strike), ("inverse", self.inverse))
        classes = [f"ansi-{name}" for name, on in flags if on]
        classes += [f"ansi-{prefix}-{value}" for prefix, value in (("fg", self.fg), ("bg", self.bg)) if value]
        return f'<span class="{" ".join(classes)}">' if classes else ""


@dataclass
class _Segments:
    """A line as (opening tag, text) pieces, with the visible length so far."""

    pieces: list[tuple[str, str]] = field(default_factory=list)
    length: int = 0

    def add(self, opening: str, text: str) -> None:
        text = _CONTROL.sub("", text)
        if text:
            self.pieces.append((opening, text))
            self.length += len(text)


# xterm's values for the 16 colours; 256-colour and 24-bit codes get the nearest of them,
# so that the page needs no inline styles (the Content-Security-Policy allows none).
_PALETTE = {
    "black": (0, 0, 0), "red": (205, 0, 0), "green": (0, 205, 0), "yellow": (205, 205, 0),
    "blue": (0, 0, 238), "magenta": (205, 0, 205), "cyan": (0, 205, 205), "white": (229, 229, 229),
    "bright-black": (127, 127, 127), "bright-red": (255, 0, 0), "bright-green": (0, 255, 0),
    "bright-yellow": (255, 255, 0), "bright-blue": (92, 92, 255), "bright-magenta": (255, 0, 255),
    "bright-cyan": (0, 255, 255), "bright-white": (255, 255, 255),
}


def _nearest(red: int, green: int, blue: int) -> str:
    return min(_PALETTE, key=lambda name: sum((a - b) ** 2 for a, b in zip(_PALETTE[name], (red, green, blue),
                                                                            strict=True)))


def _colour_256(index: int) -> str:
    if index < 16:
        return ("bright-" if index >= 8 else "") + _BASIC[index % 8]
    if index < 232:
        index -= 16
        levels = (0, 95, 135, 175, 215, 255)
        return _nearest(levels[index // 36], levels[(index // 6) % 6], levels[index % 6])
    grey = 8 + (index - 232) * 10
    return _nearest(grey, grey, grey)


def _extended_colour(params: list[int]) -> tuple[str, int]:
    """38;5;n or 38;2;r;g;b (params start after the 38/48); returns (colour class, params used)."""
    if len(params) >= 2 and params[0] == 5:
        return _colour_256(min(max(params[1], 0), 255)), 2
    if len(params) >= 4 and params[0] == 2:
        red, green, blue = (min(max(value, 0), 255) for value in params[1:4])
        return _nearest(red, green, blue), 4
    return "", len(params)


_FLAGS = {1: ("bold", True), 2: ("dim", True), 3: ("italic", True), 4: ("underline", True), 7: ("inverse", True),
          9: ("strike", True), 22: ("bold", False), 23: ("italic", False), 24: ("underline", False),
          27: ("inverse", False), 29: ("strike", False)}


def _apply_sgr(style: _Style, text: str) -> _Style:
    try:
        params = [int(part) if part else 0 for part in re.split("[;:]", text)] if text else [0]
    except ValueError:
        return style
    index = 0
    while index < len(params):
        code = params[index]
        index += 1
        if code == 0:
            style = _Style()
        elif code in _FLAGS:
            name, value = _FLAGS[code]
            setattr(style, name, value)
            if code == 22:
                style.dim = False
        elif 30 <= code <= 37 or 90 <= code <= 97:
            style.fg = ("bright-" if code >= 90 else "") + _BASIC[code % 10]
        elif 40 <= code <= 47 or 100 <= code <= 107:
            style.bg = ("bright-" if code >= 100 else "") + _BASIC[code % 10]
        elif code in (38, 48):
            colour, used = _extended_colour(params[index:])
            index += used
            if code == 38:
                style.fg = colour
            else:
                style.bg = colour
        elif code == 39:
            style.fg = ""
        elif code == 49:
            style.bg = ""
    return style


def _segments(text: str) -> _Segments:
    segments, style, position = _Segments(), _Style(), 0
    opening = ""
    for match in _ESCAPE.finditer(text):
        segments.add(opening, text[position : match.start()])
        position = match.end()
        if match.group(2) == "m":
            style = _apply_sgr(style, match.group(1))
            opening = style.span_open()
    segments.add(opening, text[position:])
    return segments


def _render(pieces: Iterable[tuple[str, str]]) -> str:
    return "".join(f"{opening}{escape(text, quote=False)}</span>" if opening else escape(text, quote=False)
                   for opening, text in pieces)


def _split(segments: _Segments, at: int) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """The pieces before and after visible character ``at``."""
    head, tail, seen = [], [], 0
    for opening, text in segments.pieces:
        if seen >= at:
            tail.append((opening, text))
        elif seen + len(text) <= at:
            head.append((opening, text))
        else:
            cut = at - seen
            head.append((opening, text[:cut]))
            tail.append((opening, text[cut:]))
        seen += len(text)
    return head, tail


def _clip(pieces: list[tuple[str, str]], length: int) -> list[tuple[str, str]]:
    return _split(_Segments(pieces, sum(len(t) for _, t in pieces)), length)[0]


def text_html(text: str, *, limit: int = DEFAULT_LIMIT, hard_limit: int = DEFAULT_HARD_LIMIT) -> str:
    """One line of log text as HTML (without the line's own wrapper)."""
    if "\x1b" not in text and len(text) <= limit and not _CONTROL.search(text):
        return escape(text, quote=False)  # the common case, kept fast
    segments = _segments(text)
    if segments.length <= limit:
        return _render(segments.pieces)
    head, rest = _split(segments, limit)
    dropped = max(segments.length - hard_limit, 0)
    hidden = segments.length - dropped - limit
    if dropped:
        rest = _clip(rest, hard_limit - limit)
    cut_note = f'<span class="cut"> … {dropped:,} more characters not shown</span>' if dropped else ""
    return (
        f'{_render(head)}<span class="rest" hidden>{_render(rest)}{cut_note}</span>'
        f'<button type="button" class="more" aria-expanded="false">show {hidden:,} more characters</button>'
    )


def _tag(container: str, tag_index: int) -> str:
    if not container:
        return ""
    return f'<span class="tag tag-{tag_index % TAG_COLOURS}">{escape(container, quote=False)}</span>'


def _stamp(timestamp: str) -> str:
    return f'<span class="ts">{timestamp} </span>' if timestamp else ""


def line_html(
    text: str,
    *,
    timestamp: str = "",
    container: str = "",
    tag_index: int = 0,
    limit: int = DEFAULT_LIMIT,
    hard_limit: int = DEFAULT_HARD_LIMIT,
) -> str:
    """A log line for the page: ``<div class="l">`` with an optional timestamp and container tag.

    The timestamp is always included when known (CSS shows it or not); the container tag is
    for the merged view. Never contains a newline, so it fits one SSE ``data:`` field.
    """
    body = text_html(text, limit=limit, hard_limit=hard_limit)
    return f'<div class="l">{_stamp(escape(timestamp, quote=False))}{_tag(container, tag_index)}{body}</div>'


def lines_html(
    stamps: Sequence[str],
    texts: Sequence[str],
    *,
    container: str = "",
    tag_index: int = 0,
    limit: int = DEFAULT_LIMIT,
    hard_limit: int = DEFAULT_HARD_LIMIT,
) -> str:
    """Many lines of one container, as ``line_html`` would render each, joined by newlines.

    Most blocks of log are plain text of ordinary length: those are escaped in one call for
    the whole block (the cost per line is what limits a log stream), the others line by line."""
    joined = "\n".join(texts)
    if _CONTROL_OR_ESCAPE.search(joined) or max(map(len, texts), default=0) > limit:
        return "\n".join(
            line_html(text, timestamp=stamp, container=container, tag_index=tag_index, limit=limit,
                      hard_limit=hard_limit)
            for stamp, text in zip(stamps, texts, strict=True)
        )
    escaped = escape(joined, quote=False).split("\n")
    tag = _tag(container, tag_index)
    if not any(stamps):
        return "\n".join([f'<div class="l">{tag}{text}</div>' for text in escaped])
    escaped_stamps = escape("\n".join(stamps), quote=False).split("\n")
    return "\n".join([  # (inline, not _stamp(): this loop is the hot path of a followed log)
        f'<div class="l"><span class="ts">{stamp} </span>{tag}{text}</div>'
        if stamp
        else f'<div class="l">{tag}{text}</div>'
        for stamp, text in zip(escaped_stamps, escaped, strict=True)
    ])


def block_html(
    block: str,
    *,
    stamped: bool,
    plain: bool | None = None,
    container: str = "",
    tag_index: int = 0,
    limit: int = DEFAULT_LIMIT,
    hard_limit: int = DEFAULT_HARD_LIMIT,
) -> str:
    """Lines joined by newlines (each starting with "<timestamp> " when ``stamped``), rendered as
    ``line_html`` renders each line, joined by newlines. ``plain``: the caller knows the block
    has no control characters (None: look).

    The usual block of log, plain text of ordinary length, is escaped in one call and wrapped
    with string operations that run in C: the cost per line is what limits a log stream. Blocks
    with escape sequences, control characters or long lines go line by line."""
    if plain is None:
        plain = not _CONTROL_OR_ESCAPE.search(block)
    lines = escape(block, quote=False).split("\n") if plain else []
    # (a stamped line is longer than its text: such a block may go the slow way without need, never the reverse)
    if lines and max(map(len, lines)) <= limit:
        tag = _tag(container, tag_index)
        if not stamped:
            return f'<div class="l">{tag}' + f'</div>\n<div class="l">{tag}'.join(lines) + "</div>"
        marker = f" </span>{tag}"
        body = '</div>\n<div class="l"><span class="ts">'.join([line.replace(" ", marker, 1) for line in lines])
        if body.count(" </span>") == len(lines):  # every line had its "<timestamp> " (escaped text has no "<")
            return f'<div class="l"><span class="ts">{body}</div>'
    parts = [line.partition(" ") if stamped else ("", "", line) for line in block.split("\n")]
    return lines_html([p[0] for p in parts], [p[2] for p in parts], container=container, tag_index=tag_index,
                      limit=limit, hard_limit=hard_limit)


def plain_text(text: str) -> str:
    """The text without escape sequences and control characters (what a reader sees)."""
    return _CONTROL.sub("", _ESCAPE.sub("", text))
