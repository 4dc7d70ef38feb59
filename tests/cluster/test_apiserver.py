"""The stand-in API server, checked with the real kubernetes client and with kubectl."""

from __future__ import annotations

import contextlib
import json
import queue
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import urllib3
from kubernetes import client, config, watch
from kubernetes.client.exceptions import ApiException

from tests.support.apiserver import ApiServer, iter_stream_lines, tls_available
from tests.support.kubeconfig import (
    STANDIN_CONTEXT,
    TEAM_CONTEXT,
    TEAM_USER,
    KubeconfigContext,
    write_kubeconfig,
    write_standin_kubeconfig,
)

APPLY = "application/apply-patch+yaml"


def pod(
    name: str = "web",
    *,
    image: str = "nginx:1.27",
    labels: dict[str, str] | None = None,
    containers: list[dict[str, Any]] | None = None,
    **spec: Any,
) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": labels or {"app": name}},
        "spec": {"containers": containers or [{"name": "app", "image": image}], **spec},
    }


def deployment(name: str = "web", replicas: int = 1, image: str = "nginx:1.27") -> dict[str, Any]:
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "app", "image": image}]},
            },
        },
    }


def status_body(error: ApiException) -> dict[str, Any]:
    return json.loads(error.body)


@pytest.fixture
def api(kubeconfig_path: Path):
    api_client = config.new_client_from_config(config_file=str(kubeconfig_path), context=STANDIN_CONTEXT)
    yield api_client
    api_client.close()


@pytest.fixture
def core(api) -> client.CoreV1Api:
    return client.CoreV1Api(api)


@pytest.fixture
def apps(api) -> client.AppsV1Api:
    return client.AppsV1Api(api)


@dataclass(frozen=True)
class Applied:
    status_code: int
    data: client.V1Pod


def apply(core: client.CoreV1Api, body: dict[str, Any], manager: str, **options: Any) -> Applied:
    """A server-side apply of a Pod, with the HTTP status (201 created, 200 otherwise)."""
    data, status, _ = core.patch_namespaced_pod_with_http_info(
        body["metadata"]["name"], "default", body, field_manager=manager, _content_type=APPLY, **options
    )
    return Applied(status, data)


# ---------------------------------------------------------------------------
# Discovery, metadata, CRUD
# ---------------------------------------------------------------------------


def test_version_is_configurable_per_server(api, apiserver: ApiServer) -> None:
    assert client.VersionApi(api).get_code().git_version == "v1.33.1"
    apiserver.version = "v1.28.4"
    info = client.VersionApi(api).get_code()
    assert (info.major, info.minor, info.git_version) == ("1", "28", "v1.28.4")


def test_discovery_lists_the_served_resources(api) -> None:
    core_names = {r.name for r in client.CoreV1Api(api).get_api_resources().resources}
    assert {
        "pods",
        "pods/log",
        "pods/status",
        "services",
        "configmaps",
        "secrets",
        "events",
        "namespaces",
    } <= core_names
    apps_names = {r.name for r in client.AppsV1Api(api).get_api_resources().resources}
    assert {"deployments", "replicasets"} <= apps_names
    groups = client.ApisApi(api).get_api_versions().groups
    assert [g.preferred_version.group_version for g in groups] == ["apps/v1"]


def test_create_fills_in_server_metadata(core: client.CoreV1Api) -> None:
    first = core.create_namespaced_pod("default", pod("web"))
    second = core.create_namespaced_pod("default", pod("db"))
    assert first.metadata.namespace == "default"
    assert first.metadata.uid and first.metadata.uid != second.metadata.uid
    assert first.metadata.creation_timestamp is not None
    assert first.metadata.generation == 1
    assert int(second.metadata.resource_version) > int(first.metadata.resource_version)
    assert first.status.phase == "Pending"
    assert first.metadata.managed_fields[0].operation == "Update"


