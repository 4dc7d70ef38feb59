"""The picture of the Pod: the layout behind the composer's SVG preview."""

import html
import itertools
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from composer.domain import edits
from composer.domain.examples import EXAMPLES, EXAMPLES_BY_ID
from composer.domain.model import Composition
from composer.domain.render import build
from composer.presentation.picture.boxes import NATIVE_BADGE
from composer.presentation.picture.geometry import fit, text_width
from composer.presentation.picture.layout import pod_picture
from composer.presentation.picture.model import Area
from composer.presentation.picture.svg import render_svg


def picture_of(example_id):
    return pod_picture(build(EXAMPLES_BY_ID[example_id].build()))


def startup_sequence():
    """sysctl (init) → log-shipper (native sidecar) → write-page (init), beside a log-tailing app."""
    composition = EXAMPLES_BY_ID["log-tailer"].build()
    edits.add_helper(composition, "sysctl")
    native = edits.add_helper(composition, "log-tailer", {"name": "log-shipper", "volume": "logs", "log_dir": "/logs"})
    composition.helper(native.id).native_sidecar = True
    edits.add_helper(composition, "file-writer", {"name": "write-page", "volume": "html"})
    return composition


def crowded():
    """Many containers, ports, volumes (one unused, one undeclared) and a Service port nobody serves."""
    composition = EXAMPLES_BY_ID["good-citizen"].build()
    edits.add_helper(composition, "log-tailer", {"log_dir": "/logs"})
    edits.add_helper(composition, "file-writer", {"name": "write-page", "volume": "html"})
    edits.add_helper(
        composition,
        "custom",
        {
            "role": "init",
            "container": {
                "name": "probe",
                "image": "busybox:1.36",
                "ports": [{"containerPort": 9000}],
                "volumeMounts": [{"name": "ghost", "mountPath": "/ghost"}],
            },
        },
    )
    edits.add_helper(composition, "egress-proxy", {"routes": {"/api": "https://example.com"}})
    composition.options.service.ports.append({"name": "missing", "port": 9999, "targetPort": "nope"})
    composition.options.volumes.append({"name": "unused-cache", "emptyDir": {}})
    composition.options.share_process_namespace = True
    return composition


ALL = [pytest.param(example.build, id=example.id) for example in EXAMPLES] + [
    pytest.param(startup_sequence, id="startup-sequence"),
    pytest.param(crowded, id="crowded"),
    pytest.param(Composition, id="default"),
]


def spec_names(rendering):
    return [c["name"] for c in rendering.init_containers()] + [c["name"] for c in rendering.containers()]


# --- containers and roles -----------------------------------------------------------------
@pytest.mark.parametrize("make", ALL)
def test_every_container_is_drawn_once(make):
    rendering = build(make())
    picture = pod_picture(rendering)
    assert sorted(box.name for box in picture.containers) == sorted(spec_names(rendering))
    app = picture.boxes[0]
    assert app.name == rendering.composition.app.name
    assert app.is_app and app.role == "app" and app.badge == "app"
    assert [box for box in picture.containers if box.is_app] == [app]


@pytest.mark.parametrize("make", ALL)
def test_helpers_keep_their_role(make):
    rendering = build(make())
    picture = pod_picture(rendering)
    for helper in rendering.helpers:
        box = picture.container(helper.container_name)
        expected = "init" if helper.placement == "init" else helper.role
        assert box.role == expected
        assert box.kind == helper.placement.value
        assert box.role_class == f"pp-role-{expected}"


def test_roles_of_the_gallery():
    roles = {box.name: box.role for box in picture_of("start-script").containers}
    assert roles == {"write-startup": "init", "app": "app", "version": "adapter"}
    assert {box.name: box.badge for box in picture_of("egress").boxes} == {
        "app": "app",
        "egress-proxy": "ambassador",
    }
    assert picture_of("log-tailer").container("log-tailer").badge == "sidecar"


