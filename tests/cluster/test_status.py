"""Pod status snapshots, the watch and the blocked-rollout diagnosis, against the real local control
plane: Pods the real scheduler and kwok (as the kubelet) walk through their states (``cluster``,
tests/support/realruntime.py), and the fault-injecting proxy (``proxied_target``) to see the
requests and to make the failures the real server does not make on demand.

tests/cluster_real/test_runtime_real.py has the rest against the real server: the feed through init
containers and a native sidecar to Running, restarts and 410 Gone, failing init containers, crash
loops, unpullable images, and a user who may not read Events.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
import time

import pytest
from kubernetes import client

from composer.cluster.contexts import connect
from composer.cluster.errors import ClusterError
from composer.cluster.feed import StatusFeed, Workload, pod_statuses
from composer.cluster.pods import diagnose
from composer.cluster.watch import Changed, Lost, Synced, Watch, WatchSettings
from tests.support.faultproxy import wait_for
from tests.support.manifests import container, deployment, pod
from tests.support.realruntime import IMAGE_PULL_FAILS, INIT_STEP, Cluster

FAST = WatchSettings(watch_seconds=1, read_grace=2, backoff_first=0.1, backoff_max=0.3)
HOLD = [{"name": "pod-studio.test/hold"}]  # a scheduling gate: no node, so nothing but the test writes its status


@pytest.fixture
def cluster(control_plane, real_target) -> Cluster:
    """Pods made by the admin and read with Pod Studio (context local-admin) in real_target's namespace."""
    return Cluster(control_plane, real_target.admin, real_target.namespace)


def slowed(seconds: float) -> dict[str, str]:
    """kwok's annotations that make each init step of a Pod take about ``seconds``."""
    return {f"{INIT_STEP}/delay": f"{int(seconds * 1000)}ms", f"{INIT_STEP}/jitter-delay": f"{int(seconds * 1100)}ms"}


def event(namespace: str, pod_name: str, reason: str, message: str, *, at: dt.datetime, type_: str = "Normal",
          field_path: str = "") -> dict:
    """A core/v1 Event about a Pod, as a kubelet records one."""
    stamp = at.strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "metadata": {"generateName": f"{pod_name}."},
        "involvedObject": {"kind": "Pod", "name": pod_name, "namespace": namespace, "fieldPath": field_path},
        "reason": reason, "message": message, "type": type_, "count": 1,
        "firstTimestamp": stamp, "lastTimestamp": stamp, "source": {"component": "kubelet", "host": "localhost"},
    }


# ---------------------------------------------------------------------------
# Workloads
# ---------------------------------------------------------------------------


def test_a_pod_is_found_by_name_and_a_deployment_by_its_selector():
    assert Workload.from_manifest(pod("web"), "x").pod_query() == [("fieldSelector", "metadata.name=web")]
    shop = deployment("shop")
    shop["metadata"]["namespace"] = "shop-ns"
    shop["spec"]["selector"]["matchExpressions"] = [
        {"key": "tier", "operator": "In", "values": ["web", "api"]},
        {"key": "canary", "operator": "DoesNotExist"},
    ]
    workload = Workload.from_manifest(shop, "ignored")
    assert workload.namespace == "shop-ns"  # the manifest's own namespace wins
    assert workload.label_selector == "app=shop,tier in (web,api),!canary"
    with pytest.raises(ClusterError, match="no workload"):
        Workload.from_manifest({"kind": "Pod", "metadata": {}}, "default")


# ---------------------------------------------------------------------------
# Snapshots
# ---------------------------------------------------------------------------


def test_init_containers_in_every_state_come_back_in_run_order_and_the_pod_is_not_blocked(cluster):
    init = [container("wait-db"), container("migrate"), container("warm-cache"),
            container("log-shipper", restartPolicy="Always")]
    manifest = cluster.create_pod(pod("web", init=init, annotations=slowed(1.0)))

    mid_way = cluster.pod_when(manifest, lambda p: p.container("migrate").state == "running")

    assert [(c.name, c.kind, c.state) for c in mid_way.init_containers] == [
        ("wait-db", "init", "terminated"),
        ("migrate", "init", "running"),
        ("warm-cache", "init", "waiting"),
        ("log-shipper", "native-sidecar", "waiting"),
    ]
    assert mid_way.init_progress == "Init 1/4"
    assert mid_way.status == "Init:1/4"
    assert mid_way.init_containers[0].summary == "exited: exit code 0 (Completed)"
    assert mid_way.default_container().name == "migrate"  # the one running its turn
    assert diagnose(mid_way) is None  # on its way up, not blocked


