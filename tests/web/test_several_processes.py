"""Team mode served by two uvicorn processes on one PostgreSQL database (the throwaway cluster of
tests/support/postgres.py), as a Deployment with two replicas serves it: whichever process answers,
people see the same edits, deploy records, audit trail, API tokens and login lockouts. Stream limits
are per process (docs/operations.md, "Several server processes"), and that is checked as documented.

It needs PostgreSQL's server programs, in the SQLite run as in the PostgreSQL run: the processes get
a database of their own on the session's cluster, so it does not matter which one the tests use.
"""

from __future__ import annotations

import contextlib
import csv
import http.client
import io
import json
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from tests.support.controlplane_fixtures import RealTarget
from tests.support.postgres import PostgresCluster
from tests.support.processes import ROOT, environment, free_port

PER_PERSON_STREAMS = 2
FAILURES_BEFORE_LOCKOUT = 3


@dataclass
class Team:
    ports: tuple[int, int]
    token: str
    database: str
    cluster: PostgresCluster
    target: RealTarget  # where the processes deploy: the session's real control plane

    def call(self, which: int, method: str, path: str, body: dict | None = None, token: str | None = None,
             headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], dict]:
        connection = http.client.HTTPConnection("127.0.0.1", self.ports[which], timeout=20)
        try:
            sent = {"Authorization": f"Bearer {token or self.token}", **(headers or {})}
            if body is not None:
                sent["Content-Type"] = "application/json"
            connection.request(method, path, json.dumps(body) if body is not None else None, sent)
            response = connection.getresponse()
            raw = response.read()
            content_type = response.getheader("Content-Type", "")
            parsed = json.loads(raw) if raw and content_type.startswith("application/json") else {"text": raw.decode()}
            return response.status, {k.lower(): v for k, v in response.getheaders()}, parsed
        finally:
            connection.close()

    def open_stream(self, which: int, path: str) -> tuple[http.client.HTTPConnection, http.client.HTTPResponse]:
        connection = http.client.HTTPConnection("127.0.0.1", self.ports[which], timeout=20)
        connection.request("GET", path, headers={"Authorization": f"Bearer {self.token}"})
        return connection, connection.getresponse()

    def connections_to_the_database(self) -> int:
        with psycopg.connect(f"postgresql://podstudio@127.0.0.1:{self.cluster.port}/postgres", autocommit=True) as db:
            query = "SELECT count(*) FROM pg_stat_activity WHERE datname = %s"
            return db.execute(query, (self.database,)).fetchone()[0]


def _manage(env: dict[str, str], *args: str) -> str:
    result = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def _wait_for(port: int, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 30
    while True:
        with contextlib.suppress(OSError):
            socket_ = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            socket_.request("GET", "/healthz", headers={"Host": "localhost"})
            if socket_.getresponse().status == 200:
                return
        assert process.poll() is None, log.read_text()[-3000:]
        assert time.monotonic() < deadline, "uvicorn did not start:\n" + log.read_text()[-3000:]
        time.sleep(0.2)


@pytest.fixture
def team(postgres_cluster: PostgresCluster, tmp_path: Path, real_target: RealTarget) -> Iterator[Team]:
    database = f"several_{secrets.token_hex(4)}"
    with psycopg.connect(f"postgresql://podstudio@127.0.0.1:{postgres_cluster.port}/postgres", autocommit=True) as db:
        db.execute(f"CREATE DATABASE {database}")
    env = environment(
        DATABASE_URL=f"postgres://podstudio@127.0.0.1:{postgres_cluster.port}/{database}",
        PODSTUDIO_AUTH="required", PODSTUDIO_SECRET_KEY=secrets.token_urlsafe(50),
        KUBECONFIG=str(real_target.kubeconfig),
        PODSTUDIO_MAX_STREAMS_PER_USER=str(PER_PERSON_STREAMS), PODSTUDIO_SSE_HEARTBEAT="0.5",
        PODSTUDIO_LOGIN_FAILURE_LIMIT=str(FAILURES_BEFORE_LOCKOUT), PODSTUDIO_LOG_FORMAT="plain",
        DJANGO_SUPERUSER_PASSWORD="several-42",
    )
    _manage(env, "migrate", "--noinput", "-v0")
    _manage(env, "createsuperuser", "--noinput", "--username", "root", "--email", "root@example.com")
    token = _manage(env, "createapitoken", "root", "several-processes").strip()
    processes, ports = [], []
    try:
        for index in range(2):
            port, log = free_port(), tmp_path / f"uvicorn-{index}.log"
            process = subprocess.Popen(
                [sys.executable, "-m", "uvicorn", "podstudio.asgi:application", "--host", "127.0.0.1", "--port",
                 str(port)], cwd=ROOT, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)
            processes.append(process)
            ports.append(port)
            _wait_for(port, process, log)
        yield Team((ports[0], ports[1]), token, database, postgres_cluster, real_target)
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=10)


