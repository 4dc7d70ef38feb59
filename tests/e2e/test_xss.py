"""Markup in everything a user (or a cluster) can put on a page is shown as text, never run.

One hostile composition carries `<script>`, `"><img onerror>`, `<svg/onload>` and `javascript:` in
annotations, env, the command, helper parameters, a custom container's env and image (and, for the
Pod picture, its name), Service port names and a ConfigMap; a kubeconfig context is named with
markup; the cluster answers a deploy with markup in its error message; imported YAML carries markup
in a Secret's name and in a duplicate key. Every payload sets `window.__xss` and calls `alert()`.

The cluster is the real local control plane behind the fault-injecting proxy, in a fresh namespace.
What the real server refuses as invalid (a Service port or an env var named with markup) it refuses
in its own words, which quote the payload: untrusted text from the cluster, as a message from the
server is. The other error message is the proxy's: a 403 Status whose message is markup.

The browser test opens every page (home, composer, history, delete, import error, import warnings,
deploy history, deploy records, undeploy) and drives the htmx swaps (a deploy result, a field
edit), and proves nothing ran: the flag stays unset, no dialog opened, no injected image loaded,
no inline script or handler was even blocked by the CSP, and the DOM holds no handler attribute
and no `javascript:` URL. The Django-test-client tests check the same for the raw HTML and for the
Pod picture's SVG, and that each payload is there as escaped text (so the checks are not vacuous).
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml
from django.test import Client
from playwright.sync_api import Page, expect

from composer.domain.model import Composition
from composer.domain.preview import preview
from composer.models import DeployRecord, SavedComposition
from composer.presentation.picture.layout import pod_picture
from composer.presentation.picture.svg import render_svg
from tests.support.faultproxy import FAULTY_CONTEXT, FaultProxy

pytestmark = pytest.mark.django_db(transaction=True)

SCRIPT = "<script>window.__xss=1;alert(1)</script>"
ATTR = '"><img src=x onerror=window.__xss=1;alert(1)>'
NOSPACE = '"><svg/onload=window.__xss=1;alert(1)>'  # images may not contain spaces
JS_URL = "javascript:window.__xss=1;alert(1)"
RAW = (SCRIPT, ATTR, NOSPACE, "<img src=x", "<svg/onload")  # must never appear as markup

HOSTILE = {
    # Names (label keys, container names …) are refused or blocking errors unless they are DNS names, so the
    # payloads go everywhere else a person can type.
    "workload": {"name": "xss-check", "labels": {"app": "xss-check"},
                 "annotations": {"note": SCRIPT, "link": JS_URL}},
    "app": {"image": "nginx:1.27", "command": ["sh", "-c", SCRIPT],
            "env": [{"name": "GREETING", "value": ATTR}, {"name": SCRIPT, "value": JS_URL}],
            "volume_mounts": [{"name": "scratch", "mountPath": "/data"}]},
    "helpers": [
        {"pattern": "file-writer", "params": {"content": SCRIPT, "filename": ATTR}},
        {"pattern": "wait-for", "params": {"host": ATTR}},
        {"pattern": "egress-proxy", "params": {"routes": {"evil": JS_URL}}},
        {"pattern": "custom", "params": {"role": "sidecar",
                                         "container": {"name": "hostile", "image": NOSPACE, "args": [SCRIPT],
                                                       "env": [{"name": "LABEL", "value": ATTR}]}}},
    ],
    "options": {"volumes": [{"name": "scratch", "emptyDir": {}}],
                "service": {"enabled": True, "ports": [{"name": SCRIPT, "port": 80, "targetPort": 80}]}},
    "extra_objects": [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "xss-notes"},
                       "data": {"note": SCRIPT}}],
}
IMPORT_WITH_WARNINGS = (
    "apiVersion: v1\nkind: Pod\nmetadata:\n  name: imported\nspec:\n  containers:\n  - name: app\n"
    f"    image: nginx:1.27\n    env:\n    - name: NOTE\n      value: '{ATTR}'\n"
    f"---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: '{ATTR}'\n"
)
IMPORT_ERROR = f'"{SCRIPT}": 1\n"{SCRIPT}": 2\n'  # a duplicate key: the message quotes it


@dataclass
class Hostile:
    saved: SavedComposition
    namespace: str  # where both deploys went
    deployed: DeployRecord  # to the context named ATTR; the real server refused what is invalid, quoting it
    failed: DeployRecord  # the cluster's error message is SCRIPT

    def pages(self) -> list[tuple[str, tuple[str, ...]]]:
        """(path, payloads that page must show as text)."""
        pk, deployed, failed = self.saved.pk, self.deployed.pk, self.failed.pk
        return [
            ("/", ()),
            (f"/c/{pk}/", (SCRIPT, ATTR, NOSPACE, JS_URL)),
            (f"/c/{pk}/history", ()),
            (f"/c/{pk}/delete", ()),
            ("/deployments/", (ATTR,)),
            (f"/deployments/{deployed}/", (ATTR, SCRIPT)),
            (f"/deployments/{failed}/", (SCRIPT,)),
            (f"/deployments/{deployed}/undeploy", (ATTR,)),
        ]


def write_hostile_kubeconfig(proxy: FaultProxy, namespace: str, path: Path) -> Path:
    """The proxy's kubeconfig (context ``faulty``, current) and a second context, named ATTR, for the same
    proxy and user: context names are the kubeconfig's, whatever its author typed."""
    document = proxy.kubeconfig_document(namespace=namespace)
    document["contexts"].append({**copy.deepcopy(document["contexts"][0]), "name": ATTR})
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    path.chmod(0o600)
    return path


