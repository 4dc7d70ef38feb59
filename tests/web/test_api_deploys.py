"""Deploy API against a Kubernetes API server (the stand-in, or a real one via PODSTUDIO_TEST_KUBECONFIG)."""

import pytest
import yaml

from composer.domain import edits
from composer.domain.examples import EXAMPLES_BY_ID
from composer.models import DeployRecord, SavedComposition
from tests.support.kubeconfig import KubeconfigContext, write_kubeconfig
from tests.support.other_tools import apply_as


@pytest.fixture
def example(db):
    def make(example_id="log-tailer"):
        return SavedComposition.create(EXAMPLES_BY_ID[example_id].build())

    return make


def deploy(api, saved, target, **flags):
    return api.post(f"compositions/{saved.pk}/deploy",
                    {"context": target.context, "namespace": target.namespace, **flags})


def test_contexts_are_listed_without_credentials(api, standin_target):
    response = api.get("contexts")
    assert response.status_code == 200
    contexts = {c["name"]: c for c in response.json()["contexts"]}
    assert set(contexts) == {"stand-in", "stand-in-team"}
    assert contexts["stand-in"]["current"] is True and contexts["stand-in-team"]["namespace"] == "team-a"
    assert standin_target.server.token not in response.content.decode()


def test_deploy_applies_every_object_as_pod_studio_and_records_it(api, example, cluster_target):
    saved = example("exporter")
    response = deploy(api, saved, cluster_target)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["outcome"] == "succeeded" and body["action"] == "deploy" and body["user"] == "local"
    assert [(r["kind"], r["outcome"]) for r in body["results"]] == [("Service", "created"), ("Pod", "created")]
    record = DeployRecord.objects.get(pk=body["id"])
    sent = list(yaml.safe_load_all(record.manifest_yaml))
    assert all(d["metadata"]["namespace"] == cluster_target.namespace for d in sent)
    if cluster_target.is_standin:
        pod = cluster_target.server.get("pods", cluster_target.namespace, "es-metrics")
        assert [c["name"] for c in pod["spec"]["containers"]] == ["elasticsearch", "exporter"]
        managers = {entry["manager"] for entry in pod["metadata"]["managedFields"]}
        assert managers == {"pod-studio"}

    again = deploy(api, saved, cluster_target).json()
    assert [r["outcome"] for r in again["results"]] == ["unchanged", "unchanged"]


def test_second_deploy_updates_a_changed_deployment(api, example, cluster_target):
    saved = example("good-citizen")
    assert deploy(api, saved, cluster_target).status_code == 201
    composition = saved.composition()
    composition.workload.replicas = 3
    saved.record(composition, "scaled")
    body = deploy(api, saved, cluster_target).json()
    outcomes = {r["kind"]: r["outcome"] for r in body["results"]}
    assert outcomes == {"Service": "unchanged", "Deployment": "configured"}


def test_dry_run_stores_nothing_but_is_recorded(api, example, standin_target):
    saved = example("log-tailer")
    body = deploy(api, saved, standin_target, dry_run=True).json()
    assert body["action"] == "dry-run" and body["outcome"] == "succeeded"
    assert standin_target.server.get("pods", "default", "timecheck") is None
    assert DeployRecord.objects.get().action == "dry-run"


def test_diff_shows_a_changed_field(api, example, cluster_target):
    saved = example("log-tailer")
    deploy(api, saved, cluster_target)
    composition = saved.composition()
    edits.update_params(composition, "h1", {"log_dir": "/logs", "log_file": "other.log"})
    saved.record(composition, "other log")
    response = api.post(f"compositions/{saved.pk}/diff",
                        {"context": cluster_target.context, "namespace": cluster_target.namespace})
    assert response.status_code == 200
    pod_diff = response.json()["diffs"][0]
    assert pod_diff["changed"] is True
    assert "-    - /logs/app.log" in pod_diff["diff"] and "+    - /logs/other.log" in pod_diff["diff"]
    # A running Pod's containers are immutable: the diff says so instead of failing.
    assert "cannot be changed in place" in pod_diff["refusal"]


