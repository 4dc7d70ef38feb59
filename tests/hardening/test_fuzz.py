"""A hypothesis campaign over the import, the API's composition POST and the render path.

Properties: never a 500, never an exception out of a view (the test client re-raises them), a JSON
4xx when refused, and every view of whatever was accepted renders. Example counts and deadlines
are bounded so the whole campaign stays under about a minute on two cores; a deadline of seconds
per example is the "never a hang" check (the work per example is milliseconds).

The `@example`s pin inputs that once broke the import or the views (see docs/reliability.md), so
every run checks them again.
For a longer run by hand: `PODSTUDIO_FUZZ_EXAMPLES=5000 .venv/bin/pytest tests/hardening/test_fuzz.py`.
"""

from __future__ import annotations

import copy
import json
import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context

from composer.domain.model import Composition
from composer.domain.patterns import CATALOG
from composer.domain.yamlio import YamlError, load_documents
from composer.models import SavedComposition
from tests.hardening import api_error
from tests.support.compositions import ambiguous, as_its_manifests_tell, canonical, compositions

MANIFESTS = sorted((Path(__file__).parent.parent / "unit" / "manifests").glob("*.yaml"))
SCALE = int(os.environ.get("PODSTUDIO_FUZZ_EXAMPLES", "0"))


def campaign(examples: int):
    """Hypothesis settings for one campaign: `examples` runs (or the hand-run override)."""
    return settings(
        max_examples=SCALE or examples,
        deadline=timedelta(seconds=10),
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                               HealthCheck.data_too_large],
    )


def every_view_renders(client, pk: int) -> None:
    for path in (f"/c/{pk}/", f"/c/{pk}/history", f"/api/v1/compositions/{pk}",
                 f"/api/v1/compositions/{pk}/manifest", f"/api/v1/compositions/{pk}/problems"):
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)


def accepted_or_refused(client, response, created: int = 201) -> None:
    """A created composition renders everywhere; a refusal is a JSON 4xx that stored nothing."""
    if currently_in_test_context():  # also used by plain (non-hypothesis) tests
        event(f"status {response.status_code}")
    if response.status_code == created:
        every_view_renders(client, response.json()["id"])
        return
    assert 400 <= response.status_code < 500, response.status_code
    api_error(response)


# --------------------------------------------------------------------------- strategies

json_scalars = st.none() | st.booleans() | st.integers(-(2**63), 2**63) | st.floats(allow_nan=False,
                                                                                    allow_infinity=False) | st.text()
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=12,
)
odd_texts = st.sampled_from([
    "", " ", "<script>alert(1)</script>", '"><img src=x onerror=alert(1)>', "javascript:alert(1)", "a" * 300,
    "\u202eevil", "cafe\u0301", "🚀", "\t", "null", "~", "0x1F", "1e3", "-", "---", "*", "&a", "!!str",
]) | st.text(max_size=30)

YAML_TOKENS = [
    "apiVersion: v1", "apiVersion: apps/v1", "kind: Pod", "kind: Deployment", "kind: Service", "kind: ConfigMap",
    "kind: List", "kind:", "metadata:", "name: web", "name:", "spec:", "containers:", "initContainers:", "template:",
    "- name: app", "  image: nginx", "image:", "ports:", "- containerPort: 80", "env:", "value:", "items:",
    "labels:", "app: web", "selector:", "matchLabels:", "volumes:", "volumeMounts:", "command: [sh, -c]",
    "---", "...", "- ", "  ", "    ", ": ", "[", "]", "{", "}", ",", "&a", "*a", "<<: *a", "!!str", "!!binary",
    "!!python/name:os.system", "'", '"', "|", ">", "#", "%YAML 1.1", "\t", "\ufeff", "null", "true", "5", "-1",
    "1e400", "0o777", ".inf", "2024-01-01", "? ", "=",
]
yaml_ish = st.lists(st.sampled_from(YAML_TOKENS) | st.text(max_size=6), max_size=40).map(
    lambda parts: "".join(part + ("\n" if part.endswith(":") or part.startswith("-") else " ") for part in parts)
)


