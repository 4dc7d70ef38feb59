"""Load (issue #11 item 5): simulated users composing, importing and reading deploy records through the
API of Pod Studio served by uvicorn, on PostgreSQL (one and two worker processes) and on SQLite.

Each configuration gets a database of its own (a fresh one on a throwaway PostgreSQL cluster,
tests/support/postgres.py, or a fresh SQLite file), team mode (API tokens, per-person compositions,
context permissions: the way a team serves it), and for every simulated user a person with an API token,
a composition and deploy records of it. Then N users, asyncio tasks with one keep-alive connection each
(aiohttp), loop over the same session of API requests without pause, for a warm-up and then a fixed
measured time. Every user edits only its own compositions, one request after the other, so a 409 (or any
status but the expected one) is a fault and counted as an error. Loopback only; each user's loop is
bounded by the deadline and by MAX_SESSIONS.

Measured: requests/s, latency percentiles (overall and per request), errors, the server's RSS (uvicorn
and its workers), PostgreSQL backends in use, and the CPU used by the server, by PostgreSQL, by this
client and by the rest of the machine, which is shared.

Run by `make bench` (a section of docs/performance.md), or alone: `python -m bench.load` (rewrites its
section of docs/performance.md; `--seconds`, `--warmup` and `--users 10,50` for shorter runs).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime
import http.client
import json
import os
import platform
import re
import secrets
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.postgres import PostgresCluster  # noqa: E402  (needs ROOT on the path)
from tests.support.processes import environment, free_port, run_manage, run_python  # noqa: E402

DOC = ROOT / "docs" / "performance.md"
MARKER = "load"
USER_COUNTS = (1, 3, 10, 50, 100)
WARMUP_SECONDS = 3.0
MEASURED_SECONDS = 20.0
MAX_SESSIONS = 100_000  # per user: the deadline ends a loop long before; this only bounds it
RECORDS_PER_USER = 5
SAMPLE_EVERY = 0.2  # seconds between RSS and pg_stat_activity samples
REQUEST_TIMEOUT = 60  # seconds: a request slower than this is an error, not a stalled bench
CONFIGURATIONS = (("PostgreSQL", 1), ("PostgreSQL", 2), ("SQLite", 1))
CONTEXT, NAMESPACE = "bench-cluster", "team-a"  # the seeded deploy records'; no cluster behind them
IMPORTED = ("05-elasticsearch-logs.yaml", "10-tls-ambassador.yaml", "11-exporter-service.yaml")
# (pattern, the parameter edit made right after adding it): a sidecar, an init container, an adapter
HELPER_EDITS = (
    ("log-tailer", lambda n: {"log_file": f"app-{n}.log"}),
    ("wait-for", lambda n: {"port": 5000 + n % 1000}),
    ("health-endpoint", lambda n: {"interval_seconds": 1 + n % 30}),
)
REQUEST_KINDS = ("list compositions", "create", "add helper", "edit helper (If-Match)", "read", "edit (PUT, If-Match)",
                 "manifest YAML", "problems", "import YAML", "deploy record", "deploy records of a composition",
                 "delete")


# ---------------------------------------------------------------------------
# The server: a database of its own, seeded, and uvicorn on it
# ---------------------------------------------------------------------------


def seed(users: int) -> None:
    """Run inside the server's environment (run_python): people with tokens, one composition and
    RECORDS_PER_USER deploy records each, visible through a context permission. Prints them as JSON."""
    from django.contrib.auth.models import Group, User

    from bench.__main__ import composition_with
    from composer.domain.preview import preview
    from composer.models import ContextPermission, DeployRecord, SavedComposition
    from composer.services.access import issue_token

    team = Group.objects.create(name="bench-team")
    ContextPermission.objects.create(group=team, context_pattern="bench-*", namespace_pattern="team-*", can_view=True)
    people = []
    for number in range(users):
        person = User(username=f"user{number}")
        person.set_unusable_password()  # API tokens only; no password hashing to wait for
        person.save()
        person.groups.add(team)
        saved = SavedComposition.create(composition_with(3), owner=person)
        manifest = preview(saved.composition()).yaml_text
        records = [DeployRecord.objects.create(
            composition=saved, composition_name=saved.name, revision=1, action=DeployRecord.Action.DEPLOY,
            context=CONTEXT, namespace=NAMESPACE, user=person.username, manifest_yaml=manifest,
            outcome=DeployRecord.Outcome.SUCCEEDED) for _ in range(RECORDS_PER_USER)]
        people.append({"token": issue_token(person, "load"), "composition": saved.pk, "record": records[-1].pk})
    print(json.dumps(people))


@dataclass
class Server:
    database: str
    workers: int
    port: int
    process: subprocess.Popen
    people: list[dict]
    database_name: str = ""  # PostgreSQL's, for pg_stat_activity
    cluster: PostgresCluster | None = None
    log: Path | None = None
    log_read: int = 0  # how far new_exceptions has read the log

    def new_exceptions(self) -> list[str]:
        """The exceptions the server logged since the last call, once each ("OperationalError: …"): why
        a request answered 500, which its HTML error page does not say."""
        logged = self.log.read_bytes()
        fresh, self.log_read = logged[self.log_read:].decode(errors="replace"), len(logged)
        return sorted(set(re.findall(r"\b[\w.]*(?:Error|Exception): [^\"\\\n]{0,160}", fresh)))

    @property
    def label(self) -> str:
        return f"{self.database}, {self.workers} worker{'s' if self.workers > 1 else ''}"


def _wait_healthy(port: int, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 60
    while True:
        with contextlib.suppress(OSError):
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"uvicorn did not start:\n{log.read_text()[-3000:]}")
        time.sleep(0.2)


@contextlib.contextmanager
def serve(database: str, workers: int, users: int, cluster: PostgresCluster | None = None) -> Iterator[Server]:
    """Pod Studio in team mode under uvicorn on a fresh database (PostgreSQL on `cluster`, or SQLite)."""
    workdir = Path(tempfile.mkdtemp(prefix="podstudio-load-"))
    variables = {"PODSTUDIO_AUTH": "required", "PODSTUDIO_SECRET_KEY": secrets.token_urlsafe(50),
                 "KUBECONFIG": str(workdir / "no-kubeconfig")}  # nothing here needs a cluster
    database_name = ""
    if cluster is not None:
        import psycopg

        database_name = f"load_{secrets.token_hex(4)}"
        with psycopg.connect(_maintenance_url(cluster), autocommit=True) as db:
            db.execute(f"CREATE DATABASE {database_name}")
        variables["DATABASE_URL"] = f"postgres://podstudio@127.0.0.1:{cluster.port}/{database_name}"
    else:
        variables["PODSTUDIO_SQLITE_PATH"] = str(workdir / "load.sqlite3")
    process = None
    try:
        migrated = run_manage("migrate", "--noinput", "-v0", timeout=300, **variables)
        if migrated.returncode != 0:
            raise RuntimeError(f"migrate failed: {migrated.stderr[-2000:]}")
        seeded = run_python(f"from bench.load import seed\nseed({users})", timeout=300, **variables)
        if seeded.returncode != 0:
            raise RuntimeError(f"seeding failed: {seeded.stderr[-2000:]}")
        port, log = free_port(), workdir / "uvicorn.log"
        command = [sys.executable, "-m", "uvicorn", "podstudio.asgi:application", "--host", "127.0.0.1",
                   "--port", str(port)]  # as deploy/kubernetes/40-deployment.yaml serves it (access log on)
        if workers > 1:
            command += ["--workers", str(workers)]
        with log.open("wb") as output:
            process = subprocess.Popen(command, cwd=ROOT, env=environment(**variables), stdout=output,
                                       stderr=subprocess.STDOUT)
        _wait_healthy(port, process, log)
        yield Server(database, workers, port, process, json.loads(seeded.stdout), database_name, cluster, log,
                     log_read=log.stat().st_size)
    finally:
        if process is not None:
            process.terminate()
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        shutil.rmtree(workdir, ignore_errors=True)


def _maintenance_url(cluster: PostgresCluster) -> str:
    return f"postgresql://podstudio@127.0.0.1:{cluster.port}/postgres"


# ---------------------------------------------------------------------------
# The simulated users
# ---------------------------------------------------------------------------


class RequestFailed(Exception):
    """A request that did not get the expected status: counted, and the user starts its next session."""


@dataclass
class RequestLog:
    """Latencies by request kind, of the requests that finished inside the measured window; all errors."""

    window: tuple[float, float] = (0.0, 0.0)
    latencies: dict[str, list[float]] = field(default_factory=lambda: {kind: [] for kind in REQUEST_KINDS})
    errors: list[str] = field(default_factory=list)

    def finished(self, kind: str, started: float) -> None:
        now = time.monotonic()
        if self.window[0] <= now <= self.window[1]:
            self.latencies[kind].append((now - started) * 1000)


class SimulatedUser:
    def __init__(self, session: aiohttp.ClientSession, number: int, person: dict, manifests: list[str],
                 log: RequestLog) -> None:
        self.session, self.number, self.person, self.manifests, self.log = session, number, person, manifests, log
        self.sessions = 0

    async def call(self, kind: str, method: str, path: str, expected: int, *, body: object = None,
                   yaml_text: str | None = None, etag: str | None = None) -> tuple[str, object]:
        """One request; returns the answer's ETag and its JSON (or text) body."""
        headers = {"If-Match": etag} if etag else {}
        if yaml_text is not None:
            headers["Content-Type"] = "application/yaml"
        started = time.monotonic()
        try:
            async with self.session.request(method, f"/api/v1/{path}", json=body, data=yaml_text,
                                            headers=headers) as response:
                raw = await response.read()
                status, answer_etag = response.status, response.headers.get("ETag", "")
                is_json = response.content_type == "application/json"
        except (aiohttp.ClientError, TimeoutError) as error:
            self.log.errors.append(f"{kind}: {type(error).__name__} {error}")
            raise RequestFailed from None
        if status != expected:
            answer = "" if status >= 500 else " " + " ".join(raw[:300].decode(errors="replace").split())
            self.log.errors.append(f"{kind}: {status}{answer}")  # a 500's cause is in the server's log
            raise RequestFailed
        self.log.finished(kind, started)
        return answer_etag, (json.loads(raw) if is_json and raw else raw)

    async def one_session(self) -> None:
        """What one person does in a few minutes: open the list, compose a Pod, look at its YAML and
        problems, import a manifest, read a deploy record and the records of a composition, tidy up."""
        count = self.sessions
        pattern, edit = HELPER_EDITS[count % len(HELPER_EDITS)]
        await self.call("list compositions", "GET", "compositions", 200)
        etag, created = await self.call("create", "POST", "compositions", 201, body={
            "workload": {"name": f"web-{self.number}-{count}", "labels": {"app": "web"}},
            "app": {"name": "app", "image": "nginx:1.27", "ports": [{"name": "http", "containerPort": 80}]},
            "options": {"service": {"enabled": True, "ports": [{"name": "http", "port": 80, "targetPort": "http"}]}},
        })
        pk = created["id"]
        etag, added = await self.call("add helper", "POST", f"compositions/{pk}/helpers", 201,
                                      body={"pattern": pattern}, etag=etag)
        helper = added["helper"]["id"]
        await self.call("edit helper (If-Match)", "PATCH", f"compositions/{pk}/helpers/{helper}", 200,
                        body={"params": edit(count)}, etag=etag)
        etag, shown = await self.call("read", "GET", f"compositions/{pk}", 200)
        changed = {**shown["composition"], "app": {**shown["composition"]["app"], "image": f"nginx:1.{count % 30}"}}
        await self.call("edit (PUT, If-Match)", "PUT", f"compositions/{pk}", 200, body=changed, etag=etag)
        await self.call("manifest YAML", "GET", f"compositions/{pk}/manifest", 200)
        await self.call("problems", "GET", f"compositions/{pk}/problems", 200)
        _, imported = await self.call("import YAML", "POST", "compositions/import", 201,
                                      yaml_text=self.manifests[count % len(self.manifests)])
        await self.call("deploy record", "GET", f"deployments/{self.person['record']}", 200)
        await self.call("deploy records of a composition", "GET",
                        f"deployments?composition={self.person['composition']}&per_page=20", 200)
        for made in (pk, imported["id"]):  # so that every list stays the same size through the run
            await self.call("delete", "DELETE", f"compositions/{made}", 204)

    async def run(self, until: float) -> None:
        while time.monotonic() < until and self.sessions < MAX_SESSIONS:
            try:
                await self.one_session()
            except RequestFailed:
                await asyncio.sleep(0.1)  # a failing server is not hammered in a tight loop
            self.sessions += 1


