"""A recognised helper's fields set by hand, in headless Chromium: import a log tailer written by hand,
see its fields set by hand on the card, edit one, reset one, reset all, by keyboard where it matters."""

import re

import pytest
from playwright.sync_api import Page, expect

from composer.models import SavedComposition
from tests.support.overrides import TAILER_SET_BY_HAND

pytestmark = pytest.mark.django_db(transaction=True)


def yaml_region(page: Page):
    return page.get_by_role("region", name="YAML preview")


def test_fields_set_by_hand_are_shown_edited_and_reset(page: Page, live_server, screenshot):
    page.goto(f"{live_server.url}/import")
    page.get_by_label("YAML").fill(TAILER_SET_BY_HAND)
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_role("region", name="Pod", exact=True)).to_be_visible()
    card = page.get_by_role("list", name="Helpers beside the app").get_by_role("listitem").filter(
        has_text="Log tailer")
    summary = card.get_by_text("2 fields set by hand", exact=True)
    expect(summary).to_be_visible()

    summary.focus()  # a <summary>: reachable by Tab, opened with Enter
    page.keyboard.press("Enter")
    resources = card.get_by_role("textbox", name="resources set by hand (YAML)")
    expect(resources).to_have_value("limits:\n  cpu: 100m\n  memory: 64Mi")
    expect(card.locator("#ov-pattern-h1-0")).to_have_text("The pattern leaves it out.")
    expect(card.locator("#ov-pattern-h1-1")).to_contain_text("readOnly: true")
    page.keyboard.press("Tab")
    expect(card.get_by_role("button", name="Reset resources to the pattern's")).to_be_focused()
    screenshot("panel-open")

    resources.fill("limits: [")  # not YAML: the error is the field's, and it is marked invalid
    resources.press("Tab")
    expect(resources).to_have_attribute("aria-invalid", "true")
    expect(resources).to_have_accessible_description(re.compile(r"line 2, column 1: did not find expected node"))
    resources.fill("limits:\n  memory: 128Mi")
    resources.press("Tab")
    expect(yaml_region(page)).to_contain_text("memory: 128Mi")
    expect(page.locator("#saved-state")).to_contain_text("r2")
    expect(resources).not_to_have_attribute("aria-invalid", "true")

    expect(yaml_region(page)).not_to_contain_text("readOnly: true")
    card.get_by_role("button", name="Reset volumeMounts to the pattern's").click()
    expect(yaml_region(page)).to_contain_text("readOnly: true")
    expect(card.get_by_text("1 field set by hand", exact=True)).to_be_focused()  # the panel, not <body>
    expect(page.get_by_role("status")).to_contain_text("volumeMounts is the pattern's again.")

    card.get_by_label("Field to set").select_option("imagePullPolicy")
    card.get_by_role("textbox", name="Its value").fill("IfNotPresent")
    card.get_by_role("button", name="Set by hand").click()
    expect(yaml_region(page)).to_contain_text("imagePullPolicy: IfNotPresent")
    expect(card.get_by_role("textbox", name="imagePullPolicy set by hand (YAML)")).to_be_focused()
    expect(card.get_by_text("2 fields set by hand", exact=True)).to_be_visible()

    card.get_by_role("button", name="Reset all").click()
    expect(yaml_region(page)).not_to_contain_text("128Mi")
    expect(yaml_region(page)).not_to_contain_text("imagePullPolicy")
    expect(card.get_by_text("Set fields by hand", exact=True)).to_be_focused()
    helper = SavedComposition.objects.get().data["helpers"][0]
    assert helper["pattern"] == "log-tailer" and helper["overrides"] == {}
    assert helper["params"]["image"] == "busybox:1.37"
