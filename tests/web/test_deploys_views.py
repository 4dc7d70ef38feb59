"""The deploy panel, history, record, redeploy and undeploy pages (Django test client, stand-in cluster)."""

import csv
import io

import pytest

from composer.domain.examples import EXAMPLES_BY_ID
from composer.models import DeployRecord, SavedComposition


@pytest.fixture
def saved(db):
    return SavedComposition.create(EXAMPLES_BY_ID["exporter"].build())


def post_deploy(client, saved, **fields):
    data = {"context": "stand-in", "namespace": "default", "action": "deploy", **fields}
    return client.post(f"/c/{saved.pk}/deploy", data, HTTP_HX_REQUEST="true")


def test_composer_page_offers_the_contexts_without_credentials(client, saved, standin_target):
    page = client.get(saved.get_absolute_url()).content.decode()
    assert 'value="stand-in" selected' in page and "stand-in-team" in page
    assert standin_target.server.token not in page


def test_without_a_kubeconfig_the_panel_explains_how_to_add_one(client, saved, monkeypatch, tmp_path):
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "missing"))
    monkeypatch.setenv("HOME", str(tmp_path))
    page = client.get(saved.get_absolute_url()).content.decode()
    assert "No Kubernetes context found" in page and "~/.kube/config" in page


def test_namespaces_are_listed_or_the_reason_is_given(client, saved, standin_target):
    listed = client.get(f"/c/{saved.pk}/deploy/namespaces", {"context": "stand-in"}).content.decode()
    assert '<option value="default">' in listed
    standin_target.server.inject("GET", r"/api/v1/namespaces$", status=403)
    refused = client.get(f"/c/{saved.pk}/deploy/namespaces", {"context": "stand-in"}).content.decode()
    assert "can't be listed" in refused and "type one" in refused


def test_deploy_from_the_panel_shows_each_object_and_records_it(client, saved, standin_target):
    response = post_deploy(client, saved)
    html = response.content.decode()
    assert response.status_code == 200
    assert "Deploy succeeded" in html and "Service/es-metrics" in html and "Pod/es-metrics" in html
    record = DeployRecord.objects.get()
    assert record.outcome == "succeeded" and record.user == "local"
    assert f"/deployments/{record.pk}/" in html


def test_conflict_offers_force_and_immutable_offers_recreate(client, saved, standin_target):
    standin_target.server.inject("PATCH", r"/pods/", status=409, message="conflict with \"kubectl\"")
    assert "Deploy with force" in post_deploy(client, saved).content.decode()
    assert post_deploy(client, saved).status_code == 200
    composition = saved.composition()
    composition.app.image = "docker.elastic.co/elasticsearch/elasticsearch:7.10.2"
    composition.app.ports = [{"name": "http", "containerPort": 9201}]
    saved.record(composition, "new port")
    html = post_deploy(client, saved).content.decode()
    assert "Delete and recreate the Pod" in html
    recreated = post_deploy(client, saved, action="recreate").content.decode()
    assert "Deploy succeeded" in recreated
    pod = standin_target.server.get("pods", "default", "es-metrics")
    assert pod["spec"]["containers"][0]["ports"][0]["containerPort"] == 9201


def test_refused_deploy_says_why_and_records_nothing(client, saved, standin_target):
    response = post_deploy(client, saved, namespace="Bad Name")
    assert response.status_code == 400 and "not a valid name" in response.content.decode()
    assert DeployRecord.objects.count() == 0


def test_diff_in_the_panel(client, saved, standin_target):
    html = post_deploy(client, saved, action="diff").content.decode()
    assert "Diff of Pod es-metrics" in html and "new" in html


def test_history_detail_redeploy_and_undeploy(client, saved, standin_target):
    post_deploy(client, saved)
    record = DeployRecord.objects.get()
    history = client.get("/deployments/").content.decode()
    assert "es-metrics" in history and "Succeeded" in history
    detail = client.get(record.get_absolute_url()).content.decode()
    assert "YAML sent" in detail and "Undeploy" in detail
    again = client.post(f"/deployments/{record.pk}/redeploy")
    assert again.status_code == 302
    confirm = client.get(f"/deployments/{record.pk}/undeploy").content.decode()
    assert "Pod/es-metrics" in confirm and "Delete them" in confirm
    assert standin_target.server.get("pods", "default", "es-metrics") is not None
    done = client.post(f"/deployments/{record.pk}/undeploy")
    undeploy = DeployRecord.objects.get(action="undeploy")
    assert done.url == undeploy.get_absolute_url()
    assert standin_target.server.get("pods", "default", "es-metrics") is None
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