# ---------------------------------------------------------------------------
# What the machine does meanwhile
# ---------------------------------------------------------------------------


def _tree(pid: int) -> list[psutil.Process]:
    with contextlib.suppress(psutil.NoSuchProcess):
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    return []


def tree_cpu_seconds(pid: int) -> float:
    """CPU seconds of a process, of the children it has waited for, and of its live descendants: the
    difference of two readings counts also the PostgreSQL backends that came and went in between."""
    total = 0.0
    for index, process in enumerate(_tree(pid)):
        with contextlib.suppress(psutil.NoSuchProcess):
            times = process.cpu_times()
            total += times.user + times.system
            if index == 0:
                total += times.children_user + times.children_system
    return total


def tree_rss_bytes(pid: int) -> int:
    total = 0
    for process in _tree(pid):
        with contextlib.suppress(psutil.NoSuchProcess):
            total += process.memory_info().rss
    return total


def machine_busy_seconds() -> float:
    times = psutil.cpu_times()
    return sum(times) - times.idle - getattr(times, "iowait", 0.0)


def postmaster_pid(cluster: PostgresCluster) -> int:
    return int((cluster.data_dir / "postmaster.pid").read_text().split()[0])


class Sampler(threading.Thread):
    """Server RSS and PostgreSQL client backends of the server's database, every SAMPLE_EVERY seconds."""

    def __init__(self, server: Server) -> None:
        super().__init__(daemon=True)
        self.server = server
        self.rss: list[int] = []
        self.backends: list[int] = []
        self.stopped = threading.Event()

    def run(self) -> None:
        database = None
        if self.server.cluster is not None:
            import psycopg

            database = psycopg.connect(_maintenance_url(self.server.cluster), autocommit=True)
        try:
            while not self.stopped.wait(SAMPLE_EVERY):
                self.rss.append(tree_rss_bytes(self.server.process.pid))
                if database is not None:
                    query = ("SELECT count(*) FROM pg_stat_activity WHERE datname = %s "
                             "AND backend_type = 'client backend'")
                    self.backends.append(database.execute(query, (self.server.database_name,)).fetchone()[0])
        finally:
            if database is not None:
                database.close()


