import html
import re

import pytest

from composer.domain.examples import EXAMPLES
from composer.domain.render import render
from composer.domain.yamlio import dump_documents
from composer.presentation.highlight import highlight_yaml


def plain(highlighted: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", highlighted))


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: e.id)
def test_highlighting_keeps_the_text_exactly(example):
    text = dump_documents(render(example.build()))
    assert plain(highlight_yaml(text)) == text


def test_markup_in_values_is_escaped():
    out = highlight_yaml("name: <script>alert(1)</script>\n")
    assert "<script>" not in out and "&lt;script&gt;" in out


def test_keys_values_and_block_scalars_get_their_classes():
    out = highlight_yaml("a:\n  b: |\n    x: 1\n  c: 'q'\n  d: 3\n- e: true\n")
    assert '<span class="hl-nt">a</span>' in out
    assert '<span class="hl-s">    x: 1' in out  # inside the block scalar: text, not a key
    assert '<span class="hl-s">\'q\'</span>' in out
    assert '<span class="hl-m">3</span>' in out and '<span class="hl-kc">true</span>' in out
