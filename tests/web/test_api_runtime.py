"""GET /api/v1/deployments/<id>/status, …/logs and …/logs/stream against the real local control
plane (Pods moved by the real scheduler and kwok, logs served by kwok: tests/support/realruntime.py);
faults through the fault-injecting proxy in front of it, which also ends a followed log as a kubelet
does when the container stops (kwok follows a log for as long as the client reads)."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from tests.support.realruntime import (
    CRASH_LOOP,
    Cluster,
    append_log,
    cluster_fixture,  # noqa: F401 (the fixture ``cluster``)
    container,
    deployment,
    pod,
    write_log,
)
from tests.support.runtime import SseReader, record_for, record_in

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("quick_streams")]


@pytest.fixture
def web(cluster: Cluster):
    """Pod "web": init container wait-db done, native sidecar log-shipper running, app crash-looping."""
    manifest = cluster.create_pod(pod(
        "web",
        labels={CRASH_LOOP: "true"},
        annotations={f"{CRASH_LOOP}-container": "app", f"{CRASH_LOOP}-delay": "300ms"},
        init=(container("wait-db"), container("log-shipper", restartPolicy="Always")),
    ))
    cluster.pod_when(manifest, lambda p: p.container("app").restarts >= 2
                     and any(e.reason == "BackOff" for e in p.events))
    return record_in(cluster, manifest)


def get(client, record, path, **query):
    return client.get(f"/api/v1/deployments/{record.pk}/{path}", query)


def body_of(response) -> str:
    return b"".join(response.streaming_content).decode()


# ---------------------------------------------------------------------------
# Status
# ---------------------------------------------------------------------------


def test_status_json_has_init_containers_in_order_and_the_blocker(client, web, cluster: Cluster):
    response = get(client, web, "status")
    assert response.status_code == 200
    body = response.json()
    assert (body["deployment"], body["context"], body["namespace"]) == (web.pk, cluster.context, cluster.namespace)
    assert body["workload"] == {"kind": "Pod", "name": "web", "selector": "", "state": None}
    (web_pod,) = body["pods"]
    assert (web_pod["phase"], web_pod["status"], web_pod["node"]) == ("Running", "CrashLoopBackOff", "localhost")
    assert web_pod["init_progress"] == {"done": 2, "total": 2, "text": "Init 2/2"}
    assert [(c["name"], c["kind"], c["state"], c["exit_code"]) for c in web_pod["init_containers"]] == [
        ("wait-db", "init", "terminated", 0),
        ("log-shipper", "native-sidecar", "running", None),
    ]
    (app,) = web_pod["containers"]
    assert app["summary"] == "waiting: CrashLoopBackOff" and app["failing"]
    assert app["last_termination"]["exit_code"] == 1 and app["restarts"] >= 2
    reasons = {e["reason"] for e in web_pod["events"]}
    assert {"Scheduled", "BackOff"} <= reasons  # the scheduler's and kwok's, as a kubelet's
    (blocker,) = body["blocked"]
    assert (blocker["pod"], blocker["container"], blocker["exit_code"]) == ("web", "app", 1)
    assert blocker["reason"] == "CrashLoopBackOff"


def test_status_of_a_deployment_lists_its_pods(client, cluster: Cluster):
    manifest = cluster.create_deployment(deployment("shop", replicas=2))
    cluster.create_pod(pod("unrelated", labels={"app": "other"}))
    cluster.snapshot_when(manifest, lambda s: len(s.pods) == 2)
    body = get(client, record_in(cluster, manifest), "status").json()
    assert body["workload"]["selector"] == "app=shop"
    made = cluster.core.list_namespaced_pod(cluster.namespace, label_selector="app=shop").items
    assert sorted(p["name"] for p in body["pods"]) == sorted(p.metadata.name for p in made)
    assert all(p["owner"].startswith("ReplicaSet shop-") for p in body["pods"])


def assert_json_error(response, status: int, words: str, secret: str = "") -> None:
    assert response.status_code == status, response.content
    assert words in response.json()["error"]
    if secret:
        assert secret not in response.content.decode()


def test_status_of_an_unreachable_cluster_is_a_502_in_words(client, fault_proxy, monkeypatch):
    monkeypatch.setenv("KUBECONFIG", str(fault_proxy.kubeconfig))
    record = record_for(pod("web"), context="faulty", namespace="default")
    fault_proxy.stop()
    assert_json_error(get(client, record, "status"), 502, "could not be reached", fault_proxy.token)


def test_status_the_user_may_not_see_is_a_403_in_words(client, cluster: Cluster):
    """team-a-user may list Pods in namespace team-a only (real RBAC)."""
    record = record_for(pod("web"), context=cluster.cp.limited_context, namespace=cluster.namespace)
    assert_json_error(get(client, record, "status"), 403, "may not list pods")


def test_status_when_the_cluster_times_out_is_a_504_in_words(client, cluster: Cluster, fault_proxy, monkeypatch):
    monkeypatch.setenv("KUBECONFIG", str(fault_proxy.kubeconfig))
    record = record_for(pod("web"), context="faulty", namespace=cluster.namespace)
    fault_proxy.inject("GET", r"/pods$", status=504)
    assert_json_error(get(client, record, "status"), 504, "timed out", fault_proxy.token)


def test_unknown_deploys_dry_runs_and_wrong_methods(client):
    assert client.get("/api/v1/deployments/999/status").json() == {"error": "no deployment with id 999"}
    dry = record_for(pod("web"), action="dry-run")
    response = get(client, dry, "status")
    assert response.status_code == 409 and "dry run" in response.json()["error"]
    assert client.post(f"/api/v1/deployments/{dry.pk}/status").status_code == 405


# ---------------------------------------------------------------------------
# Logs (text)
# ---------------------------------------------------------------------------


def test_logs_of_an_init_container_as_text(client, web, cluster: Cluster):
    cluster.set_logs("web", {"wait-db": ["waiting for db", "db is up"]})
    response = get(client, web, "logs", pod="web", container="wait-db")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert body_of(response) == "waiting for db\ndb is up\n"


def test_logs_of_the_previous_instance_with_tail_and_timestamps(client, web, cluster: Cluster):
    cluster.set_logs("web", {"app": ["run 3"]}, previous={"app": ["run 2 a", "run 2 b"]})
    text = body_of(get(client, web, "logs", container="app", previous="1", tail="1", timestamps="1"))
    stamp, line = text.rstrip("\n").split(" ", 1)
    assert line == "run 2 b"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", stamp), stamp  # RFC 3339, as the kubelet writes


def test_download_of_the_full_log(client, web, cluster: Cluster):
    cluster.set_logs("web", {"app": [f"line {n}" for n in range(2000)]})
    response = get(client, web, "logs", container="app", download="1")
    assert response["Content-Disposition"] == 'attachment; filename="web-app.log"'
    lines = body_of(response).splitlines()
    assert len(lines) == 2000 and (lines[0], lines[-1]) == ("line 0", "line 1999")


def test_merged_logs_use_kubectls_prefix(client, web, cluster: Cluster):
    files = cluster.set_logs("web", {"wait-db": ["w"], "log-shipper": ["s"], "app": ["a"]})
    base = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    for n, (name, text) in enumerate((("wait-db", "w"), ("log-shipper", "s"), ("app", "a"))):
        write_log(files[name], [(base + dt.timedelta(milliseconds=10 * n), text)])
    text = body_of(get(client, web, "logs", container="*"))
    assert text == "[pod/web/wait-db] w\n[pod/web/log-shipper] s\n[pod/web/app] a\n"


def test_log_text_is_returned_as_is_for_the_api(client, web, cluster: Cluster):
    cluster.set_logs("web", {"wait-db": ["<script>x</script>"]})
    body = b"".join(get(client, web, "logs", container="wait-db").streaming_content)
    assert body == b"<script>x</script>\n"  # text/plain: nothing to escape, nothing a browser runs


@pytest.mark.parametrize(
    ("query", "status", "words"),
    [
        ({}, 400, "choose a container of Pod 'web': wait-db (init), log-shipper (native sidecar), app"),
        ({"container": "nope"}, 404, "Pod 'web' has no container 'nope'"),
        ({"container": "app", "pod": "elsewhere"}, 404, "Pod 'elsewhere' is not one of the Pods of deployment"),
        # kwok answers as a kubelet for a container that has not restarted; the API server relays it
        ({"container": "wait-db", "previous": "1"}, 404, "has no previous instance"),
        ({"container": "app", "tail": "many"}, 400, "tail must be a number"),
    ],
)
def test_log_request_errors(client, web, query, status, words):
    assert_json_error(get(client, web, "logs", **query), status, words)


def test_logs_of_a_container_that_has_not_started(client, cluster: Cluster):
    """The API server answers 204 for the log of a Pod that is on no node yet (a scheduling gate)."""
    manifest = cluster.create_pod(pod("web", schedulingGates=[{"name": "pod-studio.test/hold"}]))
    cluster.pod_when(manifest, lambda p: any(c.reason == "SchedulingGated" for c in p.conditions))
    response = get(client, record_in(cluster, manifest), "logs", container="app")
    assert response.status_code == 409
    assert response.json()["error"] == (
        "Container 'app' has not started yet (Pod 'web' is not on a node yet): it has no logs so far.")


# ---------------------------------------------------------------------------
# Logs (SSE)
# ---------------------------------------------------------------------------


def test_log_stream_sends_text_lines_as_they_come(client, web, cluster: Cluster):
    files = cluster.set_logs("web", {"app": ["hello", "<b>raw</b>"]})
    reader = SseReader(get(client, web, "logs/stream", container="app", tail="10"))
    try:
        first = reader.next("lines")
        assert first.data == "hello\n<b>raw</b>"
        assert first.id == ""  # like kubectl, no timestamps unless asked; without them, no position to resume
        append_log(files["app"], "more")
        assert reader.next("lines").data == "more"
    finally:
        reader.close()


def test_log_stream_ends_with_end_when_the_server_ends_it(client, cluster: Cluster, fault_proxy, monkeypatch):
    """kwok follows a log for as long as the client reads; a kubelet ends it when the container stops:
    the proxy ends it the same way (the last chunk)."""
    manifest = cluster.create_pod(pod("web"))
    cluster.pod_when(manifest, lambda p: p.phase == "Running")
    cluster.set_logs("web", {"app": ["last words"]})
    monkeypatch.setenv("KUBECONFIG", str(fault_proxy.kubeconfig))
    record = record_for(manifest, context="faulty", namespace=cluster.namespace)
    reader = SseReader(get(client, record, "logs/stream", container="app"))
    try:
        assert reader.next("lines").data == "last words"
        assert fault_proxy.end_streams(r"/pods/web/log\?.*follow=true") == 1
        assert reader.rest()[-1].event == "end"
    finally:
        reader.close()


def test_log_stream_with_timestamps_carries_ids_to_resume_from(client, web, cluster: Cluster):
    files = cluster.set_logs("web", {"app": ["one", "two"]})
    reader = SseReader(get(client, web, "logs/stream", container="app", timestamps="1"))
    try:
        first = reader.next("lines")
    finally:
        reader.close()
    stamp, text = first.data.split("\n")[-1].split(" ", 1)
    assert text == "two" and first.id == f"app={stamp}"
    append_log(files["app"], "three")
    response = client.get(f"/api/v1/deployments/{web.pk}/logs/stream", {"container": "app", "timestamps": "1"},
                          HTTP_LAST_EVENT_ID=first.id)
    again = SseReader(response)
    try:
        resumed = again.next("lines").data
    finally:
        again.close()
    assert [line.split(" ", 1)[1] for line in resumed.split("\n")] == ["three"]  # nothing said twice


def test_log_stream_limits_and_previous(client, web, settings):
    assert get(client, web, "logs/stream", container="app", previous="1").status_code == 400
    settings.PODSTUDIO_MAX_STREAMS = 0
    response = get(client, web, "logs/stream", container="app")
    assert response.status_code == 429
    assert response["Retry-After"] == "10"
    assert "its limit" in response.json()["error"]


@pytest.mark.django_db(transaction=True)
def test_a_log_stream_holds_no_database_connection_while_it_waits(client, web, cluster: Cluster):
    """A stream waits for hours: it gives its database connection back before the first event (here the
    test client runs the view and the stream in one thread, as a WSGI server does; under ASGI the
    middleware does it, see tests/web/test_several_processes.py)."""
    from django.db import connection

    if connection.vendor == "sqlite":
        pytest.skip("Django never closes SQLite's in-memory test database; the PostgreSQL run checks this")
    cluster.set_logs("web", {"app": ["one"]})
    reader = SseReader(get(client, web, "logs/stream", container="app"))
    try:
        assert connection.connection is not None  # the view read the deploy record
        assert reader.next("lines").data == "one"
        assert connection.connection is None
    finally:
        reader.close()
