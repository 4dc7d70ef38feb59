"""Kubeconfig contexts, clients and cluster-wide questions, against the real local control plane
through the fault-injecting proxy (tests/support/faultproxy.py): it takes a bearer token, records
every request and stalls on demand. Who may not list namespaces is in
tests/cluster_real/test_deploys_real.py (the limited context)."""

from __future__ import annotations

import base64
import os
import socket
from pathlib import Path

import pytest

from composer.cluster import contexts
from composer.cluster.contexts import (
    IN_CLUSTER,
    ContextInfo,
    Timeouts,
    api_client,
    connect,
    create_namespace,
    get_context,
    list_contexts,
    list_namespaces,
    server_version,
)
from composer.cluster.errors import ClusterError
from tests.support.faultproxy import FaultProxy
from tests.support.kubeconfig import KubeconfigContext, write_kubeconfig

CONTEXT = "local"
TEAM_CONTEXT = "team"
TEAM_USER = "team-a-user"


def ca_data(proxy: FaultProxy) -> str:
    return base64.b64encode(proxy.control_plane.pki.ca_cert.read_bytes()).decode()


def write_contexts(path: Path, proxy: FaultProxy, current_context: str = CONTEXT) -> Path:
    """``local`` (the proxy's token, namespace default) and ``team`` (user team-a-user, namespace
    team-a), both on the cluster ``local`` behind the proxy."""
    ca = ca_data(proxy)
    return write_kubeconfig(path, [
        KubeconfigContext(CONTEXT, proxy.url, proxy.token, ca_data=ca),
        KubeconfigContext(TEAM_CONTEXT, proxy.url, "team-a-token-1f3e", "team-a", cluster=CONTEXT, user=TEAM_USER,
                          ca_data=ca),
    ], current_context)


@pytest.fixture
def kubeconfig_env(tmp_path: Path, fault_proxy: FaultProxy, monkeypatch) -> Path:
    path = write_contexts(tmp_path / "kubeconfig", fault_proxy)
    monkeypatch.setenv("KUBECONFIG", str(path))
    return path


