"""Fixtures for the stand-in Kubernetes API server (a pytest plugin, see tests/conftest.py).

- ``apiserver``: a started ``ApiServer`` (one per test, stopped afterwards; it starts in
  about a millisecond). It serves HTTPS with a self-signed CA when the openssl command
  exists (it does on these machines): real clusters use TLS, and kubectl sends bearer
  tokens only over TLS. Faults: ``apiserver.inject("POST", r"/pods$", status=403)``;
  Pod status: ``apiserver.set_pod_status(ns, name, {...})`` or PUT/PATCH .../status;
  logs: ``apiserver.add_log(ns, pod, container, "line", ...)`` / ``end_log(...)``.
- ``kubeconfig_path``: a kubeconfig file in tmp_path with contexts ``stand-in`` (current,
  namespace ``default``) and ``stand-in-team`` (user ``team-a-user``, namespace ``team-a``).
- ``kubeconfig_env``: the same path, also set as ``KUBECONFIG`` for the test.
- ``cluster_target``: where tests that can also run against a real cluster deploy. With
  ``PODSTUDIO_TEST_KUBECONFIG`` set it is that cluster (context ``PODSTUDIO_TEST_CONTEXT``
  or the file's current one) and a fresh namespace that is deleted afterwards; otherwise
  the stand-in. ``KUBECONFIG`` is set either way.
- ``standin_target``: like ``cluster_target`` but always the stand-in; skips when a real
  cluster was asked for, because such tests need its fault injection or test controls.
- ``server``: the stand-in ``ApiServer`` of ``standin_target`` (same skip), for tests that put
  objects, statuses and logs on it.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.apiserver import ApiServer, tls_available
from tests.support.controlplane_fixtures import real_control_plane_wanted
from tests.support.kubeconfig import STANDIN_CONTEXT, write_standin_kubeconfig

REAL_CLUSTER_ENV = "PODSTUDIO_TEST_KUBECONFIG"
REAL_CONTEXT_ENV = "PODSTUDIO_TEST_CONTEXT"
STANDIN_ONLY_REASON = (
    f"needs the stand-in API server's test controls (fault injection, status, logs); "
    f"{REAL_CLUSTER_ENV} selects a real cluster"
)


@dataclass(frozen=True)
class ClusterTarget:
    """A kubeconfig, a context in it and a namespace to deploy into."""

    kubeconfig: Path
    context: str
    namespace: str
    server: ApiServer | None  # None on a real cluster

    @property
    def is_standin(self) -> bool:
        return self.server is not None

    def require_standin(self) -> ApiServer:
        if self.server is None:
            pytest.skip(STANDIN_ONLY_REASON)
        return self.server


def real_cluster_kubeconfig() -> Path | None:
    value = os.environ.get(REAL_CLUSTER_ENV)
    return Path(value) if value else None


@pytest.fixture
def apiserver() -> Iterator[ApiServer]:
    server = ApiServer(tls=tls_available()).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def kubeconfig_path(tmp_path: Path, apiserver: ApiServer) -> Path:
    return write_standin_kubeconfig(tmp_path / "kubeconfig", apiserver)


@pytest.fixture
def kubeconfig_env(kubeconfig_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig_path))
    return kubeconfig_path


@pytest.fixture
def standin_target(request: pytest.FixtureRequest) -> ClusterTarget:
    if real_cluster_kubeconfig() is not None:
        pytest.skip(STANDIN_ONLY_REASON)
    kubeconfig = request.getfixturevalue("kubeconfig_env")
    return ClusterTarget(kubeconfig, STANDIN_CONTEXT, "default", request.getfixturevalue("apiserver"))


@pytest.fixture
def server(standin_target: ClusterTarget) -> ApiServer:
    return standin_target.require_standin()


@pytest.fixture
def cluster_target(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[ClusterTarget]:
    """The cluster named by PODSTUDIO_TEST_KUBECONFIG; else the real local control plane when it can
    run here (tests/support/controlplane_fixtures.py); else the stand-in."""
    kubeconfig = real_cluster_kubeconfig()
    if kubeconfig is not None:
        context = os.environ.get(REAL_CONTEXT_ENV) or _current_context(kubeconfig)
    elif real_control_plane_wanted():
        control_plane = request.getfixturevalue("control_plane")
        kubeconfig, context = control_plane.kubeconfig, control_plane.admin_context
    else:
        yield request.getfixturevalue("standin_target")
        return
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
    namespace = f"podstudio-test-{secrets.token_hex(4)}"
    client = _real_client(kubeconfig, context)
    client.create_namespace({"metadata": {"name": namespace, "labels": {"podstudio.test": "true"}}})
    try:
        yield ClusterTarget(kubeconfig, context, namespace, None)
    finally:
        client.delete_namespace(namespace)


# kubernetes is imported lazily: this plugin loads for every test run, unit tests included.
def _current_context(kubeconfig: Path) -> str:
    from kubernetes import config

    _, current = config.list_kube_config_contexts(config_file=str(kubeconfig))
    return current["name"]


def _real_client(kubeconfig: Path, context: str):  # -> kubernetes.client.CoreV1Api
    from kubernetes import client, config

    return client.CoreV1Api(config.new_client_from_config(config_file=str(kubeconfig), context=context))
