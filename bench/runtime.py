"""Benchmarks of the runtime view on the stand-in API server (issue #5): ``run() -> str`` returns
the docs/performance.md section. The same streams on the real control plane, beside kubectl:
bench/runtime_real.py.

Everything runs against the stand-in API server (tests/support/apiserver.py, HTTPS) with
Pod Studio served by Django's threaded WSGI server in a child process (the way ``make run``
serves it, minus autoreload), so that its memory is measured alone:

1. log relay throughput: one container's log (pre-filled, then ended) read through our SSE
   endpoints (the API's text stream and the page's HTML stream) by a plain socket reader,
   against ``kubectl logs -f`` reading the same log in the same run;
2. server RSS with 20 concurrent follow streams while lines keep arriving;
3. in Chromium: the runtime page following a container until 100,000 lines have streamed
   (JS heap after a forced GC, DOM size, main-thread stalls), and how long a status change
   in the cluster takes to show in the page.

Run alone with ``python -m bench.runtime`` (prints the section).
"""

from __future__ import annotations

import contextlib
import functools
import http.client
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COMMAND = "make bench"
LOG_LINE = "2026-01-01T10:00:00Z INFO request handled path=/api/orders/12345 status=200 duration_ms=12.5 user=alice"
RELAY_LINES = 300_000
RELAY_RUNS = 5
FOLLOW_STREAMS = 20
BROWSER_LINES = 100_000
CHROMIUM = os.environ.get("PODSTUDIO_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


# The child process: Django's threaded WSGI server with static files, on the given port.
SERVER_SCRIPT = """
import logging
import sys

import django
from django.conf import settings

django.setup()
logging.getLogger("django.server").setLevel(logging.WARNING)  # no access log
from django.contrib.staticfiles.handlers import StaticFilesHandler
from django.core.servers.basehttp import get_internal_wsgi_application, run

run("127.0.0.1", int(sys.argv[1]), StaticFilesHandler(get_internal_wsgi_application()), threading=True,
    on_bind=lambda port: print("ready", flush=True))
"""


# ---------------------------------------------------------------------------
# Environment
# ---------------------------------------------------------------------------


@dataclass
class Environment:
    server: object  # tests.support.apiserver.ApiServer
    kubeconfig: Path
    port: int
    process: subprocess.Popen

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_ready(process: subprocess.Popen, errors: Path) -> None:
    line = process.stdout.readline()  # "ready", or nothing when it died
    if line.strip() != b"ready":
        process.wait(5)
        raise RuntimeError(f"the Pod Studio server did not start: {errors.read_text()[-2000:]}")


@contextlib.contextmanager
def environment() -> Iterator[Environment]:
    from tests.support.apiserver import ApiServer
    from tests.support.kubeconfig import write_standin_kubeconfig

    workdir = Path(tempfile.mkdtemp(prefix="podstudio-bench-"))
    server = ApiServer(tls=True, history_limit=100_000).start()
    kubeconfig = write_standin_kubeconfig(workdir / "kubeconfig", server)
    os.environ["KUBECONFIG"] = str(kubeconfig)
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}  # settings as `make run` has them
    errors = (workdir / "server-stderr.txt").open("wb")
    process = subprocess.Popen([sys.executable, "-c", SERVER_SCRIPT, str(port)], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=errors)
    try:
        _wait_ready(process, workdir / "server-stderr.txt")
        yield Environment(server, kubeconfig, port, process)
    finally:
        process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(10)
        errors.close()
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def _pod(name: str, *, containers: tuple[str, ...] = ("app",), init: tuple[str, ...] = ()) -> dict:
    spec = {"containers": [{"name": c, "image": "registry.example/app:1"} for c in containers]}
    if init:
        spec["initContainers"] = [{"name": c, "image": "registry.example/init:1"} for c in init]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "default",
                                                            "labels": {"app": name}}, "spec": spec}


def _running_status(containers: tuple[str, ...] = ("app",), init: tuple[str, ...] = ()) -> dict:
    def status(name: str, state: dict, ready: bool) -> dict:
        return {"name": name, "state": state, "ready": ready, "restartCount": 0, "image": "i", "imageID": ""}

    return {
        "phase": "Running",
        "conditions": [{"type": "Ready", "status": "True"}],
        "initContainerStatuses": [status(n, {"terminated": {"exitCode": 0, "reason": "Completed"}}, False)
                                  for n in init],
        "containerStatuses": [status(n, {"running": {"startedAt": "2026-01-01T10:00:00Z"}}, True)
                              for n in containers],
    }


