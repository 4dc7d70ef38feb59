"""Deploys against the real local control plane: what only a real API server can tell.

Each test calls Pod Studio's own code (``composer.cluster`` and, where the web layer matters,
the HTTP API with a SavedComposition) and checks the cluster independently, with kubectl or the
admin client: conflicts with another field manager, the defaults a real server fills in (which a
diff must not report), immutable Pods and recreate, server dry runs, RBAC refusals, the 1.37
validation of native sidecars, and deletes guarded by uid preconditions. Also a 500 for objects
that do not fit the schema, and controllers writing to an object between Pod Studio's read and its
apply.

The fixtures come from tests/support/controlplane_fixtures.py (a plugin of tests/conftest.py).
"""

from __future__ import annotations

import json
import subprocess
import time
from typing import Any

import pytest
import yaml
from kubernetes import client as k8s
from kubernetes.client.exceptions import ApiException

from composer.cluster import (
    ClusterError,
    ObjectRef,
    apply_manifests,
    create_namespace,
    delete_objects,
    diff_manifests,
    list_namespaces,
    recreate_workload,
)
from composer.cluster.errors import _FORBIDDEN
from composer.domain import edits
from composer.domain.examples import EXAMPLES_BY_ID
from composer.domain.render import render
from composer.models import DeployRecord, SavedComposition
from tests.cluster_real.test_control_plane_smoke import wait_for_pod
from tests.support import manifests
from tests.support.controlplane import ensure_kubectl
from tests.support.manifests import config_map, container, service

ADMIN = "local-admin"
LIMITED = "local-limited"


# ---------------------------------------------------------------------------
# Fixtures and helpers
# ---------------------------------------------------------------------------


@pytest.fixture
def kubeconfig_env(control_plane, monkeypatch: pytest.MonkeyPatch):
    """Pod Studio reads its contexts (local-admin, local-limited) from the control plane's kubeconfig."""
    monkeypatch.setenv("KUBECONFIG", str(control_plane.kubeconfig))
    return control_plane


@pytest.fixture
def ns(kubeconfig_env, cluster_namespace: str) -> str:
    return cluster_namespace


