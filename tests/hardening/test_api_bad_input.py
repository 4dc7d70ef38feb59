"""Every endpoint of composer/urls.py with bad input: a 4xx (JSON for the API, HTML for pages), never a
500, and nothing changed in the database.

The sweeps discover the routes from the URLconf, so a route added later is swept too (except SSE
streams, which hold the connection open by design). Hand-written tables then cover each endpoint's
own fields.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import URLPattern, URLResolver

from composer import urls
from composer.domain.examples import EXAMPLES_BY_ID
from composer.domain.preview import preview
from composer.domain.yamlio import dump_documents
from composer.models import DeployRecord, SavedComposition
from tests.hardening import api_error, db_state

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
HUGE_ID = "99999999999999999999"  # matches <int:…>, overflows a 64-bit column
UNKNOWN_ID = "987654"
NON_ASCII_IDS = ("%D9%A3", "%F0%9F%9A%80", "%EF%BC%91")  # Arabic-Indic 3, a rocket, a fullwidth 1
PARAM = re.compile(r"<(?:(?P<converter>\w+):)?(?P<name>\w+)>")


# --------------------------------------------------------------------------- routes


@dataclass(frozen=True)
class Route:
    route: str  # "c/<int:pk>/helpers/<str:helper_id>/remove"
    name: str

    @property
    def is_api(self) -> bool:
        return self.route.startswith("api/")

    @property
    def params(self) -> dict[str, str]:
        return {m["name"]: m["converter"] or "str" for m in PARAM.finditer(self.route)}

    @property
    def on_records(self) -> bool:
        """Whether its `pk` is a deploy record's (else a composition's)."""
        return self.route.startswith(("deployments/", "api/v1/deployments/"))

    def url(self, **values: str) -> str:
        return "/" + PARAM.sub(lambda m: values[m["name"]], self.route)

    def __str__(self) -> str:
        return self.name


def _walk(patterns, prefix: str = ""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield Route(prefix + str(pattern.pattern), pattern.name or "")


ROUTES = [route for route in _walk(urls.urlpatterns) if "stream" not in route.name]
WITH_IDS = [route for route in ROUTES if route.params]


def send(client: Client, method: str, url: str, *, api: bool, body=None, content_type: str | None = None):
    """One request; a JSON `{}` (API) or an empty form (pages) unless told otherwise."""
    if method in ("GET", "DELETE"):
        return client.generic(method, url)
    if api or content_type:
        data = body if isinstance(body, bytes | str) else json.dumps({} if body is None else body)
        return client.generic(method, url, data, content_type or "application/json")
    return client.post(url, body or {}) if method == "POST" else client.generic(method, url)


def assert_refused(response, route: Route, statuses=range(400, 500)) -> None:
    assert response.status_code in statuses, (route.route, response.status_code, response.content[:300])
    if route.is_api and response.request["REQUEST_METHOD"] != "HEAD":
        api_error(response)
    elif response.content:
        assert response["Content-Type"].startswith("text/html"), response["Content-Type"]


# --------------------------------------------------------------------------- fixtures


@dataclass
class World:
    saved: SavedComposition  # with helper h1 (log tailer)
    other: SavedComposition  # another composition, with helpers h1 and h2
    deployed: DeployRecord
    dry_run: DeployRecord


def _record(saved: SavedComposition, action: str) -> DeployRecord:
    manifests = preview(saved.composition()).manifests
    return DeployRecord.objects.create(
        composition=saved, composition_name=saved.name, revision=saved.revision, action=action,
        context="local-admin", namespace="default", user="local", manifest_yaml=dump_documents(manifests),
        outcome=DeployRecord.Outcome.SUCCEEDED, message="Every object applied.",
    )


@pytest.fixture
def world(db) -> World:
    saved = SavedComposition.create(EXAMPLES_BY_ID["log-tailer"].build())
    other = SavedComposition.create(EXAMPLES_BY_ID["config-merger"].build())
    return World(saved, other, _record(saved, "deploy"), _record(saved, "dry-run"))


def ids_for(route: Route, world: World, pk: str | None = None, secondary: str | None = None) -> dict[str, str]:
    """Values for a route's parameters: the world's objects unless overridden."""
    values = {}
    for name in route.params:
        if name == "pk":
            values[name] = pk or str(world.deployed.pk if route.on_records else world.saved.pk)
        elif name == "number":
            values[name] = secondary or "1"
        elif name == "example_id":
            values[name] = secondary or "log-tailer"
        else:
            values[name] = secondary or "h1"
    return values


# --------------------------------------------------------------------------- sweeps over every route


@pytest.mark.parametrize("route", WITH_IDS, ids=str)
@pytest.mark.parametrize("bad_id", [UNKNOWN_ID, HUGE_ID], ids=["unknown", "huge"])
def test_unknown_and_huge_ids_are_refused_on_every_route_and_method(client, world, route, bad_id):
    before = db_state()
    for method in METHODS:
        values = {name: bad_id if converter == "int" else "nope" for name, converter in route.params.items()}
        response = send(client, method, route.url(**values), api=route.is_api)
        assert_refused(response, route, statuses=(404, 405))
    assert db_state() == before


SECONDARY = [route for route in WITH_IDS if set(route.params) - {"pk"}]



@pytest.mark.parametrize("route", SECONDARY, ids=str)
@pytest.mark.parametrize("bad_id", ["nope", HUGE_ID, "%EF%BD%88%EF%BC%91", "h2"],
                         ids=["unknown", "huge", "fullwidth-h1", "other-compositions-helper"])
def test_unknown_secondary_ids_are_refused(client, world, route, bad_id):
    """A real composition, but a helper, revision or example it does not have (h2 is the other's)."""
    before = db_state()
    for method in METHODS:
        response = send(client, method, route.url(**ids_for(route, world, secondary=bad_id)), api=route.is_api)
        assert_refused(response, route)
    assert db_state() == before


@pytest.mark.parametrize("route", [r for r in WITH_IDS if not r.is_api], ids=str)
@pytest.mark.parametrize("bad_id", NON_ASCII_IDS)
def test_non_ascii_ids_on_pages_are_404(client, world, route, bad_id):
    before = db_state()
    for method in METHODS:
        values = {name: bad_id if converter == "int" else "h1" for name, converter in route.params.items()}
        if "int" not in route.params.values():
            values = dict.fromkeys(route.params, bad_id)
        assert_refused(send(client, method, route.url(**values), api=False), route)
    assert db_state() == before




@pytest.mark.parametrize("path", [f"/api/v1/compositions/{NON_ASCII_IDS[0]}", f"/api/v1/deployments/{NON_ASCII_IDS[1]}",
                                  "/api/v1/compositions/12/helpers/order/extra", "/api/v1/nope"])
def test_unmatched_api_urls_answer_json(client, world, path):
    response = client.get(path)
    assert response.status_code == 404
    api_error(response)


def _allowed(client: Client, url: str) -> set[str]:
    probe = client.generic("PROPFIND", url)
    assert probe.status_code == 405, (url, probe.status_code)
    return {method.strip() for method in probe["Allow"].split(",")}


@pytest.mark.parametrize("route", ROUTES, ids=str)
def test_wrong_methods_are_405_and_change_nothing(client, world, route):
    url = route.url(**ids_for(route, world))
    allowed = _allowed(client, url)
    wrong = [method for method in METHODS if method not in allowed]
    before = db_state()
    for method in wrong:
        response = send(client, method, url, api=route.is_api)
        assert_refused(response, route, statuses=(405,))
        assert set(response["Allow"].replace(" ", "").split(",")) == allowed
    assert db_state() == before


# --------------------------------------------------------------------------- API bodies


def _api_writes(world: World) -> list[tuple[Route, str, str]]:
    """(route, method, url) of every API endpoint and method that takes a body."""
    client = Client()
    writes = []
    for route in ROUTES:
        if not route.is_api:
            continue
        url = route.url(**ids_for(route, world))
        writes += [(route, method, url) for method in ("POST", "PUT", "PATCH") if method in _allowed(client, url)]
    return writes


WRONG_TYPES = ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/xml"]


def test_every_api_write_needs_its_content_type(client, world):
    """Only JSON (YAML for imports and a composition's PUT) is read: the types a cross-site form can send are 415."""
    writes = _api_writes(world)
    assert len(writes) >= 8
    before = db_state()
    for route, method, url in writes:
        if route.name == "api-import":
            wrong = [*WRONG_TYPES, "application/json"]
        elif (route.name, method) == ("api-composition", "PUT"):
            wrong = list(WRONG_TYPES)  # JSON, or the YAML of one workload (docs/api.md)
        else:
            wrong = [*WRONG_TYPES, "application/yaml"]
        for content_type in wrong:
            response = client.generic(method, url, b'{"pattern": "sysctl"}', content_type)
            assert_refused(response, route, statuses=(415,))
        no_type = client.generic(method, url, b'{"pattern": "sysctl"}', CONTENT_TYPE="")
        assert_refused(no_type, route, statuses=(415,))
    assert db_state() == before


BAD_JSON = [b"{", b"[]", b"null", b"42", b'"text"', b"\xff\xfe{}", b'{"a": 1}{"b": 2}', b"{'single': 'quotes'}"]


def test_every_api_write_refuses_malformed_json(client, world):
    before = db_state()
    for route, method, url in _api_writes(world):
        if route.name == "api-import":
            continue
        for body in BAD_JSON:
            assert_refused(client.generic(method, url, body, "application/json"), route, statuses=(400,))
    assert db_state() == before




def test_deeply_nested_json_is_a_400(client, world):
    response = client.post("/api/v1/compositions", b"[" * 100_000 + b"]" * 100_000, content_type="application/json")
    assert response.status_code == 400 and "nested" in api_error(response)


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_non_json_numbers_are_a_400(client, world, number):
    body = '{"app": {"ports": [{"containerPort": NUMBER}]}}'.replace("NUMBER", number)
    before = db_state()
    response = client.post("/api/v1/compositions", body, content_type="application/json")
    assert response.status_code == 400
    api_error(response)
    assert db_state() == before


def test_lone_surrogates_are_refused_before_they_are_stored(client, world):
    before = db_state()
    response = client.post("/api/v1/compositions", '{"workload": {"annotations": {"note": "\\ud800"}}}',
                           content_type="application/json")
    assert response.status_code == 400
    api_error(response)
    assert db_state() == before


def test_a_valid_surrogate_pair_is_an_emoji(client, world):
    """The positive control of the case above: escaped pairs are valid JSON and valid Unicode."""
    response = client.post("/api/v1/compositions", '{"workload": {"annotations": {"note": "\\ud83d\\ude80"}}}',
                           content_type="application/json")
    assert response.status_code == 201
    saved = SavedComposition.objects.get(pk=response.json()["id"])
    assert saved.composition().workload.annotations == {"note": "🚀"}
    assert client.get(saved.get_absolute_url()).status_code == 200


def test_a_body_over_the_upload_limit_is_a_json_413(client, world):
    body = json.dumps({"workload": {"annotations": {"note": "x" * (3 * 1024 * 1024)}}})
    response = client.post("/api/v1/compositions", body, content_type="application/json")
    assert response.status_code == 413
    api_error(response)


# Each: method, path (with {pk}, {record}, {dry_run}), body, status, words of the error.
API_CASES = [
    ("POST", "compositions", {"workload": {"kind": "VirtualMachine"}}, 400, "invalid composition"),
    ("POST", "compositions", {"workload": {"name": "<script>alert(1)</script>"}}, 400, "invalid composition"),
    ("POST", "compositions", {"workload": {"replicas": 10**30}}, 400, "invalid composition"),
    ("POST", "compositions", {"workload": {"replicas": True}}, 400, "invalid composition"),
    ("POST", "compositions", {"workload": {"labels": {"app": "x" * 64}}}, 400, "invalid composition"),
    ("POST", "compositions", {"workload": {"namespace": "Not_Valid"}}, 400, "invalid composition"),
    ("POST", "compositions", {"app": {"image": "nginx 1.27"}}, 400, "invalid composition"),
    ("POST", "compositions", {"app": {"command": "echo hi"}}, 400, "invalid composition"),
    ("POST", "compositions", {"helpers": "log-tailer"}, 400, "invalid composition"),
    ("POST", "compositions", {"helpers": [{"pattern": "teleporter"}]}, 400, "invalid composition"),
    ("POST", "compositions", {"helpers": [{"pattern": "log-tailer", "params": {"log_dir": 5}}]}, 400, "invalid"),
    ("POST", "compositions", {"helpers": [{"pattern": "log-tailer", "id": "a"}, {"pattern": "sysctl", "id": "a"}]},
     400, "invalid composition"),
    ("POST", "compositions", {"options": {"termination_grace_period_seconds": -1}}, 400, "invalid composition"),
    ("POST", "compositions", {"options": {"service": {"ports": [{"port": 0}]}}}, 400, "invalid composition"),
    ("POST", "compositions", {"surprise": True}, 400, "invalid composition"),
    ("PUT", "compositions/{pk}", {"workload": {"kind": "VirtualMachine"}}, 400, "invalid composition"),
    ("PUT", "compositions/{pk}", {"helpers": [{"pattern": "teleporter"}]}, 400, "invalid composition"),
    ("POST", "compositions/{pk}/helpers", {}, 400, "pattern is required"),
    ("POST", "compositions/{pk}/helpers", {"pattern": 5}, 400, "pattern is required"),
    ("POST", "compositions/{pk}/helpers", {"pattern": "teleporter"}, 400, "unknown pattern"),
    ("POST", "compositions/{pk}/helpers", {"pattern": "log-tailer", "params": "x"}, 400, "params"),
    ("POST", "compositions/{pk}/helpers", {"pattern": "log-tailer", "params": {"log_dir": "relative"}}, 400,
     "invalid parameters"),
    ("POST", "compositions/{pk}/helpers", {"pattern": "wait-for", "params": {"port": 10**30}}, 400,
     "invalid parameters"),
    ("POST", "compositions/{pk}/helpers", {"pattern": "log-tailer", "position": "1"}, 400, "position"),
    ("POST", "compositions/{pk}/helpers", {"pattern": "log-tailer", "position": True}, 400, "position"),
    ("POST", "compositions/{pk}/helpers", {"pattern": "log-tailer", "surprise": 1}, 400, "unknown fields"),
    ("PATCH", "compositions/{pk}/helpers/h1", {"params": []}, 400, "params must be an object"),
    ("PATCH", "compositions/{pk}/helpers/h1", {"params": {"log_dir": 5}}, 400, "invalid parameters"),
    ("PATCH", "compositions/{pk}/helpers/h1", {"native_sidecar": "yes"}, 400, "native_sidecar"),
    ("PATCH", "compositions/{pk}/helpers/h1", {"position": "0"}, 400, "position"),
    ("PATCH", "compositions/{pk}/helpers/h1", {"position": 10**30}, 400, "position"),
    ("PATCH", "compositions/{pk}/helpers/h1", {"surprise": 1}, 400, "unknown fields"),
    ("DELETE", "compositions/{pk}/helpers/nope", None, 400, "no helper 'nope'"),
    ("POST", "compositions/{pk}/helpers/order", {}, 400, "order"),
    ("POST", "compositions/{pk}/helpers/order", {"order": "h1"}, 400, "order"),
    ("POST", "compositions/{pk}/helpers/order", {"order": [1]}, 400, "order"),
    ("POST", "compositions/{pk}/helpers/order", {"order": ["h1", "h1"]}, 400, "exactly once"),
    ("POST", "compositions/{pk}/helpers/order", {"order": []}, 400, "exactly once"),
    ("POST", "compositions/{pk}/deploy", {}, 400, "context is required"),
    ("POST", "compositions/{pk}/deploy", {"context": 5, "namespace": "default"}, 400, "context"),
    ("POST", "compositions/{pk}/deploy", {"context": "local-admin"}, 400, "namespace is required"),
    ("POST", "compositions/{pk}/deploy", {"context": "local-admin", "namespace": "Not_Valid"}, 400, "not a valid name"),
    ("POST", "compositions/{pk}/deploy", {"context": "local-admin", "namespace": "a" * 64}, 400, "not a valid name"),
    ("POST", "compositions/{pk}/deploy", {"context": "local-admin", "namespace": "default", "dry_run": "yes"}, 400,
     "dry_run"),
    ("POST", "compositions/{pk}/deploy", {"context": "local-admin", "namespace": "default", "surprise": 1}, 400,
     "unknown fields"),
    ("POST", "compositions/{pk}/diff", {"namespace": "default"}, 400, "context is required"),
    ("POST", "compositions/{pk}/diff", {"context": "local-admin", "namespace": "a b"}, 400, "not a valid name"),
    ("GET", "compositions/{pk}/problems?kubernetes_version=latest", None, 400, "is not a version"),
    ("GET", "compositions/{pk}/manifest?kubernetes_version=%00", None, 400, "is not a version"),
    ("DELETE", "deployments/{dry_run}", None, 400, "only a deploy can be undeployed"),
    # Security review, December: integers in their range, no NUL, no control characters in names.
    ("POST", "compositions", {"app": {"ports": [{"containerPort": int(HUGE_ID)}]}}, 400, "invalid composition"),
    ("POST", "compositions", {"app": {"ports": [{"containerPort": 80, "hostPort": 65536}]}}, 400,
     "invalid composition"),
    ("POST", "compositions", {"options": {"service": {"ports": [{"port": 80, "nodePort": int(HUGE_ID)}]}}}, 400,
     "invalid composition"),
    ("POST", "compositions", {"app": {"env": [{"name": "A", "value": "a\u0000b"}]}}, 400, "invalid composition"),
    ("POST", "compositions", {"workload": {"name": "web\n"}}, 400, "invalid composition"),
    ("POST", "compositions", {"workload": {"namespace": "shop\n"}}, 400, "invalid composition"),
    ("PUT", "compositions/{pk}", {"app": {"name": "app\u0000"}}, 400, "invalid composition"),
    ("POST", "compositions/{pk}/helpers", {"pattern": "log-tailer", "params": {"log_dir": "/var/log\u0000"}}, 400,
     "invalid parameters"),
    ("PATCH", "compositions/{pk}/helpers/h1", {"params": {"log_dir": "/var/\u0000log"}}, 400, "invalid parameters"),
    ("POST", "compositions/{pk}/deploy", {"context": "local-admin\u0000", "namespace": "default"}, 400,
     "context name must not contain control characters"),
    ("POST", "compositions/{pk}/deploy", {"context": "local-admin", "namespace": "default\n"}, 400,
     "namespace name must not contain control characters"),
    ("POST", "compositions/{pk}/diff", {"context": "local\tadmin", "namespace": "default"}, 400,
     "context name must not contain control characters"),
]


@pytest.mark.parametrize(("method", "path", "body", "status", "words"), API_CASES,
                         ids=[f"{c[0]} {c[1]} {json.dumps(c[2])[:40]}" for c in API_CASES])
def test_api_field_errors(client, world, method, path, body, status, words):
    url = "/api/v1/" + path.format(pk=world.saved.pk, record=world.deployed.pk, dry_run=world.dry_run.pk)
    before = db_state()
    response = send(client, method, url, api=True, body=body)
    assert response.status_code == status, response.content[:300]
    assert words in api_error(response)
    assert db_state() == before


@pytest.mark.parametrize(("body", "field", "words"), [
    ({"app": {"env": [{"name": "A", "value": "a\u0000b"}]}}, "app.env[0].value", "NUL"),
    ({"workload": {"annotations": {"note": "\u0000"}}}, "workload.annotations.note", "NUL"),
    ({"workload": {"name": "web\u0007"}}, "workload.name", "control characters"),
    ({"app": {"ports": [{"containerPort": int(HUGE_ID)}]}}, "app.ports[0].containerPort", "from 1 to 65535"),
    ({"options": {"service": {"ports": [{"port": 80, "targetPort": 70000}]}}}, "options.service.ports[0].targetPort",
     "from 1 to 65535"),
])
def test_nul_control_characters_and_ports_name_the_field(client, world, body, field, words):
    """A 400 naming the field, never a 500 from PostgreSQL (which cannot store NUL) or the API server."""
    before = db_state()
    response = client.post("/api/v1/compositions", json.dumps(body), content_type="application/json")
    assert response.status_code == 400
    assert words in response.json()["errors"][field]
    assert db_state() == before


IMPORT_POD = "apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec:\n  containers:\n  - name: app\n    image: nginx\n"


@pytest.mark.parametrize(("yaml_text", "words", "line"), [
    (IMPORT_POD + "    ports: [{containerPort: " + "9" * 5000 + "}]\n", "the integer is too large", 8),
    (IMPORT_POD + "    ports: [{containerPort: 0x" + "f" * 4000 + "}]\n", "the integer is too large", 8),
    (IMPORT_POD + "    ports: [{containerPort: 99999999999999999999}]\n", "containerPort must be a port number", None),
    (IMPORT_POD + "    ports: [{containerPort: 80, hostPort: 123456}]\n", "hostPort must be a port number", None),
    (IMPORT_POD + "---\napiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n  ports:\n"
     "  - {port: 80, nodePort: 99999999999999999999}\n", "nodePort must be a port number", None),
], ids=["5000-digits", "huge-hex", "20-digit-port", "host-port", "node-port"])
def test_yaml_imports_with_huge_integers_are_a_400(client, world, yaml_text, words, line):
    before = db_state()
    api = client.post("/api/v1/compositions/import", yaml_text, content_type="application/yaml")
    assert api.status_code == 400 and words in api_error(api)
    if line is not None:
        assert api.json()["errors"]["line"] == str(line)
    page = client.post("/import", {"yaml": yaml_text})
    assert page.status_code == 400 and words in page.content.decode()
    assert db_state() == before


def test_field_errors_name_the_fields(client, world):
    response = client.post("/api/v1/compositions", json.dumps({
        "workload": {"kind": "VirtualMachine", "replicas": -1}, "app": {"image": ""}, "helpers": [{"pattern": 5}],
    }), content_type="application/json")
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"workload.kind", "workload.replicas", "app.image", "helpers[0].pattern"}


