"""What the real local control plane can be made to do, beyond the smoke tests: kwok's
failure stages (and ours), controllers at work, API server restarts, etcd compaction, exec.
"""

from __future__ import annotations

import threading
import time

import pytest
from kubernetes import client, watch
from kubernetes.client.rest import ApiException
from kubernetes.stream import stream

from tests.cluster_real.test_control_plane_smoke import pod_with_init_and_sidecar, wait_for_pod


def simple_pod(name: str, labels: dict | None = None, annotations: dict | None = None, **spec) -> client.V1Pod:
    spec.setdefault("containers", [client.V1Container(name="app", image="nginx:1.29")])
    return client.V1Pod(
        metadata=client.V1ObjectMeta(name=name, labels=labels, annotations=annotations),
        spec=client.V1PodSpec(**spec),
    )


def test_init_container_exiting_1_fails_the_pod(admin_api, cluster_namespace):
    """kwok's chaos stage pod-init-container-running-failed, triggered by a label."""
    core = client.CoreV1Api(admin_api)
    pod = pod_with_init_and_sidecar("broken-init")
    pod.metadata.labels["pod-init-container-running-failed.stage.kwok.x-k8s.io"] = "true"
    pod.metadata.annotations = {
        "pod-init-container-running-failed.stage.kwok.x-k8s.io/container-name": "init-db",
        "pod-init-container-running-failed.stage.kwok.x-k8s.io/exit-code": "1",
    }
    core.create_namespaced_pod(cluster_namespace, pod)

    pod = wait_for_pod(core, cluster_namespace, "broken-init", lambda p: p.status.phase == "Failed")

    init = {s.name: s for s in pod.status.init_container_statuses}
    assert init["init-db"].state.terminated.exit_code == 1
    assert init["init-db"].state.terminated.reason == "initContainerError"
    assert pod.status.container_statuses[0].state.waiting.reason == "PodInitializing"


def test_container_failure_fails_the_pod(admin_api, cluster_namespace):
    """kwok's chaos stage pod-container-running-failed (for restartPolicy Never Pods)."""
    core = client.CoreV1Api(admin_api)
    labels = {"pod-container-running-failed.stage.kwok.x-k8s.io": "true"}
    annotations = {
        "pod-container-running-failed.stage.kwok.x-k8s.io/exit-code": "137",
        "pod-container-running-failed.stage.kwok.x-k8s.io/reason": "OOMKilled",
    }
    core.create_namespaced_pod(cluster_namespace, simple_pod("oom", labels, annotations, restart_policy="Never"))

    pod = wait_for_pod(core, cluster_namespace, "oom", lambda p: p.status.phase == "Failed")

    terminated = pod.status.container_statuses[0].state.terminated
    assert (terminated.exit_code, terminated.reason) == (137, "OOMKilled")


def test_crash_loop_backoff_counts_restarts(control_plane, admin_api, cluster_namespace):
    """Our stage pod-studio-crash-loop-backoff (tests/support/kwok_stages)."""
    core = client.CoreV1Api(admin_api)
    labels = {"pod-studio.test/crash-loop": "true"}
    annotations = {"pod-studio.test/crash-loop-container": "app", "pod-studio.test/crash-loop-delay": "300ms"}
    containers = [client.V1Container(name="app", image="app:1"), client.V1Container(name="side", image="side:1")]
    core.create_namespaced_pod(cluster_namespace, simple_pod("crashy", labels, annotations, containers=containers))

    def restarted_twice(p):
        statuses = {s.name: s for s in p.status.container_statuses or []}
        return "app" in statuses and statuses["app"].restart_count >= 2

    pod = wait_for_pod(core, cluster_namespace, "crashy", restarted_twice)

    statuses = {s.name: s for s in pod.status.container_statuses}
    assert pod.status.phase == "Running"
    assert statuses["app"].state.waiting.reason == "CrashLoopBackOff"
    assert statuses["app"].last_state.terminated.exit_code == 1
    assert not statuses["app"].ready
    assert statuses["side"].ready and statuses["side"].restart_count == 0
    conditions = {c.type: c.status for c in pod.status.conditions}
    assert conditions["Ready"] == "False"
    control_plane.set_pod_logs(cluster_namespace, "crashy", {"app": ["starting"]}, previous={"app": ["panic: boom"]})
    assert core.read_namespaced_pod_log("crashy", cluster_namespace, container="app", previous=True) == "panic: boom\n"