def test_read_replace_patch_and_delete(core: client.CoreV1Api) -> None:
    created = core.create_namespaced_config_map("default", {"metadata": {"name": "cfg"}, "data": {"a": "1"}})
    read = core.read_namespaced_config_map("cfg", "default")
    assert read.data == {"a": "1"}

    read.data = {"a": "2"}
    replaced = core.replace_namespaced_config_map("cfg", "default", read)
    assert replaced.data == {"a": "2"}
    assert int(replaced.metadata.resource_version) > int(created.metadata.resource_version)
    assert replaced.metadata.generation == 2

    patched = core.patch_namespaced_config_map(
        "cfg", "default", {"data": {"b": "3"}, "metadata": {"labels": {"x": "y"}}}
    )
    assert patched.data == {"a": "2", "b": "3"}
    assert patched.metadata.labels == {"x": "y"}

    core.delete_namespaced_config_map("cfg", "default")
    with pytest.raises(ApiException) as gone:
        core.read_namespaced_config_map("cfg", "default")
    assert gone.value.status == 404
    assert status_body(gone.value)["message"] == 'configmaps "cfg" not found'


def test_replace_with_a_stale_resource_version_conflicts(core: client.CoreV1Api) -> None:
    stale = core.create_namespaced_config_map("default", {"metadata": {"name": "cfg"}, "data": {"a": "1"}})
    core.patch_namespaced_config_map("cfg", "default", {"data": {"a": "2"}})
    with pytest.raises(ApiException) as conflict:
        core.replace_namespaced_config_map("cfg", "default", stale)
    assert conflict.value.status == 409
    assert "the object has been modified" in status_body(conflict.value)["message"]


def test_create_errors_look_like_a_real_server(core: client.CoreV1Api) -> None:
    core.create_namespaced_pod("default", pod("web"))
    with pytest.raises(ApiException) as exists:
        core.create_namespaced_pod("default", pod("web"))
    assert (exists.value.status, status_body(exists.value)["reason"]) == (409, "AlreadyExists")

    with pytest.raises(ApiException) as no_namespace:
        core.create_namespaced_pod("nope", pod("web"))
    assert no_namespace.value.status == 404
    assert status_body(no_namespace.value)["message"] == 'namespaces "nope" not found'

    with pytest.raises(ApiException) as invalid:
        core.create_namespaced_pod("default", pod("web2", containers=[{"name": "app"}]))
    body = status_body(invalid.value)
    assert (invalid.value.status, body["reason"]) == (422, "Invalid")
    assert body["message"] == 'Pod "web2" is invalid: spec.containers[0].image: Required value'
    assert body["details"]["causes"] == [
        {"reason": "FieldValueRequired", "message": "Required value", "field": "spec.containers[0].image"}
    ]


def test_namespaces_list_create_get_and_delete_with_contents(core: client.CoreV1Api) -> None:
    assert [n.metadata.name for n in core.list_namespace().items] == ["default", "team-a"]
    core.create_namespace({"metadata": {"name": "shop"}})
    assert core.read_namespace("shop").status.phase == "Active"
    core.create_namespaced_pod("shop", pod("web"))
    core.delete_namespace("shop")
    assert [p.metadata.name for p in core.list_pod_for_all_namespaces().items] == []


def test_deployments_and_their_immutable_selector(apps: client.AppsV1Api) -> None:
    apps.create_namespaced_deployment("default", deployment(replicas=1))
    patched = apps.patch_namespaced_deployment("web", "default", {"spec": {"replicas": 3}})
    assert patched.spec.replicas == 3
    assert patched.metadata.generation == 2
    assert [d.metadata.name for d in apps.list_namespaced_deployment("default").items] == ["web"]

    changed_selector = {
        "spec": {
            "selector": {"matchLabels": {"app": "web", "tier": "x"}},
            "template": {"metadata": {"labels": {"app": "web", "tier": "x"}}},
        }
    }
    with pytest.raises(ApiException) as immutable:
        apps.patch_namespaced_deployment("web", "default", changed_selector)
    body = status_body(immutable.value)
    assert immutable.value.status == 422
    assert body["message"].startswith('Deployment.apps "web" is invalid: spec.selector: Invalid value')
    assert body["message"].endswith("field is immutable")


