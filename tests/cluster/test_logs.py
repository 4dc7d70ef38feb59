"""Container logs against the real local control plane: kwok serves each container's log file as a
kubelet would, the API server relays it. Through the fault-injecting proxy (``proxied_target``) where
a test looks at the requests, ends a followed stream as a kubelet does when the container stops, or
hears a kubelet's "waiting to start" (kwok serves a waiting container's file instead).

tests/cluster_real/test_runtime_real.py has the rest: previous instances and their absence, unknown
containers, the merged view's order, a Pod without a node (204), reconnecting across an API server
restart, and closing a follower.
"""

from __future__ import annotations

import datetime as dt
import time

import pytest
from kubernetes import client

from composer.cluster import logfollow, logs
from composer.cluster.errors import ClusterError
from composer.cluster.logs import LogRequest, timestamp_key
from tests.support.controlplane import cri_log_lines
from tests.support.faultproxy import wait_for
from tests.support.logreading import drain, texts
from tests.support.manifests import container, pod
from tests.support.realruntime import append_log, write_log

FOLLOWED = r"/pods/web/log\?.*container={}\b"


@pytest.fixture
def web_pod(control_plane, real_target):
    """Pod "web", Running on kwok's node: init container "migrate", native sidecar "log-shipper", "app".
    Returns a function that serves log lines for its containers (container -> lines): their files."""
    manifest = pod("web", init=[container("migrate"), container("log-shipper", restartPolicy="Always")])
    core = client.CoreV1Api(real_target.admin)
    core.create_namespaced_pod(real_target.namespace, manifest)
    wait_for(lambda: core.read_namespaced_pod("web", real_target.namespace).status.phase == "Running", timeout=60)

    def serve(lines: dict[str, list[str]]):
        return control_plane.set_pod_logs(real_target.namespace, "web", lines)

    return serve


def at(seconds: float) -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(minutes=1) + dt.timedelta(seconds=seconds)


def test_tail_of_an_init_container_with_timestamps(proxied_target, web_pod):
    web_pod({"migrate": [f"step {n}" for n in range(10)]})
    lines = logs.fetch(proxied_target.context, proxied_target.namespace, LogRequest("web", "migrate", tail=3))
    assert texts(lines) == ["step 7", "step 8", "step 9"]
    assert all(line.container == "migrate" and line.timestamp.endswith("Z") for line in lines)
    sent = proxied_target.proxy.requests_matching("GET", r"/pods/web/log$")[-1]
    assert (sent.param("container"), sent.param("tailLines"), sent.param("timestamps")) == ("migrate", "3", "true")


def test_a_missing_pod_is_not_found(real_target):
    with pytest.raises(ClusterError) as gone:
        logs.fetch(real_target.context, real_target.namespace, LogRequest("gone", "app"))
    assert gone.value.kind == "not_found"
    assert "'gone'" in gone.value.message


def test_raw_log_relays_the_bytes_as_sent(real_target, web_pod):
    web_pod({"app": ["plain \x1b[1mbold\x1b[0m", "<b>as is</b>"]})
    raw = logs.raw_log(real_target.context, real_target.namespace, LogRequest("web", "app", tail=None,
                                                                              timestamps=False))
    try:
        assert b"".join(raw) == b"plain \x1b[1mbold\x1b[0m\n<b>as is</b>\n"
    finally:
        raw.close()


def test_the_merged_view_keeps_only_the_newest_lines_of_all_containers(real_target, web_pod):
    files = web_pod({"migrate": ["m1", "m2"], "log-shipper": ["s1"], "app": ["a1"]})
    write_log(files["migrate"], [(at(0), "m1"), (at(3), "m2")])
    write_log(files["log-shipper"], [(at(1), "s1")])
    write_log(files["app"], [(at(2), "a1")])
    lines, notes = logs.fetch_merged(real_target.context, real_target.namespace, "web", ["migrate", "app"],
                                     tail=10, keep=2)
    assert [(line.container, line.text) for line in lines] == [("app", "a1"), ("migrate", "m2")]
    assert notes == []


def test_timestamp_key_orders_fractions_of_any_length():
    assert timestamp_key("2026-01-01T10:00:00.5Z") > timestamp_key("2026-01-01T10:00:00.123456789Z")
    assert timestamp_key("2026-01-01T10:00:01Z") > timestamp_key("2026-01-01T10:00:00.999Z")


# ---------------------------------------------------------------------------
# Follow
# ---------------------------------------------------------------------------


