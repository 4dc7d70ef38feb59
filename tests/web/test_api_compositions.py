import yaml

from composer.domain.render import render
from composer.domain.yamlio import dump_documents
from composer.models import SavedComposition


def test_create_returns_201_with_the_id_and_stores_a_revision(api):
    body = {
        "workload": {"kind": "Deployment", "name": "shop", "labels": {"app": "shop"}, "replicas": 2},
        "app": {"image": "nginx:1.27", "ports": [{"name": "http", "containerPort": 80}]},
        "helpers": [{"pattern": "log-tailer", "params": {"log_dir": "/logs"}}],
    }
    response = api.post("compositions", body)
    assert response.status_code == 201
    created = response.json()
    saved = SavedComposition.objects.get(pk=created["id"])
    assert saved.name == "shop" and saved.revisions.count() == 1
    assert created["composition"]["helpers"][0]["params"] == {"log_dir": "/logs"}


def test_invalid_composition_is_400_with_field_messages_and_nothing_saved(api):
    response = api.post("compositions", {"workload": {"kind": "VirtualMachine", "name": "Bad_Name"}, "colour": 1})
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert set(errors) == {"workload.kind", "workload.name", "colour"}
    assert SavedComposition.objects.count() == 0


def test_unknown_pattern_or_bad_params_are_400(api):
    response = api.post("compositions", {"helpers": [{"pattern": "teleporter"}, {"pattern": "wait-for",
                                                                                  "params": {"port": 0}}]})
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "helpers[0].pattern": "unknown pattern 'teleporter'",
        "helpers[1].params.port": "must be a whole number from 1 to 65535",
    }
    assert SavedComposition.objects.count() == 0


def test_wrong_content_type_is_415_and_bad_json_is_400(api):
    assert api.post("compositions", "workload=1", content_type="application/x-www-form-urlencoded").status_code == 415
    response = api.post("compositions", "{not json", content_type="application/json")
    assert response.status_code == 400 and "not valid JSON" in response.json()["error"]
    assert api.post("compositions", [1, 2]).status_code == 400


def test_get_list_replace_and_delete(api, saved):
    assert api.get(f"compositions/{saved.pk}").json()["composition"]["workload"]["name"] == "my-app"
    assert [c["id"] for c in api.get("compositions").json()["compositions"]] == [saved.pk]
    replaced = api.put(f"compositions/{saved.pk}", {"workload": {"name": "renamed", "labels": {"app": "x"}}})
    assert replaced.status_code == 200 and replaced.json()["revision"] == 2
    assert api.delete(f"compositions/{saved.pk}").status_code == 204
    assert api.get(f"compositions/{saved.pk}").status_code == 404


def test_unknown_id_is_404_json(api):
    response = api.get("compositions/999")
    assert response.status_code == 404 and response.json() == {"error": "no composition with id 999"}


def test_manifest_is_multi_document_yaml(api):
    created = api.post("compositions", {
        "workload": {"name": "es", "labels": {"app": "es"}},
        "app": {"image": "docker.elastic.co/elasticsearch/elasticsearch:7.9.3"},
        "helpers": [{"pattern": "port-remapper"}],
    }).json()
    response = api.get(f"compositions/{created['id']}/manifest")
    assert response.status_code == 200 and response["Content-Type"].startswith("application/yaml")
    documents = list(yaml.safe_load_all(response.content))
    assert [d["kind"] for d in documents] == ["ConfigMap", "Pod"]
    assert [c["name"] for c in documents[1]["spec"]["containers"]] == ["app", "port-ambassador"]
    download = api.get(f"compositions/{created['id']}/manifest", download="1")
    assert download["Content-Disposition"] == 'attachment; filename="es.yaml"'


def test_problems_combine_lint_and_schema(api):
    created = api.post("compositions", {
        "app": {"image": "nginx", "ports": [{"containerPort": 8080}], "extra": {"colour": "blue"}},
        "helpers": [{"pattern": "health-endpoint", "params": {"port": 8080}}],
    }).json()
    body = api.get(f"compositions/{created['id']}/problems").json()
    codes = {p["code"] for p in body["problems"]}
    assert {"port-clash", "latest-image", "schema"} <= codes
    assert body["errors"] >= 2
    schema = next(p for p in body["problems"] if p["code"] == "schema")
    assert "colour" in schema["message"] and schema["path"].startswith("Pod/my-app")


def test_unknown_kubernetes_version_is_400(api, saved):
    response = api.get(f"compositions/{saved.pk}/problems", kubernetes_version="latest")
    assert response.status_code == 400 and "not a version" in response.json()["error"]
    assert api.get(f"compositions/{saved.pk}/problems", kubernetes_version="1.28").status_code == 200


def test_problems_flag_a_selector_changed_since_a_deploy_that_is_still_in_the_cluster(api):
    workload = {"kind": "Deployment", "name": "shop", "labels": {"app": "shop"}}
    created = api.post("compositions", {"workload": workload, "app": {"image": "nginx:1.27"}}).json()
    saved = SavedComposition.objects.get(pk=created["id"])
    applied = [{"kind": "Deployment", "name": "shop", "outcome": "configured"}]
    for namespace, action in (("shop", "deploy"), ("gone", "deploy"), ("gone", "undeploy")):
        saved.deploys.create(composition_name="shop", revision=1, action=action, context="kind-dev",
                             namespace=namespace, user="local", outcome="succeeded", results=applied,
                             manifest_yaml=dump_documents(render(saved.composition())))
    api.put(f"compositions/{created['id']}", {"workload": {**workload, "selector": {"matchLabels": {"app": "shop",
                                                                                                    "v": "2"}}},
                                              "app": {"image": "nginx:1.27"}})
    problems = api.get(f"compositions/{created['id']}/problems").json()["problems"]
    changed = [p for p in problems if p["code"] == "selector-changed"]
    assert [p["message"].split(" since the deploy to ")[1].split(";")[0] for p in changed] == ["kind-dev/shop"]
