"""Multi-container lint: one test per check, on compositions a user could really build."""

from composer.domain import edits
from composer.domain.examples import EXAMPLES
from composer.domain.lint import lint
from composer.domain.model import Composition, ServiceExposure
from composer.domain.render import build


def codes(composition, cluster_version=None):
    return {(p.severity.value, p.code) for p in lint(build(composition), cluster_version)}


def custom(composition, role="sidecar", **container):
    return edits.add_helper(composition, "custom", {"role": role, "container": container})


def test_clean_composition_has_no_problems():
    assert codes(Composition()) == set()


def test_two_containers_listening_on_one_port_clash():
    composition = Composition()
    composition.app.ports = [{"containerPort": 8080}]
    edits.add_helper(composition, "health-endpoint", {"port": 8080})
    problems = [p for p in lint(build(composition)) if p.code == "port-clash"]
    assert len(problems) == 1
    assert "8080/TCP" in problems[0].message and "'app'" in problems[0].message
    assert problems[0].path == "Pod/my-app: spec.containers[1].ports[0]"


def test_regular_init_containers_do_not_clash_but_native_sidecars_do():
    composition = Composition()
    composition.app.ports = [{"containerPort": 9000}]
    helper = custom(composition, role="init", name="probe", image="busybox:1.36", ports=[{"containerPort": 9000}])
    assert ("error", "port-clash") not in codes(composition)
    assert ("warning", "ports-on-init-container") in codes(composition)
    composition.helper(helper.id).params["role"] = "sidecar"
    composition.helper(helper.id).native_sidecar = True
    assert ("error", "port-clash") in codes(composition)


def test_mounting_an_undeclared_volume_is_an_error():
    composition = Composition()
    composition.app.volume_mounts = [{"name": "data", "mountPath": "/data"}]
    assert ("error", "missing-volume") in codes(composition)
    composition.options.volumes = [{"name": "data", "emptyDir": {}}]
    assert ("error", "missing-volume") not in codes(composition)


def test_unused_volume_is_noted():
    composition = Composition()
    composition.options.volumes = [{"name": "spare", "emptyDir": {}}]
    assert ("info", "unused-volume") in codes(composition)


def test_duplicate_container_names_are_an_error():
    composition = Composition()
    helper = custom(composition, name="side", image="busybox:1.36")
    composition.helper(helper.id).params["container"]["name"] = "app"
    assert ("error", "duplicate-container-name") in codes(composition)


def test_probes_on_init_containers_are_an_error_but_fine_on_native_sidecars():
    probe = {"httpGet": {"path": "/", "port": 80}}
    composition = Composition()
    helper = custom(composition, role="init", name="setup", image="busybox:1.36", readinessProbe=probe)
    assert ("error", "probe-on-init-container") in codes(composition)
    composition.helper(helper.id).params["role"] = "sidecar"
    composition.helper(helper.id).native_sidecar = True
    assert ("error", "probe-on-init-container") not in codes(composition)


def test_native_sidecars_need_kubernetes_1_29():
    composition = Composition()
    helper = edits.add_helper(composition, "log-tailer")
    edits.set_native_sidecar(composition, helper.id, True)
    assert ("error", "native-sidecar-unsupported") in codes(composition, (1, 28))
    assert ("error", "native-sidecar-unsupported") not in codes(composition, (1, 29))


def test_privileged_helpers_are_flagged():
    composition = Composition()
    edits.add_helper(composition, "sysctl")
    assert ("warning", "privileged") in codes(composition)


def test_latest_and_untagged_images_are_flagged():
    composition = Composition()
    composition.app.image = "nginx"
    assert ("warning", "latest-image") in codes(composition)
    composition.app.image = "registry:5000/team/nginx:latest"
    assert ("warning", "latest-image") in codes(composition)
    composition.app.image = "registry:5000/team/nginx@sha256:" + "a" * 64
    assert ("warning", "latest-image") not in codes(composition)


def test_shared_process_namespace_is_explained_and_required_where_needed():
    composition = Composition()
    edits.add_helper(composition, "config-reloader")
    assert ("warning", "share-process-namespace") in codes(composition)
    composition.options.share_process_namespace = False
    assert ("error", "needs-share-process-namespace") in codes(composition)


def test_service_target_port_names_must_exist():
    composition = Composition()
    ports = [{"name": "web", "port": 80, "targetPort": "http"}]
    composition.options.service = ServiceExposure(True, "ClusterIP", ports)
    assert ("error", "service-target-port") in codes(composition)
    composition.app.ports = [{"name": "http", "containerPort": 80}]
    assert ("error", "service-target-port") not in codes(composition)


def test_invalid_params_and_unknown_patterns_are_reported():
    composition = Composition()
    helper = edits.add_helper(composition, "wait-for")
    composition.helper(helper.id).params["port"] = 0
    composition.helpers.append(type(helper)("h9", "teleporter", {}))
    found = codes(composition)
    assert ("error", "invalid-param") in found and ("error", "unknown-pattern") in found


def test_every_gallery_example_is_free_of_errors():
    for example in EXAMPLES:
        errors = [p for p in lint(build(example.build())) if p.severity == "error"]
        assert errors == [], example.id


def test_a_probe_checks_exactly_one_thing():
    composition = Composition()
    composition.app.extra = {"readinessProbe": {"periodSeconds": 5},
                             "livenessProbe": {"httpGet": {"port": 80}, "tcpSocket": {"port": 80}},
                             "startupProbe": {"exec": {"command": ["true"]}}}
    problems = {p.path: p.message for p in lint(build(composition)) if p.code == "probe-handler"}
    assert problems == {
        "Pod/my-app: spec.containers[0].readinessProbe": "Container 'app': its readinessProbe checks nothing, but a "
        "probe has exactly one of exec, httpGet, tcpSocket, grpc (the API server refuses it)",
        "Pod/my-app: spec.containers[0].livenessProbe": "Container 'app': its livenessProbe checks httpGet and "
        "tcpSocket, but a probe has exactly one of exec, httpGet, tcpSocket, grpc (the API server refuses it)",
    }
