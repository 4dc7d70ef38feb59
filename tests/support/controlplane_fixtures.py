"""Fixtures for the real local control plane (tests/support/controlplane.py).

Not a plugin of tests/conftest.py yet: a test module imports the fixtures it uses, e.g.
``from tests.support.controlplane_fixtures import control_plane, cluster_namespace``.

- ``control_plane`` (session): a started ``ControlPlane`` (kube-apiserver, controller-manager,
  scheduler, etcd, kwok with one node ``localhost``; tests may add nodes), stopped at the end of the session. The
  binaries are built once per machine (about 19 minutes on 2 cores, cached in
  ~/.cache/pod-studio/cluster: ``make cluster-binaries``); then it starts in seconds.
  ``PODSTUDIO_REAL_CLUSTER``: unset, it runs when the binaries are built and skips (saying
  so) when they are not; ``1`` builds them if needed (the first run then takes that long);
  ``0`` always skips.
- ``control_plane_uncached`` (session): another one, with ``watch_cache=False`` (only
  started by the tests that ask for it): see ControlPlane.compact_etcd/restart_apiserver.
- ``admin_api`` / ``limited_api`` (session): ``kubernetes`` ApiClients for the contexts
  ``local-admin`` and ``local-limited`` (user team-a-user, namespace team-a only).
- ``cluster_namespace``: a fresh namespace per test (admin), deleted afterwards.
- ``real_target``: Pod Studio's view of it: ``KUBECONFIG`` points at the control plane, context
  ``local-admin``, ``cluster_namespace`` (its ``default`` ServiceAccount made, so Pods are
  admitted). A ``RealTarget``; ``live(kind, name)`` reads an object as the server stores it.
"""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support.controlplane import ControlPlane, ControlPlaneError, bin_dir, binaries_present, find_go

SKIP_ENV = "PODSTUDIO_REAL_CLUSTER"


def _skip_unless_buildable() -> None:
    wanted = os.environ.get(SKIP_ENV, "")
    if wanted == "0":
        pytest.skip(f"{SKIP_ENV}=0: the real control plane is switched off")
    if not binaries_present():
        if wanted != "1":
            pytest.skip(
                f"the control plane binaries are not built yet (in {bin_dir()}): run `make cluster-binaries` "
                f"(about 19 min on 2 cores, once) or set {SKIP_ENV}=1 to build them here"
            )
        try:
            find_go()
        except ControlPlaneError as err:
            pytest.fail(f"{SKIP_ENV}=1 but the control plane cannot be built: {err}")


def _started(tmp_path_factory: pytest.TempPathFactory, name: str, **options) -> Iterator[ControlPlane]:
    _skip_unless_buildable()
    cp = ControlPlane(tmp_path_factory.mktemp(name, numbered=True) / "state", **options)
    cp.start()
    try:
        yield cp
    finally:
        cp.stop()


@pytest.fixture(scope="session")
def control_plane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControlPlane]:
    yield from _started(tmp_path_factory, "controlplane")


@pytest.fixture(scope="session")
def control_plane_uncached(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControlPlane]:
    """A second control plane whose API server has no watch cache: watches and exact lists
    go to etcd, so that compact_etcd() makes older resourceVersions 410 Gone at once, and a
    watch resumes from its last resourceVersion after restart_apiserver()."""
    yield from _started(tmp_path_factory, "controlplane-uncached", watch_cache=False)


@pytest.fixture(scope="session")
def admin_api(control_plane: ControlPlane):
    client = control_plane.api_client(control_plane.admin_context)
    yield client
    client.close()


@pytest.fixture(scope="session")
def limited_api(control_plane: ControlPlane):
    client = control_plane.api_client(control_plane.limited_context)
    yield client
    client.close()


@pytest.fixture
def cluster_namespace(admin_api) -> Iterator[str]:
    from kubernetes import client

    core = client.CoreV1Api(admin_api)
    name = f"t-{secrets.token_hex(4)}"
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    try:
        yield name
    finally:
        core.delete_namespace(name, propagation_policy="Background")


@dataclass(frozen=True)
class RealTarget:
    """Where a test deploys with Pod Studio (``context``, ``namespace``), and the admin's client to
    check what the server has without Pod Studio."""

    kubeconfig: Path
    context: str
    namespace: str
    admin: Any  # kubernetes.client.ApiClient

    def live(self, kind: str, name: str) -> dict[str, Any] | None:
        """The object of this namespace as the server stores it (Pod, Service, ConfigMap, Secret,
        Deployment); None when there is none."""
        from kubernetes import client
        from kubernetes.client.exceptions import ApiException

        api = client.AppsV1Api(self.admin) if kind == "Deployment" else client.CoreV1Api(self.admin)
        snake = "".join(f"_{c.lower()}" if c.isupper() else c for c in kind).lstrip("_")
        try:
            found = getattr(api, f"read_namespaced_{snake}")(name, self.namespace)
        except ApiException as error:
            if error.status == 404:
                return None
            raise
        return self.admin.sanitize_for_serialization(found)


def wait_for_default_service_account(admin_api, namespace: str, timeout: float = 60.0) -> None:
    """A Pod created before the controller-manager made the namespace's ``default`` ServiceAccount
    is refused (403 "error looking up service account")."""
    from kubernetes import client
    from kubernetes.client.exceptions import ApiException

    core = client.CoreV1Api(admin_api)
    deadline = time.monotonic() + timeout
    while True:
        try:
            core.read_namespaced_service_account("default", namespace)
            return
        except ApiException as error:
            if error.status != 404 or time.monotonic() > deadline:
                raise
            time.sleep(0.1)


@pytest.fixture
def real_target(control_plane: ControlPlane, admin_api, cluster_namespace: str, monkeypatch) -> RealTarget:
    monkeypatch.setenv("KUBECONFIG", str(control_plane.kubeconfig))
    wait_for_default_service_account(admin_api, cluster_namespace)
    return RealTarget(control_plane.kubeconfig, control_plane.admin_context, cluster_namespace, admin_api)
