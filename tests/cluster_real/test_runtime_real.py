"""Pod Studio's runtime code against the real local control plane (tests/support/controlplane.py):
the status feed and its watches (composer.cluster.feed / watch), the diagnosis of Pods that do not
come up (pods.diagnose) and container logs (logs.fetch / fetch_merged, logfollow.follow), with
Pods that the real scheduler, controllers and kwok (as the kubelet) walk through their states.

Here: Pods moved by real controllers and kwok's stages, Events written by the scheduler and kwok,
watches cut by an API server restart, 410 Gone after an etcd compaction, real RBAC, the API
server's own answers about logs (204 for a Pod without a node, a kubelet's 400 relayed).
tests/cluster/test_status.py and tests/cluster/test_logs.py cover the same code on the same
control plane with faults from the fault-injecting proxy.
"""

from __future__ import annotations

import datetime as dt
import secrets
import threading
import time
from collections.abc import Callable, Iterator

import pytest
from kubernetes import client

from composer.cluster import logfollow, logs
from composer.cluster.errors import ClusterError
from composer.cluster.feed import StatusFeed, StatusSnapshot, Workload, pod_statuses
from composer.cluster.logs import LogRequest
from composer.cluster.pods import PodStatus, diagnose
from composer.cluster.watch import Watch, WatchSettings, _Expired
from tests.support.controlplane import ControlPlane, cri_log_lines
from tests.support.controlplane_fixtures import wait_for_default_service_account
from tests.support.logreading import drain, texts
from tests.support.realruntime import (
    CRASH_LOOP,
    IMAGE_PULL_FAILS,
    INIT_FAILS,
    INIT_STEP,
    INIT_WITH_SIDECAR,
    TIMEOUT,
    Cluster,
    cluster_fixture,  # noqa: F401 (the fixture ``cluster``)
    container,
    deployment,
    pod,
    write_log,
)

# The server ends each watch after 2 s and the feed re-watches from its last resourceVersion;
# after a failure it retries within a second.
FAST = WatchSettings(watch_seconds=2, read_grace=3, backoff_first=0.2, backoff_max=1.0)


# ---------------------------------------------------------------------------
# Fixtures and helpers
# ---------------------------------------------------------------------------


@pytest.fixture
def uncached(control_plane_uncached: ControlPlane, monkeypatch) -> Iterator[Cluster]:
    """The control plane without watch cache (restarts resume from etcd, compaction gives 410)."""
    cp = control_plane_uncached
    monkeypatch.setenv("KUBECONFIG", str(cp.kubeconfig))
    api = cp.api_client()
    core = client.CoreV1Api(api)
    namespace = f"t-{secrets.token_hex(4)}"
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=namespace)))
    try:
        wait_for_default_service_account(api, namespace)
        yield Cluster(cp, api, namespace)
    finally:
        core.delete_namespace(namespace, propagation_policy="Background")
        api.close()


def snapshots_until(
    feed: StatusFeed, done: Callable[[StatusSnapshot], bool], timeout: float = TIMEOUT
) -> list[StatusSnapshot]:
    """The feed's snapshots, in order, up to the first for which ``done`` holds."""
    seen: list[StatusSnapshot] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        snapshot = feed.next_snapshot(0.5)
        if snapshot is None:
            continue
        seen.append(snapshot)
        if done(snapshot):
            return seen
    last = seen[-1] if seen else None
    raise AssertionError(f"the feed did not get there in {timeout} s; last: {last}")


def running_ready(count: int) -> Callable[[StatusSnapshot], bool]:
    return lambda s: len(s.pods) == count and all(p.phase == "Running" and p.ready for p in s.pods) and not s.problem


# ---------------------------------------------------------------------------
# 1. The feed of a Deployment's Pod: init containers in order, a native sidecar, Running
# ---------------------------------------------------------------------------


def _states(pod_status: PodStatus) -> tuple[str, ...]:
    return tuple(c.summary for c in pod_status.all_containers)


