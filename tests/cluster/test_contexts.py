"""Kubeconfig contexts, clients and cluster-wide questions, against the stand-in API server."""

from __future__ import annotations

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
from tests.support.apiserver import ApiServer, self_signed_certificate
from tests.support.kubeconfig import (
    STANDIN_CONTEXT,
    TEAM_CONTEXT,
    TEAM_USER,
    KubeconfigContext,
    write_kubeconfig,
    write_standin_kubeconfig,
)


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


def test_lists_the_contexts_of_kubeconfig(kubeconfig_env: Path, apiserver: ApiServer) -> None:
    assert list_contexts() == [
        ContextInfo(
            STANDIN_CONTEXT, STANDIN_CONTEXT, "stand-in-user", "default", apiserver.url, is_current=True
        ),
        ContextInfo(TEAM_CONTEXT, STANDIN_CONTEXT, TEAM_USER, "team-a", apiserver.url, is_current=False),
    ]
    assert get_context().name == STANDIN_CONTEXT
    assert get_context(TEAM_CONTEXT).namespace == "team-a"


def test_context_info_carries_no_credentials(kubeconfig_env: Path, apiserver: ApiServer) -> None:
    text = repr(list_contexts()) + str(list_contexts())
    assert_no_credentials(
        text,
        apiserver.token,
        *[
            line.split()[-1]
            for line in kubeconfig_env.read_text().splitlines()
            if line.strip().startswith("token:")
        ],
    )


def test_the_current_context_is_the_files_choice(tmp_path: Path, apiserver: ApiServer, monkeypatch) -> None:
    path = write_standin_kubeconfig(tmp_path / "kubeconfig", apiserver, current_context=TEAM_CONTEXT)
    monkeypatch.setenv("KUBECONFIG", str(path))
    assert [c.name for c in list_contexts() if c.is_current] == [TEAM_CONTEXT]
    assert get_context().namespace == "team-a"


def test_several_kubeconfig_files_merge_like_kubectl(
    tmp_path: Path, apiserver: ApiServer, monkeypatch
) -> None:
    first = write_standin_kubeconfig(tmp_path / "first", apiserver)
    other = KubeconfigContext("elsewhere", "https://10.1.2.3:6443", "other-token", namespace="ops")
    shadowed = KubeconfigContext(
        STANDIN_CONTEXT, "https://10.9.9.9:6443", "ignored-token", namespace="ignored"
    )
    second = write_kubeconfig(tmp_path / "second", [other, shadowed], current_context="elsewhere")
    monkeypatch.setenv("KUBECONFIG", os.pathsep.join([str(first), str(tmp_path / "missing"), str(second)]))

    found = {c.name: c for c in list_contexts()}
    assert sorted(found) == ["elsewhere", STANDIN_CONTEXT, TEAM_CONTEXT]
    assert found[STANDIN_CONTEXT].server == apiserver.url  # the first file wins a name
    assert found[STANDIN_CONTEXT].is_current  # and the current-context
    assert (found["elsewhere"].server, found["elsewhere"].namespace) == ("https://10.1.2.3:6443", "ops")
    assert server_version(STANDIN_CONTEXT) == (1, 33)


def test_no_kubeconfig_means_no_contexts(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "absent"))
    assert list_contexts() == []
    monkeypatch.delenv("KUBECONFIG")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert list_contexts() == []
    with pytest.raises(ClusterError) as none_selected:
        get_context()
    assert none_selected.value.kind == "not_found"


def test_the_default_kubeconfig_is_in_home(tmp_path: Path, apiserver: ApiServer, monkeypatch) -> None:
    write_standin_kubeconfig(tmp_path / ".kube" / "config", apiserver)
    monkeypatch.delenv("KUBECONFIG", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert [c.name for c in list_contexts()] == [STANDIN_CONTEXT, TEAM_CONTEXT]


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


def test_in_cluster_service_account(tmp_path: Path, apiserver: ApiServer, monkeypatch) -> None:
    if not apiserver.tls:
        pytest.skip(
            "the in-cluster configuration speaks only HTTPS; openssl is missing to make a certificate"
        )
    account = tmp_path / "serviceaccount"
    account.mkdir()
    token = apiserver.add_user("system:serviceaccount:apps:pod-studio")
    (account / "token").write_text(token)
    (account / "namespace").write_text("apps\n")
    (account / "ca.crt").write_bytes(self_signed_certificate()[0].read_bytes())
    monkeypatch.setattr(contexts, "SERVICE_ACCOUNT_DIR", account)
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "127.0.0.1")
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", str(apiserver.port))
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "absent"))

    [in_cluster] = list_contexts()
    assert in_cluster == ContextInfo(
        IN_CLUSTER, IN_CLUSTER, "service account", "apps", apiserver.url, is_current=True, in_cluster=True
    )
    assert server_version(IN_CLUSTER) == (1, 33)
    assert apiserver.requests[-1].headers["Authorization"].lower() == f"bearer {token}".lower()
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
    assert not found[IN_CLUSTER].is_current and found[STANDIN_CONTEXT].is_current


