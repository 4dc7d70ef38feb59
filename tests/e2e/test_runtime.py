"""The runtime page in headless Chromium, against the real local control plane: Pods that the
real scheduler and kwok walk through their states, logs served by kwok (tests/support/realruntime.py):
status, init logs, previous logs, follow, filter."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.support.browser import leave_and_wait_for_streams
from tests.support.realruntime import (
    CRASH_LOOP,
    INIT_FAILS,
    TIMEOUT,
    Cluster,
    append_log,
    cluster_fixture,  # noqa: F401 (the fixture ``cluster``)
    container,
    pod,
)
from tests.support.runtime import record_in

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.stream_timing(heartbeat=0.5, watch_seconds=5)]

WAIT_MS = TIMEOUT * 1000  # for what the scheduler and kwok must do first


@pytest.fixture(autouse=True)
def streams_end_with_the_test(quick_streams, page: Page, transactional_db, cluster: Cluster):
    """Leave the page, then wait until the server has noticed and closed its streams: they must not
    outlive the test's database and namespace (the server notices at its next heartbeat, which
    ``quick_streams`` keeps short until this has waited)."""
    yield
    leave_and_wait_for_streams(page)


def open_runtime(page: Page, live_server, record) -> None:
    page.goto(f"{live_server.url}/deployments/{record.pk}/runtime")
    expect(page.get_by_role("article", name="Pod web")).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="Live")).to_be_visible()


LOG_SHIPPER = container("log-shipper", restartPolicy="Always")


def test_a_failed_pod_then_pick_an_init_container_and_read_its_logs(
    page: Page, live_server, cluster: Cluster, screenshot
):
    """An init container failing after a first one succeeded (kwok's failure stage; restartPolicy
    Never, so the Pod fails); a native sidecar had started before it, the app never starts."""
    manifest = cluster.create_pod(pod(
        "web",
        labels={INIT_FAILS: "true"},
        annotations={f"{INIT_FAILS}/container-name": "migrate"},
        init=(container("wait-db"), LOG_SHIPPER, container("migrate")),
        restartPolicy="Never",
    ))
    cluster.pod_when(manifest, lambda p: p.phase == "Failed")
    cluster.set_logs("web", {
        "wait-db": ["waiting for postgres:5432", "postgres is up"],
        "migrate": ["\x1b[32mapplying\x1b[0m 0007_orders", '\x1b[1;31mERROR\x1b[0m relation "orders" already exists'],
    })
    open_runtime(page, live_server, record_in(cluster, manifest))

    alert = page.get_by_role("alert").filter(has_text="Pod failed:")  # restartPolicy Never: for good
    expect(alert).to_contain_text(
        "Init container 'migrate' (step 3 of 3) of Pod 'web' failed with exit code 1 (initContainerError)")
    init_line = page.get_by_role("list", name="Init containers of web")
    expect(init_line.get_by_role("listitem")).to_have_count(3)
    expect(init_line.get_by_role("listitem").nth(0)).to_contain_text("exited: exit code 0 (Completed)")
    expect(init_line.get_by_role("listitem").nth(2)).to_contain_text("exited: exit code 1 (initContainerError)")
    # By default the log panel shows the failing container, its colours as colours.
    log = page.get_by_role("log", name="Log of migrate")
    expect(log).to_contain_text('ERROR relation "orders" already exists')
    expect(log.locator(".ansi-fg-green")).to_have_text("applying")
    screenshot("blocked")

    page.get_by_label("Container", exact=True).select_option("wait-db")
    log = page.get_by_role("log", name="Log of wait-db")
    expect(log).to_contain_text("postgres is up")
    expect(page.get_by_label("Previous instance")).to_be_disabled()
    screenshot("init-container-logs")


def test_a_crash_looping_container_offers_its_previous_logs(page: Page, live_server, cluster: Cluster):
    manifest = cluster.create_pod(pod(
        "web",
        labels={CRASH_LOOP: "true"},
        annotations={f"{CRASH_LOOP}-container": "app"},
        init=(container("setup"),),
    ))
    cluster.pod_when(manifest, lambda p: p.container("app").restarts >= 1)
    cluster.set_logs("web", {"app": ["second attempt"]}, previous={"app": ["first attempt", "panic: boom"]})
    open_runtime(page, live_server, record_in(cluster, manifest))

    alert = page.get_by_role("alert").filter(has_text="Rollout blocked")
    expect(alert).to_contain_text("Container 'app' of Pod 'web' keeps failing (CrashLoopBackOff)")
    expect(page.get_by_role("log", name="Log of app")).to_contain_text("second attempt")
    page.get_by_role("link", name="Previous logs of app").click()
    previous = page.get_by_role("log", name="Log of app (previous instance)")
    expect(previous).to_contain_text("panic: boom")
    expect(previous).not_to_contain_text("second attempt")


@pytest.fixture
def node_label(cluster: Cluster) -> Iterator[tuple[str, str]]:
    """A label the node does not have yet: a Pod that selects it cannot be scheduled until it does.
    The node is the session's: the label is this test's own, and removed afterwards."""
    key = f"pod-studio.test/{cluster.namespace}"
    try:
        yield key, "ready"
    finally:
        cluster.core.patch_node(cluster.cp.node_name, {"metadata": {"labels": {key: None}}})


def test_status_changes_in_the_cluster_show_in_the_page(page: Page, live_server, cluster: Cluster, node_label):
    key, value = node_label
    manifest = cluster.create_pod(pod(
        "web", init=(container("wait-db"), container("migrate"), LOG_SHIPPER), nodeSelector={key: value}))
    unscheduled = cluster.pod_when(manifest, lambda p: any(c.reason == "Unschedulable" for c in p.conditions))
    open_runtime(page, live_server, record_in(cluster, manifest))
    pill = page.get_by_role("article", name="Pod web").locator(".pill")
    expect(pill).to_have_text(unscheduled.status)
    blocked = page.get_by_role("alert").filter(has_text="Rollout blocked")
    expect(blocked).to_contain_text("didn't match Pod's node affinity/selector")

    cluster.core.patch_node(cluster.cp.node_name, {"metadata": {"labels": {key: value}}})
    # The scheduler places it, kwok walks it through its init containers: the page follows by itself.
    expect(pill).to_have_text("Running", timeout=WAIT_MS)
    expect(blocked).to_have_count(0)
    expect(page.get_by_text("Init 3/3")).to_be_visible()
    # The picker's labels follow the new states.
    picker = page.get_by_label("Container", exact=True)
    expect(picker.locator("option[value=migrate]")).to_contain_text("exited: exit code 0")
    expect(picker.locator("option[value=app]")).to_contain_text("running")


def running_web(cluster: Cluster, logs: dict[str, list[str]]):
    """A running Pod "web" (init container "setup", container "app") serving ``logs``: its log files."""
    manifest = cluster.create_pod(pod("web", init=(container("setup"),)))
    cluster.pod_when(manifest, lambda p: p.phase == "Running" and p.ready)
    return record_in(cluster, manifest), cluster.set_logs("web", logs)


def test_watch_a_followed_log_grow_and_filter_it(page: Page, live_server, cluster: Cluster, screenshot):
    record, files = running_web(cluster, {"app": ["GET /health 200", "GET /orders 200"]})
    open_runtime(page, live_server, record)
    expect(page.get_by_label("Follow")).to_be_checked()  # a running container is followed by default
    log = page.get_by_role("log", name="Log of app")
    expect(log).to_contain_text("GET /orders 200")

    append_log(files["app"], *[f"GET /orders/{n} {'500 ERROR' if n % 10 == 0 else '200'}" for n in range(1, 61)])
    expect(log).to_contain_text("GET /orders/60 500 ERROR")
    expect(log.locator(".l")).to_have_count(62)
    screenshot("followed")

    page.get_by_label("Filter").fill("error")
    expect(log.locator(".l:visible")).to_have_count(6)
    expect(page.locator("#log-count")).to_contain_text("6 of 62 lines match")
    append_log(files["app"], "GET /late 500 ERROR", "GET /late 200")
    expect(log.locator(".l:visible")).to_have_count(7)  # new lines are filtered as they arrive
    expect(page.locator("#log-count")).to_contain_text("7 of 64 lines match")
    screenshot("filtered")

    page.get_by_label("Timestamps").check()
    expect(log.locator(".l:visible .ts").first).to_have_text(re.compile(r"\d\d:\d\d:\d\d"))


def test_script_in_a_log_line_does_not_run(page: Page, live_server, cluster: Cluster):
    record, files = running_web(cluster, {"app": ['<script>document.title = "pwned"</script>',
                                                  "<img src=x onerror=\"document.title='pwned'\">"]})
    open_runtime(page, live_server, record)
    log = page.get_by_role("log", name="Log of app")
    expect(log).to_contain_text('<script>document.title = "pwned"</script>')
    expect(log).to_contain_text("<img src=x onerror=")
    # A followed line that arrives later is escaped too; once it shows, a script would have run.
    append_log(files["app"], "<svg onload=\"document.title='pwned'\"></svg>")
    expect(log).to_contain_text("<svg onload=")
    assert log.locator("script, img, svg").count() == 0
    assert page.title() != "pwned"


def test_long_lines_expand_and_the_page_keeps_a_bounded_number_of_lines(
    page: Page, live_server, cluster: Cluster, settings
):
    settings.PODSTUDIO_LOG_MAX_LINES = 50
    settings.PODSTUDIO_LOG_LINE_CHARS = 80
    record, files = running_web(cluster, {"app": ["start " + "x" * 300 + " end"]})
    open_runtime(page, live_server, record)
    log = page.get_by_role("log", name="Log of app")
    expand = log.get_by_role("button", name="show 230 more characters")
    expect(expand).to_be_visible()
    expect(log).not_to_contain_text(" end", use_inner_text=True)
    expand.click()
    expect(log).to_contain_text("x end", use_inner_text=True)

    append_log(files["app"], *[f"line {n}" for n in range(200)])
    expect(log).to_contain_text("line 199")
    expect(log.locator(".l")).to_have_count(50)
    expect(page.locator("#log-count")).to_contain_text("older lines dropped")


def test_merged_view_of_every_container(page: Page, live_server, cluster: Cluster, screenshot):
    record, _ = running_web(cluster, {"setup": ["config written"], "app": ["serving on :8080"]})
    open_runtime(page, live_server, record)
    page.get_by_label("Container", exact=True).select_option("*")
    log = page.get_by_role("log", name="Logs of all containers of web")
    expect(log).to_contain_text("setupconfig written")
    expect(log).to_contain_text("appserving on :8080")
    screenshot("merged")
