"""The round-trip properties: import(render(c)) == c as far as the manifests can tell (Pod Studio writes no
annotation of its own), and render(import(m)) means m."""

from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings

from composer.domain.examples import EXAMPLES
from composer.domain.importer import import_manifests
from composer.domain.lint import lint
from composer.domain.render import build, render
from composer.domain.yamlio import dump_documents, load_documents
from tests.support.compositions import ambiguous, as_its_manifests_tell, canonical, compositions

MANIFESTS = Path(__file__).parent / "manifests"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(compositions())
def test_import_of_render_gives_back_the_composition(composition):
    # Two helpers declaring one volume name differently cannot both be rendered: lint says so.
    assume(not [p for p in lint(build(composition)) if p.code == "volume-conflict"])
    assume(not ambiguous(composition))  # no import could say which helper meant what
    manifests = render(composition)
    imported = import_manifests(load_documents(dump_documents(manifests)))
    assert canonical(imported.composition) == canonical(as_its_manifests_tell(composition, imported.composition))
    assert imported.warnings == []


@settings(max_examples=100, deadline=None)
@given(compositions())
def test_render_is_deterministic(composition):
    assert dump_documents(render(composition)) == dump_documents(render(composition))


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: e.id)
def test_every_worked_example_round_trips_through_yaml(example):
    composition = example.build()
    text = dump_documents(render(composition))
    imported = import_manifests(load_documents(text))
    assert canonical(imported.composition) == canonical(composition)
    assert dump_documents(render(imported.composition)) == text


def _meaning(manifests):
    """What a set of manifests means: objects by kind and name, containers by name, init order kept."""
    meaning = {}
    for manifest in manifests:
        manifest = dict(manifest)
        spec = manifest.get("spec", {})
        pod = spec.get("template", {}).get("spec") if manifest["kind"] == "Deployment" else spec
        if manifest["kind"] in ("Pod", "Deployment"):
            pod = dict(pod)
            pod["containers"] = {c["name"]: _container(c) for c in pod["containers"]}
            pod["initContainers"] = [_container(c) for c in pod.get("initContainers", [])]
            pod["volumes"] = {v["name"]: v for v in pod.get("volumes", [])}
            labels = manifest["metadata"].get("labels", {})
            meaning[(manifest["kind"], manifest["metadata"]["name"])] = (labels, pod)
        else:
            if manifest["kind"] == "Service":
                manifest["spec"] = {"type": "ClusterIP", **spec}  # the API server's default
            meaning[(manifest["kind"], manifest["metadata"]["name"])] = manifest
    return meaning


def _container(container):
    container = dict(container)
    container["env"] = sorted((e["name"], str(e.get("value"))) for e in container.get("env", []))
    container["volumeMounts"] = sorted(
        (m["name"], m["mountPath"], bool(m.get("readOnly")), m.get("subPath", ""))
        for m in container.get("volumeMounts", [])
    )
    return container


@pytest.mark.parametrize("path", sorted(MANIFESTS.glob("*.yaml")), ids=lambda p: p.stem)
def test_hand_written_manifests_mean_the_same_after_import_and_render(path):
    documents = load_documents(path.read_text())
    imported = import_manifests(documents)
    rendered = render(imported.composition)
    assert _meaning(rendered) == _meaning([d for d in documents if d["kind"] != "Secret"])
