"""The runtime view on the real thing (issue #10, item 6): ``run() -> str`` returns the
docs/performance.md section.

Path: kwok, as the node's kubelet (it serves container logs from CRI log files) → kube-apiserver
1.37.2 (HTTPS, the local control plane of tests/support/controlplane.py) → Pod Studio (Django's
threaded WSGI server in a child process, as ``make run`` serves it minus autoreload) → a reader in this
process.
Beside each Pod Studio stream, kubectl 1.37.2 (built beside the control plane, ``ensure_kubectl``)
reads the same API server in the same run:

1. status change → page: a status write on the real server (a container's restartCount, through
   pods/status; no kwok stage reacts to it) until the runtime page's status stream
   (``…/runtime/status/stream``) carries the new count, beside ``kubectl get pod -w``, both open at once;
2. a log line → page: one line appended to the container's log file kwok serves, until the page's log
   stream (``…/runtime/logs/stream``) carries it, beside the API's log stream and ``kubectl logs -f``,
   all three following at once;
3. log relay throughput: each reader follows an empty log, then a burst of lines is appended at once;
   timed until its reader has the last line (lines/s, log bytes/s), with the peak RSS of the Pod Studio
   server and of kube-apiserver while it ran.

Run by ``make bench``, or alone with ``python -m bench.runtime_real``, which rewrites only its
marked section of docs/performance.md.
"""

from __future__ import annotations

import contextlib
import http.client
import inspect
import json
import math
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "performance.md"
MARKER = "runtime-real"
COMMAND = "make bench"
ALONE = ".venv/bin/python -m bench.runtime_real"


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


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_ready(process: subprocess.Popen, errors: Path) -> None:
    line = process.stdout.readline()  # "ready", or nothing when it died
    if line.strip() != b"ready":
        process.wait(5)
        raise RuntimeError(f"the Pod Studio server did not start: {errors.read_text()[-2000:]}")
STATUS_CHANGES = 30
LOG_PROBES = 30
RELAY_LINES = 100_000
RELAY_RUNS = 5  # each after one warm-up run
LOG_TEXT = "INFO request handled path=/api/orders/12345 status=200 duration_ms=12.5 user=alice"
BURST_MARKER = b"request handled"
FOLLOWING = "bench: following"  # the line each reader must have seen before a measurement starts
WAIT = 60.0  # seconds for anything to arrive: beyond it the run is broken, not slow
RSS_EVERY = 0.05

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


# ---------------------------------------------------------------------------
# Readers: one stream each, read in a thread, noting when awaited text arrives
# ---------------------------------------------------------------------------


@dataclass
class _Expectation:
    times: int
    seen: int = 0
    tail: bytes = b""  # the end of the last chunk: a marker may be split between two reads
    reached_at: float | None = None


class StreamFailed(Exception):
    """Raised by a reader's ``read`` when its stream ended badly (kubectl exited with an error)."""


class Reader:
    """Reads a stream in a thread. ``expect(text, times)`` before the text is caused, then
    ``reached(text)``: the ``time.perf_counter()`` of the read that brought its ``times``-th
    occurrence. Only what arrives is counted, never kept.

    ``read`` returns b"" at the end; ``interrupt`` makes a blocked ``read`` return (from another
    thread); ``release`` frees what is left once the reading thread has stopped."""

    def __init__(self, name: str, read: Callable[[], bytes], interrupt: Callable[[], None],
                 release: Callable[[], None], pid: int | None = None) -> None:
        self.name, self._read, self._interrupt, self._release = name, read, interrupt, release
        self.pid = pid  # the process doing the reader's work, when it is one of its own (kubectl)
        self.bytes_read = 0
        self.ended = False
        self.closing = False
        self.failure = ""
        self._expected: dict[bytes, _Expectation] = {}
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._run, name=f"reader-{name}", daemon=True)

    def start(self) -> Reader:
        self._thread.start()
        return self

    def expect(self, text: bytes, times: int = 1) -> None:
        with self._changed:
            self._expected[text] = _Expectation(times)

    def reached(self, text: bytes, timeout: float = WAIT) -> float:
        with self._changed:
            expectation = self._expected[text]
            self._changed.wait_for(lambda: expectation.reached_at is not None or self.ended, timeout)
            del self._expected[text]
        if expectation.reached_at is None:
            why = f"the stream ended{f': {self.failure}' if self.failure else ''}" if self.ended else (
                f"waited {timeout:.0f} s")
            raise AssertionError(f"{self.name}: {text!r} arrived {expectation.seen} of {expectation.times} times "
                                 f"({why})")
        return expectation.reached_at

    def close(self) -> None:
        self.closing = True
        self._interrupt()
        if self._thread.ident is not None:  # started
            self._thread.join(10)
        self._release()

    def _run(self) -> None:
        try:
            while chunk := self._read():
                now = time.perf_counter()
                with self._changed:
                    self.bytes_read += len(chunk)
                    for text, expectation in self._expected.items():
                        if expectation.reached_at is not None:
                            continue
                        data = expectation.tail + chunk
                        expectation.seen += data.count(text)
                        expectation.tail = data[max(0, len(data) - len(text) + 1):]
                        if expectation.seen >= expectation.times:
                            expectation.reached_at = now
                            self._changed.notify_all()
        except StreamFailed as failure:
            if not self.closing:
                self.failure = str(failure)
        except OSError:
            if not self.closing:
                raise
        finally:
            with self._changed:
                self.ended = True
                self._changed.notify_all()


