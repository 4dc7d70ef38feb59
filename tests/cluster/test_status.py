"""Pod status snapshots, the watch and the blocked-rollout diagnosis, against the stand-in API server
through a kubeconfig with the real kubernetes client."""

from __future__ import annotations

import threading
import time

import pytest

from composer.cluster.errors import ClusterError
from composer.cluster.feed import StatusFeed, Workload, pod_statuses
from composer.cluster.pods import diagnose
from composer.cluster.watch import Changed, Lost, Synced, Watch, WatchSettings
from tests.support.runtime import (
    container_status,
    deployment_manifest,
    event,
    pod_manifest,
    pod_of,
    running,
    terminated,
    waiting,
)

FAST = WatchSettings(watch_seconds=1, read_grace=2, backoff_first=0.1, backoff_max=0.3)


def set_init(server, name, *init_states, app_state=None, phase="Pending", names=("wait-db", "migrate")):
    server.set_pod_status("default", name, {
        "phase": phase,
        "initContainerStatuses": [container_status(n, s, **extra) for n, (s, extra) in zip(names, init_states,
                                                                                            strict=False)],
        "containerStatuses": [container_status("app", app_state or waiting("PodInitializing"))],
    })


# ---------------------------------------------------------------------------
# Workloads
# ---------------------------------------------------------------------------


def test_a_pod_is_found_by_name_and_a_deployment_by_its_selector():
    assert Workload.from_manifest(pod_manifest("web"), "x").pod_query() == [("fieldSelector", "metadata.name=web")]
    deployment = deployment_manifest("shop")
    deployment["spec"]["selector"]["matchExpressions"] = [
        {"key": "tier", "operator": "In", "values": ["web", "api"]},
        {"key": "canary", "operator": "DoesNotExist"},
    ]
    workload = Workload.from_manifest(deployment, "ignored")
    assert workload.namespace == "default"
    assert workload.label_selector == "app=shop,tier in (web,api),!canary"
    with pytest.raises(ClusterError, match="no workload"):
        Workload.from_manifest({"kind": "Pod", "metadata": {}}, "default")


# ---------------------------------------------------------------------------
# Snapshots
# ---------------------------------------------------------------------------


def test_init_containers_in_every_state_come_back_in_run_order(server, kubeconfig_env):
    manifest = pod_manifest("web", init=("wait-db", "migrate", "warm-cache"), sidecars=("log-shipper",))
    server.put_object(manifest)
    server.set_pod_status("default", "web", {
        "phase": "Pending",
        "initContainerStatuses": [
            container_status("wait-db", terminated(0, "Completed")),
            container_status("migrate", running()),
            container_status("warm-cache", waiting("PodInitializing")),
            container_status("log-shipper", waiting("PodInitializing"), started=False),
        ],
        "containerStatuses": [container_status("app", waiting("PodInitializing"))],
    })
    snapshot = pod_statuses("stand-in", "default", manifest)
    (pod,) = snapshot.pods
    assert [(c.name, c.kind, c.state) for c in pod.init_containers] == [
        ("wait-db", "init", "terminated"),
        ("migrate", "init", "running"),
        ("warm-cache", "init", "waiting"),
        ("log-shipper", "native-sidecar", "waiting"),
    ]
    assert pod.init_progress == "Init 1/4"
    assert pod.status == "Init:1/4"
    assert pod.init_containers[0].summary == "exited: exit code 0 (Completed)"
    assert pod.default_container().name == "migrate"  # the one running its turn
    assert snapshot.blockers == []


def test_native_sidecar_counts_as_done_once_started_and_runs_beside_the_app(server, kubeconfig_env):
    manifest = pod_manifest("web", init=("wait-db",), sidecars=("log-shipper",))
    server.put_object(manifest)
    server.set_pod_status("default", "web", {
        "phase": "Running",
        "conditions": [{"type": "Ready", "status": "True"}],
        "initContainerStatuses": [
            container_status("wait-db", terminated(0, "Completed")),
            container_status("log-shipper", running(), started=True, ready=True),
        ],
        "containerStatuses": [container_status("app", running(), ready=True)],
    })
    (pod,) = pod_statuses("stand-in", "default", manifest).pods
    assert pod.init_progress == "Init 2/2"
    assert pod.status == "Running" and pod.ready
    assert [c.name for c in pod.long_running] == ["log-shipper", "app"]
    assert pod.default_container().name == "app"


