"""Keyboard paths in headless Chromium: skip links, Problems that lead to the field at fault, focus that
stays on a moved helper."""

import pytest
from playwright.sync_api import Page, expect

from composer.domain import edits
from composer.domain.model import AppContainer, Composition
from tests.e2e.test_composer import open_composer

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_first_tab_offers_skip_links_to_the_yaml_and_the_problems(page: Page, live_server):
    open_composer(page, live_server, Composition())
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to main content")).to_be_focused()
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to the YAML")
    expect(skip).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#yaml-source")).to_be_focused()
    page.keyboard.press("Shift+Tab")
    expect(page.get_by_role("link", name="Download")).to_be_focused()  # the YAML panel's own controls


def test_a_problem_leads_to_the_field_at_fault(page: Page, live_server):
    composition = Composition(app=AppContainer(image="nginx", ports=[{"name": "http", "containerPort": 8080}]))
    edits.add_helper(composition, "health-endpoint", {"port": 8080})
    open_composer(page, live_server, composition)
    problems = page.get_by_role("list", name="Problems")
    problems.get_by_role("link", name="without a pinned tag").first.click()
    expect(page.locator("#app-image")).to_be_focused()
    problems.get_by_role("link", name="Port 8080/TCP is declared by both").click()
    expect(page.locator("#h1-port")).to_be_focused()  # the health endpoint's port, inside its opened Parameters


def test_focus_stays_on_the_moved_helper(page: Page, live_server):
    composition = Composition()
    edits.add_helper(composition, "sysctl")
    edits.add_helper(composition, "wait-for")
    open_composer(page, live_server, composition)
    page.get_by_role("button", name="Move up: wait-for").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#init-sequence > [data-helper-id]").first).to_contain_text("wait-for")
    # Its "Move up" is disabled now that it runs first: the focus goes to its "Move down", not to <body>.
    expect(page.get_by_role("button", name="Move down: wait-for")).to_be_focused()