# ---------------------------------------------------------------------------
# One run: N users against one server
# ---------------------------------------------------------------------------


@dataclass
class Figures:
    server: str
    users: int
    seconds: float
    latencies: dict[str, list[float]]
    errors: list[str]
    server_exceptions: list[str]
    rss_peak_mb: float
    backends_peak: int | None
    backends_mean: float | None
    cores: dict[str, float]  # server, PostgreSQL, client, rest of the machine
    load_at_start: float
    connections_opened: int | None  # PostgreSQL sessions started in the measured window

    def cpu_ms_per_request(self, of: str) -> float:
        return self.cores[of] * self.seconds * 1000 / max(1, len(self.all_latencies))

    @property
    def all_latencies(self) -> list[float]:
        return [value for values in self.latencies.values() for value in values]

    @property
    def requests_per_second(self) -> float:
        return len(self.all_latencies) / self.seconds


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))] if ordered else float("nan")


def _imported_manifests() -> list[str]:
    return [(ROOT / "tests" / "unit" / "manifests" / name).read_text() for name in IMPORTED]


def _cpu_readings(server: Server) -> dict[str, float]:
    own = psutil.Process().cpu_times()  # this process alone: the server is one of its children
    readings = {"server": tree_cpu_seconds(server.process.pid), "client": own.user + own.system,
                "machine": machine_busy_seconds()}
    if server.cluster is not None:
        readings["PostgreSQL"] = tree_cpu_seconds(postmaster_pid(server.cluster))
    return readings