# ---------------------------------------------------------------------------
# Clients and cluster-wide questions
# ---------------------------------------------------------------------------


def test_clients_send_the_token_to_the_api_and_are_reused(kubeconfig_env: Path, apiserver: ApiServer) -> None:
    client = api_client(STANDIN_CONTEXT)
    assert api_client(STANDIN_CONTEXT) is client
    assert server_version(STANDIN_CONTEXT) == (1, 33)
    request = apiserver.requests[-1]
    assert request.headers["Authorization"] == f"Bearer {apiserver.token}"
    assert request.headers["User-Agent"] == "pod-studio"

    write_standin_kubeconfig(kubeconfig_env, apiserver, current_context=TEAM_CONTEXT)  # the file changed
    assert api_client(STANDIN_CONTEXT) is not client


def test_server_version_follows_the_cluster(kubeconfig_env: Path, apiserver: ApiServer) -> None:
    apiserver.version = "v1.28.15"
    assert server_version() == (1, 28)


def test_namespaces_list_and_create(kubeconfig_env: Path) -> None:
    assert list_namespaces() == ["default", "team-a"]
    assert create_namespace(STANDIN_CONTEXT, "shop") is True
    assert create_namespace(STANDIN_CONTEXT, "shop") is False
    assert list_namespaces(STANDIN_CONTEXT) == ["default", "shop", "team-a"]
    with pytest.raises(ClusterError) as invalid:
        create_namespace(STANDIN_CONTEXT, "Not_A_Name")
    assert invalid.value.kind == "invalid"
    assert invalid.value.message.startswith('Field metadata.name is invalid: Invalid value: "Not_A_Name"')


def test_listing_namespaces_may_be_forbidden(kubeconfig_env: Path, apiserver: ApiServer) -> None:
    apiserver.deny(TEAM_USER, "list", "namespaces")
    with pytest.raises(ClusterError) as forbidden:
        list_namespaces(TEAM_CONTEXT)
    error = forbidden.value
    assert (error.kind, error.status) == ("forbidden", 403)
    assert error.message == "You (user 'team-a-user') may not list namespaces at cluster scope."
    assert error.details["verb"] == "list"


def test_requests_time_out_by_default(kubeconfig_env: Path, apiserver: ApiServer, monkeypatch) -> None:
    monkeypatch.setattr(contexts, "DEFAULT_TIMEOUTS", Timeouts(connect=1.0, read=0.3))
    apiserver.inject("GET", r"^/version$", stall=3.0)
    with pytest.raises(ClusterError) as slow:
        server_version()
    assert (slow.value.kind, slow.value.status) == ("timeout", None)
    assert (
        slow.value.message
        == f"The cluster at context 'stand-in' ({apiserver.url}) did not answer within 0.3 s."
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


def test_rejected_credentials(tmp_path: Path, apiserver: ApiServer, monkeypatch) -> None:
    wrong = KubeconfigContext("stale", apiserver.url, "expired-token-123", ca_data=apiserver.ca_data)
    monkeypatch.setenv("KUBECONFIG", str(write_kubeconfig(tmp_path / "kubeconfig", [wrong])))
    with pytest.raises(ClusterError) as rejected:
        list_namespaces("stale")
    error = rejected.value
    assert (error.kind, error.status) == ("unauthorized", 401)
    assert error.message.startswith(
        f"The cluster at context 'stale' ({apiserver.url}) did not accept the "
        "credentials of user 'stale-user' (401 Unauthorized)."
    )
    assert_no_credentials(repr(error) + str(error.details), "expired-token-123", apiserver.token)


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
