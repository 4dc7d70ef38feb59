"""The runtime page's SSE streams, against the stand-in API server (Django test client, streamed)."""

from __future__ import annotations

import threading
import time

import pytest

from composer.cluster import logfollow
from composer.cluster.contexts import connect
from composer.http import sse as streams
from tests.support.runtime import (
    SseReader,
    container_status,
    pod_manifest,
    record_for,
    running,
    terminated,
    waiting,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("quick_streams"),
              pytest.mark.stream_timing(watch_seconds=1)]


@pytest.fixture
def web(server):
    manifest = pod_manifest("web", init=("migrate",), sidecars=())
    server.put_object(manifest)
    return record_for(manifest)


def open_stream(client, path, **query) -> SseReader:
    response = client.get(path, query)
    assert response.status_code == 200
    return SseReader(response)


def status_stream(client, record) -> SseReader:
    return open_stream(client, f"/deployments/{record.pk}/runtime/status/stream")


def log_stream(client, record, **query) -> SseReader:
    return open_stream(client, f"/deployments/{record.pk}/runtime/logs/stream", pod="web", **query)


def patch_status_through_the_api(status: dict) -> None:
    """What a kubelet does: a PATCH of the Pod's status subresource (the watch sees MODIFIED)."""
    connect("stand-in").request(
        "PATCH", "/api/v1/namespaces/default/pods/web/status",
        body={"status": status}, content_type="application/merge-patch+json",
    )


# ---------------------------------------------------------------------------
# Status
# ---------------------------------------------------------------------------


def test_a_status_change_made_through_the_api_reaches_an_open_stream(client, web):
    reader = status_stream(client, web)
    try:
        first = reader.next("status")
        assert "Init:0/1" in first.data
        changed_at = time.monotonic()
        patch_status_through_the_api({
            "phase": "Pending",
            "initContainerStatuses": [container_status("migrate", terminated(3, "Error"))],
            "containerStatuses": [container_status("app", waiting("PodInitializing"))],
        })
        update = reader.next("status", where=lambda e: "Init:Error" in e.data)
        elapsed = time.monotonic() - changed_at
        assert "Rollout blocked:" in update.data
        assert "failed with exit code 3 (Error)" in update.data
        assert elapsed < 5  # the benchmark measures it; here it only has to arrive
    finally:
        reader.close()


def test_status_stream_says_when_the_cluster_is_lost_and_recovers(client, web, server):
    reader = status_stream(client, web)
    try:
        reader.next("status")
        server.inject(None, r"/(pods|events)$", drop=True, times=None)
        lost = reader.next("status", where=lambda e: "The cluster cannot be reached." in e.data)
        assert "Showing the last known state." in lost.data
        assert server.token not in lost.data
        server.clear_faults()
        reader.next("status", where=lambda e: "cannot be reached" not in e.data)
    finally:
        reader.close()


def test_status_stream_for_a_context_gone_from_the_kubeconfig_says_so_and_ends(client, server):
    record = record_for(pod_manifest("web"), context="old-cluster")
    events = status_stream(client, record).rest()
    assert [e.event for e in events] == ["status", "end"]
    assert "There is no context &#x27;old-cluster&#x27; in the kubeconfig." in events[0].data
    assert streams.SLOTS.open == 0


def test_closing_a_stream_stops_the_watch_and_frees_its_slot(client, web):
    before = threading.active_count()
    reader = status_stream(client, web)
    reader.next("status")
    assert streams.SLOTS.open == 1
    reader.close()  # what the WSGI server does when the browser has gone
    assert streams.SLOTS.open == 0
    deadline = time.monotonic() + 5
    while any(t.name.startswith("status-") for t in threading.enumerate()):
        assert time.monotonic() < deadline, [t.name for t in threading.enumerate()]
        time.sleep(0.05)
    assert threading.active_count() <= before + 2  # (keep-alive connection threads of the stand-in)


def test_beyond_the_stream_limit_the_page_is_told_why(client, web, settings):
    settings.PODSTUDIO_MAX_STREAMS = 1
    first = status_stream(client, web)
    try:
        first.next("status")
        refused = status_stream(client, web)
        events = refused.rest()
        assert [e.event for e in events] == ["notice", "end"]
        assert "already serves 1 live streams, its limit" in events[0].data
    finally:
        first.close()
    assert streams.SLOTS.open == 0


