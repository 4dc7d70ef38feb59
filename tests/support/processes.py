"""Pod Studio in a subprocess with an environment of the test's choosing.

Settings are read once, from the environment, when Django starts: what a setting does at start
(refusing to start, choosing a default) can only be seen in a fresh process. The environment is
the test runner's without any PODSTUDIO_* or DATABASE_URL variable, plus the test's own.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def environment(**variables: str) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items()
           if not name.startswith("PODSTUDIO_") and name not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE")}
    return {**env, "DJANGO_SETTINGS_MODULE": "podstudio.settings", "PYTHONDONTWRITEBYTECODE": "1", **variables}


def run_python(code: str, timeout: float = 60, **variables: str) -> subprocess.CompletedProcess:
    """`python -c code` after django.setup(), in the repository, with `variables` in the environment."""
    return subprocess.run([sys.executable, "-c", f"import django\ndjango.setup()\n{code}"], cwd=ROOT,
                          env=environment(**variables), capture_output=True, text=True, timeout=timeout)


def run_manage(*args: str, timeout: float = 60, **variables: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=environment(**variables),
                          capture_output=True, text=True, timeout=timeout)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def runserver(log: Path, **variables: str) -> Iterator[int]:
    """`manage.py runserver` (what `make run` starts) on a free loopback port; yields the port."""
    port = free_port()
    with log.open("wb") as output:
        server = subprocess.Popen([sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
                                  cwd=ROOT, env=environment(**variables), stdout=output, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    assert server.poll() is None, log.read_text()
                    assert time.monotonic() < deadline, "runserver did not start:\n" + log.read_text()
                    time.sleep(0.2)
            yield port
        finally:
            server.terminate()
            server.wait(timeout=10)


def get(port: int, path: str, host: str) -> tuple[int, dict[str, str], bytes]:
    """One GET to 127.0.0.1:port with that Host header: status, headers, body."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path, headers={"Host": host})
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read(100_000)
    finally:
        connection.close()
