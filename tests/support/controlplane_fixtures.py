"""Fixtures for the real local control plane (tests/support/controlplane.py).

Not a plugin of tests/conftest.py yet: a test module imports the fixtures it uses, e.g.
``from tests.support.controlplane_fixtures import control_plane, cluster_namespace``.

- ``control_plane`` (session): a started ``ControlPlane`` (kube-apiserver, controller-manager,
  scheduler, etcd, kwok with one node ``localhost``), stopped at the end of the session. The
  binaries are built once per machine (about 17 minutes on 2 cores, cached in
  ~/.cache/pod-studio/cluster: ``make cluster-binaries``); then it starts in seconds.
  ``PODSTUDIO_REAL_CLUSTER``: unset, it runs when the binaries are built and skips (saying
  so) when they are not; ``1`` builds them if needed (the first run then takes that long);
  ``0`` always skips.
- ``control_plane_uncached`` (session): another one, with ``watch_cache=False`` (only
  started by the tests that ask for it): see ControlPlane.compact_etcd/restart_apiserver.
- ``admin_api`` / ``limited_api`` (session): ``kubernetes`` ApiClients for the contexts
  ``local-admin`` and ``local-limited`` (user team-a-user, namespace team-a only).
- ``cluster_namespace``: a fresh namespace per test (admin), deleted afterwards.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator

import pytest

from tests.support.controlplane import ControlPlane, ControlPlaneError, bin_dir, binaries_present, find_go

SKIP_ENV = "PODSTUDIO_REAL_CLUSTER"


def real_control_plane_wanted() -> bool:
    """Whether tests that can use a real API server should use the local control plane."""
    wanted = os.environ.get(SKIP_ENV, "")
    return wanted == "1" or (wanted != "0" and binaries_present())


def _skip_unless_buildable() -> None:
    wanted = os.environ.get(SKIP_ENV, "")
    if wanted == "0":
        pytest.skip(f"{SKIP_ENV}=0: the real control plane is switched off")
    if not binaries_present():
        if wanted != "1":
            pytest.skip(
                f"the control plane binaries are not built yet (in {bin_dir()}): run `make cluster-binaries` "
                f"(about 17 min on 2 cores, once) or set {SKIP_ENV}=1 to build them here"
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
