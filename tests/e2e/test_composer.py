"""The composer in headless Chromium: drag, reorder, toggle, edit, reload, import, gallery."""

import re

import pytest
from playwright.sync_api import Page, expect

from composer.domain import edits
from composer.domain.examples import EXAMPLES
from composer.domain.model import AppContainer, Composition
from composer.models import SavedComposition
from tests.support.browser import open_composer

pytestmark = pytest.mark.django_db(transaction=True)


def yaml_region(page: Page):
    return page.get_by_role("region", name="YAML preview")


def picture(page: Page):
    return page.locator("svg.pod-picture")


def test_drag_a_log_tailer_onto_the_pod(page: Page, live_server, screenshot):
    open_composer(page, live_server, Composition(app=AppContainer(image="busybox:1.36")))
    palette = page.get_by_role("complementary", name="Patterns")
    card = palette.locator("[data-pattern='log-tailer']")
    # The drop zone in sight first, as whoever drags has it: below the app card's fields (Playwright's drag
    # scrolls the page in the middle of it otherwise, and the drop misses).
    page.locator("#beside-app").scroll_into_view_if_needed()
    card.get_by_text("Streams a log file").drag_to(page.locator("#beside-app"), steps=5)

    expect(yaml_region(page)).to_contain_text("name: log-tailer")
    expect(yaml_region(page)).to_contain_text("- -F")
    expect(yaml_region(page)).to_contain_text("emptyDir: {}")
    expect(page.get_by_role("list", name="Helpers beside the app")).to_contain_text("Log tailer")
    expect(picture(page)).to_contain_text("log-tailer")
    expect(picture(page).locator("desc")).to_contain_text("logs")
    saved = SavedComposition.objects.get()
    assert [h["pattern"] for h in saved.data["helpers"]] == ["log-tailer"]
    screenshot("after-drop")


def test_add_to_pod_button_is_the_keyboard_alternative(page: Page, live_server):
    open_composer(page, live_server, Composition())
    button = page.get_by_role("button", name="Add to pod: Prometheus exporter")
    button.focus()
    page.keyboard.press("Enter")
    expect(yaml_region(page)).to_contain_text("justwatch/elasticsearch_exporter:1.1.0")
    expect(page.get_by_role("status")).to_contain_text("Added Prometheus exporter.")


def sequence_names(page: Page) -> list[str]:
    return page.locator("#init-sequence [data-helper-id] h3 .mono").all_inner_texts()


def yaml_init_order(page: Page) -> list[str]:
    text = yaml_region(page).inner_text()
    init_block = text.split("initContainers:")[1].split("  containers:")[0]
    return re.findall(r"- name: (\S+)", init_block)


def test_reorder_two_init_containers_by_drag(page: Page, live_server, screenshot):
    composition = Composition()
    edits.add_helper(composition, "sysctl")
    edits.add_helper(composition, "wait-for")
    open_composer(page, live_server, composition)
    assert yaml_init_order(page) == ["sysctl", "wait-for-db"]

    cards = page.locator("#init-sequence > [data-helper-id]")
    cards.nth(1).locator(".card-head h3").drag_to(cards.nth(0).locator(".card-head h3"), steps=5)

    expect(page.locator("#saved-state")).to_contain_text("r2")
    expect(page.locator("#init-sequence > [data-helper-id]").first).to_contain_text("wait-for-db")
    assert yaml_init_order(page) == ["wait-for-db", "sysctl"]
    assert [h["pattern"] for h in SavedComposition.objects.get().data["helpers"]] == ["wait-for", "sysctl"]
    screenshot("reordered")


def test_move_buttons_reorder_without_a_mouse(page: Page, live_server):
    composition = Composition()
    edits.add_helper(composition, "sysctl")
    edits.add_helper(composition, "wait-for")
    open_composer(page, live_server, composition)
    page.get_by_role("button", name="Move up: wait-for-db").click()
    expect(page.locator("#saved-state")).to_contain_text("r2")
    expect(page.locator("#init-sequence > [data-helper-id]").first).to_contain_text("wait-for-db")
    assert yaml_init_order(page) == ["wait-for-db", "sysctl"]
    expect(page.get_by_role("button", name="Move up: wait-for-db")).to_be_disabled()


