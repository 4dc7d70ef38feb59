"""Runtime page states that never contradict each other, in headless Chromium: a live stream from a cluster
that does not answer says both; a deploy that applied nothing says so instead of "No Pods known yet"."""

import pytest
from playwright.sync_api import Page, expect

from tests.support.browser import leave_and_wait_for_streams
from tests.support.realruntime import pod
from tests.support.runtime import record_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.stream_timing(heartbeat=0.5, watch_seconds=5)]


@pytest.fixture(autouse=True)
def streams_end_with_the_test(quick_streams, page: Page, transactional_db):
    yield
    leave_and_wait_for_streams(page)


def test_a_live_page_of_an_unreachable_cluster_says_both(page: Page, live_server, fault_proxy, monkeypatch):
    monkeypatch.setenv("KUBECONFIG", str(fault_proxy.kubeconfig))
    record = record_for(pod("web"), context="faulty", namespace="default")
    fault_proxy.stop()  # nothing listens there any more
    page.goto(f"{live_server.url}/deployments/{record.pk}/runtime")
    expect(page.get_by_role("alert").filter(has_text="The cluster cannot be reached.")).to_be_visible()
    badge = page.locator("#live-state")
    expect(badge).to_have_text("Live, but the cluster does not answer")
    expect(badge).not_to_have_text("Live")


def test_a_deploy_that_applied_nothing_says_so(page: Page, live_server, fault_proxy, monkeypatch):
    monkeypatch.setenv("KUBECONFIG", str(fault_proxy.kubeconfig))
    record = record_for(pod("web"), context="faulty", namespace="default")
    record.outcome, record.message = "failed", "Pod 'web' is invalid: spec.containers[0].image: Required value"
    record.results = [{"kind": "Pod", "name": "web", "outcome": "failed"}]
    record.save()
    page.goto(f"{live_server.url}/deployments/{record.pk}/runtime")
    expect(page.get_by_text("This deploy applied nothing (failed: Pod 'web' is invalid")).to_be_visible()
    expect(page.get_by_text("No Pods known yet")).to_have_count(0)
