"""The real local control plane, measured: its start and restart times, and one deploy through Pod
Studio beside the same apply through kubectl on the same cluster.

Run by `make bench` (a section of docs/performance.md), or alone: `python -m bench.controlplane`.
The first build of the binaries is not repeated here (it is cached per machine): it took 17 min 13 s
on this kind of machine with cold Go caches (docs/testing.md, measured with `time make cluster-binaries`).
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNS = 3


def _seconds(start: float) -> float:
    return time.perf_counter() - start


def _manifest(name: str) -> dict:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"mode": "bench"}}


def measure() -> dict:
    sys.path.insert(0, str(ROOT))
    from composer import cluster
    from tests.support.controlplane import ControlPlane, ensure_binaries, ensure_kubectl

    ensure_binaries()
    starts, restarts, stops, ours, kubectl = [], [], [], [], []
    for run in range(RUNS):
        state = Path(tempfile.mkdtemp(prefix="bench-cp-")) / "state"
        start = time.perf_counter()
        control_plane = ControlPlane(state).start()
        starts.append(_seconds(start))
        try:
            os.environ["KUBECONFIG"] = str(control_plane.kubeconfig)
            context = control_plane.admin_context
            for index in range(10):
                start = time.perf_counter()
                [result] = cluster.apply_manifests(context, "default", [_manifest(f"ours-{run}-{index}")])
                ours.append(_seconds(start))
                assert result.ok, result.message
                body = json.dumps(_manifest(f"kubectl-{run}-{index}"))
                start = time.perf_counter()
                subprocess.run([str(ensure_kubectl()), "--kubeconfig", str(control_plane.kubeconfig),
                                "--context", context, "apply", "--server-side", "--field-manager=bench",
                                "-n", "default", "-f", "-"],
                               input=body, text=True, check=True, capture_output=True)
                kubectl.append(_seconds(start))
            start = time.perf_counter()
            control_plane.restart_apiserver()
            restarts.append(_seconds(start))
        finally:
            start = time.perf_counter()
            control_plane.stop()
            stops.append(_seconds(start))
    return {"starts": starts, "restarts": restarts, "stops": stops, "ours": ours, "kubectl": kubectl}


def run() -> str:
    figures = measure()
    started = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")

    def median(values: list[float], scale: float = 1.0) -> str:
        return f"{statistics.median(values) * scale:,.1f}"

    return f"""## The real local control plane (issue #10)

Measured by `make bench` (this section: `bench/controlplane.py`, alone: `python -m bench.controlplane`)
on {started}: {os.cpu_count()} cores, Python {platform.python_version()}, {platform.machine()}.
kube-apiserver, controller-manager and scheduler 1.37.2, etcd 3.7.3, kwok 0.8.0 on loopback
(tests/support/controlplane.py); {RUNS} runs, medians.

| what | time |
|---|---|
| first build of the binaries (once per machine, cached; not repeated here) | 17 min 13 s (docs/testing.md) |
| start with cached binaries, to a Ready node | {median(figures["starts"])} s |
| API server restart (stop, start, /readyz) | {median(figures["restarts"])} s |
| stop (reverse order, state removed) | {median(figures["stops"])} s |
| one ConfigMap applied by Pod Studio (`composer.cluster.apply_manifests`: GET + PATCH) | \
{median(figures["ours"], 1000)} ms |
| the same through `kubectl apply --server-side` (a process start each time) | {median(figures["kubectl"], 1000)} ms |
"""


def main() -> None:
    print(run())


if __name__ == "__main__":
    main()