def http_reader(name: str, port: int, path: str) -> Reader:
    """A GET of one of Pod Studio's streams (status 200 checked)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=WAIT)
    connection.request("GET", path)
    sock = connection.sock  # the response takes it over: the connection forgets it
    response = connection.getresponse()
    if response.status != 200:
        raise AssertionError(f"{name}: GET {path} answered {response.status}: {response.read()[:300]!r}")

    def interrupt() -> None:
        with contextlib.suppress(OSError):  # the peer may have closed it already
            sock.shutdown(socket.SHUT_RDWR)

    return Reader(name, lambda: response.read1(1 << 16), interrupt, response.close)


def process_reader(name: str, command: list[str]) -> Reader:
    """A process's stdout (kubectl), read as it comes; closing it terminates the process."""
    errors = tempfile.TemporaryFile()  # noqa: SIM115 - closed with the reader
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=errors)

    def read() -> bytes:
        chunk = os.read(process.stdout.fileno(), 1 << 16)
        if not chunk and process.wait() != 0:
            errors.seek(0)
            raise StreamFailed(f"exit {process.returncode}: {errors.read()[-1000:].decode(errors='replace')}")
        return chunk

    def release() -> None:
        process.stdout.close()
        errors.close()

    return Reader(name, read, lambda: _stop(process), release, pid=process.pid)


# ---------------------------------------------------------------------------
# The environment: the control plane, kubectl, Pod Studio serving it
# ---------------------------------------------------------------------------


@dataclass
class Environment:
    control_plane: object  # tests.support.controlplane.ControlPlane
    core: object  # kubernetes CoreV1Api, admin
    kubectl: Path
    port: int
    server: subprocess.Popen
    namespace: str

    @property
    def context(self) -> str:
        return self.control_plane.admin_context

    def kubectl_command(self, *args: str) -> list[str]:
        return [str(self.kubectl), "--kubeconfig", str(self.control_plane.kubeconfig), "--context", self.context,
                "-n", self.namespace, *args]


def _stop(process: subprocess.Popen) -> None:
    process.terminate()
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(10)


@contextlib.contextmanager
def environment() -> Iterator[Environment]:
    from kubernetes import client

    from tests.support.controlplane import ControlPlane, ensure_kubectl

    kubectl = ensure_kubectl()
    workdir = Path(tempfile.mkdtemp(prefix="podstudio-bench-real-"))
    with contextlib.ExitStack() as cleanup:
        cleanup.callback(shutil.rmtree, workdir, ignore_errors=True)
        control_plane = ControlPlane(workdir / "state").start()
        cleanup.callback(control_plane.stop)
        api = control_plane.api_client()
        cleanup.callback(api.close)
        port = _free_port()
        # A closed stream frees its slot and its follow on the server's next write: within 2 s rather
        # than the default heartbeat's 15 s, so that the runs do not pile streams up.
        env = {**os.environ, "PYTHONPATH": str(ROOT), "KUBECONFIG": str(control_plane.kubeconfig),
               "PODSTUDIO_SSE_HEARTBEAT": "2"}
        errors_path = workdir / "server-stderr.txt"
        errors = cleanup.enter_context(errors_path.open("wb"))
        server = subprocess.Popen([sys.executable, "-c", SERVER_SCRIPT, str(port)], cwd=ROOT, env=env,
                                  stdout=subprocess.PIPE, stderr=errors)
        cleanup.callback(_stop, server)
        _wait_ready(server, errors_path)
        yield Environment(control_plane, client.CoreV1Api(api), kubectl, port, server,
                          control_plane.limited_namespace)  # its default ServiceAccount is there once started