def test_follow_is_fed_while_it_is_read_and_ends_when_the_container_stops(proxied_target, web_pod):
    t = proxied_target
    files = web_pod({"app": ["before 1", "before 2"]})
    follower = logfollow.follow(t.context, t.namespace, "web", ["app"], tail=1)
    try:
        lines, _, _ = drain(follower, lambda lines, _n, _b: len(lines) >= 1)
        assert texts(lines) == ["before 2"]  # the tail, then what comes
        append_log(files["app"], "live 1", "live 2")
        more, _, _ = drain(follower, lambda lines, _n, _b: len(lines) >= 2)
        assert texts(more) == ["live 1", "live 2"]
        assert t.proxy.end_streams(FOLLOWED.format("app")) == 1  # what a kubelet does when the container stops
        _, notices, batches = drain(follower, lambda _l, _n, batch: batch.finished)
        assert [name for b in batches for name in b.ended] == ["app"]
        assert notices == []  # an end, not a lost connection: no reconnecting
    finally:
        follower.close()
    assert len(t.proxy.requests_matching("GET", r"/pods/web/log$")) == 1


def test_follow_batches_many_lines_and_bounds_each_batch(real_target, web_pod):
    files = web_pod({"app": []})
    follower = logfollow.follow(real_target.context, real_target.namespace, "web", ["app"], tail=None,
                                batch_lines=500)
    try:
        append_log(files["app"], *[f"line {n}" for n in range(3000)])
        lines, _, batches = drain(follower, lambda lines, _n, _b: len(lines) >= 3000)
    finally:
        follower.close()
    assert texts(lines) == [f"line {n}" for n in range(3000)]
    sizes = [len(b.lines) for b in batches if b.lines]
    assert max(sizes) <= 500 + 1000  # at most one queued chunk beyond the bound
    assert len(sizes) < 3000 / 10, "lines are handed out in batches, not one by one"


def test_merged_follow_tags_lines_and_waits_for_a_container_to_start(proxied_target, web_pod, monkeypatch):
    t = proxied_target
    monkeypatch.setattr(logfollow, "WAIT_FOR_START_SECONDS", 0.2)
    files = web_pod({"migrate": ["migrating"], "app": []})
    # Both first requests (their order is up to the threads) hear "waiting to start", as a kubelet says it.
    t.proxy.inject("GET", r"/pods/web/log$", status=400, times=2,
                   message='container "app" in pod "web" is waiting to start: PodInitializing')
    follower = logfollow.follow(t.context, t.namespace, "web", ["migrate", "app"], tail=10)
    try:
        lines, notices, _ = drain(follower, lambda lines, _n, _b: lines)
        assert [(line.container, line.text) for line in lines] == [("migrate", "migrating")]
        wait_for(lambda: t.proxy.end_streams(FOLLOWED.format("migrate")), timeout=5)
        _, more_notices, batches = drain(follower, lambda _l, _n, batch: "migrate" in batch.ended)
        notices += more_notices
        assert any("Container 'app' has not started yet (PodInitializing)" in n for n in notices), notices
        append_log(files["app"], "serving")
        lines, _, _ = drain(follower, lambda lines, _n, _b: lines)
        assert [(line.container, line.text) for line in lines] == [("app", "serving")]
    finally:
        follower.close()


def test_follow_resumes_after_a_position(real_target, web_pod):
    t = real_target
    files = web_pod({"app": ["old 1", "old 2"]})
    seen = logs.fetch(t.context, t.namespace, LogRequest("web", "app"))
    append_log(files["app"], "new 1")
    follower = logfollow.follow(t.context, t.namespace, "web", ["app"], tail=500, since={"app": seen[-1].timestamp})
    try:
        lines, _, _ = drain(follower, lambda lines, _n, _b: lines)
        assert follower.next_batch(0.5) is None  # nothing more: not the old lines again
    finally:
        follower.close()
    assert texts(lines) == ["new 1"]


def test_a_slow_reader_gets_every_line_while_the_queue_stays_bounded(real_target, web_pod):
    files = web_pod({"app": []})
    follower = logfollow.follow(real_target.context, real_target.namespace, "web", ["app"], tail=None,
                                queue_size=4, batch_lines=200)
    try:
        with files["app"].open("a") as log:
            for chunk in range(40):
                log.write(cri_log_lines([f"{chunk}-{n} " + "x" * 100 for n in range(500)]))
        received, most_queued = [], 0
        while len(received) < 40 * 500:
            batch = follower.next_batch(10)
            assert batch is not None, f"the stream stalled after {len(received)} lines"
            received.extend(line.text.split(" ")[0] for line in batch.lines)
            most_queued = max(most_queued, follower._queue.qsize())
            time.sleep(0.002)  # a reader slower than the cluster: the stream waits for it
    finally:
        follower.close()
    assert received == [f"{chunk}-{n}" for chunk in range(40) for n in range(500)]
    assert most_queued <= 4
