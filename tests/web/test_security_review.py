"""The December security review: each finding reproduced against the real local control plane, then
refused. Through the fault-injecting proxy (``proxied_target``), whose request log shows what reached the
cluster: a refusal sends nothing.

Numbers refer to the review's items (issue #9): 1 names escaping request paths and undeploy of
objects a deploy never applied, 2 namespace rules and the create-namespace and privileged rights,
3 diffs, 4 Secrets, 5 compositions of deleted users, 8 per-user stream caps, 9 recreate.
Items 6, 7, 10–14 have their own modules (test_error_pages, test_login_throttle, the cluster and
hardening suites).
"""

from __future__ import annotations

import csv
import html
import importlib
import io
import json
from pathlib import Path

import pytest
import yaml
from django.contrib.auth.models import User
from kubernetes import client as k8s
from kubernetes.client.exceptions import ApiException

from composer.domain import edits
from composer.domain.examples import EXAMPLES_BY_ID
from composer.models import DELETED_OWNER, DeployRecord, SavedComposition
from tests.support.faultproxy import wait_for
from tests.support.manifests import pod
from tests.support.realruntime import Cluster, cluster_fixture  # noqa: F401 (the fixture ``cluster``)
from tests.support.runtime import SseReader, record_for, record_in
from tests.support.users import grant

TRAVERSAL = "../../kube-system/secrets/victim"
DEPLOY_DIR = Path(__file__).resolve().parents[2] / "deploy" / "kubernetes"


def body(target, namespace: str = "", **flags: bool) -> str:
    return json.dumps({"context": target.context, "namespace": namespace or target.namespace, **flags})


def post(client, url: str, data: str):
    return client.post(url, data, content_type="application/json")


def requests_sent(target, method: str) -> list[str]:
    """The paths of the requests with ``method`` that reached the cluster (through the proxy)."""
    return [r.path for r in target.proxy.requests_matching(method)]


# --- 1: names that escape the request path; undeploy deletes only what a deploy applied ------------


def test_an_extra_object_named_like_a_path_is_refused_by_the_api_and_nothing_is_stored(client, db):
    composition = {"extra_objects": [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": TRAVERSAL},
                                      "data": {"a": "b"}}]}
    response = post(client, "/api/v1/compositions", json.dumps(composition))
    assert response.status_code == 400
    assert "lower-case letters" in response.json()["errors"]["extra_objects[0].metadata.name"]
    assert SavedComposition.objects.count() == 0


