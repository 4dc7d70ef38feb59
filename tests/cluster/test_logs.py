"""Container logs against the stand-in API server through a kubeconfig with the real kubernetes client:
tail, previous instance, init containers, merged view, raw relay, follow in batches."""

from __future__ import annotations

import time

import pytest

from composer.cluster import logfollow, logs
from composer.cluster.errors import ClusterError
from composer.cluster.logs import LogRequest, timestamp_key
from tests.support.runtime import pod_manifest


@pytest.fixture
def web_pod(server):
    """Pod "web" on the stand-in: init container "migrate", native sidecar "log-shipper", "app"."""
    server.put_object(pod_manifest("web", init=("migrate",), sidecars=("log-shipper",)))


def texts(lines):
    return [line.text for line in lines]


def test_tail_of_an_init_container_with_timestamps(server, web_pod):
    server.add_log("default", "web", "migrate", *[f"step {n}" for n in range(10)])
    lines = logs.fetch("stand-in", "default", LogRequest("web", "migrate", tail=3))
    assert texts(lines) == ["step 7", "step 8", "step 9"]
    assert all(line.container == "migrate" and line.timestamp.endswith("Z") for line in lines)
    sent = server.requests_matching("GET", r"/pods/web/log$")[-1]
    assert (sent.param("container"), sent.param("tailLines"), sent.param("timestamps")) == ("migrate", "3", "true")


def test_previous_instance_and_its_absence(server, web_pod):
    server.add_log("default", "web", "app", "second run")
    server.add_log("default", "web", "app", "first run crashed", previous=True)
    assert texts(logs.fetch("stand-in", "default", LogRequest("web", "app", previous=True))) == ["first run crashed"]
    with pytest.raises(ClusterError) as missing:
        logs.fetch("stand-in", "default", LogRequest("web", "migrate", previous=True))
    assert missing.value.message == "Container 'migrate' has no previous instance: it has not restarted."


def test_unknown_container_and_missing_pod_are_explained(server, web_pod):
    with pytest.raises(ClusterError, match="Pod 'web' has no container 'nope'"):
        logs.fetch("stand-in", "default", LogRequest("web", "nope"))
    with pytest.raises(ClusterError) as gone:
        logs.fetch("stand-in", "default", LogRequest("gone", "app"))
    assert gone.value.kind == "not_found"


def test_raw_log_relays_the_bytes_as_sent(server, web_pod):
    server.add_log("default", "web", "app", "plain \x1b[1mbold\x1b[0m", "<b>as is</b>")
    raw = logs.raw_log("stand-in", "default", LogRequest("web", "app", tail=None, timestamps=False))
    try:
        assert b"".join(raw) == b"plain \x1b[1mbold\x1b[0m\n<b>as is</b>\n"
    finally:
        raw.close()


def test_merged_view_orders_every_container_by_time(server, web_pod):
    server.add_log("default", "web", "migrate", "m1")
    server.add_log("default", "web", "log-shipper", "s1")
    server.add_log("default", "web", "app", "a1")
    server.add_log("default", "web", "migrate", "m2")
    lines, notes = logs.fetch_merged("stand-in", "default", "web", ["migrate", "log-shipper", "app"], tail=10)
    assert [(line.container, line.text) for line in lines] == [
        ("migrate", "m1"), ("log-shipper", "s1"), ("app", "a1"), ("migrate", "m2")]
    assert notes == []
    lines, _ = logs.fetch_merged("stand-in", "default", "web", ["migrate", "app"], tail=10, keep=2)
    assert texts(lines) == ["a1", "m2"]


def test_timestamp_key_orders_fractions_of_any_length():
    assert timestamp_key("2026-01-01T10:00:00.5Z") > timestamp_key("2026-01-01T10:00:00.123456789Z")
    assert timestamp_key("2026-01-01T10:00:01Z") > timestamp_key("2026-01-01T10:00:00.999Z")


# ---------------------------------------------------------------------------
# Follow
# ---------------------------------------------------------------------------


def drain(follower, until, timeout=10.0):
    """Batches until ``until(lines so far, last batch)`` holds."""
    lines, batches = [], []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        batch = follower.next_batch(0.5)
        if batch is None:
            continue
        batches.append(batch)
        lines.extend(batch.lines)
        if until(lines, batch):
            return lines, batches
    raise AssertionError(f"gave up after {timeout} s with {len(lines)} lines: {texts(lines)[-5:]}")


def test_follow_is_fed_while_it_is_read_and_ends_when_the_container_stops(server, web_pod):
    server.add_log("default", "web", "app", "before 1", "before 2")
    follower = logfollow.follow("stand-in", "default", "web", ["app"], tail=1)
    try:
        lines, _ = drain(follower, lambda lines, _: len(lines) >= 1)
        assert texts(lines) == ["before 2"]  # the tail, then what comes
        server.add_log("default", "web", "app", "live 1")
        server.add_log("default", "web", "app", "live 2")
        more, _ = drain(follower, lambda lines, _: len(lines) >= 2)
        assert texts(more) == ["live 1", "live 2"]
        server.end_log("default", "web", "app")
        _, batches = drain(follower, lambda _, batch: batch.finished)
        assert batches[-1].ended == ["app"]
    finally:
        follower.close()