def _walk(node: Any, path: tuple = ()):
    yield path, node
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _walk(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _walk(value, (*path, index))


def _set(root: Any, path: tuple, value: Any) -> None:
    parent = root
    for step in path[:-1]:
        parent = parent[step]
    parent[path[-1]] = value


def _delete(root: Any, path: tuple) -> None:
    parent = root
    for step in path[:-1]:
        parent = parent[step]
    del parent[path[-1]]


@st.composite
def mutated(draw: st.DrawFn, originals: list[Any], keep_types: bool) -> Any:
    """A deep copy of one of `originals` with 1–4 random changes.

    keep_types: strings stay strings, numbers numbers, lists lose, gain or reorder items (the
    shapes a manifest or a composition may have). Otherwise any value may become anything, and
    keys may disappear or appear.
    """
    document = copy.deepcopy(draw(st.sampled_from(originals)))
    for _ in range(draw(st.integers(1, 4))):
        candidates = [(p, v) for p, v in _walk(document) if p]
        if not candidates:  # an earlier change left nothing to change (the only document deleted)
            break
        path, value = draw(st.sampled_from(candidates))
        if keep_types:
            if isinstance(value, bool):
                _set(document, path, not value)
            elif isinstance(value, str):
                _set(document, path, draw(odd_texts))
            elif isinstance(value, int):
                _set(document, path, draw(st.integers(-(2**40), 2**40)))
            elif isinstance(value, list) and value:
                action = draw(st.sampled_from(["drop", "repeat", "reverse"]))
                index = draw(st.integers(0, len(value) - 1))
                if action == "drop":
                    del value[index]
                elif action == "repeat":
                    value.insert(index, copy.deepcopy(value[index]))
                else:
                    value.reverse()
        else:
            action = draw(st.sampled_from(["replace", "delete", "add"]))
            if action == "replace":
                _set(document, path, draw(json_values))
            elif action == "delete":
                _delete(document, path)
            elif isinstance(value, dict):
                value[draw(st.text(max_size=12))] = draw(json_values)
    return document


MANIFEST_DOCUMENTS = [list(yaml.safe_load_all(path.read_text())) for path in MANIFESTS]


def _example_data() -> list[dict[str, Any]]:
    from composer.domain.examples import EXAMPLES

    return [example.build().to_dict() for example in EXAMPLES]


COMPOSITION_DATA = _example_data()


def _yaml(documents: list[Any]) -> bytes:
    return yaml.safe_dump_all(documents, allow_unicode=True, sort_keys=False).encode("utf-8")


def import_yaml(client, body: bytes):
    return client.post("/api/v1/compositions/import", body, content_type="application/yaml")


# --------------------------------------------------------------------------- the loader alone


@campaign(1500)
@given(text=yaml_ish | st.text(max_size=200))
def test_the_loader_returns_mappings_or_says_why(text):
    """load_documents: a list of mappings, or a YamlError with a position; nothing else escapes."""
    try:
        documents = load_documents(text)
    except YamlError as error:
        assert str(error)
        assert error.line is None or error.line >= 1
        return
    assert all(isinstance(document, dict) for document in documents)
    json.dumps(documents)  # JSON underneath: what a manifest can carry


# --------------------------------------------------------------------------- import


@campaign(300)
@example(text="kind: 5\n")
@given(text=yaml_ish)
def test_yaml_ish_text_never_breaks_the_import(client, db, text):
    accepted_or_refused(client, import_yaml(client, text.encode("utf-8")))


@campaign(300)
@given(documents=mutated(MANIFEST_DOCUMENTS, keep_types=True))
def test_mutated_manifests_of_the_same_shape_import_or_are_refused(client, db, documents):
    accepted_or_refused(client, import_yaml(client, _yaml(documents)))


@campaign(200)
@example(documents=[
    {"kind": "Service", "metadata": {"name": "web"}, "spec": {"ports": [{"name": [None], "port": 80}]}},
    {"kind": "Pod", "metadata": {"name": "web"}, "spec": {"containers": [{"name": "a", "image": "b"}]}},
])
@example(documents=[{"kind": "Pod", "metadata": {"name": "web", "labels": ["app"]},
                     "spec": {"containers": [{"name": "app", "image": "nginx"}]}}])
@given(documents=mutated(MANIFEST_DOCUMENTS, keep_types=False))
def test_mutated_manifests_of_any_shape_never_break_the_import(client, db, documents):
    accepted_or_refused(client, import_yaml(client, _yaml(documents)))


# --------------------------------------------------------------------------- the API's compositions




@campaign(200)
@example(data={"app": {"env": [{"value": "no name"}]}})
@given(data=mutated(COMPOSITION_DATA, keep_types=False))
def test_any_composition_json_is_stored_and_shown_or_refused(client, db, data):
    response = client.post("/api/v1/compositions", json.dumps(data), content_type="application/json")
    accepted_or_refused(client, response)




@pytest.mark.parametrize("helper_id", ["a/b", "<script>alert(1)</script>", "", "h 1"])
def test_odd_helper_ids_are_refused_or_shown(client, db, helper_id):
    data = {"helpers": [{"id": helper_id, "pattern": "sysctl"}]}
    accepted_or_refused(client, client.post("/api/v1/compositions", json.dumps(data), content_type="application/json"))
    assert SavedComposition.objects.count() == 0


@campaign(300)
@given(data=mutated(COMPOSITION_DATA, keep_types=True))
def test_compositions_of_the_same_shape_are_stored_and_shown_or_refused(client, db, data):
    response = client.post("/api/v1/compositions", json.dumps(data), content_type="application/json")
    accepted_or_refused(client, response)


@campaign(100)
@given(composition=compositions())
def test_every_valid_composition_renders_everywhere_and_survives_its_own_yaml(client, db, composition):
    saved = SavedComposition.create(composition)
    every_view_renders(client, saved.pk)
    manifest = client.get(f"/api/v1/compositions/{saved.pk}/manifest").content
    again = import_yaml(client, manifest)
    assert again.status_code == 201, again.content[:300]
    if not ambiguous(composition):  # else no import could say which helper meant what
        imported = Composition.from_dict(again.json()["composition"])
        assert canonical(imported)["helpers"] == canonical(as_its_manifests_tell(composition, imported))["helpers"]


@st.composite
def helper_requests(draw: st.DrawFn) -> dict[str, Any]:
    pattern = CATALOG[draw(st.sampled_from(sorted(CATALOG)))]
    names = [param.name for param in pattern.params] + ["surprise"]
    params = draw(st.dictionaries(st.sampled_from(names), json_values | odd_texts, max_size=3))
    body: dict[str, Any] = {"pattern": pattern.id, "params": params}
    if draw(st.booleans()):
        body["native_sidecar"] = draw(st.booleans())
    if draw(st.booleans()):
        body["position"] = draw(st.integers(-3, 5))
    return body


@campaign(200)
@given(bodies=st.lists(helper_requests(), min_size=1, max_size=3))
def test_random_helper_edits_are_applied_and_shown_or_refused(client, db, bodies):
    saved = SavedComposition.create(Composition())
    for body in bodies:
        response = client.post(f"/api/v1/compositions/{saved.pk}/helpers", json.dumps(body),
                               content_type="application/json")
        assert response.status_code in (201, 400), response.content[:300]
        if response.status_code == 400:
            api_error(response)
    every_view_renders(client, saved.pk)