@pytest.fixture
def hostile(db, fault_proxy: FaultProxy, cluster_namespace: str, tmp_path: Path, monkeypatch) -> Hostile:
    """The hostile composition, deployed once to a context named with markup and once into a cluster
    error whose message is markup. Built through the API, as a user would."""
    kubeconfig = write_hostile_kubeconfig(fault_proxy, cluster_namespace, tmp_path / "kubeconfig")
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
    client = Client()
    created = client.post("/api/v1/compositions", json.dumps(HOSTILE), content_type="application/json")
    assert created.status_code == 201, created.content
    saved = SavedComposition.objects.get(pk=created.json()["id"])

    def deploy(context: str):
        body = json.dumps({"context": context, "namespace": cluster_namespace})
        return client.post(f"/api/v1/compositions/{saved.pk}/deploy", body, content_type="application/json")

    deployed = deploy(ATTR)
    # The real server took the ConfigMap and refused the Service (a port named with markup), quoting it.
    assert deployed.status_code == 422, deployed.content
    assert deployed.json()["outcome"] == "partial" and SCRIPT in deployed.json()["message"]
    fault_proxy.inject("PATCH", r"/configmaps/", status=403, message=SCRIPT)
    failed = deploy(FAULTY_CONTEXT)
    assert failed.status_code == 403 and SCRIPT in failed.json()["message"]
    return Hostile(saved, cluster_namespace, DeployRecord.objects.get(pk=deployed.json()["id"]),
                   DeployRecord.objects.get(pk=failed.json()["id"]))


# --------------------------------------------------------------------------- raw HTML and SVG


class _Markup(HTMLParser):
    """What an injection would add: scripts, handler attributes, javascript: URLs, frames."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "script" and not (attributes.get("src") or "").startswith("/static/"):
            self.problems.append(f"<script> without a static src: {attrs}")
        if tag in ("iframe", "object", "embed", "foreignobject", "base"):
            self.problems.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"handler attribute {name}={value!r} on <{tag}>")
            if name in ("href", "src", "action", "formaction", "xlink:href") and (value or "").strip().lower(
            ).startswith("javascript:"):
                self.problems.append(f"{name}={value!r} on <{tag}>")
            if value:
                self.text.append(value)

    def handle_data(self, data):
        self.text.append(data)


def check_markup(html: str, must_show: tuple[str, ...] = ()) -> None:
    parser = _Markup()
    parser.feed(html)
    parser.close()
    assert parser.problems == []
    for raw in RAW:
        assert raw not in html
    text = "\n".join(parser.text)
    for payload in must_show:
        assert payload in text, f"{payload!r} is not on the page as text"


def test_every_page_shows_the_payloads_as_text(client, hostile):
    for path, must_show in hostile.pages():
        response = client.get(path)
        assert response.status_code == 200, path
        check_markup(response.content.decode(), must_show)


def test_htmx_fragments_show_the_payloads_as_text(client, hostile, fault_proxy):
    pk, namespace = hostile.saved.pk, hostile.namespace
    fault_proxy.inject("PATCH", r"/configmaps/", status=403, message=SCRIPT)
    fragments = [  # (response, its status, payloads it must show as text)
        (client.post(f"/c/{pk}/deploy", {"context": FAULTY_CONTEXT, "namespace": namespace}, HTTP_HX_REQUEST="true"),
         200, (SCRIPT,)),
        # The real server's dry run refuses the Service (a port named with markup) and quotes the name.
        (client.post(f"/c/{pk}/deploy", {"context": ATTR, "namespace": namespace, "action": "diff"},
                     HTTP_HX_REQUEST="true"), 422, (SCRIPT,)),
        (client.get(f"/c/{pk}/deploy/namespaces", {"context": ATTR}, HTTP_HX_REQUEST="true"), 200, ()),
        (client.post(f"/c/{pk}/app", {"name": "app", "image": "nginx:1.27", "env": f"A={ATTR}\nB={SCRIPT}"},
                     HTTP_HX_REQUEST="true"), 200, ()),
        (client.post(f"/c/{pk}/helpers/add", {"pattern": "sysctl"}, HTTP_HX_REQUEST="true"), 200, ()),
    ]
    for response, status, must_show in fragments:
        assert response.status_code == status, response.content[:300]
        check_markup(response.content.decode(), must_show)


def test_import_pages_show_the_payloads_as_text(client, hostile):
    error = client.post("/import", {"yaml": IMPORT_ERROR})
    assert error.status_code == 400
    check_markup(error.content.decode(), (SCRIPT,))
    imported = client.post("/import", {"yaml": IMPORT_WITH_WARNINGS}, follow=True)
    assert imported.status_code == 200
    check_markup(imported.content.decode(), (ATTR,))
    assert "not imported: Pod Studio never stores Secrets" in imported.content.decode()


def test_the_pod_picture_svg_escapes_every_name():
    # A container named with markup can be stored (lint calls it an error that blocks deploys), so the
    # picture must escape it.
    hostile = copy.deepcopy(HOSTILE)
    hostile["helpers"][3]["params"]["container"]["name"] = ATTR
    svg = render_svg(pod_picture(preview(Composition.from_dict(hostile)).rendering))
    check_markup(svg, (ATTR, NOSPACE))


def test_markup_cannot_become_the_composition_name(client, db):
    response = client.post("/api/v1/compositions", json.dumps({"workload": {"name": SCRIPT}}),
                           content_type="application/json")
    assert response.status_code == 400 and "workload.name" in response.json()["errors"]


# --------------------------------------------------------------------------- in Chromium

WATCH = """
window.__xss = 0;
window.__blocked = [];
document.addEventListener('securitypolicyviolation', e => window.__blocked.push(e.violatedDirective + ' ' + e.sample));
"""
DOM_PROBLEMS = """() => {
  const problems = [];
  for (const el of document.querySelectorAll('*')) {
    for (const attr of el.attributes) {
      if (attr.name.startsWith('on')) problems.push(el.tagName + ' ' + attr.name);
      if (['href', 'src', 'action', 'formaction', 'xlink:href'].includes(attr.name)
          && attr.value.trim().toLowerCase().startsWith('javascript:')) problems.push(el.tagName + ' ' + attr.name);
    }
    if (el.tagName === 'SCRIPT' && !(el.getAttribute('src') || '').startsWith('/static/')) {
      problems.push('inline script');
    }
  }
  return problems;
}"""


class Watch:
    """Everything that would show a payload ran, for one browser page."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.dialogs: list[str] = []
        self.injected_loads: list[str] = []
        page.add_init_script(WATCH)
        page.on("dialog", lambda dialog: (self.dialogs.append(dialog.message), dialog.dismiss()))
        page.on("request", lambda request: request.url.rstrip("/").endswith("/x") and self.injected_loads.append(
            request.url))

    def check(self, where: str, must_show: tuple[str, ...] = ()) -> None:
        page = self.page
        page.wait_for_load_state("networkidle")
        assert page.evaluate("window.__xss") == 0, where
        assert self.dialogs == [], where
        assert self.injected_loads == [], where
        blocked = [v for v in page.evaluate("window.__blocked") if v.startswith("script-src")]
        assert blocked == [], (where, blocked)
        assert page.evaluate(DOM_PROBLEMS) == [], where
        text = page.evaluate("document.documentElement.textContent")
        for payload in must_show:
            assert payload in text, (where, payload)