def test_init_containers_are_numbered_in_run_order():
    picture = pod_picture(build(startup_sequence()))
    assert [(box.step, box.name) for box in picture.init_boxes] == [(1, "sysctl"), (3, "write-page")]
    assert [(marker.step, marker.container) for marker in picture.markers] == [(2, "log-shipper")]
    # Left to right in run order, an arrow between each step and the next.
    steps = sorted([*picture.init_boxes, *picture.markers], key=lambda item: item.x)
    assert [item.step for item in steps] == [1, 2, 3]
    assert len(picture.init_arrows) == 2
    for arrow, (before, after) in zip(picture.init_arrows, itertools.pairwise(steps), strict=True):
        assert before.right < arrow.x1 < arrow.x2 < after.x
        assert arrow.y1 == arrow.y2 == before.cy


def test_native_sidecar_runs_beside_the_app_marked_with_its_step():
    picture = pod_picture(build(startup_sequence()))
    shipper = picture.container("log-shipper")
    assert shipper in picture.boxes and shipper not in picture.init_boxes
    assert shipper.kind == "native-sidecar" and shipper.badge == NATIVE_BADGE == "sidecar ↻"
    assert shipper.step == 2
    assert [box.name for box in picture.boxes] == ["app", "log-tailer", "log-shipper"]


def test_native_ambassador_keeps_its_role_in_the_badge():
    composition = EXAMPLES_BY_ID["egress"].build()
    composition.helpers[0].native_sidecar = True
    proxy = pod_picture(build(composition)).container("egress-proxy")
    assert proxy.role == "ambassador" and proxy.badge == "ambassador · sidecar ↻" and proxy.step == 1


def test_without_init_containers_there_is_no_init_row():
    picture = picture_of("log-tailer")
    assert picture.init_label is None and picture.init_boxes == () and picture.markers == ()
    assert all(box.step is None for box in picture.boxes)


# --- ports and the Service --------------------------------------------------------------------
def test_ports_are_tags_on_their_container():
    picture = picture_of("good-citizen")
    tags = {(tag.container, tag.text) for tag in picture.ports}
    assert tags == {("app", "80/TCP http"), ("health", "8080/TCP health"), ("metrics", "8081/TCP metrics")}
    for box in picture.boxes:
        for tag in box.ports:
            assert box.x <= tag.x and tag.right <= box.right
            assert tag.y < box.bottom < tag.bottom  # on the bottom edge, plugged into the network band


def test_unnamed_port_and_other_protocols():
    composition = Composition()
    composition.app.ports = [{"containerPort": 80}, {"name": "dns", "containerPort": 53, "protocol": "UDP"}]
    tags = pod_picture(build(composition)).boxes[0].ports
    assert [tag.text for tag in tags] == ["80/TCP", "53/UDP dns"]
    assert tags[0].right < tags[1].x


def test_service_ports_point_at_the_containers_declaring_the_target():
    picture = picture_of("exporter")
    service = picture.service
    assert service is not None and service.name == "es-metrics" and service.type == "ClusterIP"
    assert [(chip.text, chip.targets) for chip in service.ports] == [
        ("9200 → http", ("elasticsearch",)),
        ("9114 → http-prometheus", ("exporter",)),
    ]
    for link in service.links:
        tag = next(t for t in picture.ports if t.container == link.container)
        assert (link.x2, link.y2) == (tag.cx, tag.bottom)
        chip = next(c for c in service.ports if c.text == link.port)
        assert (link.x1, link.y1) == (chip.cx, chip.y)
        assert link.y1 > picture.pod.bottom  # the Service is outside the Pod
    assert all(tag.exposed for tag in picture.ports)


def test_service_port_without_a_declaring_container_is_flagged():
    picture = pod_picture(build(crowded()))
    missing = next(chip for chip in picture.service.ports if chip.name == "missing")
    assert not missing.matched and "no container declares" in missing.tooltip
    assert all(link.port != missing.text for link in picture.service.links)
    assert not picture.container("log-tailer").ports


def test_numeric_target_port_matches_port_and_protocol():
    composition = EXAMPLES_BY_ID["debug-shell"].build()
    composition.options.service.enabled = True
    composition.options.service.ports = [{"name": "web", "port": 8080, "targetPort": 80}]
    chip = pod_picture(build(composition)).service.ports[0]
    assert chip.targets == ("app",) and chip.text == "8080 → 80"


