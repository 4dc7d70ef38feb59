"""GET /api/v1/deployments/<id>/status, …/logs and …/logs/stream against the stand-in API server."""

from __future__ import annotations

import pytest

from tests.support.runtime import (
    SseReader,
    container_status,
    deployment_manifest,
    event,
    pod_manifest,
    pod_of,
    record_for,
    running,
    terminated,
    waiting,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("quick_streams")]


@pytest.fixture
def web(server):
    manifest = pod_manifest("web", init=("wait-db", "migrate"), sidecars=("log-shipper",))
    server.put_object(manifest)
    server.set_pod_status("default", "web", {
        "phase": "Pending",
        "initContainerStatuses": [
            container_status("wait-db", terminated(0, "Completed")),
            container_status("migrate", terminated(1, "Error"), restarts=2, last=terminated(1, "Error")),
            container_status("log-shipper", waiting("PodInitializing"), started=False),
        ],
        "containerStatuses": [container_status("app", waiting("PodInitializing"))],
    })
    server.put_object(event("web", "BackOff", "Back-off restarting failed container", type_="Warning",
                            field_path="spec.initContainers{migrate}"))
    return record_for(manifest)


def get(client, record, path, **query):
    return client.get(f"/api/v1/deployments/{record.pk}/{path}", query)


# ---------------------------------------------------------------------------
# Status
# ---------------------------------------------------------------------------


def test_status_json_has_init_containers_in_order_and_the_blocker(client, web, server):
    response = get(client, web, "status")
    assert response.status_code == 200
    body = response.json()
    assert (body["deployment"], body["context"], body["namespace"]) == (web.pk, "stand-in", "default")
    assert body["workload"] == {"kind": "Pod", "name": "web", "selector": ""}
    (pod,) = body["pods"]
    assert pod["status"] == "Init:Error"
    assert pod["init_progress"] == {"done": 1, "total": 3, "text": "Init 1/3"}
    assert [(c["name"], c["kind"], c["state"], c["exit_code"]) for c in pod["init_containers"]] == [
        ("wait-db", "init", "terminated", 0),
        ("migrate", "init", "terminated", 1),
        ("log-shipper", "native-sidecar", "waiting", None),
    ]
    assert pod["init_containers"][1]["last_termination"]["exit_code"] == 1
    assert pod["init_containers"][1]["restarts"] == 2
    assert pod["containers"][0]["summary"] == "waiting: PodInitializing"
    assert pod["events"][0]["reason"] == "BackOff" and pod["events"][0]["container"] == "migrate"
    (blocker,) = body["blocked"]
    assert (blocker["pod"], blocker["container"], blocker["exit_code"]) == ("web", "migrate", 1)
    assert server.token not in response.content.decode()


def test_status_of_a_deployment_lists_its_pods(client, server):
    manifest = deployment_manifest("shop", init=(), sidecars=())
    server.put_object(pod_of(manifest, "aaaaa"))
    server.put_object(pod_of(manifest, "bbbbb"))
    body = get(client, record_for(manifest), "status").json()
    assert body["workload"]["selector"] == "app=shop"
    assert sorted(p["name"] for p in body["pods"]) == ["shop-7d9f-aaaaa", "shop-7d9f-bbbbb"]


@pytest.mark.parametrize(
    ("setup", "status", "words"),
    [
        (lambda s: s.stop(), 502, "could not be reached"),
        (lambda s: s.deny("tester", "list", "pods"), 403, "may not list pods"),
        (lambda s: s.inject("GET", r"/pods$", stall=0, status=504), 504, "timed out"),
    ],
)
def test_status_errors_are_json_with_a_clear_message(client, web, server, setup, status, words):
    setup(server)
    response = get(client, web, "status")
    assert response.status_code == status
    assert words in response.json()["error"]
    assert server.token not in response.content.decode()


def test_unknown_deploys_dry_runs_and_wrong_methods(client, server):
    assert client.get("/api/v1/deployments/999/status").json() == {"error": "no deployment with id 999"}
    dry = record_for(pod_manifest("web"), action="dry-run")
    response = get(client, dry, "status")
    assert response.status_code == 409 and "dry run" in response.json()["error"]
    assert client.post(f"/api/v1/deployments/{dry.pk}/status").status_code == 405


# ---------------------------------------------------------------------------
# Logs (text)
# ---------------------------------------------------------------------------


def test_logs_of_an_init_container_as_text(client, web, server):
    server.add_log("default", "web", "wait-db", "waiting for db", "db is up")
    response = get(client, web, "logs", pod="web", container="wait-db")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert b"".join(response.streaming_content) == b"waiting for db\ndb is up\n"


def test_logs_of_the_previous_instance_with_tail_and_timestamps(client, web, server):
    server.add_log("default", "web", "migrate", "run 3")
    server.add_log("default", "web", "migrate", "run 2 a", "run 2 b", previous=True)
    text = b"".join(get(client, web, "logs", container="migrate", previous="1", tail="1",
                        timestamps="1").streaming_content).decode()
    stamp, line = text.rstrip("\n").split(" ", 1)
    assert line == "run 2 b" and stamp.endswith("Z")


