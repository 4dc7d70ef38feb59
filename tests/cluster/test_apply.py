"""Deploying manifests with server-side apply, against the real local control plane.

``real_target`` deploys as the admin into a fresh namespace; ``proxied_target`` goes through the
fault-injecting proxy (tests/support/faultproxy.py), which records every request and makes the
failures the real server does not make on demand (500, 429, stalls, hang-ups, an older version).
Conflicts with other tools, immutable Pods and recreate, dry runs and RBAC refusals are in
tests/cluster_real/test_deploys_real.py.
"""

from __future__ import annotations

import base64
import copy
import socket
from pathlib import Path

import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from composer.cluster import contexts
from composer.cluster.apply import (
    FIELD_MANAGER,
    ObjectRef,
    ObjectResult,
    apply_manifests,
    delete_objects,
    diff_manifests,
)
from composer.cluster.contexts import Timeouts
from composer.cluster.errors import ClusterError
from tests.support.controlplane_fixtures import RealTarget
from tests.support.faultproxy import wait_for
from tests.support.faultproxy_fixtures import ProxiedTarget
from tests.support.kubeconfig import KubeconfigContext, write_kubeconfig
from tests.support.manifests import config_map, container, deployment, pod, secret, service

SIDECAR = container("log-shipper", "busybox", restartPolicy="Always")


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


def web_pod(port: int = 80, image: str = "nginx:1.27") -> dict:
    return pod("web", containers=[{"name": "app", "image": image, "ports": [{"containerPort": port}]}])


def nginx(name: str = "web", **options) -> dict:
    return deployment(name, containers=[container("app", "nginx:1.27")], **options)


def server_version(minor: int) -> dict:
    """/version as a 1.<minor> API server answers it."""
    return {"major": "1", "minor": str(minor), "gitVersion": f"v1.{minor}.4", "platform": "linux/amd64"}


# ---------------------------------------------------------------------------
# Apply, diff, delete
# ---------------------------------------------------------------------------


