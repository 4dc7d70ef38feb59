"""The picture of the Pod in a page: templates/composer/compositions/_pod_picture.html outputs `picture_svg`.

The markup comes from composer.presentation.picture.svg.render_svg (tests/unit/test_picture.py checks it in
detail); the view marks it safe and puts it in the context as `picture_svg`, and
templates/composer/compositions/_preview.html includes the template.
"""

import xml.etree.ElementTree as ET

import pytest
from django.template import engines
from django.test import override_settings
from django.utils.safestring import mark_safe

from composer.domain import edits
from composer.domain.examples import EXAMPLES, EXAMPLES_BY_ID
from composer.domain.model import Composition
from composer.domain.render import build
from composer.presentation.picture.layout import pod_picture
from composer.presentation.picture.svg import render_svg

SVG = "{http://www.w3.org/2000/svg}"
MALICIOUS = "<script>alert(1)</script>"
INCLUDE = '<section>{% include "composer/compositions/_pod_picture.html" %}</section>'


def include(context):
    return engines["django"].from_string(INCLUDE).render(context)


def render(composition):
    """The picture and the SVG as the include draws it, as the view passes it."""
    picture = pod_picture(build(composition))
    page = include({"picture_svg": mark_safe(render_svg(picture))})
    assert page.startswith("<section><svg ") and page.endswith("</section>")
    return picture, page.removeprefix("<section>").removesuffix("</section>")


def texts(root, tag):
    return ["".join(element.itertext()) for element in root.iter(f"{SVG}{tag}")]


def test_the_include_outputs_the_markup_as_is():
    picture = pod_picture(build(EXAMPLES_BY_ID["log-tailer"].build()))
    markup = render_svg(picture)
    page = include({"picture_svg": mark_safe(markup)})
    assert page.removeprefix("<section>").removesuffix("</section>").rstrip("\n") == markup


def test_without_the_markup_the_include_draws_nothing():
    assert include({}).replace("\n", "") == "<section></section>"


def test_markup_not_marked_safe_is_escaped_not_drawn():
    page = include({"picture_svg": render_svg(pod_picture(build(Composition())))})
    assert "<svg" not in page and "&lt;svg" in page


@pytest.mark.parametrize("example", EXAMPLES, ids=[example.id for example in EXAMPLES])
def test_every_gallery_example_renders_well_formed_accessible_svg(example):
    picture, svg = render(example.build())
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "pod-picture-title pod-picture-desc"
    assert root.get("viewBox") == f"0 0 {picture.width} {picture.height}"
    title, desc = root.find(f"{SVG}title"), root.find(f"{SVG}desc")
    assert title.get("id") == "pod-picture-title" and title.text == picture.title
    assert desc.get("id") == "pod-picture-desc" and desc.text == picture.description
    drawn = texts(root, "text")
    for box in picture.containers:
        assert box.text in drawn and box.image_text in drawn
    for tag in picture.ports:
        assert tag.text in drawn
    assert "shared network · localhost" in drawn
    assert picture.process_namespace.label.text in drawn
    assert len(list(root.iter(f"{SVG}line"))) >= len(picture.mounts) + len(picture.init_arrows)


@pytest.mark.parametrize("example", EXAMPLES, ids=[example.id for example in EXAMPLES])
def test_nothing_but_drawing_in_the_svg(example):
    _, svg = render(example.build())
    root = ET.fromstring(svg)
    for element in root.iter():
        assert element.tag not in (f"{SVG}script", f"{SVG}foreignObject", f"{SVG}style")
        assert "style" not in element.attrib
        assert not any(name.startswith("on") for name in element.attrib)