def test_events_of_the_pod_come_with_it_newest_first(server, kubeconfig_env):
    manifest = pod_manifest("web", init=(), sidecars=())
    server.put_object(manifest)
    server.put_object(event("web", "Scheduled", "Successfully assigned default/web to node-1",
                            at="2026-01-01T10:00:00Z"))
    server.put_object(event("web", "Pulling", 'Pulling image "app"', field_path="spec.containers{app}",
                            at="2026-01-01T10:00:02Z"))
    server.put_object(event("other", "Scheduled", "someone else's"))
    (pod,) = pod_statuses("stand-in", "default", manifest).pods
    assert [(e.reason, e.container) for e in pod.events] == [("Pulling", "app"), ("Scheduled", "")]


def test_deployment_snapshot_has_every_pod_of_the_rollout_newest_first(server, kubeconfig_env):
    manifest = deployment_manifest("shop", init=(), sidecars=())
    server.put_object(pod_of(manifest, "aaaaa", "old1"))
    time.sleep(1.1)  # creationTimestamp has whole seconds
    server.put_object(pod_of(manifest, "bbbbb", "new2"))
    server.put_object(pod_manifest("shop-lookalike", labels={"app": "not-shop"}))
    snapshot = pod_statuses("stand-in", "default", manifest)
    assert [(p.name, p.owner) for p in snapshot.pods] == [
        ("shop-new2-bbbbb", "ReplicaSet shop-new2"),
        ("shop-old1-aaaaa", "ReplicaSet shop-old1"),
    ]


def test_unreachable_and_forbidden_are_cluster_errors_in_words(server, kubeconfig_env):
    manifest = pod_manifest("web")
    server.deny("tester", "list", "pods", "default")
    with pytest.raises(ClusterError) as forbidden:
        pod_statuses("stand-in", "default", manifest)
    assert forbidden.value.kind == "forbidden"
    assert "may not list pods in namespace 'default'" in forbidden.value.message
    server.stop()
    with pytest.raises(ClusterError) as unreachable:
        pod_statuses("stand-in", "default", manifest)
    assert unreachable.value.kind == "unreachable"
    assert server.token not in unreachable.value.message


# ---------------------------------------------------------------------------
# Diagnosis
# ---------------------------------------------------------------------------


def diagnose_with(server, manifest, pod_status):
    server.put_object(manifest)
    server.set_pod_status("default", manifest["metadata"]["name"], pod_status)
    (pod,) = pod_statuses("stand-in", "default", manifest).pods
    return diagnose(pod)


def test_failed_init_container_blocks_and_says_which_step(server, kubeconfig_env):
    blocker = diagnose_with(server, pod_manifest("web", sidecars=()), {
        "phase": "Pending",
        "initContainerStatuses": [container_status("wait-db", terminated(0, "Completed")),
                                  container_status("migrate", terminated(2, "Error"))],
        "containerStatuses": [container_status("app", waiting("PodInitializing"))],
    })
    assert (blocker.container, blocker.kind, blocker.exit_code) == ("migrate", "init", 2)
    assert blocker.message == (
        "Init container 'migrate' (step 2 of 2) of Pod 'web' failed with exit code 2 (Error). "
        "The containers after it cannot start until it succeeds."
    )


def test_crash_looping_app_and_unpullable_image_are_blockers(server, kubeconfig_env):
    crash = diagnose_with(server, pod_manifest("web", init=(), sidecars=()), {
        "phase": "Running",
        "containerStatuses": [container_status("app", waiting("CrashLoopBackOff", "back-off 5m0s"), restarts=7,
                                               last=terminated(137, "OOMKilled"))],
    })
    assert crash.container == "app" and crash.exit_code == 137
    assert crash.message.startswith(
        "Container 'app' of Pod 'web' keeps failing (CrashLoopBackOff): last run ended with exit code 137 (OOMKilled)"
        ", 7 restarts."
    )
    image = diagnose_with(server, pod_manifest("api", init=(), sidecars=()), {
        "phase": "Pending",
        "containerStatuses": [container_status("app", waiting("ErrImagePull", "manifest unknown"))],
    })
    assert image.reason == "ErrImagePull"
    assert "its image 'registry.example/app:1.0' cannot be pulled (ErrImagePull). manifest unknown" in image.message