def test_pod_updates_are_limited_like_a_real_server(core: client.CoreV1Api) -> None:
    core.create_namespaced_pod("default", pod("web", image="nginx:1.26"))
    updated = core.patch_namespaced_pod(
        "web", "default", {"spec": {"containers": [{"name": "app", "image": "nginx:1.27"}]}}
    )
    assert updated.spec.containers[0].image == "nginx:1.27"

    new_port = {
        "spec": {"containers": [{"name": "app", "image": "nginx:1.27", "ports": [{"containerPort": 80}]}]}
    }
    with pytest.raises(ApiException) as forbidden:
        core.patch_namespaced_pod("web", "default", new_port)
    body = status_body(forbidden.value)
    assert (forbidden.value.status, body["reason"]) == (422, "Invalid")
    assert body["message"].startswith(
        'Pod "web" is invalid: spec: Forbidden: pod updates may not change fields other than '
        "`spec.containers[*].image`"
    )
    assert body["details"]["causes"][0]["field"] == "spec"


def test_an_old_server_rejects_native_sidecars(core: client.CoreV1Api, apiserver: ApiServer) -> None:
    apiserver.version = "v1.28.9"
    sidecar = pod("web", initContainers=[{"name": "log", "image": "busybox", "restartPolicy": "Always"}])
    with pytest.raises(ApiException) as rejected:
        core.create_namespaced_pod("default", sidecar)
    cause = status_body(rejected.value)["details"]["causes"][0]
    assert cause["field"] == "spec.initContainers[0].restartPolicy"
    apiserver.version = "v1.29.0"
    assert core.create_namespaced_pod("default", sidecar).spec.init_containers[0].restart_policy == "Always"


# ---------------------------------------------------------------------------
# Selectors
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("app=web", ["web-1", "web-2"]),
        ("app==web,tier=front", ["web-1"]),
        ("app!=web", ["db", "plain"]),
        ("app in (web, db)", ["db", "web-1", "web-2"]),
        ("app notin (web),tier", ["db"]),
        ("tier", ["db", "web-1"]),
        ("!tier", ["plain", "web-2"]),
        ("app in (web),tier in (front,back)", ["web-1"]),
    ],
)
def test_label_selectors(core: client.CoreV1Api, selector: str, expected: list[str]) -> None:
    for name, labels in [
        ("web-1", {"app": "web", "tier": "front"}),
        ("web-2", {"app": "web"}),
        ("db", {"app": "db", "tier": "back"}),
        ("plain", {"other": "x"}),
    ]:
        core.create_namespaced_pod("default", pod(name, labels=labels))
    found = core.list_namespaced_pod("default", label_selector=selector).items
    assert sorted(p.metadata.name for p in found) == expected


def test_field_selector_and_bad_selectors(core: client.CoreV1Api) -> None:
    core.create_namespaced_pod("default", pod("web"))
    core.create_namespaced_pod("default", pod("db"))
    assert [
        p.metadata.name for p in core.list_namespaced_pod("default", field_selector="metadata.name=db").items
    ] == ["db"]
    with pytest.raises(ApiException) as bad:
        core.list_namespaced_pod("default", label_selector="app in web")
    assert bad.value.status == 400


# ---------------------------------------------------------------------------
# Server-side apply
# ---------------------------------------------------------------------------