# ---------------------------------------------------------------------------
# Logs
# ---------------------------------------------------------------------------


def test_follow_stream_fed_while_the_test_reads_it(client, web, server):
    server.add_log("default", "web", "app", "started")
    reader = log_stream(client, web, container="app", follow="1", tail="10")
    try:
        assert "started</div>" in reader.next("lines").data
        for n in range(3):
            server.add_log("default", "web", "app", f"request {n}")
        seen = ""
        while "request 2" not in seen:
            seen += reader.next("lines").data
        assert seen.index("request 0") < seen.index("request 1") < seen.index("request 2")
    finally:
        reader.close()


def test_script_in_a_followed_line_arrives_escaped(client, web, server):
    server.add_log("default", "web", "app", '<script>document.title="pwned"</script>')
    reader = log_stream(client, web, container="app", follow="1")
    try:
        data = reader.next("lines").data
    finally:
        reader.close()
    assert "<script>" not in data
    assert "&lt;script&gt;document.title=\"pwned\"&lt;/script&gt;" in data


def test_stream_ends_cleanly_when_the_server_side_closes(client, web, server):
    server.add_log("default", "web", "migrate", "migrated")
    reader = log_stream(client, web, container="migrate", follow="1")
    reader.next("lines")
    assert streams.SLOTS.open == 1
    server.end_log("default", "web", "migrate")
    events = reader.rest()
    assert events[-1].event == "end"
    assert "container &#x27;migrate&#x27;" in events[-1].data and "ended" in events[-1].data
    assert reader.ended
    reader.close()
    assert streams.SLOTS.open == 0


def test_lines_carry_an_id_and_a_reconnect_resumes_after_it(client, web, server):
    server.add_log("default", "web", "app", "one", "two")
    reader = log_stream(client, web, container="app", follow="1")
    try:
        batch = reader.next("lines")
    finally:
        reader.close()
    assert batch.id.startswith("app=")
    server.add_log("default", "web", "app", "three")
    response = client.get(f"/deployments/{web.pk}/runtime/logs/stream",
                          {"pod": "web", "container": "app", "follow": "1"}, HTTP_LAST_EVENT_ID=batch.id)
    again = SseReader(response)
    try:
        data = again.next("lines").data
    finally:
        again.close()
    assert "three" in data and "two" not in data


def test_merged_follow_tags_each_line_with_its_container(client, web, server):
    server.add_log("default", "web", "migrate", "m")
    server.add_log("default", "web", "app", "a")
    reader = log_stream(client, web, container="*", follow="1")
    try:
        seen = ""
        while "</span>a</div>" not in seen or "</span>m</div>" not in seen:
            seen += reader.next("lines").data
    finally:
        reader.close()
    assert '<span class="tag tag-0">migrate</span>m</div>' in seen
    assert '<span class="tag tag-1">app</span>a</div>' in seen


def test_following_a_container_that_has_not_started_waits_for_it(client, web, server, monkeypatch):
    monkeypatch.setattr(logfollow, "WAIT_FOR_START_SECONDS", 0.2)
    server.set_pod_status("default", "web", {
        "phase": "Pending", "initContainerStatuses": [container_status("migrate", running())],
        "containerStatuses": [container_status("app", waiting("PodInitializing"))]})
    server.inject("GET", r"/pods/web/log$", status=400, times=1,
                  message='container "app" in pod "web" is waiting to start: PodInitializing')
    reader = log_stream(client, web, container="app", follow="1")
    try:
        notice = reader.next("lines")
        assert "has not started yet (PodInitializing)" in notice.data and 'class="l notice"' in notice.data
        server.add_log("default", "web", "app", "up")
        assert "up</div>" in reader.next("lines", where=lambda e: "up</div>" in e.data).data
    finally:
        reader.close()


def test_beyond_the_stream_limit_a_log_stream_ends_with_the_reason(client, web, settings):
    settings.PODSTUDIO_MAX_STREAMS = 0
    events = log_stream(client, web, container="app", follow="1").rest()
    assert [e.event for e in events] == ["end"]
    assert "its limit" in events[0].data