def test_a_sidecar_stopped_with_exit_0_has_done_its_step_and_the_failed_init_container_is_the_blocker(
    server, kubeconfig_env
):
    # As on a real server once the Pod failed (tests/cluster_real/test_runtime_real.py): the sidecar is stopped.
    manifest = pod_manifest("web", init=("wait-db",), sidecars=("log-shipper",))
    manifest["spec"]["initContainers"].append({"name": "migrate", "image": "registry.example/migrate:1.0"})
    server.put_object(manifest)
    server.set_pod_status("default", "web", {
        "phase": "Failed",
        "initContainerStatuses": [container_status("wait-db", terminated(0, "Completed")),
                                  container_status("log-shipper", terminated(0, "Completed"), started=False),
                                  container_status("migrate", terminated(3, "Error"))],
        "containerStatuses": [container_status("app", waiting("PodInitializing"))],
    })
    (pod,) = pod_statuses("stand-in", "default", manifest).pods
    assert (pod.status, pod.init_progress) == ("Init:Error", "Init 2/3")
    blocker = diagnose(pod)
    assert (blocker.container, blocker.exit_code) == ("migrate", 3)


def test_unschedulable_pod_is_a_blocker_without_a_container(server, kubeconfig_env):
    blocker = diagnose_with(server, pod_manifest("web"), {
        "phase": "Pending",
        "conditions": [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
                        "message": "0/3 nodes are available: 3 Insufficient memory."}],
    })
    assert blocker.container == ""
    assert blocker.message == "Pod 'web' cannot be scheduled: 0/3 nodes are available: 3 Insufficient memory."


def test_a_pod_on_its_way_up_is_not_blocked(server, kubeconfig_env):
    assert diagnose_with(server, pod_manifest("web"), {
        "phase": "Pending",
        "initContainerStatuses": [container_status("wait-db", running())],
    }) is None


# ---------------------------------------------------------------------------
# Watch
# ---------------------------------------------------------------------------


def collect(watch: Watch, count: int, timeout: float = 10.0) -> list:
    """The first ``count`` updates of a watch, read in a thread (closes the watch when done)."""
    found: list = []
    done = threading.Event()

    def run():
        for update in watch:
            found.append(update)
            if len(found) >= count:
                break
        done.set()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    done.wait(timeout)
    watch.close()
    thread.join(5)
    return found


def pods_watch(manifest, settings=FAST) -> Watch:
    from composer.cluster.contexts import connect

    workload = Workload.from_manifest(manifest, "default")
    return Watch(connect("stand-in"), workload.pods_path, workload.pod_query(), settings)


def test_watch_lists_then_streams_changes_from_the_list_version(server, kubeconfig_env):
    manifest = pod_manifest("web")
    server.put_object(manifest)
    watch = pods_watch(manifest)
    updates = []
    thread = threading.Thread(target=lambda: updates.extend(collect(watch, 3)), daemon=True)
    thread.start()
    wait_for_requests(server, watch=True, count=1)
    set_init(server, "web", (running(), {}))
    set_init(server, "web", (terminated(0, "Completed"), {}), (running(), {}))
    thread.join(10)
    assert isinstance(updates[0], Synced) and [i["metadata"]["name"] for i in updates[0].items] == ["web"]
    assert [type(u) for u in updates[1:]] == [Changed, Changed]
    watches = [r for r in server.requests_matching("GET", r"/pods$") if r.param("watch") == "true"]
    assert watches[0].param("resourceVersion") == updates[0].resource_version
    assert watches[0].param("fieldSelector") == "metadata.name=web"


def test_watch_resumes_from_the_last_version_after_the_server_ends_it(server, kubeconfig_env):
    manifest = pod_manifest("web")
    server.put_object(manifest)
    watch = pods_watch(manifest)  # the server ends each watch after 1 s
    updates = []
    thread = threading.Thread(target=lambda: updates.extend(collect(watch, 2, timeout=15)), daemon=True)
    thread.start()
    time.sleep(2.5)  # at least one watch has timed out and been renewed
    set_init(server, "web", (running(), {}))
    thread.join(15)
    assert [type(u) for u in updates] == [Synced, Changed]
    watches = [r for r in server.requests_matching("GET", r"/pods$") if r.param("watch") == "true"]
    assert len(watches) >= 2
    assert len(list_requests(server)) == 1, "a renewed watch goes on from its resourceVersion without a new LIST"


def test_watch_lists_again_after_410_gone(server, kubeconfig_env):
    manifest = pod_manifest("web")
    server.put_object(manifest)
    server.put_object(pod_manifest("other"))
    watch = pods_watch(manifest)  # the server ends each watch after 1 s
    updates = []
    thread = threading.Thread(target=lambda: updates.extend(collect(watch, 2, timeout=15)), daemon=True)
    thread.start()
    wait_for_requests(server, watch=True, count=1)
    # Changes we do not see (another Pod) move the server on; then it forgets its history, so
    # renewing the watch from the last version we saw gets 410 Gone, and the watch LISTs again.
    server.set_pod_status("default", "other", {"phase": "Running"})
    server.compact()
    thread.join(15)
    assert [type(u) for u in updates] == [Synced, Synced], updates
    assert len(list_requests(server)) == 2