def test_download_of_the_full_log(client, web, server):
    server.add_log("default", "web", "migrate", *[f"line {n}" for n in range(2000)])
    response = get(client, web, "logs", container="migrate", download="1")
    assert response["Content-Disposition"] == 'attachment; filename="web-migrate.log"'
    assert b"".join(response.streaming_content).count(b"\n") == 2000


def test_merged_logs_use_kubectls_prefix(client, web, server):
    server.add_log("default", "web", "wait-db", "w")
    server.add_log("default", "web", "migrate", "m")
    text = b"".join(get(client, web, "logs", container="*").streaming_content).decode()
    assert "[pod/web/wait-db] w\n[pod/web/migrate] m\n" in text
    assert "# Container 'app' has no" not in text  # no log at all is not an error in the merged view


def test_log_text_is_returned_as_is_for_the_api(client, web, server):
    server.add_log("default", "web", "wait-db", "<script>x</script>")
    body = b"".join(get(client, web, "logs", container="wait-db").streaming_content)
    assert body == b"<script>x</script>\n"  # text/plain: nothing to escape, nothing a browser runs


@pytest.mark.parametrize(
    ("query", "status", "words"),
    [
        ({}, 400, "choose a container of Pod 'web': wait-db (init), migrate (init), log-shipper (native sidecar), app"),
        ({"container": "nope"}, 404, "Pod 'web' has no container 'nope'"),
        ({"container": "app", "pod": "elsewhere"}, 404, "Pod 'elsewhere' is not one of the Pods of deployment"),
        ({"container": "wait-db", "previous": "1"}, 404, "has no previous instance"),
        ({"container": "app", "tail": "many"}, 400, "tail must be a number"),
    ],
)
def test_log_request_errors(client, web, query, status, words):
    response = get(client, web, "logs", **query)
    assert response.status_code == status, response.content
    assert words in response.json()["error"]


def test_logs_of_a_container_that_has_not_started(client, web, server):
    server.inject("GET", r"/pods/web/log$", status=400,
                  message='container "app" in pod "web" is waiting to start: PodInitializing')
    response = get(client, web, "logs", container="app")
    assert response.status_code == 409
    assert response.json()["error"] == "Container 'app' has not started yet (PodInitializing): it has no logs so far."


# ---------------------------------------------------------------------------
# Logs (SSE)
# ---------------------------------------------------------------------------


def test_log_stream_sends_text_lines_then_end(client, web, server):
    server.set_pod_status("default", "web", {"phase": "Running",
                                             "containerStatuses": [container_status("app", running())]})
    server.add_log("default", "web", "app", "hello", "<b>raw</b>")
    reader = SseReader(get(client, web, "logs/stream", container="app", tail="10"))
    try:
        first = reader.next("lines")
        assert first.data == "hello\n<b>raw</b>"
        assert first.id == ""  # like kubectl, no timestamps unless asked; without them, no position to resume
        server.add_log("default", "web", "app", "more")
        assert reader.next("lines").data == "more"
        server.end_log("default", "web", "app")
        assert reader.rest()[-1].event == "end"
    finally:
        reader.close()


def test_log_stream_with_timestamps_carries_ids_to_resume_from(client, web, server):
    server.add_log("default", "web", "app", "one", "two")
    reader = SseReader(get(client, web, "logs/stream", container="app", timestamps="1"))
    try:
        first = reader.next("lines")
    finally:
        reader.close()
    stamp, text = first.data.split("\n")[-1].split(" ", 1)
    assert text == "two" and first.id == f"app={stamp}"
    server.add_log("default", "web", "app", "three")
    response = client.get(f"/api/v1/deployments/{web.pk}/logs/stream", {"container": "app", "timestamps": "1"},
                          HTTP_LAST_EVENT_ID=first.id)
    again = SseReader(response)
    try:
        assert again.next("lines").data.endswith(" three")
    finally:
        again.close()


def test_log_stream_limits_and_previous(client, web, settings):
    assert get(client, web, "logs/stream", container="migrate", previous="1").status_code == 400
    settings.PODSTUDIO_MAX_STREAMS = 0
    response = get(client, web, "logs/stream", container="app")
    assert response.status_code == 429
    assert response["Retry-After"] == "10"
    assert "its limit" in response.json()["error"]


@pytest.mark.django_db(transaction=True)
def test_a_log_stream_holds_no_database_connection_while_it_waits(client, web, server):
    """A stream waits for hours: it gives its database connection back before the first event (here the
    test client runs the view and the stream in one thread, as a WSGI server does; under ASGI the
    middleware does it, see tests/web/test_several_processes.py)."""
    from django.db import connection

    if connection.vendor == "sqlite":
        pytest.skip("Django never closes SQLite's in-memory test database; the PostgreSQL run checks this")
    server.add_log("default", "web", "app", "one")
    reader = SseReader(get(client, web, "logs/stream", container="app"))
    try:
        assert connection.connection is not None  # the view read the deploy record
        assert reader.next("lines").data == "one"
        assert connection.connection is None
    finally:
        reader.close()
