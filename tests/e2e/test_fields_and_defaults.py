"""The composer's fields in headless Chromium, by role and accessible name: a typed param refuses a bad
value, a helper's defaults fit the composition, a rename carries the heading, labels and selector, open
panels stay open across an edit, and typing in one field makes one revision."""

import re

import pytest
from playwright.sync_api import Page, expect

from composer.domain import edits
from composer.domain.model import AppContainer, Composition
from tests.support.browser import open_composer

pytestmark = pytest.mark.django_db(transaction=True)


def app_on_8080() -> Composition:
    return Composition(app=AppContainer(image="registry.example.com/shop:2.1",
                                        ports=[{"name": "http", "containerPort": 8080}]))


def problems_count(page: Page):
    return page.get_by_role("heading", name="Problems", level=2).locator(".count")


def test_json_that_does_not_parse_is_a_field_error_and_nothing_is_saved(page: Page, live_server):
    composition = Composition(app=AppContainer(image="busybox:1.36"))
    edits.add_helper(composition, "config-merger")
    saved = open_composer(page, live_server, composition)
    page.get_by_text("Parameters", exact=True).click()
    config = page.get_by_role("textbox", name="Generated config")
    config.fill('{"logLevel": "info", ')
    config.press("Tab")

    expect(config).to_have_accessible_description(re.compile("not valid JSON"))
    expect(config).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#saved-state")).to_have_text("Not saved: fix the marked field")
    saved.refresh_from_db()
    assert saved.revision == 1

    config.fill('{"logLevel": "info"}')
    config.press("Tab")
    expect(page.locator("#saved-state")).to_have_text("Saved · r2")
    expect(config).not_to_have_attribute("aria-invalid", "true")
    expect(page.get_by_role("region", name="YAML preview")).to_contain_text('config.json: \'{"logLevel": "info"}\'')


def test_a_health_endpoint_beside_an_app_on_8080_gets_a_free_port_and_checks_the_app(page: Page, live_server):
    open_composer(page, live_server, app_on_8080())
    page.get_by_role("button", name="Add to pod: Health endpoint").click()
    expect(page.get_by_role("status")).to_contain_text("Added Health endpoint.")
    expect(problems_count(page)).to_have_text("none")
    expect(page.locator("#saved-state")).to_have_text("Saved · r2")
    # A helper just added shows its Parameters open.
    expect(page.get_by_role("spinbutton", name="Port", exact=True)).to_have_value("8081")
    expect(page.get_by_role("textbox", name="App URL to check")).to_have_value("http://localhost:8080/")

    page.get_by_role("button", name="Add to pod: Health endpoint").click()
    expect(page.get_by_role("status")).to_contain_text("Added Health endpoint.")
    expect(problems_count(page)).to_have_text("none")  # a second one: its own port and port name


def test_a_rename_carries_the_heading_the_labels_and_the_selector(page: Page, live_server):
    open_composer(page, live_server, app_on_8080())
    expect(page.get_by_role("heading", level=1)).to_have_text("Pod my-app")
    page.get_by_text("Pod settings", exact=True).click()
    name = page.get_by_role("textbox", name="Name", exact=True)
    name.fill("shop")
    name.press("Tab")

    expect(page.get_by_role("heading", level=1)).to_have_text("Pod shop")
    expect(page.get_by_role("textbox", name="Labels")).to_have_value("app=shop")
    yaml = page.get_by_role("region", name="YAML preview")
    expect(yaml).to_contain_text("name: shop")
    expect(yaml).not_to_contain_text("app: my-app")


def test_open_panels_stay_open_when_a_helper_is_added_and_moved(page: Page, live_server):
    composition = app_on_8080()
    edits.add_helper(composition, "log-tailer")
    open_composer(page, live_server, composition)
    page.get_by_text("Pod settings", exact=True).click()
    beside = page.get_by_role("list", name="Helpers beside the app")
    tailer = beside.get_by_role("listitem").filter(has_text="Log tailer")
    tailer.get_by_text("Parameters", exact=True).click()
    expect(page.get_by_role("textbox", name="Name", exact=True)).to_be_visible()

    page.get_by_role("button", name="Add to pod: Health endpoint").click()
    expect(page.get_by_role("status")).to_contain_text("Added Health endpoint.")
    tailer.get_by_role("button", name=re.compile("^Move down: ")).click()
    expect(page.locator("#saved-state")).to_have_text("Saved · r3")
    expect(beside.get_by_role("listitem").last).to_contain_text("Log tailer")
    expect(page.get_by_role("textbox", name="Name", exact=True)).to_be_visible()  # Pod settings still open
    expect(tailer.get_by_role("textbox", name="Log file")).to_be_visible()  # and the tailer's Parameters


def test_typing_in_one_field_makes_one_revision(page: Page, live_server):
    saved = open_composer(page, live_server, app_on_8080())
    image = page.get_by_role("textbox", name="Image", exact=True)
    for typed, shown in (("registry.example.com/shop:2", "r2"), ("registry.example.com/shop:2.2", "r3")):
        image.fill(typed)
        image.press("Tab")
        expect(page.locator("#saved-state")).to_have_text(f"Saved · {shown}")
    saved.refresh_from_db()
    assert sorted(saved.revisions.values_list("number", flat=True)) == [1, 3]  # the burst is one revision
    page.get_by_role("link", name="History").click()
    expect(page.get_by_role("table")).to_contain_text("edited the app container")
