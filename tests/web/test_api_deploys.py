"""Deploy API against the real local control plane (``real_target``), and through the fault-injecting
proxy in front of it (``proxied_target``) for the failures the real server does not make on demand.
Conflicts, dry runs, immutable Pods, diffs after a deploy and RBAC refusals through the API are in
tests/cluster_real/test_deploys_real.py."""

import pytest
import yaml
from kubernetes import client as k8s

from composer.cluster import contexts
from composer.domain import edits
from composer.domain.examples import EXAMPLES_BY_ID
from composer.models import DeployRecord, SavedComposition
from tests.support.kubeconfig import KubeconfigContext, write_kubeconfig


@pytest.fixture
def example(db):
    def make(example_id="log-tailer"):
        return SavedComposition.create(EXAMPLES_BY_ID[example_id].build())

    return make


def deploy(api, saved, target, **flags):
    return api.post(f"compositions/{saved.pk}/deploy",
                    {"context": target.context, "namespace": target.namespace, **flags})


def forbidden_patch(kind_plural: str, name: str, namespace: str) -> str:
    """A 403 in the real API server's words."""
    return (f'{kind_plural} "{name}" is forbidden: User "someone" cannot patch resource "{kind_plural}" '
            f'in API group "" in the namespace "{namespace}"')


def test_contexts_are_listed_without_credentials(api, control_plane, real_target):
    response = api.get("contexts")
    assert response.status_code == 200
    listed = {c["name"]: c for c in response.json()["contexts"]}
    assert set(listed) == {control_plane.admin_context, control_plane.limited_context}
    assert listed[control_plane.admin_context]["current"] is True
    assert listed[control_plane.limited_context]["namespace"] == control_plane.limited_namespace
    assert {c["server"] for c in listed.values()} == {control_plane.server}
    kubeconfig = yaml.safe_load(control_plane.kubeconfig.read_text())
    text = response.content.decode()
    for user in kubeconfig["users"]:
        assert user["user"]["client-key-data"] not in text
        assert user["user"]["client-certificate-data"] not in text


def test_deploy_applies_every_object_as_pod_studio_and_records_it(api, example, real_target):
    saved = example("exporter")
    response = deploy(api, saved, real_target)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["outcome"] == "succeeded" and body["action"] == "deploy" and body["user"] == "local"
    assert [(r["kind"], r["outcome"]) for r in body["results"]] == [("Service", "created"), ("Pod", "created")]
    record = DeployRecord.objects.get(pk=body["id"])
    sent = list(yaml.safe_load_all(record.manifest_yaml))
    assert all(d["metadata"]["namespace"] == real_target.namespace for d in sent)
    pod = real_target.live("Pod", "es-metrics")
    assert [c["name"] for c in pod["spec"]["containers"]] == ["elasticsearch", "exporter"]
    assert pod["metadata"]["uid"] == body["results"][1]["uid"]
    appliers = {entry["manager"] for entry in pod["metadata"]["managedFields"] if entry["operation"] == "Apply"}
    assert appliers == {"pod-studio"}

    again = deploy(api, saved, real_target).json()
    assert [r["outcome"] for r in again["results"]] == ["unchanged", "unchanged"]


def test_second_deploy_updates_a_changed_deployment(api, example, real_target):
    saved = example("good-citizen")
    assert deploy(api, saved, real_target).status_code == 201
    composition = saved.composition()
    composition.workload.replicas = 3
    saved.record(composition, "scaled")
    body = deploy(api, saved, real_target).json()
    outcomes = {r["kind"]: r["outcome"] for r in body["results"]}
    assert outcomes == {"Service": "unchanged", "Deployment": "configured"}
    assert real_target.live("Deployment", "citizen")["spec"]["replicas"] == 3


def test_a_diff_before_the_first_deploy_shows_every_object_as_new(api, example, real_target):
    saved = example("good-citizen")
    response = api.post(f"compositions/{saved.pk}/diff",
                        {"context": real_target.context, "namespace": real_target.namespace})
    assert response.status_code == 200
    diffs = response.json()["diffs"]
    assert [(d["kind"], d["new"], d["changed"], d["refusal"]) for d in diffs] == [
        ("Service", True, True, ""), ("Deployment", True, True, "")]
    assert all(line.startswith(("+", "@@")) for d in diffs for line in d["diff"].splitlines()[2:])
    assert real_target.live("Deployment", "citizen") is None
    assert DeployRecord.objects.get().action == "diff"