def connections_opened(server: Server) -> int:
    """Sessions PostgreSQL has started on the server's database so far (pg_stat_database, PostgreSQL 14+)."""
    import psycopg

    with psycopg.connect(_maintenance_url(server.cluster), autocommit=True) as db:
        query = "SELECT sessions FROM pg_stat_database WHERE datname = %s"
        return db.execute(query, (server.database_name,)).fetchone()[0]


# What the requests of the mix read and write (token, person, groups, rules, lockouts, compositions, records).
TABLES_OF_A_REQUEST = ("composer_apitoken", "auth_user", "auth_user_groups", "composer_contextpermission",
                       "axes_accessattempt", "composer_savedcomposition", "composer_revision", "composer_deployrecord")


def connection_costs_ms(server: Server, times: int = 200) -> tuple[float, float]:
    """PostgreSQL's CPU milliseconds for one query on each of TABLES_OF_A_REQUEST, on a connection opened
    for it (a backend forked and authenticated, its catalog caches filled: what a request pays now) and on
    a kept connection."""
    import psycopg

    url = f"postgresql://podstudio@127.0.0.1:{server.cluster.port}/{server.database_name}"
    queries = [f"SELECT * FROM {table} LIMIT 1" for table in TABLES_OF_A_REQUEST]
    postmaster = postmaster_pid(server.cluster)

    def cost(connect: Callable[[], contextlib.AbstractContextManager]) -> float:
        before = tree_cpu_seconds(postmaster)
        for _ in range(times):
            with connect() as db:
                for query in queries:
                    db.execute(query).fetchall()
        return (tree_cpu_seconds(postmaster) - before) / times * 1000

    opened = cost(lambda: psycopg.connect(url))
    with psycopg.connect(url) as kept:
        return opened, cost(lambda: contextlib.nullcontext(kept))