def closed_port() -> int:
    """A local port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def assert_no_credentials(text: str, *tokens: str) -> None:
    for token in tokens:
        assert token not in text


# ---------------------------------------------------------------------------
# Listing contexts
# ---------------------------------------------------------------------------


def test_lists_the_contexts_of_kubeconfig(kubeconfig_env: Path, fault_proxy: FaultProxy) -> None:
    assert list_contexts() == [
        ContextInfo(
            CONTEXT, CONTEXT, "local-user", "default", fault_proxy.url, is_current=True
        ),
        ContextInfo(TEAM_CONTEXT, CONTEXT, TEAM_USER, "team-a", fault_proxy.url, is_current=False),
    ]
    assert get_context().name == CONTEXT
    assert get_context(TEAM_CONTEXT).namespace == "team-a"


def test_context_info_carries_no_credentials(kubeconfig_env: Path, fault_proxy: FaultProxy) -> None:
    text = repr(list_contexts()) + str(list_contexts())
    assert_no_credentials(
        text,
        fault_proxy.token,
        *[
            line.split()[-1]
            for line in kubeconfig_env.read_text().splitlines()
            if line.strip().startswith("token:")
        ],
    )


def test_the_current_context_is_the_files_choice(tmp_path: Path, fault_proxy: FaultProxy, monkeypatch) -> None:
    path = write_contexts(tmp_path / "kubeconfig", fault_proxy, current_context=TEAM_CONTEXT)
    monkeypatch.setenv("KUBECONFIG", str(path))
    assert [c.name for c in list_contexts() if c.is_current] == [TEAM_CONTEXT]
    assert get_context().namespace == "team-a"


def test_several_kubeconfig_files_merge_like_kubectl(
    tmp_path: Path, fault_proxy: FaultProxy, monkeypatch
) -> None:
    first = write_contexts(tmp_path / "first", fault_proxy)
    other = KubeconfigContext("elsewhere", "https://10.1.2.3:6443", "other-token", namespace="ops")
    shadowed = KubeconfigContext(
        CONTEXT, "https://10.9.9.9:6443", "ignored-token", namespace="ignored"
    )
    second = write_kubeconfig(tmp_path / "second", [other, shadowed], current_context="elsewhere")
    monkeypatch.setenv("KUBECONFIG", os.pathsep.join([str(first), str(tmp_path / "missing"), str(second)]))

    found = {c.name: c for c in list_contexts()}
    assert sorted(found) == ["elsewhere", CONTEXT, TEAM_CONTEXT]
    assert found[CONTEXT].server == fault_proxy.url  # the first file wins a name
    assert found[CONTEXT].is_current  # and the current-context
    assert (found["elsewhere"].server, found["elsewhere"].namespace) == ("https://10.1.2.3:6443", "ops")
    assert server_version(CONTEXT) == (1, 37)


def test_no_kubeconfig_means_no_contexts(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "absent"))
    assert list_contexts() == []
    monkeypatch.delenv("KUBECONFIG")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert list_contexts() == []
    with pytest.raises(ClusterError) as none_selected:
        get_context()
    assert none_selected.value.kind == "not_found"


def test_the_default_kubeconfig_is_in_home(tmp_path: Path, fault_proxy: FaultProxy, monkeypatch) -> None:
    write_contexts(tmp_path / ".kube" / "config", fault_proxy)
    monkeypatch.delenv("KUBECONFIG", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert [c.name for c in list_contexts()] == [CONTEXT, TEAM_CONTEXT]


def test_a_broken_kubeconfig_is_reported_without_its_content(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "kubeconfig"
    path.write_text("users:\n- name: me\n  user:\n    token: s3cr3t-t0ken\ncontexts: [oops\n")
    monkeypatch.setenv("KUBECONFIG", str(path))
    with pytest.raises(ClusterError) as broken:
        list_contexts()
    assert broken.value.kind == "invalid"
    assert broken.value.message.startswith(f"The kubeconfig file {path} is not valid YAML (line")
    assert_no_credentials(repr(broken.value), "s3cr3t-t0ken")


def test_an_unknown_context_is_not_found(kubeconfig_env: Path) -> None:
    with pytest.raises(ClusterError) as unknown:
        api_client("nope")
    assert (unknown.value.kind, unknown.value.message) == (
        "not_found",
        "There is no context 'nope' in the kubeconfig.",
    )


def test_in_cluster_service_account(tmp_path: Path, fault_proxy: FaultProxy, monkeypatch) -> None:
    account = tmp_path / "serviceaccount"
    account.mkdir()
    token = fault_proxy.token
    (account / "token").write_text(token)
    (account / "namespace").write_text("apps\n")
    (account / "ca.crt").write_bytes(fault_proxy.control_plane.pki.ca_cert.read_bytes())
    monkeypatch.setattr(contexts, "SERVICE_ACCOUNT_DIR", account)
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "127.0.0.1")
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", str(fault_proxy.port))
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "absent"))

    [in_cluster] = list_contexts()
    assert in_cluster == ContextInfo(
        IN_CLUSTER, IN_CLUSTER, "service account", "apps", fault_proxy.url, is_current=True, in_cluster=True
    )
    assert server_version(IN_CLUSTER) == (1, 37)
    assert fault_proxy.requests[-1].headers["Authorization"].lower() == f"bearer {token}".lower()
    assert_no_credentials(repr(in_cluster), token)


def test_in_cluster_is_not_current_when_a_kubeconfig_chooses(
    kubeconfig_env: Path, tmp_path: Path, monkeypatch
) -> None:
    (tmp_path / "token").write_text("t")
    monkeypatch.setattr(contexts, "SERVICE_ACCOUNT_DIR", tmp_path)
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "10.0.0.1")
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", "443")
    found = {c.name: c for c in list_contexts()}
    assert found[IN_CLUSTER].server == "https://10.0.0.1:443"
    assert found[IN_CLUSTER].namespace == "default"
    assert not found[IN_CLUSTER].is_current and found[CONTEXT].is_current


# ---------------------------------------------------------------------------
# Clients and cluster-wide questions
# ---------------------------------------------------------------------------


def test_clients_send_the_token_to_the_api_and_are_reused(kubeconfig_env: Path, fault_proxy: FaultProxy) -> None:
    client = api_client(CONTEXT)
    assert api_client(CONTEXT) is client
    assert server_version(CONTEXT) == (1, 37)
    request = fault_proxy.requests[-1]
    assert request.headers["Authorization"] == f"Bearer {fault_proxy.token}"
    assert request.headers["User-Agent"] == "pod-studio"

    write_contexts(kubeconfig_env, fault_proxy, current_context=TEAM_CONTEXT)  # the file changed
    assert api_client(CONTEXT) is not client


def test_server_version_follows_the_cluster(kubeconfig_env: Path, fault_proxy: FaultProxy) -> None:
    fault_proxy.inject("GET", r"^/version$", answer={"major": "1", "minor": "28", "gitVersion": "v1.28.15"})
    assert server_version() == (1, 28)


def test_namespaces_list_and_create(kubeconfig_env: Path, fault_proxy: FaultProxy) -> None:
    shop = f"shop-{fault_proxy.port}"
    before = list_namespaces()
    assert {"default", "kube-system", "team-a"} <= set(before) and before == sorted(before)
    try:
        assert create_namespace(CONTEXT, shop) is True
        assert create_namespace(CONTEXT, shop) is False
        after = list_namespaces(CONTEXT)  # other tests' namespaces come and go meanwhile
        assert shop in after and shop not in before and after == sorted(after)
    finally:
        fault_proxy.upstream("DELETE", f"/api/v1/namespaces/{shop}")
    with pytest.raises(ClusterError) as invalid:
        create_namespace(CONTEXT, "Not_A_Name")
    assert invalid.value.kind == "invalid"
    assert invalid.value.message.startswith('Field metadata.name is invalid: Invalid value: "Not_A_Name"')


def test_requests_time_out_by_default(kubeconfig_env: Path, fault_proxy: FaultProxy, monkeypatch) -> None:
    monkeypatch.setattr(contexts, "DEFAULT_TIMEOUTS", Timeouts(connect=1.0, read=0.3))
    fault_proxy.inject("GET", r"^/version$", stall=3.0)
    with pytest.raises(ClusterError) as slow:
        server_version()
    assert (slow.value.kind, slow.value.status) == ("timeout", None)
    assert (
        slow.value.message
        == f"The cluster at context 'local' ({fault_proxy.url}) did not answer within 0.3 s."
    )
    assert connect(timeouts=Timeouts(read=7.0)).timeouts.read == 7.0


def test_an_unreachable_cluster(tmp_path: Path, monkeypatch) -> None:
    server = f"http://127.0.0.1:{closed_port()}"
    path = write_kubeconfig(tmp_path / "kubeconfig", [KubeconfigContext("gone", server, "tok-unreachable")])
    monkeypatch.setenv("KUBECONFIG", str(path))
    with pytest.raises(ClusterError) as unreachable:
        list_namespaces("gone")
    assert unreachable.value.kind == "unreachable"
    assert (
        unreachable.value.message == f"The cluster at context 'gone' ({server}) could not be reached: "
        "the connection was refused."
    )
    assert_no_credentials(repr(unreachable.value), "tok-unreachable")


def test_rejected_credentials(tmp_path: Path, fault_proxy: FaultProxy, monkeypatch) -> None:
    wrong = KubeconfigContext("stale", fault_proxy.url, "expired-token-123", ca_data=ca_data(fault_proxy))
    monkeypatch.setenv("KUBECONFIG", str(write_kubeconfig(tmp_path / "kubeconfig", [wrong])))
    with pytest.raises(ClusterError) as rejected:
        list_namespaces("stale")
    error = rejected.value
    assert (error.kind, error.status) == ("unauthorized", 401)
    assert error.message.startswith(
        f"The cluster at context 'stale' ({fault_proxy.url}) did not accept the "
        "credentials of user 'stale-user' (401 Unauthorized)."
    )
    assert_no_credentials(repr(error) + str(error.details), "expired-token-123", fault_proxy.token)


def test_a_bad_kubeconfig_entry_is_invalid(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "kubeconfig"
    path.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: broken\n"
        "contexts:\n- name: broken\n  context: {cluster: nowhere, user: me}\n"
        "users:\n- name: me\n  user: {token: abc-secret}\n"
    )
    monkeypatch.setenv("KUBECONFIG", str(path))
    with pytest.raises(ClusterError) as broken:
        api_client()
    assert broken.value.kind == "invalid"
    assert broken.value.message.startswith("The kubeconfig entry for context 'broken' cannot be used:")
    assert_no_credentials(repr(broken.value), "abc-secret")
