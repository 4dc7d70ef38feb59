"""The YAML panel's editor (CodeMirror 6) in headless Chromium: edit, save through the importer, errors at
their line and column, cancel; by role and accessible name, as a person would."""

import pytest
from playwright.sync_api import Page, expect

from composer.domain import edits
from composer.domain.model import AppContainer, Composition
from composer.models import SavedComposition

pytestmark = pytest.mark.django_db(transaction=True)


def open_composer(page: Page, live_server, problems: list[str]) -> SavedComposition:
    """The composer of a Pod with a log tailer; `problems` collects the page's errors (a CSP violation is one)
    but the refusals the tests provoke (Chromium logs a 400 or 409 as a resource that failed to load)."""
    composition = Composition(app=AppContainer(image="busybox:1.36"))
    edits.add_helper(composition, "log-tailer")
    saved = SavedComposition.create(composition)

    def on_console(message) -> None:
        refused = message.text.startswith("Failed to load resource: the server responded with a status of 4")
        if message.type == "error" and not refused:
            problems.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.goto(f"{live_server.url}{saved.get_absolute_url()}")
    expect(page.get_by_role("region", name="Pod", exact=True)).to_be_visible()
    return saved


def yaml_region(page: Page):
    return page.get_by_role("region", name="YAML preview")


def shoot(screenshot, page: Page, label: str) -> None:
    """A full-page screenshot, then the empty style attributes Playwright leaves on form fields taken off: htmx
    would copy them onto the swapped-in fields (attributesToSettle), which the CSP (no inline style) refuses."""
    screenshot(label)
    page.evaluate("() => document.querySelectorAll('[style=\"\"]').forEach((e) => e.removeAttribute('style'))")


def editor(page: Page):
    return page.get_by_role("textbox", name="YAML of the composition")


def edit_line_end(page: Page, line_text: str, remove: int, insert: str) -> None:
    """Clicks the editor's line holding `line_text`, goes to its end, deletes `remove` characters, types `insert`."""
    # At the line's start, which is in sight: its middle may be scrolled off to the right (a long line elsewhere).
    page.locator(".cm-line", has_text=line_text).click(position={"x": 4, "y": 4})
    page.keyboard.press("End")
    for _ in range(remove):
        page.keyboard.press("Backspace")
    page.keyboard.type(insert)


def test_edit_the_yaml_save_it_then_an_error_is_marked_and_cancel_restores_the_view(page: Page, live_server,
                                                                                      screenshot):
    problems: list[str] = []
    saved = open_composer(page, live_server, problems)
    read_only = page.locator("pre#yaml-source")
    editor_look = page.locator('link[rel="stylesheet"][href$="/css/yaml-editor.css"]')
    expect(editor_look).to_have_count(0)  # loaded with the bundle, not with the page
    page.get_by_role("button", name="Edit YAML").click()

    expect(editor(page)).to_be_focused()
    expect(editor(page)).to_contain_text("- /var/log/app/app.log")
    expect(editor_look).to_have_count(1)
    expect(page.locator(".yaml-editor .cm-editor")).to_have_css("border-radius", "6px")  # its rules apply
    expect(page.locator(".yaml-editor .tok-propertyName").first).to_have_css("font-weight", "700")
    expect(read_only).to_be_hidden()
    expect(page.get_by_role("button", name="Edit YAML")).to_be_hidden()
    edit_line_end(page, "/var/log/app/app.log", len("app.log"), "access.log")
    expect(editor(page)).to_contain_text("- /var/log/app/access.log")
    shoot(screenshot, page, "editor-open")
    page.get_by_role("button", name="Save YAML").click()

    expect(page.get_by_role("status").filter(has_text="Saved the YAML.")).to_be_visible()
    expect(page.locator("#saved-state")).to_have_text("Saved · r2")
    expect(editor(page)).to_have_count(0)
    expect(read_only).to_contain_text("- /var/log/app/access.log")
    expect(page.get_by_role("list", name="Helpers beside the app")).to_contain_text("Log tailer")
    page.get_by_text("Parameters", exact=True).click()
    expect(page.get_by_label("Log file", exact=True)).to_have_value("access.log")
    saved.refresh_from_db()
    assert saved.revision == 2 and saved.revisions.first().message == "edited the YAML"
    assert saved.data["helpers"][0]["params"] == {"log_file": "access.log"}

    page.get_by_role("button", name="Edit YAML").click()
    expect(editor(page)).to_be_focused()
    edit_line_end(page, "kind: Pod", 0, ": x")  # "kind: Pod: x": a mapping value where none may be
    page.keyboard.press("Control+Enter")
    alert = page.get_by_role("alert").filter(has_text="Not saved")
    expect(alert).to_contain_text("line 2, column 10: mapping values are not allowed")
    expect(page.locator(".cm-lintRange-error")).to_have_count(1)
    expect(page.locator(".cm-gutter-lint .cm-lint-marker-error")).to_have_count(1)
    expect(editor(page)).to_contain_text("kind: Pod: x")  # the text is kept
    shoot(screenshot, page, "editor-error")
    saved.refresh_from_db()
    assert saved.revision == 2
    expect(page.locator("#saved-state")).to_have_text("Saved · r2")

    page.once("dialog", lambda dialog: dialog.accept())  # "Discard your changes to the YAML?"
    page.get_by_role("button", name="Cancel").click()
    expect(editor(page)).to_have_count(0)
    expect(read_only).to_be_visible()
    expect(read_only).not_to_contain_text("Pod: x")
    expect(page.get_by_role("button", name="Edit YAML")).to_be_focused()
    assert problems == []


