"""Smoke tests of the real local control plane (tests/support/controlplane.py).

They talk to it through the real ``kubernetes`` client, as the dashboard does. The fixtures
come from tests/support/controlplane_fixtures.py (imported by this directory's conftest.py).
"""

from __future__ import annotations

import time

import pytest
from kubernetes import client, watch
from kubernetes.client.rest import ApiException

POD_TIMEOUT = 60  # seconds; kwok's stages take well under a second each here


def wait_for_pod(core: client.CoreV1Api, namespace: str, name: str, done, timeout: float = POD_TIMEOUT):
    """Watch one Pod until ``done(pod)``; return it."""
    pod = core.read_namespaced_pod(name, namespace)
    if done(pod):
        return pod
    w = watch.Watch()
    deadline = time.monotonic() + timeout
    for event in w.stream(
        core.list_namespaced_pod,
        namespace,
        field_selector=f"metadata.name={name}",
        resource_version=pod.metadata.resource_version,
        timeout_seconds=int(timeout),
    ):
        pod = event["object"]
        if done(pod):
            w.stop()
            return pod
        if time.monotonic() > deadline:
            break
    raise AssertionError(f"pod {namespace}/{name} not done in {timeout} s: {pod.status}")


def pod_with_init_and_sidecar(name: str) -> client.V1Pod:
    return client.V1Pod(
        metadata=client.V1ObjectMeta(name=name, labels={"app": name}),
        spec=client.V1PodSpec(
            init_containers=[
                client.V1Container(name="init-db", image="busybox:1.37", command=["sh", "-c", "echo migrated"]),
                client.V1Container(name="proxy", image="envoyproxy/envoy:v1.34", restart_policy="Always"),
            ],
            containers=[client.V1Container(name="app", image="nginx:1.29")],
        ),
    )


def test_node_is_ready(admin_api):
    node = client.CoreV1Api(admin_api).read_node("localhost")
    ready = {c.type: c.status for c in node.status.conditions}
    assert ready["Ready"] == "True"


def test_pod_walks_through_init_containers_and_native_sidecar_to_running(admin_api, cluster_namespace):
    core = client.CoreV1Api(admin_api)
    core.create_namespaced_pod(cluster_namespace, pod_with_init_and_sidecar("web"))

    pod = wait_for_pod(core, cluster_namespace, "web", lambda p: p.status.phase == "Running")

    assert pod.spec.node_name == "localhost"  # the real scheduler bound it
    init = {s.name: s for s in pod.status.init_container_statuses}
    assert init["init-db"].state.terminated.exit_code == 0
    assert init["init-db"].state.terminated.reason == "Completed"
    assert init["proxy"].state.running is not None  # a native sidecar keeps running
    assert init["proxy"].started is True
    app = pod.status.container_statuses[0]
    assert app.name == "app" and app.ready and app.state.running is not None
    conditions = {c.type: c.status for c in pod.status.conditions}
    assert conditions["Initialized"] == "True" and conditions["Ready"] == "True"


def test_logs_are_served_through_the_api_server(control_plane, admin_api, cluster_namespace):
    core = client.CoreV1Api(admin_api)
    core.create_namespaced_pod(cluster_namespace, pod_with_init_and_sidecar("logged"))
    wait_for_pod(core, cluster_namespace, "logged", lambda p: p.status.phase == "Running")

    # Without set_pod_logs every container serves the default text.
    assert "kwok simulates this container" in core.read_namespaced_pod_log("logged", cluster_namespace, container="app")
    control_plane.set_pod_logs(
        cluster_namespace,
        "logged",
        {"app": ["listening on :80", "GET / 200"], "init-db": ["migrated"]},
        previous={"app": ["crashed: out of memory"]},
    )
    assert core.read_namespaced_pod_log("logged", cluster_namespace, container="app") == "listening on :80\nGET / 200\n"
    assert (
        core.read_namespaced_pod_log("logged", cluster_namespace, container="app", previous=True)
        == "crashed: out of memory\n"
    )
    assert core.read_namespaced_pod_log("logged", cluster_namespace, container="init-db") == "migrated\n"
    with pytest.raises(ApiException) as no_previous:  # it has not restarted: 400, as from a kubelet
        core.read_namespaced_pod_log("logged", cluster_namespace, container="init-db", previous=True)
    assert no_previous.value.status == 400 and "previous terminated container" in no_previous.value.body
    assert core.read_namespaced_pod_log("logged", cluster_namespace, container="app", tail_lines=1) == "GET / 200\n"
    stamped = core.read_namespaced_pod_log("logged", cluster_namespace, container="app", timestamps=True)
    assert stamped.splitlines()[0].endswith("Z listening on :80")


def test_limited_context_is_confined_to_its_namespace(control_plane, limited_api):
    core = client.CoreV1Api(limited_api)
    assert core.list_namespaced_pod(control_plane.limited_namespace).items is not None
    with pytest.raises(ApiException) as denied:
        core.list_namespaced_pod("default")
    assert denied.value.status == 403
    with pytest.raises(ApiException) as denied:
        client.AppsV1Api(limited_api).create_namespaced_replica_set(
            control_plane.limited_namespace,
            client.V1ReplicaSet(
                metadata=client.V1ObjectMeta(name="x"),
                spec=client.V1ReplicaSetSpec(selector=client.V1LabelSelector(match_labels={"a": "b"})),
            ),
        )
    assert denied.value.status == 403  # replicasets: read only