def test_no_service_no_service_box():
    assert picture_of("log-tailer").service is None


# --- volumes ------------------------------------------------------------------------------------
def test_volume_lines_are_read_write_or_read_only():
    picture = picture_of("log-tailer")
    assert [(pill.name, pill.kind) for pill in picture.volumes] == [("logs", "emptyDir")]
    modes = {(line.volume, line.container): line.mode for line in picture.mounts}
    assert modes == {("logs", "app"): "rw", ("logs", "log-tailer"): "ro"}
    for line in picture.mounts:
        assert line.label.text == line.mode
        assert "read-only" in line.tooltip if line.read_only else "read-write" in line.tooltip


@pytest.mark.parametrize("make", ALL)
def test_volume_lines_join_the_pill_and_the_mounting_container(make):
    rendering = build(make())
    picture = pod_picture(rendering)
    expected = set()
    for container in [*rendering.init_containers(), *rendering.containers()]:
        for mount in container.get("volumeMounts") or []:
            expected.add((mount["name"], container["name"]))
    assert {(line.volume, line.container) for line in picture.mounts} == expected
    pills = {pill.name: pill for pill in picture.volumes}
    for line in picture.mounts:
        pill, box = pills[line.volume], picture.container(line.container)
        assert pill.x <= line.x1 <= pill.right and box.x <= line.x2 <= box.right
        if box.is_init:  # init containers sit above the volumes
            assert (line.y1, line.y2) == (pill.y, box.bottom)
        else:
            assert (line.y1, line.y2) == (pill.bottom, box.y)


def test_init_writes_a_volume_the_app_reads():
    picture = picture_of("secret-fetcher")
    assert [(pill.name, pill.kind) for pill in picture.volumes] == [("secrets", "emptyDir · memory")]
    assert {(line.container, line.mode) for line in picture.mounts} == {
        ("fetch-secrets", "rw"),
        ("app", "ro"),
    }
    pill = picture.volumes[0]
    assert picture.init_boxes[0].bottom < pill.y < pill.bottom < picture.boxes[0].y


def test_unused_and_undeclared_volumes():
    pills = {pill.name: pill for pill in pod_picture(build(crowded())).volumes}
    assert pills["unused-cache"].declared and not pills["unused-cache"].mounted
    assert not pills["ghost"].declared and pills["ghost"].kind == "not declared"


# --- process namespace and network ----------------------------------------------------------
def test_shared_process_namespace_frames_the_running_containers():
    picture = picture_of("share-processes")
    ns = picture.process_namespace
    assert ns.shared and ns.label.text == "shared process namespace"
    assert ns.frame is not None
    for box in picture.boxes:
        assert contains(ns.frame, box)
    assert contains(ns.frame, ns.label.area) or ns.label.area.overlaps(ns.frame)


def test_shared_frame_leaves_init_containers_out():
    composition = startup_sequence()
    composition.options.share_process_namespace = True
    picture = pod_picture(build(composition))
    frame = picture.process_namespace.frame
    assert all(contains(frame, box) for box in picture.boxes)
    assert not any(box.overlaps(frame) for box in picture.init_boxes)


def test_isolated_process_namespaces_have_a_label_and_no_frame():
    ns = picture_of("debug-shell").process_namespace
    assert not ns.shared and ns.frame is None and ns.label.text == "process namespaces isolated"


@pytest.mark.parametrize("make", ALL)
def test_running_containers_sit_on_one_shared_network_band(make):
    picture = pod_picture(build(make()))
    band = picture.network
    assert band.label.text == "shared network · localhost"
    for box in picture.boxes:
        assert box.bottom == band.y and band.x <= box.x and box.right <= band.right
    assert contains(band, band.label.area)
    assert contains(picture.pod, band)


# --- geometry --------------------------------------------------------------------------------
def solid_parts(picture):
    """Everything that must not overlap anything else: boxes, steps, pills, chips and labels."""
    parts = [("box", b.name, b) for b in picture.containers]
    parts += [("marker", m.container, m) for m in picture.markers]
    parts += [("pill", p.name, p) for p in picture.volumes]
    parts += [("mode", f"{m.volume}->{m.container}", m.label.area) for m in picture.mounts]
    parts += [("label", "pod", picture.pod_label.area), ("label", "band", picture.network.label.area)]
    parts += [("label", "process", picture.process_namespace.label.area)]
    if picture.init_label:
        parts.append(("label", "init", picture.init_label.area))
    if picture.service:
        parts += [("chip", c.text, c) for c in picture.service.ports]
    return parts


