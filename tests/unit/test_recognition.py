"""Recognition by shape: a helper imported without Pod Studio's annotation is the pattern an experienced
engineer would name, with the params it was given and the real container's extra fields as overrides;
what no pattern reproduces exactly stays custom, with a role."""

import copy

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from composer.domain.importer import import_manifests
from composer.domain.model import AppContainer, Composition, Helper, Workload
from composer.domain.patterns import CATALOG
from composer.domain.recognition.candidates import RECOGNISERS
from composer.domain.render import HELPERS_ANNOTATION, render
from composer.domain.yamlio import dump_documents, load_documents
from tests.support.compositions import _param_values, images

# The catalog patterns without a recogniser yet (issue #13 part 4): they import as custom without the annotation.
NOT_YET_RECOGNISED = {
    "file-writer", "config-merger", "secret-fetcher", "log-shipper", "config-reloader", "port-remapper",
    "tls-terminator", "egress-proxy",
}
# Params a recogniser reads from the image or the command's meaning, so a test draws them meaningfully.
MEANINGFUL = {
    ("prometheus-exporter", "image"): st.sampled_from(
        ["oliver006/redis_exporter:v1.62.0", "quay.io/prometheus/mysqld-exporter:v0.15.1"]),
    ("migrations", "command"): st.sampled_from(
        ["python manage.py migrate --noinput", "bundle exec rails db:migrate", "alembic upgrade head"]),
}


def test_every_catalog_pattern_has_a_recogniser_or_is_listed_as_not_yet():
    assert set(RECOGNISERS) | NOT_YET_RECOGNISED | {"custom"} == set(CATALOG)
    assert not set(RECOGNISERS) & NOT_YET_RECOGNISED


def _without_annotation(manifests: list[dict]) -> list[dict]:
    manifests = copy.deepcopy(manifests)
    workload = manifests[-1]
    metadata = workload["metadata"] if workload["kind"] == "Pod" else workload["spec"]["template"]["metadata"]
    metadata.get("annotations", {}).pop(HELPERS_ANNOTATION, None)
    return manifests


@st.composite
def recognisable(draw: st.DrawFn) -> tuple[Composition, Helper]:
    pattern = CATALOG[draw(st.sampled_from(sorted(RECOGNISERS)))]
    chosen = draw(st.lists(st.sampled_from([p.name for p in pattern.params]), unique=True))
    params = {name: draw(MEANINGFUL.get((pattern.id, name), _param_values(pattern.param(name)))) for name in chosen}
    if pattern.id == "prometheus-exporter":
        params.setdefault("image", draw(MEANINGFUL[(pattern.id, "image")]))
    native = pattern.can_be_native_sidecar and draw(st.booleans())
    helper = Helper("h1", pattern.id, params, native)
    shares = pattern.id == "debug-shell" and bool(params.get("see_app_processes"))
    composition = Composition(workload=Workload(kind=draw(st.sampled_from(["Pod", "Deployment"])), name="web",
                                                labels={"app": "web"}),
                              app=AppContainer(name="app", image=draw(images),
                                               env=[{"name": "MODE", "value": "prod"}]))
    composition.helpers = [helper]
    composition.options.share_process_namespace = shares
    composition.options.service.enabled = draw(st.booleans())
    return composition, helper


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(recognisable())
def test_a_rendered_pattern_without_the_annotation_imports_as_the_same_pattern_and_params(case):
    composition, helper = case
    pattern = CATALOG[helper.pattern]
    manifests = _without_annotation(render(composition))
    imported = import_manifests(load_documents(dump_documents(manifests))).composition
    [found] = imported.helpers
    assert (found.pattern, found.overrides) == (pattern.id, {})
    expected, imported_params = pattern.clean_params(helper.params)[0], pattern.clean_params(found.params)[0]
    if not composition.options.service.enabled:  # whether to publish a port says nothing without a Service
        expected.pop("publish", None)
        imported_params.pop("publish", None)
    # The app's log directory written out is the default one.
    if "app_log_dir" in expected and expected["app_log_dir"] == expected["log_dir"]:
        expected["app_log_dir"] = ""
    assert imported_params == expected
    assert found.native_sidecar == helper.native_sidecar


