"""A file of several workloads (an app and its API, as `kubectl apply -f folder/` applies them) becomes one
composition per workload, each with the ConfigMaps it uses and the Services that select its Pods."""

from pathlib import Path

import pytest

from composer.domain.importer import ManifestImportError, import_manifests, import_workloads
from composer.domain.render import render
from composer.domain.yamlio import load_documents
from tests.support.meaning import differences, meaning

NUMBERS = Path(__file__).parents[1] / "corpus" / "kiamol-ch07-numbers-folder.yaml"


def _deployment(name: str, config_map: str | None = None) -> dict:
    spec: dict = {"containers": [{"name": "app", "image": "nginx:1.27"}]}
    if config_map:
        spec["volumes"] = [{"name": "config", "configMap": {"name": config_map}}]
        spec["containers"][0]["volumeMounts"] = [{"name": "config", "mountPath": "/config"}]
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
            "spec": {"selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}}, "spec": spec}}}


def _config_map(name: str) -> dict:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"a": "1"}}


def test_the_kiamol_numbers_folder_becomes_the_api_and_the_web_each_with_its_service():
    documents = load_documents(NUMBERS.read_text())
    api, web = import_workloads(documents)
    assert (api.composition.workload.name, web.composition.workload.name) == ("numbers-api", "numbers-web")
    assert api.composition.options.service.name == "numbers-api"
    assert web.composition.options.service.name == "numbers-web"
    assert web.composition.options.service.type == "LoadBalancer"
    assert api.composition.extra_objects == [] and web.composition.extra_objects == []
    assert api.warnings == [] and web.warnings == []
    # Together they render what the folder says, nothing more, nothing less.
    found = meaning([*render(api.composition), *render(web.composition)])
    expected = meaning(documents)
    assert sorted(found) == sorted(expected)
    assert [p for key in expected for p in differences(expected[key], found[key])] == []


def test_each_workload_gets_the_config_maps_its_pods_use():
    results = import_workloads([_deployment("a", "conf-a"), _deployment("b", "conf-b"),
                                _config_map("conf-b"), _config_map("conf-a")])
    assert [[o["metadata"]["name"] for o in r.composition.extra_objects] for r in results] == [["conf-a"], ["conf-b"]]
    assert [r.warnings for r in results] == [[], []]


def test_a_config_map_of_two_workloads_goes_with_both_and_says_so():
    first, second = import_workloads([_deployment("a", "shared"), _deployment("b", "shared"), _config_map("shared")])
    for result in (first, second):
        assert [o["metadata"]["name"] for o in result.composition.extra_objects] == ["shared"]
        assert result.warnings == ["ConfigMap 'shared' is used by Deployment 'a', Deployment 'b': each composition "
                                   "carries it, and undeploying one removes it for the others"]


def test_what_no_workload_uses_stays_with_the_first_and_a_secret_is_refused_once():
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "token"}}
    first, second = import_workloads([_deployment("a"), _deployment("b"), _config_map("spare"), secret])
    assert [o["metadata"]["name"] for o in first.composition.extra_objects] == ["spare"]
    assert "ConfigMap 'spare' is used by no workload: kept with this composition" in first.warnings
    assert sum("Secret 'token' not imported" in w for w in first.warnings + second.warnings) == 1
    assert second.composition.extra_objects == []


def test_a_config_map_referred_to_by_env_or_a_projected_volume_belongs_too():
    by_env = _deployment("a")
    by_env["spec"]["template"]["spec"]["containers"][0]["envFrom"] = [{"configMapRef": {"name": "env"}}]
    projected = _deployment("b")
    projected["spec"]["template"]["spec"]["volumes"] = [
        {"name": "all", "projected": {"sources": [{"configMap": {"name": "files"}}]}}]
    projected["spec"]["template"]["spec"]["containers"][0]["volumeMounts"] = [{"name": "all", "mountPath": "/all"}]
    first, second = import_workloads([by_env, projected, _config_map("files"), _config_map("env")])
    assert [o["metadata"]["name"] for o in first.composition.extra_objects] == ["env"]
    assert [o["metadata"]["name"] for o in second.composition.extra_objects] == ["files"]


def test_one_composition_at_a_time_is_refused_for_several_workloads():
    with pytest.raises(ManifestImportError, match=r"2 workloads \(Deployment 'a', Deployment 'b'\)"):
        import_manifests([_deployment("a"), _deployment("b")])


def test_one_bad_workload_refuses_the_whole_file():
    bad = _deployment("b")
    bad["spec"]["template"]["spec"]["containers"] = []
    with pytest.raises(ManifestImportError, match="Deployment 'b' has no containers"):
        import_workloads([_deployment("a"), bad])
