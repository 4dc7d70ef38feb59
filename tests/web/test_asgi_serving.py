"""Production serving: the app under uvicorn (ASGI) streams status and logs live, chunk by chunk.

Django's ASGI handler would read a synchronous stream to its end before sending anything;
composer.http.middleware.streaming makes endless streams work there. This starts a real uvicorn process
with its own SQLite database, deploys through the API to the real local control plane (kwok
brings the Pod to Running, and serves its log file) and reads the Server-Sent Events over HTTP.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.controlplane import cri_log_lines

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def uvicorn_server(tmp_path, real_target):
    env = {**os.environ, "PODSTUDIO_SQLITE_PATH": str(tmp_path / "asgi.sqlite3"),
           "KUBECONFIG": str(real_target.kubeconfig), "PODSTUDIO_SSE_HEARTBEAT": "0.5", "PODSTUDIO_LOG_FORMAT": "plain"}
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "podstudio.asgi:application", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            time.sleep(0.1)
    else:
        process.kill()
        pytest.fail(f"uvicorn did not start: {process.stdout.read().decode()[-2000:]}")
    yield port
    process.terminate()
    process.wait(timeout=10)


def request(port: int, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    headers = {"Content-Type": "application/json"} if body is not None else {}
    connection.request(method, path, json.dumps(body) if body is not None else None, headers)
    response = connection.getresponse()
    return response.status, json.loads(response.read() or b"{}")


def read_until(response: http.client.HTTPResponse, needle: bytes, seconds: float) -> bytes:
    """Reads the stream as it arrives until `needle` shows up (a chunk at a time, never to the end)."""
    seen = b""
    deadline = time.monotonic() + seconds
    while needle not in seen:
        assert time.monotonic() < deadline, f"{needle!r} did not arrive; got {seen[-500:]!r}"
        seen += response.read1(65536)
    return seen


def test_status_and_log_streams_flow_live_under_uvicorn(uvicorn_server, control_plane, real_target):
    port = uvicorn_server
    status, created = request(port, "POST", "/api/v1/compositions", {
        "workload": {"name": "web", "labels": {"app": "web"}}, "app": {"name": "app", "image": "nginx:1.27"},
    })
    assert status == 201
    status, deployed = request(port, "POST", f"/api/v1/compositions/{created['id']}/deploy",
                               {"context": real_target.context, "namespace": real_target.namespace})
    assert status == 201, deployed

    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    connection.request("GET", f"/deployments/{deployed['id']}/runtime/status/stream")
    stream = connection.getresponse()
    assert stream.status == 200 and stream.getheader("Content-Type").startswith("text/event-stream")
    read_until(stream, b"event: status", 15)
    read_until(stream, b"Running", 30)  # kwok's steps, arriving on the open stream
    connection.close()

    files = control_plane.set_pod_logs(real_target.namespace, "web", {"app": ["first line from under uvicorn"]})
    logs = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    logs.request("GET", f"/api/v1/deployments/{deployed['id']}/logs/stream?container=app")
    follow = logs.getresponse()
    assert follow.status == 200
    read_until(follow, b"first line from under uvicorn", 15)
    with files["app"].open("a") as log:
        log.write(cri_log_lines(["a line written while the stream is open"]))
    read_until(follow, b"a line written while the stream is open", 15)
    logs.close()
