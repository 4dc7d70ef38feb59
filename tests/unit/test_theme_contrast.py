"""Both themes' text is readable: WCAG 2 contrast of the colour pairs the pages draw.

Every colour is a CSS variable written once as ``--name: light-dark(LIGHT, DARK)`` (or one value for
both themes) in static/css/*.css; this reads them from there. Every pair must reach AA for text
(4.5:1) in both themes; ``python -m tests.unit.test_theme_contrast`` prints both columns.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pytest

CSS = Path(__file__).resolve().parents[2] / "static" / "css"
HEX = r"#[0-9a-fA-F]{3,8}"
PAIR = re.compile(rf"--([\w-]+):\s*light-dark\(\s*({HEX})\s*,\s*({HEX})\s*\)")
SINGLE = re.compile(rf"--([\w-]+):\s*({HEX})\s*;")
AA = 4.5

# (text, background, where); a background "mix:VAR:PERCENT:OVER" is color-mix(in srgb, VAR PERCENT%, OVER).
PAIRS = [
    ("text", "bg", "page text"),
    ("text", "surface", "panel text"),
    ("text", "code-bg", "YAML"),
    ("text", "field-bg", "form fields"),
    ("text", "syn-bg", "the YAML card"),
    ("muted", "bg", "hints on the page"),
    ("muted", "surface", "hints in panels"),
    ("muted", "surface-sunken", "drop-zone hints"),
    ("accent", "surface", "links, summaries"),
    ("accent", "bg", "links on the page"),
    ("accent-ink", "accent", "primary buttons"),
    ("danger", "surface", "errors beside fields, Delete"),
    ("warning", "surface", "warnings"),
    ("ok", "surface", "no problems"),
    ("ok", "bg", "saved state"),
    ("error-ink", "error-bg", "error alerts"),
    ("warning-ink", "warning-bg", "warning alerts"),
    ("info-ink", "info-bg", "info alerts"),
    ("danger", "error-bg", "error counts"),
    ("warning", "warning-bg", "warning counts, override state, conditions"),
    ("ok", "ok-bg", "ok counts, new badges"),
    ("diff-added-ink", "diff-added-bg", "added diff lines"),
    ("diff-removed-ink", "diff-removed-bg", "removed diff lines"),
    ("badge-ink", "init", "init badges, steps"),
    ("badge-ink", "sidecar", "sidecar badges"),
    ("badge-ink", "ambassador", "ambassador badges"),
    ("badge-ink", "adapter", "adapter badges"),
    ("badge-ink", "custom", "custom badges"),
    ("badge-ink", "app", "app badges"),
    ("init-text", "surface", "palette heading"),
    ("sidecar-text", "surface", "palette heading, native-sidecar badge"),
    ("ambassador-text", "surface", "palette heading"),
    ("adapter-text", "surface", "palette heading"),
    ("custom-text", "surface", "palette heading"),
    ("header-ink", "header-bg", "header"),
    ("header-link", "header-bg", "header links"),
    ("header-muted", "header-bg", "header notes, Theme label"),
    # runtime.css
    ("on-tone", "ok", "state pill"),
    ("on-tone", "accent", "state pill"),
    ("on-tone", "warning", "state pill"),
    ("on-tone", "danger", "state pill"),
    ("on-tone", "pending", "state pill"),
    ("on-tone", "muted", "state pill"),
    ("init-text", "mix:init:12:surface", "init progress"),
    ("log-ink", "log-bg", "log lines"),
    ("log-faint", "log-bg", "cut lines"),
    ("log-ts", "log-bg", "timestamps"),
    ("log-notice", "log-bg", "log notices"),
    ("log-error", "log-bg", "log errors"),
    ("log-link", "log-bg", "show more"),
    *[("log-bg", f"log-tag-{n}", "container tags") for n in range(8)],
    # pygments.css: the tokens our lexer emits
    *[(f"syn-{token}", "code-bg", "YAML tokens") for token in ("keyword", "string", "number", "comment")],
    # picture.css
    ("pp-ink", "pp-pod", "picture: Pod name"),
    *[("pp-ink", f"pp-{role}-fill", "picture: container names") for role in
      ("app", "init", "sidecar", "ambassador", "adapter", "other")],
    *[("pp-muted", f"pp-{role}-fill", "picture: images") for role in
      ("app", "init", "sidecar", "ambassador", "adapter", "other")],
    *[("pp-on-role", f"pp-{role}", "picture: badges, steps") for role in
      ("app", "init", "sidecar", "ambassador", "adapter", "other")],
    ("pp-muted", "pp-pod", "picture: section labels"),
    ("pp-muted", "pp-surface", "picture: marker note"),
    ("pp-muted", "pp-volume", "picture: volume kinds"),
    ("pp-band-ink", "pp-band", "picture: network band"),
    ("pp-band-ink", "pp-surface", "picture: ports"),
    ("pp-volume-ink", "pp-volume", "picture: volume names"),
    ("pp-volume-ink", "pp-surface", "picture: rw labels"),
    ("pp-read-only", "pp-surface", "picture: ro labels"),
    ("pp-service-ink", "pp-service", "picture: Service name"),
    ("pp-service", "pp-surface", "picture: Service ports"),
    ("pp-warn", "pp-warn-fill", "picture: undeclared volumes, unmatched ports"),
    ("pp-warn", "pp-pod", "picture: shared process namespace"),
    ("pp-marker-ink", "pp-surface", "picture: native sidecar marker"),
]


@cache
def variables() -> dict[str, tuple[str, str]]:
    """Every colour variable of the stylesheets: name -> (light, dark)."""
    found: dict[str, tuple[str, str]] = {}
    for sheet in sorted(CSS.glob("*.css")):
        text = sheet.read_text()
        for name, light, dark in PAIR.findall(text):
            assert name not in found, f"--{name} is defined twice"
            found[name] = (light, dark)
        for name, value in SINGLE.findall(text):
            assert name not in found, f"--{name} is defined twice"
            found[name] = (value, value)
    return found


def rgb(colour: str) -> tuple[float, float, float]:
    digits = colour.lstrip("#")
    if len(digits) in (3, 4):
        digits = "".join(c * 2 for c in digits)
    return tuple(int(digits[i:i + 2], 16) / 255 for i in (0, 2, 4))


def luminance(channels: tuple[float, float, float]) -> float:
    def linear(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(c) for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def colour(name: str, theme: int) -> tuple[float, float, float]:
    """A variable's colour (theme 0 light, 1 dark); ``mix:A:P:B`` is color-mix(in srgb, A P%, B)."""
    if name.startswith("mix:"):
        _, first, percent, second = name.split(":")
        share = int(percent) / 100
        return tuple(share * a + (1 - share) * b
                     for a, b in zip(colour(first, theme), colour(second, theme), strict=True))
    return rgb(variables()[name][theme])


