"""The runtime page in headless Chromium, against the stand-in API server: status, init logs, follow, filter."""

from __future__ import annotations

import threading
import time

import pytest
from playwright.sync_api import Page, expect

from composer.http import sse as streams
from tests.support.runtime import (
    container_status,
    event,
    pod_manifest,
    record_for,
    running,
    terminated,
    waiting,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.stream_timing(heartbeat=0.5, watch_seconds=5)]


@pytest.fixture(autouse=True)
def streams_end_with_the_test(quick_streams, page: Page, transactional_db, standin_target):
    """Leave the page, then wait until the server has noticed and closed its streams: they must not
    outlive the test's database and stand-in server (the server notices at its next heartbeat, which
    ``quick_streams`` keeps short until this has waited)."""
    yield
    page.goto("about:blank")
    deadline = time.monotonic() + 10
    while streams.SLOTS.open and time.monotonic() < deadline:
        time.sleep(0.05)
    assert streams.SLOTS.open == 0, "a stream outlived its page"


def broken_init_pod(server):
    """An init container failing in a loop after a first one succeeded; a native sidecar and the app wait."""
    manifest = pod_manifest("web", init=("wait-db", "migrate"), sidecars=("log-shipper",))
    server.put_object(manifest)
    server.set_pod_status("default", "web", {
        "phase": "Pending",
        "podIP": "10.1.0.7",
        "conditions": [{"type": "PodScheduled", "status": "True"},
                       {"type": "Initialized", "status": "False", "reason": "ContainersNotInitialized"},
                       {"type": "Ready", "status": "False", "reason": "ContainersNotReady"}],
        "initContainerStatuses": [
            container_status("wait-db", terminated(0, "Completed")),
            container_status("migrate", waiting("CrashLoopBackOff", "back-off 20s restarting failed container"),
                             restarts=2, last=terminated(1, "Error")),
            container_status("log-shipper", waiting("PodInitializing"), started=False),
        ],
        "containerStatuses": [container_status("app", waiting("PodInitializing"))],
    })
    server.put_object(event("web", "BackOff", "Back-off restarting failed container migrate in pod web",
                            type_="Warning", field_path="spec.initContainers{migrate}"))
    server.add_log("default", "web", "wait-db", "waiting for postgres:5432", "postgres is up")
    server.add_log("default", "web", "migrate", "\x1b[32mapplying\x1b[0m 0007_orders",
                   "\x1b[1;31mERROR\x1b[0m relation \"orders\" already exists")
    server.add_log("default", "web", "migrate", "first attempt", previous=True)
    return manifest


def open_runtime(page: Page, live_server, record) -> None:
    page.goto(f"{live_server.url}/deployments/{record.pk}/runtime")
    expect(page.get_by_role("article", name="Pod web")).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="Live")).to_be_visible()


def test_blocked_rollout_then_pick_an_init_container_and_read_its_logs(page: Page, live_server, server, screenshot):
    record = record_for(broken_init_pod(server))
    open_runtime(page, live_server, record)

    alert = page.get_by_role("alert").filter(has_text="Rollout blocked")
    expect(alert).to_contain_text("Init container 'migrate' (step 2 of 3) of Pod 'web' keeps failing")
    init_line = page.get_by_role("list", name="Init containers of web")
    expect(init_line.get_by_role("listitem")).to_have_count(3)
    expect(init_line.get_by_role("listitem").nth(1)).to_contain_text("waiting: CrashLoopBackOff")
    # By default the log panel shows the failing container.
    expect(page.get_by_role("log", name="Log of migrate")).to_contain_text('relation "orders" already exists')
    screenshot("blocked")

    page.get_by_label("Container", exact=True).select_option("wait-db")
    log = page.get_by_role("log", name="Log of wait-db")
    expect(log).to_contain_text("postgres is up")
    expect(page.get_by_label("Previous instance")).to_be_disabled()
    screenshot("init-container-logs")

    page.get_by_role("link", name="Previous logs of migrate").click()
    expect(page.get_by_role("log", name="Log of migrate (previous instance)")).to_contain_text("first attempt")