def test_events_of_the_pod_come_with_it_newest_first(cluster):
    manifest = cluster.create_pod(pod("web"))
    cluster.create_pod(pod("other"))
    cluster.pod_when(manifest, lambda p: any(e.reason == "Scheduled" for e in p.events))
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1)
    cluster.core.create_namespaced_event(cluster.namespace, event(
        cluster.namespace, "web", "Pulling", 'Pulling image "app"', at=later, field_path="spec.containers{app}"))
    cluster.core.create_namespaced_event(cluster.namespace, event(
        cluster.namespace, "other", "Pulling", "someone else's", at=later))

    web = cluster.pod_when(manifest, lambda p: any(e.reason == "Pulling" for e in p.events))
    reasons = [(e.reason, e.container) for e in web.events]
    assert reasons[0] == ("Pulling", "app")
    assert ("Scheduled", "") in reasons
    assert "someone else's" not in {e.message for e in web.events}


def test_deployment_snapshot_has_every_pod_of_the_rollout_newest_first(cluster):
    manifest = deployment("shop")
    manifest["spec"]["strategy"] = {"rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}}
    cluster.create_deployment(manifest)
    cluster.create_pod(pod("shop-lookalike", labels={"app": "not-shop"}))
    old = cluster.pod_when(manifest, lambda p: p.phase == "Running" and p.ready)
    wait_for(lambda: dt.datetime.now(dt.UTC) - old.created > dt.timedelta(seconds=1.2), timeout=5)
    # The new template's Pod never gets its image: the rollout stops with the old Pod and the new one.
    new_template = {"metadata": {"labels": {IMAGE_PULL_FAILS: "true"}},
                    "spec": {"containers": [container("app", "registry.example/app:2")]}}
    cluster.apps.patch_namespaced_deployment("shop", cluster.namespace, {"spec": {"template": new_template}})

    snapshot = wait_for(lambda: (s := cluster.snapshot(manifest)) and len(s.pods) == 2 and s, timeout=30)

    new, still = snapshot.pods
    assert still.name == old.name and new.name != old.name
    assert new.owner.startswith("ReplicaSet shop-") and still.owner.startswith("ReplicaSet shop-")
    assert new.owner != still.owner  # two ReplicaSets: the rollout's old and new
    assert "shop-lookalike" not in {p.name for p in snapshot.pods}


def test_unreachable_and_forbidden_are_cluster_errors_in_words(control_plane, proxied_target, monkeypatch):
    manifest = pod("web")
    monkeypatch.setenv("KUBECONFIG", os.pathsep.join([str(proxied_target.kubeconfig), str(control_plane.kubeconfig)]))
    with pytest.raises(ClusterError) as forbidden:
        pod_statuses(control_plane.limited_context, proxied_target.namespace, manifest)
    assert forbidden.value.kind == "forbidden"
    assert forbidden.value.message == (
        f"You (user 'team-a-user') may not list pods in namespace '{proxied_target.namespace}'."
    )
    proxied_target.proxy.stop()
    with pytest.raises(ClusterError) as unreachable:
        pod_statuses(proxied_target.context, proxied_target.namespace, manifest)
    assert unreachable.value.kind == "unreachable"
    assert proxied_target.proxy.token not in unreachable.value.message


def test_unschedulable_pod_is_a_blocker_without_a_container(cluster):
    greedy = container("app", resources={"requests": {"memory": "100Ti"}})
    manifest = cluster.create_pod(pod("web", containers=[greedy]))
    stuck = cluster.pod_when(manifest, lambda p: any(c.reason == "Unschedulable" for c in p.conditions))
    blocker = diagnose(stuck)
    assert blocker is not None and blocker.container == ""
    # The real scheduler's words, then its preemption attempt.
    assert blocker.message.startswith("Pod 'web' cannot be scheduled: 0/1 nodes are available: 1 Insufficient memory.")


def test_an_unscheduled_pod_with_init_containers_is_pending_as_kubectl_shows_it(cluster):
    greedy = container("app", resources={"requests": {"memory": "100Ti"}})
    manifest = cluster.create_pod(pod("web", init=[container("wait-db")], containers=[greedy]))
    stuck = cluster.pod_when(manifest, lambda p: any(c.reason == "Unschedulable" for c in p.conditions))
    # No init step has begun: kubectl's STATUS column says Pending, not Init:0/1.
    assert (stuck.status, [c.state for c in stuck.init_containers]) == ("Pending", ["unknown"])


# ---------------------------------------------------------------------------
# Watch (through the proxy: its request log shows what was asked)
# ---------------------------------------------------------------------------


def collect(watch: Watch, count: int, timeout: float = 15.0) -> list:
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


def pods_watch(target, manifest, settings=FAST) -> Watch:
    workload = Workload.from_manifest(manifest, target.namespace)
    return Watch(connect(target.context), workload.pods_path, workload.pod_query(), settings)


def pod_requests(proxy, *, watch: bool) -> list:
    return [r for r in proxy.requests_matching("GET", r"/pods$") if (r.param("watch") == "true") == watch]


def watching(proxy, count: int = 1) -> None:
    wait_for(lambda: len(pod_requests(proxy, watch=True)) >= count, timeout=10)


def create_held_pod(target, name: str = "web") -> dict:
    manifest = pod(name, schedulingGates=HOLD)
    client.CoreV1Api(target.admin).create_namespaced_pod(target.namespace, manifest)
    return manifest


def label(target, name: str, value: str) -> None:
    patch = {"metadata": {"labels": {"step": value}}}
    client.CoreV1Api(target.admin).patch_namespaced_pod(name, target.namespace, patch)


def test_watch_lists_then_streams_changes_from_the_list_version(proxied_target):
    t = proxied_target
    manifest = create_held_pod(t)
    watch = pods_watch(t, manifest)
    updates = []
    thread = threading.Thread(target=lambda: updates.extend(collect(watch, 3)), daemon=True)
    thread.start()
    watching(t.proxy)
    label(t, "web", "one")
    label(t, "web", "two")
    thread.join(15)
    assert isinstance(updates[0], Synced) and [i["metadata"]["name"] for i in updates[0].items] == ["web"]
    assert [(type(u), u.object["metadata"]["labels"]["step"]) for u in updates[1:]] == [(Changed, "one"),
                                                                                       (Changed, "two")]
    first_watch = pod_requests(t.proxy, watch=True)[0]
    assert first_watch.param("resourceVersion") == updates[0].resource_version
    assert first_watch.param("fieldSelector") == "metadata.name=web"
    assert first_watch.param("timeoutSeconds") == "1"


def test_watch_resumes_from_the_last_version_after_the_server_ends_it(proxied_target):
    t = proxied_target
    manifest = create_held_pod(t)
    watch = pods_watch(t, manifest)  # the server ends each watch after 1 s
    updates = []
    thread = threading.Thread(target=lambda: updates.extend(collect(watch, 2, timeout=20)), daemon=True)
    thread.start()
    watching(t.proxy, count=2)  # one watch has ended and been renewed
    label(t, "web", "one")
    thread.join(20)
    assert [type(u) for u in updates] == [Synced, Changed]
    assert len(pod_requests(t.proxy, watch=False)) == 1, "a renewed watch goes on from its resourceVersion, no LIST"


def test_watch_lists_again_after_410_gone(proxied_target):
    t = proxied_target
    manifest = create_held_pod(t)
    watch = pods_watch(t, manifest)
    updates = []
    thread = threading.Thread(target=lambda: updates.extend(collect(watch, 2, timeout=20)), daemon=True)
    thread.start()
    watching(t.proxy)
    # The next watch hears what a real API server says when its history no longer reaches back to the
    # resourceVersion asked for: an ERROR event with a 410 Status (test_runtime_real.py gets it from etcd).
    gone = {"type": "ERROR", "object": {"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": 410,
                                        "reason": "Expired", "message": "too old resource version: 1 (2)"}}
    t.proxy.inject("GET", r"/pods$", answer=gone)
    thread.join(20)
    assert [type(u) for u in updates] == [Synced, Synced], updates
    assert len(pod_requests(t.proxy, watch=False)) == 2


def test_watch_reports_a_lost_cluster_and_recovers_by_itself(proxied_target):
    t = proxied_target
    manifest = create_held_pod(t)
    t.proxy.inject("GET", r"/pods$", drop=True, times=2)
    updates = collect(pods_watch(t, manifest), 3)
    assert [type(u) for u in updates] == [Lost, Lost, Synced]
    assert updates[0].error.kind == "unreachable"
    assert "closed the connection" in updates[0].error.message
    assert updates[1].retry_in > updates[0].retry_in  # backing off


# ---------------------------------------------------------------------------
# The feed: pods and events together
# ---------------------------------------------------------------------------


def test_feed_delivers_a_status_change_and_an_event_quickly(real_target):
    """The change is written as a kubelet writes it (the status subresource), on a Pod held off any
    node so that only the test writes its status; the feed must show it within a second."""
    t = real_target
    core = client.CoreV1Api(t.admin)
    manifest = pod("web", init=[container("wait-db")], schedulingGates=HOLD)
    core.create_namespaced_pod(t.namespace, manifest)
    feed = StatusFeed(t.context, Workload.from_manifest(manifest, t.namespace), settings=FAST).start()
    try:
        first = feed.next_snapshot(10)
        assert first is not None and first.pods[0].status == "SchedulingGated"  # as kubectl shows it
        failed = {"name": "wait-db", "image": "registry.example/wait-db:1", "imageID": "", "ready": False,
                  "restartCount": 0, "state": {"terminated": {"exitCode": 1, "reason": "Error"}}}
        changed_at = time.monotonic()
        core.patch_namespaced_pod_status("web", t.namespace, {"status": {"initContainerStatuses": [failed]}})
        changed = feed.next_snapshot(5)
        while changed is not None and changed.pods[0].container("wait-db").state != "terminated":
            changed = feed.next_snapshot(5)
        assert changed is not None and time.monotonic() - changed_at < 1.0  # the goal is "within 1 s"
        assert changed.pods[0].container("wait-db").summary == "exited: exit code 1 (Error)"
        assert [b.container for b in changed.blockers] == ["wait-db"]
        core.create_namespaced_event(t.namespace, event(
            t.namespace, "web", "BackOff", "Back-off restarting failed container", type_="Warning",
            at=dt.datetime.now(dt.UTC)))
        with_event = feed.next_snapshot(5)
        assert with_event is not None and [e.reason for e in with_event.pods[0].events] == ["BackOff"]
    finally:
        feed.close()


def test_feed_says_when_the_cluster_is_gone_and_recovers(proxied_target):
    t = proxied_target
    manifest = create_held_pod(t)
    feed = StatusFeed(t.context, Workload.from_manifest(manifest, t.namespace), settings=FAST).start()
    try:
        assert feed.next_snapshot(10).problem is None
        # The next watches (the server ends them every second) and their LISTs fail for a while.
        fault = t.proxy.inject(None, r"/(pods|events)$", drop=True, times=None)
        lost = feed.next_snapshot(5)
        while lost is not None and lost.problem is None:
            lost = feed.next_snapshot(5)
        assert lost.problem.kind == "unreachable"
        assert [p.name for p in lost.pods] == ["web"]  # the last known state stays
        t.proxy.clear_faults()
        assert fault.hits >= 1
        recovered = feed.next_snapshot(5)
        while recovered is not None and recovered.problem is not None:
            recovered = feed.next_snapshot(5)
        assert recovered is not None and recovered.problem is None
        assert [p.name for p in recovered.pods] == ["web"]
    finally:
        feed.close()


def test_closing_the_feed_stops_its_threads(real_target):
    manifest = create_held_pod(real_target)
    feed = StatusFeed(real_target.context, Workload.from_manifest(manifest, real_target.namespace),
                      settings=WatchSettings(watch_seconds=300)).start()
    assert feed.next_snapshot(10) is not None
    started = time.monotonic()
    feed.close()
    for thread in feed._threads:
        thread.join(3)
        assert not thread.is_alive()
    assert time.monotonic() - started < 3
