"""The home page in headless Chromium: a new composition asks for its name and image first; the list is
searchable."""

import pytest
from playwright.sync_api import Page, expect

from composer.domain.model import AppContainer, Composition, Workload
from composer.models import SavedComposition

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_new_composition_is_saved_only_once_named(page: Page, live_server, screenshot):
    page.goto(f"{live_server.url}/")
    page.get_by_role("link", name="New composition").click()
    expect(page.get_by_role("heading", name="New composition")).to_be_visible()
    expect(page.get_by_label("Name")).to_be_focused()
    page.get_by_label("Name").fill("Shop!")
    page.get_by_role("button", name="Create").click()
    expect(page.locator("#err-new-name")).to_be_visible()
    expect(page.get_by_text("required: the app's image")).to_be_visible()
    assert SavedComposition.objects.count() == 0
    screenshot("refused")
    page.get_by_label("Name").fill("shop")
    page.get_by_label("App image").fill("registry.example.com/shop:2.1")
    page.get_by_label("Runs as").select_option("Deployment")
    page.get_by_role("button", name="Create").click()
    expect(page.get_by_role("region", name="YAML preview")).to_contain_text("image: registry.example.com/shop:2.1")
    expect(page.get_by_role("region", name="YAML preview")).to_contain_text("kind: Deployment")
    assert SavedComposition.objects.get().name == "shop"


def test_the_list_filters_as_you_type(page: Page, live_server):
    for name in ("shop-web", "shop-api", "billing"):
        SavedComposition.create(Composition(workload=Workload(name=name, labels={"app": name}),
                                            app=AppContainer(image="nginx:1.27")))
    page.goto(f"{live_server.url}/")
    search = page.get_by_role("searchbox", name="Find a composition")
    search.fill("shop")
    table = page.locator("#composition-list")
    expect(table.get_by_role("link", name="billing", exact=True)).to_have_count(0)
    expect(table.get_by_role("link", name="shop-web", exact=True)).to_be_visible()
    assert "q=shop" in page.url
    search.fill("zzz")
    expect(page.get_by_role("status")).to_contain_text("No composition's name contains “zzz”")