def test_escape_cancels_and_asks_first_when_the_text_was_changed(page: Page, live_server):
    problems: list[str] = []
    open_composer(page, live_server, problems)
    page.get_by_role("button", name="Edit YAML").click()
    expect(editor(page)).to_be_focused()
    page.keyboard.press("Escape")  # nothing changed: closes at once
    expect(editor(page)).to_have_count(0)
    expect(page.get_by_role("button", name="Edit YAML")).to_be_focused()

    page.keyboard.press("Enter")  # Edit YAML again, from the keyboard
    expect(editor(page)).to_be_focused()
    page.keyboard.type("# a note\n")
    questions = []
    page.once("dialog", lambda dialog: (questions.append(dialog.message), dialog.dismiss()))
    page.keyboard.press("Escape")
    expect(editor(page)).to_contain_text("# a note")  # kept: the question was answered "no"
    assert questions == ["Discard your changes to the YAML?"]
    page.keyboard.press("Tab")  # Tab is not the editor's: it leaves for the next control
    expect(page.get_by_role("button", name="Save YAML")).to_be_focused()
    page.once("dialog", lambda dialog: dialog.accept())
    page.keyboard.press("Escape")  # on the editor's buttons too
    expect(editor(page)).to_have_count(0)
    expect(page.locator("pre#yaml-source")).not_to_contain_text("# a note")
    expect(page.get_by_role("button", name="Edit YAML")).to_be_focused()
    assert problems == []


def test_the_text_being_edited_survives_another_edit_and_its_save_is_then_refused_as_stale(page: Page, live_server):
    problems: list[str] = []
    saved = open_composer(page, live_server, problems)
    page.get_by_role("button", name="Edit YAML").click()
    edit_line_end(page, "/var/log/app/app.log", len("app.log"), "access.log")
    page.get_by_text("Parameters", exact=True).click()
    field = page.get_by_label("Log directory", exact=True)
    field.fill("/srv/logs")
    field.press("Tab")  # saved at once: the preview is swapped around the open editor
    expect(page.locator("#saved-state")).to_have_text("Saved · r2")
    expect(editor(page)).to_contain_text("- /var/log/app/access.log")
    expect(page.locator("pre#yaml-source")).to_be_hidden()

    page.get_by_role("button", name="Save YAML").click()  # made on revision 1: it would undo the field edit
    expect(page.get_by_role("alert").filter(has_text="was changed elsewhere")).to_be_visible()
    expect(editor(page)).to_contain_text("- /var/log/app/access.log")  # still there, to copy
    saved.refresh_from_db()
    assert saved.revision == 2 and saved.data["helpers"][0]["params"] == {"log_dir": "/srv/logs"}
    assert problems == []


def test_without_javascript_the_panel_is_the_read_only_view(browser, live_server):
    composition = Composition(app=AppContainer(image="busybox:1.36"))
    edits.add_helper(composition, "log-tailer")
    saved = SavedComposition.create(composition)
    context = browser.new_context(java_script_enabled=False, viewport={"width": 1280, "height": 800})
    try:
        page = context.new_page()
        page.goto(f"{live_server.url}{saved.get_absolute_url()}")
        expect(yaml_region(page).locator("pre#yaml-source")).to_contain_text("- /var/log/app/app.log")
        expect(page.get_by_role("button", name="Edit YAML")).to_be_hidden()
        expect(page.get_by_role("button", name="Save YAML")).to_be_hidden()
        expect(page.get_by_role("link", name="Download")).to_be_visible()
    finally:
        context.close()