def test_undeploy_deletes_what_the_deploy_sent(api, example, real_target):
    saved = example("config-merger")
    deployed = deploy(api, saved, real_target).json()
    response = api.delete(f"deployments/{deployed['id']}")
    assert response.status_code == 201
    body = response.json()
    assert body["action"] == "undeploy" and body["undeploy_of"] == deployed["id"]
    assert [(r["kind"], r["outcome"]) for r in body["results"]] == [("Pod", "deleted"), ("ConfigMap", "deleted")]
    assert real_target.live("ConfigMap", "merged-config-merge-config") is None
    pod = real_target.live("Pod", "merged-config")  # kwok lets it go in a moment; until then it is terminating
    assert pod is None or pod["metadata"]["deletionTimestamp"]


@pytest.mark.parametrize(
    ("fault", "status", "kind", "words"),
    [
        ({"status": 403, "message": forbidden_patch("pods", "timecheck", "{ns}")}, 403, "forbidden",
         "You (user 'someone') may not patch pods in namespace '{ns}'."),
        ({"status": 401}, 401, "unauthorized", "did not accept the credentials of user 'faulty-user'"),
        ({"status": 422}, 422, "invalid", ""),
        ({"status": 500}, 502, "server", "reported an error (500)"),
        ({"status": 429, "times": None}, 429, "rate_limited", "rate limiting"),
    ],
)
def test_each_error_class_is_reported_and_recorded(api, example, proxied_target, fault, status, kind, words):
    ns = proxied_target.namespace
    options = {key: value.format(ns=ns) if key == "message" else value for key, value in fault.items()}
    proxied_target.proxy.inject("PATCH", r"/pods/", **options)
    response = deploy(api, example("log-tailer"), proxied_target)
    assert response.status_code == status, response.json()
    body = response.json()
    assert body["outcome"] == "failed" and body["error_kind"] == kind
    assert words.format(ns=ns) in body["message"]
    record = DeployRecord.objects.get()
    assert record.outcome == "failed" and record.error_kind == kind
    assert proxied_target.live("Pod", "timecheck") is None


def test_failure_midway_says_what_was_applied_and_what_was_not(api, example, proxied_target):
    t = proxied_target
    t.proxy.inject("PATCH", r"/services/", status=403, message=forbidden_patch("services", "es-metrics", t.namespace))
    body = deploy(api, example("exporter"), t).json()
    assert body["outcome"] == "failed"
    assert [(r["kind"], r["outcome"]) for r in body["results"]] == [("Service", "failed"), ("Pod", "not_attempted")]
    assert "Not attempted: Pod es-metrics" in body["message"]
    assert t.live("Service", "es-metrics") is None

    t.proxy.inject("PATCH", r"/pods/", status=403, message=forbidden_patch("pods", "es-metrics", t.namespace))
    partial = deploy(api, example("exporter"), t).json()
    assert partial["outcome"] == "partial"
    assert "Applied before it: Service es-metrics" in partial["message"]
    assert t.live("Service", "es-metrics") is not None and t.live("Pod", "es-metrics") is None


def test_unreachable_cluster_is_a_clear_failure(api, example, proxied_target):
    proxied_target.proxy.stop()
    response = deploy(api, example("log-tailer"), proxied_target)
    assert response.status_code == 502
    body = response.json()
    assert body["error_kind"] == "unreachable"
    assert f"The cluster at context 'faulty' ({proxied_target.proxy.url}) could not be reached" in body["message"]