def test_image_pull_failure_keeps_the_pod_pending(admin_api, cluster_namespace):
    """Our stage pod-studio-image-pull-backoff."""
    core = client.CoreV1Api(admin_api)
    labels = {"pod-studio.test/image-pull-failure": "true"}
    annotations = {"pod-studio.test/image-pull-failure-container": "app"}
    containers = [
        client.V1Container(name="app", image="registry.invalid/nope:1"),
        client.V1Container(name="side", image="side:1"),
    ]
    core.create_namespaced_pod(cluster_namespace, simple_pod("nopull", labels, annotations, containers=containers))

    def backing_off(p):
        return any(
            s.state.waiting and s.state.waiting.reason == "ImagePullBackOff" for s in p.status.container_statuses or []
        )

    wait_for_pod(core, cluster_namespace, "nopull", backing_off)
    time.sleep(2)  # it settles there
    pod = core.read_namespaced_pod("nopull", cluster_namespace)
    statuses = {s.name: s for s in pod.status.container_statuses}
    assert pod.status.phase == "Pending"
    assert statuses["app"].state.waiting.reason == "ImagePullBackOff"
    assert "registry.invalid/nope:1" in statuses["app"].state.waiting.message
    assert statuses["side"].state.running is not None


def test_deployment_rolls_out_through_the_controllers(admin_api, cluster_namespace):
    apps = client.AppsV1Api(admin_api)
    labels = {"app": "web"}
    apps.create_namespaced_deployment(
        cluster_namespace,
        client.V1Deployment(
            metadata=client.V1ObjectMeta(name="web"),
            spec=client.V1DeploymentSpec(
                replicas=2,
                selector=client.V1LabelSelector(match_labels=labels),
                template=client.V1PodTemplateSpec(
                    metadata=client.V1ObjectMeta(labels=labels),
                    spec=client.V1PodSpec(containers=[client.V1Container(name="app", image="nginx")]),
                ),
            ),
        ),
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        dep = apps.read_namespaced_deployment("web", cluster_namespace)
        if dep.status.ready_replicas == 2 and dep.status.available_replicas == 2:
            break
        time.sleep(0.3)
    else:
        raise AssertionError(f"deployment not available: {dep.status}")
    assert len(apps.list_namespaced_replica_set(cluster_namespace).items) == 1


def test_a_watch_survives_an_api_server_restart(control_plane, admin_api, cluster_namespace):
    """The open watch ends when the API server goes; re-watching from the last resourceVersion
    seen then gets 410 Gone (the new API server's watch cache starts after it) or resumes;
    a client that relists on 410 sees what was created meanwhile and afterwards."""
    core = client.CoreV1Api(admin_api)
    rv = core.list_namespaced_config_map(cluster_namespace).metadata.resource_version
    seen: list[client.V1ObjectMeta] = []
    ended = threading.Event()

    def follow() -> None:
        try:
            for event in watch.Watch().stream(
                core.list_namespaced_config_map, cluster_namespace, resource_version=rv, timeout_seconds=60
            ):
                seen.append(event["object"].metadata)
        except Exception:  # noqa: BLE001 - the connection breaks: that is the point
            pass
        finally:
            ended.set()

    threading.Thread(target=follow, daemon=True).start()
    core.create_namespaced_config_map(cluster_namespace, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="a")))
    deadline = time.monotonic() + 10
    while not any(m.name == "a" for m in seen) and time.monotonic() < deadline:
        time.sleep(0.05)
    last_rv = seen[-1].resource_version

    control_plane.restart_apiserver()
    assert ended.wait(10), "the watch open across the restart did not end"
    core.create_namespaced_config_map(cluster_namespace, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="b")))

    names, outcome = set(), "resumed"
    try:
        for event in watch.Watch().stream(
            core.list_namespaced_config_map, cluster_namespace, resource_version=last_rv, timeout_seconds=3
        ):
            names.add(event["object"].metadata.name)
    except ApiException as err:
        assert err.status == 410
        outcome = "relisted"
        names = {cm.metadata.name for cm in core.list_namespaced_config_map(cluster_namespace).items}
    assert "b" in names, outcome


