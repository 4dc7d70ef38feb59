"""Every workload kind on the real local control plane: shared by tests/cluster_real/test_kinds_real.py
and tests/e2e/test_runtime_kinds.py.

- ``kind_composition(kind, …)``: an example composition (composer/domain/examples.py) made another kind
  with ``edits.change_kind``, as a user does it in the Pod settings, plus the kind's key fields;
- ``kubectl`` / ``kubectl_json``: kubectl of the server's version as the admin, never through Pod Studio;
- ``extra_node`` (a fixture: import ``extra_node_fixture``): a second node for kwok to simulate, tainted
  so that only Pods that tolerate it go there (``TOLERATE_EXTRA_NODE``), removed after the test: a
  DaemonSet then runs one Pod per node;
- ``hold(stage)`` / ``release``: a kwok stage held for a Pod until a test lets it pass (``HOLD_JOB_POD``:
  a Job's Pod does not complete; ``hold(READY_STAGE)``: a Pod does not get Ready; docs/testing.md,
  "kwok: what a Pod goes through");
- the HTTP API, as tests/web use it (Django's test client; local mode needs no login).
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from kubernetes import client as k8s
from kubernetes.client.exceptions import ApiException

from composer.domain import edits
from composer.domain.examples import EXAMPLES_BY_ID
from composer.domain.kinds import set_path
from composer.domain.model import Composition
from composer.models import SavedComposition
from tests.support.controlplane import ControlPlane, ensure_kubectl

ADMIN = "local-admin"
TIMEOUT = 60.0

# Which example each kind starts from: an init container for the ordinals and the Job, a sidecar on
# every node, a ConfigMap beside a ReplicaSet and a CronJob.
EXAMPLE_OF = {"StatefulSet": "init-html", "DaemonSet": "log-tailer", "ReplicaSet": "config-merger",
              "Job": "init-html", "CronJob": "config-merger"}

EXTRA_NODE_TAINT = "pod-studio.test/extra-node"
TOLERATE_EXTRA_NODE = [{"key": EXTRA_NODE_TAINT, "operator": "Exists", "effect": "NoSchedule"}]

# kwok completes a Job's Running Pod at once (its pod-complete stage) and makes a Pod Ready a moment after
# its init containers (pod-ready): these annotations hold a Pod at that stage until release() (kwok takes
# the smaller of delay and jitter-delay, so both are set).
COMPLETE_STAGE = "pod-complete.stage.kwok.x-k8s.io"
READY_STAGE = "pod-ready.stage.kwok.x-k8s.io"


def hold(stage: str) -> dict[str, str]:
    return {f"{stage}/delay": "1h", f"{stage}/jitter-delay": "1h"}


HOLD_JOB_POD = hold(COMPLETE_STAGE)
CONTAINER_FAILS = "pod-container-running-failed.stage.kwok.x-k8s.io"  # a label: kwok's chaos stage, exit code 1


def kind_composition(kind: str, *, replicas: int | None = None, labels: dict[str, str] | None = None,
                     annotations: dict[str, str] | None = None, **key_fields: Any) -> Composition:
    """``EXAMPLE_OF[kind]`` made a ``kind``; ``key_fields`` by their path in the kind's spec
    (``completions=2``, ``schedule="* * * * *"``, ``jobTemplate.spec.backoffLimit`` as a dict entry)."""
    composition = EXAMPLES_BY_ID[EXAMPLE_OF[kind]].build()
    edits.change_kind(composition, kind)
    if replicas is not None:
        composition.workload.replicas = replicas
    composition.workload.labels.update(labels or {})
    composition.workload.annotations.update(annotations or {})
    for path, value in key_fields.items():
        set_path(composition.workload.extra, path, value)
    if kind == "DaemonSet":
        composition.options.extra["tolerations"] = TOLERATE_EXTRA_NODE
    return composition


def saved(composition: Composition) -> SavedComposition:
    return SavedComposition.create(composition)


# ---------------------------------------------------------------------------
# kubectl, as the admin
# ---------------------------------------------------------------------------


def kubectl(cp: ControlPlane, *args: str, stdin: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(ensure_kubectl()), "--kubeconfig", str(cp.kubeconfig), "--context", ADMIN, *args],
        input=stdin, capture_output=True, text=True, timeout=60, check=check,
    )


def kubectl_json(cp: ControlPlane, namespace: str, *what: str) -> dict[str, Any]:
    return json.loads(kubectl(cp, "-n", namespace, "get", *what, "-o", "json").stdout)


def names(cp: ControlPlane, namespace: str, resource: str, *selector: str) -> list[str]:
    """``kubectl get <resource> -o name`` without the resource prefix, sorted."""
    out = kubectl(cp, "-n", namespace, "get", resource, *selector, "-o", "name").stdout
    return sorted(line.split("/", 1)[1] for line in out.split())


def wait_until(predicate: Callable[[], Any], what: str, timeout: float = TIMEOUT) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not reached in {timeout} s")
        time.sleep(0.2)
    return value


def release(cp: ControlPlane, namespace: str, pod: str, stage: str = COMPLETE_STAGE) -> None:
    """Let kwok take a held Pod (``hold(stage)``) through that stage now: kwok reads the new delay at once."""
    kubectl(cp, "-n", namespace, "annotate", "pod", pod, "--overwrite", f"{stage}/delay=0s", f"{stage}/jitter-delay=0s")


# ---------------------------------------------------------------------------
# A second node
# ---------------------------------------------------------------------------


@pytest.fixture(name="extra_node")
def extra_node_fixture(control_plane: ControlPlane, admin_api) -> Iterator[str]:
    """A second node kwok simulates (it manages every node annotated ``kwok.x-k8s.io/node: fake``),
    tainted so that only Pods tolerating ``EXTRA_NODE_TAINT`` go there. Deleted afterwards: a test
    undeploys first, since Pods left on a node that is gone stay until the Pod garbage collector
    removes them (about a minute and a half later)."""
    core = k8s.CoreV1Api(admin_api)
    name = f"extra-{int(time.time() * 1000) % 10**8}"
    core.create_node({
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": name, "annotations": {"kwok.x-k8s.io/node": "fake"},
                     "labels": {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux",
                                "kubernetes.io/arch": "amd64", "type": "kwok"}},
        "spec": {"taints": [{"key": EXTRA_NODE_TAINT, "value": "true", "effect": "NoSchedule"}]},
    })
    try:
        wait_until(lambda: any(c.type == "Ready" and c.status == "True"
                               for c in core.read_node(name).status.conditions or []), f"node {name} Ready")
        yield name
    finally:
        try:
            core.delete_node(name)
        except ApiException as error:
            if error.status != 404:
                raise


# ---------------------------------------------------------------------------
# The HTTP API
# ---------------------------------------------------------------------------


def api_post(django_client, path: str, body: dict[str, Any]):
    return django_client.post(f"/api/v1/{path}", data=json.dumps(body), content_type="application/json")


def api_deploy(django_client, composition: SavedComposition, namespace: str, **flags: Any):
    return api_post(django_client, f"compositions/{composition.pk}/deploy",
                    {"context": ADMIN, "namespace": namespace, **flags})


def api_diff(django_client, composition: SavedComposition, namespace: str) -> dict[str, dict[str, Any]]:
    response = api_post(django_client, f"compositions/{composition.pk}/diff",
                        {"context": ADMIN, "namespace": namespace})
    assert response.status_code == 200, response.json()
    return {f"{d['kind']}/{d['name']}": d for d in response.json()["diffs"]}


def api_status(django_client, record_id: int) -> dict[str, Any]:
    response = django_client.get(f"/api/v1/deployments/{record_id}/status")
    assert response.status_code == 200, response.content
    return response.json()


def status_when(django_client, record_id: int, done: Callable[[dict[str, Any]], bool], what: str,
                timeout: float = TIMEOUT) -> dict[str, Any]:
    """Poll the status API until its answer satisfies ``done``: that answer."""
    deadline = time.monotonic() + timeout
    while not done(body := api_status(django_client, record_id)):
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not reached in {timeout} s; last answer: {body}")
        time.sleep(0.25)
    return body