def kubectl(control_plane, *args: str, stdin: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
    """kubectl as the admin of the control plane (never through Pod Studio)."""
    return subprocess.run(
        [str(ensure_kubectl()), "--kubeconfig", str(control_plane.kubeconfig), "--context", ADMIN, *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=check,
    )


def kubectl_json(control_plane, namespace: str, *what: str) -> dict[str, Any]:
    done = kubectl(control_plane, "-n", namespace, "get", *what, "-o", "json", "--show-managed-fields")
    return json.loads(done.stdout)


def exists(control_plane, namespace: str, resource: str, name: str) -> bool:
    done = kubectl(control_plane, "-n", namespace, "get", resource, name, "-o", "name", check=False)
    if done.returncode != 0:
        assert "NotFound" in done.stderr, done.stderr
        return False
    return True


def wait_until(predicate, timeout: float = 60.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not reached in {timeout} s")
        time.sleep(0.2)


def changed_lines(diff: str) -> list[str]:
    """The +/- lines of a unified diff, without its ---/+++ header."""
    return [line for line in diff.splitlines()[2:] if line[:1] in "+-"]


def app(mode: str = "fast", **fields: Any) -> dict[str, Any]:
    return container("app", "nginx:1.27", env=[{"name": "MODE", "value": mode}], **fields)


def deployment(name: str = "web", *, replicas: int = 1, mode: str = "fast") -> dict[str, Any]:
    return manifests.deployment(name, replicas=replicas, containers=[app(mode)])


def pod(
    name: str = "web",
    *,
    mode: str = "fast",
    command: list[str] | None = None,
    init_containers: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    extra = {"command": command} if command else {}
    return manifests.pod(name, containers=[app(mode, ports=[{"containerPort": 80}], **extra)],
                         init=init_containers or ())


def running(core: k8s.CoreV1Api, namespace: str, name: str):
    return wait_for_pod(core, namespace, name, lambda p: p.status.phase == "Running")


# The HTTP API, as tests/web use it (Django's test client; local mode needs no login).


@pytest.fixture
def saved_example(db):
    def make(example_id: str) -> SavedComposition:
        return SavedComposition.create(EXAMPLES_BY_ID[example_id].build())

    return make


def api_post(django_client, path: str, body: dict[str, Any]):
    return django_client.post(f"/api/v1/{path}", data=json.dumps(body), content_type="application/json")


def api_deploy(django_client, saved: SavedComposition, context: str, namespace: str, **flags: Any):
    body = {"context": context, "namespace": namespace, **flags}
    return api_post(django_client, f"compositions/{saved.pk}/deploy", body)


def api_diff(django_client, saved: SavedComposition, context: str, namespace: str) -> dict[str, dict[str, Any]]:
    response = api_post(django_client, f"compositions/{saved.pk}/diff", {"context": context, "namespace": namespace})
    assert response.status_code == 200, response.json()
    return {f"{d['kind']}/{d['name']}": d for d in response.json()["diffs"]}


# ---------------------------------------------------------------------------
# 1. Another field manager
# ---------------------------------------------------------------------------


def test_a_field_owned_by_another_manager_conflicts_until_forced(control_plane, ns) -> None:
    kubectl(
        control_plane, "-n", ns, "apply", "--server-side", "--field-manager=someone-else", "-f", "-",
        stdin=yaml.safe_dump(deployment(replicas=2)),
    )

    [conflict] = apply_manifests(ADMIN, ns, [deployment(replicas=3)])

    assert (conflict.outcome, conflict.error_kind, conflict.status) == ("failed", "conflict", 409)
    assert conflict.message == (
        "Conflict: field .spec.replicas is managed by 'someone-else'; deploy again with force to take it over."
    )
    assert conflict.details == {"conflicts": [{"field": ".spec.replicas", "manager": "someone-else"}]}
    assert kubectl_json(control_plane, ns, "deployment", "web")["spec"]["replicas"] == 2

    # The diff says why the deploy would be refused, and shows exactly the change (a forced dry run).
    [diff] = diff_manifests(ADMIN, ns, [deployment(replicas=3)])
    assert diff.refusal == conflict.message
    assert changed_lines(diff.diff) == ["-  replicas: 2", "+  replicas: 3"]

    [forced] = apply_manifests(ADMIN, ns, [deployment(replicas=3)], force=True)

    assert forced.outcome == "configured"
    stored = kubectl_json(control_plane, ns, "deployment", "web")
    assert stored["spec"]["replicas"] == 3
    owners = {entry["manager"]: entry for entry in stored["metadata"]["managedFields"] if entry["operation"] == "Apply"}
    assert "f:replicas" in owners["pod-studio"]["fieldsV1"]["f:spec"]
    # Taken over: someone-else still co-owns the fields both applied with the same value, not replicas.
    assert "f:replicas" not in owners["someone-else"]["fieldsV1"]["f:spec"]
    assert "f:selector" in owners["someone-else"]["fieldsV1"]["f:spec"]
    assert apply_manifests(ADMIN, ns, [deployment(replicas=3)])[0].outcome == "unchanged"  # no conflict left


def test_kubectl_scale_and_set_env_are_named_as_the_managers_in_the_way(control_plane, ns) -> None:
    """Imperative kubectl commands own fields too (kubectl scale through the scale subresource)."""
    apply_manifests(ADMIN, ns, [deployment()])
    kubectl(control_plane, "-n", ns, "scale", "deployment/web", "--replicas=4")
    kubectl(control_plane, "-n", ns, "set", "env", "deployment/web", "MODE=slow")

    [conflict] = apply_manifests(ADMIN, ns, [deployment()])

    assert conflict.error_kind == "conflict"
    # The server lists the conflicts in no fixed order.
    assert sorted(conflict.details["conflicts"], key=lambda c: c["field"]) == [
        {"field": ".spec.replicas", "manager": "kubectl"},
        {"field": '.spec.template.spec.containers[name="app"].env[name="MODE"].value', "manager": "kubectl-set"},
    ]
    assert conflict.message.startswith("Conflict: fields ")
    assert ".spec.replicas (managed by 'kubectl')" in conflict.message
    assert """.spec.template.spec.containers[name="app"].env[name="MODE"].value (managed by 'kubectl-set')""" in (
        conflict.message
    )
    assert conflict.message.endswith("are managed by other tools; deploy again with force to take them over.")
    [diff] = diff_manifests(ADMIN, ns, [deployment()])
    assert changed_lines(diff.diff) == ["-  replicas: 4", "+  replicas: 1", "-          value: slow",
                                        "+          value: fast"]


def test_a_conflict_through_the_api_is_a_409_and_force_takes_it_over(control_plane, ns, saved_example, client) -> None:
    saved = saved_example("good-citizen")
    rendered = next(m for m in _rendered(saved) if m["kind"] == "Deployment")
    rendered["spec"]["replicas"] = 2
    kubectl(control_plane, "-n", ns, "apply", "--server-side", "--field-manager=someone-else", "-f", "-",
            stdin=yaml.safe_dump(rendered))
    composition = saved.composition()
    composition.workload.replicas = 3
    saved.record(composition, "three")

    refused = api_deploy(client, saved, ADMIN, ns)

    assert refused.status_code == 409, refused.json()
    body = refused.json()
    assert body["outcome"] == "partial" and body["error_kind"] == "conflict"  # the Service went first
    assert "field .spec.replicas is managed by 'someone-else'" in body["message"]
    assert "deploy again with force to take it over" in body["message"]

    forced = api_deploy(client, saved, ADMIN, ns, force=True)
    assert forced.status_code == 201, forced.json()
    assert {r["kind"]: r["outcome"] for r in forced.json()["results"]} == {"Service": "unchanged",
                                                                           "Deployment": "configured"}
    assert kubectl_json(control_plane, ns, "deployment", "citizen")["spec"]["replicas"] == 3


def _rendered(saved: SavedComposition) -> list[dict[str, Any]]:
    return render(saved.composition())


# ---------------------------------------------------------------------------
# 2. Server defaults are not differences
# ---------------------------------------------------------------------------


def test_a_diff_after_a_deploy_is_empty_and_an_edit_shows_only_that_field(control_plane, ns, saved_example,
                                                                          client) -> None:
    saved = saved_example("good-citizen")
    composition = saved.composition()
    composition.app.env = [{"name": "MODE", "value": "fast"}]
    saved.record(composition, "mode")
    assert api_deploy(client, saved, ADMIN, ns).status_code == 201

    # The real server filled in what the manifests never said...
    live = kubectl_json(control_plane, ns, "deployment", "citizen")
    template = live["spec"]["template"]["spec"]
    assert (template["dnsPolicy"], template["schedulerName"]) == ("ClusterFirst", "default-scheduler")
    app = template["containers"][0]
    assert (app["imagePullPolicy"], app["terminationMessagePath"]) == ("IfNotPresent", "/dev/termination-log")
    assert app["ports"][0]["protocol"] == "TCP"
    assert live["spec"]["strategy"]["rollingUpdate"] == {"maxSurge": "25%", "maxUnavailable": "25%"}
    assert kubectl_json(control_plane, ns, "service", "citizen")["spec"]["clusterIP"]

    # ...and a diff does not report any of it.
    diffs = api_diff(client, saved, ADMIN, ns)
    assert {key: (d["new"], d["changed"], d["diff"]) for key, d in diffs.items()} == {
        "Service/citizen": (False, False, ""),
        "Deployment/citizen": (False, False, ""),
    }

    composition.app.env = [{"name": "MODE", "value": "slow"}]
    saved.record(composition, "slow")
    diffs = api_diff(client, saved, ADMIN, ns)
    assert diffs["Service/citizen"]["changed"] is False
    assert changed_lines(diffs["Deployment/citizen"]["diff"]) == ["-          value: fast", "+          value: slow"]
    assert diffs["Deployment/citizen"]["refusal"] == ""

    assert api_deploy(client, saved, ADMIN, ns).status_code == 201
    composition.workload.replicas = 4
    saved.record(composition, "four")
    diffs = api_diff(client, saved, ADMIN, ns)
    assert changed_lines(diffs["Deployment/citizen"]["diff"]) == ["-  replicas: 1", "+  replicas: 4"]
    assert kubectl_json(control_plane, ns, "deployment", "citizen")["spec"]["replicas"] == 1  # a diff stores nothing


def test_a_write_by_someone_else_between_read_and_apply_is_not_our_change(
    admin_api, ns, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Right after a deploy the Deployment controller writes its revision annotation; when that
    lands between Pod Studio's GET and its PATCH, neither the diff nor a deploy again may call it
    a change. Here another writer annotates the object at exactly that moment."""
    from composer.cluster import apply as apply_module

    apps = k8s.AppsV1Api(admin_api)
    apply_manifests(ADMIN, ns, [deployment()])
    send = apply_module._server_side_apply
    writes = iter(range(2))

    def someone_writes_first(connection, target, **options):
        if next(writes, None) is not None:
            apps.patch_namespaced_deployment("web", ns, {"metadata": {"annotations": {"other/tool": "touched"}}})
        return send(connection, target, **options)

    monkeypatch.setattr(apply_module, "_server_side_apply", someone_writes_first)
    [diff] = diff_manifests(ADMIN, ns, [deployment()])
    assert (diff.changed, diff.diff) == (False, "")
    [again] = apply_manifests(ADMIN, ns, [deployment()])
    assert again.outcome == "unchanged"
    assert apps.read_namespaced_deployment("web", ns).metadata.annotations["other/tool"] == "touched"
    # A real change is still one, though someone else wrote as well.
    writes = iter(range(1))
    [changed] = apply_manifests(ADMIN, ns, [deployment(mode="slow")])
    assert changed.outcome == "configured"


def test_deploy_then_diff_then_deploy_again_at_full_speed(ns) -> None:
    """The same race, as it happens: no pause between the deploy and the diff."""
    for index in range(15):
        manifests = [config_map(f"c{index}"), deployment(f"d{index}")]
        apply_manifests(ADMIN, ns, manifests)
        assert [d.diff for d in diff_manifests(ADMIN, ns, manifests)] == ["", ""], index
        assert [r.outcome for r in apply_manifests(ADMIN, ns, manifests)] == ["unchanged", "unchanged"], index


def test_no_example_differs_from_itself_right_after_its_deploy(control_plane, ns, saved_example, client) -> None:
    """Every example composition (Pods, Deployments, Services, ConfigMaps, init containers, probes,
    security contexts, volumes …): deployed, then diffed, every object is unchanged."""
    for example_id in sorted(EXAMPLES_BY_ID):
        saved = saved_example(example_id)
        deployed = api_deploy(client, saved, ADMIN, ns)
        assert deployed.status_code == 201, (example_id, deployed.json()["message"])
        changed = {key: d["diff"] for key, d in api_diff(client, saved, ADMIN, ns).items() if d["changed"]}
        assert changed == {}, example_id


# ---------------------------------------------------------------------------
# 3. Immutable Pods, and recreate
# ---------------------------------------------------------------------------


def test_an_immutable_pod_change_is_refused_in_our_words_and_recreate_applies_it(admin_api, ns) -> None:
    core = k8s.CoreV1Api(admin_api)
    [created] = apply_manifests(ADMIN, ns, [pod(mode="fast")])
    running(core, ns, "web")
    changed = pod(mode="slow", command=["nginx", "-g", "daemon off;"])

    [refused] = apply_manifests(ADMIN, ns, [changed])

    assert (refused.outcome, refused.error_kind, refused.status) == ("failed", "immutable", 422)
    assert refused.message == (
        "Pod 'web' cannot be changed in place: a running Pod only accepts new container images "
        "(and a few scheduling fields). Delete and recreate the Pod to apply this change."
    )
    # The real server names the whole spec and quotes a Go struct diff.
    assert refused.details["fields"] == ["spec"]
    assert "pod updates may not change fields" in refused.details["causes"][0]["message"]
    assert core.read_namespaced_pod("web", ns).spec.containers[0].env[0].value == "fast"

    # The diff still shows the change, and only it: not the defaults and the service account's
    # token volume the server added.
    [diff] = diff_manifests(ADMIN, ns, [changed])
    assert diff.refusal == refused.message
    assert changed_lines(diff.diff) == [
        "-  - env:",
        "+  - command:",
        "+    - nginx",
        "+    - -g",
        "+    - daemon off;",
        "+    env:",
        "-      value: fast",
        "+      value: slow",
    ]

    recreated = recreate_workload(ADMIN, ns, changed)

    assert (recreated.outcome, recreated.status) == ("created", 201)
    assert recreated.uid and recreated.uid != created.uid
    stored = core.read_namespaced_pod("web", ns)
    assert stored.metadata.uid == recreated.uid
    assert stored.spec.containers[0].env[0].value == "slow"
    assert stored.spec.containers[0].command == ["nginx", "-g", "daemon off;"]
    assert running(core, ns, "web").metadata.uid == recreated.uid
    [same] = diff_manifests(ADMIN, ns, [changed])
    assert (same.changed, same.refusal) == (False, "")


def test_a_removed_env_var_of_an_immutable_pod_shows_as_removed(admin_api, ns) -> None:
    """What Pod Studio applied before and no longer sends goes; what the server added stays."""
    first = pod()
    first["spec"]["containers"][0]["env"].append({"name": "DEBUG", "value": "1"})
    apply_manifests(ADMIN, ns, [first])
    [diff] = diff_manifests(ADMIN, ns, [pod()])
    assert diff.refusal.startswith("Pod 'web' cannot be changed in place")
    assert changed_lines(diff.diff) == ["-    - name: DEBUG", "-      value: '1'"]


def test_an_immutable_change_through_the_api_is_a_422(control_plane, ns, saved_example, client) -> None:
    saved = saved_example("log-tailer")
    assert api_deploy(client, saved, ADMIN, ns).status_code == 201
    composition = saved.composition()
    edits.update_params(composition, "h1", {"log_dir": "/logs", "log_file": "other.log"})
    saved.record(composition, "other log")

    response = api_deploy(client, saved, ADMIN, ns)

    assert response.status_code == 422, response.json()
    body = response.json()
    assert (body["outcome"], body["error_kind"]) == ("failed", "immutable")
    assert "Pod 'timecheck' cannot be changed in place" in body["message"]
    diff = api_diff(client, saved, ADMIN, ns)["Pod/timecheck"]
    # The tailed file and nothing else (Pod Studio writes no annotation that would change with it).
    assert changed_lines(diff["diff"]) == ["-    - /logs/app.log", "+    - /logs/other.log"]
    assert "cannot be changed in place" in diff["refusal"]


# ---------------------------------------------------------------------------
# Objects that do not fit the schema: the real server answers 500
# ---------------------------------------------------------------------------


def test_a_manifest_that_does_not_fit_the_schema_is_invalid_not_a_cluster_failure(admin_api, ns) -> None:
    wrong_type = deployment()
    wrong_type["spec"]["replicas"] = "3"
    # What the server says: 500, although the object is at fault (server-side apply's typed patch).
    with pytest.raises(ApiException) as raw:
        k8s.AppsV1Api(admin_api).patch_namespaced_deployment(
            "web", ns, {**wrong_type, "metadata": {"name": "web", "namespace": ns}}, field_manager="raw",
            _content_type="application/apply-patch+yaml",
        )
    assert raw.value.status == 500
    assert "failed to create typed patch object" in json.loads(raw.value.body)["message"]

    [refused] = apply_manifests(ADMIN, ns, [wrong_type])
    assert (refused.outcome, refused.error_kind, refused.status) == ("failed", "invalid", 500)
    assert refused.message == (
        "The cluster rejected Deployment 'web': .spec.replicas: expected numeric (int or float), got string."
    )

    typo = pod()
    typo["spec"]["containers"][0]["readinesProbe"] = {"tcpSocket": {"port": 80}}
    duplicate = pod("twice")
    duplicate["spec"]["containers"].append({"name": "app", "image": "busybox:1.36"})
    quantity = pod("greedy")
    quantity["spec"]["containers"][0]["resources"] = {"limits": {"cpu": "lots"}}
    messages = [r.message for r in apply_manifests(ADMIN, ns, [typo], dry_run=True)
                + apply_manifests(ADMIN, ns, [duplicate]) + apply_manifests(ADMIN, ns, [quantity])]
    assert messages == [
        """The cluster rejected Pod 'web': .spec.containers[name="app"].readinesProbe: field not declared in schema.""",
        """The cluster rejected Pod 'twice': .spec.containers: duplicate entries for key [name="app"].""",
        "The cluster rejected Pod 'greedy': quantities must match the regular expression "
        "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'.",
    ]
    with pytest.raises(ClusterError) as diffed:
        diff_manifests(ADMIN, ns, [wrong_type])
    assert diffed.value.kind == "invalid"


def test_a_malformed_quantity_through_the_api_is_a_422(control_plane, ns, saved_example, client) -> None:
    """The composer's checks let a CPU limit of "lots" through; the real server refuses it (with 500)."""
    saved = saved_example("good-citizen")
    composition = saved.composition()
    composition.app.resources = {"limits": {"cpu": "lots"}}
    saved.record(composition, "greedy")

    response = api_deploy(client, saved, ADMIN, ns)

    assert response.status_code == 422, response.json()
    body = response.json()
    assert (body["outcome"], body["error_kind"]) == ("partial", "invalid")
    assert body["message"].startswith(
        "Deployment citizen failed: The cluster rejected Deployment 'citizen': quantities must match"
    )
    assert not exists(control_plane, ns, "deployment", "citizen")


# ---------------------------------------------------------------------------
# 4. Dry runs
# ---------------------------------------------------------------------------


def test_a_dry_run_stores_nothing(control_plane, ns) -> None:
    manifests = [config_map(), service(), deployment()]

    results = apply_manifests(ADMIN, ns, manifests, dry_run=True)

    assert [(r.kind, r.outcome, r.status) for r in results] == [
        ("ConfigMap", "created", 201), ("Service", "created", 201), ("Deployment", "created", 201),
    ]
    assert [r.message for r in results] == [
        "ConfigMap 'web-config' would be created (server dry run).",
        "Service 'web' would be created (server dry run).",
        "Deployment 'web' would be created (server dry run).",
    ]
    # The server answered with what it would have stored (its defaults, even a uid) ...
    assert results[1].object["spec"]["clusterIP"]
    assert results[2].object["metadata"]["uid"]
    assert results[2].object["spec"]["template"]["spec"]["dnsPolicy"] == "ClusterFirst"
    # ... but nothing exists, so nothing is recorded as something an undeploy could delete.
    assert [r.uid for r in results] == [None, None, None]
    for resource, name in (("configmap", "web-config"), ("service", "web"), ("deployment", "web")):
        assert not exists(control_plane, ns, resource, name)
    time.sleep(1)  # a stored Deployment would have its ReplicaSet by now
    assert kubectl(control_plane, "-n", ns, "get", "replicasets,pods", "-o", "name").stdout == ""

    apply_manifests(ADMIN, ns, manifests)
    [would_change] = apply_manifests(ADMIN, ns, [deployment(replicas=5)], dry_run=True)
    assert (would_change.outcome, would_change.message) == (
        "configured", "Deployment 'web' would be configured (server dry run).")
    assert would_change.object["spec"]["replicas"] == 5
    assert kubectl_json(control_plane, ns, "deployment", "web")["spec"]["replicas"] == 1
    assert apply_manifests(ADMIN, ns, manifests, dry_run=True)[2].outcome == "unchanged"


def test_a_dry_run_through_the_api_is_recorded_and_stores_nothing(control_plane, ns, saved_example, client) -> None:
    response = api_deploy(client, saved_example("config-merger"), ADMIN, ns, dry_run=True)

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["action"], body["outcome"]) == ("dry-run", "succeeded")
    assert body["message"] == "Dry run passed: the server accepted every object."
    assert [(r["kind"], r["outcome"], r["uid"]) for r in body["results"]] == [
        ("ConfigMap", "created", None), ("Pod", "created", None),
    ]
    assert not exists(control_plane, ns, "configmap", "merged-config-merge-config")
    assert not exists(control_plane, ns, "pod", "merged-config")
    assert DeployRecord.objects.get().action == "dry-run"


# ---------------------------------------------------------------------------
# 5. RBAC: the limited context
# ---------------------------------------------------------------------------


def test_the_limited_context_is_refused_outside_its_namespace_in_clear_words(control_plane, ns, limited_api) -> None:
    # The server's own words first: our errors.py pattern must match them, or the message degrades.
    with pytest.raises(ApiException) as raw:
        k8s.CoreV1Api(limited_api).read_namespaced_config_map("web-config", ns)
    server_message = json.loads(raw.value.body)["message"]
    assert server_message == (
        f'configmaps "web-config" is forbidden: User "team-a-user" cannot get resource "configmaps" '
        f'in API group "" in the namespace "{ns}"'
    )
    assert _FORBIDDEN.match(server_message)

    results = apply_manifests(LIMITED, ns, [config_map(), deployment()])

    assert [(r.kind, r.outcome, r.error_kind, r.status) for r in results] == [
        ("ConfigMap", "failed", "forbidden", 403), ("Deployment", "not_attempted", None, None),
    ]
    assert results[0].message == f"You (user 'team-a-user') may not get configmaps in namespace '{ns}'."
    assert results[0].details == {"user": "team-a-user", "verb": "get", "resource": "configmaps", "group": "",
                                  "namespace": ns}
    assert not exists(control_plane, ns, "configmap", "web-config")

    # A kind outside the Role is refused inside team-a too, its API group named.
    statefulset = {**deployment("db"), "kind": "StatefulSet"}
    [refused] = apply_manifests(LIMITED, control_plane.limited_namespace, [statefulset])
    assert refused.message == "You (user 'team-a-user') may not get statefulsets (apps) in namespace 'team-a'."

    with pytest.raises(ClusterError) as diffed:
        diff_manifests(LIMITED, ns, [config_map()])
    assert (diffed.value.kind, diffed.value.status) == ("forbidden", 403)
    assert diffed.value.message == results[0].message


def test_the_limited_context_may_not_list_or_create_namespaces(kubeconfig_env) -> None:
    with pytest.raises(ClusterError) as listed:
        list_namespaces(LIMITED)
    assert (listed.value.kind, listed.value.status) == ("forbidden", 403)
    assert listed.value.message == "You (user 'team-a-user') may not list namespaces at cluster scope."
    assert listed.value.details["namespace"] is None
    assert "team-a" in list_namespaces(ADMIN)
    with pytest.raises(ClusterError) as created:
        create_namespace(LIMITED, "team-b")
    assert created.value.message == "You (user 'team-a-user') may not create namespaces at cluster scope."


def test_the_limited_context_through_the_api(control_plane, ns, saved_example, client) -> None:
    saved = saved_example("config-merger")

    refused = api_deploy(client, saved, LIMITED, ns)

    assert refused.status_code == 403, refused.json()
    body = refused.json()
    assert (body["outcome"], body["error_kind"]) == ("failed", "forbidden")
    assert body["message"].startswith(
        f"ConfigMap merged-config-merge-config failed: You (user 'team-a-user') may not get configmaps in "
        f"namespace '{ns}'."
    )
    assert "Not attempted: Pod merged-config." in body["message"]

    new_namespace = api_deploy(client, saved, LIMITED, "team-b", create_namespace=True)
    assert new_namespace.status_code == 403
    assert new_namespace.json()["message"] == (
        "You (user 'team-a-user') may not create namespaces at cluster scope."
    )
    assert not exists(control_plane, "default", "namespace", "team-b")

    diffed = api_post(client, f"compositions/{saved.pk}/diff", {"context": LIMITED, "namespace": ns})
    assert diffed.status_code == 403
    assert "may not get configmaps in namespace" in diffed.json()["error"]

    # In its own namespace the same composition deploys (and is removed again: team-a is shared).
    deployed = api_deploy(client, saved, LIMITED, control_plane.limited_namespace)
    assert deployed.status_code == 201, deployed.json()
    undeployed = client.delete(f"/api/v1/deployments/{deployed.json()['id']}")
    assert [r["outcome"] for r in undeployed.json()["results"]] == ["deleted", "deleted"]


# ---------------------------------------------------------------------------
# 6. Native sidecars, validated by 1.37
# ---------------------------------------------------------------------------


def test_a_native_sidecar_is_accepted_and_runs(admin_api, ns) -> None:
    sidecar = {"name": "proxy", "image": "envoyproxy/envoy:v1.34", "restartPolicy": "Always",
               "readinessProbe": {"tcpSocket": {"port": 9901}}}

    [created] = apply_manifests(ADMIN, ns, [pod(init_containers=[sidecar])])

    assert (created.outcome, created.status) == ("created", 201)
    started = running(k8s.CoreV1Api(admin_api), ns, "web")
    [proxy] = started.status.init_container_statuses
    assert proxy.state.running is not None and proxy.started
    assert started.spec.init_containers[0].restart_policy == "Always"
    [diff] = diff_manifests(ADMIN, ns, [pod(init_containers=[sidecar])])
    assert not diff.changed


def test_a_probe_on_a_plain_init_container_is_refused_with_the_field_named(ns) -> None:
    migrate = {"name": "migrate", "image": "busybox:1.36", "command": ["true"],
               "readinessProbe": {"tcpSocket": {"port": 9901}}}

    [refused] = apply_manifests(ADMIN, ns, [pod(init_containers=[migrate])])

    assert (refused.outcome, refused.error_kind, refused.status) == ("failed", "invalid", 422)
    assert refused.message == (
        "Field spec.initContainers[0].readinessProbe is invalid: "
        "Forbidden: may not be set for init containers without restartPolicy=Always"
    )
    assert [c["field"] for c in refused.details["causes"]] == ["spec.initContainers[0].readinessProbe"]

    in_a_template = deployment()
    in_a_template["spec"]["template"]["spec"]["initContainers"] = [migrate]
    [refused] = apply_manifests(ADMIN, ns, [in_a_template], dry_run=True)
    assert refused.error_kind == "invalid"
    assert refused.message.startswith("Field spec.template.spec.initContainers[0].readinessProbe is invalid")


def test_a_native_sidecar_composition_deploys_through_the_api(admin_api, ns, saved_example, client) -> None:
    saved = saved_example("log-tailer")
    composition = saved.composition()
    edits.set_native_sidecar(composition, "h1", True)
    saved.record(composition, "native")

    response = api_deploy(client, saved, ADMIN, ns)

    assert response.status_code == 201, response.json()
    started = running(k8s.CoreV1Api(admin_api), ns, "timecheck")
    assert [c.restart_policy for c in started.spec.init_containers] == ["Always"]
    assert all(d["changed"] is False for d in api_diff(client, saved, ADMIN, ns).values())


# ---------------------------------------------------------------------------
# 7. Undeploy: exactly what was applied, guarded by uid
# ---------------------------------------------------------------------------


def test_undeploy_deletes_exactly_what_the_deploy_applied(control_plane, ns, saved_example, client) -> None:
    kubectl(control_plane, "-n", ns, "create", "configmap", "not-ours", "--from-literal=a=b")
    saved = saved_example("good-citizen")
    deployed = api_deploy(client, saved, ADMIN, ns).json()
    wait_until(lambda: kubectl(control_plane, "-n", ns, "get", "pods", "-l", "app=citizen", "-o", "name").stdout,
               what="the Deployment's Pod")

    response = client.delete(f"/api/v1/deployments/{deployed['id']}")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert [(r["kind"], r["name"], r["outcome"]) for r in body["results"]] == [
        ("Deployment", "citizen", "deleted"), ("Service", "citizen", "deleted"),
    ]
    assert not exists(control_plane, ns, "deployment", "citizen")
    assert not exists(control_plane, ns, "service", "citizen")
    assert exists(control_plane, ns, "configmap", "not-ours")
    # The real garbage collector takes the ReplicaSet and its Pods with the Deployment.
    wait_until(lambda: kubectl(control_plane, "-n", ns, "get", "replicasets,pods", "-o", "name").stdout == "",
               what="the ReplicaSet and Pods garbage-collected")

    again = client.delete(f"/api/v1/deployments/{deployed['id']}").json()
    assert [r["outcome"] for r in again["results"]] == ["absent", "absent"]


def test_undeploy_after_a_recreate_leaves_the_new_pod(control_plane, admin_api, ns, saved_example, client) -> None:
    saved = saved_example("config-merger")
    deployed = api_deploy(client, saved, ADMIN, ns).json()
    old_uid = next(r["uid"] for r in deployed["results"] if r["kind"] == "Pod")
    pod_manifest = next(m for m in _rendered(saved) if m["kind"] == "Pod")
    recreated = recreate_workload(ADMIN, ns, pod_manifest)
    assert recreated.uid != old_uid

    response = client.delete(f"/api/v1/deployments/{deployed['id']}")

    assert response.status_code == 409, response.json()
    body = response.json()
    assert [(r["kind"], r["outcome"]) for r in body["results"]] == [("Pod", "failed"), ("ConfigMap", "not_attempted")]
    assert body["results"][0]["message"] == (
        "Pod 'merged-config' is no longer the object this deploy created (it was replaced since): left alone."
    )
    assert kubectl_json(control_plane, ns, "pod", "merged-config")["metadata"]["uid"] == recreated.uid
    assert exists(control_plane, ns, "configmap", "merged-config-merge-config")

    # The same through composer.cluster with the old uid, then with the new one.
    [left] = delete_objects(ADMIN, [ObjectRef("v1", "Pod", ns, "merged-config", old_uid)])
    assert (left.outcome, left.error_kind, left.status) == ("failed", "conflict", 409)
    [deleted] = delete_objects(ADMIN, [ObjectRef("v1", "Pod", ns, "merged-config", recreated.uid)])
    assert deleted.outcome == "deleted"
    wait_until(lambda: not exists(control_plane, ns, "pod", "merged-config"), what="the Pod gone")