def _pod(helpers: list[dict], *, init: list[dict] = (), volumes: list[dict] = (), app_mounts: list[dict] = (),
         share_processes: bool = False) -> list[dict]:
    app = {"name": "app", "image": "registry.example.com/shop:1.4", **({"volumeMounts": list(app_mounts)}
                                                                        if app_mounts else {})}
    spec: dict = {"containers": [app, *helpers]}
    if init:
        spec["initContainers"] = list(init)
    if volumes:
        spec["volumes"] = list(volumes)
    if share_processes:
        spec["shareProcessNamespace"] = True
    return [{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "shop", "labels": {"app": "shop"}}, "spec": spec}]


def _imported(manifests: list[dict]) -> tuple[Composition, list[dict]]:
    """The composition and the helper containers its rendering has, in the Pod's order."""
    composition = import_manifests(manifests).composition
    spec = render(composition)[-1]["spec"]
    return composition, [*spec.get("initContainers", []), *spec["containers"][1:]]


VARLOG = {"name": "varlog", "emptyDir": {}}
STREAMING_SIDECAR = {  # kubernetes.io, "Logging architecture": a streaming sidecar, written in args
    "name": "count-log-1", "image": "busybox:1.28",
    "args": ["/bin/sh", "-c", "tail -n+1 -F /var/log/1.log"],
    "volumeMounts": [{"name": "varlog", "mountPath": "/var/log"}],
}
KIAMOL_LOGGER = {  # Kiamol chapter 7: the app writes /logs, the sidecar reads the same volume at /logs-ro
    "name": "logger", "image": "kiamol/ch03-sleep",
    "command": ["sh", "-c", "tail -f /logs-ro/timecheck.log"],
    "volumeMounts": [{"name": "logs-dir", "mountPath": "/logs-ro", "readOnly": True}],
}
ELASTICSEARCH_SYSCTL = {  # Elastic's "Virtual memory" docs: the privileged init container before Elasticsearch
    "name": "increase-vm-max-map", "image": "busybox:1.36",
    "command": ["sysctl", "-w", "vm.max_map_count=262144"],
    "securityContext": {"privileged": True},
}
WAIT_FOR_POSTGRES = {  # the init container of countless READMEs
    "name": "wait-for-postgres", "image": "busybox:1.36",
    "command": ["sh", "-c", "until nc -z postgres 5432; do echo waiting for postgres; sleep 2; done;"],
}
REDIS_EXPORTER = {  # the redis_exporter README's sidecar, with resources of its own
    "name": "redis-exporter", "image": "oliver006/redis_exporter:v1.62.0",
    "ports": [{"name": "metrics", "containerPort": 9121}],
    "resources": {"requests": {"cpu": "100m", "memory": "100Mi"}},
}


GIT_CLONE = {  # alpine/git's entrypoint is git: the clone in args, the volume the web server serves
    "name": "clone-site", "image": "alpine/git:2.45.2",
    "args": ["clone", "--single-branch", "--branch", "main", "--", "https://github.com/example/site.git", "/site"],
    "volumeMounts": [{"name": "site", "mountPath": "/site"}],
}


