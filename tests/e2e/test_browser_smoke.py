"""The browser test machinery works: Debian Chromium, live_server, screenshots.

The test serves its own URLconf (just the Django admin) so that it checks the
browser plumbing whatever state the app's own URLs are in.
"""

import pytest
from django.contrib import admin
from django.urls import path
from playwright.sync_api import Page, expect

urlpatterns = [path("admin/", admin.site.urls)]


@pytest.mark.urls(__name__)
@pytest.mark.django_db(transaction=True)
def test_admin_login_page_renders_in_chromium(live_server, page: Page, screenshot, request):
    assert request.node.get_closest_marker("e2e") is not None  # added by tests/support/browser.py

    page.goto(f"{live_server.url}/admin/login/")

    expect(page.get_by_role("button", name="Log in")).to_be_visible()
    assert page.viewport_size == {"width": 1280, "height": 800}

    path = screenshot("admin-login")
    assert path.name == "test_admin_login_page_renders_in_chromium_chromium-admin-login.png"
    assert path.parent.name == "test-artifacts"
    assert path.read_bytes().startswith(b"\x89PNG")