def contains(outer, inner):
    return outer.x <= inner.x and inner.right <= outer.right and outer.y <= inner.y and inner.bottom <= outer.bottom


@pytest.mark.parametrize("make", ALL)
def test_nothing_overlaps(make):
    picture = pod_picture(build(make()))
    for (kind_a, name_a, a), (kind_b, name_b, b) in itertools.combinations(solid_parts(picture), 2):
        assert not a.overlaps(b), f"{kind_a} {name_a} overlaps {kind_b} {name_b}"
    tags = picture.ports
    for a, b in itertools.combinations(tags, 2):
        assert not a.overlaps(b), f"port tags {a.text} and {b.text} overlap"
    for tag in tags:
        for kind, name, part in solid_parts(picture):
            if kind != "box":
                assert not tag.overlaps(part), f"port tag {tag.text} overlaps {kind} {name}"


@pytest.mark.parametrize("make", ALL)
def test_everything_lies_inside_the_picture(make):
    picture = pod_picture(build(make()))
    canvas = Area(0, 0, picture.width, picture.height)
    for _kind, _name, part in solid_parts(picture):
        assert contains(canvas, part)
    for box in picture.containers:
        assert contains(picture.pod, box)
    for pill in picture.volumes:
        assert contains(picture.pod, pill)
    if picture.service:
        assert contains(canvas, picture.service) and picture.service.y > picture.pod.bottom


@pytest.mark.parametrize("make", ALL)
def test_text_fits_its_box(make):
    picture = pod_picture(build(make()))
    for box in picture.containers:
        assert box.text_x + text_width(box.text, 13, bold=True) <= box.right - 8
        assert box.text_x + text_width(box.image_text, 11, mono=True) <= box.right - 8
        if box.badge:
            assert text_width(box.badge, 10, bold=True) < box.badge_w <= box.w - 24
        for tag in box.ports:
            assert text_width(tag.text, 10, mono=True) < tag.w


def test_long_names_are_cut_and_kept_whole_in_the_tooltip():
    composition = Composition()
    composition.app.name = "a-really-long-application-container-name-for-the-picture"
    composition.app.image = "registry.example.com/some/deep/path/application-image:1.2.3"
    app = pod_picture(build(composition)).boxes[0]
    assert app.text.endswith("…") and app.name.startswith(app.text[:-1])
    assert app.image_text.startswith("…") and app.image_text.endswith("image:1.2.3")
    assert app.name in app.tooltip and app.image in app.tooltip


def test_fit():
    assert fit("short", 200, 13) == "short"
    assert fit("x" * 100, 60, 10, mono=True) == "x" * 8 + "…"
    assert fit("repo/image:1.0", 62, 10, mono=True, keep_end=True) == "…image:1.0"


def test_the_picture_grows_with_its_content():
    small, large = picture_of("debug-shell"), pod_picture(build(crowded()))
    assert large.width > small.width and large.height > small.height
    assert small.view_box == f"0 0 {small.width} {small.height}"


@pytest.mark.parametrize("make", ALL)
def test_deterministic(make):
    assert pod_picture(build(make())) == pod_picture(build(make()))


# --- words ------------------------------------------------------------------------------------
def test_description_of_a_log_tailing_sidecar():
    assert picture_of("log-tailer").description == (
        "Pod timecheck: no init containers. Running: app (busybox:1.36), log-tailer (sidecar). "
        "Volume logs (emptyDir): app rw, log-tailer ro. "
        "Network: shared, every running container reaches the others on localhost. "
        "Process namespace: isolated."
    )