def test_feed_follows_a_deployment_pod_through_its_init_containers_in_order_to_running(cluster):
    # Each init step slowed to 0.6-0.7 s, so that the feed hands out every step as its own picture.
    slow = {f"{INIT_STEP}/delay": "600ms", f"{INIT_STEP}/jitter-delay": "700ms"}
    manifest = deployment("web", annotations=slow, init=INIT_WITH_SIDECAR)
    feed = StatusFeed(cluster.context, Workload.from_manifest(manifest, cluster.namespace), settings=FAST).start()
    try:
        first = feed.next_snapshot(10)
        assert first is not None and first.pods == () and first.problem is None  # nothing deployed yet
        cluster.create_deployment(manifest)
        seen = snapshots_until(feed, running_ready(1))
    finally:
        feed.close()

    pods = [s.pods[0] for s in seen if s.pods]
    assert {p.name for p in pods} == {pods[-1].name}  # one Pod all along, made by the ReplicaSet
    assert pods[-1].owner.startswith("ReplicaSet web-")
    steps = []  # the distinct pictures of (wait-db, proxy, migrate, app), with the page's status
    for p in pods:
        if not steps or steps[-1][1] != _states(p):
            steps.append((p.status, _states(p)))
    done, sidecar = "exited: exit code 0 (Completed)", "running"
    milestones = [
        ("Init:0/3", ("running", "waiting: PodInitializing", "waiting: PodInitializing", "waiting: PodInitializing")),
        ("Init:1/3", (done, "waiting: PodInitializing", "waiting: PodInitializing", "waiting: PodInitializing")),
        ("Init:2/3", (done, sidecar, "waiting: PodInitializing", "waiting: PodInitializing")),
        ("Init:2/3", (done, sidecar, "running", "waiting: PodInitializing")),  # the sidecar runs beside it
        ("Running", (done, sidecar, done, "running")),
    ]
    assert [step for step in steps if step in milestones] == milestones, steps
    for _status, (wait_db, proxy, migrate, app) in steps:  # never out of order, the sidecar never stops
        assert wait_db == done or migrate.startswith(("waiting", "not started")), steps
        assert proxy in ("running", "waiting: PodInitializing", "not started"), steps
        assert app.startswith(("running", "waiting", "not started")), steps
    final = pods[-1]
    assert (final.init_progress, final.status) == ("Init 3/3", "Running")
    assert [c.name for c in final.long_running] == ["proxy", "app"]
    assert final.container("proxy").state == "running" and final.container("proxy").ready
    assert final.default_container().name == "app"
    assert seen[-1].blockers == []
    # The scheduler's Event (events.k8s.io: eventTime, no count nor lastTimestamp) came through the
    # Events watch, with its time and words.
    scheduled = next(e for e in final.events if e.reason == "Scheduled")
    assert scheduled.message == f"Successfully assigned {cluster.namespace}/{final.name} to localhost"
    assert scheduled.last_seen is not None and scheduled.count == 1


# ---------------------------------------------------------------------------
# 2. Watches across an API server restart and an etcd compaction (410 Gone)
# ---------------------------------------------------------------------------


