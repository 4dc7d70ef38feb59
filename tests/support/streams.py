"""Short timings for tests of the SSE streams (a pytest plugin, see tests/conftest.py).

- ``quick_streams``: ``PODSTUDIO_SSE_HEARTBEAT`` of 0.2 s for the test (15 s by default), so that a
  stream notices a closed client, and a reader a quiet stream, at once. ``PODSTUDIO_WATCH_SECONDS``
  keeps its default (50 s) unless asked for. Modules use it with
  ``pytest.mark.usefixtures("quick_streams")``.
- ``@pytest.mark.stream_timing(heartbeat=…, watch_seconds=…)`` on a test or module: other values
  for ``quick_streams`` (e.g. ``watch_seconds=1`` to see a watch reconnect within a test).
"""

from __future__ import annotations

import pytest

HEARTBEAT = 0.2


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "stream_timing(heartbeat=0.2, watch_seconds=None): the SSE heartbeat and watch length that the "
        "quick_streams fixture sets (watch_seconds=None: the setting's default)",
    )


@pytest.fixture
def quick_streams(request: pytest.FixtureRequest, settings) -> None:
    marker = request.node.get_closest_marker("stream_timing")
    asked = marker.kwargs if marker else {}
    timing = {"heartbeat": HEARTBEAT, "watch_seconds": None}
    unknown = set(asked) - set(timing)
    assert not unknown, f"stream_timing takes heartbeat and watch_seconds, not {sorted(unknown)}"
    timing.update(asked)
    settings.PODSTUDIO_SSE_HEARTBEAT = timing["heartbeat"]
    if timing["watch_seconds"] is not None:
        settings.PODSTUDIO_WATCH_SECONDS = timing["watch_seconds"]
