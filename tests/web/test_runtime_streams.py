"""The runtime page's SSE streams (Django test client, streamed) against the real local control
plane: Pods moved by the real scheduler and kwok, logs served by kwok (tests/support/realruntime.py);
a lost cluster, and a followed log that the server ends (as a kubelet does when the container stops;
kwok follows a log for as long as the client reads), through the fault-injecting proxy."""

from __future__ import annotations

import threading
import time

import pytest

from composer.cluster import logfollow
from composer.http import sse as streams
from tests.support.realruntime import (
    INIT_FAILS,
    TIMEOUT,
    Cluster,
    append_log,
    cluster_fixture,  # noqa: F401 (the fixture ``cluster``)
    container,
    pod,
)
from tests.support.runtime import SseReader, record_for, record_in

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("quick_streams"),
              pytest.mark.stream_timing(watch_seconds=1)]

HOLD = [{"name": "pod-studio.test/hold"}]  # a scheduling gate: the Pod waits, on no node, until it is removed
WEB_POD = 'Pod <span class="mono">web</span>'  # the heading of Pod web's card in the status region


def release(cluster: Cluster, name: str) -> None:
    """Remove the scheduling gate: the scheduler places the Pod, kwok runs it."""
    cluster.core.patch_namespaced_pod(name, cluster.namespace, [{"op": "remove", "path": "/spec/schedulingGates"}])


@pytest.fixture
def running_web(cluster: Cluster):
    """Pod "web" (init container migrate, container app), running."""
    manifest = cluster.create_pod(pod("web", init=(container("migrate"),)))
    cluster.pod_when(manifest, lambda p: p.phase == "Running" and p.ready)
    return record_in(cluster, manifest)


def open_stream(client, path, **query) -> SseReader:
    response = client.get(path, query)
    assert response.status_code == 200
    return SseReader(response)


def status_stream(client, record) -> SseReader:
    return open_stream(client, f"/deployments/{record.pk}/runtime/status/stream")


def log_stream(client, record, **query) -> SseReader:
    return open_stream(client, f"/deployments/{record.pk}/runtime/logs/stream", pod="web", **query)


def lines_until(reader: SseReader, *texts: str, timeout: float = 10.0) -> str:
    """The data of ``lines`` events, joined, up to the first by which every one of ``texts`` came."""
    seen = ""
    deadline = time.monotonic() + timeout
    while not all(text in seen for text in texts):
        seen += reader.next("lines", timeout=max(deadline - time.monotonic(), 0.1)).data + "\n"
    return seen


# ---------------------------------------------------------------------------
# Status
# ---------------------------------------------------------------------------


def test_a_status_change_in_the_cluster_reaches_an_open_stream(client, cluster: Cluster):
    manifest = cluster.create_pod(pod(
        "web",
        labels={INIT_FAILS: "true"},
        annotations={f"{INIT_FAILS}/exit-code": "3"},
        init=(container("migrate"),),
        restartPolicy="Never",
        schedulingGates=HOLD,
    ))
    cluster.pod_when(manifest, lambda p: any(c.reason == "SchedulingGated" for c in p.conditions))
    reader = status_stream(client, record_in(cluster, manifest))
    try:
        first = reader.next("status")
        assert "SchedulingGated" in first.data and "Pod failed" not in first.data  # as kubectl shows it
        release(cluster, "web")  # the scheduler places it, kwok fails its init container
        update = reader.next("status", where=lambda e: "Init:initContainerError" in e.data, timeout=TIMEOUT)
        assert "Pod failed:" in update.data  # restartPolicy Never: nothing restarts it
        assert "failed with exit code 3 (initContainerError)" in update.data
    finally:
        reader.close()


def test_status_stream_says_when_the_cluster_is_lost_and_recovers(client, cluster: Cluster, fault_proxy, monkeypatch):
    manifest = cluster.create_pod(pod("web"))
    monkeypatch.setenv("KUBECONFIG", str(fault_proxy.kubeconfig))
    reader = status_stream(client, record_for(manifest, context="faulty", namespace=cluster.namespace))
    try:
        reader.next("status", where=lambda e: WEB_POD in e.data)
        fault_proxy.inject(None, r"/(pods|events)$", drop=True, times=None)
        lost = reader.next("status", where=lambda e: "The cluster cannot be reached." in e.data)
        assert "Showing the last known state." in lost.data
        assert WEB_POD in lost.data  # the last known Pod stays on the page
        assert fault_proxy.token not in lost.data
        fault_proxy.clear_faults()
        reader.next("status", where=lambda e: "cannot be reached" not in e.data)
    finally:
        reader.close()


def test_status_stream_for_a_context_gone_from_the_kubeconfig_says_so_and_ends(client, cluster: Cluster):
    record = record_for(pod("web"), context="old-cluster", namespace=cluster.namespace)
    events = status_stream(client, record).rest()
    assert [e.event for e in events] == ["status", "end"]
    assert "There is no context &#x27;old-cluster&#x27; in the kubeconfig." in events[0].data
    assert streams.SLOTS.open == 0


def watch_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("status-")]


def test_closing_a_stream_stops_the_watch_and_frees_its_slot(client, running_web):
    before = threading.active_count()
    reader = status_stream(client, running_web)
    reader.next("status")
    assert streams.SLOTS.open == 1 and watch_threads()
    reader.close()  # what the WSGI server does when the browser has gone
    assert streams.SLOTS.open == 0
    deadline = time.monotonic() + 5
    while watch_threads():
        assert time.monotonic() < deadline, watch_threads()
        time.sleep(0.05)
    assert threading.active_count() <= before


