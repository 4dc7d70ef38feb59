from pathlib import Path

from composer.models import SavedComposition

MANIFESTS = Path(__file__).parent.parent / "unit" / "manifests"


def test_import_yaml_creates_a_composition_with_warnings(api):
    text = (MANIFESTS / "10-tls-ambassador.yaml").read_text()
    response = api.post("compositions/import", text, content_type="application/yaml")
    assert response.status_code == 201
    body = response.json()
    assert body["composition"]["workload"]["name"] == "es-tls"
    assert any("Secret 'es-certs' not imported" in w for w in body["warnings"])
    assert SavedComposition.objects.get(pk=body["id"]).revisions.get().message == "imported from YAML"


def test_malformed_yaml_says_where(api):
    response = api.post("compositions/import", "kind: Pod\nmetadata:\n  name: [unclosed\n",
                        content_type="application/yaml")
    assert response.status_code == 400
    body = response.json()
    assert body["errors"]["line"] == "4"
    assert "line 4" in body["error"]
    assert SavedComposition.objects.count() == 0


def test_yaml_without_a_workload_is_400(api):
    response = api.post("compositions/import", "kind: ConfigMap\nmetadata: {name: x}\n",
                        content_type="application/yaml")
    assert response.status_code == 400
    assert response.json()["error"] == (
        "no workload found (a Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob; found: ConfigMap)")


def test_alias_bomb_and_oversized_bodies_are_refused(api):
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
        f"*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
        for i in range(8)
    )
    assert api.post("compositions/import", bomb, content_type="application/yaml").status_code == 400
    huge = "kind: Pod\ndata: " + "x" * (1024 * 1024 + 10) + "\n"
    assert api.post("compositions/import", huge, content_type="application/yaml").status_code in (400, 413)
    assert SavedComposition.objects.count() == 0


def test_import_needs_a_yaml_content_type(api):
    response = api.post("compositions/import", {"kind": "Pod"})
    assert response.status_code == 415


def test_a_file_of_two_workloads_creates_both_and_lists_them(api):
    text = (Path(__file__).parents[1] / "corpus" / "kiamol-ch07-numbers-folder.yaml").read_text()
    response = api.post("compositions/import", text, content_type="application/yaml")
    assert response.status_code == 201
    body = response.json()
    assert body["composition"]["workload"]["name"] == "numbers-api"
    assert [(c["kind"], c["name"], c["warnings"]) for c in body["created"]] == [
        ("Deployment", "numbers-api", []), ("Deployment", "numbers-web", [])]
    saved = SavedComposition.objects.order_by("pk").values_list("pk", flat=True)
    assert [c["id"] for c in body["created"]] == list(saved)