def test_follow_batches_many_lines_and_bounds_each_batch(server, web_pod):
    follower = logfollow.follow("stand-in", "default", "web", ["app"], tail=0, batch_lines=500)
    try:
        time.sleep(0.3)
        server.add_log("default", "web", "app", *[f"line {n}" for n in range(3000)])
        server.end_log("default", "web", "app")
        lines, batches = drain(follower, lambda _, batch: batch.finished)
    finally:
        follower.close()
    assert texts(lines) == [f"line {n}" for n in range(3000)]
    sizes = [len(b.lines) for b in batches if b.lines]
    assert max(sizes) <= 500 + 1000  # at most one queued chunk beyond the bound
    assert len(sizes) < 3000 / 10, "lines are handed out in batches, not one by one"


def test_merged_follow_tags_lines_and_waits_for_a_container_to_start(server, web_pod, monkeypatch):
    monkeypatch.setattr(logfollow, "WAIT_FOR_START_SECONDS", 0.2)
    server.set_pod_status("default", "web", {"phase": "Pending"})
    # Both first requests (their order is up to the threads) hear "waiting to start", as from a kubelet.
    server.inject("GET", r"/pods/web/log$", status=400, times=2,
                  message='container "app" in pod "web" is waiting to start: PodInitializing')
    follower = logfollow.follow("stand-in", "default", "web", ["migrate", "app"], tail=10)
    try:
        server.add_log("default", "web", "migrate", "migrating")
        server.end_log("default", "web", "migrate")
        lines, batches = drain(follower, lambda _, batch: "migrate" in batch.ended)
        assert [(line.container, line.text) for line in lines] == [("migrate", "migrating")]
        notices = [n for b in batches for n in b.notices]
        assert any("Container 'app' has not started yet (PodInitializing)" in n for n in notices), notices
        server.add_log("default", "web", "app", "serving")
        lines, batches = drain(follower, lambda lines, _: len(lines) >= 1)
        assert [(line.container, line.text) for line in lines] == [("app", "serving")]
    finally:
        follower.close()


def test_follow_reconnects_after_a_dropped_stream_without_repeating_lines(server, web_pod):
    server.add_log("default", "web", "app", "one", "two")
    follower = logfollow.follow("stand-in", "default", "web", ["app"], tail=10, backoff_max=0.2)
    try:
        first, _ = drain(follower, lambda lines, _: len(lines) >= 2)
        # Cut the live connection from the server side (as a proxy or a restarted API server would).
        server.inject("GET", r"/pods/web/log$", drop=True, times=1)
        server._httpd.close_connections()
        time.sleep(0.5)
        server.add_log("default", "web", "app", "three")
        rest, batches = drain(follower, lambda lines, _: len(lines) >= 1)
    finally:
        follower.close()
    assert texts(first) == ["one", "two"]
    assert texts(rest) == ["three"]
    notices = [n for b in batches for n in b.notices]
    assert any("Reconnecting" in n for n in notices) and any("Reconnected" in n for n in notices), notices
    resumed = server.requests_matching("GET", r"/pods/web/log$")[-1]
    assert resumed.param("sinceTime") and resumed.param("tailLines") is None


def test_follow_resumes_after_a_position(server, web_pod):
    server.add_log("default", "web", "app", "old 1", "old 2")
    seen = logs.fetch("stand-in", "default", LogRequest("web", "app"))
    server.add_log("default", "web", "app", "new 1")
    follower = logfollow.follow("stand-in", "default", "web", ["app"], tail=500, since={"app": seen[-1].timestamp})
    try:
        lines, _ = drain(follower, lambda lines, _: len(lines) >= 1)
        time.sleep(0.2)
        assert follower.next_batch(0.2) is None
    finally:
        follower.close()
    assert texts(lines) == ["new 1"]


def test_close_stops_every_thread_even_while_blocked(server, web_pod):
    follower = logfollow.follow("stand-in", "default", "web", ["migrate", "log-shipper", "app"], tail=0)
    time.sleep(0.3)
    started = time.monotonic()
    follower.close()
    for thread in follower._threads:
        thread.join(3)
        assert not thread.is_alive()
    assert time.monotonic() - started < 3


def test_a_slow_reader_gets_every_line_while_the_queue_stays_bounded(server, web_pod):
    follower = logfollow.follow("stand-in", "default", "web", ["app"], tail=0, queue_size=4, batch_lines=200)
    try:
        time.sleep(0.2)
        for chunk in range(40):
            server.add_log("default", "web", "app", *[f"{chunk}-{n} " + "x" * 100 for n in range(500)])
        server.end_log("default", "web", "app")
        received, most_queued = [], 0
        while True:
            batch = follower.next_batch(5)
            assert batch is not None, "the stream stalled"
            received.extend(line.text.split(" ")[0] for line in batch.lines)
            most_queued = max(most_queued, follower._queue.qsize())
            if batch.finished:
                break
            time.sleep(0.002)  # a reader slower than the cluster: the stream waits for it
    finally:
        follower.close()
    assert received == [f"{chunk}-{n}" for chunk in range(40) for n in range(500)]
    assert most_queued <= 4