def read_until(response: http.client.HTTPResponse, needle: bytes, seconds: float = 15) -> bytes:
    seen, deadline = b"", time.monotonic() + seconds
    while needle not in seen:
        assert time.monotonic() < deadline, f"{needle!r} did not arrive; got {seen[-500:]!r}"
        seen += response.read1(65536)
    return seen


def test_two_processes_on_one_database_agree(team: Team, control_plane) -> None:
    # API tokens: created by manage.py, valid on both processes (they are rows, not process memory).
    status, _, created = team.call(0, "POST", "/api/v1/compositions", {
        "workload": {"name": "web", "labels": {"app": "web"}}, "app": {"name": "app", "image": "nginx:1.27"}})
    assert status == 201
    pk = created["id"]

    # Edits: what one process saved, the other shows; an edit on the old revision is refused by either.
    status, headers, shown = team.call(1, "GET", f"/api/v1/compositions/{pk}")
    assert status == 200 and shown["revision"] == 1 and headers["etag"] == '"1"'
    renamed = {**shown["composition"], "app": {**shown["composition"]["app"], "name": "renamed"}}
    status, headers, _ = team.call(1, "PUT", f"/api/v1/compositions/{pk}", renamed, headers={"If-Match": '"1"'})
    assert status == 200 and headers["etag"] == '"2"'
    status, _, refused = team.call(0, "PUT", f"/api/v1/compositions/{pk}", shown["composition"],
                                   headers={"If-Match": '"1"'})
    assert status == 409 and "the newest is revision 2" in refused["error"]
    assert team.call(0, "GET", f"/api/v1/compositions/{pk}")[2]["composition"]["app"]["name"] == "renamed"

    # Deploy records and the audit trail: a deploy through one, listed and exported by the other.
    status, _, deployed = team.call(0, "POST", f"/api/v1/compositions/{pk}/deploy",
                                    {"context": team.target.context, "namespace": team.target.namespace})
    assert status == 201, deployed
    status, _, listed = team.call(1, "GET", "/api/v1/deployments")
    assert status == 200 and [(d["id"], d["user"]) for d in listed["deployments"]] == [(deployed["id"], "root")]
    status, _, export = team.call(1, "GET", "/deployments/export.csv")
    rows = list(csv.DictReader(io.StringIO(export["text"])))
    assert status == 200 and [(row["user"], row["action"]) for row in rows] == [("root", "deploy")]

    # Streams: no database connection held while they wait; the per-person limit is per process.
    stream_path = f"/api/v1/deployments/{deployed['id']}/logs/stream?container=renamed"
    control_plane.set_pod_logs(team.target.namespace, "web", {"renamed": ["hello"]})
    streams = [team.open_stream(0, stream_path) for _ in range(PER_PERSON_STREAMS)]
    try:
        for _connection, response in streams:
            assert response.status == 200
            read_until(response, b"hello")
        idle_deadline = time.monotonic() + 10
        while team.connections_to_the_database() and time.monotonic() < idle_deadline:
            time.sleep(0.2)  # the last request's connection closes as its response ends
        assert team.connections_to_the_database() == 0
        beyond, beyond_response = team.open_stream(0, stream_path)
        assert beyond_response.status == 429 and b"the limit for one person" in beyond_response.read()
        beyond.close()
        other, other_response = team.open_stream(1, stream_path)  # another process counts its own
        assert other_response.status == 200
        other.close()
    finally:
        for connection, _response in streams:
            connection.close()

    # Login throttling: failures counted in the database, whichever process saw them. The failure that
    # reaches the limit is already answered with the lockout, here by the process that saw only one before.
    for attempt in range(FAILURES_BEFORE_LOCKOUT - 1):
        assert team.call(attempt % 2, "GET", "/api/v1/compositions", token=f"ps_wrong{attempt}")[0] == 401
    assert team.call(0, "GET", "/api/v1/compositions", token="ps_wrong-last")[0] == 429
    for which in (0, 1):  # the address is locked out on both, even with a good token
        status, _, locked = team.call(which, "GET", "/api/v1/compositions")
        assert status == 429 and "try again" in locked["error"].lower(), locked