async def _drive(server: Server, users: int, warmup: float, seconds: float) -> tuple[RequestLog, dict, dict]:
    log = RequestLog()
    manifests = _imported_manifests()
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT)
    sessions = [aiohttp.ClientSession(f"http://127.0.0.1:{server.port}", timeout=timeout,
                                      connector=aiohttp.TCPConnector(limit=1),  # one keep-alive connection each
                                      headers={"Authorization": f"Bearer {person['token']}"})
                for person in server.people[:users]]
    try:
        start = time.monotonic()
        log.window = (start + warmup, start + warmup + seconds)
        simulated = [SimulatedUser(session, number, server.people[number], manifests, log)
                     for number, session in enumerate(sessions)]
        tasks = [asyncio.create_task(user.run(until=log.window[1])) for user in simulated]
        await asyncio.sleep(warmup)
        before = _readings(server)
        await asyncio.sleep(max(0.0, log.window[1] - time.monotonic()))
        after = _readings(server)
        await asyncio.gather(*tasks)  # each finishes the request it is in
    finally:
        await asyncio.gather(*(session.close() for session in sessions))
    return log, before, after


def _readings(server: Server) -> dict[str, float]:
    readings = _cpu_readings(server)
    if server.cluster is not None:
        readings["connections"] = connections_opened(server)
    return readings


def measure(server: Server, users: int, warmup: float = WARMUP_SECONDS, seconds: float = MEASURED_SECONDS) -> Figures:
    if users > len(server.people):
        raise ValueError(f"{users} users, but the server was seeded for {len(server.people)}")
    load_at_start = os.getloadavg()[0]
    sampler = Sampler(server)
    sampler.start()
    try:
        log, before, after = asyncio.run(_drive(server, users, warmup, seconds))
    finally:
        sampler.stopped.set()
        sampler.join()
    connections = after.pop("connections", 0) - before.pop("connections", 0)
    used = {name: (after[name] - before[name]) / seconds for name in before}
    ours = sum(value for name, value in used.items() if name != "machine")
    cores = {name: value for name, value in used.items() if name != "machine"}
    cores["rest of the machine"] = max(0.0, used["machine"] - ours)
    return Figures(
        server=server.label, users=users, seconds=seconds, latencies=log.latencies, errors=log.errors,
        server_exceptions=server.new_exceptions(),
        rss_peak_mb=max(sampler.rss, default=0) / 2**20,
        backends_peak=max(sampler.backends, default=0) if server.cluster else None,
        backends_mean=statistics.fmean(sampler.backends) if server.cluster and sampler.backends else None,
        cores=cores, load_at_start=load_at_start, connections_opened=connections if server.cluster else None,
    )


@dataclass
class LoadRun:
    figures: list[Figures]
    postgres_version: str
    new_connection_ms: float  # connection_costs_ms
    kept_connection_ms: float
    warmup: float
    seconds: float