def _pod_manifest(name: str, containers: list[str]) -> dict:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": {"app": name}},
            "spec": {"containers": [{"name": c, "image": "registry.example/app:1"} for c in containers]}}


def running_pods(env: Environment, pods: dict[str, list[str]]) -> dict[str, int]:
    """Creates the Pods (name -> containers), waits until kwok has them Running and ready, and makes a
    DeployRecord of each, as a deploy would; returns name -> record id."""
    from composer.domain.yamlio import dump_documents
    from composer.models import DeployRecord

    manifests = {name: _pod_manifest(name, containers) for name, containers in pods.items()}
    for manifest in manifests.values():
        env.core.create_namespaced_pod(env.namespace, manifest)
    deadline = time.monotonic() + WAIT
    for name in manifests:
        while True:
            status = env.core.read_namespaced_pod(name, env.namespace).status
            containers = status.container_statuses or []
            if status.phase == "Running" and containers and all(c.ready for c in containers):
                break
            assert time.monotonic() < deadline, f"Pod {name} is not Running and ready: {status.phase}"
            time.sleep(0.1)
    return {
        name: DeployRecord.objects.create(
            composition_name=name, revision=1, action="deploy", context=env.context, namespace=env.namespace,
            user="bench", manifest_yaml=dump_documents([manifest]), outcome="succeeded").pk
        for name, manifest in manifests.items()
    }


def page_log_stream(pk: int, pod: str, container: str) -> str:
    return f"/deployments/{pk}/runtime/logs/stream?pod={pod}&container={container}&follow=1"


def api_log_stream(pk: int, container: str) -> str:
    return f"/api/v1/deployments/{pk}/logs/stream?container={container}"


def append_log(path: Path, text: str) -> None:
    with path.open("a") as log:
        log.write(text)


# ---------------------------------------------------------------------------
# Figures
# ---------------------------------------------------------------------------


def p95(samples: list[float]) -> float:
    """Nearest rank."""
    ordered = sorted(samples)
    return ordered[math.ceil(0.95 * len(ordered)) - 1]


def _latency_row(label: str, samples_ms: list[float]) -> str:
    return f"| {label} | {statistics.median(samples_ms):.1f} | {p95(samples_ms):.1f} | {max(samples_ms):.1f} |"


def status_latency(env: Environment, pk: int, pod: str) -> list[str]:
    page_marker = "<dt>Restarts</dt><dd>{}</dd>".format
    kubectl_marker = "restarts={}\n".format
    page = http_reader("page status stream", env.port, f"/deployments/{pk}/runtime/status/stream")
    kubectl = process_reader("kubectl get pod -w", env.kubectl_command(
        "get", "pod", pod, "-w", "-o", 'jsonpath=restarts={.status.containerStatuses[0].restartCount}{"\\n"}'))
    readers = {page: page_marker, kubectl: kubectl_marker}
    samples: dict[Reader, list[float]] = {page: [], kubectl: []}
    try:
        for reader, marker in readers.items():  # the Pod as it is now: each stream is live
            reader.expect(marker(0).encode())
            reader.start()
        for reader, marker in readers.items():
            reader.reached(marker(0).encode())
        for count in range(1, STATUS_CHANGES + 1):
            for reader, marker in readers.items():
                reader.expect(marker(count).encode())
            patch = [{"op": "replace", "path": "/status/containerStatuses/0/restartCount", "value": count}]
            written = time.perf_counter()
            # The raw answer, read after the readers have theirs: parsing it into a model would hold
            # the GIL while the reader threads want it.
            answer = env.core.patch_namespaced_pod_status(
                pod, env.namespace, patch, _content_type="application/json-patch+json", _preload_content=False)
            for reader, marker in readers.items():
                samples[reader].append((reader.reached(marker(count).encode()) - written) * 1000)
            answer.read()
            answer.release_conn()
            time.sleep(0.2)  # quiet again, as between real changes
    finally:
        for reader in readers:
            reader.close()
    return [
        _latency_row("Pod Studio runtime page, status stream (`…/runtime/status/stream`, rendered HTML)",
                     samples[page]),
        _latency_row("`kubectl get pod -w -o jsonpath=…`", samples[kubectl]),
    ]