def test_apply_creates_then_merges_and_records_the_manager(
    core: client.CoreV1Api, apiserver: ApiServer
) -> None:
    created = apply(core, pod("web"), "pod-studio")
    assert created.status_code == 201
    entry = created.data.metadata.managed_fields[0]
    assert (entry.manager, entry.operation) == ("pod-studio", "Apply")
    assert entry.fields_v1["f:spec"]["f:containers"]['k:{"name":"app"}']["f:image"] == {}

    again = apply(core, pod("web"), "pod-studio")
    assert again.status_code == 200
    assert again.data.metadata.resource_version == created.data.metadata.resource_version

    changed = apply(core, pod("web", image="nginx:1.28"), "pod-studio")
    assert changed.data.spec.containers[0].image == "nginx:1.28"
    assert int(changed.data.metadata.resource_version) > int(created.data.metadata.resource_version)
    request = apiserver.requests_matching("PATCH", "/pods/web$")[-1]
    assert (request.content_type, request.param("fieldManager")) == (APPLY, "pod-studio")


def apply_deployment(apps: client.AppsV1Api, body: dict[str, Any], manager: str, force: bool = False):
    return apps.patch_namespaced_deployment(
        body["metadata"]["name"], "default", body, field_manager=manager, force=force, _content_type=APPLY
    )


def test_apply_removes_fields_the_manager_no_longer_sets(apps: client.AppsV1Api) -> None:
    with_helper = deployment()
    with_helper["metadata"]["labels"] = {"tier": "front"}
    with_helper["spec"]["template"]["spec"]["containers"].append({"name": "helper", "image": "busybox"})
    apply_deployment(apps, with_helper, "pod-studio")
    apps.patch_namespaced_deployment(
        "web", "default", {"metadata": {"labels": {"owner": "ops"}}}, field_manager="kubectl-label"
    )
    result = apply_deployment(apps, deployment(), "pod-studio")
    assert result.metadata.labels == {"owner": "ops"}  # ops' label stays, ours went
    assert [c.name for c in result.spec.template.spec.containers] == ["app"]


def test_apply_follows_the_applied_order_of_init_containers(apps: client.AppsV1Api) -> None:
    first, second = {"name": "first", "image": "busybox"}, {"name": "second", "image": "busybox"}
    body = deployment()
    body["spec"]["template"]["spec"]["initContainers"] = [first, second]
    apply_deployment(apps, body, "pod-studio")
    body["spec"]["template"]["spec"]["initContainers"] = [second, first]
    reordered = apply_deployment(apps, body, "pod-studio")
    assert [c.name for c in reordered.spec.template.spec.init_containers] == ["second", "first"]


def test_apply_conflicts_with_another_manager_unless_forced(apps: client.AppsV1Api) -> None:
    apply_deployment(apps, deployment(replicas=2), "kubectl")
    apply_deployment(apps, deployment(replicas=2), "pod-studio")  # same value: shared, no conflict
    with pytest.raises(ApiException) as conflict:
        apply_deployment(apps, deployment(replicas=3), "pod-studio")
    body = status_body(conflict.value)
    assert (conflict.value.status, body["reason"]) == (409, "Conflict")
    assert body["details"]["causes"] == [
        {
            "reason": "FieldManagerConflict",
            "message": 'conflict with "kubectl" using apps/v1',
            "field": ".spec.replicas",
        }
    ]
    assert (
        body["message"]
        == 'Apply failed with 1 conflict: - conflict with "kubectl" using apps/v1: .spec.replicas'
    )

    forced = apply_deployment(apps, deployment(replicas=3), "pod-studio", force=True)
    assert forced.spec.replicas == 3
    kubectl_fields = next(m.fields_v1 for m in forced.metadata.managed_fields if m.manager == "kubectl")
    assert "f:replicas" not in kubectl_fields["f:spec"]


def test_apply_dry_run_answers_without_storing(core: client.CoreV1Api, apiserver: ApiServer) -> None:
    dry = apply(core, pod("web"), "pod-studio", dry_run="All")
    assert dry.status_code == 201 and dry.data.metadata.name == "web"
    assert apiserver.get("pods", "default", "web") is None

    apply(core, pod("web"), "pod-studio")
    version = apiserver.resource_version
    dry_update = apply(core, pod("web", image="nginx:2"), "pod-studio", dry_run="All")
    assert dry_update.data.spec.containers[0].image == "nginx:2"
    assert apiserver.get("pods", "default", "web")["spec"]["containers"][0]["image"] == "nginx:1.27"
    assert apiserver.resource_version == version