def measure_all(user_counts=USER_COUNTS, warmup: float = WARMUP_SECONDS, seconds: float = MEASURED_SECONDS) -> LoadRun:
    """Every configuration at every user count, on one throwaway PostgreSQL cluster."""
    figures, costs = [], (float("nan"), float("nan"))
    with PostgresCluster() as cluster:
        version = subprocess.run([str(cluster.bin_dir / "postgres"), "--version"], capture_output=True,
                                 text=True).stdout.strip()
        for database, workers in CONFIGURATIONS:
            with serve(database, workers, max(user_counts), cluster if database == "PostgreSQL" else None) as server:
                for users in user_counts:
                    figures.append(measure(server, users, warmup, seconds))
                    print(f"{server.label}, {users} users: {figures[-1].requests_per_second:.0f} requests/s",
                          file=sys.stderr, flush=True)
                if server.cluster is not None and workers == 1:
                    costs = connection_costs_ms(server)
    return LoadRun(figures, version, *costs, warmup, seconds)


# ---------------------------------------------------------------------------
# The section of docs/performance.md
# ---------------------------------------------------------------------------


LATENCY_COLUMNS = ("server", "users", "requests/s", "p50 ms", "p95 ms", "p99 ms", "errors", "server RSS MB (peak)",
                   "PostgreSQL backends peak (mean)")
CPU_COLUMNS = ("server", "users", "cores: server", "PostgreSQL", "client", "rest of the machine",
               "CPU ms per request: server", "PostgreSQL", "PostgreSQL connections per request", "load average")


def _header(columns: tuple[str, ...]) -> str:
    return f"| {' | '.join(columns)} |\n|{'---|' * len(columns)}"


def _ms(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:.1f}"


def _latency_row(result: Figures) -> str:
    values = result.all_latencies
    backends = "–" if result.backends_peak is None else f"{result.backends_peak} ({result.backends_mean:.1f})"
    return (f"| {result.server} | {result.users} | {result.requests_per_second:,.0f} | {_ms(percentile(values, 0.5))} "
            f"| {_ms(percentile(values, 0.95))} | {_ms(percentile(values, 0.99))} | {len(result.errors)} "
            f"| {result.rss_peak_mb:,.0f} | {backends} |")


def _cpu_row(result: Figures) -> str:
    cores, on_postgres = result.cores, "PostgreSQL" in result.cores
    postgres = f"{cores['PostgreSQL']:.2f}" if on_postgres else "–"
    postgres_ms = f"{result.cpu_ms_per_request('PostgreSQL'):.1f}" if on_postgres else "–"
    connections = f"{result.connections_opened / max(1, len(result.all_latencies)):.2f}" if on_postgres else "–"
    return (f"| {result.server} | {result.users} | {cores['server']:.2f} | {postgres} | {cores['client']:.2f} "
            f"| {cores['rest of the machine']:.2f} | {result.cpu_ms_per_request('server'):.1f} | {postgres_ms} "
            f"| {connections} | {result.load_at_start:.1f} |")


def _saturation(figures: list[Figures]) -> list[str]:
    """For each configuration: the best throughput, the smallest user count within 10 % of it, and
    what the cores were doing there."""
    lines = []
    for database, workers in CONFIGURATIONS:
        runs = [f for f in figures if f.server.startswith(f"{database}, {workers} ")]
        if not runs:
            continue
        best = max(runs, key=lambda f: f.requests_per_second)
        knee = min((f for f in runs if f.requests_per_second >= 0.9 * best.requests_per_second), key=lambda f: f.users)
        parts = ", ".join(f"{name} {value:.2f}" for name, value in knee.cores.items())
        lines.append(f"- {best.server}: at most {best.requests_per_second:,.0f} requests/s ({best.users} users), "
                     f"within 10 % of that from {knee.users} users on; there the cores were busy with {parts} "
                     f"({sum(knee.cores.values()):.2f} of {os.cpu_count()}).")
    return lines


