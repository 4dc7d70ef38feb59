import yaml

from composer.domain import edits
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


def put_yaml(api, pk, text, revision=None):
    headers = {} if revision is None else {"HTTP_IF_MATCH": f'"{revision}"'}
    return api.client.put(f"/api/v1/compositions/{pk}", data=text, content_type="application/yaml", **headers)


def test_put_yaml_replaces_through_the_importer_as_the_yaml_editor_does(api, saved):
    composition = saved.composition()
    edits.add_helper(composition, "log-tailer")
    text = dump_documents(render(composition)).replace("app.log", "access.log")
    response = put_yaml(api, saved.pk, text, revision=1)
    body = response.json()
    assert response.status_code == 200 and response["ETag"] == '"2"'
    assert body["id"] == saved.pk and body["revision"] == 2 and body["changed"] is True and body["warnings"] == []
    assert [(h["pattern"], h["params"]) for h in body["composition"]["helpers"]] == [
        ("log-tailer", {"log_file": "access.log"})]
    assert saved.revisions.first().message == "replaced with YAML through the API"
    again = put_yaml(api, saved.pk, text)
    assert again.status_code == 200 and again.json()["changed"] is False and again.json()["revision"] == 2


def test_put_yaml_refusals_are_400_409_and_415_and_save_nothing(api, saved):
    bad = put_yaml(api, saved.pk, "kind: Pod\nmetadata:\n  name: [x\n")
    assert bad.status_code == 400 and bad.json()["errors"] == {"line": "4", "column": "1"}
    text = dump_documents(render(saved.composition()))
    several = put_yaml(api, saved.pk, text + "---\n" + text.replace("name: my-app", "name: other"))
    assert several.status_code == 400 and "import the others from the Import page" in several.json()["error"]
    stale = put_yaml(api, saved.pk, text.replace("my-app", "renamed"), revision=7)
    assert stale.status_code == 409 and "your edit was made on revision 7" in stale.json()["error"]
    other = api.client.put(f"/api/v1/compositions/{saved.pk}", data="x", content_type="text/plain")
    assert other.status_code == 415 and "application/yaml" in other.json()["error"]
    saved.refresh_from_db()
    assert saved.revision == 1


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