def test_toggle_share_process_namespace(page: Page, live_server, screenshot):
    open_composer(page, live_server, Composition())
    page.get_by_text("Pod settings").click()
    toggle = page.get_by_label("Share process namespace")
    toggle.check()
    expect(yaml_region(page)).to_contain_text("shareProcessNamespace: true")
    expect(page.locator("#spn-warning")).to_be_visible()
    expect(page.get_by_role("region", name="Preview", exact=True)).to_contain_text("can see and signal")
    assert SavedComposition.objects.get().data["options"]["share_process_namespace"] is True
    screenshot("shared")
    toggle.uncheck()
    expect(yaml_region(page)).not_to_contain_text("shareProcessNamespace")


def test_edit_a_parameter_and_the_preview_follows_then_reload_keeps_it(page: Page, live_server):
    composition = Composition()
    edits.add_helper(composition, "log-tailer")
    open_composer(page, live_server, composition)
    page.get_by_text("Parameters", exact=True).click()
    field = page.get_by_label("Log directory", exact=True)
    field.fill("/srv/logs")
    field.press("Tab")
    expect(yaml_region(page)).to_contain_text("/srv/logs/app.log")

    page.get_by_label("Image", exact=True).first.fill("nginx:1.27")
    page.get_by_label("Image", exact=True).first.press("Tab")
    expect(yaml_region(page)).to_contain_text("image: nginx:1.27")

    page.reload()
    expect(yaml_region(page)).to_contain_text("/srv/logs/app.log")
    expect(yaml_region(page)).to_contain_text("image: nginx:1.27")


def test_invalid_parameter_is_explained_beside_the_field_and_not_saved(page: Page, live_server):
    composition = Composition()
    edits.add_helper(composition, "wait-for")
    saved = open_composer(page, live_server, composition)
    page.get_by_text("Parameters", exact=True).click()
    page.get_by_role("textbox", name="Host", exact=True).fill("")
    page.get_by_role("textbox", name="Host", exact=True).press("Tab")
    expect(page.locator("#err-helper-h1-host")).to_have_text("required")
    expect(page.locator("#saved-state")).to_contain_text("Not saved")
    saved.refresh_from_db()
    assert saved.revision == 1


def test_remove_and_undo(page: Page, live_server):
    composition = Composition()
    edits.add_helper(composition, "debug-shell")
    open_composer(page, live_server, composition)
    page.get_by_role("button", name="Remove debug").click()
    expect(yaml_region(page)).not_to_contain_text("name: debug")
    page.get_by_role("button", name="Undo").click()
    expect(yaml_region(page)).to_contain_text("name: debug")


def test_import_bad_yaml_shows_the_error_and_saves_nothing(page: Page, live_server, screenshot):
    page.goto(f"{live_server.url}/import")
    page.get_by_label("YAML").fill("kind: Pod\nmetadata:\n  name: [broken\n")
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_role("alert")).to_contain_text("line 4")
    expect(page.get_by_label("YAML")).to_have_value("kind: Pod\nmetadata:\n  name: [broken\n")
    assert SavedComposition.objects.count() == 0
    screenshot("bad-yaml")


def test_every_gallery_example_opens_without_errors(page: Page, live_server, screenshot):
    for number, example in enumerate(EXAMPLES, start=1):
        page.goto(f"{live_server.url}/")
        page.get_by_role("button", name=f"Open example {example.title}").click()
        expect(page.get_by_role("region", name="Pod", exact=True)).to_be_visible()
        problems = page.locator("#problems-heading .count")
        expect(problems).to_have_text(re.compile(r"^\s*(none|0 errors, \d+ in all)\s*$"))
        if number in (6, 10, 16):
            screenshot(example.id)
    assert SavedComposition.objects.count() == len(EXAMPLES)