@pytest.mark.parametrize(("manifests", "pattern_id", "params"), [
    pytest.param(_pod([STREAMING_SIDECAR], volumes=[VARLOG],
                      app_mounts=[{"name": "varlog", "mountPath": "/var/log"}]),
                 "log-tailer", {"volume": "varlog", "log_dir": "/var/log", "log_file": "1.log"},
                 id="k8s-docs-streaming"),
    pytest.param(_pod([KIAMOL_LOGGER], volumes=[{"name": "logs-dir", "emptyDir": {}}],
                      app_mounts=[{"name": "logs-dir", "mountPath": "/logs"}]),
                 "log-tailer", {"log_dir": "/logs-ro", "log_file": "timecheck.log", "app_log_dir": "/logs"},
                 id="kiamol-logger"),
    pytest.param(_pod([], init=[ELASTICSEARCH_SYSCTL]), "sysctl", {"settings": {"vm.max_map_count": "262144"}},
                 id="elasticsearch-sysctl"),
    pytest.param(_pod([], init=[WAIT_FOR_POSTGRES]), "wait-for", {"host": "postgres", "port": 5432},
                 id="wait-for-postgres"),
    pytest.param(_pod([], init=[GIT_CLONE], volumes=[{"name": "site", "emptyDir": {}}],
                      app_mounts=[{"name": "site", "mountPath": "/usr/share/nginx/html", "readOnly": True}]),
                 "git-clone", {"repository": "https://github.com/example/site.git", "ref": "main", "directory": "/site",
                               "app_mount_path": "/usr/share/nginx/html"}, id="git-clone"),
    pytest.param(_pod([REDIS_EXPORTER]), "prometheus-exporter", {"port": 9121, "port_name": "metrics", "args": []},
                 id="redis-exporter"),
])
def test_textbook_helpers_are_the_pattern_an_engineer_would_name(manifests, pattern_id, params):
    original = [*manifests[0]["spec"].get("initContainers", []), *manifests[0]["spec"]["containers"][1:]]
    composition, rendered = _imported(manifests)
    [helper] = composition.helpers
    assert helper.pattern == pattern_id
    cleaned = CATALOG[pattern_id].clean_params(helper.params)[0]
    assert {key: cleaned[key] for key in params} == params
    assert rendered == original  # exactly the container found, overrides and all
    assert render(composition)[-1]["spec"] == manifests[0]["spec"]


def test_what_a_pattern_does_not_produce_is_kept_as_overrides_field_by_field():
    composition, _ = _imported(_pod([STREAMING_SIDECAR], volumes=[VARLOG],
                                    app_mounts=[{"name": "varlog", "mountPath": "/var/log"}]))
    # The docs write the script in args and the mount read-write; the pattern writes command, read-only.
    assert composition.helpers[0].overrides == {
        "command": None, "args": STREAMING_SIDECAR["args"], "volumeMounts": STREAMING_SIDECAR["volumeMounts"]}
    composition, _ = _imported(_pod([REDIS_EXPORTER]))
    assert composition.helpers[0].overrides == {"resources": REDIS_EXPORTER["resources"]}


@pytest.mark.parametrize(("manifests", "role"), [
    # Not privileged: the sysctl cannot work, so it is not the pattern.
    pytest.param(_pod([], init=[{**ELASTICSEARCH_SYSCTL, "securityContext": {}}]), "init", id="unprivileged-sysctl"),
    # An idle loop without stdin and tty is a placeholder, not a debug shell.
    pytest.param(_pod([{"name": "log-shipper", "image": "busybox:1.36",
                        "command": ["sh", "-c", "while true; do sleep 3600; done"]}]), "sidecar", id="placeholder"),
    # The tailed file is on no volume the app shares: there is nothing to tail.
    pytest.param(_pod([{"name": "tail", "image": "busybox:1.36", "command": ["tail", "-F", "/var/log/app.log"]}]),
                 "sidecar", id="tail-of-nothing"),
    # kubernetes.io's adapter: a tail piped into a shell loop is not a plain log tailer, nor the normaliser's awk.
    pytest.param(_pod([{**STREAMING_SIDECAR, "args": ["/bin/sh", "-c", "tail -F /var/log/1.log | while read line; "
                                                                     "do echo \"adapted: $line\"; done"]}],
                      volumes=[VARLOG], app_mounts=[{"name": "varlog", "mountPath": "/var/log"}]),
                 "sidecar", id="tail-into-a-loop"),
    # The app mounts the log volume read-only: it cannot be writing the log the pattern says it writes.
    pytest.param(_pod([STREAMING_SIDECAR], volumes=[VARLOG],
                      app_mounts=[{"name": "varlog", "mountPath": "/var/log", "readOnly": True}]),
                 "sidecar", id="app-mount-read-only"),
    # The log volume is a hostPath, not the emptyDir the pattern creates.
    pytest.param(_pod([STREAMING_SIDECAR], volumes=[{"name": "varlog", "hostPath": {"path": "/var/log"}}],
                      app_mounts=[{"name": "varlog", "mountPath": "/var/log"}]), "sidecar", id="host-path"),
    # An exporter image is not enough: its metrics port has no name for the Service to use.
    pytest.param(_pod([{**REDIS_EXPORTER, "ports": [{"containerPort": 9121}]}]), "adapter", id="unnamed-port"),
])
def test_a_near_miss_stays_custom_and_exact(manifests, role):
    original = [*manifests[0]["spec"].get("initContainers", []), *manifests[0]["spec"]["containers"][1:]]
    composition, rendered = _imported(manifests)
    assert [(h.pattern, h.params["role"]) for h in composition.helpers] == [("custom", role)]
    assert rendered == original