def test_apply_requires_a_field_manager(core: client.CoreV1Api) -> None:
    with pytest.raises(ApiException) as missing:
        core.patch_namespaced_pod("web", "default", pod("web"), _content_type=APPLY)
    assert missing.value.status == 422


# ---------------------------------------------------------------------------
# Status, watches
# ---------------------------------------------------------------------------


def test_status_changes_only_through_the_status_subresource(core: client.CoreV1Api) -> None:
    core.create_namespaced_pod("default", pod("web"))
    running = core.patch_namespaced_pod_status("web", "default", {"status": {"phase": "Running"}})
    assert running.status.phase == "Running"
    ignored = core.patch_namespaced_pod("web", "default", {"status": {"phase": "Failed"}})
    assert ignored.status.phase == "Running"
    body = core.read_namespaced_pod("web", "default")
    body.status.phase = "Succeeded"
    body.spec.containers[0].image = "ignored:1"
    stored = core.replace_namespaced_pod_status("web", "default", body)
    assert (stored.status.phase, stored.spec.containers[0].image) == ("Succeeded", "nginx:1.27")


def test_watch_delivers_a_status_change(core: client.CoreV1Api, apiserver: ApiServer) -> None:
    core.create_namespaced_pod("default", pod("web"))
    core.create_namespaced_pod("default", pod("other"))
    events: queue.Queue[tuple[str, str, str]] = queue.Queue()

    def watch_pods() -> None:
        for event in watch.Watch().stream(
            core.list_namespaced_pod, "default", label_selector="app=web", timeout_seconds=5
        ):
            events.put((event["type"], event["object"].metadata.name, event["object"].status.phase))
            if event["object"].status.phase == "Running":
                return

    watcher = threading.Thread(target=watch_pods)
    watcher.start()
    assert events.get(timeout=5) == ("ADDED", "web", "Pending")
    apiserver.set_pod_status("default", "other", {"phase": "Running"})  # filtered out by the selector
    core.patch_namespaced_pod_status("web", "default", {"status": {"phase": "Running"}})
    assert events.get(timeout=5) == ("MODIFIED", "web", "Running")
    watcher.join(timeout=5)
    assert events.empty()


def test_watch_from_a_resource_version_replays_then_expires(
    core: client.CoreV1Api, apiserver: ApiServer
) -> None:
    since = core.list_namespaced_pod("default").metadata.resource_version
    core.create_namespaced_pod("default", pod("web"))
    core.delete_namespaced_pod("web", "default")
    replay = watch.Watch().stream(
        core.list_namespaced_pod, "default", resource_version=since, timeout_seconds=1
    )
    assert [(e["type"], e["object"].metadata.name) for e in replay] == [("ADDED", "web"), ("DELETED", "web")]

    apiserver.compact()
    with pytest.raises(ApiException) as expired:
        list(
            watch.Watch().stream(
                core.list_namespaced_pod, "default", resource_version=since, timeout_seconds=1
            )
        )
    assert expired.value.status == 410
    assert "Expired: too old resource version" in expired.value.reason


def test_watch_history_is_bounded(tmp_path: Path) -> None:
    with ApiServer(history_limit=5, tls=tls_available()) as server:
        kubeconfig = write_standin_kubeconfig(tmp_path / "kubeconfig", server)
        core = client.CoreV1Api(
            config.new_client_from_config(config_file=str(kubeconfig), context=STANDIN_CONTEXT)
        )
        since = core.list_namespaced_config_map("default").metadata.resource_version
        for index in range(10):
            core.create_namespaced_config_map("default", {"metadata": {"name": f"cm-{index}"}})
        with pytest.raises(ApiException) as expired:
            list(
                watch.Watch().stream(
                    core.list_namespaced_config_map, "default", resource_version=since, timeout_seconds=1
                )
            )
        assert expired.value.status == 410


# ---------------------------------------------------------------------------
# Logs
# ---------------------------------------------------------------------------