def test_description_of_a_start_up_sequence_and_a_service():
    composition = startup_sequence()
    composition.options.share_process_namespace = True
    composition.options.service.enabled = True
    composition.options.service.ports = [{"name": "web", "port": 80, "targetPort": 8080}]
    description = pod_picture(build(composition)).description
    assert description.startswith(
        "Pod timecheck: init containers run in order: 1 sysctl, "
        "2 log-shipper (native sidecar, keeps running), "
        "3 write-page. Running: app (busybox:1.36), log-tailer (sidecar), "
        "log-shipper (native sidecar, starts at step 2)."
    )
    assert "Volume logs (emptyDir): app rw, log-tailer ro, log-shipper ro." in description
    assert "Volume html (emptyDir): write-page rw, app rw." in description
    assert "Service timecheck (ClusterIP): 80 → no container declares 8080." in description
    assert description.endswith("Process namespace: shared by all containers.")


def test_description_names_the_app_ports_and_the_service():
    description = picture_of("exporter").description
    assert description.startswith("Pod es-metrics: no init containers. Running: elasticsearch (app container, ")
    assert "exporter (adapter, port 9114 http-prometheus)" in description
    assert "Service es-metrics (ClusterIP): 9200 → elasticsearch; 9114 → exporter." in description
    assert picture_of("good-citizen").description.startswith("Deployment citizen (Pod template):")


@pytest.mark.parametrize("module", ["composer.presentation.picture.layout", "composer.presentation.picture.svg"])
def test_the_layout_and_the_drawing_are_pure_python(module):
    code = f"import sys, {module}; sys.exit(any(m.split('.')[0] in ('django', 'kubernetes') for m in sys.modules))"
    root = Path(__file__).resolve().parents[2]
    assert subprocess.run([sys.executable, "-c", code], cwd=root, check=False).returncode == 0


# --- the SVG (composer.presentation.picture.svg.render_svg) ---------------------------------------------------
SVG = "{http://www.w3.org/2000/svg}"
HOSTILE = "\"&'<>"
MALICIOUS = "<script>alert(1)</script>"


def hostile():
    """User input in every name the picture shows: workload, containers, image, port, volume, Service port."""
    composition = Composition()
    composition.workload.name = MALICIOUS
    composition.app.name = MALICIOUS
    composition.app.image = 'busybox"/><script>alert(2)</script>'
    composition.app.ports = [{"name": HOSTILE, "containerPort": 80}]
    composition.app.volume_mounts = [{"name": HOSTILE, "mountPath": "/x"}]
    composition.options.volumes.append({"name": HOSTILE, "emptyDir": {}})
    composition.options.service.enabled = True
    composition.options.service.ports = [{"name": HOSTILE, "port": 80, "targetPort": HOSTILE}]
    edits.add_helper(composition, "custom", {"role": "init", "container": {"name": MALICIOUS, "image": "busybox"}})
    return composition


SVG_CASES = [*ALL, pytest.param(hostile, id="hostile")]


def svg_of(make):
    picture = pod_picture(build(make()))
    return picture, ET.fromstring(render_svg(picture))


def groups(root, css):
    """The <g> elements whose class list has `css`."""
    return [g for g in root.iter(f"{SVG}g") if css in (g.get("class") or "").split()]


def child(element, tag, css=None):
    return next(e for e in element.iter(f"{SVG}{tag}") if css is None or e.get("class") == css)


def text_of(element):
    return "".join(element.itertext())


def xywh(element):
    return tuple(int(element.get(a)) for a in ("x", "y", "width", "height"))