def test_diff_of_a_deployment_and_of_a_new_object(api, example, cluster_target):
    saved = example("good-citizen")
    path = f"compositions/{saved.pk}/diff"
    where = {"context": cluster_target.context, "namespace": cluster_target.namespace}
    first = api.post(path, where).json()["diffs"]
    assert all(d["new"] for d in first)
    deploy(api, saved, cluster_target)
    composition = saved.composition()
    composition.workload.replicas = 4
    saved.record(composition, "four")
    diffs = {d["kind"]: d for d in api.post(path, where).json()["diffs"]}
    assert diffs["Service"]["changed"] is False
    assert "-  replicas: 1" in diffs["Deployment"]["diff"] and "+  replicas: 4" in diffs["Deployment"]["diff"]
    assert diffs["Deployment"]["refusal"] == ""


def test_undeploy_deletes_what_the_deploy_sent(api, example, cluster_target):
    saved = example("config-merger")
    deployed = deploy(api, saved, cluster_target).json()
    response = api.delete(f"deployments/{deployed['id']}")
    assert response.status_code == 201
    body = response.json()
    assert body["action"] == "undeploy" and body["undeploy_of"] == deployed["id"]
    assert [(r["kind"], r["outcome"]) for r in body["results"]] == [("Pod", "deleted"), ("ConfigMap", "deleted")]
    if cluster_target.is_standin:
        assert cluster_target.server.get("pods", cluster_target.namespace, "merged-config") is None


@pytest.mark.parametrize(
    ("fault", "status", "kind", "words"),
    [
        ({"status": 403}, 403, "forbidden", "may not"),
        ({"status": 401}, 401, "unauthorized", ""),
        ({"status": 422}, 422, "invalid", ""),
        ({"status": 500}, 502, "server", ""),
        ({"status": 429, "times": None}, 429, "rate_limited", ""),
    ],
)
def test_each_error_class_is_reported_and_recorded(api, example, standin_target, fault, status, kind, words):
    standin_target.server.inject("PATCH", r"/pods/", **fault)
    response = deploy(api, example("log-tailer"), standin_target)
    assert response.status_code == status, response.json()
    body = response.json()
    assert body["outcome"] == "failed" and body["error_kind"] == kind
    assert words in body["message"]
    record = DeployRecord.objects.get()
    assert record.outcome == "failed" and record.error_kind == kind


def test_failure_midway_says_what_was_applied_and_what_was_not(api, example, standin_target):
    standin_target.server.inject("PATCH", r"/services/", status=403)
    body = deploy(api, example("exporter"), standin_target).json()
    assert body["outcome"] == "failed"
    assert [(r["kind"], r["outcome"]) for r in body["results"]] == [("Service", "failed"), ("Pod", "not_attempted")]
    assert "Not attempted: Pod es-metrics" in body["message"]

    standin_target.server.inject("PATCH", r"/pods/", status=403)
    partial = deploy(api, example("exporter"), standin_target).json()
    assert partial["outcome"] == "partial"
    assert "Applied before it: Service es-metrics" in partial["message"]


def test_conflict_then_force(api, example, standin_target):
    saved = example("good-citizen")
    # Another tool created the Deployment and owns its replicas field.
    apply_as(standin_target, "kubectl", {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "citizen"},
        "spec": {"replicas": 5, "selector": {"matchLabels": {"app": "citizen"}},
                 "template": {"metadata": {"labels": {"app": "citizen"}},
                              "spec": {"containers": [{"name": "app", "image": "nginx:1.27"}]}}},
    })
    conflict = deploy(api, saved, standin_target)
    assert conflict.status_code == 409
    body = conflict.json()
    assert body["error_kind"] == "conflict" and "kubectl" in body["message"]
    forced = deploy(api, saved, standin_target, force=True)
    assert forced.status_code == 201 and forced.json()["force"] is True
    assert standin_target.server.get("deployments", "default", "citizen")["spec"]["replicas"] == 1