def two_container_pod(core: client.CoreV1Api) -> None:
    core.create_namespaced_pod(
        "default",
        pod(
            "web",
            containers=[{"name": "app", "image": "nginx"}, {"name": "tail", "image": "busybox"}],
            initContainers=[{"name": "setup", "image": "busybox"}],
        ),
    )


def test_logs_per_container_tail_timestamps_and_previous(
    core: client.CoreV1Api, apiserver: ApiServer
) -> None:
    two_container_pod(core)
    apiserver.add_log("default", "web", "app", "one", "two", "three")
    apiserver.add_log("default", "web", "setup", "prepared")
    apiserver.add_log("default", "web", "app", "crashed", previous=True)

    assert core.read_namespaced_pod_log("web", "default", container="app") == "one\ntwo\nthree\n"
    assert core.read_namespaced_pod_log("web", "default", container="app", tail_lines=2) == "two\nthree\n"
    assert core.read_namespaced_pod_log("web", "default", container="setup") == "prepared\n"
    assert core.read_namespaced_pod_log("web", "default", container="app", previous=True) == "crashed\n"
    assert core.read_namespaced_pod_log("web", "default", container="tail") == ""
    stamped = core.read_namespaced_pod_log("web", "default", container="app", timestamps=True).splitlines()
    assert stamped[0].endswith("Z one") and stamped[0][:4].isdigit()


def test_log_errors_look_like_a_real_server(core: client.CoreV1Api) -> None:
    two_container_pod(core)
    cases = [
        (
            {},
            "a container name must be specified for pod web, choose one of: [app tail] "
            "or one of the init containers: [setup]",
        ),
        ({"container": "nope"}, "container nope is not valid for pod web"),
        (
            {"container": "tail", "previous": True},
            'previous terminated container "tail" in pod "web" not found',
        ),
    ]
    for options, message in cases:
        with pytest.raises(ApiException) as error:
            core.read_namespaced_pod_log("web", "default", **options)
        assert (error.value.status, status_body(error.value)["message"]) == (400, message)


def test_follow_streams_lines_appended_later(core: client.CoreV1Api, apiserver: ApiServer) -> None:
    two_container_pod(core)
    apiserver.add_log("default", "web", "tail", "before")
    response = core.read_namespaced_pod_log(
        "web", "default", container="tail", follow=True, _preload_content=False
    )
    assert response.headers["Content-Type"] == "text/plain"
    assert response.headers["Transfer-Encoding"] == "chunked"
    lines = iter_stream_lines(response)
    assert next(lines) == "before"
    apiserver.add_log("default", "web", "tail", "after")
    assert next(lines) == "after"
    apiserver.add_log("default", "web", "tail", "last")
    apiserver.end_log("default", "web", "tail")
    assert list(lines) == ["last"]


def test_stop_ends_open_streams(tmp_path: Path) -> None:
    server = ApiServer(tls=tls_available()).start()
    kubeconfig = write_standin_kubeconfig(tmp_path / "kubeconfig", server)
    core = client.CoreV1Api(
        config.new_client_from_config(config_file=str(kubeconfig), context=STANDIN_CONTEXT)
    )
    core.create_namespaced_pod("default", pod("web"))
    response = core.read_namespaced_pod_log("web", "default", follow=True, _preload_content=False)

    def read_all() -> None:
        with contextlib.suppress(Exception):  # an end chunk or a hang-up: both are fine here
            list(iter_stream_lines(response))

    reader = threading.Thread(target=read_all)
    reader.start()
    server.stop()
    reader.join(timeout=5)
    assert not reader.is_alive()


# ---------------------------------------------------------------------------
# Auth, faults, request log
# ---------------------------------------------------------------------------


