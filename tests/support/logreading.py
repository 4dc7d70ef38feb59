"""Reading what composer.cluster's log followers hand out (tests/cluster/test_logs.py and
tests/cluster_real/test_runtime_real.py)."""

from __future__ import annotations

import time
from collections.abc import Callable

from composer.cluster.logfollow import LogBatch, LogFollower
from composer.cluster.logs import LogLine

Until = Callable[[list[LogLine], list[str], LogBatch], bool]


def texts(lines: list[LogLine]) -> list[str]:
    return [line.text for line in lines]


def drain(follower: LogFollower, until: Until, timeout: float = 20.0
          ) -> tuple[list[LogLine], list[str], list[LogBatch]]:
    """Batches until ``until(lines so far, notices so far, last batch)`` holds: (lines, notices, batches)."""
    lines: list[LogLine] = []
    notices: list[str] = []
    batches: list[LogBatch] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        batch = follower.next_batch(0.5)
        if batch is None:
            continue
        batches.append(batch)
        lines.extend(batch.lines)
        notices.extend(batch.notices)
        if until(lines, notices, batch):
            return lines, notices, batches
    raise AssertionError(f"gave up after {timeout} s: lines {texts(lines)[-5:]}, notices {notices}")