def log_line_latency(env: Environment, pk: int, pod: str, log_file: Path) -> list[str]:
    from tests.support.controlplane import cri_log_lines

    readers = [
        http_reader("page log stream", env.port, page_log_stream(pk, pod, "app")),
        http_reader("API log stream", env.port, api_log_stream(pk, "app")),
        process_reader("kubectl logs -f", env.kubectl_command("logs", "-f", pod, "-c", "app")),
    ]
    samples: dict[Reader, list[float]] = {reader: [] for reader in readers}
    try:
        for reader in readers:
            reader.expect(FOLLOWING.encode())
            reader.start()
        append_log(log_file, cri_log_lines([FOLLOWING]))
        for reader in readers:
            reader.reached(FOLLOWING.encode())
        for probe in range(LOG_PROBES):
            token = f"probe-{probe:03d}."
            for reader in readers:
                reader.expect(token.encode())
            line = cri_log_lines([f"bench {token}"])
            written = time.perf_counter()
            append_log(log_file, line)
            for reader in readers:
                samples[reader].append((reader.reached(token.encode()) - written) * 1000)
            time.sleep(0.2)
    finally:
        for reader in readers:
            reader.close()
    page, api, kubectl = readers
    return [
        _latency_row("Pod Studio runtime page, log stream (`…/runtime/logs/stream`, escaped HTML, timestamps)",
                     samples[page]),
        _latency_row("Pod Studio API, log stream (`…/logs/stream`, text SSE)", samples[api]),
        _latency_row("`kubectl logs -f`", samples[kubectl]),
    ]


class PeakRss:
    """The highest RSS of some processes while it runs (sampled every RSS_EVERY s), in MB."""

    def __init__(self, pids: dict[str, int]) -> None:
        import psutil

        self._processes = {name: psutil.Process(pid) for name, pid in pids.items()}
        self.peak = dict.fromkeys(pids, 0.0)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while True:
            for name, process in self._processes.items():
                self.peak[name] = max(self.peak[name], process.memory_info().rss / 2**20)
            if self._stop.wait(RSS_EVERY):
                return


def _cpu_seconds(process) -> float:
    times = process.cpu_times()
    return times.user + times.system