@pytest.mark.parametrize("field", ["configmap", "namespace", "label-key", "container"])
def test_the_yaml_import_refuses_names_the_api_server_would_refuse(client, db, field):
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "labels": {"app": "web"}},
           "spec": {"containers": [{"name": "app", "image": "nginx:1.27"}]}}
    documents = [pod]
    if field == "configmap":
        documents.insert(0, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": TRAVERSAL}})
    elif field == "namespace":
        pod["metadata"]["namespace"] = "../kube-system"
    elif field == "label-key":
        pod["metadata"]["labels"] = {"app/../x": "web"}
    else:
        pod["spec"]["containers"][0]["name"] = "../app"
    response = client.post("/api/v1/compositions/import", yaml.safe_dump_all(documents),
                           content_type="application/yaml")
    assert response.status_code == 400, response.content
    assert SavedComposition.objects.count() == 0


def test_a_stored_composition_with_a_bad_name_never_reaches_the_cluster(client, db, proxied_target):
    good = EXAMPLES_BY_ID["log-tailer"].build().to_dict()
    good["extra_objects"] = [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": TRAVERSAL}}]
    stored = SavedComposition.objects.create(name="old", data=good)  # written before names were checked
    for flags in ({"dry_run": True}, {}):
        response = post(client, f"/api/v1/compositions/{stored.pk}/deploy", body(proxied_target, **flags))
        assert response.status_code == 400 and "metadata.name" in response.content.decode()
    assert proxied_target.proxy.requests == []
    assert DeployRecord.objects.count() == 0


def deployed(client, target, example: str = "config-merger") -> DeployRecord:
    saved = SavedComposition.create(EXAMPLES_BY_ID[example].build())
    response = post(client, f"/api/v1/compositions/{saved.pk}/deploy", body(target))
    assert response.status_code == 201, response.content
    return DeployRecord.objects.get(pk=response.json()["id"])


def test_undeploy_deletes_exactly_the_objects_applied_with_their_uids(client, db, proxied_target):
    record = deployed(client, proxied_target)
    assert all(r["uid"] for r in record.results)
    response = client.delete(f"/api/v1/deployments/{record.pk}")
    assert response.status_code == 201, response.content
    deletes = proxied_target.proxy.requests_matching("DELETE")
    assert [r.path.rsplit("/", 1)[1] for r in deletes] == [r["name"] for r in reversed(record.results)]
    assert [r.json()["preconditions"]["uid"] for r in deletes] == [r["uid"] for r in reversed(record.results)]
    for result in record.results:
        wait_for(lambda kind=result["kind"], name=result["name"]: proxied_target.live(kind, name) is None, timeout=15)


def secret_named_victim(admin, namespace: str) -> k8s.V1Secret:
    """A Secret no deploy applied, which a tampered record could name: the one there, or a new one."""
    core = k8s.CoreV1Api(admin)
    try:
        return core.read_namespaced_secret("victim", namespace)
    except ApiException as error:
        if error.status != 404:
            raise
    return core.create_namespaced_secret(namespace, k8s.V1Secret(metadata=k8s.V1ObjectMeta(name="victim"),
                                                                 string_data={"token": "keep-me"}))


@pytest.mark.parametrize("tamper", [
    {"name": TRAVERSAL},
    {"namespace": "kube-system"},
    {"kind": "Secret", "name": "victim"},
    {"uid": None},
])
def test_undeploy_refuses_anything_the_record_does_not_name_as_applied_here(client, db, proxied_target, tamper):
    victims = [secret_named_victim(proxied_target.admin, namespace)
               for namespace in ("kube-system", proxied_target.namespace)]
    record = deployed(client, proxied_target)
    record.results = [{**record.results[0], **tamper}, *record.results[1:]]
    record.save()
    response = client.delete(f"/api/v1/deployments/{record.pk}")
    assert response.status_code in (400, 422), response.content
    assert requests_sent(proxied_target, "DELETE") == []
    core = k8s.CoreV1Api(proxied_target.admin)
    for victim in victims:
        now = core.read_namespaced_secret("victim", victim.metadata.namespace)
        assert (now.metadata.uid, now.metadata.deletion_timestamp) == (victim.metadata.uid, None)
    assert all(proxied_target.live(r["kind"], r["name"]) for r in record.results[1:])


def test_a_deploy_recorded_without_uids_cannot_be_undeployed(client, db, proxied_target):
    k8s.CoreV1Api(proxied_target.admin).create_namespaced_pod(proxied_target.namespace, pod("web"))
    record = record_for(pod("web"), context=proxied_target.context, namespace=proxied_target.namespace)
    record.results = [{"kind": "Pod", "name": "web", "namespace": proxied_target.namespace, "outcome": "created"}]
    record.save()
    response = client.delete(f"/api/v1/deployments/{record.pk}")
    assert response.status_code == 400 and "delete them with kubectl" in response.json()["error"]
    assert requests_sent(proxied_target, "DELETE") == []
    assert proxied_target.live("Pod", "web")["metadata"].get("deletionTimestamp") is None


# --- 2: namespace rules, creating namespaces, privileged workloads --------------------------------


@pytest.fixture
def alice_in(client, team, alice):
    client.force_login(alice)
    return alice


def test_deploy_rights_stop_at_the_rules_namespaces(client, alice_in, proxied_target):
    grant(alice_in, namespaces="team-a-*", can_deploy=True)
    saved = SavedComposition.create(EXAMPLES_BY_ID["log-tailer"].build(), owner=alice_in)
    url = f"/api/v1/compositions/{saved.pk}/deploy"
    for namespace in ("kube-system", proxied_target.namespace):
        refused = post(client, url, body(proxied_target, namespace))
        assert refused.status_code == 403
        assert f"alice may not deploy in namespace '{namespace}'" in refused.json()["error"]
    panel = client.post(f"/c/{saved.pk}/deploy", {"context": proxied_target.context, "namespace": "kube-system",
                                                   "action": "dry-run"}, HTTP_HX_REQUEST="true")
    assert panel.status_code == 403 and "may not dry-run in namespace 'kube-system'" in html.unescape(panel.text)
    assert proxied_target.proxy.requests == []


@pytest.fixture
def new_team_namespace(proxied_target):
    """The name of a namespace that does not exist yet and that the ``team-a-*`` rule covers (deleted after)."""
    name = f"team-a-{proxied_target.namespace}"
    yield name
    proxied_target.proxy.upstream("DELETE", f"/api/v1/namespaces/{name}")


def test_creating_a_namespace_is_its_own_right(client, alice_in, proxied_target, new_team_namespace):
    rule = grant(alice_in, namespaces="team-a-*", can_deploy=True)
    saved = SavedComposition.create(EXAMPLES_BY_ID["log-tailer"].build(), owner=alice_in)
    url = f"/api/v1/compositions/{saved.pk}/deploy"
    refused = post(client, url, body(proxied_target, new_team_namespace, create_namespace=True))
    assert refused.status_code == 403 and "may not create namespaces" in refused.json()["error"]
    assert proxied_target.proxy.requests == []
    rule.can_create_namespace = True
    rule.save()
    assert post(client, url, body(proxied_target, new_team_namespace, create_namespace=True)).status_code == 201
    assert proxied_target.proxy.get_object(f"/api/v1/namespaces/{new_team_namespace}") is not None
    assert proxied_target.proxy.get_object(f"/api/v1/namespaces/{new_team_namespace}/pods/timecheck") is not None


def privileged_compositions() -> dict[str, SavedComposition]:
    host_pid = EXAMPLES_BY_ID["log-tailer"].build()
    host_pid.options.extra = {"hostPID": True, "hostNetwork": True}
    host_path = EXAMPLES_BY_ID["log-tailer"].build()
    host_path.options.volumes = [{"name": "root", "hostPath": {"path": "/"}}]
    host_path.app.volume_mounts = [{"name": "root", "mountPath": "/host"}]
    capabilities = EXAMPLES_BY_ID["log-tailer"].build()
    capabilities.app.extra = {"securityContext": {"capabilities": {"add": ["NET_BIND_SERVICE", "SYS_ADMIN"]}}}
    return {
        "securityContext.privileged": SavedComposition.create(EXAMPLES_BY_ID["sysctl"].build()),
        "spec.hostPID": SavedComposition.create(host_pid),
        "volumes[": SavedComposition.create(host_path),
        "capabilities.add (SYS_ADMIN)": SavedComposition.create(capabilities),
    }


def test_privileged_workloads_need_the_privileged_right_and_the_refusal_names_the_field(
    client, alice_in, proxied_target
):
    rule = grant(alice_in, can_deploy=True)
    for field, saved in privileged_compositions().items():
        saved.owner = alice_in
        saved.save()
        for flags in ({}, {"dry_run": True}):
            refused = post(client, f"/api/v1/compositions/{saved.pk}/deploy", body(proxied_target, **flags))
            assert refused.status_code == 403, (field, refused.content)
            assert "may not run privileged workloads" in refused.json()["error"] and field in refused.json()["error"]
    assert proxied_target.proxy.requests == []
    rule.can_run_privileged = True
    rule.save()
    sysctl = SavedComposition.objects.filter(owner=alice_in).order_by("pk").first()
    assert post(client, f"/api/v1/compositions/{sysctl.pk}/deploy", body(proxied_target)).status_code == 201
    [init] = proxied_target.live("Pod", sysctl.composition().workload.name)["spec"]["initContainers"]
    assert init["securityContext"]["privileged"] is True


def test_baseline_capabilities_need_no_privileged_right(client, alice_in, real_target):
    grant(alice_in, can_deploy=True)
    composition = EXAMPLES_BY_ID["log-tailer"].build()
    composition.app.extra = {"securityContext": {"capabilities": {"add": ["NET_BIND_SERVICE", "CHOWN"]}}}
    saved = SavedComposition.create(composition, owner=alice_in)
    assert post(client, f"/api/v1/compositions/{saved.pk}/deploy", body(real_target)).status_code == 201
    [app] = real_target.live("Pod", "timecheck")["spec"]["containers"][:1]
    assert app["securityContext"]["capabilities"]["add"] == ["NET_BIND_SERVICE", "CHOWN"]


def test_status_and_logs_follow_the_namespace_rule(client, alice_in, cluster: Cluster):
    manifest = cluster.create_pod(pod("web"))
    cluster.set_logs("web", {"app": ["hello"]})
    record = record_in(cluster, manifest)
    grant(alice_in, namespaces="team-a", can_view=True)
    for path in (f"/deployments/{record.pk}/runtime", f"/api/v1/deployments/{record.pk}/status",
                 f"/api/v1/deployments/{record.pk}/logs?container=app", f"/deployments/{record.pk}/"):
        assert client.get(path).status_code == 404, path
    grant(alice_in, namespaces=cluster.namespace, can_view=True)
    status = client.get(f"/api/v1/deployments/{record.pk}/status")
    assert status.status_code == 200 and [p["name"] for p in status.json()["pods"]] == ["web"]
    logs = client.get(f"/api/v1/deployments/{record.pk}/logs?container=app")
    assert logs.status_code == 200 and b"hello" in b"".join(logs.streaming_content)


def test_workload_namespaces_of_the_kubernetes_deploy_enforce_the_baseline_pod_security():
    namespaces = [d for f in DEPLOY_DIR.glob("*.yaml") for d in yaml.safe_load_all(f.read_text())
                  if d and d.get("kind") == "Namespace"]
    workloads = [n for n in namespaces if n["metadata"]["name"] != "pod-studio"]
    assert workloads, "deploy/kubernetes creates no namespace for workloads"
    for namespace in workloads:
        assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "baseline"


# --- 3: diffs ---------------------------------------------------------------------------------------


def test_diffs_follow_the_namespace_rule_and_are_recorded_like_dry_runs(client, alice_in, proxied_target):
    grant(alice_in, namespaces=proxied_target.namespace, can_dry_run=True)
    saved = SavedComposition.create(EXAMPLES_BY_ID["config-merger"].build(), owner=alice_in)
    url = f"/api/v1/compositions/{saved.pk}/diff"
    refused = post(client, url, body(proxied_target, "kube-system"))
    assert refused.status_code == 403 and proxied_target.proxy.requests == []
    response = post(client, url, body(proxied_target))
    assert response.status_code == 200
    record = DeployRecord.objects.get(pk=response.json()["record"])
    assert (record.action, record.user, record.outcome) == ("diff", "alice", "succeeded")
    assert "objects would change" in record.message
    rows = list(csv.DictReader(io.StringIO(client.get("/deployments/export.csv").content.decode())))
    assert [(r["action"], r["user"], r["namespace"]) for r in rows] == [("diff", "alice", proxied_target.namespace)]
    assert requests_sent(proxied_target, "PATCH")  # the diff asked the server (a dry run) ...
    assert proxied_target.live("Pod", "merged-config") is None  # ... which applied nothing


# --- 4: Secrets -------------------------------------------------------------------------------------

SECRET = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db"}, "stringData": {"password": "hunter2"}}


def test_the_api_refuses_secrets_on_create_and_replace_and_says_how_to_make_one(client, db):
    created = post(client, "/api/v1/compositions", json.dumps({"extra_objects": [SECRET]}))
    assert created.status_code == 400
    assert "kubectl create secret generic" in created.json()["errors"]["extra_objects[0].kind"]
    saved = SavedComposition.create(EXAMPLES_BY_ID["log-tailer"].build())
    replaced = client.put(f"/api/v1/compositions/{saved.pk}", json.dumps({"extra_objects": [SECRET]}),
                          content_type="application/json")
    assert replaced.status_code == 400
    saved.refresh_from_db()
    assert saved.revision == 1 and "hunter2" not in json.dumps(saved.data)


def test_an_imported_secret_is_left_out_with_a_note_and_never_stored(client, db):
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web"},
           "spec": {"containers": [{"name": "app", "image": "nginx:1.27"}]}}
    response = client.post("/api/v1/compositions/import", yaml.safe_dump_all([SECRET, pod]),
                           content_type="application/yaml")
    assert response.status_code == 201
    assert any("kubectl create secret" in w for w in response.json()["warnings"])
    assert "hunter2" not in response.content.decode()
    assert "hunter2" not in json.dumps(SavedComposition.objects.get().data)


def test_the_migration_forgets_stored_secrets(db):
    migration = importlib.import_module("composer.migrations.0004_namespace_rules_and_private_orphans")
    data = EXAMPLES_BY_ID["log-tailer"].build().to_dict()
    data["extra_objects"] = [SECRET]
    assert migration._without_secrets(data)["extra_objects"] == []
    cleaned = yaml.safe_load_all(migration._blank_secret_values(yaml.safe_dump_all([SECRET])))
    assert list(cleaned)[0]["stringData"] == {"password": "<removed>"}


# --- 5: compositions of deleted users ---------------------------------------------------------------


def test_compositions_of_a_deleted_user_stay_private(client, team, alice, bob):
    theirs = SavedComposition.create(EXAMPLES_BY_ID["log-tailer"].build(), owner=bob)
    bob.delete()
    theirs.refresh_from_db()
    assert theirs.owner.username == DELETED_OWNER and not theirs.owner.is_active
    assert not theirs.owner.has_usable_password()
    client.force_login(alice)
    assert client.get(theirs.get_absolute_url()).status_code == 404
    assert client.get(f"/api/v1/compositions/{theirs.pk}").status_code == 404
    assert client.get("/api/v1/compositions").json()["compositions"] == []
    admin = User.objects.create_superuser("root", password="root-pass-42")
    client.force_login(admin)
    assert client.get(f"/api/v1/compositions/{theirs.pk}").status_code == 200


# --- 8: one viewer cannot take every live stream ----------------------------------------------------


def test_one_person_has_a_stream_cap_beside_the_servers(client, settings, team, alice, bob, cluster: Cluster):
    settings.PODSTUDIO_MAX_STREAMS_PER_USER = 2
    settings.PODSTUDIO_SSE_HEARTBEAT = 0.2
    manifest = cluster.create_pod(pod("web"))
    cluster.set_logs("web", {"app": ["hello"]})
    record = record_in(cluster, manifest)
    grant(alice, can_view=True)
    grant(bob, can_view=True)
    client.force_login(alice)
    readers = [SseReader(client.get(f"/deployments/{record.pk}/runtime/status/stream")) for _ in range(2)]
    try:
        for reader in readers:
            reader.next("status")
        third = SseReader(client.get(f"/deployments/{record.pk}/runtime/status/stream"))
        assert "the limit for one person" in third.next("notice").data
        api = client.get(f"/api/v1/deployments/{record.pk}/logs/stream?container=app")
        assert api.status_code == 429 and "the limit for one person" in api.json()["error"]
        client.force_login(bob)
        theirs = SseReader(client.get(f"/deployments/{record.pk}/runtime/status/stream"))
        try:
            assert "web" in theirs.next("status").data
        finally:
            theirs.close()
    finally:
        for reader in readers:
            reader.close()


# --- 9: recreate ------------------------------------------------------------------------------------


def test_recreate_passes_the_deploy_gate_and_needs_the_undeploy_right(client, alice_in, proxied_target):
    grant(alice_in, can_deploy=True)
    composition = EXAMPLES_BY_ID["log-tailer"].build()
    composition.app.ports = [{"containerPort": 8080}]
    edits.add_helper(composition, "health-endpoint", {"port": 8080})  # the app's port: a port clash, an error
    clashing = SavedComposition.create(composition, owner=alice_in)
    fine = SavedComposition.create(EXAMPLES_BY_ID["log-tailer"].build(), owner=alice_in)
    form = {"context": proxied_target.context, "namespace": proxied_target.namespace, "action": "recreate"}
    refused = client.post(f"/c/{fine.pk}/deploy", form, HTTP_HX_REQUEST="true")
    assert refused.status_code == 403 and "may not undeploy" in refused.content.decode()
    grant(alice_in, can_undeploy=True)
    gated = client.post(f"/c/{clashing.pk}/deploy", form, HTTP_HX_REQUEST="true")
    assert gated.status_code == 400 and "fix 1 error first" in gated.content.decode()
    assert requests_sent(proxied_target, "DELETE") == []
    assert client.post(f"/c/{fine.pk}/deploy", form, HTTP_HX_REQUEST="true").status_code == 200
    assert proxied_target.live("Pod", "timecheck") is not None
