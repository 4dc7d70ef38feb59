"""Server-side YAML highlighting with Pygments (CSS classes; the stylesheet is static/css/pygments.css).

Pygments' own YamlLexer handles all of YAML and costs ~2 ms per 100 lines, which made
highlighting the largest part of every preview. The manifests we show are always our
own `dump_documents` output (block style, one key or item per line, literal block
scalars), so a line-based lexer for that subset gives the same colours at a fraction
of the cost, and still goes through Pygments' formatter, which escapes every token.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache

from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexer import Lexer
from pygments.token import Comment, Keyword, Literal, Name, Number, Punctuation, String, Whitespace, _TokenType

LINE = re.compile(r"^(?P<indent> *)(?P<dashes>(?:- )*)(?P<rest>.*)$")
KEY = re.compile(r"""^(?P<key>'[^']*'|"[^"]*"|[^\s'"#][^:]*?)(?P<colon>:)(?P<space> +|$)(?P<value>.*)$""")
BLOCK_INDICATOR = re.compile(r"^[|>][-+]?\d*$")
NUMBER = re.compile(r"^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?$")
CONSTANTS = {"true", "false", "null", "~", "True", "False", "Null", "NULL", "TRUE", "FALSE"}


class ManifestYamlLexer(Lexer):
    """Lexes block-style YAML as dump_documents writes it, one line at a time."""

    name = "Manifest YAML"
    aliases = ["manifest-yaml"]

    def get_tokens_unprocessed(self, text: str) -> Iterator[tuple[int, _TokenType, str]]:
        position = 0
        block_indent: int | None = None  # inside a literal block scalar: its parent's indentation
        for line in text.splitlines(keepends=True):
            body = line.rstrip("\n")
            indent = len(body) - len(body.lstrip(" "))
            if block_indent is not None and (not body.strip() or indent > block_indent):
                yield position, String, line
            else:
                block_indent = None
                tokens, opens_block = self._line(body)
                offset = position
                for token, value in tokens:
                    yield offset, token, value
                    offset += len(value)
                if line.endswith("\n"):
                    yield offset, Whitespace, "\n"
                if opens_block:
                    block_indent = indent + len(LINE.match(body).group("dashes"))
            position += len(line)

    def _line(self, body: str) -> tuple[list[tuple[_TokenType, str]], bool]:
        if body == "---":
            return [(Punctuation, body)], False
        if body.lstrip().startswith("#"):
            return [(Comment, body)], False
        match = LINE.match(body)
        tokens: list[tuple[_TokenType, str]] = []
        if match["indent"]:
            tokens.append((Whitespace, match["indent"]))
        for _ in range(len(match["dashes"]) // 2):
            tokens += [(Punctuation, "-"), (Whitespace, " ")]
        rest = match["rest"]
        pair = KEY.match(rest)
        if pair is None:
            return tokens + self._scalar(rest), False
        tokens += [(Name.Tag, pair["key"]), (Punctuation, ":")]
        if pair["space"]:
            tokens.append((Whitespace, pair["space"]))
        value = pair["value"]
        if BLOCK_INDICATOR.match(value):
            return tokens + [(Punctuation, value)], True
        return tokens + self._scalar(value), False

    @staticmethod
    def _scalar(value: str) -> list[tuple[_TokenType, str]]:
        if not value:
            return []
        if value[0] in "'\"":
            return [(String, value)]
        if value in CONSTANTS:
            return [(Keyword.Constant, value)]
        if NUMBER.match(value):
            return [(Number, value)]
        if value in ("{}", "[]"):
            return [(Punctuation, value)]
        return [(Literal.Scalar.Plain, value)]


@cache
def _tools() -> tuple[ManifestYamlLexer, HtmlFormatter]:
    return ManifestYamlLexer(stripnl=False, ensurenl=False), HtmlFormatter(nowrap=True, classprefix="hl-")


def highlight_yaml(text: str) -> str:
    lexer, formatter = _tools()
    # Pygments escapes every token it emits, so its output is safe HTML (the web layer marks it so).
    return highlight(text, lexer, formatter)


def stylesheet() -> str:
    return _tools()[1].get_style_defs(".yaml")