def test_apply_creates_objects_managed_by_pod_studio(real_target: RealTarget) -> None:
    t = real_target
    results = apply_manifests(t.context, t.namespace, [config_map(), service(), nginx(replicas=2)])

    assert outcomes(results) == [("ConfigMap", "created"), ("Service", "created"), ("Deployment", "created")]
    assert [r.status for r in results] == [201, 201, 201]
    assert results[2].message == "Deployment 'web' created."
    assert results[2].object["metadata"]["namespace"] == t.namespace
    assert all(r.uid == t.live(r.kind, r.name)["metadata"]["uid"] for r in results)
    stored = t.live("Deployment", "web")
    assert stored["spec"]["replicas"] == 2
    assert stored["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.27"
    assert ("pod-studio", "Apply") in {(m["manager"], m["operation"]) for m in stored["metadata"]["managedFields"]}
    assert t.live("ConfigMap", "web-config")["data"] == {"mode": "fast"}


def test_apply_sends_server_side_apply_requests(proxied_target: ProxiedTarget) -> None:
    t = proxied_target
    apply_manifests(t.context, t.namespace, [config_map()])
    get, patch = t.proxy.requests_matching(None, "/configmaps/")
    assert (get.method, patch.method) == ("GET", "PATCH")
    assert patch.content_type == "application/apply-patch+yaml"
    assert patch.query == {"fieldManager": [FIELD_MANAGER], "force": ["false"]}
    assert patch.json() == {**config_map(), "metadata": {"name": "web-config", "namespace": t.namespace}}


def test_reapply_configures_what_changed_and_leaves_the_rest_unchanged(real_target: RealTarget) -> None:
    t = real_target
    apply_manifests(t.context, t.namespace, [config_map(), nginx()])
    version = t.live("Deployment", "web")["metadata"]["resourceVersion"]

    changed = apply_manifests(
        t.context, t.namespace, [config_map(), deployment(containers=[container("app", "nginx:1.28")])]
    )
    assert outcomes(changed) == [("ConfigMap", "unchanged"), ("Deployment", "configured")]
    assert [r.status for r in changed] == [200, 200]
    assert t.live("Deployment", "web")["metadata"]["resourceVersion"] != version

    again = apply_manifests(
        t.context, t.namespace, [config_map(), deployment(containers=[container("app", "nginx:1.28")])]
    )
    assert outcomes(again) == [("ConfigMap", "unchanged"), ("Deployment", "unchanged")]
    assert again[1].message == "Deployment 'web' unchanged."


def test_the_chosen_namespace_applies(real_target: RealTarget) -> None:
    t = real_target
    [result] = apply_manifests(t.context, t.namespace, [config_map()])
    assert result.namespace == t.namespace
    elsewhere = {**config_map(), "metadata": {"name": "web-config", "namespace": "somewhere-else"}}
    with pytest.raises(ClusterError) as mismatch:
        apply_manifests(t.context, t.namespace, [elsewhere])
    assert mismatch.value.kind == "invalid"
    assert "says namespace 'somewhere-else'" in mismatch.value.message


def test_diff_of_a_new_object_adds_every_line_and_of_a_changed_one_only_the_change(real_target: RealTarget) -> None:
    t = real_target
    [new] = diff_manifests(t.context, t.namespace, [nginx()])
    assert new.is_new and new.changed
    assert new.diff.startswith("--- Deployment/web (live)\n+++ Deployment/web (after deploy)\n")
    body = new.diff.splitlines()[2:]
    assert all(line.startswith(("+", "@@")) for line in body)
    assert "+  replicas: 1" in body
    assert t.live("Deployment", "web") is None

    apply_manifests(t.context, t.namespace, [config_map(), nginx()])
    unchanged, changed = diff_manifests(t.context, t.namespace, [config_map(), nginx(replicas=3)])
    assert (unchanged.changed, unchanged.diff) == (False, "")
    assert not changed.is_new
    assert changed.diff.startswith("--- Deployment/web (live)\n+++ Deployment/web (after deploy)\n")
    changed_lines = [line for line in changed.diff.splitlines()[2:] if line[:1] in "+-"]
    assert changed_lines == ["-  replicas: 1", "+  replicas: 3"]
    assert t.live("Deployment", "web")["spec"]["replicas"] == 1


def test_secrets_are_never_sent_read_or_diffed(proxied_target: ProxiedTarget) -> None:
    t = proxied_target
    for send in (apply_manifests, diff_manifests):
        with pytest.raises(ClusterError) as refused:
            send(t.context, t.namespace, [config_map(), secret(password="hunter2")])
        assert refused.value.kind == "unsupported" and "never sends Secrets" in refused.value.message
        assert "hunter2" not in refused.value.message
    assert t.proxy.requests_matching(None, "/(configmaps|secrets)") == []  # refused before anything was sent
    assert t.live("ConfigMap", "web-config") is None


def test_delete_removes_the_applied_objects_and_reports_those_already_gone(real_target: RealTarget) -> None:
    t = real_target
    applied = apply_manifests(t.context, t.namespace, [config_map(), nginx()])
    refs = [ObjectRef(r.api_version, r.kind, r.namespace, r.name, r.uid) for r in applied]
    refs.append(ObjectRef("v1", "Service", t.namespace, "never-made", "0b5e33a8-0000-4000-8000-000000000000"))
    results = delete_objects(t.context, refs)
    assert [(r.kind, r.outcome) for r in results] == [
        ("ConfigMap", "deleted"),
        ("Deployment", "deleted"),
        ("Service", "absent"),
    ]
    assert t.live("ConfigMap", "web-config") is None
    assert t.live("Deployment", "web") is None  # background propagation: gone at once, its Pods follow


def test_delete_leaves_an_object_that_was_replaced_since_the_deploy(real_target: RealTarget) -> None:
    t = real_target
    [first] = apply_manifests(t.context, t.namespace, [config_map()])
    delete_objects(t.context, [ObjectRef(first.api_version, "ConfigMap", t.namespace, "web-config", first.uid)])
    [second] = apply_manifests(t.context, t.namespace, [config_map()])
    assert second.uid and second.uid != first.uid
    [result] = delete_objects(t.context, [ObjectRef("v1", "ConfigMap", t.namespace, "web-config", first.uid)])
    assert (result.outcome, result.error_kind, result.status) == ("failed", "conflict", 409)
    assert "replaced since" in result.message
    assert t.live("ConfigMap", "web-config")["metadata"]["uid"] == second.uid


@pytest.mark.parametrize("name", ["../../kube-system/secrets/victim", "..", "a/b", "web?x=1", "UPPER", "web#x"])
def test_names_that_could_leave_the_request_path_are_refused_before_any_request(
    proxied_target: ProxiedTarget, name: str
) -> None:
    t = proxied_target
    with pytest.raises(ClusterError) as refused:
        apply_manifests(t.context, t.namespace, [config_map(name=name)])
    assert refused.value.kind == "invalid" and "Not sent" in refused.value.message
    with pytest.raises(ClusterError):
        delete_objects(t.context, [ObjectRef("v1", "ConfigMap", t.namespace, name, "u")])
    with pytest.raises(ClusterError):
        delete_objects(t.context, [ObjectRef("v1", "ConfigMap", "../kube-system", "web-config", "u")])
    assert t.proxy.requests == []


# ---------------------------------------------------------------------------
# Invalid objects, problems found before sending
# ---------------------------------------------------------------------------


def test_an_invalid_field_is_named(real_target: RealTarget) -> None:
    t = real_target
    imageless = pod("web", containers=[{"name": "app", "ports": [{"containerPort": 80}]}])
    [invalid] = apply_manifests(t.context, t.namespace, [imageless])
    assert (invalid.outcome, invalid.error_kind, invalid.status) == ("failed", "invalid", 422)
    assert invalid.message == "Field spec.containers[0].image is invalid: Required value"
    assert invalid.details["causes"][0]["field"] == "spec.containers[0].image"


def test_a_missing_namespace_stops_the_deploy(real_target: RealTarget) -> None:
    t = real_target
    results = apply_manifests(t.context, "no-such-namespace", [config_map(), nginx()])
    assert outcomes(results) == [("ConfigMap", "failed"), ("Deployment", "not_attempted")]
    assert (results[0].error_kind, results[0].status) == ("not_found", 404)
    assert results[0].message == (
        f"Namespace 'no-such-namespace' does not exist in the cluster at context '{t.context}'."
    )
    assert results[1].message == "Not attempted: ConfigMap 'web-config' failed first."


def test_problems_found_before_sending_raise(proxied_target: ProxiedTarget) -> None:
    t = proxied_target
    with pytest.raises(ClusterError) as unknown_kind:
        apply_manifests(t.context, t.namespace, [{"apiVersion": "example.com/v1", "kind": "Widget",
                                                  "metadata": {"name": "w"}}])
    assert (unknown_kind.value.kind, unknown_kind.value.message) == (
        "unsupported",
        "Pod Studio cannot deploy Widget (example.com/v1) objects.",
    )
    with pytest.raises(ClusterError) as nameless:
        apply_manifests(t.context, t.namespace, [{"apiVersion": "v1", "kind": "ConfigMap"}])
    assert nameless.value.kind == "invalid"
    assert t.proxy.requests == []


def test_manifests_are_not_modified(real_target: RealTarget) -> None:
    manifests = [config_map(), nginx()]
    before = copy.deepcopy(manifests)
    apply_manifests(real_target.context, real_target.namespace, manifests)
    assert manifests == before


# ---------------------------------------------------------------------------
# Native sidecars: a cluster that says it is older (the proxy answers /version)
# ---------------------------------------------------------------------------


def test_native_sidecars_are_refused_on_a_1_28_cluster_and_deploy_on_1_29(proxied_target: ProxiedTarget) -> None:
    t = proxied_target
    old = t.proxy.inject("GET", r"^/version$", answer=server_version(28), times=None)
    manifests = [config_map(), nginx(init=[SIDECAR])]
    for action in (apply_manifests, diff_manifests):
        with pytest.raises(ClusterError) as refused:
            action(t.context, t.namespace, manifests)
        assert refused.value.kind == "unsupported"
        assert refused.value.message == (
            "Native sidecars (init containers with restartPolicy: Always: 'log-shipper') need Kubernetes 1.29 "
            "or newer, but the cluster at context 'faulty' runs 1.28. Make them regular sidecar containers, "
            "or deploy to a newer cluster."
        )
    assert {(r.method, r.path) for r in t.proxy.requests} == {("GET", "/version")}
    assert old.hits == 2
    assert t.live("ConfigMap", "web-config") is None

    t.proxy.clear_faults()
    t.proxy.inject("GET", r"^/version$", answer=server_version(29), times=None)
    assert outcomes(apply_manifests(t.context, t.namespace, manifests)) == [
        ("ConfigMap", "created"), ("Deployment", "created")]
    assert t.live("Deployment", "web")["spec"]["template"]["spec"]["initContainers"][0]["restartPolicy"] == "Always"


# ---------------------------------------------------------------------------
# Failures from the cluster
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "kind", "message"),
    [
        (
            429,
            "rate_limited",
            "The cluster at context 'faulty' ({url}) is rate limiting requests "
            "(429 Too Many Requests); try again in 1 s.",
        ),
        (
            500,
            "server",
            "The cluster at context 'faulty' ({url}) reported an error (500): Internal error "
            "occurred: injected fault (500)",
        ),
    ],
)
def test_each_http_failure_has_its_kind_and_message(
    proxied_target: ProxiedTarget, status: int, kind: str, message: str
) -> None:
    t = proxied_target
    t.proxy.inject("PATCH", r"/configmaps/web-config$", status=status, times=None)
    [failed, skipped] = apply_manifests(t.context, t.namespace, [config_map(), nginx()])
    assert (failed.outcome, failed.error_kind, failed.status) == ("failed", kind, status)
    assert failed.message == message.format(url=t.proxy.url)
    assert skipped.outcome == "not_attempted"
    assert_no_credentials([failed, skipped], t.proxy.token)


