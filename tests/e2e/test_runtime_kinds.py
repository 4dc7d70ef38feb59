"""The runtime page of every workload kind in headless Chromium, against the real local control plane:
compositions made StatefulSet, DaemonSet, Job and CronJob with ``edits.change_kind``, deployed through
Pod Studio's API, watched live on the page (tests/support/kinds.py; kwok holds a Pod at a stage until
the test releases it, so each state is reached on purpose)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from playwright.sync_api import Page, expect

from composer.domain.cron import next_run
from tests.support.browser import leave_and_wait_for_streams
from tests.support.kinds import (
    CONTAINER_FAILS,
    HOLD_JOB_POD,
    READY_STAGE,
    api_deploy,
    extra_node_fixture,  # noqa: F401 (the fixture ``extra_node``)
    hold,
    kind_composition,
    kubectl,
    kubectl_json,
    names,
    release,
    saved,
    wait_until,
)
from tests.support.realruntime import (
    TIMEOUT,
    Cluster,
    cluster_fixture,  # noqa: F401 (the fixture ``cluster``)
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.stream_timing(heartbeat=0.5, watch_seconds=5)]

WAIT_MS = TIMEOUT * 1000


@pytest.fixture(autouse=True)
def streams_end_with_the_test(quick_streams, page: Page, transactional_db, cluster: Cluster):
    """Leave the page, then wait until the server has closed its streams (as tests/e2e/test_runtime.py)."""
    yield
    leave_and_wait_for_streams(page)


def deploy(client, cluster: Cluster, composition) -> int:
    response = api_deploy(client, saved(composition), cluster.namespace)
    assert response.status_code == 201, response.json()
    return response.json()["id"]


def open_runtime(page: Page, live_server, record_id: int, workload: str) -> None:
    page.goto(f"{live_server.url}/deployments/{record_id}/runtime")
    expect(page.get_by_role("region", name=workload, exact=True)).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="Live")).to_be_visible()


def pod_headings(page: Page) -> list[str]:
    return [text.removeprefix("Pod ").strip() for text in page.get_by_role("article").locator("h2").all_inner_texts()]


def test_a_statefulset_comes_up_in_ordinal_order_and_says_which_pod_waits(
    page: Page, live_server, client, cluster: Cluster, screenshot
):
    """Every Pod is held before it gets Ready (kwok's pod-ready stage); the test lets them through one by
    one, and the page follows: hello-web-1 waits for hello-web-0, then hello-web-2 for hello-web-1."""
    record = deploy(client, cluster, kind_composition("StatefulSet", replicas=3, annotations=hold(READY_STAGE)))
    open_runtime(page, live_server, record, "StatefulSet hello-web")
    state = page.get_by_role("region", name="StatefulSet hello-web", exact=True)
    note = state.get_by_role("note")

    for number in range(2):
        expect(note).to_have_text(f"Pod 'hello-web-{number + 1}' waits for 'hello-web-{number}' to be Running and "
                                  "Ready: OrderedReady starts the Pods one by one.", timeout=WAIT_MS)
        expect(page.get_by_role("article")).to_have_count(number + 1)
        if number == 1:
            screenshot("waiting")
        release(cluster.cp, cluster.namespace, f"hello-web-{number}", READY_STAGE)
    wait_until(lambda: "hello-web-2" in names(cluster.cp, cluster.namespace, "pods"), "hello-web-2 created")
    release(cluster.cp, cluster.namespace, "hello-web-2", READY_STAGE)

    expect(state).to_contain_text("StatefulSet 'hello-web': 3 of 3 Pods ready", timeout=WAIT_MS)
    expect(note).to_have_count(0)
    assert pod_headings(page) == ["hello-web-0", "hello-web-1", "hello-web-2"]
    expect(page.locator(".status-summary")).to_contain_text("3 Pods, 3 ready")
    screenshot("ready")


def test_a_daemonset_shows_the_node_of_each_pod(page: Page, live_server, client, cluster: Cluster, extra_node: str):
    record = deploy(client, cluster, kind_composition("DaemonSet"))
    wait_until(lambda: len(names(cluster.cp, cluster.namespace, "pods")) == 2, "a Pod per node")
    open_runtime(page, live_server, record, "DaemonSet timecheck")

    nodes = sorted(["localhost", extra_node])
    expect(page.get_by_role("region", name="DaemonSet timecheck", exact=True)).to_contain_text(
        f"2 of 2 nodes run a ready Pod (on {', '.join(nodes)})", timeout=WAIT_MS)
    pods = {p["spec"]["nodeName"]: p["metadata"]["name"]
            for p in kubectl_json(cluster.cp, cluster.namespace, "pods")["items"]}
    assert pod_headings(page) == [pods[node] for node in nodes]  # by node
    for node in nodes:
        facts = page.get_by_role("article", name=f"Pod {pods[node]}").locator(".pod-facts")
        expect(facts.locator("div").filter(has_text="Node")).to_contain_text(node)
    kubectl(cluster.cp, "-n", cluster.namespace, "delete", "daemonset", "timecheck")  # before the node goes
    wait_until(lambda: names(cluster.cp, cluster.namespace, "pods") == [], "the Pods gone")


def test_a_job_shows_its_progress_and_the_log_of_its_pod(page: Page, live_server, client, cluster: Cluster,
                                                         screenshot):
    record = deploy(client, cluster, kind_composition("Job", annotations=HOLD_JOB_POD))
    [pod] = wait_until(lambda: names(cluster.cp, cluster.namespace, "pods"), "the Job's Pod")
    cluster.set_logs(pod, {"app": ["GET /index.html 200", "<b>not bold</b>"]})
    open_runtime(page, live_server, record, "Job hello-web")
    state = page.get_by_role("region", name="Job hello-web", exact=True)
    expect(state).to_contain_text("Running: 0 of 1 completion succeeded, 1 active, 0 failed", timeout=WAIT_MS)

    release(cluster.cp, cluster.namespace, pod)
    expect(state.locator(".workload-summary")).to_contain_text("Complete in", timeout=WAIT_MS)
    expect(state.locator(".workload-summary")).to_contain_text("1 of 1 completion succeeded, 0 active, 0 failed")
    article = page.get_by_role("article", name=f"Pod {pod}")
    expect(article.locator(".pill")).to_have_text("Completed")
    expect(page.locator(".status-summary")).to_contain_text("1 Pod, 0 ready, 1 completed")
    expect(page.get_by_role("alert")).to_have_count(0)  # a finished Job is not a blocked rollout

    article.get_by_role("link", name="Logs of app").click()
    log = page.get_by_role("log", name="Log of app")
    expect(log).to_contain_text("GET /index.html 200")
    expect(log).to_contain_text("<b>not bold</b>")  # log text is text
    assert log.locator("b").count() == 0
    screenshot("complete")


def test_a_failed_job_says_its_pod_failed_not_that_a_rollout_is_blocked(page: Page, live_server, client,
                                                                         cluster: Cluster):
    """Its container exits 1 (kwok's chaos stage) and the back-off limit is 0: nothing restarts the Pod."""
    record = deploy(client, cluster, kind_composition("Job", labels={CONTAINER_FAILS: "true"}, backoffLimit=0))
    open_runtime(page, live_server, record, "Job hello-web")
    state = page.get_by_role("region", name="Job hello-web", exact=True)
    expect(state.locator(".workload-summary")).to_contain_text("Failed (BackoffLimitExceeded)", timeout=WAIT_MS)
    alert = page.get_by_role("alert").filter(has_text="Pod failed:")
    expect(alert).to_contain_text("Container 'app' of Pod 'hello-web-", timeout=WAIT_MS)
    expect(alert).to_contain_text("failed with exit code 1")
    expect(alert.get_by_role("link", name="Show the logs of app")).to_be_visible()
    expect(page.get_by_role("alert").filter(has_text="Rollout blocked")).to_have_count(0)


def test_a_cronjob_waits_for_its_schedule_then_shows_the_pods_of_its_jobs(
    page: Page, live_server, client, cluster: Cluster, screenshot
):
    record = deploy(client, cluster, kind_composition("CronJob", schedule="0 0 1 1 *"))
    open_runtime(page, live_server, record, "CronJob merged-config")
    upcoming = next_run("0 0 1 1 *", datetime.now(UTC))
    waits = (f"CronJob 'merged-config' has not run yet: it waits for its schedule '0 0 1 1 *'; the next Job starts "
             f"at {upcoming:%Y-%m-%d %H:%M} UTC.")
    summary = page.get_by_role("region", name="CronJob merged-config", exact=True).locator(".workload-summary")
    expect(summary).to_have_text(waits)
    expect(page.locator("p.empty.card")).to_have_text(waits)  # not "no Pods", as if something were wrong
    jobs = page.get_by_role("table", name="Jobs of CronJob merged-config")
    expect(jobs).to_contain_text("No Jobs yet.")
    screenshot("waiting")

    kubectl(cluster.cp, "-n", cluster.namespace, "create", "job", "--from=cronjob/merged-config", "by-hand")
    row = jobs.get_by_role("row").filter(has_text="by-hand")
    expect(row).to_contain_text("by hand", timeout=WAIT_MS)
    expect(row).to_contain_text("Complete", timeout=WAIT_MS)
    [pod] = names(cluster.cp, cluster.namespace, "pods")
    expect(page.get_by_role("article", name=f"Pod {pod}").locator(".pill")).to_have_text("Completed")
    expect(summary).to_contain_text("not started by its schedule yet; no Job running now")
    screenshot("ran-by-hand")
