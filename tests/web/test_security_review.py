"""The December security review: each finding reproduced against the stand-in API server, then refused.

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

from composer.domain import edits
from composer.domain.examples import EXAMPLES_BY_ID
from composer.models import DELETED_OWNER, DeployRecord, SavedComposition
from tests.support.runtime import SseReader, pod_manifest, record_for
from tests.support.users import grant

TRAVERSAL = "../../kube-system/secrets/victim"
DEPLOY_DIR = Path(__file__).resolve().parents[2] / "deploy" / "kubernetes"


def body(namespace: str = "default", **flags: bool) -> str:
    return json.dumps({"context": "stand-in", "namespace": namespace, **flags})


def post(client, url: str, data: str):
    return client.post(url, data, content_type="application/json")


def requests_sent(server, method: str) -> list[str]:
    return [r.path for r in server.requests if r.method == method]


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


def test_a_stored_composition_with_a_bad_name_never_reaches_the_cluster(client, db, standin_target):
    good = EXAMPLES_BY_ID["log-tailer"].build().to_dict()
    good["extra_objects"] = [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": TRAVERSAL}}]
    stored = SavedComposition.objects.create(name="old", data=good)  # written before names were checked
    sent_before = len(standin_target.server.requests)
    for flags in ({"dry_run": True}, {}):
        response = post(client, f"/api/v1/compositions/{stored.pk}/deploy", body(**flags))
        assert response.status_code == 400 and "metadata.name" in response.content.decode()
    assert len(standin_target.server.requests) == sent_before
    assert DeployRecord.objects.count() == 0


def deployed(client, standin_target, example: str = "config-merger") -> DeployRecord:
    saved = SavedComposition.create(EXAMPLES_BY_ID[example].build())
    response = post(client, f"/api/v1/compositions/{saved.pk}/deploy", body())
    assert response.status_code == 201, response.content
    return DeployRecord.objects.get(pk=response.json()["id"])


def test_undeploy_deletes_exactly_the_objects_applied_with_their_uids(client, db, standin_target):
    record = deployed(client, standin_target)
    assert all(r["uid"] for r in record.results)
    response = client.delete(f"/api/v1/deployments/{record.pk}")
    assert response.status_code == 201, response.content
    deletes = [r for r in standin_target.server.requests if r.method == "DELETE"]
    assert [r.path.rsplit("/", 1)[1] for r in deletes] == [r["name"] for r in reversed(record.results)]
    assert all(r.json()["preconditions"]["uid"] for r in deletes)


@pytest.mark.parametrize("tamper", [
    {"name": TRAVERSAL},
    {"namespace": "kube-system"},
    {"kind": "Secret", "name": "victim"},
    {"uid": None},
])
def test_undeploy_refuses_anything_the_record_does_not_name_as_applied_here(client, db, standin_target, tamper):
    standin_target.server.put_object({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "kube-system"}})
    victim = standin_target.server.put_object(
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "victim", "namespace": "kube-system"}}
    )
    record = deployed(client, standin_target)
    record.results = [{**record.results[0], **tamper}, *record.results[1:]]
    record.save()
    response = client.delete(f"/api/v1/deployments/{record.pk}")
    assert response.status_code in (400, 422), response.content
    assert requests_sent(standin_target.server, "DELETE") == []
    assert standin_target.server.get("secrets", "kube-system", "victim") == victim


def test_a_deploy_recorded_without_uids_cannot_be_undeployed(client, db, standin_target):
    record = record_for(pod_manifest("web"))
    record.results = [{"kind": "Pod", "name": "web", "namespace": "default", "outcome": "created"}]
    record.save()
    response = client.delete(f"/api/v1/deployments/{record.pk}")
    assert response.status_code == 400 and "delete them with kubectl" in response.json()["error"]
    assert requests_sent(standin_target.server, "DELETE") == []


# --- 2: namespace rules, creating namespaces, privileged workloads --------------------------------


@pytest.fixture
def alice_in(client, team, alice):
    client.force_login(alice)
    return alice


def test_deploy_rights_stop_at_the_rules_namespaces(client, alice_in, standin_target):
    grant(alice_in, namespaces="team-a-*", can_deploy=True)
    saved = SavedComposition.create(EXAMPLES_BY_ID["log-tailer"].build(), owner=alice_in)
    url = f"/api/v1/compositions/{saved.pk}/deploy"
    for namespace in ("kube-system", "default"):
        refused = post(client, url, body(namespace))
        assert refused.status_code == 403
        assert f"alice may not deploy in namespace '{namespace}'" in refused.json()["error"]
    panel = client.post(f"/c/{saved.pk}/deploy", {"context": "stand-in", "namespace": "kube-system",
                                                   "action": "dry-run"}, HTTP_HX_REQUEST="true")
    assert panel.status_code == 403 and "may not dry-run in namespace 'kube-system'" in html.unescape(panel.text)
    assert requests_sent(standin_target.server, "PATCH") == []


def test_creating_a_namespace_is_its_own_right(client, alice_in, standin_target):
    rule = grant(alice_in, namespaces="team-a-*", can_deploy=True)
    saved = SavedComposition.create(EXAMPLES_BY_ID["log-tailer"].build(), owner=alice_in)
    url = f"/api/v1/compositions/{saved.pk}/deploy"
    refused = post(client, url, body("team-a-dev", create_namespace=True))
    assert refused.status_code == 403 and "may not create namespaces" in refused.json()["error"]
    assert requests_sent(standin_target.server, "POST") == []
    rule.can_create_namespace = True
    rule.save()
    assert post(client, url, body("team-a-dev", create_namespace=True)).status_code == 201
    assert standin_target.server.get("namespaces", None, "team-a-dev") is not None


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
    client, alice_in, standin_target
):
    rule = grant(alice_in, can_deploy=True)
    for field, saved in privileged_compositions().items():
        saved.owner = alice_in
        saved.save()
        for flags in ({}, {"dry_run": True}):
            refused = post(client, f"/api/v1/compositions/{saved.pk}/deploy", body(**flags))
            assert refused.status_code == 403, (field, refused.content)
            assert "may not run privileged workloads" in refused.json()["error"] and field in refused.json()["error"]
    assert requests_sent(standin_target.server, "PATCH") == []
    rule.can_run_privileged = True
    rule.save()
    sysctl = SavedComposition.objects.filter(owner=alice_in).order_by("pk").first()
    assert post(client, f"/api/v1/compositions/{sysctl.pk}/deploy", body()).status_code == 201


def test_baseline_capabilities_need_no_privileged_right(client, alice_in, standin_target):
    grant(alice_in, can_deploy=True)
    composition = EXAMPLES_BY_ID["log-tailer"].build()
    composition.app.extra = {"securityContext": {"capabilities": {"add": ["NET_BIND_SERVICE", "CHOWN"]}}}
    saved = SavedComposition.create(composition, owner=alice_in)
    assert post(client, f"/api/v1/compositions/{saved.pk}/deploy", body()).status_code == 201


def test_status_and_logs_follow_the_namespace_rule(client, alice_in, standin_target):
    standin_target.server.put_object(pod_manifest("web"))
    standin_target.server.add_log("default", "web", "app", "hello")
    record = record_for(pod_manifest("web"))
    grant(alice_in, namespaces="team-a", can_view=True)
    for path in (f"/deployments/{record.pk}/runtime", f"/api/v1/deployments/{record.pk}/status",
                 f"/api/v1/deployments/{record.pk}/logs?container=app", f"/deployments/{record.pk}/"):
        assert client.get(path).status_code == 404, path
    grant(alice_in, namespaces="default", can_view=True)
    assert client.get(f"/api/v1/deployments/{record.pk}/status").status_code == 200


def test_workload_namespaces_of_the_kubernetes_deploy_enforce_the_baseline_pod_security():
    namespaces = [d for f in DEPLOY_DIR.glob("*.yaml") for d in yaml.safe_load_all(f.read_text())
                  if d and d.get("kind") == "Namespace"]
    workloads = [n for n in namespaces if n["metadata"]["name"] != "pod-studio"]
    assert workloads, "deploy/kubernetes creates no namespace for workloads"
    for namespace in workloads:
        assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "baseline"


# --- 3: diffs ---------------------------------------------------------------------------------------


def test_diffs_follow_the_namespace_rule_and_are_recorded_like_dry_runs(client, alice_in, standin_target):
    grant(alice_in, namespaces="default", can_dry_run=True)
    saved = SavedComposition.create(EXAMPLES_BY_ID["config-merger"].build(), owner=alice_in)
    url = f"/api/v1/compositions/{saved.pk}/diff"
    refused = post(client, url, body("kube-system"))
    assert refused.status_code == 403 and requests_sent(standin_target.server, "GET") == []
    response = post(client, url, body())
    assert response.status_code == 200
    record = DeployRecord.objects.get(pk=response.json()["record"])
    assert (record.action, record.user, record.outcome) == ("diff", "alice", "succeeded")
    assert "objects would change" in record.message
    rows = list(csv.DictReader(io.StringIO(client.get("/deployments/export.csv").content.decode())))
    assert [(r["action"], r["user"], r["namespace"]) for r in rows] == [("diff", "alice", "default")]


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


def test_one_person_has_a_stream_cap_beside_the_servers(client, settings, team, alice, bob, standin_target):
    settings.PODSTUDIO_MAX_STREAMS_PER_USER = 2
    settings.PODSTUDIO_SSE_HEARTBEAT = 0.2
    standin_target.server.put_object(pod_manifest("web"))
    standin_target.server.add_log("default", "web", "app", "hello")
    record = record_for(pod_manifest("web"))
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


def test_recreate_passes_the_deploy_gate_and_needs_the_undeploy_right(client, alice_in, standin_target):
    grant(alice_in, can_deploy=True)
    composition = EXAMPLES_BY_ID["log-tailer"].build()
    composition.app.ports = [{"containerPort": 8080}]
    edits.add_helper(composition, "health-endpoint")  # listens on 8080 too: a port clash, an error
    clashing = SavedComposition.create(composition, owner=alice_in)
    fine = SavedComposition.create(EXAMPLES_BY_ID["log-tailer"].build(), owner=alice_in)
    form = {"context": "stand-in", "namespace": "default", "action": "recreate"}
    refused = client.post(f"/c/{fine.pk}/deploy", form, HTTP_HX_REQUEST="true")
    assert refused.status_code == 403 and "may not undeploy" in refused.content.decode()
    grant(alice_in, can_undeploy=True)
    gated = client.post(f"/c/{clashing.pk}/deploy", form, HTTP_HX_REQUEST="true")
    assert gated.status_code == 400 and "fix 1 error first" in gated.content.decode()
    assert requests_sent(standin_target.server, "DELETE") == []
    assert client.post(f"/c/{fine.pk}/deploy", form, HTTP_HX_REQUEST="true").status_code == 200