def test_an_unknown_context_is_a_4xx_that_never_reaches_a_cluster(client, world, proxied_target):
    for path in ("deploy", "diff"):
        response = client.post(f"/api/v1/compositions/{world.saved.pk}/{path}",
                               json.dumps({"context": "no-such-context", "namespace": "default"}),
                               content_type="application/json")
        assert response.status_code == 404
        assert "no context 'no-such-context'" in (response.json().get("message") or response.json().get("error"))
    assert proxied_target.proxy.requests == []


def test_a_broken_kubeconfig_is_a_422_with_json(client, world, tmp_path, monkeypatch):
    kubeconfig = tmp_path / "config"
    kubeconfig.write_text("contexts: [unclosed\n")
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
    response = client.get("/api/v1/contexts")
    # composer/http/errors.py: a ClusterError of kind "invalid" is a 422 wherever it happens.
    assert response.status_code == 422 and "is not valid YAML" in api_error(response)




@pytest.mark.parametrize("text", ["contexts: [just-a-name]\n", "contexts: {a: b}\n", "clusters: [5]\n"])
def test_an_oddly_shaped_kubeconfig_is_a_422_with_json(client, world, tmp_path, monkeypatch, text):
    kubeconfig = tmp_path / "config"
    kubeconfig.write_text(text)
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
    response = client.get("/api/v1/contexts")
    assert response.status_code == 422
    api_error(response)