@pytest.mark.parametrize(("image", "role"), [
    ("docker.io/istio/proxyv2:1.23.0", "ambassador"),
    ("cr.l5d.io/linkerd/proxy:stable-2.14.10", "ambassador"),
    ("gcr.io/cloud-sql-connectors/cloud-sql-proxy:2.11.0", "ambassador"),
    ("quay.io/oauth2-proxy/oauth2-proxy:v7.6.0", "ambassador"),
    ("fluent/fluent-bit:3.1.9", "sidecar"),
    ("grafana/promtail:3.0.0", "sidecar"),
    ("quay.io/prometheus/node-exporter:v1.8.2", "adapter"),
    ("registry.example.com/team/worker:2.0", "sidecar"),
])
def test_a_custom_helper_beside_the_app_gets_the_role_its_image_plays(image, role):
    composition, _ = _imported(_pod([{"name": "helper", "image": image}]))
    assert composition.helpers[0].params["role"] == role


def test_an_old_composition_is_still_recognised_from_its_annotation():
    composition = Composition(workload=Workload(kind="Pod", name="web", labels={"app": "web"}),
                              app=AppContainer(name="app", image="nginx:1.27"),
                              helpers=[Helper("h1", "port-remapper", {"listen_port": 8080})])
    imported = import_manifests(render(composition)).composition
    assert [(h.pattern, h.params, h.overrides) for h in imported.helpers] == [
        ("port-remapper", {"listen_port": 8080}, {})]


def test_yaml_edited_by_hand_says_the_edit_as_the_param_not_as_an_override_of_the_annotation():
    """The annotation of before the edit still renders the edited Pod (the new file only as an override of the
    command); the shape renders it with no override: the fewer overrides win (the composer's YAML editor)."""
    composition = Composition(app=AppContainer(image="busybox:1.36"), helpers=[Helper("h1", "log-tailer", {})])
    text = dump_documents(render(composition)).replace("/var/log/app/app.log", "/var/log/app/access.log")
    imported = import_manifests(load_documents(text)).composition
    assert [(h.pattern, h.params, h.overrides) for h in imported.helpers] == [
        ("log-tailer", {"log_file": "access.log"}, {})]


def test_an_edit_no_shape_explains_stays_the_annotations_pattern_with_an_override():
    composition = Composition(app=AppContainer(image="busybox:1.36"), helpers=[Helper("h1", "log-tailer", {})])
    text = dump_documents(render(composition)).replace("    - -F\n", "    - -F\n    - -s\n    - '5'\n")
    imported = import_manifests(load_documents(text)).composition
    helper, = imported.helpers
    assert helper.pattern == "log-tailer" and helper.overrides == {
        "command": ["tail", "-n+1", "-F", "-s", "5", "/var/log/app/app.log"]}