def test_beyond_the_stream_limit_the_page_is_told_why(client, running_web, settings):
    settings.PODSTUDIO_MAX_STREAMS = 1
    first = status_stream(client, running_web)
    try:
        first.next("status")
        refused = status_stream(client, running_web)
        events = refused.rest()
        assert [e.event for e in events] == ["notice", "end"]
        assert "already serves 1 live streams, its limit" in events[0].data
    finally:
        first.close()
    assert streams.SLOTS.open == 0


# ---------------------------------------------------------------------------
# Logs
# ---------------------------------------------------------------------------


def test_follow_stream_fed_while_the_test_reads_it(client, running_web, cluster: Cluster):
    files = cluster.set_logs("web", {"app": ["started"]})
    reader = log_stream(client, running_web, container="app", follow="1", tail="10")
    try:
        assert "started</div>" in reader.next("lines").data
        seen = ""
        for n in range(3):  # one at a time, each read before the next is written
            append_log(files["app"], f"request {n}")
            seen += lines_until(reader, f"request {n}</div>")
        assert seen.index("request 0") < seen.index("request 1") < seen.index("request 2")
        assert seen.count("request 0") == 1
    finally:
        reader.close()


def test_script_in_a_followed_line_arrives_escaped(client, running_web, cluster: Cluster):
    cluster.set_logs("web", {"app": ['<script>document.title="pwned"</script>']})
    reader = log_stream(client, running_web, container="app", follow="1")
    try:
        data = reader.next("lines").data
    finally:
        reader.close()
    assert "<script>" not in data
    assert "&lt;script&gt;document.title=\"pwned\"&lt;/script&gt;" in data


def test_stream_ends_cleanly_when_the_server_side_closes(client, cluster: Cluster, fault_proxy, monkeypatch):
    """kwok follows a log for as long as the client reads; a kubelet ends it when the container stops:
    the proxy ends it the same way (the last chunk)."""
    manifest = cluster.create_pod(pod("web", init=(container("migrate"),)))
    cluster.pod_when(manifest, lambda p: p.phase == "Running")
    cluster.set_logs("web", {"migrate": ["migrated"], "app": ["serving"]})
    monkeypatch.setenv("KUBECONFIG", str(fault_proxy.kubeconfig))
    record = record_for(manifest, context="faulty", namespace=cluster.namespace)
    reader = log_stream(client, record, container="migrate", follow="1")
    assert "migrated" in reader.next("lines").data
    assert streams.SLOTS.open == 1
    assert fault_proxy.end_streams(r"/pods/web/log\?.*container=migrate") == 1
    events = reader.rest()
    assert events[-1].event == "end"
    assert "container &#x27;migrate&#x27;" in events[-1].data and "ended" in events[-1].data
    assert reader.ended
    reader.close()
    assert streams.SLOTS.open == 0


def test_lines_carry_an_id_and_a_reconnect_resumes_after_it(client, running_web, cluster: Cluster):
    files = cluster.set_logs("web", {"app": ["one", "two"]})
    reader = log_stream(client, running_web, container="app", follow="1")
    try:
        batch = reader.next("lines")
    finally:
        reader.close()
    assert batch.id.startswith("app=") and "two</div>" in batch.data
    append_log(files["app"], "three")
    response = client.get(f"/deployments/{running_web.pk}/runtime/logs/stream",
                          {"pod": "web", "container": "app", "follow": "1"}, HTTP_LAST_EVENT_ID=batch.id)
    again = SseReader(response)
    try:
        data = again.next("lines").data
    finally:
        again.close()
    assert "three" in data and "two" not in data and "one" not in data


def test_merged_follow_tags_each_line_with_its_container(client, running_web, cluster: Cluster):
    cluster.set_logs("web", {"migrate": ["m"], "app": ["a"]})
    reader = log_stream(client, running_web, container="*", follow="1")
    try:
        seen = lines_until(reader, "</span>a</div>", "</span>m</div>")
    finally:
        reader.close()
    assert '<span class="tag tag-0">migrate</span>m</div>' in seen
    assert '<span class="tag tag-1">app</span>a</div>' in seen


def test_following_a_container_that_has_not_started_waits_for_it(client, cluster: Cluster, monkeypatch):
    monkeypatch.setattr(logfollow, "WAIT_FOR_START_SECONDS", 0.2)
    manifest = cluster.create_pod(pod("web", schedulingGates=HOLD))
    cluster.pod_when(manifest, lambda p: any(c.reason == "SchedulingGated" for c in p.conditions))
    cluster.set_logs("web", {"app": ["up"]})
    reader = log_stream(client, record_in(cluster, manifest), container="app", follow="1")
    try:
        notice = reader.next("lines")
        assert "has not started yet (Pod &#x27;web&#x27; is not on a node yet)" in notice.data
        assert 'class="l notice"' in notice.data
        release(cluster, "web")
        started = lines_until(reader, "up</div>", timeout=TIMEOUT)
        assert "Container &#x27;app&#x27; started." in started
    finally:
        reader.close()


def test_beyond_the_stream_limit_a_log_stream_ends_with_the_reason(client, running_web, settings):
    settings.PODSTUDIO_MAX_STREAMS = 0
    events = log_stream(client, running_web, container="app", follow="1").rest()
    assert [e.event for e in events] == ["end"]
    assert "its limit" in events[0].data