def test_status_changes_in_the_cluster_show_in_the_page(page: Page, live_server, server):
    record = record_for(broken_init_pod(server))
    open_runtime(page, live_server, record)
    pill = page.get_by_role("article", name="Pod web").locator(".pill")
    expect(pill).to_have_text("Init:CrashLoopBackOff")
    server.set_pod_status("default", "web", {
        "phase": "Running",
        "conditions": [{"type": "Ready", "status": "True"}],
        "initContainerStatuses": [
            container_status("wait-db", terminated(0, "Completed")),
            container_status("migrate", terminated(0, "Completed"), restarts=2),
            container_status("log-shipper", running(), started=True, ready=True),
        ],
        "containerStatuses": [container_status("app", running(), ready=True)],
    })
    expect(pill).to_have_text("Running")
    expect(page.get_by_role("alert").filter(has_text="Rollout blocked")).to_have_count(0)
    expect(page.get_by_text("Init 3/3")).to_be_visible()
    # The picker's labels follow the new states.
    picker = page.get_by_label("Container", exact=True)
    expect(picker.locator("option[value=migrate]")).to_contain_text("exited: exit code 0")


def feed(server, container, lines, *, every=0.02):
    def run():
        for line in lines:
            server.add_log("default", "web", container, line)
            time.sleep(every)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def running_pod(server):
    manifest = pod_manifest("web", init=("setup",), sidecars=())
    server.put_object(manifest)
    server.set_pod_status("default", "web", {
        "phase": "Running", "conditions": [{"type": "Ready", "status": "True"}],
        "initContainerStatuses": [container_status("setup", terminated(0, "Completed"))],
        "containerStatuses": [container_status("app", running(), ready=True)],
    })
    return manifest


def test_watch_a_followed_log_grow_and_filter_it(page: Page, live_server, server, screenshot):
    record = record_for(running_pod(server))
    server.add_log("default", "web", "app", "GET /health 200", "GET /orders 200")
    open_runtime(page, live_server, record)
    expect(page.get_by_label("Follow")).to_be_checked()  # a running container is followed by default
    log = page.get_by_role("log", name="Log of app")
    expect(log).to_contain_text("GET /orders 200")

    lines = [f"GET /orders/{n} {'500 ERROR' if n % 10 == 0 else '200'}" for n in range(1, 61)]
    feed(server, "app", lines).join(10)
    expect(log).to_contain_text("GET /orders/60 500 ERROR")
    expect(log.locator(".l")).to_have_count(62)
    screenshot("followed")

    page.get_by_label("Filter").fill("error")
    expect(log.locator(".l:visible")).to_have_count(6)
    expect(page.locator("#log-count")).to_contain_text("6 of 62 lines match")
    server.add_log("default", "web", "app", "GET /late 500 ERROR", "GET /late 200")
    expect(log.locator(".l:visible")).to_have_count(7)  # new lines are filtered as they arrive
    screenshot("filtered")

    page.get_by_label("Timestamps").check()
    expect(log.locator(".l:visible .ts").first).to_be_visible()


def test_script_in_a_log_line_does_not_run(page: Page, live_server, server):
    record = record_for(running_pod(server))
    server.add_log("default", "web", "app", '<script>document.title = "pwned"</script>',
                   "<img src=x onerror=\"document.title='pwned'\">")
    open_runtime(page, live_server, record)
    log = page.get_by_role("log", name="Log of app")
    expect(log).to_contain_text('<script>document.title = "pwned"</script>')
    expect(log).to_contain_text("<img src=x onerror=")
    assert log.locator("script, img").count() == 0
    time.sleep(0.3)
    assert page.title() != "pwned"


def test_long_lines_expand_and_the_page_keeps_a_bounded_number_of_lines(page: Page, live_server, server, settings):
    settings.PODSTUDIO_LOG_MAX_LINES = 50
    settings.PODSTUDIO_LOG_LINE_CHARS = 80
    record = record_for(running_pod(server))
    server.add_log("default", "web", "app", "start " + "x" * 300 + " end")
    open_runtime(page, live_server, record)
    log = page.get_by_role("log", name="Log of app")
    expand = log.get_by_role("button", name="show 230 more characters")
    expect(expand).to_be_visible()
    expect(log).not_to_contain_text(" end", use_inner_text=True)
    expand.click()
    expect(log).to_contain_text("x end", use_inner_text=True)

    feed(server, "app", [f"line {n}" for n in range(200)], every=0).join(10)
    expect(log).to_contain_text("line 199")
    expect(log.locator(".l")).to_have_count(50)
    expect(page.locator("#log-count")).to_contain_text("older lines dropped")


def test_merged_view_of_every_container(page: Page, live_server, server, screenshot):
    record = record_for(running_pod(server))
    server.add_log("default", "web", "setup", "config written")
    server.add_log("default", "web", "app", "serving on :8080")
    open_runtime(page, live_server, record)
    page.get_by_label("Container", exact=True).select_option("*")
    log = page.get_by_role("log", name="Logs of all containers of web")
    expect(log).to_contain_text("setupconfig written")
    expect(log).to_contain_text("appserving on :8080")
    screenshot("merged")