def section(run: LoadRun) -> str:
    figures = run.figures
    started = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    at = 50 if any(f.users == 50 for f in figures) else max(f.users for f in figures)
    chosen = [f for f in figures if f.users == at]
    kind_rows = []
    for kind in REQUEST_KINDS:
        cells = " | ".join(f"{_ms(percentile(f.latencies[kind], 0.5))} / {_ms(percentile(f.latencies[kind], 0.95))}"
                           for f in chosen)
        kind_rows.append(f"| {kind} | {cells} |")
    errors = [f"- {f.server}, {f.users} users: {len(f.errors)} errors, e.g. `{f.errors[0]}`"
              + "".join(f"; the server logged `{exception}`" for exception in f.server_exceptions)
              for f in figures if f.errors]
    error_lines = "\n".join(["", "Errors:", "", *errors, ""]) if errors else ""
    return f"""<!-- {MARKER}:start -->
## Load: simulated users on uvicorn + PostgreSQL and SQLite (issue #11)

Produced by `make bench` (this section: `bench/load.py`, alone: `.venv/bin/python -m bench.load`) on
{started}: {os.cpu_count()} cores shared by the server, the database, the simulated users and whatever
else runs on the machine; Python {platform.python_version()}, {platform.machine()}, {run.postgres_version}
(the throwaway cluster of tests/support/postgres.py: fsync off), SQLite {sqlite3.sqlite_version} (WAL).
The 1-minute load average when each run started is in the last column of the second table: other work
on the machine takes cores from these figures.

Team mode (every request carries an API token), uvicorn as the Kubernetes manifests start it
(`uvicorn podstudio.asgi:application`, access log on; `--workers 2` for the second configuration), a
fresh database per configuration. Each simulated user is an asyncio task with one keep-alive connection
(aiohttp) looping without pause over one session of {len(REQUEST_KINDS) + 1} requests: list its
compositions, create one, add a helper and edit its parameter (`If-Match`), read it and change its image
(PUT, `If-Match`), its manifest YAML, its problems (lint + schema validation), import a manifest (YAML),
read a deploy record and the deploy records of a composition, delete both compositions. Users edit only
their own compositions, so any status but the expected one is an error. {run.warmup:g} s warm-up, then
{run.seconds:g} s measured; latencies of the requests that finished in the measured window. The runtime
API's status and logs are not in the mix: each of those asks the cluster, so they would measure a
cluster (the section "The runtime view on the real control plane" measures them).

{_header(LATENCY_COLUMNS)}
{chr(10).join(_latency_row(result) for result in figures)}

Where the CPU went (cores busy on average in the measured window; "client" is the simulated users'
process, "rest of the machine" everything else that ran meanwhile):

{_header(CPU_COLUMNS)}
{chr(10).join(_cpu_row(result) for result in figures)}

Per request at {at} users, p50 / p95 ms:

| request | {" | ".join(f.server for f in chosen)} |
|---|{"---|" * len(chosen)}
{chr(10).join(kind_rows)}
{error_lines}
Where it saturates (this run):

{chr(10).join(_saturation(figures))}

{_explanation(run, at)}
<!-- {MARKER}:end -->
"""