@pytest.mark.parametrize("make", SVG_CASES)
def test_svg_is_well_formed_and_accessible(make):
    picture, root = svg_of(make)
    assert root.tag == f"{SVG}svg" and root.get("class") == "pod-picture"
    assert root.get("role") == "img"
    assert (root.get("width"), root.get("height")) == (str(picture.width), str(picture.height))
    assert root.get("viewBox") == picture.view_box
    assert root.get("preserveAspectRatio") == "xMidYMin meet"
    # aria-labelledby names the title and the description, the first children of the <svg>
    title, desc = list(root)[:2]
    assert (title.tag, desc.tag) == (f"{SVG}title", f"{SVG}desc")
    assert root.get("aria-labelledby").split() == [title.get("id"), desc.get("id")]
    assert title.text == picture.title and desc.text == picture.description
    ids = [e.get("id") for e in root.iter() if e.get("id")]
    assert len(ids) == len(set(ids))
    # every arrow ends with a marker the picture defines
    markers = {f"url(#{m.get('id')})" for m in root.find(f"{SVG}defs").iter(f"{SVG}marker")}
    assert markers == {"url(#pod-picture-arrow)", "url(#pod-picture-service-arrow)"}
    assert all(line.get("marker-end", "url(#pod-picture-arrow)") in markers for line in root.iter(f"{SVG}line"))
    # every drawn group but the Pod frame (which the title names) explains itself in a tooltip
    for g in root.iter(f"{SVG}g"):
        if g.get("class") == "pp-pod":
            continue
        assert g.find(f"{SVG}title") is not None and text_of(g.find(f"{SVG}title"))
    for element in root.iter():
        assert element.tag not in (f"{SVG}script", f"{SVG}foreignObject", f"{SVG}style")
        assert "style" not in element.attrib and not any(name.startswith("on") for name in element.attrib)
        # colours come from picture.css's classes and variables, so the picture follows the theme
        assert not {"fill", "stroke", "color", "stop-color", "flood-color"} & set(element.attrib), element.attrib
        for attribute in ("x", "y", "width", "height", "x1", "y1", "x2", "y2", "cx", "cy", "r", "rx"):
            if attribute in element.attrib:
                assert str(int(element.get(attribute))) == element.get(attribute)


@pytest.mark.parametrize("make", SVG_CASES)
def test_svg_draws_every_part_of_the_layout(make):
    picture, root = svg_of(make)
    frame = child(root, "rect", "pp-pod-frame")
    assert xywh(frame) == (picture.pod.x, picture.pod.y, picture.pod.w, picture.pod.h)
    assert text_of(child(root, "text", "pp-pod-name")) == picture.pod_label.text
    assert xywh(child(root, "rect", "pp-band")) == (
        picture.network.x,
        picture.network.y,
        picture.network.w,
        picture.network.h,
    )

    drawn = groups(root, "pp-container")
    assert len(drawn) == len(picture.containers)
    for box, g in zip(picture.containers, drawn, strict=True):
        assert g.get("class").split()[:3] == ["pp-container", f"pp-{box.kind}", box.role_class]
        assert ("pp-app" in g.get("class").split()) == box.is_app
        assert text_of(g.find(f"{SVG}title")) == box.tooltip
        assert xywh(child(g, "rect", "pp-box")) == (box.x, box.y, box.w, box.h)
        assert text_of(child(g, "text", "pp-name")) == box.text
        assert text_of(child(g, "text", "pp-image")) == box.image_text
        steps = [text_of(t) for t in g.iter(f"{SVG}text") if t.get("class") == "pp-step-number"]
        assert steps == ([str(box.step)] if box.step else [])
        badges = [text_of(t) for t in g.iter(f"{SVG}text") if t.get("class") == "pp-badge-text"]
        assert badges == ([box.badge] if box.badge else [])
        ports = groups(g, "pp-port")
        assert [text_of(child(p, "text", "pp-tag-text")) for p in ports] == [tag.text for tag in box.ports]
        assert [("pp-exposed" in p.get("class")) for p in ports] == [tag.exposed for tag in box.ports]

    markers = groups(root, "pp-marker")
    assert [text_of(child(m, "text", "pp-step-number")) for m in markers] == [str(m.step) for m in picture.markers]
    assert [text_of(child(m, "text", "pp-marker-name")) for m in markers] == [m.text for m in picture.markers]
    arrows = [line for line in root.iter(f"{SVG}line") if line.get("class") == "pp-step-arrow"]
    assert len(arrows) == len(picture.init_arrows)

    pills = groups(root, "pp-volume")
    assert [text_of(child(p, "text", "pp-pill-text")) for p in pills] == [
        f"{pill.text} {pill.kind}" for pill in picture.volumes
    ]
    for pill, g in zip(picture.volumes, pills, strict=True):
        state = "pp-undeclared" if not pill.declared else "pp-unused" if not pill.mounted else None
        assert g.get("class").split()[1:] == ([state] if state else [])

    lines, modes = groups(root, "pp-mount"), groups(root, "pp-mount-mode")
    assert len(lines) == len(modes) == len(picture.mounts)
    for mount, line, mode in zip(picture.mounts, lines, modes, strict=True):
        css = "pp-ro" if mount.read_only else "pp-rw"
        assert css in line.get("class").split() and css in mode.get("class").split()
        drawn_line = child(line, "line", "pp-mount-line")
        assert tuple(int(drawn_line.get(a)) for a in ("x1", "y1", "x2", "y2")) == (
            mount.x1,
            mount.y1,
            mount.x2,
            mount.y2,
        )
        assert text_of(child(mode, "text", "pp-mode")) == mount.mode

    (process,) = groups(root, "pp-process")
    assert ("pp-shared" if picture.process_namespace.shared else "pp-isolated") in process.get("class").split()
    assert text_of(child(process, "text", "pp-process-label")) == picture.process_namespace.label.text
    frames = [r for r in root.iter(f"{SVG}rect") if r.get("class") == "pp-process-frame"]
    assert len(frames) == (1 if picture.process_namespace.frame else 0)

    service = groups(root, "pp-service")
    if picture.service is None:
        assert service == []
    else:
        (g,) = service
        assert text_of(child(g, "text", "pp-service-name")) == picture.service.label.text
        chips = groups(g, "pp-service-port")
        assert [text_of(child(c, "text", "pp-chip-text")) for c in chips] == [c.text for c in picture.service.ports]
        assert [("pp-unmatched" in c.get("class")) for c in chips] == [not c.matched for c in picture.service.ports]
        links = [line for line in g.iter(f"{SVG}line") if line.get("class") == "pp-service-link"]
        assert len(links) == len(picture.service.links)