def test_classes_for_roles_modes_and_the_shared_namespace():
    composition = EXAMPLES_BY_ID["log-tailer"].build()
    composition.options.share_process_namespace = True
    _, svg = render(composition)
    root = ET.fromstring(svg)
    groups = {
        "".join(g.find(f"{SVG}title").itertext()).split(" — ")[0]: g.get("class")
        for g in root.iter(f"{SVG}g")
        if "pp-container" in (g.get("class") or "")
    }
    assert "pp-role-app" in groups["app"] and "pp-app" in groups["app"]
    assert "pp-role-sidecar" in groups["log-tailer"]
    modes = [g.get("class") for g in root.iter(f"{SVG}g") if "pp-mount " in (g.get("class") or "") + " "]
    assert sorted(modes) == ["pp-mount pp-ro", "pp-mount pp-rw"]
    assert [r for r in root.iter(f"{SVG}rect") if r.get("class") == "pp-process-frame"]
    assert "shared process namespace" in texts(root, "text")


def test_isolated_namespaces_draw_no_frame():
    _, svg = render(EXAMPLES_BY_ID["debug-shell"].build())
    root = ET.fromstring(svg)
    assert not [r for r in root.iter(f"{SVG}rect") if r.get("class") == "pp-process-frame"]
    assert "process namespaces isolated" in texts(root, "text")


def test_service_ports_and_links_are_drawn():
    picture, svg = render(EXAMPLES_BY_ID["good-citizen"].build())
    root = ET.fromstring(svg)
    links = [line for line in root.iter(f"{SVG}line") if line.get("class") == "pp-service-link"]
    assert len(links) == len(picture.service.links) == 3
    assert all(line.get("marker-end") == "url(#pod-picture-service-arrow)" for line in links)
    assert {"80 → http", "8080 → health", "8081 → metrics"} <= set(texts(root, "text"))


def test_user_names_are_escaped_once():
    composition = Composition()
    composition.workload.name = MALICIOUS
    composition.app.name = MALICIOUS
    composition.app.image = 'busybox"/><script>alert(2)</script>'
    composition.app.ports = [{"name": MALICIOUS, "containerPort": 80}]
    composition.app.volume_mounts = [{"name": MALICIOUS, "mountPath": "/x"}]
    edits.add_helper(composition, "custom", {"role": "init", "container": {"name": MALICIOUS, "image": "busybox"}})
    picture, svg = render(composition)
    assert "<script" not in svg
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in svg
    assert "&amp;lt;" not in svg  # the template does not escape the markup a second time
    root = ET.fromstring(svg)
    assert not list(root.iter(f"{SVG}script"))
    tooltips = texts(root, "title")
    assert any(MALICIOUS in tooltip for tooltip in tooltips)  # the full name, as text
    assert MALICIOUS in root.find(f"{SVG}desc").text
    drawn = texts(root, "text")
    assert picture.boxes[0].text in drawn and picture.boxes[0].text.startswith("<script>")


def test_long_names_are_truncated_with_the_full_name_in_a_tooltip():
    composition = Composition()
    composition.app.name = "an-application-container-with-a-very-long-name"
    _, svg = render(composition)
    root = ET.fromstring(svg)
    app = next(g for g in root.iter(f"{SVG}g") if "pp-app" in (g.get("class") or ""))
    name = next(t for t in app.iter(f"{SVG}text") if t.get("class") == "pp-name")
    assert name.text.endswith("…") and composition.app.name.startswith(name.text[:-1])
    assert app.find(f"{SVG}title").text.startswith(composition.app.name)


@override_settings(USE_THOUSAND_SEPARATOR=True, LANGUAGE_CODE="de")
def test_coordinates_are_never_localised():
    composition = EXAMPLES_BY_ID["good-citizen"].build()
    for number in range(5):
        edits.add_helper(composition, "custom", {"container": {"name": f"helper-{number}", "image": "busybox:1.36"}})
    picture, svg = render(composition)
    assert picture.width > 1000
    root = ET.fromstring(svg)
    assert root.get("width") == str(picture.width)
    for element in root.iter():
        for attribute in ("x", "y", "width", "height", "x1", "x2", "cx"):
            value = element.get(attribute)
            if value is not None and not value.endswith("%"):
                int(value)
