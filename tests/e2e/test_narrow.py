"""The composer at 800 px in headless Chromium: one part at a time, each one control away; a searchable,
foldable palette."""

import pytest
from playwright.sync_api import Page, expect

from composer.domain import edits
from composer.domain.model import Composition
from tests.e2e.test_composer import open_composer, yaml_region

pytestmark = pytest.mark.django_db(transaction=True)


def test_at_800_px_the_yaml_is_one_control_away(page: Page, live_server, screenshot):
    page.set_viewport_size({"width": 800, "height": 900})
    composition = Composition()
    edits.add_helper(composition, "log-tailer")
    open_composer(page, live_server, composition)
    views = page.get_by_role("group", name="Show")
    expect(views.get_by_role("button", name="Compose")).to_have_attribute("aria-pressed", "true")
    expect(yaml_region(page)).to_be_hidden()
    screenshot("compose", full_page=False)
    views.get_by_role("button", name="YAML").click()
    expect(yaml_region(page)).to_be_visible()
    expect(page.get_by_role("region", name="Pod", exact=True)).to_be_hidden()
    assert yaml_region(page).bounding_box()["y"] < 900  # on the first screen, not thousands of pixels down
    screenshot("yaml", full_page=False)
    views.get_by_role("button", name="Picture").click()
    expect(page.get_by_role("region", name="Pod picture")).to_be_visible()
    expect(yaml_region(page)).to_be_hidden()
    views.get_by_role("button", name="Problems").click()
    expect(page.locator("#problems-heading")).to_be_visible()
    views.get_by_role("button", name="Compose").click()
    expect(page.get_by_role("region", name="Pod", exact=True)).to_be_visible()


def test_the_palette_filters_and_folds(page: Page, live_server):
    page.set_viewport_size({"width": 800, "height": 900})
    open_composer(page, live_server, Composition())
    palette = page.get_by_role("complementary", name="Patterns")
    palette.get_by_role("searchbox", name="Find a pattern").fill("tls")
    expect(palette.get_by_role("button", name="Add to pod: TLS terminator")).to_be_visible()
    expect(palette.get_by_role("button", name="Add to pod: Log tailer")).to_be_hidden()
    expect(palette.locator("#palette-search-count")).to_have_text("1 pattern")
    fold = palette.get_by_role("button", name="Hide patterns")
    fold.click()
    expect(palette.get_by_role("searchbox", name="Find a pattern")).to_be_hidden()
    expect(palette.get_by_role("button", name="Show patterns")).to_have_attribute("aria-expanded", "false")
