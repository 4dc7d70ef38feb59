"""`make bench`: measures the hot paths and rewrites docs/performance.md with the figures.

Run as `python -m bench` (what `make bench` does). Uses a throw-away SQLite database; the load section
(bench/load.py) serves the app with uvicorn on databases of its own, SQLite and a throwaway PostgreSQL.
"""

from __future__ import annotations

import os
import platform
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "docs" / "performance.md"
sys.path.insert(0, str(ROOT))


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "podstudio.settings")
    os.environ["PODSTUDIO_SQLITE_PATH"] = str(Path(tempfile.mkdtemp()) / "bench.sqlite3")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def timed(function: Callable[[], object], runs: int, warmup: int = 20) -> list[float]:
    for _ in range(warmup):
        function()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        function()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def summary(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def composition_with(containers: int):
    """A composition of `containers` containers: the app plus a mix of real patterns."""
    from composer.domain import edits
    from composer.domain.model import Composition

    composition = Composition()
    composition.options.service.enabled = True
    composition.options.service.ports = [{"name": "web", "port": 80, "targetPort": 80}]
    cycle = ["log-tailer", "sysctl", "prometheus-exporter", "file-writer", "egress-proxy", "wait-for",
             "tls-terminator", "config-merger", "local-cache", "health-endpoint"]
    for index in range(containers - 1):
        edits.add_helper(composition, cycle[index % len(cycle)])
    return composition


def bench_preview(sizes=(2, 10, 30), runs=300) -> list[str]:
    import yaml

    from composer.domain.preview import preview
    from composer.models import SavedComposition
    from composer.presentation.highlight import highlight_yaml

    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    rows = []
    for size in sizes:
        saved = SavedComposition.create(composition_with(size))

        def full_path(pk=saved.pk):
            composition = SavedComposition.objects.get(pk=pk).composition()
            result = preview(composition, "1.33")
            highlight_yaml(result.yaml_text)

        manifests = preview(saved.composition()).manifests
        median, p99 = summary(timed(full_path, runs))
        dump_median, _ = summary(timed(lambda m=manifests: yaml.dump_all(m, Dumper=dumper), runs))
        rows.append(f"| {size} | {median:.2f} | {p99:.2f} | {dump_median:.3f} | {median / dump_median:.0f}× |")
    return rows


def bench_edit(runs=150) -> list[str]:
    from django.test import Client

    from composer.models import SavedComposition

    client = Client(HTTP_HOST="localhost")
    saved = SavedComposition.create(composition_with(10))
    helper_id = saved.composition().helpers[0].id
    url = f"/c/{saved.pk}/helpers/{helper_id}/params"
    values = iter(range(10**6))

    def edit():
        response = client.post(url, {"log_file": f"app-{next(values)}.log"}, HTTP_HX_REQUEST="true")
        assert response.status_code == 200, response.status_code

    median, p99 = summary(timed(edit, runs))
    page = client.get(f"/c/{saved.pk}/")
    return [f"| edit a helper parameter → preview + field messages (10 containers) | {median:.1f} | {p99:.1f} |"], page


def asset_bytes(page) -> list[str]:
    import re

    from django.contrib.staticfiles import finders

    html = page.content.decode()
    rows, total = [], 0
    for path in re.findall(r'(?:src|href)="/static/([^"]+\.(?:js|css))"', html):
        size = Path(finders.find(path)).stat().st_size
        total += size
        rows.append(f"| `{path}` | {size:,} |")
    rows.append(f"| **total** | **{total:,}** ({total / 1024:.1f} KiB) |")
    # Loaded by a script when it is needed (the YAML editor's CodeMirror and its stylesheet, on the first
    # "Edit YAML"): not in the total.
    for path in re.findall(r'data-[a-z-]+="/static/([^"]+\.(?:js|mjs|css))"', html):
        size = Path(finders.find(path)).stat().st_size
        rows.append(f"| `{path}` (on demand, not in the total) | {size:,} |")
    return rows


def replace_marked_section(text: str, marker: str, body: str) -> str:
    """Replace the section between ``<!-- marker:start -->`` and ``<!-- marker:end -->`` in ``text``
    (a module run alone rewrites only its own), or append ``body`` when there is none yet."""
    start, end = f"<!-- {marker}:start -->", f"<!-- {marker}:end -->"
    pattern = re.compile(re.escape(start) + ".*?" + re.escape(end) + r"\n?", re.S)
    if pattern.search(text):
        return pattern.sub(lambda _: body, text)
    return text.rstrip("\n") + "\n\n" + body


def main() -> None:
    _setup_django()
    started = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    preview_rows = bench_preview()
    edit_rows, page = bench_edit()
    asset_rows = asset_bytes(page)
    from bench import controlplane, load, runtime_real, schema_validators

    schema_section = schema_validators.run()
    control_plane_section = controlplane.run()
    runtime_real_section = runtime_real.run()
    load_section = load.run()
    text = f"""# Performance

Measured by `make bench` (`python -m bench`) on {started}: {os.cpu_count()} cores,
Python {platform.python_version()}, {platform.machine()}. Times are wall-clock milliseconds on a
shared machine: compare figures from one run with each other, not across runs.

## Preview path (issue #2)

Load the draft from SQLite → `render` → lint → schema validation (kubernetes-validate, 1.33
schemas, compiled once per process) → YAML dump → Pygments highlighting (our lexer for the
dumped YAML, composer/highlight.py). 300 runs after 20 warm-up runs. Goal: median ≤ 10 ms and
p99 ≤ 30 ms at 10 containers, growing no more than linearly. The last column compares with a
bare `yaml.dump_all` (C dumper) of the same manifests.

| containers | median ms | p99 ms | bare yaml dump ms | ratio |
|---|---|---|---|---|
{chr(10).join(preview_rows)}

## One edit in the composer (issue #3)

An htmx POST through the Django test client (middleware, CSRF off as in tests, SQLite write of
the draft and its revision, preview, templates). Goal: median ≤ 15 ms at 10 containers.

| request | median ms | p99 ms |
|---|---|---|
{chr(10).join(edit_rows)}

## What the composer page loads (issue #3)

Uncompressed bytes of every script and stylesheet the composer page references. Goal: ≤ 150 KB,
no framework. A script the page imports only when it is needed is listed below the total.

| asset | bytes |
|---|---|
{chr(10).join(asset_rows)}
"""
    text += "\n" + "\n".join((control_plane_section, runtime_real_section, schema_section, load_section))
    RESULTS.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
