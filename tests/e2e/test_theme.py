"""Dark mode in headless Chromium: the browser's preference, the header's Theme choice, keyboard use.

The colours are CSS (light-dark() variables, static/css/*.css); static/js/theme.js puts the stored
choice on <html data-theme> before the first paint. Screenshots of the main pages in both themes at
1280 and 800 px go to test-artifacts/.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from composer.domain.model import AppContainer, Composition
from composer.models import SavedComposition
from tests.support.runtime import record_for

pytestmark = pytest.mark.django_db(transaction=True)

RGB = re.compile(r"rgba?\(([\d.]+),\s*([\d.]+),\s*([\d.]+)(?:,\s*([\d.]+))?\)")
# The background the page shows: the body's own if it has one, else the root's (the canvas).
PAGE_BACKGROUND = """() => {
  const body = getComputedStyle(document.body).backgroundColor;
  return /^rgba\\(.*,\\s*0\\)$/.test(body) ? getComputedStyle(document.documentElement).backgroundColor : body;
}"""
# Every element whose own background is nearly white: in the dark theme there must be none.
WHITE_BOXES = """() => Array.from(document.querySelectorAll('body *')).filter((el) => {
  const box = el.getBoundingClientRect();
  if (!box.width || !box.height) return false;
  const m = getComputedStyle(el).backgroundColor.match(/[\\d.]+/g).map(Number);
  return (m.length < 4 || m[3] > 0.5) && m[0] > 200 && m[1] > 200 && m[2] > 200;
}).map((el) => `${el.tagName.toLowerCase()}.${el.className}`)"""


def luminance(css_colour: str) -> float:
    """WCAG relative luminance of a computed ``rgb(…)`` colour."""
    match = RGB.fullmatch(css_colour.strip())
    assert match, css_colour

    def linear(c: float) -> float:
        c /= 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(float(v)) for v in match.groups()[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def background(page: Page) -> float:
    return luminance(page.evaluate(PAGE_BACKGROUND))


def is_dark(page: Page) -> bool:
    return background(page) < 0.05


def is_light(page: Page) -> bool:
    return background(page) > 0.8


def open_example(page: Page, live_server, title: str) -> None:
    page.goto(f"{live_server.url}/")
    page.get_by_role("button", name=f"Open example {title}").click()
    expect(page.get_by_role("region", name="Pod", exact=True)).to_be_visible()


def theme_select(page: Page):
    return page.get_by_role("combobox", name="Theme")


def yaml_key_colour(page: Page) -> str:
    return page.locator("#yaml-source .hl-nt").first.evaluate("(el) => getComputedStyle(el).color")


def test_a_dark_preference_gives_the_dark_theme_and_its_own_syntax_colours(page: Page, live_server):
    page.emulate_media(color_scheme="light")
    open_example(page, live_server, "TLS ambassador")
    assert is_light(page)
    light_key = yaml_key_colour(page)

    page.emulate_media(color_scheme="dark")
    assert is_dark(page)
    assert yaml_key_colour(page) != light_key
    text = page.evaluate("() => getComputedStyle(document.body).color")
    assert luminance(text) > 0.7  # light text on the dark page
    expect(theme_select(page)).to_have_value("auto")
    assert page.evaluate("() => document.documentElement.dataset.theme") is None
    assert page.evaluate(WHITE_BOXES) == []


def test_light_chosen_on_a_dark_preferring_browser_holds_on_reload_and_on_other_pages(
    page: Page, live_server, monkeypatch, tmp_path
):
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "no-kubeconfig"))  # the runtime page without a cluster
    record = record_for({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web"},
                         "spec": {"containers": [{"name": "app", "image": "nginx:1.27"}]}})
    # The background of the first frame the browser renders: no flash of the other theme.
    page.add_init_script(
        "requestAnimationFrame(() => { window.firstFrameBackground ="
        " getComputedStyle(document.documentElement).backgroundColor; });"
    )
    page.emulate_media(color_scheme="dark")
    page.goto(f"{live_server.url}/")
    assert is_dark(page)

    theme_select(page).select_option("Light")
    assert is_light(page)  # at once, without a reload
    assert page.evaluate("() => document.documentElement.dataset.theme") == "light"

    page.reload()
    assert is_light(page)
    assert luminance(page.evaluate("() => window.firstFrameBackground")) > 0.8
    expect(theme_select(page)).to_have_value("light")

    for path in ("/deployments/", f"/deployments/{record.pk}/", f"/deployments/{record.pk}/runtime", "/import"):
        page.goto(f"{live_server.url}{path}")
        assert is_light(page), path
        assert luminance(page.evaluate("() => window.firstFrameBackground")) > 0.8, path
        expect(theme_select(page)).to_have_value("light")
    page.goto(f"{live_server.url}/no-such-page")  # the standalone 404 page follows too
    assert is_light(page)

    page.goto(f"{live_server.url}/import")
    theme_select(page).select_option("Auto")  # back to the browser's preference
    assert is_dark(page)
    page.reload()
    assert is_dark(page)


def test_dark_chosen_on_a_light_preferring_browser_reaches_an_open_tab(page: Page, live_server):
    page.emulate_media(color_scheme="light")
    page.goto(f"{live_server.url}/")
    other = page.context.new_page()
    other.emulate_media(color_scheme="light")
    other.goto(f"{live_server.url}/deployments/")
    assert is_light(other)

    theme_select(page).select_option("Dark")
    assert is_dark(page)
    expect(other.locator("html")).to_have_attribute("data-theme", "dark")  # the storage event
    assert is_dark(other)
    expect(theme_select(other)).to_have_value("dark")
    other.close()


def test_the_choice_survives_htmx_history_navigation(page: Page, live_server):
    """htmx restores a pushed page from its history cache by replacing the body, the select included."""
    SavedComposition.create(Composition(app=AppContainer(image="nginx:1.27")))
    page.emulate_media(color_scheme="light")
    page.goto(f"{live_server.url}/")
    theme_select(page).select_option("Dark")
    page.get_by_role("searchbox", name="Find a composition").fill("my")
    expect(page).to_have_url(re.compile(r"\?q=my$"))
    page.go_back()
    expect(page).to_have_url(f"{live_server.url}/")
    expect(theme_select(page)).to_have_value("dark")
    assert is_dark(page)
    theme_select(page).select_option("Light")  # the restored select still works
    assert is_light(page)


def test_the_theme_choice_is_reachable_and_operable_by_keyboard(page: Page, live_server):
    page.emulate_media(color_scheme="light")
    page.goto(f"{live_server.url}/")
    select = theme_select(page)
    expect(select).to_be_visible()
    expect(select).to_have_accessible_name("Theme")
    for _ in range(10):  # brand, three nav links, then the select
        page.keyboard.press("Tab")
        if select.evaluate("(el) => el === document.activeElement"):
            break
    expect(select).to_be_focused()
    assert page.evaluate("() => document.querySelector(':focus-visible')?.id") == "theme-choice"

    page.keyboard.press("ArrowDown")  # Auto -> Light
    expect(select).to_have_value("light")
    page.keyboard.press("ArrowDown")  # Light -> Dark
    expect(select).to_have_value("dark")
    assert is_dark(page)
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    page.reload()
    assert is_dark(page)


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_screenshots_of_the_main_pages(page: Page, live_server, screenshot, theme):
    """Home, a composer with helpers of three roles, the import page: 1280 and 800 px wide."""
    SavedComposition.create(Composition(app=AppContainer(image="nginx:1.27")))
    page.emulate_media(color_scheme=theme)
    open_example(page, live_server, "TLS ambassador")
    for pattern in ("Wait for dependency", "Prometheus exporter"):
        page.get_by_role("button", name=f"Add to pod: {pattern}").click()
        expect(page.get_by_role("status")).to_contain_text(f"Added {pattern}.")
    composer_url = page.url
    pages = {"home": f"{live_server.url}/", "composer": composer_url, "import": f"{live_server.url}/import"}
    for width in (1280, 800):
        page.set_viewport_size({"width": width, "height": 800})
        for name, url in pages.items():
            page.goto(url)
            assert is_dark(page) if theme == "dark" else is_light(page)
            if theme == "dark":
                assert page.evaluate(WHITE_BOXES) == [], name
            screenshot(f"{name}-{width}")  # the test id says the theme
