"""The deploy panel, history, record, redeploy and undeploy pages (Django test client) against the real
local control plane (``real_target``), and through the fault-injecting proxy (``proxied_target``) for a
refusal the real server does not make on demand."""

import csv
import io

import pytest
import yaml
from kubernetes import client as k8s

from composer.domain.examples import EXAMPLES_BY_ID
from composer.models import DeployRecord, SavedComposition
from tests.support.faultproxy import wait_for


@pytest.fixture
def saved(db):
    return SavedComposition.create(EXAMPLES_BY_ID["exporter"].build())


def post_deploy(client, saved, target, **fields):
    data = {"context": target.context, "namespace": target.namespace, "action": "deploy", **fields}
    return client.post(f"/c/{saved.pk}/deploy", data, HTTP_HX_REQUEST="true")


def test_composer_page_offers_the_contexts_without_credentials(client, saved, control_plane, real_target):
    page = client.get(saved.get_absolute_url()).content.decode()
    assert f'value="{control_plane.admin_context}" selected' in page and control_plane.limited_context in page
    for user in yaml.safe_load(control_plane.kubeconfig.read_text())["users"]:
        assert user["user"]["client-key-data"] not in page
        assert user["user"]["client-certificate-data"] not in page


def test_without_a_kubeconfig_the_panel_explains_how_to_add_one(client, saved, monkeypatch, tmp_path):
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "missing"))
    monkeypatch.setenv("HOME", str(tmp_path))
    page = client.get(saved.get_absolute_url()).content.decode()
    assert "No Kubernetes context found" in page and "~/.kube/config" in page


def test_namespaces_are_listed_or_the_reason_is_given(client, saved, control_plane, real_target):
    listed = client.get(f"/c/{saved.pk}/deploy/namespaces", {"context": real_target.context}).content.decode()
    assert f'<option value="{real_target.namespace}">' in listed and '<option value="kube-system">' in listed
    # team-a-user may not list namespaces (only work in team-a): the real server's 403.
    refused = client.get(f"/c/{saved.pk}/deploy/namespaces", {"context": control_plane.limited_context}).content
    assert "can't be listed" in refused.decode() and "type one" in refused.decode()


def test_deploy_from_the_panel_shows_each_object_and_records_it(client, saved, real_target):
    response = post_deploy(client, saved, real_target)
    html = response.content.decode()
    assert response.status_code == 200
    assert "Deploy succeeded" in html and "Service/es-metrics" in html and "Pod/es-metrics" in html
    record = DeployRecord.objects.get()
    assert record.outcome == "succeeded" and record.user == "local"
    assert f"/deployments/{record.pk}/" in html
    assert real_target.live("Service", "es-metrics") is not None and real_target.live("Pod", "es-metrics") is not None
    # The composer leads to the runtime view of that deploy, until it is undeployed.
    page = client.get(saved.get_absolute_url()).content.decode()
    assert f'href="/deployments/{record.pk}/runtime" aria-describedby="last-deploy-where">Runtime</a>' in page
    assert f"of the last deploy: {real_target.context}/{real_target.namespace}, r1" in page
    DeployRecord.objects.create(composition=saved, composition_name=saved.name, revision=1, action="undeploy",
                                context=real_target.context, namespace=real_target.namespace, user="local",
                                manifest_yaml="", outcome="succeeded")
    assert "last-deploy-where" not in client.get(saved.get_absolute_url()).content.decode()


def take_over_the_image(target, pod: str, image: str) -> None:
    """What someone running ``kubectl apply --server-side --force-conflicts`` on the Pod does."""
    patch = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": pod},
             "spec": {"containers": [{"name": "elasticsearch", "image": image}]}}
    k8s.CoreV1Api(target.admin).patch_namespaced_pod(pod, target.namespace, patch, field_manager="kubectl",
                                                     force=True, _content_type="application/apply-patch+yaml")