# --------------------------------------------------------------------------- pages and htmx forms

# Each: path (with {pk}, {record}, {dry_run}), form data, status, words on the page.
FORM_CASES = [
    ("c/{pk}/helpers/add", {}, 400, "unknown pattern"),
    ("c/{pk}/helpers/add", {"pattern": "teleporter"}, 400, "unknown pattern"),
    ("c/{pk}/helpers/order", {"order": ["nope"]}, 400, "unknown or repeated helpers"),
    ("c/{pk}/helpers/order", {"order": ["h1", "h1"]}, 400, "unknown or repeated helpers"),
    ("c/{pk}/helpers/nope/remove", {}, 400, "no helper"),
    ("c/{pk}/helpers/h1/move", {"direction": "sideways"}, 400, "direction must be up or down"),
    ("c/{pk}/helpers/h1/move", {"direction": "up"}, 400, "already first"),
    ("c/{pk}/helpers/nope/native", {"native_sidecar": "on"}, 400, "no helper"),
    ("c/{pk}/helpers/h1/params", {"log_dir": "relative/path"}, 400, "absolute path"),
    ("c/{pk}/app", {"name": "Not A Name", "image": "nginx:1.27"}, 400, "lower-case"),
    ("c/{pk}/app", {"name": "app", "image": "two words"}, 400, "image"),
    ("c/{pk}/app", {"name": "app", "image": "nginx:1.27", "ports": "http not-a-port"}, 400, "line 1"),
    ("c/{pk}/pod", {"kind": "VirtualMachine", "name": "x"}, 400, "must be one of"),
    ("c/{pk}/pod", {"kind": "Pod", "name": "x", "replicas": HUGE_ID}, 400, "whole number"),
    ("c/{pk}/pod", {"kind": "Pod", "name": "x", "labels": "no equals sign"}, 400, "line 1"),
    ("c/{pk}/pod", {"kind": "Pod", "name": "x", "termination_grace_period_seconds": "-1"}, 400, "whole number"),
    ("c/{pk}/revisions/" + HUGE_ID + "/restore", {}, 400, "no longer kept"),
    ("c/{pk}/deploy", {}, 400, "choose a cluster context"),
    ("c/{pk}/deploy", {"context": "local-admin", "namespace": "Not_Valid"}, 400, "not a valid name"),
    ("c/{pk}/deploy", {"context": "local-admin", "namespace": "default", "action": "launch"}, 400, "unknown action"),
    ("c/{pk}/deploy", {"context": "local-admin\x00", "namespace": "default", "action": "deploy"}, 400,
     "context name must not contain control characters"),
    ("c/{pk}/deploy", {"context": "local-admin\r\nX-Injected: 1", "namespace": "default", "action": "dry-run"}, 400,
     "context name must not contain control characters"),
    ("c/{pk}/helpers/h1/params", {"log_dir": "/var/log\x00"}, 400, "NUL characters"),
    ("c/{pk}/helpers/h1/overrides/add", {"field": "name", "value": "x"}, 400, "a parameter, not an override"),
    ("c/{pk}/helpers/h1/overrides/add", {"field": "../../etc", "value": "x"}, 400, "not a field of a Kubernetes"),
    ("c/{pk}/helpers/h1/overrides/add", {"field": "tty", "value": "&a [*a]"}, 400, "line 1"),
    ("c/{pk}/helpers/h1/overrides/edit", {"field": "resources", "value": "a\x00: 1"}, 400, "line 1"),
    ("c/{pk}/helpers/h1/overrides/edit", {"field": "resources", "value": "[" * 100}, 400, "nested too deeply"),
    ("c/{pk}/helpers/h1/overrides/edit", {"field": "args", "value": '["a\\0b"]'}, 400, "NUL characters"),
    ("c/{pk}/yaml", {"yaml": 'kind: Pod\napiVersion: v1\nmetadata: {name: "a\\0"}\n'
                             "spec: {containers: [{name: a, image: nginx}]}"}, 400, "NUL characters"),
    ("c/{pk}/helpers/nope/overrides/reset-all", {}, 400, "no helper"),
    ("c/{pk}/helpers/h1/overrides/reset-all", {}, 400, "no field of h1 is set by hand"),
    ("c/{pk}/helpers/h1/overrides/reset", {}, 400, " of h1 is not set by hand"),
    ("c/{pk}/app", {"name": "app", "image": "nginx:1.27", "limits-memory": "1GB"}, 400, "GB is not a unit"),
    ("c/{pk}/app", {"name": "app", "image": "nginx:1.27", "readinessProbe-handler": "grpc",
                    "readinessProbe-port": "\u0663"}, 400, "neither a port number nor a port name"),
    ("c/{pk}/app", {"name": "app", "image": "nginx:1.27", "sc-runAsUser": "9" * 5000}, 400, "whole number"),
    ("c/{pk}/app", {"name": "app", "image": "nginx:1.27", "other_fields": 'workingDir: "/a\\0"'}, 400,
     "NUL characters"),
    ("c/{pk}/app", {"name": "app", "image": "nginx:1.27", "other_fields": "[" * 100}, 400, "nested too deeply"),
    ("c/{pk}/app", {"name": "app", "image": "nginx:1.27", "ports": "\u0663\u0663"}, 400, "not a port"),
    ("c/{pk}/volumes/add", {"name": "v", "kind": "hostPath", "path": "/var\x00"}, 400, "NUL characters"),
    ("c/{pk}/volumes/add", {"name": "v", "kind": "yaml", "source": 'emptyDir: {medium: "\\0"}'}, 400,
     "NUL characters"),
    ("c/{pk}/volumes/add", {"name": "v", "kind": "emptyDir", "medium": "Disk"}, 400, "Memory, or HugePages"),
    ("c/{pk}/volumes/add", {"name": "logs", "kind": "emptyDir"}, 400, "declares a volume named 'logs' itself"),
    ("c/{pk}/volumes/edit", {"index": "\u0663", "name": "x"}, 400, "which volume?"),
    ("c/{pk}/volumes/remove", {"index": HUGE_ID}, 400, "which volume?"),
    ("c/{pk}/volumes/remove", {"index": "0"}, 400, "no volume number 1"),
    ("deployments/{dry_run}/redeploy", {}, 400, "only a deploy can be sent again"),
    ("deployments/{dry_run}/undeploy", {}, 400, "only a deploy can be undeployed"),
    ("examples/no-such-example", {}, 404, "no example called"),
]