def test_bearer_token_is_required_and_recorded(
    core: client.CoreV1Api, apiserver: ApiServer, tmp_path: Path
) -> None:
    core.list_namespaced_pod("default")
    assert apiserver.requests[-1].headers["Authorization"] == f"Bearer {apiserver.token}"

    wrong = KubeconfigContext(STANDIN_CONTEXT, apiserver.url, "not-the-token", ca_data=apiserver.ca_data)
    stale = write_kubeconfig(tmp_path / "stale", [wrong])
    stale_core = client.CoreV1Api(
        config.new_client_from_config(config_file=str(stale), context=STANDIN_CONTEXT)
    )
    with pytest.raises(ApiException) as denied:
        stale_core.list_namespaced_pod("default")
    assert (denied.value.status, status_body(denied.value)["reason"]) == (401, "Unauthorized")


def test_rbac_like_denials_name_the_user(kubeconfig_path: Path, apiserver: ApiServer) -> None:
    apiserver.deny(TEAM_USER, "list", "namespaces")
    team = client.CoreV1Api(
        config.new_client_from_config(config_file=str(kubeconfig_path), context=TEAM_CONTEXT)
    )
    with pytest.raises(ApiException) as forbidden:
        team.list_namespace()
    assert status_body(forbidden.value)["message"] == (
        'namespaces is forbidden: User "team-a-user" cannot list resource "namespaces" in API group "" '
        "at the cluster scope"
    )
    assert [p.metadata.name for p in team.list_namespaced_pod("team-a").items] == []


def test_injected_403_has_a_realistic_message_and_is_used_up(
    core: client.CoreV1Api, apiserver: ApiServer
) -> None:
    fault = apiserver.inject("POST", r"/pods$", status=403)
    with pytest.raises(ApiException) as forbidden:
        core.create_namespaced_pod("default", pod("web"))
    assert status_body(forbidden.value)["message"] == (
        'pods is forbidden: User "tester" cannot create resource "pods" in API group "" '
        'in the namespace "default"'
    )
    assert core.create_namespaced_pod("default", pod("web")).metadata.name == "web"
    assert fault.hits == 1


@pytest.mark.parametrize(
    ("status", "reason", "message"),
    [
        (401, "Unauthorized", "Unauthorized"),
        (404, "NotFound", 'pods "web" not found'),
        (
            409,
            "Conflict",
            'Operation cannot be fulfilled on pods "web": the object has been modified; please apply '
            "your changes to the latest version and try again",
        ),
        (500, "InternalError", "Internal error occurred: injected fault (500)"),
    ],
)
def test_injected_status_codes(
    core: client.CoreV1Api, apiserver: ApiServer, status: int, reason: str, message: str
) -> None:
    apiserver.inject("PATCH", r"/pods/web$", status=status)
    with pytest.raises(ApiException) as error:
        core.patch_namespaced_pod("web", "default", {"metadata": {"labels": {"a": "b"}}})
    body = status_body(error.value)
    assert (error.value.status, body["code"], body["reason"], body["message"]) == (
        status,
        status,
        reason,
        message,
    )


def test_injected_422_with_causes_and_429_with_retry_after(
    core: client.CoreV1Api, apiserver: ApiServer
) -> None:
    causes = [
        {
            "reason": "FieldValueInvalid",
            "message": 'Invalid value: "x": bad',
            "field": "spec.containers[0].image",
        }
    ]
    apiserver.inject(None, r"/pods$", status=422, causes=causes)
    with pytest.raises(ApiException) as invalid:
        core.create_namespaced_pod("default", pod("web"))
    assert status_body(invalid.value)["details"]["causes"] == causes

    apiserver.inject("POST", r"/pods$", status=429)  # POST: the client retries a GET after Retry-After
    with pytest.raises(ApiException) as limited:
        core.create_namespaced_pod("default", pod("web"))
    assert (limited.value.status, limited.value.headers["Retry-After"]) == (429, "1")