def _explanation(run: LoadRun, at: int) -> str:
    """Why it saturates, with this run's figures at `at` users."""
    by_server = {f.server: f for f in run.figures if f.users == at}
    one, two, sqlite = (by_server.get(label) for label in
                        ("PostgreSQL, 1 worker", "PostgreSQL, 2 workers", "SQLite, 1 worker"))
    if not (one and two and sqlite):
        return "(The explanation needs every configuration at one user count.)"
    per_connection = one.connections_opened / max(1, len(one.all_latencies))
    peak = max(f.backends_peak for f in run.figures if f.backends_peak is not None)
    return f"""Why (figures at {at} users): the users wait for nothing but the answers, so a few of them keep the
server busy all the time, and beyond that more users only queue longer: requests/s stay flat and latency
grows with the user count (p50 ≈ users ÷ requests/s). What runs out is CPU, and the two cores are shared
by everything here:

- **The server is CPU-bound Python.** One uvicorn process runs Django's synchronous views, each request
  in a thread of its own (asgiref's `ThreadSensitiveContext`), under one GIL: it can use one core at
  most. It used {one.cores["server"]:.2f} cores on PostgreSQL ({one.cpu_ms_per_request("server"):.1f} ms of \
CPU per request) and
  {sqlite.cores["server"]:.2f} on SQLite ({sqlite.cpu_ms_per_request("server"):.1f} ms). Through Django's \
test client in one process the same requests
  take 3.5–5.5 ms of CPU (measured once with cProfile, 2026-12-01; middleware, the token lookup and its
  `last_used` UPDATE, django-axes' lockout query, the ORM building queries): the rest is serving under
  ASGI (uvicorn's HTTP parsing and access log, a thread started for every request).
- **PostgreSQL costs as much CPU as the server**, {one.cpu_ms_per_request("PostgreSQL"):.1f} ms per request, \
because every request opens a
  connection of its own ({per_connection:.2f} per request here; `CONN_MAX_AGE` is 0 under ASGI). One query
  on each of the {len(TABLES_OF_A_REQUEST)} tables these requests touch costs PostgreSQL \
{run.new_connection_ms:.1f} ms of CPU on a new connection (a backend
  forked and authenticated, its catalog caches filled) and {run.kept_connection_ms:.1f} ms on a kept one \
(measured on the
  same database after the runs, 200 times each). Backends in
  use follow the requests in flight in the server (peak {peak} in this run), not the database's capacity:
  budget `max_connections` for them (docs/operations.md). Keeping connections open (PgBouncer in front, or
  a connection pool) would save nearly all of PostgreSQL's share.
- **A second worker finds no free core**: server {two.cores["server"]:.2f} + PostgreSQL \
{two.cores["PostgreSQL"]:.2f} + client {two.cores["client"]:.2f} + rest of
  the machine {two.cores["rest of the machine"]:.2f} cores fill the two, so two workers did \
{two.requests_per_second:,.0f} requests/s against one worker's
  {one.requests_per_second:,.0f}; on more cores workers (or replicas) add throughput until PostgreSQL's CPU \
is the limit. And `--workers 2`
  costs every answer sent in two writes (headers, then body) about 40 ms on Linux: uvicorn {_uvicorn_version()} \
binds the
  workers' socket without `IPPROTO_TCP`, so asyncio leaves Nagle's algorithm on and the body waits for
  the client's delayed ACK (uvicorn issue #3149, open). One user's p50 was \
{_ms(_p50(run, "PostgreSQL, 2 workers", 1))} ms with two workers
  against {_ms(_p50(run, "PostgreSQL, 1 worker", 1))} ms with one (DELETE, answered with headers only, \
does not wait): one worker per Pod,
  as docs/operations.md recommends, and replicas to scale.
- **SQLite** starts no backend and needs no round trip, so one worker on it leaves the second core to
  the rest: {sqlite.requests_per_second:,.0f} requests/s. Its writes are serialised (one writer at a time, \
WAL; a writer waits up to 5 s
  for the lock): {_sqlite_failures(run)}. It is one file on one machine: replicas need PostgreSQL.
- **The client** (the simulated users' process) used {one.cores["client"]:.2f} cores: not the limit, but \
taken from the same two."""


def _sqlite_failures(run: LoadRun) -> str:
    failed = [f for f in run.figures if f.server.startswith("SQLite") and f.errors]
    if not failed:
        return "no request failed in this run"
    return "in this run " + ", ".join(f"{len(f.errors)} requests failed at {f.users} users" for f in failed) + \
        " (Errors above)"


def _p50(run: LoadRun, server: str, users: int) -> float:
    return next((percentile(f.all_latencies, 0.5) for f in run.figures if f.server == server and f.users == users),
                float("nan"))


def _uvicorn_version() -> str:
    from importlib.metadata import version

    return version("uvicorn")


def run(user_counts=USER_COUNTS, warmup: float = WARMUP_SECONDS, seconds: float = MEASURED_SECONDS) -> str:
    return section(measure_all(user_counts, warmup, seconds))


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", default=",".join(map(str, USER_COUNTS)), help="user counts, comma-separated")
    parser.add_argument("--warmup", type=float, default=WARMUP_SECONDS, help="seconds before measuring")
    parser.add_argument("--seconds", type=float, default=MEASURED_SECONDS, help="seconds measured per run")
    arguments = parser.parse_args()
    counts = tuple(int(count) for count in arguments.users.split(","))
    body = run(counts, arguments.warmup, arguments.seconds)
    from bench.__main__ import replace_marked_section

    DOC.write_text(replace_marked_section(DOC.read_text(), MARKER, body))
    print(body)


if __name__ == "__main__":
    main()