@pytest.mark.parametrize(("path", "data", "status", "words"), FORM_CASES,
                         ids=[f"{c[0]} {json.dumps(c[1])[:40]}" for c in FORM_CASES])
def test_form_errors(client, world, path, data, status, words):
    url = "/" + path.format(pk=world.saved.pk, record=world.deployed.pk, dry_run=world.dry_run.pk)
    before = db_state()
    response = client.post(url, data, HTTP_HX_REQUEST="true")
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert words in page.replace("&#x27;", "'"), page[:2000]
    assert db_state() == before




def test_a_huge_composition_filter_on_the_deploy_history_is_harmless(client, world):
    assert client.get("/deployments/", {"composition": HUGE_ID}).status_code in (200, 400)


@pytest.mark.parametrize("value", ["abc", "-1", "٣", "1.5", ""])
def test_odd_composition_filters_on_the_deploy_history(client, world, value):
    assert client.get("/deployments/", {"composition": value}).status_code == 200


def test_pages_refuse_posts_without_a_csrf_token(world):
    """Pages are cookie-authenticated forms: a cross-site POST without the token changes nothing."""
    client = Client(enforce_csrf_checks=True)
    before = db_state()
    posts = ["/new", "/import", f"/c/{world.saved.pk}/duplicate", f"/c/{world.saved.pk}/delete",
             f"/c/{world.saved.pk}/helpers/add", f"/c/{world.saved.pk}/helpers/h1/remove",
             f"/deployments/{world.deployed.pk}/undeploy", "/examples/log-tailer"]
    for path in posts:
        response = client.post(path, {"pattern": "sysctl", "yaml": "kind: Pod"})
        assert response.status_code == 403, path
    assert db_state() == before


# --------------------------------------------------------------------------- team mode: other people's ids


@pytest.fixture
def strangers(world, settings):
    """Team mode; the world belongs to alice; bob is logged in, with no rights on any context."""
    settings.PODSTUDIO_TEAM_MODE = True
    alice = User.objects.create(username="alice")
    SavedComposition.objects.update(owner=alice)
    client = Client()
    client.force_login(User.objects.create(username="bob"))
    return client


@pytest.mark.parametrize("route", [r for r in WITH_IDS if "pk" in r.params], ids=str)
def test_other_peoples_ids_are_404_and_change_nothing(strangers, world, route):
    before = db_state()
    for method in METHODS:
        response = send(strangers, method, route.url(**ids_for(route, world)), api=route.is_api)
        assert_refused(response, route, statuses=(403, 404, 405))
    assert db_state() == before
