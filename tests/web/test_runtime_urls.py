"""The runtime URLs and the SSE reader of tests/support/runtime.py."""

import pytest
from django.urls import reverse

from tests.support.runtime import SseEvent, _parse


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("runtime", "/deployments/7/runtime"),
        ("runtime-status", "/deployments/7/runtime/status"),
        ("runtime-status-stream", "/deployments/7/runtime/status/stream"),
        ("runtime-logs", "/deployments/7/runtime/logs"),
        ("runtime-logs-stream", "/deployments/7/runtime/logs/stream"),
        ("api-deployment-status", "/api/v1/deployments/7/status"),
        ("api-deployment-logs", "/api/v1/deployments/7/logs"),
        ("api-deployment-logs-stream", "/api/v1/deployments/7/logs/stream"),
    ],
)
def test_runtime_urls(name, expected):
    assert reverse(f"composer:{name}", args=[7]) == expected


def test_sse_parser_joins_data_lines_and_skips_comments():
    assert _parse(": keep-alive") is None
    assert _parse("id: app=1\nevent: lines\ndata: a\ndata: b") == SseEvent("lines", "a\nb", "app=1")
