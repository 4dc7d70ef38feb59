"""Runtime tests against the real local control plane (tests/support/controlplane.py).

Shared by tests/cluster_real/test_runtime_real.py and the runtime page, API and stream tests
(tests/web/, tests/e2e/): Pods that the real scheduler and kwok (as the kubelet) walk through
their states, and their logs as kwok's CRI log files. A module imports the fixture it uses:
``from tests.support.realruntime import cluster_fixture`` (a fixture named ``cluster``).

- ``cluster`` (per test): the session's control plane (watch cache on, as real clusters) as Pod
  Studio sees it: ``KUBECONFIG`` points at it, a fresh namespace whose ``default``
  ServiceAccount exists (Pods created before it are refused). A ``Cluster``.
- ``Cluster``: ``create_pod`` / ``create_deployment`` (the real ``kubernetes`` client, admin),
  ``pod_when`` / ``snapshot_when`` (poll Pod Studio's snapshot until the newest Pod, or the
  snapshot, satisfies a condition),
  ``set_logs`` (serve lines for a Pod's containers through kwok).
- ``pod`` / ``deployment`` / ``container`` manifests and the kwok stage names that slow Pods
  down or make them fail (docs/testing.md, "kwok: what a Pod goes through").
- ``write_log`` / ``append_log``: replace, or add to, a container's log file (kwok reads it at
  every request, and a followed log sees what is appended).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from kubernetes import client

from composer.cluster.feed import StatusSnapshot, Workload, pod_statuses
from composer.cluster.pods import PodStatus
from tests.support.controlplane import ControlPlane, cri_log_lines
from tests.support.controlplane_fixtures import wait_for_default_service_account

TIMEOUT = 60.0  # seconds for anything kwok does (its steps take 0.1-0.25 s here, unless slowed down)

# kwok's stages (docs/testing.md, "kwok: what a Pod goes through")
INIT_STEP = "pod-init-container-running.stage.kwok.x-k8s.io"  # our in-order stage reads its delays
INIT_FAILS = "pod-init-container-running-failed.stage.kwok.x-k8s.io"
CRASH_LOOP = "pod-studio.test/crash-loop"
IMAGE_PULL_FAILS = "pod-studio.test/image-pull-failure"


class Cluster:
    def __init__(self, cp: ControlPlane, api, namespace: str) -> None:
        self.cp, self.api, self.namespace = cp, api, namespace
        self.context = cp.admin_context
        self.core = client.CoreV1Api(api)
        self.apps = client.AppsV1Api(api)

    def create_pod(self, manifest: dict) -> dict:
        self.core.create_namespaced_pod(self.namespace, manifest)
        return manifest

    def create_deployment(self, manifest: dict) -> dict:
        self.apps.create_namespaced_deployment(self.namespace, manifest)
        return manifest

    def snapshot(self, workload: dict | Workload, **options) -> StatusSnapshot:
        return pod_statuses(self.context, self.namespace, workload, **options)

    def pod_when(self, manifest: dict, done: Callable[[PodStatus], bool], timeout: float = TIMEOUT) -> PodStatus:
        """Poll pod_statuses (with Events) until its newest Pod satisfies ``done``: that PodStatus."""
        deadline = time.monotonic() + timeout
        while True:
            pods = self.snapshot(manifest).pods
            if pods and done(pods[0]):
                return pods[0]
            if time.monotonic() > deadline:
                raise AssertionError(f"not reached in {timeout} s: {pods[0] if pods else 'no Pod'}")
            time.sleep(0.2)

    def snapshot_when(self, workload: dict | Workload, done: Callable[[StatusSnapshot], bool],
                      timeout: float = TIMEOUT) -> StatusSnapshot:
        """Poll pod_statuses (with Events) until a snapshot satisfies ``done``: that snapshot."""
        deadline = time.monotonic() + timeout
        while not done(snapshot := self.snapshot(workload)):
            if time.monotonic() > deadline:
                raise AssertionError(f"not reached in {timeout} s: {snapshot}")
            time.sleep(0.2)
        return snapshot

    def set_logs(self, pod: str, logs: dict[str, list[str]], previous: dict[str, list[str]] | None = None
                 ) -> dict[str, Path]:
        """Serve ``logs`` (container -> lines) for a Pod of this namespace: the log files, by container."""
        return self.cp.set_pod_logs(self.namespace, pod, logs, previous=previous)


@pytest.fixture(name="cluster")
def cluster_fixture(control_plane: ControlPlane, admin_api, cluster_namespace: str, monkeypatch) -> Iterator[Cluster]:
    monkeypatch.setenv("KUBECONFIG", str(control_plane.kubeconfig))
    wait_for_default_service_account(admin_api, cluster_namespace)
    yield Cluster(control_plane, admin_api, cluster_namespace)


def container(name: str, image: str = "", **extra) -> dict:
    return {"name": name, "image": image or f"registry.example/{name}:1", **extra}


def pod(name: str, *, labels=None, annotations=None, init=(), containers=None, **spec) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": {"app": name, **(labels or {})}, "annotations": annotations or {}},
        "spec": {"initContainers": list(init), "containers": containers or [container("app")], **spec},
    }


def deployment(name: str, *, replicas: int = 1, annotations=None, init=(), containers=None) -> dict:
    template = pod(name, annotations=annotations, init=init, containers=containers)
    del template["apiVersion"], template["kind"], template["metadata"]["name"]
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}}, "template": template},
    }


# A plain init container, a native sidecar that must keep running, another init container after it.
INIT_WITH_SIDECAR = (container("wait-db"), container("proxy", restartPolicy="Always"), container("migrate"))


def write_log(path: Path, stamped: list[tuple[dt.datetime, str]]) -> None:
    """Replace a container's log file (kwok reads it at every request) with lines at chosen times."""
    path.write_text("".join(cri_log_lines([text], start=moment) for moment, text in stamped))


def append_log(path: Path, *lines: str) -> None:
    """What the container writes on: a followed log (kwok reads the file on) gets these lines."""
    with path.open("a") as log:
        log.write(cri_log_lines(list(lines)))