def test_injected_stall_and_dropped_connection(core: client.CoreV1Api, apiserver: ApiServer) -> None:
    apiserver.inject("POST", r"/configmaps$", stall=1.0)
    with pytest.raises((urllib3.exceptions.ReadTimeoutError, urllib3.exceptions.MaxRetryError)):
        core.create_namespaced_config_map("default", {"metadata": {"name": "slow"}}, _request_timeout=0.2)

    apiserver.inject("POST", r"/configmaps$", drop=True)
    with pytest.raises((urllib3.exceptions.ProtocolError, urllib3.exceptions.MaxRetryError)):
        core.create_namespaced_config_map("default", {"metadata": {"name": "dropped"}})

    apiserver.inject("GET", r"/configmaps/kept$", stall=0.3)  # a stall without a status is served afterwards
    core.create_namespaced_config_map("default", {"metadata": {"name": "kept"}})
    started = time.monotonic()
    assert core.read_namespaced_config_map("kept", "default").metadata.name == "kept"
    assert time.monotonic() - started >= 0.3


def test_request_log_is_bounded_and_keeps_bodies(tmp_path: Path) -> None:
    with ApiServer(request_log_limit=3, tls=tls_available()) as server:
        kubeconfig = write_standin_kubeconfig(tmp_path / "kubeconfig", server)
        core = client.CoreV1Api(
            config.new_client_from_config(config_file=str(kubeconfig), context=STANDIN_CONTEXT)
        )
        for index in range(5):
            core.create_namespaced_config_map("default", {"metadata": {"name": f"cm-{index}"}})
        assert [r.json()["metadata"]["name"] for r in server.requests] == ["cm-2", "cm-3", "cm-4"]


def test_a_thousand_creates(core: client.CoreV1Api, apiserver: ApiServer) -> None:
    # Throughput is measured by benchmarks, not asserted here; this proves nothing degrades with volume
    # (history and request log stay bounded, lists stay complete).
    for index in range(1000):
        core.create_namespaced_config_map("default", {"metadata": {"name": f"cm-{index:04d}"}})
    assert len(core.list_namespaced_config_map("default").items) == 1000
    assert len(apiserver.requests) <= 1000


# ---------------------------------------------------------------------------
# kubectl cross-checks
# ---------------------------------------------------------------------------

KUBECTL = shutil.which("kubectl")


@pytest.fixture
def kubectl(kubeconfig_path: Path, tmp_path: Path, apiserver: ApiServer):
    if KUBECTL is None:
        pytest.skip("kubectl is not installed")
    if not apiserver.tls:
        pytest.skip("kubectl sends bearer tokens only over TLS, and openssl is missing to make a certificate")

    def run(*args: str, stdin: str | None = None, timeout: float = 30) -> str:
        command = [
            KUBECTL,
            "--kubeconfig",
            str(kubeconfig_path),
            "--cache-dir",
            str(tmp_path / "kube-cache"),
            *args,
        ]
        done = subprocess.run(
            command,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
            env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    return run


def test_kubectl_get_apply_logs_and_delete(kubectl, apiserver: ApiServer, tmp_path: Path) -> None:
    assert kubectl("get", "pods") == ""  # "No resources found" goes to stderr
    manifest = tmp_path / "pod.yaml"
    manifest.write_text(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n"
        "  - name: app\n    image: nginx\n  - name: tail\n    image: busybox\n"
    )
    assert "pod/web serverside-applied" in kubectl(
        "apply", "--server-side", "--validate=false", "-f", str(manifest)
    )
    stored = apiserver.get("pods", "default", "web")
    assert [(m["manager"], m["operation"]) for m in stored["metadata"]["managedFields"]] == [
        ("kubectl", "Apply")
    ]

    assert kubectl("get", "pods", "-o", "name").split() == ["pod/web"]
    apiserver.add_log("default", "web", "tail", "hello from tail")
    assert kubectl("logs", "web", "-c", "tail") == "hello from tail\n"

    apiserver.end_log("default", "web", "tail")
    assert kubectl("logs", "-f", "web", "-c", "tail") == "hello from tail\n"

    assert 'pod "web" deleted' in kubectl("delete", "pod", "web")
    assert apiserver.get("pods", "default", "web") is None