def test_without_watch_cache_a_watch_resumes_after_restart_and_410s_after_compaction(control_plane_uncached):
    cp = control_plane_uncached
    api = cp.api_client()
    try:
        core = client.CoreV1Api(api)
        rv = core.list_namespaced_config_map("default").metadata.resource_version
        core.create_namespaced_config_map("default", client.V1ConfigMap(metadata=client.V1ObjectMeta(name="a")))
        cp.restart_apiserver()
        core.create_namespaced_config_map("default", client.V1ConfigMap(metadata=client.V1ObjectMeta(name="b")))
        names = [
            e["object"].metadata.name
            for e in watch.Watch().stream(
                core.list_namespaced_config_map, "default", resource_version=rv, timeout_seconds=2
            )
        ]
        # resumed from etcd's history (the controller-manager may add kube-root-ca.crt meanwhile)
        assert [n for n in names if n in ("a", "b")] == ["a", "b"]

        cp.compact_etcd()

        # The client raises the watch's ERROR event (or a 410 response) as an ApiException.
        with pytest.raises(ApiException) as gone:
            list(
                watch.Watch().stream(core.list_namespaced_config_map, "default", resource_version=rv, timeout_seconds=2)
            )
        assert gone.value.status == 410
    finally:
        api.close()


def test_with_watch_cache_compaction_alone_gives_no_410(control_plane, admin_api, cluster_namespace):
    """What real clusters do: the API server serves watches from its cache's window."""
    core = client.CoreV1Api(admin_api)
    rv = core.list_namespaced_config_map(cluster_namespace).metadata.resource_version
    core.create_namespaced_config_map(cluster_namespace, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="c")))
    control_plane.compact_etcd()
    names = [
        e["object"].metadata.name
        for e in watch.Watch().stream(
            core.list_namespaced_config_map, cluster_namespace, resource_version=rv, timeout_seconds=2
        )
    ]
    assert "c" in names


def test_exec_runs_locally_once_enabled(control_plane, admin_api, cluster_namespace):
    core = client.CoreV1Api(admin_api)
    core.create_namespaced_pod(cluster_namespace, simple_pod("shell"))
    wait_for_pod(core, cluster_namespace, "shell", lambda p: p.status.phase == "Running")

    control_plane.enable_exec(cluster_namespace, env={"GREETING": "hello from kwok"})
    out = stream(
        core.connect_get_namespaced_pod_exec,
        "shell",
        cluster_namespace,
        container="app",
        command=["sh", "-c", "echo $GREETING"],
        stderr=True,
        stdin=False,
        stdout=True,
        tty=False,
    )
    assert out.strip() == "hello from kwok"


def test_limited_user_reads_logs_in_its_namespace(control_plane, admin_api, limited_api):
    ns = control_plane.limited_namespace
    client.CoreV1Api(limited_api).create_namespaced_pod(ns, simple_pod("mine"))
    try:
        wait_for_pod(client.CoreV1Api(limited_api), ns, "mine", lambda p: p.status.phase == "Running")
        assert "kwok simulates" in client.CoreV1Api(limited_api).read_namespaced_pod_log("mine", ns)
        with pytest.raises(ApiException) as denied:
            client.CoreV1Api(limited_api).list_node()
        assert denied.value.status == 403
    finally:
        client.CoreV1Api(admin_api).delete_namespaced_pod("mine", ns, grace_period_seconds=0)


def test_namespace_deletion_finishes(admin_api):
    core = client.CoreV1Api(admin_api)
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name="short-lived")))
    core.create_namespaced_pod("short-lived", simple_pod("p"))
    core.delete_namespace("short-lived")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            core.read_namespace("short-lived")
        except ApiException as err:
            assert err.status == 404
            return
        time.sleep(0.3)
    raise AssertionError("namespace still Terminating after 60 s")
