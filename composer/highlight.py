"""Server-side YAML highlighting with Pygments (CSS classes; the stylesheet is static/css/pygments.css)."""

from functools import cache

from django.utils.safestring import SafeString, mark_safe
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import YamlLexer


@cache
def _tools() -> tuple[YamlLexer, HtmlFormatter]:
    return YamlLexer(), HtmlFormatter(nowrap=True, classprefix="hl-")


def highlight_yaml(text: str) -> SafeString:
    lexer, formatter = _tools()
    # Pygments escapes every token it emits, so its output is safe HTML.
    return mark_safe(highlight(text, lexer, formatter))  # noqa: S308


def stylesheet() -> str:
    return _tools()[1].get_style_defs(".yaml")