def test_conflict_offers_force_and_immutable_offers_recreate(client, saved, real_target):
    assert "Deploy succeeded" in post_deploy(client, saved, real_target).content.decode()
    take_over_the_image(real_target, "es-metrics", "docker.elastic.co/elasticsearch/elasticsearch:7.10.1")
    conflict = post_deploy(client, saved, real_target).content.decode()
    assert "Deploy with force" in conflict and "kubectl" in conflict
    forced = post_deploy(client, saved, real_target, force="on").content.decode()
    assert "Deploy succeeded" in forced
    pod = real_target.live("Pod", "es-metrics")
    assert pod["spec"]["containers"][0]["image"] == saved.composition().app.image

    composition = saved.composition()
    composition.app.ports = [{"name": "http", "containerPort": 9201}]  # Pod ports are immutable
    saved.record(composition, "new port")
    html = post_deploy(client, saved, real_target).content.decode()
    assert "Delete and recreate the Pod" in html
    recreated = post_deploy(client, saved, real_target, action="recreate").content.decode()
    assert "Deploy succeeded" in recreated
    pod = real_target.live("Pod", "es-metrics")
    assert pod["spec"]["containers"][0]["ports"][0]["containerPort"] == 9201


def test_refused_deploy_says_why_and_records_nothing(client, saved, proxied_target):
    response = post_deploy(client, saved, proxied_target, namespace="Bad Name")
    assert response.status_code == 400 and "not a valid name" in response.content.decode()
    assert DeployRecord.objects.count() == 0
    assert proxied_target.proxy.requests == []


def test_a_refusal_of_the_server_is_shown_in_its_words(client, saved, proxied_target):
    proxied_target.proxy.inject("PATCH", r"/pods/", status=403,
                                message='pods "es-metrics" is forbidden: User "someone" cannot patch resource "pods"')
    html = post_deploy(client, saved, proxied_target).content.decode()
    assert "Deploy partly applied" in html and "cannot patch resource" in html
    assert proxied_target.live("Pod", "es-metrics") is None


def test_diff_in_the_panel(client, saved, real_target):
    html = post_deploy(client, saved, real_target, action="diff").content.decode()
    assert "Diff of Pod es-metrics" in html and "new" in html
    assert real_target.live("Pod", "es-metrics") is None  # a diff is a server-side dry run


def test_history_detail_redeploy_and_undeploy(client, saved, real_target):
    post_deploy(client, saved, real_target)
    record = DeployRecord.objects.get()
    history = client.get("/deployments/").content.decode()
    assert "es-metrics" in history and "Succeeded" in history
    detail = client.get(record.get_absolute_url()).content.decode()
    assert "YAML sent" in detail and "Undeploy" in detail
    again = client.post(f"/deployments/{record.pk}/redeploy")
    assert again.status_code == 302
    redeployed = DeployRecord.objects.order_by("-pk").first()
    assert again.url == redeployed.get_absolute_url() and redeployed.outcome == "succeeded"
    confirm = client.get(f"/deployments/{record.pk}/undeploy").content.decode()
    assert "Pod/es-metrics" in confirm and "Delete them" in confirm
    assert real_target.live("Pod", "es-metrics") is not None
    done = client.post(f"/deployments/{record.pk}/undeploy")
    undeploy = DeployRecord.objects.get(action="undeploy")
    assert done.url == undeploy.get_absolute_url() and undeploy.outcome == "succeeded"
    # The real server deletes the Pod once the kubelet (kwok) let it go; the Service at once.
    wait_for(lambda: real_target.live("Pod", "es-metrics") is None, timeout=15)
    assert real_target.live("Service", "es-metrics") is None
    assert "Undeployed by" in client.get(record.get_absolute_url()).content.decode()


def test_unknown_records_are_404(client, db):
    assert client.get("/deployments/999/").status_code == 404
    assert client.post("/deployments/999/undeploy").status_code == 404


@pytest.mark.parametrize("hostile", ["=HYPERLINK(\"http://evil.example\",\"x\")", "+1+1", "-2+3", "@SUM(A1)",
                                     "\tcmd", "\rcmd"])
def test_the_audit_export_escapes_formulas(client, db, hostile):
    """OWASP CSV injection: a cell a spreadsheet would read as a formula starts with a single quote."""
    DeployRecord.objects.create(
        composition_name="web", revision=1, action="deploy", context=hostile, namespace="default", user=hostile,
        manifest_yaml="", outcome="failed", error_kind="not_found", message=hostile,
    )
    response = client.get("/deployments/export.csv")
    assert response.status_code == 200
    [row] = list(csv.DictReader(io.StringIO(response.content.decode(), newline="")))
    assert (row["context"], row["user"], row["message"]) == ("'" + hostile,) * 3
    assert (row["composition_name"], row["namespace"], row["revision"]) == ("web", "default", "1")