def test_svg_escapes_every_name():
    picture = pod_picture(build(hostile()))
    svg = render_svg(picture)
    assert "<script" not in svg and "alert(2)" in svg
    assert html.escape(MALICIOUS, quote=True) in svg and html.escape(HOSTILE, quote=True) in svg
    assert HOSTILE not in svg and "'" not in svg.split("<title>All running")[0]
    root = ET.fromstring(svg)
    assert not list(root.iter(f"{SVG}script"))
    assert MALICIOUS in root.find(f"{SVG}title").text and MALICIOUS in root.find(f"{SVG}desc").text
    drawn = [text_of(t) for t in root.iter(f"{SVG}text")]
    assert picture.boxes[0].text in drawn and picture.boxes[0].text.startswith("<script>")
    assert f"{HOSTILE} emptyDir" in drawn  # the volume
    assert "80/TCP " + HOSTILE in drawn  # the port
    assert f"80 → {HOSTILE}" in drawn  # the Service port targeting it
    tooltips = [text_of(t) for t in root.iter(f"{SVG}title")]
    assert any(MALICIOUS in t for t in tooltips) and any(HOSTILE in t for t in tooltips)


def test_svg_of_the_crowded_pod_flags_its_problems():
    _, root = svg_of(crowded)
    classes = [g.get("class") for g in root.iter(f"{SVG}g")]
    assert "pp-volume pp-undeclared" in classes and "pp-volume pp-unused" in classes
    assert "pp-service-port pp-unmatched" in classes and "pp-port pp-exposed" in classes
    assert "pp-process pp-shared" in classes


def test_svg_of_a_start_up_sequence():
    picture, root = svg_of(startup_sequence)
    assert [text_of(child(g, "text", "pp-step-number")) for g in groups(root, "pp-init")] == ["1", "3"]
    (marker,) = groups(root, "pp-marker")
    assert text_of(child(marker, "text", "pp-step-number")) == "2"
    assert text_of(child(marker, "text", "pp-marker-note")) == "starts, keeps running"
    (native,) = groups(root, "pp-native-sidecar")
    assert text_of(child(native, "text", "pp-badge-text")) == NATIVE_BADGE
    assert text_of(child(root, "text", "pp-section")) == picture.init_label.text


@pytest.mark.parametrize("make", ALL)
def test_svg_is_deterministic(make):
    assert render_svg(pod_picture(build(make()))) == render_svg(pod_picture(build(make())))
