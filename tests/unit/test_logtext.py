"""Log text as safe HTML: escaping, ANSI colours, control characters, long lines."""

import re
from html.parser import HTMLParser

from hypothesis import given
from hypothesis import strategies as st

from composer.presentation.logtext import block_html, line_html, lines_html, plain_text, text_html

ALLOWED_TAGS = {"div", "span", "button"}
ALLOWED_ATTRIBUTES = {"class", "hidden", "type", "aria-expanded"}  # no style: the CSP forbids inline styles


class _Collector(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags, self.attributes, self.text = [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attributes.extend(attrs)

    def handle_data(self, data):
        self.text.append(data)


def parse(html):
    collector = _Collector()
    collector.feed(html)
    collector.close()
    return collector


def test_html_in_a_log_line_is_escaped():
    html = text_html('<script>alert("x")</script> & <img src=x onerror=alert(1)>')
    assert html == '&lt;script&gt;alert("x")&lt;/script&gt; &amp; &lt;img src=x onerror=alert(1)&gt;'


def test_sgr_colours_become_classed_spans():
    html = text_html("\x1b[1;31mERROR\x1b[0m plain \x1b[32mok\x1b[39m done")
    assert html == '<span class="ansi-bold ansi-fg-red">ERROR</span> plain <span class="ansi-fg-green">ok</span> done'


def test_bright_256_and_true_colours_map_to_the_16_classes():
    assert text_html("\x1b[91mx") == '<span class="ansi-fg-bright-red">x</span>'
    assert text_html("\x1b[38;5;9mx") == '<span class="ansi-fg-bright-red">x</span>'
    assert text_html("\x1b[38;5;196mx") == '<span class="ansi-fg-bright-red">x</span>'
    assert text_html("\x1b[38;5;250mx") == '<span class="ansi-fg-white">x</span>'
    assert text_html("\x1b[48;2;1;2;3mx") == '<span class="ansi-bg-black">x</span>'
    assert text_html("\x1b[38;2;999;0;3mx") == '<span class="ansi-fg-bright-red">x</span>'  # clamped


def test_other_escape_sequences_and_controls_are_dropped():
    assert text_html("\x1b]0;title\x07\x1b[2K\x1b[1Ghello\rworld\x00\x1b") == "helloworld"
    assert text_html("tab\tstays") == "tab\tstays"
    assert plain_text("\x1b[31mred\x1b[0m\x07") == "red"


def test_a_long_line_shows_its_start_and_can_be_expanded():
    html = text_html("a" * 30 + "<b>" + "z" * 20, limit=25, hard_limit=1000)
    assert html.startswith("a" * 25 + '<span class="rest" hidden>' + "a" * 5 + "&lt;b&gt;" + "z" * 20 + "</span>")
    assert html.endswith('<button type="button" class="more" aria-expanded="false">show 28 more characters</button>')


def test_a_runaway_line_is_cut_at_the_hard_limit():
    html = text_html("x" * 5000, limit=100, hard_limit=1000)
    assert "".join(parse(html).text).count("x") == 1000
    assert "show 900 more characters" in html
    assert "4,000 more characters not shown" in html


def test_truncation_keeps_colours_across_the_cut():
    html = text_html("\x1b[31m" + "r" * 10 + "\x1b[0m", limit=4)
    assert html.startswith('<span class="ansi-fg-red">rrrr</span><span class="rest" hidden>'
                           '<span class="ansi-fg-red">rrrrrr</span></span>')


def test_line_wrapper_with_timestamp_and_container_tag():
    html = line_html("<hi>", timestamp="2026-01-01T10:00:00.000000001Z", container="app", tag_index=9)
    assert html == ('<div class="l"><span class="ts">2026-01-01T10:00:00.000000001Z </span>'
                    '<span class="tag tag-1">app</span>&lt;hi&gt;</div>')
    assert "\n" not in line_html("a\nb")  # a line never breaks an SSE data field


@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=300), st.integers(min_value=1, max_value=200))
def test_any_text_gives_only_our_markup(text, limit):
    html = line_html(text, timestamp="t", container="c", limit=limit, hard_limit=limit * 3)
    parsed = parse(html)
    assert set(parsed.tags) <= ALLOWED_TAGS
    for name, value in parsed.attributes:
        assert name in ALLOWED_ATTRIBUTES
        if name == "class":
            assert re.fullmatch(r"[a-z0-9 -]+", value)
    assert "\n" not in html and "\r" not in html
    visible = plain_text(text)
    shown = "".join(parsed.text)
    if len(visible) <= limit * 3:
        assert visible in shown  # nothing a reader should see is lost (below the hard limit)


@given(st.lists(st.integers(min_value=0, max_value=300), max_size=8))
def test_any_sgr_parameters_are_safe(params):
    html = text_html("\x1b[" + ";".join(map(str, params)) + "mx")
    parsed = parse(html)
    assert set(parsed.tags) <= {"span"} and "".join(parsed.text) == "x"


@given(
    st.lists(st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\n"), max_size=60), min_size=1,
             max_size=12),
    st.booleans(),
    st.sampled_from(["", "app"]),
)
def test_a_block_renders_exactly_like_its_lines_one_by_one(texts, stamped, container):
    stamps = [f"2026-01-01T10:00:{n:02d}.000000000Z" if stamped else "" for n in range(len(texts))]
    expected = "\n".join(line_html(text, timestamp=stamp, container=container, tag_index=3, limit=40)
                         for stamp, text in zip(stamps, texts, strict=True))
    block = "\n".join(f"{stamp} {text}" if stamped else text for stamp, text in zip(stamps, texts, strict=True))
    assert block_html(block, stamped=stamped, container=container, tag_index=3, limit=40) == expected
    assert lines_html(stamps, texts, container=container, tag_index=3, limit=40) == expected


def test_a_plain_block_takes_the_fast_way():
    html = block_html("2026-01-01T10:00:00.000000000Z <a>\n2026-01-01T10:00:01.000000000Z b", stamped=True)
    assert html == ('<div class="l"><span class="ts">2026-01-01T10:00:00.000000000Z </span>&lt;a&gt;</div>\n'
                    '<div class="l"><span class="ts">2026-01-01T10:00:01.000000000Z </span>b</div>')


def test_a_stamped_line_without_text_or_space_is_still_exact():
    block = "2026-01-01T10:00:00Z \n2026-01-01T10:00:01Z"
    assert block_html(block, stamped=True) == "\n".join(
        [line_html("", timestamp="2026-01-01T10:00:00Z"), line_html("", timestamp="2026-01-01T10:00:01Z")])
