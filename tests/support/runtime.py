"""Shared by the runtime tests (web and e2e): deploy records, SSE reading.

- ``record_for(manifest, context=…, namespace=…)``: a DeployRecord as the deploy view writes it (by
  default in the control plane's admin context, for tests that never reach a cluster);
  ``record_in(cluster, manifest)`` the same in a real-server namespace (tests/support/realruntime.py).
- ``SseReader``: reads events from a streaming response of the Django test client.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from unittest import mock

from django.db import connections

from composer.domain.yamlio import dump_documents
from composer.models import DeployRecord

# ---------------------------------------------------------------------------
# Deploy records
# ---------------------------------------------------------------------------


def record_for(
    manifest: dict, *, context: str = "local-admin", namespace: str = "default", action: str = "deploy"
) -> DeployRecord:
    config_map = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings", "namespace": namespace},
                  "data": {"mode": "test"}}
    return DeployRecord.objects.create(
        composition=None,
        composition_name=manifest["metadata"]["name"],
        revision=3,
        action=action,
        context=context,
        namespace=namespace,
        user="tester",
        manifest_yaml=dump_documents([config_map, manifest]),
        outcome="succeeded",
        message="Every object applied.",
    )


def record_in(cluster, manifest: dict, **options: Any) -> DeployRecord:
    """``record_for`` in the context and namespace of a real-server ``Cluster`` (tests/support/realruntime.py)."""
    return record_for(manifest, context=cluster.context, namespace=cluster.namespace, **options)


# ---------------------------------------------------------------------------
# Reading SSE from the Django test client
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SseEvent:
    event: str
    data: str
    id: str = ""


class SseReader:
    """Events of a streaming response, read as they come (heartbeats keep reads short)."""

    def __init__(self, response) -> None:
        assert response.streaming, "not a streaming response"
        assert response["Content-Type"].startswith("text/event-stream"), response["Content-Type"]
        self.response = response
        self._chunks = iter(response.streaming_content)
        self._buffer = ""
        self.ended = False

    def _events(self) -> Iterator[SseEvent | None]:
        """Parsed events; None after each chunk that completed none (lets callers check the time)."""
        while True:
            while "\n\n" in self._buffer:
                block, self._buffer = self._buffer.split("\n\n", 1)
                parsed = _parse(block)
                if parsed is not None:
                    yield parsed
            try:
                chunk = next(self._chunks)
            except StopIteration:
                self.ended = True
                return
            self._buffer += chunk.decode()
            yield None

    def next(self, event: str | None = None, *, where: Callable[[SseEvent], bool] = lambda e: True,
             timeout: float = 10.0) -> SseEvent:
        deadline = time.monotonic() + timeout
        for parsed in self._events():
            if parsed is not None and (event is None or parsed.event == event) and where(parsed):
                return parsed
            if time.monotonic() > deadline:
                break
        raise AssertionError(f"no {event or 'event'} within {timeout} s (stream ended: {self.ended})")

    def rest(self, timeout: float = 10.0) -> list[SseEvent]:
        """Every event until the stream ends."""
        deadline, found = time.monotonic() + timeout, []
        for parsed in self._events():
            if parsed is not None:
                found.append(parsed)
            if time.monotonic() > deadline:
                raise AssertionError(f"the stream did not end within {timeout} s")
        return found

    def close(self) -> None:
        """Closes the response as a server does when the client has gone, except for the database: the
        close fires request_finished, whose handler closes a connection inside a transaction; here that
        connection holds the test's transaction, so it is kept open (the test client's own closing
        wrapper does the same; on SQLite's in-memory database closing does nothing, on PostgreSQL the
        test's next query would fail)."""
        with contextlib.ExitStack() as kept:
            for connection in connections.all(initialized_only=True):
                kept.enter_context(mock.patch.object(connection, "close_if_unusable_or_obsolete"))
            self.response.close()


def _parse(block: str) -> SseEvent | None:
    fields: dict[str, list[str]] = {}
    for line in block.split("\n"):
        if not line or line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        fields.setdefault(name, []).append(value[1:] if value.startswith(" ") else value)
    if "event" not in fields and "data" not in fields:
        return None
    return SseEvent((fields.get("event") or ["message"])[0], "\n".join(fields.get("data", [])),
                    (fields.get("id") or [""])[0])
