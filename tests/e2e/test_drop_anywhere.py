"""Dragging a pattern onto any part of the Pod in headless Chromium: it lands where its role says."""

import pytest
from playwright.sync_api import Page, expect

from composer.domain.model import AppContainer, Composition
from composer.models import SavedComposition
from tests.e2e.test_composer import open_composer, yaml_region

pytestmark = pytest.mark.django_db(transaction=True)


def drag(page: Page, pattern: str, target) -> None:
    card = page.get_by_role("complementary", name="Patterns").locator(f"[data-pattern='{pattern}'] .pattern-text")
    box = target.bounding_box()
    card.drag_to(target, steps=8, target_position={"x": box["width"] / 2, "y": box["height"] - 4})


def test_drop_on_the_app_card_the_sequence_or_beside(page: Page, live_server, screenshot):
    page.set_viewport_size({"width": 1280, "height": 2200})  # the palette card and the drop target both in view
    open_composer(page, live_server, Composition(app=AppContainer(image="busybox:1.36")))
    drag(page, "prometheus-exporter", page.locator(".app-card"))
    expect(page.get_by_role("list", name="Helpers beside the app")).to_contain_text("Prometheus exporter")
    drag(page, "log-tailer", page.locator("#init-sequence"))
    expect(page.get_by_role("status")).to_contain_text("runs as a native sidecar")
    expect(yaml_region(page)).to_contain_text("restartPolicy: Always")
    drag(page, "sysctl", page.locator("#beside-app"))
    expect(page.get_by_role("status")).to_contain_text("placed in the start-up sequence")
    expect(page.get_by_role("list", name="Init containers in run order")).to_contain_text("Privileged sysctl")
    screenshot("three-drops")
    helpers = SavedComposition.objects.get().data["helpers"]
    assert [(h["pattern"], h["native_sidecar"]) for h in helpers] == [
        ("prometheus-exporter", False), ("log-tailer", True), ("sysctl", False)]
