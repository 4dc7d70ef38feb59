"""How many tests ran on the real control plane (a pytest plugin, see tests/conftest.py).

A test counts when it uses the control plane, directly or through a fixture that does (the fault
proxy, a namespace, Pod Studio's view of the cluster). The summary says how many passed, failed
and skipped, and why each skip happened. That the control plane itself is never skipped in CI is
the fixture's job: with ``PODSTUDIO_REAL_CLUSTER=1`` (``make test``) a control plane that cannot be
built or started fails every test that needs it.
"""

from __future__ import annotations

import pytest

_CONTROL_PLANE_FIXTURES = frozenset({"control_plane", "control_plane_uncached"})
_outcomes: dict[str, str] = {}
_skip_reasons: dict[str, str] = {}


def _uses_control_plane(item: pytest.Item) -> bool:
    return bool(_CONTROL_PLANE_FIXTURES & set(getattr(item, "fixturenames", ())))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call):
    outcome = yield
    report = outcome.get_result()
    if not _uses_control_plane(item):
        return
    decides = report.when == "call" or report.outcome != "passed"  # or a failure/skip in setup, teardown
    if decides and _outcomes.get(item.nodeid, "passed") == "passed":
        _outcomes[item.nodeid] = "xfailed" if hasattr(report, "wasxfail") else report.outcome
        if _outcomes[item.nodeid] == "skipped" and isinstance(report.longrepr, tuple):
            _skip_reasons[item.nodeid] = str(report.longrepr[2]).removeprefix("Skipped: ")


def _counts() -> dict[str, int]:
    counts = {"passed": 0, "failed": 0, "skipped": 0, "xfailed": 0}
    for outcome in _outcomes.values():
        counts[outcome] = counts.get(outcome, 0) + 1
    return counts


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    if not _outcomes:
        return
    counts = _counts()
    terminalreporter.write_line(
        "real control plane: " + ", ".join(f"{n} {outcome}" for outcome, n in counts.items() if n)
        + f" of {len(_outcomes)} tests that use it"
    )
    for nodeid, reason in sorted(_skip_reasons.items()):
        terminalreporter.write_line(f"  skipped {nodeid}: {reason}")