class Recording:
    """A feed's snapshots, read in a thread while the test does something that blocks (a restart:
    it must run in the test's own thread, for the new API server gets SIGTERM when the thread that
    started it ends, through PR_SET_PDEATHSIG)."""

    def __init__(self, feed: StatusFeed) -> None:
        self.feed, self.snapshots = feed, []
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self) -> None:
        while not self.feed.closed:
            if (snapshot := self.feed.next_snapshot(0.5)) is not None:
                self.snapshots.append(snapshot)

    def first(self, done: Callable[[StatusSnapshot], bool], after: int = 0, timeout: float = TIMEOUT):
        """(index, snapshot) of the first snapshot from ``after`` on for which ``done`` holds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for index in range(after, len(self.snapshots)):
                if done(self.snapshots[index]):
                    return index, self.snapshots[index]
            time.sleep(0.05)
        raise AssertionError(f"no such snapshot in {timeout} s; last: {self.snapshots[-1:]}")


def test_feed_reports_an_api_server_restart_as_the_page_shows_it_then_resumes(uncached):
    from composer.web.runtime.views import PROBLEM_TITLES

    manifest = uncached.create_deployment(deployment("web"))
    feed = StatusFeed(uncached.context, Workload.from_manifest(manifest, uncached.namespace), settings=FAST).start()
    try:
        recording = Recording(feed)
        at, before = recording.first(running_ready(1))
        uncached.cp.restart_apiserver(downtime=1.0)
        at, outage = recording.first(lambda s: s.problem is not None, after=at)
        at, back = recording.first(lambda s: s.problem is None, after=at)
        uncached.apps.patch_namespaced_deployment_scale("web", uncached.namespace, {"spec": {"replicas": 2}})
        _, later = recording.first(running_ready(2), after=at)
    finally:
        feed.close()

    # The page: "The cluster cannot be reached. <message> Showing the last known state. Trying again by itself."
    assert outage.problem.kind == "unreachable"
    assert PROBLEM_TITLES[outage.problem.kind] == "The cluster cannot be reached."
    assert outage.problem.message.startswith(f"The cluster at context '{uncached.context}' ({uncached.cp.server})")
    assert outage.problem.message.endswith(
        ("closed the connection without answering.", "could not be reached: the connection was refused.")
    )
    assert [p.name for p in outage.pods] == [p.name for p in before.pods]  # the last known state stays
    assert [p.name for p in back.pods] == [p.name for p in before.pods]
    assert before.pods[0].name in {p.name for p in later.pods}  # the change after the restart is seen


def test_feed_relists_after_410_gone_when_etcd_history_is_compacted(uncached, monkeypatch):
    expired: list[str] = []
    handle = Watch._handle

    def recording(self, line, version):  # which watch heard 410 Gone
        try:
            return (yield from handle(self, line, version))
        except _Expired:
            expired.append(self.path)
            raise

    monkeypatch.setattr(Watch, "_handle", recording)
    manifest = uncached.create_deployment(deployment("web"))
    workload = Workload.from_manifest(manifest, uncached.namespace)
    # The server ends each watch after 1 s: the feed re-watches from the last resourceVersion it saw.
    settings = WatchSettings(watch_seconds=1, read_grace=3, backoff_first=0.2, backoff_max=1.0)
    feed = StatusFeed(uncached.context, workload, settings=settings).start()
    try:
        before = snapshots_until(feed, running_ready(1))[-1]
        time.sleep(1.5)  # the rollout's last changes are behind us: the Pods' watch goes quiet
        # Writes the Pods' watch does not see move etcd on; the compaction then drops the history
        # after the last resourceVersion the feed saw, so that its next watch is 410 Gone.
        for n in range(3):
            uncached.core.create_namespaced_config_map(
                uncached.namespace, client.V1ConfigMap(metadata=client.V1ObjectMeta(name=f"bump-{n}"))
            )
        uncached.cp.compact_etcd()
        deadline = time.monotonic() + 10
        while workload.pods_path not in expired:
            assert time.monotonic() < deadline, "the Pods' watch never heard 410 Gone"
            time.sleep(0.1)
        uncached.apps.patch_namespaced_deployment_scale("web", uncached.namespace, {"spec": {"replicas": 2}})
        seen = snapshots_until(feed, running_ready(2))
        assert all(thread.is_alive() for thread in feed._threads)  # no crash on the way
    finally:
        feed.close()

    assert all(s.problem is None for s in seen), [s.problem for s in seen]  # a relist, not an outage
    assert before.pods[0].name in {p.name for p in seen[-1].pods}


# ---------------------------------------------------------------------------
# 3. Pods that do not come up: the "Rollout blocked" callout
# ---------------------------------------------------------------------------


def test_failing_init_container_is_diagnosed_with_its_step_exit_code_and_reason(cluster):
    # A bare Pod, restartPolicy Never: kwok's failure stage fails the Pod, as a kubelet does for such
    # a Pod (in a Deployment a kubelet would restart it, kwok fails it: the ReplicaSet then makes a
    # new Pod every few hundred milliseconds).
    manifest = cluster.create_pod(
        pod(
            "migrate-fails",
            labels={INIT_FAILS: "true"},
            annotations={f"{INIT_FAILS}/container-name": "migrate", f"{INIT_FAILS}/exit-code": "3"},
            init=INIT_WITH_SIDECAR,
            restartPolicy="Never",
        )
    )
    failed = cluster.pod_when(manifest, lambda p: p.phase == "Failed")

    # kwok stops the sidecar as a kubelet does when the Pod fails: terminated, exit 0. It has done
    # its step; the init container after it is what failed (Pod Studio said "Init:Completed" and
    # diagnosed nothing before pods._init_step_done counted such a sidecar as done).
    assert failed.container("proxy").summary == "exited: exit code 0 (Completed)"
    assert failed.status == "Init:initContainerError"
    assert failed.init_progress == "Init 2/3"
    blocker = diagnose(failed)
    assert blocker is not None
    assert (blocker.container, blocker.kind, blocker.exit_code, blocker.reason, blocker.stopped) == (
        "migrate", "init", 3, "initContainerError", True)
    assert blocker.message == (
        "Init container 'migrate' (step 3 of 3) of Pod 'migrate-fails' failed with exit code 3 (initContainerError). "
        "initContainer reported errors. The containers after it cannot start until it succeeds."
    )
    assert failed.default_container().name == "migrate"  # the log the callout's button opens
    assert cluster.snapshot(manifest).blockers == [blocker]


def test_crash_loop_shows_restarts_and_crash_loop_back_off(cluster):
    manifest = cluster.create_pod(
        pod(
            "crashy",
            labels={CRASH_LOOP: "true"},
            annotations={f"{CRASH_LOOP}-container": "app", f"{CRASH_LOOP}-delay": "300ms"},
            containers=[container("app"), container("side")],
        )
    )
    looping = cluster.pod_when(
        manifest, lambda p: p.container("app").restarts >= 2 and p.container("app").reason == "CrashLoopBackOff"
    )

    app = looping.container("app")
    assert (looping.phase, looping.status, looping.ready) == ("Running", "CrashLoopBackOff", False)
    assert app.last_termination.summary == "exit code 1 (Error)"
    assert looping.restarts == app.restarts and looping.container("side").restarts == 0
    blocker = diagnose(looping)
    assert (blocker.container, blocker.reason, blocker.exit_code, blocker.stopped) == (
        "app", "CrashLoopBackOff", 1, False)  # restarted: a rollout waits on it
    assert blocker.message.startswith(
        f"Container 'app' of Pod 'crashy' keeps failing (CrashLoopBackOff): last run ended with exit code 1 "
        f"(Error), {app.restarts} restarts. back-off 10s restarting failed container=app pod=crashy_"
    )
    back_off = next(e for e in looping.events if e.reason == "BackOff")  # kwok's Warning, counted up
    assert back_off.type == "Warning" and back_off.count >= 1


def test_image_pull_failure_shows_image_pull_back_off(cluster):
    manifest = cluster.create_pod(
        pod(
            "nopull",
            labels={IMAGE_PULL_FAILS: "true"},
            annotations={f"{IMAGE_PULL_FAILS}-container": "app"},
            init=INIT_WITH_SIDECAR[:2],
            containers=[container("app", "registry.invalid/nope:1"), container("side")],
        )
    )
    stuck = cluster.pod_when(manifest, lambda p: p.container("app").reason == "ImagePullBackOff")

    assert (stuck.phase, stuck.status) == ("Pending", "ImagePullBackOff")
    assert stuck.container("side").state == "running" and stuck.container("proxy").state == "running"
    blocker = diagnose(stuck)
    assert (blocker.container, blocker.reason, blocker.exit_code) == ("app", "ImagePullBackOff", None)
    assert blocker.message == (
        "Container 'app' of Pod 'nopull' cannot start: its image 'registry.invalid/nope:1' cannot be pulled "
        "(ImagePullBackOff). Back-off pulling image \"registry.invalid/nope:1\"."
    )


def test_a_user_who_may_not_read_events_still_sees_the_pods(control_plane, limited_api, monkeypatch):
    """team-a-user's Role (docs/testing.md) has Pods but no Events, like many team Roles. The
    Events request used to fail the whole snapshot (the page showed "Access denied" and no Pod)
    and the feed's Events watch showed it as the page's problem for good."""
    monkeypatch.setenv("KUBECONFIG", str(control_plane.kubeconfig))
    namespace, context = control_plane.limited_namespace, control_plane.limited_context
    name = f"mine-{secrets.token_hex(3)}"
    manifest = pod(name)
    core = client.CoreV1Api(limited_api)
    core.create_namespaced_pod(namespace, manifest)
    feed = StatusFeed(context, Workload.from_manifest(manifest, namespace), settings=FAST).start()
    try:
        snapshot = pod_statuses(context, namespace, manifest)  # events=True: the Events list is refused
        assert [p.name for p in snapshot.pods] == [name] and snapshot.problem is None
        assert snapshot.pods[0].events == ()
        seen = snapshots_until(feed, running_ready(1))
        seen += iter(lambda: feed.next_snapshot(2.0), None)  # until 2 s pass quietly: the Events watch was
        assert all(s.problem is None for s in seen), [s.problem for s in seen]  # refused and retried meanwhile
    finally:
        feed.close()
        core.delete_namespaced_pod(name, namespace, grace_period_seconds=0)


# ---------------------------------------------------------------------------
# 4. Logs as the real server words them
# ---------------------------------------------------------------------------


def test_log_of_a_pod_without_a_node_is_waiting_and_a_follower_waits_for_it(cluster, monkeypatch):
    """The API server answers 204 No Content (asking no kubelet) for the log of a Pod that is not
    on a node: an unscheduled Pod, or one held by a scheduling gate as here. Pod Studio read that as
    an empty log, and a follower as a stream that ended ("the container stopped") at once."""
    monkeypatch.setattr(logfollow, "WAIT_FOR_START_SECONDS", 0.3)
    manifest = cluster.create_pod(pod("gated", schedulingGates=[{"name": "pod-studio.test/hold"}]))
    cluster.pod_when(manifest, lambda p: any(c.reason == "SchedulingGated" for c in p.conditions))

    with pytest.raises(ClusterError) as waiting:
        logs.fetch(cluster.context, cluster.namespace, LogRequest("gated", "app"))
    assert waiting.value.details == {"waiting": True}
    assert waiting.value.message == (
        "Container 'app' has not started yet (Pod 'gated' is not on a node yet): it has no logs so far."
    )
    lines, notes = logs.fetch_merged(cluster.context, cluster.namespace, "gated", ["app"])
    assert lines == [] and notes == [waiting.value.message]

    follower = logfollow.follow(cluster.context, cluster.namespace, "gated", ["app"], tail=10)
    try:
        _, notices, batches = drain(follower, lambda _l, notices, _b: notices)
        assert notices == [f"{waiting.value.message} Waiting for it to start…"]
        time.sleep(1.0)  # several more 204s: still waiting, not ended
        batch = follower.next_batch(0.2)
        assert batch is None or not (batch.ended or batch.finished)
        cluster.core.patch_namespaced_pod(
            "gated", cluster.namespace, [{"op": "remove", "path": "/spec/schedulingGates"}]
        )
        lines, notices, _ = drain(follower, lambda lines, _n, _b: lines)
    finally:
        follower.close()
    assert notices[0] == "Container 'app' started."
    assert "kwok simulates this container" in lines[0].text  # kwok's default log, once on its node


@pytest.mark.xfail(
    strict=True,
    reason="kwok serves a waiting container's log file; a kubelet answers 400 'container \"app\" in pod "
    "\"…\" is waiting to start: PodInitializing', which the API server relays. Covered with the fault "
    "proxy answering in the kubelet's words (tests/cluster/test_logs.py); when kwok answers as a kubelet, "
    "this passes: drop the mark.",
)
def test_log_of_a_container_waiting_on_its_node_says_it_has_not_started(cluster):
    slow = {f"{INIT_STEP}/delay": "60s", f"{INIT_STEP}/jitter-delay": "61s"}
    manifest = cluster.create_pod(pod("slow", annotations=slow, init=INIT_WITH_SIDECAR[:1]))
    cluster.pod_when(manifest, lambda p: p.container("app").reason == "PodInitializing" and p.node)
    with pytest.raises(ClusterError) as waiting:
        logs.fetch(cluster.context, cluster.namespace, LogRequest("slow", "app"))
    assert waiting.value.details == {"waiting": True}


def test_logs_of_an_init_container_a_previous_instance_and_all_containers_merged(cluster):
    manifest = cluster.create_pod(
        pod(
            "logged",
            labels={CRASH_LOOP: "true"},
            annotations={f"{CRASH_LOOP}-container": "app", f"{CRASH_LOOP}-delay": "300ms"},
            init=INIT_WITH_SIDECAR[:2],
        )
    )
    cluster.pod_when(manifest, lambda p: p.container("app").restarts >= 1)
    files = cluster.cp.set_pod_logs(
        cluster.namespace,
        "logged",
        {"wait-db": ["db is up"], "proxy": ["proxy ready", "proxy: GET /"], "app": ["started", "serving"]},
        previous={"app": ["started", "panic: boom"]},
    )
    base = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(minutes=1)
    at = [base + dt.timedelta(milliseconds=n * 10) for n in range(5)]
    write_log(files["wait-db"], [(at[0], "db is up")])  # the same lines at times that interleave
    write_log(files["proxy"], [(at[1], "proxy ready"), (at[3], "proxy: GET /")])
    write_log(files["app"], [(at[2], "started"), (at[4], "serving")])
    ns = cluster.namespace

    init_log = logs.fetch(cluster.context, ns, LogRequest("logged", "wait-db"))
    assert [(line.container, line.text) for line in init_log] == [("wait-db", "db is up")]
    assert init_log[0].timestamp == at[0].strftime("%Y-%m-%dT%H:%M:%S.%f000Z")  # as the kubelet writes it
    assert texts(logs.fetch(cluster.context, ns, LogRequest("logged", "app", previous=True))) == [
        "started", "panic: boom"]
    with pytest.raises(ClusterError) as never_restarted:
        logs.fetch(cluster.context, ns, LogRequest("logged", "proxy", previous=True))
    assert never_restarted.value.message == "Container 'proxy' has no previous instance: it has not restarted."
    with pytest.raises(ClusterError, match="Pod 'logged' has no container 'nope'"):
        logs.fetch(cluster.context, ns, LogRequest("logged", "nope"))

    lines, notes = logs.fetch_merged(cluster.context, ns, "logged", ["wait-db", "proxy", "app"])
    assert [(line.container, line.text) for line in lines] == [
        ("wait-db", "db is up"), ("proxy", "proxy ready"), ("app", "started"), ("proxy", "proxy: GET /"),
        ("app", "serving")]
    assert notes == []
    lines, notes = logs.fetch_merged(cluster.context, ns, "logged", ["wait-db", "proxy", "app"], previous=True)
    assert texts(lines) == ["started", "panic: boom"]
    assert notes == [
        "Container 'wait-db' has no previous instance: it has not restarted.",
        "Container 'proxy' has no previous instance: it has not restarted.",
    ]


def test_follow_delivers_lines_added_later_and_ends_cleanly_when_closed(cluster):
    manifest = cluster.create_pod(pod("web", init=INIT_WITH_SIDECAR[:2]))
    cluster.pod_when(manifest, lambda p: p.phase == "Running")
    files = cluster.cp.set_pod_logs(cluster.namespace, "web", {"app": ["old 1", "old 2"], "proxy": ["p 1"]})

    follower = logfollow.follow(cluster.context, cluster.namespace, "web", ["proxy", "app"], tail=1)
    try:
        first, _, _ = drain(follower, lambda lines, _n, _b: len(lines) >= 2)
        assert sorted((line.container, line.text) for line in first) == [("app", "old 2"), ("proxy", "p 1")]
        with files["app"].open("a") as log:  # the container writes on: kwok's follow reads the file on
            log.write(cri_log_lines(["live 1", "live 2"]))
        more, _, batches = drain(follower, lambda lines, _n, _b: len(lines) >= 2)
        assert [(line.container, line.text) for line in more] == [("app", "live 1"), ("app", "live 2")]
        assert all(not b.ended and not b.finished and not b.notices for b in batches)
        assert follower.positions["app"] == more[-1].timestamp
    finally:
        started = time.monotonic()
        follower.close()
    for thread in follower._threads:
        thread.join(3)
        assert not thread.is_alive()
    assert time.monotonic() - started < 3
    assert follower.next_batch(0.2) is None  # nothing after the close, no error either


def test_follow_reconnects_across_an_api_server_restart_without_repeating_lines(uncached):
    manifest = uncached.create_pod(pod("web"))
    uncached.pod_when(manifest, lambda p: p.phase == "Running")
    files = uncached.cp.set_pod_logs(uncached.namespace, "web", {"app": ["one", "two"]})
    follower = logfollow.follow(uncached.context, uncached.namespace, "web", ["app"], tail=10, backoff_max=0.5)
    try:
        first, _, _ = drain(follower, lambda lines, _n, _b: len(lines) >= 2)
        uncached.cp.restart_apiserver()
        with files["app"].open("a") as log:
            log.write(cri_log_lines(["three"]))
        rest, notices, _ = drain(follower, lambda lines, _n, _b: lines)
    finally:
        follower.close()
    assert texts(first) == ["one", "two"]
    assert texts(rest) == ["three"]  # resumed with sinceTime after "two": kwok filters as a kubelet does
    assert notices[0].endswith("Reconnecting…")
    assert notices[-1] == "Reconnected to the log of 'app'."
