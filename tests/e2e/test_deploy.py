"""Deploy from the composer page in Chromium against the real local control plane (``real_target``)."""

import pytest
from playwright.sync_api import Page, expect

from composer.domain.examples import EXAMPLES_BY_ID
from composer.models import DeployRecord, SavedComposition
from tests.support.browser import leave_and_wait_for_streams

pytestmark = pytest.mark.django_db(transaction=True)


def test_dry_run_then_deploy_from_the_composer(page: Page, live_server, real_target, screenshot, quick_streams):
    saved = SavedComposition.create(EXAMPLES_BY_ID["log-tailer"].build())
    page.goto(f"{live_server.url}{saved.get_absolute_url()}")
    page.get_by_text("Deploy", exact=True).first.click()
    panel = page.get_by_role("region", name="Deploy", exact=True)
    expect(panel.get_by_label("Context")).to_have_value(real_target.context)
    expect(panel.locator("#namespace-note")).to_contain_text("namespace")
    panel.get_by_label("Namespace", exact=True).fill(real_target.namespace)

    panel.get_by_role("button", name="Dry run").click()
    expect(panel.get_by_role("status").first).to_contain_text("Dry run succeeded")
    assert real_target.live("Pod", "timecheck") is None
    expect(panel.get_by_role("link", name="Watch the Pods")).to_have_count(0)  # a dry run runs nothing

    panel.get_by_role("button", name="Deploy", exact=True).click()
    expect(panel.locator("#deploy-result")).to_contain_text("Deploy succeeded")
    expect(panel.locator("#deploy-result")).to_contain_text("Pod/timecheck")
    assert real_target.live("Pod", "timecheck") is not None
    assert [r.action for r in DeployRecord.objects.order_by("pk")] == ["dry-run", "deploy"]
    expect(panel.get_by_role("link", name="Watch the Pods")).to_be_visible()
    screenshot("deployed")

    page.get_by_role("link", name="Deploy record").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("succeeded")
    screenshot("record")

    # The composer leads to the runtime view of its last deploy, saying where that is.
    page.goto(f"{live_server.url}{saved.get_absolute_url()}")
    runtime = page.get_by_role("link", name="Runtime", exact=True)
    where = f"{real_target.context}/{real_target.namespace}"
    expect(runtime).to_have_accessible_description(f"of the last deploy: {where}, r1")
    runtime.click()
    expect(page.get_by_role("article", name="Pod timecheck")).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="Live")).to_be_visible()
    leave_and_wait_for_streams(page)  # the page's streams end before the test's namespace does


def test_a_forbidden_deploy_is_explained(page: Page, live_server, control_plane, real_target):
    """team-a-user (context local-limited) may work in namespace team-a only: the real RBAC refusal."""
    saved = SavedComposition.create(EXAMPLES_BY_ID["log-tailer"].build())
    page.goto(f"{live_server.url}{saved.get_absolute_url()}")
    page.get_by_text("Deploy", exact=True).first.click()
    panel = page.get_by_role("region", name="Deploy", exact=True)
    panel.get_by_label("Context").select_option(control_plane.limited_context)
    panel.get_by_label("Namespace", exact=True).fill(real_target.namespace)
    panel.get_by_role("button", name="Deploy", exact=True).click()
    expect(panel.get_by_role("alert")).to_contain_text("Deploy failed")
    expect(panel.get_by_role("alert")).to_contain_text("may not")
    expect(panel.get_by_role("alert")).to_contain_text("team-a-user")
    assert real_target.live("Pod", "timecheck") is None