def relay_throughput(env: Environment) -> tuple[list[str], dict[str, float]]:
    import psutil

    from tests.support.controlplane import cri_log_lines

    port, containers = env.port, [f"c{run}" for run in range(RELAY_RUNS + 1)]
    # Pairs that ask the API server the same: the API stream asks for timestamps only when its client
    # does (like kubectl); the page always asks (it shows them on demand and resumes after them).
    openers: dict[str, Callable[[int, str, str], Reader]] = {
        "Pod Studio API stream (`…/logs/stream`, text SSE)": lambda pk, pod, c: http_reader(
            "API log stream", port, api_log_stream(pk, c)),
        "`kubectl logs -f`": lambda pk, pod, c: process_reader(
            "kubectl logs -f", env.kubectl_command("logs", "-f", pod, "-c", c)),
        "Pod Studio page stream (`…/runtime/logs/stream`, escaped HTML SSE, timestamps)":
            lambda pk, pod, c: http_reader("page log stream", port, page_log_stream(pk, pod, c)),
        "`kubectl logs -f --timestamps`": lambda pk, pod, c: process_reader(
            "kubectl logs -f --timestamps", env.kubectl_command("logs", "-f", pod, "-c", c, "--timestamps")),
    }
    pods = {f"relay-{index}": containers for index in range(len(openers))}
    records = running_pods(env, pods)
    files = {pod: env.control_plane.set_pod_logs(env.namespace, pod, {c: [] for c in containers}) for pod in pods}
    texts = [f"{LOG_TEXT} n={n}" for n in range(RELAY_LINES)]
    burst = cri_log_lines(texts)
    log_bytes = sum(len(text) + 1 for text in texts)
    pids = {"podstudio": env.server.pid, "apiserver": env.control_plane.pids["kube-apiserver"]}
    with PeakRss(pids) as idle:  # one sample: nothing streams yet
        pass
    rows, rates = [], []
    for (label, open_reader), pod in zip(openers.items(), pods, strict=True):
        seconds, received, cpu = [], [], []
        with PeakRss(pids) as rss:
            for run, container in enumerate(containers):
                reader = open_reader(records[pod], pod, container)
                reader.expect(FOLLOWING.encode())
                reader.start()
                try:
                    append_log(files[pod][container], cri_log_lines([FOLLOWING]))
                    reader.reached(FOLLOWING.encode())
                    worker = psutil.Process(reader.pid or env.server.pid)
                    reader.expect(BURST_MARKER, RELAY_LINES)
                    before, cpu_before = reader.bytes_read, _cpu_seconds(worker)
                    written = time.perf_counter()
                    append_log(files[pod][container], burst)
                    done = reader.reached(BURST_MARKER, timeout=300)
                    cpu_used = _cpu_seconds(worker) - cpu_before
                finally:
                    reader.close()
                if run:  # the first run warms up (imports, connections, page cache)
                    seconds.append(done - written)
                    received.append(reader.bytes_read - before)
                    cpu.append(cpu_used)
        median = statistics.median(seconds)
        rates.append(RELAY_LINES / median)
        # kubectl runs in a process of its own: only our readers go through the Pod Studio server
        podstudio_rss = f"{rss.peak['podstudio']:.0f}" if label.startswith("Pod Studio") else "–"
        rows.append(f"| {label} | {median:.2f} | {p95(seconds):.2f} | {RELAY_LINES / median:,.0f} | "
                    f"{log_bytes / median / 1e6:.1f} | {statistics.median(received) / 1e6:.1f} | "
                    f"{statistics.median(cpu):.2f} | {podstudio_rss} | {rss.peak['apiserver']:.0f} |")
    api, kubectl, page, kubectl_stamped = rates
    return rows, {"idle_podstudio": idle.peak["podstudio"], "idle_apiserver": idle.peak["apiserver"],
                  "line_bytes": log_bytes / RELAY_LINES, "api_share": api / kubectl,
                  "page_share": page / kubectl_stamped}


# ---------------------------------------------------------------------------
# The section
# ---------------------------------------------------------------------------


def machine() -> str:
    import psutil

    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor() or platform.machine())
    return (f"{os.cpu_count()} cores ({cpu}), {psutil.virtual_memory().total / 2**30:.0f} GiB RAM, "
            f"Linux {platform.release()}, Python {platform.python_version()}")


def load_average() -> str:
    return " / ".join(f"{value:.1f}" for value in os.getloadavg())


def measure() -> dict:
    from tests.support.controlplane import K8S_VERSION

    facts, load_before = machine(), load_average()
    with environment() as env:
        version = subprocess.run([str(env.kubectl), "version", "--client", "-o", "json"], capture_output=True,
                                 text=True, check=True).stdout
        kubectl_version = json.loads(version)["clientVersion"]["gitVersion"]
        records = running_pods(env, {"status": ["app"], "logs": ["app"]})
        log_file = env.control_plane.set_pod_logs(env.namespace, "logs", {"app": []})["app"]
        status_rows = status_latency(env, records["status"], "status")
        log_rows = log_line_latency(env, records["logs"], "logs", log_file)
        relay_rows, memory = relay_throughput(env)
    return {"facts": facts, "load": (load_before, load_average()), "kubectl": kubectl_version, "k8s": K8S_VERSION,
            "status": status_rows, "log": log_rows, "relay": relay_rows, "memory": memory}


def designed_waits() -> tuple[float, float, float]:
    """(the status feed's coalescing, the log follower's batch wait and gap) in ms: waits the page's
    figures include on purpose, read from the code so that the text says what ran."""
    from composer.cluster.feed import StatusFeed
    from composer.cluster.logfollow import FollowSettings

    coalesce = inspect.signature(StatusFeed).parameters["coalesce"].default
    settings = FollowSettings()
    return coalesce * 1000, settings.batch_wait * 1000, settings.batch_gap * 1000


