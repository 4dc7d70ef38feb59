"""Two tabs on one composition: an edit made in the tab that shows an old revision is refused with a
message and a Reload button, and never overwrites what the other tab saved."""

import pytest
from playwright.sync_api import Page, expect

from composer.domain.model import Composition
from composer.models import SavedComposition

pytestmark = pytest.mark.django_db(transaction=True)


def image_field(page: Page):
    return page.get_by_label("Image", exact=True).first  # the app container's, above the helpers


def test_an_edit_in_a_stale_tab_is_refused_and_reload_shows_the_newer_one(page: Page, live_server):
    saved = SavedComposition.create(Composition())
    url = f"{live_server.url}{saved.get_absolute_url()}"
    first, second = page, page.context.new_page()
    for tab in (first, second):
        tab.goto(url)
        expect(tab.get_by_text("Saved · r1")).to_be_visible()

    image_field(first).fill("nginx:1.27")
    image_field(first).press("Tab")
    expect(first.get_by_text("Saved · r2")).to_be_visible()

    image_field(second).fill("nginx:1.25")
    image_field(second).press("Tab")
    alert = second.get_by_role("alert").filter(has_text="was changed elsewhere")
    expect(alert).to_contain_text("your edit was made on revision 1, the newest is revision 2")
    expect(second.get_by_text("Not saved", exact=True)).to_be_visible()
    saved.refresh_from_db()
    assert saved.revision == 2 and saved.data["app"]["image"] == "nginx:1.27"

    alert.get_by_role("link", name="Reload").click()
    expect(image_field(second)).to_have_value("nginx:1.27")
    image_field(second).fill("nginx:1.28")
    image_field(second).press("Tab")
    expect(second.get_by_text("Saved · r3")).to_be_visible()
    saved.refresh_from_db()
    assert saved.data["app"]["image"] == "nginx:1.28"