def _deploy(env: Environment, name: str, **pod) -> int:
    """A Pod on the stand-in and its DeployRecord; returns the record's id."""
    from composer.domain.yamlio import dump_documents
    from composer.models import DeployRecord

    manifest = _pod(name, **pod)
    env.server.put_object(manifest)
    env.server.set_pod_status("default", name, _running_status(**pod))
    record = DeployRecord.objects.create(
        composition_name=name, revision=1, action="deploy", context="stand-in", namespace="default",
        user="bench", manifest_yaml=dump_documents([manifest]), outcome="succeeded")
    return record.pk


# ---------------------------------------------------------------------------
# 1. Relay throughput
# ---------------------------------------------------------------------------


def _read_stream(env: Environment, path: str, marker: bytes) -> int:
    """GET ``path`` and read to the end; returns how often ``marker`` occurred."""
    connection = http.client.HTTPConnection("127.0.0.1", env.port, timeout=120)
    connection.request("GET", path)
    response = connection.getresponse()
    assert response.status == 200, (response.status, response.read()[:300])
    count, tail = 0, b""
    while chunk := response.read1(1 << 16):
        data = tail + chunk
        count += data.count(marker)
        tail = data[-(len(marker) - 1):]
        count -= tail.count(marker)  # counted again with the next chunk
    count += tail.count(marker)
    connection.close()
    return count


def _kubectl_follow(env: Environment, pod: str, *flags: str) -> int:
    result = subprocess.run(["kubectl", "--kubeconfig", str(env.kubeconfig), "logs", "-f", pod, "-c", "app", *flags],
                            capture_output=True, check=True)
    return result.stdout.count(b"\n")


def _timed_burst(env: Environment, pod: str, read) -> tuple[int, float]:
    """Start ``read`` (it follows ``pod``'s empty log), then write RELAY_LINES lines at once and end the
    log; returns (lines read, seconds from the lines being there to the reader's end)."""
    result: list[int] = []
    reader = threading.Thread(target=lambda: result.append(read()), daemon=True)
    reader.start()
    deadline = time.monotonic() + 30
    while not [r for r in env.server.requests_matching("GET", rf"/pods/{pod}/log$") if r.param("follow")]:
        assert time.monotonic() < deadline and reader.is_alive(), f"{pod}: the reader never started following"
        time.sleep(0.005)
    time.sleep(0.05)  # the follower is now waiting for lines
    env.server.add_log("default", pod, "app", *LINES)
    started = time.perf_counter()
    env.server.end_log("default", pod, "app")
    reader.join(300)
    return (result[0] if result else 0), time.perf_counter() - started


LINES = [f"{LOG_LINE} n={n}" for n in range(RELAY_LINES)]


def relay_throughput(env: Environment) -> list[str]:
    # Pairs that send the cluster the same request: the API stream asks for timestamps only when
    # its client does (like kubectl); the page always asks (to show them on demand and to resume).
    readers = {
        "Pod Studio API stream (`…/logs/stream`, text SSE)":
            lambda pk, pod: _read_stream(env, f"/api/v1/deployments/{pk}/logs/stream?container=app", b"\ndata: "),
        "`kubectl logs -f`": lambda pk, pod: _kubectl_follow(env, pod),
        "Pod Studio page stream (`…/runtime/logs/stream`, escaped HTML SSE, timestamps)":
            lambda pk, pod: _read_stream(
                env, f"/deployments/{pk}/runtime/logs/stream?pod={pod}&container=app&follow=1", b'<div class="l">'),
        "`kubectl logs -f --timestamps`": lambda pk, pod: _kubectl_follow(env, pod, "--timestamps"),
    }
    if shutil.which("kubectl") is None:
        readers = {label: read for label, read in readers.items() if "kubectl" not in label}
    rows = []
    for index, (label, read) in enumerate(readers.items()):
        runs = []
        for attempt in range(RELAY_RUNS + 1):  # the first one warms up (imports, pools, page cache)
            pod = f"relay-{index}-{attempt}"
            pk = _deploy(env, pod)
            count, seconds = _timed_burst(env, pod, functools.partial(read, pk, pod))
            assert count >= RELAY_LINES, f"{label}: read {count} of {RELAY_LINES} lines"
            runs.append(seconds)
        seconds = statistics.median(runs[1:])
        rows.append(f"| {label} | {seconds:.2f} | {RELAY_LINES / seconds:,.0f} |")
    if shutil.which("kubectl") is None:
        rows.append("| `kubectl logs -f` | kubectl is not installed: no comparison | |")
    return rows


# ---------------------------------------------------------------------------
# 2. Server memory with 20 follow streams
# ---------------------------------------------------------------------------


def _rss_mb(pid: int) -> float:
    import psutil

    return psutil.Process(pid).memory_info().rss / 2**20


def _hold_stream(env: Environment, path: str, stop: threading.Event, received: list[int], index: int) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", env.port, timeout=30)
    connection.request("GET", path)
    response = connection.getresponse()
    while not stop.is_set():
        chunk = response.read1(1 << 16)
        if not chunk:
            break
        received[index] += chunk.count(b'<div class="l">')
    connection.close()


