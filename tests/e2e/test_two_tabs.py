"""Two tabs on one composition: an edit made in the tab that shows an old revision is refused with a
message and a Reload button, and never overwrites what the other tab saved."""

import pytest
from playwright.sync_api import Page, expect

from composer.domain.model import Composition
from composer.models import SavedComposition

pytestmark = pytest.mark.django_db(transaction=True)


def edit_image(tab: Page, image: str) -> None:
    """Types an image into the app container's field and leaves it (the change that saves), in a tab
    brought to the front first: a background tab gets no focus, so leaving a field sends no change."""
    tab.bring_to_front()
    field = image_field(tab)
    field.fill(image)
    field.press("Tab")


def image_field(page: Page):
    return page.get_by_label("Image", exact=True).first  # the app container's, above the helpers


def test_an_edit_in_a_stale_tab_is_refused_and_reload_shows_the_newer_one(page: Page, live_server):
    saved = SavedComposition.create(Composition())
    url = f"{live_server.url}{saved.get_absolute_url()}"
    first, second = page, page.context.new_page()
    for tab in (first, second):
        tab.goto(url)
        expect(tab.get_by_text("Saved · r1")).to_be_visible()

    edit_image(first, "httpd:2.4.62")
    expect(first.get_by_text("Saved · r2")).to_be_visible()

    edit_image(second, "caddy:2.8")
    alert = second.get_by_role("alert").filter(has_text="was changed elsewhere")
    expect(alert).to_contain_text("your edit was made on revision 1, the newest is revision 2")
    expect(second.get_by_text("Not saved", exact=True)).to_be_visible()
    saved.refresh_from_db()
    assert saved.revision == 2 and saved.data["app"]["image"] == "httpd:2.4.62"

    alert.get_by_role("link", name="Reload").click()
    expect(image_field(second)).to_have_value("httpd:2.4.62")
    edit_image(second, "httpd:2.4.63")
    expect(second.get_by_text("Saved · r3")).to_be_visible()
    saved.refresh_from_db()
    assert saved.data["app"]["image"] == "httpd:2.4.63"
