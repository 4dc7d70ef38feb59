"""Deploying manifests with server-side apply, against the stand-in (or a real cluster).

Tests that take ``cluster_target`` also run against a real cluster when
PODSTUDIO_TEST_KUBECONFIG is set; those that take ``standin_target`` need the stand-in's
fault injection and skip then.
"""

from __future__ import annotations

import base64
import copy
import socket
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException

from composer.cluster import contexts
from composer.cluster.apply import (
    FIELD_MANAGER,
    ObjectRef,
    ObjectResult,
    apply_manifests,
    delete_objects,
    diff_manifests,
    recreate_pod,
)
from composer.cluster.contexts import Timeouts
from composer.cluster.errors import ClusterError
from tests.support.apiserver_fixtures import ClusterTarget
from tests.support.kubeconfig import KubeconfigContext, write_kubeconfig
from tests.support.other_tools import apply_as

PLURALS = {
    "Pod": "pods",
    "Deployment": "deployments",
    "Service": "services",
    "ConfigMap": "configmaps",
    "Secret": "secrets",
}


# ---------------------------------------------------------------------------
# Manifests
# ---------------------------------------------------------------------------


def config_map(name: str = "web-config", **data: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": data or {"mode": "fast"}}


def service(name: str = "web") -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name},
        "spec": {"selector": {"app": name}, "ports": [{"name": "http", "port": 80, "targetPort": 8080}]},
    }


def deployment(
    name: str = "web",
    *,
    replicas: int = 1,
    image: str = "nginx:1.27",
    init_containers: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    labels = {"app": name}
    pod_spec: dict[str, Any] = {"containers": [{"name": "app", "image": image}]}
    if init_containers:
        pod_spec["initContainers"] = init_containers
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": labels},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels}, "spec": pod_spec},
        },
    }


def pod(name: str = "web", *, port: int = 80, image: str | None = "nginx:1.27") -> dict[str, Any]:
    container: dict[str, Any] = {"name": "app", "ports": [{"containerPort": port}]}
    if image:
        container["image"] = image
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": {"app": name}},
        "spec": {"containers": [container]},
    }


def secret(name: str = "tls", **values: str) -> dict[str, Any]:
    data = {key: base64.b64encode(value.encode()).decode() for key, value in values.items()}
    return {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name}, "type": "Opaque", "data": data}


SIDECAR = {"name": "log-shipper", "image": "busybox", "restartPolicy": "Always"}


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------


def live(target: ClusterTarget, kind: str, name: str) -> dict[str, Any] | None:
    """The object as the cluster stores it, read without composer.cluster."""
    if target.server is not None:
        return target.server.get(PLURALS[kind], target.namespace, name)
    api = config.new_client_from_config(config_file=str(target.kubeconfig), context=target.context)
    reader = (
        client.AppsV1Api(api).read_namespaced_deployment
        if kind == "Deployment"
        else getattr(client.CoreV1Api(api), f"read_namespaced_{_snake(kind)}")
    )
    try:
        return api.sanitize_for_serialization(reader(name, target.namespace))
    except ApiException as error:
        if error.status == 404:
            return None
        raise


def _snake(kind: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in kind).lstrip("_")


def outcomes(results: list[ObjectResult]) -> list[tuple[str, str]]:
    return [(result.kind, result.outcome) for result in results]


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def assert_no_credentials(results: list[ObjectResult], *tokens: str) -> None:
    text = repr(results)
    for token in tokens:
        assert token not in text


# ---------------------------------------------------------------------------
# Apply, dry run, diff, delete
# ---------------------------------------------------------------------------