def follow_memory(env: Environment) -> list[str]:
    pods = [f"follow-{n}" for n in range(FOLLOW_STREAMS)]
    records = [_deploy(env, pod) for pod in pods]
    for pod in pods:
        env.server.add_log("default", pod, "app", *[f"{LOG_LINE} n={n}" for n in range(500)])
    _read_stream(env, f"/api/v1/deployments/{records[0]}/status", b"{")  # warm the server up
    idle = _rss_mb(env.process.pid)
    stop, received = threading.Event(), [0] * FOLLOW_STREAMS
    threads = [
        threading.Thread(target=_hold_stream, daemon=True, args=(
            env, f"/deployments/{pk}/runtime/logs/stream?pod={pod}&container=app&follow=1", stop, received, n))
        for n, (pk, pod) in enumerate(zip(records, pods, strict=True))
    ]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 20
    while min(received) < 500 and time.monotonic() < deadline:  # every stream has its tail: now feed
        time.sleep(0.05)
    peak, started, fed = idle, time.monotonic(), 0
    while time.monotonic() - started < 10:  # every stream gets 100 lines a second for 10 s
        for pod in pods:
            env.server.add_log("default", pod, "app", *[f"{LOG_LINE} n={fed + n}" for n in range(10)])
        fed += 10
        peak = max(peak, _rss_mb(env.process.pid))
        time.sleep(0.1)
    deadline = time.monotonic() + 3  # the last lines are on their way
    while min(received) < 500 + fed and time.monotonic() < deadline:
        time.sleep(0.05)
    threads_alive = sum(thread.is_alive() for thread in threads)
    outcome = "every line reached every reader" if min(received) >= 500 + fed else (
        f"LINES MISSING: {min(received)} of {500 + fed}")
    stop.set()
    for pod in pods:
        env.server.end_log("default", pod, "app")
    for thread in threads:
        thread.join(5)
    return [
        f"| idle, after one request | {idle:.0f} |",
        f"| {FOLLOW_STREAMS} follow streams open ({threads_alive} open at the end), 100 lines/s each for 10 s, "
        f"{outcome} (peak) | {peak:.0f} |",
    ]


# ---------------------------------------------------------------------------
# 3. Chromium
# ---------------------------------------------------------------------------

LAG_PROBE = """
window.__lag = {max: 0, over50: 0};
(function tick(last) {
  setTimeout(function () {
    const now = performance.now(), lag = now - last - 20;
    window.__lag.max = Math.max(window.__lag.max, lag);
    if (lag > 50) window.__lag.over50++;
    tick(now);
  }, 20);
})(performance.now());
"""

PILL_PROBE = """
window.__changes = [];
new MutationObserver(function () {
  const pill = document.querySelector('article[data-pod="status"] .pill');
  if (pill) window.__changes.push([Date.now(), pill.textContent]);
}).observe(document.getElementById('status-body'), {childList: true, subtree: true});
"""


def _feed(env: Environment, pod: str, total: int, batch: int = 500, pause: float = 0.005) -> None:
    for start in range(0, total, batch):
        env.server.add_log("default", pod, "app", *[f"{LOG_LINE} n={n}" for n in range(start, start + batch)])
        time.sleep(pause)


def browser_figures(env: Environment) -> tuple[list[str], list[str]]:
    from playwright.sync_api import sync_playwright

    stream_pk = _deploy(env, "browser")
    status_pk = _deploy(env, "status", init=("migrate",))
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            heap_rows = _streamed_lines(env, page, stream_pk)
            page.close()
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            latency_rows = _status_latency(env, page, status_pk)
        finally:
            browser.close()
    return heap_rows, latency_rows