def run() -> str:
    started = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    coalesce_ms, batch_wait_ms, batch_gap_ms = designed_waits()
    began = time.monotonic()
    figures = measure()
    took = time.monotonic() - began
    memory = figures["memory"]
    newline = "\n"
    return f"""<!-- {MARKER}:start -->
## The runtime view on the real control plane (issue #10)

Produced by `{COMMAND}` (this section: `bench/runtime_real.py`, alone:
`{ALONE}`) on {started}, in {took:.0f} s.
Machine: {figures["facts"]}.
Load average (1 / 5 / 15 min): {figures["load"][0]} at the start, {figures["load"][1]} at the end. The
cores are shared with other work: compare figures of one run with each other, not across runs.

Path: kwok (as the node's kubelet: container logs from CRI log files) → kube-apiserver
{figures["k8s"]} (HTTPS; the local control plane of tests/support/controlplane.py, started for this
section) → Pod Studio (Django's threaded WSGI server in a child process, settings as for `make run`)
→ a reader in the bench process. Beside it `kubectl` {figures["kubectl"]} (built beside the control
plane) reads the same API server in the same run, at the same time. Times run from the cause to the
read that brought it, on one clock; p95 by nearest rank.

### Status change → page

A status write on the real server (a JSON patch of the container's `restartCount` through
`pods/status`, {STATUS_CHANGES} times, 0.2 s apart; no kwok stage reacts to it; a write, not one of
kwok's own moves, so that the moment of the change is on the bench's clock) until the runtime
page's status stream carries the new count in its rendered status, and until a
`kubectl get pod -w` open at the same time prints it. Goal (issue #5): ≤ 1 s. The page's time
includes, on purpose, the status feed's {coalesce_ms:.0f} ms wait for more changes to show them in one
picture (`StatusFeed(coalesce=…)`: a rollout step changes a Pod and its Events several times), and
rendering the status region.

| reader | median ms | p95 ms | max ms |
|---|---|---|---|
{newline.join(figures["status"])}

### A log line → page

One line appended to the container's log file kwok serves, {LOG_PROBES} times, 0.2 s apart, until each
of three readers following that log at the same time has it. Both Pod Studio streams include, on
purpose, the log follower's wait after a batch's first line for more: it ends after a pause of
{batch_gap_ms:.0f} ms, or at most {batch_wait_ms:.0f} ms (`FollowSettings.batch_gap`, `batch_wait`: a busy
container's lines go out in a few large events, not one per line, and a quiet one's lone line at once).

| reader | median ms | p95 ms | max ms |
|---|---|---|---|
{newline.join(figures["log"])}

### Log relay throughput

Each reader follows an empty container log (a fresh container for each run); then
{RELAY_LINES:,} lines ({memory["line_bytes"]:.0f} bytes each as the container wrote them) are appended
to its log file at once. Timed from that write to the reader's last line; {RELAY_RUNS} runs after a
warm-up, medians (p95 of {RELAY_RUNS} is their slowest). Log MB/s counts the lines as written; received
MB is what the reader got for one burst (SSE framing, HTML, timestamps). Relay CPU: user + system
seconds the relaying process spent on one burst (the Pod Studio server for its streams, the kubectl
process for kubectl; median), less sensitive to other work on the machine than the wall-clock
times. RSS: peak over the reader's runs (psutil, every {RSS_EVERY * 1000:.0f} ms); idle, before any:
Pod Studio {memory["idle_podstudio"]:.0f} MB, kube-apiserver {memory["idle_apiserver"]:.0f} MB. Compare
within a pair: each pair asks the API server the same (the page always asks for timestamps).

| reader | median s | p95 s | lines/s | log MB/s | received MB | relay CPU s | Pod Studio RSS MB | \
kube-apiserver RSS MB |
|---|---|---|---|---|---|---|---|---|
{newline.join(figures["relay"])}

In this run the API stream relayed {memory["api_share"]:.0%} of `kubectl logs -f`'s lines per second, the
page stream {memory["page_share"]:.0%} of `kubectl logs -f --timestamps`'s. kwok serves a followed log
the kubelet's way (k8s.io/cri-client's log reader, one write and one flush per line), so the real
path carries many small HTTP chunks, and on 2 busy cores the CPU a reader's side spends is CPU kwok
and the API server do not get.
<!-- {MARKER}:end -->
"""


def main() -> None:
    from bench.__main__ import _setup_django, replace_marked_section

    _setup_django()
    section = run()
    DOC.write_text(replace_marked_section(DOC.read_text(), MARKER, section))
    print(section)


if __name__ == "__main__":
    main()