def test_apply_creates_objects_managed_by_pod_studio(cluster_target: ClusterTarget) -> None:
    t = cluster_target
    results = apply_manifests(t.context, t.namespace, [config_map(), service(), deployment(replicas=2)])

    assert outcomes(results) == [("ConfigMap", "created"), ("Service", "created"), ("Deployment", "created")]
    assert [r.status for r in results] == [201, 201, 201]
    assert results[2].message == "Deployment 'web' created."
    assert results[2].object["metadata"]["namespace"] == t.namespace
    stored = live(t, "Deployment", "web")
    assert stored["spec"]["replicas"] == 2
    assert stored["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.27"
    assert ("pod-studio", "Apply") in {(m["manager"], m["operation"]) for m in stored["metadata"]["managedFields"]}
    assert live(t, "ConfigMap", "web-config")["data"] == {"mode": "fast"}


def test_apply_sends_server_side_apply_requests(standin_target: ClusterTarget) -> None:
    server = standin_target.require_standin()
    apply_manifests(standin_target.context, "default", [config_map()])
    get, patch = [r for r in server.requests if "/configmaps/" in r.path]
    assert (get.method, patch.method) == ("GET", "PATCH")
    assert patch.content_type == "application/apply-patch+yaml"
    assert patch.query == {"fieldManager": [FIELD_MANAGER], "force": ["false"]}
    assert patch.json() == {**config_map(), "metadata": {"name": "web-config", "namespace": "default"}}


def test_reapply_configures_what_changed_and_leaves_the_rest_unchanged(cluster_target: ClusterTarget) -> None:
    t = cluster_target
    apply_manifests(t.context, t.namespace, [config_map(), deployment()])
    version = live(t, "Deployment", "web")["metadata"]["resourceVersion"]

    changed = apply_manifests(t.context, t.namespace, [config_map(), deployment(image="nginx:1.28")])
    assert outcomes(changed) == [("ConfigMap", "unchanged"), ("Deployment", "configured")]
    assert [r.status for r in changed] == [200, 200]
    assert live(t, "Deployment", "web")["metadata"]["resourceVersion"] != version

    again = apply_manifests(t.context, t.namespace, [config_map(), deployment(image="nginx:1.28")])
    assert outcomes(again) == [("ConfigMap", "unchanged"), ("Deployment", "unchanged")]
    assert again[1].message == "Deployment 'web' unchanged."


def test_the_chosen_namespace_applies(cluster_target: ClusterTarget) -> None:
    t = cluster_target
    [result] = apply_manifests(t.context, t.namespace, [config_map()])
    assert result.namespace == t.namespace
    elsewhere = {**config_map(), "metadata": {"name": "web-config", "namespace": "somewhere-else"}}
    with pytest.raises(ClusterError) as mismatch:
        apply_manifests(t.context, t.namespace, [elsewhere])
    assert mismatch.value.kind == "invalid"
    assert "says namespace 'somewhere-else'" in mismatch.value.message


def test_dry_run_reports_without_storing(cluster_target: ClusterTarget) -> None:
    t = cluster_target
    [dry] = apply_manifests(t.context, t.namespace, [deployment()], dry_run=True)
    assert (dry.outcome, dry.message) == ("created", "Deployment 'web' would be created (server dry run).")
    assert dry.object["spec"]["replicas"] == 1
    assert live(t, "Deployment", "web") is None

    apply_manifests(t.context, t.namespace, [deployment()])
    [would_change] = apply_manifests(t.context, t.namespace, [deployment(replicas=4)], dry_run=True)
    assert (would_change.outcome, would_change.object["spec"]["replicas"]) == ("configured", 4)
    assert live(t, "Deployment", "web")["spec"]["replicas"] == 1
    [same] = apply_manifests(t.context, t.namespace, [deployment()], dry_run=True)
    assert same.outcome == "unchanged"


def test_diff_shows_new_changed_and_unchanged_objects(cluster_target: ClusterTarget) -> None:
    t = cluster_target
    [new] = diff_manifests(t.context, t.namespace, [deployment()])
    assert new.is_new and new.changed
    body = new.diff.splitlines()[2:]
    assert all(line.startswith(("+", "@@")) for line in body)
    assert "+  replicas: 1" in body

    apply_manifests(t.context, t.namespace, [config_map(), deployment()])
    unchanged, changed = diff_manifests(t.context, t.namespace, [config_map(), deployment(replicas=3)])
    assert (unchanged.changed, unchanged.diff) == (False, "")
    assert not changed.is_new
    assert changed.diff.startswith("--- Deployment/web (live)\n+++ Deployment/web (after deploy)\n")
    changed_lines = [line for line in changed.diff.splitlines()[2:] if line[:1] in "+-"]
    assert changed_lines == ["-  replicas: 1", "+  replicas: 3"]
    assert live(t, "Deployment", "web")["spec"]["replicas"] == 1


def test_secrets_are_never_sent_read_or_diffed(cluster_target: ClusterTarget) -> None:
    t = cluster_target
    for send in (apply_manifests, diff_manifests):
        with pytest.raises(ClusterError) as refused:
            send(t.context, t.namespace, [config_map(), secret(password="hunter2")])
        assert refused.value.kind == "unsupported" and "never sends Secrets" in refused.value.message
        assert "hunter2" not in refused.value.message
    assert live(t, "ConfigMap", "web-config") is None  # refused before anything was sent


def test_delete_removes_the_applied_objects_and_reports_those_already_gone(cluster_target: ClusterTarget) -> None:
    t = cluster_target
    applied = apply_manifests(t.context, t.namespace, [config_map(), deployment()])
    refs = [ObjectRef(r.api_version, r.kind, r.namespace, r.name, r.uid) for r in applied]
    refs.append(ObjectRef("v1", "Service", t.namespace, "never-made", "0b5e33a8-0000-4000-8000-000000000000"))
    results = delete_objects(t.context, refs)
    assert [(r.kind, r.outcome) for r in results] == [
        ("ConfigMap", "deleted"),
        ("Deployment", "deleted"),
        ("Service", "absent"),
    ]
    assert live(t, "ConfigMap", "web-config") is None
    assert live(t, "Deployment", "web") is None


def test_delete_leaves_an_object_that_was_replaced_since_the_deploy(cluster_target: ClusterTarget) -> None:
    t = cluster_target
    [first] = apply_manifests(t.context, t.namespace, [config_map()])
    delete_objects(t.context, [ObjectRef(first.api_version, "ConfigMap", t.namespace, "web-config", first.uid)])
    [second] = apply_manifests(t.context, t.namespace, [config_map()])
    assert second.uid and second.uid != first.uid
    [result] = delete_objects(t.context, [ObjectRef("v1", "ConfigMap", t.namespace, "web-config", first.uid)])
    assert result.outcome == "failed" and "replaced since" in result.message
    assert live(t, "ConfigMap", "web-config") is not None


@pytest.mark.parametrize("name", ["../../kube-system/secrets/victim", "..", "a/b", "web?x=1", "UPPER", "web#x"])
def test_names_that_could_leave_the_request_path_are_refused_before_any_request(
    cluster_target: ClusterTarget, name: str
) -> None:
    t = cluster_target
    sent_before = len(t.server.requests) if t.server else 0
    with pytest.raises(ClusterError) as refused:
        apply_manifests(t.context, t.namespace, [config_map(name=name)])
    assert refused.value.kind == "invalid" and "Not sent" in refused.value.message
    with pytest.raises(ClusterError):
        delete_objects(t.context, [ObjectRef("v1", "ConfigMap", t.namespace, name, "u")])
    with pytest.raises(ClusterError):
        delete_objects(t.context, [ObjectRef("v1", "ConfigMap", "../kube-system", "web-config", "u")])
    if t.server:
        assert len(t.server.requests) == sent_before


# ---------------------------------------------------------------------------
# Conflicts, immutable Pods, invalid objects
# ---------------------------------------------------------------------------


def test_a_field_owned_by_another_tool_conflicts_until_forced(cluster_target: ClusterTarget) -> None:
    t = cluster_target
    apply_as(t, "kubectl", deployment(replicas=2))
    [conflict] = apply_manifests(t.context, t.namespace, [deployment(replicas=3)])
    assert (conflict.outcome, conflict.error_kind, conflict.status) == ("failed", "conflict", 409)
    assert conflict.message == (
        "Conflict: field .spec.replicas is managed by 'kubectl'; deploy again with force to take it over."
    )
    assert conflict.details == {"conflicts": [{"field": ".spec.replicas", "manager": "kubectl"}]}
    assert live(t, "Deployment", "web")["spec"]["replicas"] == 2

    [forced] = apply_manifests(t.context, t.namespace, [deployment(replicas=3)], force=True)
    assert forced.outcome == "configured"
    assert live(t, "Deployment", "web")["spec"]["replicas"] == 3


def test_an_immutable_pod_change_offers_recreate(cluster_target: ClusterTarget) -> None:
    t = cluster_target
    apply_manifests(t.context, t.namespace, [pod(port=80)])
    old_uid = live(t, "Pod", "web")["metadata"]["uid"]

    [refused] = apply_manifests(t.context, t.namespace, [pod(port=8080)])
    assert (refused.outcome, refused.error_kind, refused.status) == ("failed", "immutable", 422)
    assert refused.message.startswith("Pod 'web' cannot be changed in place")
    assert "Delete and recreate the Pod" in refused.message

    recreated = recreate_pod(t.context, t.namespace, pod(port=8080))
    assert recreated.outcome == "created"
    stored = live(t, "Pod", "web")
    assert stored["metadata"]["uid"] != old_uid
    assert [port["containerPort"] for port in stored["spec"]["containers"][0]["ports"]] == [8080]


def test_an_invalid_field_is_named(cluster_target: ClusterTarget) -> None:
    t = cluster_target
    [invalid] = apply_manifests(t.context, t.namespace, [pod(image=None)])
    assert (invalid.outcome, invalid.error_kind, invalid.status) == ("failed", "invalid", 422)
    assert invalid.message == "Field spec.containers[0].image is invalid: Required value"
    assert invalid.details["causes"][0]["field"] == "spec.containers[0].image"


def test_a_missing_namespace_stops_the_deploy(cluster_target: ClusterTarget) -> None:
    t = cluster_target
    results = apply_manifests(t.context, "no-such-namespace", [config_map(), deployment()])
    assert outcomes(results) == [("ConfigMap", "failed"), ("Deployment", "not_attempted")]
    assert (results[0].error_kind, results[0].status) == ("not_found", 404)
    assert results[0].message == (
        f"Namespace 'no-such-namespace' does not exist in the cluster at context '{t.context}'."
    )
    assert results[1].message == "Not attempted: ConfigMap 'web-config' failed first."


def test_problems_found_before_sending_raise(standin_target: ClusterTarget) -> None:
    server = standin_target.require_standin()
    server.clear_requests()
    with pytest.raises(ClusterError) as unknown_kind:
        apply_manifests(
            standin_target.context,
            "default",
            [{"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}],
        )
    assert (unknown_kind.value.kind, unknown_kind.value.message) == (
        "unsupported",
        "Pod Studio cannot deploy Widget (example.com/v1) objects.",
    )
    with pytest.raises(ClusterError) as nameless:
        apply_manifests(standin_target.context, "default", [{"apiVersion": "v1", "kind": "ConfigMap"}])
    assert nameless.value.kind == "invalid"
    assert server.requests == []


# ---------------------------------------------------------------------------
# Native sidecars
# ---------------------------------------------------------------------------


def test_native_sidecars_are_refused_on_a_1_28_cluster(standin_target: ClusterTarget) -> None:
    server = standin_target.require_standin()
    server.version = "v1.28.4"
    server.clear_requests()
    manifests = [config_map(), deployment(init_containers=[SIDECAR])]
    for action in (apply_manifests, diff_manifests):
        with pytest.raises(ClusterError) as refused:
            action(standin_target.context, "default", manifests)
        assert refused.value.kind == "unsupported"
        assert refused.value.message == (
            "Native sidecars (init containers with restartPolicy: Always: 'log-shipper') need Kubernetes 1.29 "
            "or newer, but the cluster at context 'stand-in' runs 1.28. Make them regular sidecar containers, "
            "or deploy to a newer cluster."
        )
    assert {(r.method, r.path) for r in server.requests} == {("GET", "/version")}
    assert server.get("configmaps", "default", "web-config") is None


def test_native_sidecars_deploy_on_1_29(standin_target: ClusterTarget) -> None:
    server = standin_target.require_standin()
    server.version = "v1.29.0"
    results = apply_manifests(standin_target.context, "default", [deployment(init_containers=[SIDECAR])])
    assert outcomes(results) == [("Deployment", "created")]


# ---------------------------------------------------------------------------
# Failures from the cluster
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "kind", "message"),
    [
        (
            401,
            "unauthorized",
            "The cluster at context 'stand-in' ({url}) did not accept the credentials of user "
            "'stand-in-user' (401 Unauthorized). Log in again or refresh the kubeconfig, then retry.",
        ),
        (403, "forbidden", "You (user 'tester') may not patch configmaps in namespace 'default'."),
        (
            429,
            "rate_limited",
            "The cluster at context 'stand-in' ({url}) is rate limiting requests "
            "(429 Too Many Requests); try again in 1 s.",
        ),
        (
            500,
            "server",
            "The cluster at context 'stand-in' ({url}) reported an error (500): Internal error "
            "occurred: injected fault (500)",
        ),
    ],
)
def test_each_http_failure_has_its_kind_and_message(
    standin_target: ClusterTarget, status: int, kind: str, message: str
) -> None:
    server = standin_target.require_standin()
    server.inject("PATCH", r"/configmaps/web-config$", status=status)
    [failed, skipped] = apply_manifests(standin_target.context, "default", [config_map(), deployment()])
    assert (failed.outcome, failed.error_kind, failed.status) == ("failed", kind, status)
    assert failed.message == message.format(url=server.url)
    assert skipped.outcome == "not_attempted"
    assert_no_credentials([failed, skipped], server.token)


def test_a_failure_midway_reports_exactly_what_was_applied(standin_target: ClusterTarget) -> None:
    server = standin_target.require_standin()
    server.inject("PATCH", r"/services/web$", status=500)
    results = apply_manifests(standin_target.context, "default", [config_map(), service(), deployment()])
    assert outcomes(results) == [("ConfigMap", "created"), ("Service", "failed"), ("Deployment", "not_attempted")]
    assert server.get("configmaps", "default", "web-config") is not None
    assert server.get("services", "default", "web") is None
    assert server.get("deployments", "default", "web") is None
    assert server.requests_matching("PATCH", "/deployments/") == []


def test_a_cluster_that_does_not_answer_times_out(standin_target: ClusterTarget, monkeypatch) -> None:
    server = standin_target.require_standin()
    monkeypatch.setattr(contexts, "DEFAULT_TIMEOUTS", Timeouts(connect=1.0, read=0.3))
    server.inject("PATCH", r"/configmaps/web-config$", stall=3.0)
    [failed] = apply_manifests(standin_target.context, "default", [config_map()])
    assert (failed.error_kind, failed.status) == ("timeout", None)
    assert failed.message == f"The cluster at context 'stand-in' ({server.url}) did not answer within 0.3 s."


def test_a_dropped_connection_is_unreachable(standin_target: ClusterTarget) -> None:
    server = standin_target.require_standin()
    server.inject("PATCH", r"/configmaps/web-config$", drop=True)
    [failed] = apply_manifests(standin_target.context, "default", [config_map()])
    assert failed.error_kind == "unreachable"
    assert failed.message.endswith("closed the connection without answering.")


def test_an_unreachable_cluster_fails_the_first_object(tmp_path: Path, monkeypatch) -> None:
    server = f"http://127.0.0.1:{closed_port()}"
    kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", [KubeconfigContext("gone", server, "tok-gone")])
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
    results = apply_manifests("gone", "default", [config_map(), deployment()])
    assert outcomes(results) == [("ConfigMap", "failed"), ("Deployment", "not_attempted")]
    assert results[0].error_kind == "unreachable"
    assert (
        results[0].message == f"The cluster at context 'gone' ({server}) could not be reached: the connection "
        "was refused."
    )
    assert_no_credentials(results, "tok-gone")


def test_rejected_credentials_are_unauthorized(standin_target: ClusterTarget, tmp_path: Path, monkeypatch) -> None:
    server = standin_target.require_standin()
    wrong = KubeconfigContext("stale", server.url, "stale-token-456", ca_data=server.ca_data)
    monkeypatch.setenv("KUBECONFIG", str(write_kubeconfig(tmp_path / "stale", [wrong])))
    [failed] = apply_manifests("stale", "default", [config_map()])
    assert (failed.error_kind, failed.status) == ("unauthorized", 401)
    assert "user 'stale-user'" in failed.message
    assert_no_credentials([failed], "stale-token-456", server.token)


def test_manifests_are_not_modified(standin_target: ClusterTarget) -> None:
    manifests = [config_map(), deployment()]
    before = copy.deepcopy(manifests)
    apply_manifests(standin_target.context, "default", manifests)
    assert manifests == before