def test_unreachable_cluster_is_a_clear_failure(api, example, standin_target):
    standin_target.server.stop()
    response = deploy(api, example("log-tailer"), standin_target)
    assert response.status_code in (502, 504)
    body = response.json()
    assert body["error_kind"] in ("unreachable", "timeout")
    assert "stand-in" in body["message"]


def test_native_sidecars_are_refused_on_old_clusters(api, example, standin_target):
    standin_target.server.version = "v1.28.4"
    saved = example("log-tailer")
    composition = saved.composition()
    edits.set_native_sidecar(composition, "h1", True)
    saved.record(composition, "native")
    response = deploy(api, saved, standin_target)
    assert response.status_code == 422
    assert "1.29" in response.json()["message"]
    assert standin_target.server.requests_matching("PATCH", "/pods/") == []


def test_bad_requests_are_400_and_record_nothing(api, example, standin_target):
    saved = example("log-tailer")
    assert api.post(f"compositions/{saved.pk}/deploy", {"namespace": "default"}).status_code == 400
    assert deploy(api, saved, standin_target, dry_run="yes").status_code == 400
    bad_ns = api.post(f"compositions/{saved.pk}/deploy", {"context": "stand-in", "namespace": "Not_Valid"})
    assert bad_ns.status_code == 400 and "not a valid name" in bad_ns.json()["error"]
    composition = saved.composition()
    composition.app.ports = [{"containerPort": 80}, {"containerPort": 80}]
    saved.record(composition, "clash")
    refused = deploy(api, saved, standin_target)
    assert refused.status_code == 400 and "fix" in refused.json()["error"]
    assert DeployRecord.objects.count() == 0


def test_credentials_never_reach_any_response(api, example, standin_target):
    token = standin_target.server.token
    saved = example("log-tailer")
    bodies = [api.get("contexts"), deploy(api, saved, standin_target)]
    standin_target.server.inject("PATCH", r"/pods/", status=401)
    bodies.append(deploy(api, saved, standin_target))
    bodies.append(api.get("deployments"))
    for response in bodies:
        assert token not in response.content.decode()


def test_missing_namespace_is_explained_and_can_be_created(api, example, standin_target):
    saved = example("log-tailer")
    missing = deploy(api, saved, standin_target.__class__(
        standin_target.kubeconfig, standin_target.context, "shop", standin_target.server))
    assert missing.status_code == 404
    assert missing.json()["error_kind"] == "not_found" and "shop" in missing.json()["message"]
    created = api.post(f"compositions/{saved.pk}/deploy",
                       {"context": "stand-in", "namespace": "shop", "create_namespace": True})
    assert created.status_code == 201
    assert standin_target.server.get("pods", "shop", "timecheck") is not None


def test_a_stalled_cluster_times_out_with_a_clear_message(api, example, standin_target, monkeypatch):
    from composer.cluster import contexts

    monkeypatch.setattr(contexts, "DEFAULT_TIMEOUTS", contexts.Timeouts(connect=2.0, read=1.0))
    standin_target.server.inject("PATCH", r"/pods/", stall=3)
    response = deploy(api, example("log-tailer"), standin_target)
    assert response.status_code == 504
    assert response.json()["error_kind"] == "timeout"


def test_contexts_show_server_urls_without_userinfo_or_query(api, tmp_path, monkeypatch):
    contexts = [
        KubeconfigContext("userinfo", "https://admin:pa55-word@10.0.0.1:6443", "t1"),
        KubeconfigContext("query", "https://10.0.0.2:6443/k8s/clusters/c-1?access_token=tok-123#frag", "t2"),
    ]
    monkeypatch.setenv("KUBECONFIG", str(write_kubeconfig(tmp_path / "kubeconfig", contexts)))
    response = api.get("contexts")
    assert response.status_code == 200
    servers = {c["name"]: c["server"] for c in response.json()["contexts"]}
    assert servers == {"userinfo": "https://10.0.0.1:6443", "query": "https://10.0.0.2:6443/k8s/clusters/c-1"}
    for secret in ("admin", "pa55-word", "tok-123", "frag"):
        assert secret not in response.content.decode()