def test_a_refused_patch_is_forbidden_in_the_servers_words(control_plane, limited_api, real_target: RealTarget) -> None:
    """team-a-user may read ConfigMaps in this namespace, not write them: the GET passes, the PATCH is
    refused by the real RBAC authorizer."""
    t = real_target
    rbac = client.RbacAuthorizationV1Api(t.admin)
    rbac.create_namespaced_role(t.namespace, {
        "metadata": {"name": "read-configmaps"},
        "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]}],
    })
    rbac.create_namespaced_role_binding(t.namespace, {
        "metadata": {"name": "read-configmaps"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "read-configmaps"},
        "subjects": [{"kind": "User", "name": control_plane.limited_user}],
    })
    limited = client.CoreV1Api(limited_api)
    wait_for(lambda: _may_get_configmaps(limited, t.namespace), timeout=10, pause=0.1)  # the Role took effect

    [failed, skipped] = apply_manifests(control_plane.limited_context, t.namespace, [config_map(), nginx()])

    assert (failed.outcome, failed.error_kind, failed.status) == ("failed", "forbidden", 403)
    assert failed.message == f"You (user 'team-a-user') may not patch configmaps in namespace '{t.namespace}'."
    assert skipped.outcome == "not_attempted"
    assert t.live("ConfigMap", "web-config") is None