def contrast(text: str, background: str, theme: int) -> float:
    lighter, darker = sorted((luminance(colour(text, theme)), luminance(colour(background, theme))), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def test_every_colour_of_the_stylesheets_is_a_variable():
    """Outside the variables' definitions no rule writes a colour (hex, rgb(), named white/black)."""
    for sheet in sorted(CSS.glob("*.css")):
        for number, line in enumerate(sheet.read_text().splitlines(), start=1):
            code = re.sub(r"/\*.*?\*/", "", line).strip()
            if not code or code.startswith("--") or re.match(r"^(\S+ \{ )?--[\w-]+:", code):
                continue  # a variable's definition (possibly several on one line)
            code = re.sub(r"--[\w-]+:[^;]*;", "", code)  # definitions inside a rule (.role-init { --role: … })
            bad = re.search(rf"{HEX}\b|rgba?\(|(?<![-\w])(white|black)(?![-\w])", code)
            assert bad is None, f"{sheet.name}:{number}: a colour outside the variables: {line.strip()}"


@pytest.mark.parametrize("theme", [0, 1], ids=["light", "dark"])
@pytest.mark.parametrize(("text", "background", "where"), PAIRS, ids=[f"{t}-on-{b}" for t, b, _ in PAIRS])
def test_text_meets_wcag_aa(text, background, where, theme):
    ratio = contrast(text, background, theme)
    assert ratio >= AA, f"{('light', 'dark')[theme]} {where}: --{text} on --{background} is {ratio:.2f}:1, below {AA}:1"


def main() -> None:
    print(f"{'text':<18} {'background':<22} {'light':>6} {'dark':>6}  where")
    for text, background, where in PAIRS:
        light, dark = contrast(text, background, 0), contrast(text, background, 1)
        print(f"{text:<18} {background:<22} {light:6.2f} {dark:6.2f}  {where}")


if __name__ == "__main__":
    main()