def wait_for_requests(server, *, watch: bool, count: int, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while len([r for r in server.requests_matching("GET", r"/pods$") if (r.param("watch") == "true") == watch]) < count:
        assert time.monotonic() < deadline, "the watch never got that far"
        time.sleep(0.02)


def list_requests(server) -> list:
    return [r for r in server.requests_matching("GET", r"/pods$") if r.param("watch") is None]


def test_watch_reports_a_lost_cluster_and_recovers_by_itself(server, kubeconfig_env):
    manifest = pod_manifest("web")
    server.put_object(manifest)
    server.inject("GET", r"/pods$", drop=True, times=2)
    updates = collect(pods_watch(manifest), 3)
    assert [type(u) for u in updates] == [Lost, Lost, Synced]
    assert updates[0].error.kind == "unreachable"
    assert "closed the connection" in updates[0].error.message
    assert updates[1].retry_in > updates[0].retry_in  # backing off


# ---------------------------------------------------------------------------
# The feed: pods and events together
# ---------------------------------------------------------------------------


def test_feed_delivers_a_status_change_and_an_event_quickly(server, kubeconfig_env):
    manifest = pod_manifest("web")
    server.put_object(manifest)
    feed = StatusFeed("stand-in", Workload.from_manifest(manifest, "default"), settings=FAST).start()
    try:
        first = feed.next_snapshot(5)
        assert first is not None and first.pods[0].status == "Init:0/3"
        changed_at = time.monotonic()
        set_init(server, "web", (terminated(1, "Error"), {}))
        changed = feed.next_snapshot(5)
        assert changed.pods[0].status == "Init:Error"
        assert time.monotonic() - changed_at < 1.0  # the goal is "within 1 s"
        assert [b.container for b in changed.blockers] == ["wait-db"]
        server.put_object(event("web", "BackOff", "Back-off restarting failed container", type_="Warning"))
        with_event = feed.next_snapshot(5)
        assert [e.reason for e in with_event.pods[0].events] == ["BackOff"]
    finally:
        feed.close()


def test_feed_says_when_the_cluster_is_gone_and_recovers(server, kubeconfig_env):
    manifest = pod_manifest("web")
    server.put_object(manifest)
    feed = StatusFeed("stand-in", Workload.from_manifest(manifest, "default"), settings=FAST).start()
    try:
        assert feed.next_snapshot(5).problem is None
        # The next watches (the server renews them every second) and their LISTs fail for a while.
        fault = server.inject(None, r"/(pods|events)$", drop=True, times=None)
        lost = feed.next_snapshot(5)
        while lost is not None and lost.problem is None:
            lost = feed.next_snapshot(5)
        assert lost.problem.kind == "unreachable"
        assert [p.name for p in lost.pods] == ["web"]  # the last known state stays
        server.clear_faults()
        assert fault.hits >= 1
        recovered = feed.next_snapshot(5)
        while recovered is not None and recovered.problem is not None:
            recovered = feed.next_snapshot(5)
        assert recovered is not None and recovered.problem is None
    finally:
        feed.close()


def test_without_access_to_events_the_pods_come_alone_and_no_problem_is_shown(server, kubeconfig_env):
    manifest = pod_manifest("web")
    server.put_object(manifest)
    server.put_object(event("web", "Scheduled", "Successfully assigned default/web to node-1"))
    server.deny("tester", "list", "events")
    snapshot = pod_statuses("stand-in", "default", manifest)
    assert [p.name for p in snapshot.pods] == ["web"] and snapshot.pods[0].events == ()
    feed = StatusFeed("stand-in", Workload.from_manifest(manifest, "default"), settings=FAST).start()
    try:
        assert feed.next_snapshot(5).problem is None
        time.sleep(0.5)  # the Events watch has been refused and retried meanwhile
        later = feed.next_snapshot(0.5)
        assert later is None or later.problem is None
    finally:
        feed.close()


def test_closing_the_feed_stops_its_threads(server, kubeconfig_env):
    manifest = pod_manifest("web")
    server.put_object(manifest)
    feed = StatusFeed("stand-in", Workload.from_manifest(manifest, "default"),
                      settings=WatchSettings(watch_seconds=300)).start()
    assert feed.next_snapshot(5) is not None
    feed.close()
    for thread in feed._threads:
        thread.join(3)
        assert not thread.is_alive()
