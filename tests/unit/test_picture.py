"""The picture of the Pod: the layout behind the composer's SVG preview."""

import itertools
import subprocess
import sys
from pathlib import Path

import pytest

from composer.domain import edits
from composer.domain.examples import EXAMPLES, EXAMPLES_BY_ID
from composer.domain.model import Composition
from composer.domain.render import build
from composer.picture import NATIVE_BADGE, Area, fit, pod_picture, text_width


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


def test_the_layout_is_pure_python():
    code = (
        "import sys, composer.picture; sys.exit(any(m.split('.')[0] in ('django', 'kubernetes') for m in sys.modules))"
    )
    root = Path(__file__).resolve().parents[2]
    assert subprocess.run([sys.executable, "-c", code], cwd=root, check=False).returncode == 0