def test_native_sidecars_are_refused_on_old_clusters(api, example, proxied_target):
    old = {"major": "1", "minor": "28", "gitVersion": "v1.28.4", "platform": "linux/amd64"}
    proxied_target.proxy.inject("GET", r"^/version$", answer=old, times=None)
    saved = example("log-tailer")
    composition = saved.composition()
    edits.set_native_sidecar(composition, "h1", True)
    saved.record(composition, "native")
    response = deploy(api, saved, proxied_target)
    assert response.status_code == 422
    assert "need Kubernetes 1.29 or newer, but the cluster at context 'faulty' runs 1.28" in response.json()["message"]
    assert proxied_target.proxy.requests_matching("PATCH", "/pods/") == []


def test_bad_requests_are_400_and_record_nothing(api, example, real_target):
    saved = example("log-tailer")
    assert api.post(f"compositions/{saved.pk}/deploy", {"namespace": real_target.namespace}).status_code == 400
    assert deploy(api, saved, real_target, dry_run="yes").status_code == 400
    bad_ns = api.post(f"compositions/{saved.pk}/deploy", {"context": real_target.context, "namespace": "Not_Valid"})
    assert bad_ns.status_code == 400 and "not a valid name" in bad_ns.json()["error"]
    composition = saved.composition()
    composition.app.ports = [{"containerPort": 80}, {"containerPort": 80}]
    saved.record(composition, "clash")
    refused = deploy(api, saved, real_target)
    assert refused.status_code == 400 and "fix" in refused.json()["error"]
    assert DeployRecord.objects.count() == 0
    assert real_target.live("Pod", "timecheck") is None


def test_credentials_never_reach_any_response(api, example, proxied_target):
    token = proxied_target.proxy.token
    saved = example("log-tailer")
    bodies = [api.get("contexts"), deploy(api, saved, proxied_target)]
    proxied_target.proxy.inject("PATCH", r"/pods/", status=401)
    bodies.append(deploy(api, saved, proxied_target))
    bodies.append(api.get("deployments"))
    assert [b.status_code for b in bodies] == [200, 201, 401, 200]
    for response in bodies:
        assert token not in response.content.decode()


def test_missing_namespace_is_explained_and_can_be_created(api, example, real_target):
    saved = example("log-tailer")
    shop = f"{real_target.namespace}-shop"
    where = {"context": real_target.context, "namespace": shop}
    missing = api.post(f"compositions/{saved.pk}/deploy", where)
    assert missing.status_code == 404
    assert missing.json()["error_kind"] == "not_found"
    assert missing.json()["message"].startswith(f"Pod timecheck failed: Namespace '{shop}' does not exist")
    core = k8s.CoreV1Api(real_target.admin)
    try:
        created = api.post(f"compositions/{saved.pk}/deploy", {**where, "create_namespace": True})
        assert created.status_code == 201, created.json()
        assert core.read_namespaced_pod("timecheck", shop).metadata.uid == created.json()["results"][0]["uid"]
    finally:
        core.delete_namespace(shop, propagation_policy="Background")


def test_a_stalled_cluster_times_out_with_a_clear_message(api, example, proxied_target, monkeypatch):
    monkeypatch.setattr(contexts, "DEFAULT_TIMEOUTS", contexts.Timeouts(connect=2.0, read=1.0))
    proxied_target.proxy.inject("PATCH", r"/pods/", stall=3)
    response = deploy(api, example("log-tailer"), proxied_target)
    assert response.status_code == 504
    assert response.json()["error_kind"] == "timeout"
    assert "did not answer within 1 s" in response.json()["message"]


def test_contexts_show_server_urls_without_userinfo_or_query(api, tmp_path, monkeypatch):
    entries = [
        KubeconfigContext("userinfo", "https://admin:pa55-word@10.0.0.1:6443", "t1"),
        KubeconfigContext("query", "https://10.0.0.2:6443/k8s/clusters/c-1?access_token=tok-123#frag", "t2"),
    ]
    monkeypatch.setenv("KUBECONFIG", str(write_kubeconfig(tmp_path / "kubeconfig", entries)))
    response = api.get("contexts")
    assert response.status_code == 200
    servers = {c["name"]: c["server"] for c in response.json()["contexts"]}
    assert servers == {"userinfo": "https://10.0.0.1:6443", "query": "https://10.0.0.2:6443/k8s/clusters/c-1"}
    for secret in ("admin", "pa55-word", "tok-123", "frag"):
        assert secret not in response.content.decode()