def _may_get_configmaps(core: client.CoreV1Api, namespace: str) -> bool:
    try:
        core.read_namespaced_config_map("web-config", namespace)
    except ApiException as error:
        return error.status == 404  # allowed to look: there is none
    return True


def test_a_failure_midway_reports_exactly_what_was_applied(proxied_target: ProxiedTarget) -> None:
    t = proxied_target
    t.proxy.inject("PATCH", r"/services/web$", status=500)
    results = apply_manifests(t.context, t.namespace, [config_map(), service(), nginx()])
    assert outcomes(results) == [("ConfigMap", "created"), ("Service", "failed"), ("Deployment", "not_attempted")]
    assert t.live("ConfigMap", "web-config") is not None
    assert t.live("Service", "web") is None
    assert t.live("Deployment", "web") is None
    assert t.proxy.requests_matching(None, "/deployments/") == []


def test_a_cluster_that_does_not_answer_times_out(proxied_target: ProxiedTarget, monkeypatch) -> None:
    t = proxied_target
    monkeypatch.setattr(contexts, "DEFAULT_TIMEOUTS", Timeouts(connect=1.0, read=0.3))
    t.proxy.inject("PATCH", r"/configmaps/web-config$", stall=3.0)
    [failed] = apply_manifests(t.context, t.namespace, [config_map()])
    assert (failed.error_kind, failed.status) == ("timeout", None)
    assert failed.message == f"The cluster at context 'faulty' ({t.proxy.url}) did not answer within 0.3 s."


def test_a_dropped_connection_is_unreachable(proxied_target: ProxiedTarget) -> None:
    t = proxied_target
    t.proxy.inject("PATCH", r"/configmaps/web-config$", drop=True)
    [failed] = apply_manifests(t.context, t.namespace, [config_map()])
    assert failed.error_kind == "unreachable"
    assert failed.message.endswith("closed the connection without answering.")
    assert t.live("ConfigMap", "web-config") is None  # the PATCH never reached the server
    assert len(t.proxy.requests_matching("PATCH", "/configmaps/")) == 1  # and was not sent again


def test_an_unreachable_cluster_fails_the_first_object(tmp_path: Path, monkeypatch) -> None:
    server = f"http://127.0.0.1:{closed_port()}"
    kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", [KubeconfigContext("gone", server, "tok-gone")])
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
    results = apply_manifests("gone", "default", [config_map(), nginx()])
    assert outcomes(results) == [("ConfigMap", "failed"), ("Deployment", "not_attempted")]
    assert results[0].error_kind == "unreachable"
    assert (
        results[0].message == f"The cluster at context 'gone' ({server}) could not be reached: the connection "
        "was refused."
    )
    assert_no_credentials(results, "tok-gone")


def test_rejected_credentials_are_unauthorized(control_plane, cluster_namespace, tmp_path: Path, monkeypatch) -> None:
    """A token the real API server does not know: 401, in our words."""
    ca = base64.b64encode(control_plane.pki.ca_cert.read_bytes()).decode()
    wrong = KubeconfigContext("stale", control_plane.server, "stale-token-456", ca_data=ca)
    monkeypatch.setenv("KUBECONFIG", str(write_kubeconfig(tmp_path / "stale", [wrong])))
    [failed, skipped] = apply_manifests("stale", cluster_namespace, [config_map(), nginx()])
    assert (failed.error_kind, failed.status) == ("unauthorized", 401)
    assert failed.message == (
        f"The cluster at context 'stale' ({control_plane.server}) did not accept the credentials of user "
        "'stale-user' (401 Unauthorized). Log in again or refresh the kubeconfig, then retry."
    )
    assert skipped.outcome == "not_attempted"
    assert_no_credentials([failed, skipped], "stale-token-456")