def _streamed_lines(env: Environment, page, pk: int) -> list[str]:
    page.goto(f"{env.base}/deployments/{pk}/runtime")
    page.get_by_role("log", name="Log of app").wait_for()
    page.wait_for_function("() => document.querySelector('.log-view').hasAttribute('sse-connect')")
    page.evaluate(LAG_PROBE)
    started = time.perf_counter()
    feeder = threading.Thread(target=_feed, args=(env, "browser", BROWSER_LINES), daemon=True)
    feeder.start()
    last = f"n={BROWSER_LINES - 1}"
    page.wait_for_function(
        "last => { const l = document.querySelector('.log-lines').lastElementChild;"
        " return l && l.textContent.endsWith(last); }", arg=last, timeout=300_000, polling=200)
    seconds = time.perf_counter() - started
    feeder.join()
    lag = page.evaluate("() => window.__lag")
    cdp = page.context.new_cdp_session(page)
    cdp.send("HeapProfiler.enable")
    cdp.send("HeapProfiler.collectGarbage")
    heap = cdp.send("Runtime.getHeapUsage")
    cdp.send("Performance.enable")
    metrics = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
    lines_kept = page.evaluate("() => document.querySelectorAll('.log-lines .l').length")
    filter_started = time.perf_counter()
    page.get_by_label("Filter").fill("n=99999")
    page.wait_for_function("() => document.getElementById('log-count').textContent.startsWith('1 of')")
    filter_ms = (time.perf_counter() - filter_started) * 1000
    return [
        f"| lines streamed into the page | {BROWSER_LINES:,} in {seconds:.1f} s "
        f"({BROWSER_LINES / seconds:,.0f} lines/s) |",
        f"| lines kept in the page (the cap) | {lines_kept:,} |",
        f"| JS heap used after GC (goal ≤ 100 MB) | {heap['usedSize'] / 2**20:.1f} MB |",
        f"| DOM nodes | {metrics.get('Nodes', 0):,.0f} |",
        f"| longest main-thread stall while streaming (20 ms timer probe) | {lag['max']:.0f} ms "
        f"({lag['over50']} over 50 ms) |",
        f"| filter 5,000 kept lines (type → count shown, incl. 120 ms debounce) | {filter_ms:.0f} ms |",
    ]


def _status_latency(env: Environment, page, pk: int, changes: int = 10) -> list[str]:
    page.goto(f"{env.base}/deployments/{pk}/runtime")
    page.get_by_role("status").filter(has_text="Live").wait_for()
    page.evaluate(PILL_PROBE)
    latencies = []
    for index in range(changes):
        ready = index % 2 == 1  # it starts Running, so the first change is to Init:Error
        status = _running_status(init=("migrate",))
        status["phase"] = "Running" if ready else "Pending"
        if not ready:
            status["initContainerStatuses"][0]["state"] = {"terminated": {"exitCode": 1, "reason": "Error"}}
        expected = "Running" if ready else "Init:Error"
        page.evaluate("() => { window.__changes = []; }")
        sent_ms = time.time() * 1000
        env.server.set_pod_status("default", "status", status)
        page.wait_for_function("want => window.__changes.some(c => c[1] === want)", arg=expected, timeout=10_000)
        seen_ms = next(at for at, text in page.evaluate("() => window.__changes") if text == expected)
        latencies.append(seen_ms - sent_ms)
        time.sleep(0.3)
    return [f"| status change in the cluster → shown in the page (goal ≤ 1 s), {changes} changes | "
            f"median {statistics.median(latencies):.0f} ms, max {max(latencies):.0f} ms |"]


# ---------------------------------------------------------------------------
# The section
# ---------------------------------------------------------------------------


def run() -> str:
    with environment() as env:
        relay_rows = relay_throughput(env)
        memory_rows = follow_memory(env)
        heap_rows, latency_rows = browser_figures(env)
    newline = "\n"
    return f"""## Runtime view on the stand-in API server: logs and status (issue #5)

Produced by `{COMMAND}` (this section: `bench/runtime.py`, alone: `python -m bench.runtime`). Path:
the stand-in API server (tests/support/apiserver.py: HTTPS, in the bench process, no kubelet
behind it) → Pod Studio (Django's threaded WSGI server in a child process, settings as for
`make run`) → a reader. It shows what our relay and the page can do when the cluster is never the
bottleneck; what users get from a real API server is in "The runtime view on the real control
plane" below.

### Log relay throughput (stand-in)

Each reader follows an empty container log; then {RELAY_LINES:,} lines (~{len(LINES[-1]) + 1} bytes
each) arrive at once and the log ends. Timed from the lines being there to the reader's last
line (so kubectl's start-up and our request set-up are not counted). Median of {RELAY_RUNS} runs
after a warm-up. Goal: at least as fast as `kubectl logs -f`. Compare within a pair: each pair
sends the cluster the same request. The API stream, like kubectl, asks for timestamps only when
its client does; the page always asks (it shows them on demand and resumes after them), and
the stand-in spends about 4 µs per line formatting them, which both of that pair pay.

| reader | seconds | lines/s |
|---|---|---|
{newline.join(relay_rows)}

### Server memory with {FOLLOW_STREAMS} follow streams (stand-in)

RSS of the Pod Studio server process (psutil). Goal: ≤ 200 MB in total.

| situation | RSS MB |
|---|---|
{newline.join(memory_rows)}

### The runtime page in Chromium (stand-in)

A followed container receives {BROWSER_LINES:,} lines in batches of 500 as fast as the stand-in
takes them; the page keeps the last 5,000 (`PODSTUDIO_LOG_MAX_LINES`). Heap from the DevTools
protocol after a forced garbage collection. Goal: ≤ 100 MB, page stays responsive.

| measure | value |
|---|---|
{newline.join(heap_rows)}
{newline.join(latency_rows)}
"""


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    from bench.__main__ import _setup_django

    _setup_django()
    print(run())