def test_no_script_runs_anywhere(page: Page, live_server, hostile):
    watch = Watch(page)
    for path, must_show in hostile.pages():
        page.goto(f"{live_server.url}{path}")
        watch.check(path, must_show)

    page.goto(f"{live_server.url}/import")
    page.get_by_label("YAML").fill(IMPORT_ERROR)
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_role("alert")).to_contain_text("duplicate key")
    watch.check("import error", (SCRIPT,))

    page.get_by_label("YAML").fill(IMPORT_WITH_WARNINGS)
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_text("never stores Secrets")).to_be_visible()
    watch.check("import warnings", (ATTR,))


def test_no_script_runs_in_htmx_swaps(page: Page, live_server, hostile, fault_proxy):
    """htmx runs <script> tags in swapped HTML: the deploy result and the preview are swapped in."""
    watch = Watch(page)
    fault_proxy.inject("PATCH", r"/configmaps/", status=403, message=SCRIPT, times=None)
    page.goto(f"{live_server.url}{hostile.saved.get_absolute_url()}")
    page.get_by_text("Deploy", exact=True).first.click()
    panel = page.get_by_role("region", name="Deploy", exact=True)
    expect(panel.get_by_label("Context").locator("option")).to_have_count(2)
    panel.get_by_label("Context").select_option(FAULTY_CONTEXT)
    panel.get_by_label("Namespace", exact=True).fill(hostile.namespace)
    panel.get_by_role("button", name="Deploy", exact=True).click()
    expect(panel.get_by_role("alert")).to_contain_text("Deploy failed")
    expect(panel.get_by_role("alert")).to_contain_text(SCRIPT)
    watch.check("deploy result", (SCRIPT,))

    panel.get_by_label("Context").select_option(ATTR)
    watch.check("namespaces of the hostile context", (ATTR,))

    env = page.locator("article.app-card").get_by_label("Environment")  # a custom helper has one too
    env.fill(f"GREETING={ATTR}\nOTHER={NOSPACE}")
    env.press("Tab")
    expect(page.get_by_role("region", name="YAML preview")).to_contain_text("svg/onload")
    watch.check("preview after an edit", (ATTR, NOSPACE))
