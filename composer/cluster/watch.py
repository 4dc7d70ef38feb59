"""A resumable watch of one collection: the list-then-watch loop of a Kubernetes client.

``Watch`` LISTs, WATCHes from the list's resourceVersion, re-WATCHes from the last seen
resourceVersion when the server ends a watch (timeoutSeconds), re-LISTs on 410 Gone, and after
a failure reports it (``Lost``), waits (growing back-off, ``WatchSettings``) and re-LISTs.
``close()`` works from any thread.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import urllib3

from composer.cluster.contexts import Connection
from composer.cluster.errors import ClusterError
from composer.cluster.streams import open_stream, read_lines, shut


@dataclass(frozen=True)
class Synced:
    """A fresh LIST: ``items`` is the whole current set."""

    items: tuple[dict[str, Any], ...]
    resource_version: str


@dataclass(frozen=True)
class Changed:
    type: str  # ADDED, MODIFIED, DELETED
    object: dict[str, Any]


@dataclass(frozen=True)
class Lost:
    """The cluster could not be asked; the watch retries after ``retry_in`` seconds."""

    error: ClusterError
    retry_in: float


@dataclass(frozen=True)
class WatchSettings:
    watch_seconds: int = 50  # the server ends each watch after this; we re-watch from the last version
    read_grace: float = 10.0  # silence beyond watch_seconds + this means the connection is dead
    backoff_first: float = 0.5
    backoff_max: float = 15.0


class _Expired(Exception):
    """410 Gone: the resourceVersion is older than the server's history; LIST again."""


class Watch:
    """Iterate for Synced / Changed / Lost updates of one collection, until ``close()``."""

    def __init__(
        self,
        connection: Connection,
        path: str,
        query: Iterable[tuple[str, Any]] = (),
        settings: WatchSettings | None = None,
    ) -> None:
        self.connection = connection
        self.path = path
        self.query = list(query)
        self.settings = settings or WatchSettings()
        self._stop = threading.Event()
        self._response: urllib3.BaseHTTPResponse | None = None
        self._lock = threading.Lock()

    @property
    def closed(self) -> bool:
        return self._stop.is_set()

    def close(self) -> None:
        self._stop.set()
        with self._lock:
            response, self._response = self._response, None
        shut(response)

    def __iter__(self) -> Iterator[Synced | Changed | Lost]:
        backoff = self.settings.backoff_first
        while not self.closed:
            try:
                version = yield from self._list()
                backoff = self.settings.backoff_first
                while not self.closed:
                    version = yield from self._watch_from(version)
            except _Expired:
                continue  # LIST again straight away
            except ClusterError as error:
                if self.closed:
                    return
                yield Lost(error, backoff)
                self._stop.wait(backoff)
                backoff = min(backoff * 2, self.settings.backoff_max)

    def _list(self) -> Iterator[Synced]:
        _, listing = self.connection.request("GET", self.path, query=self.query)
        version = str((listing.get("metadata") or {}).get("resourceVersion") or "")
        yield Synced(tuple(listing.get("items") or []), version)
        return version

    def _watch_from(self, version: str) -> Iterator[Changed]:
        """One WATCH request; returns the last resourceVersion seen when the server ends it."""
        query = [
            *self.query,
            ("watch", "true"),
            ("resourceVersion", version),
            ("allowWatchBookmarks", "true"),
            ("timeoutSeconds", self.settings.watch_seconds),
        ]
        read_timeout = self.settings.watch_seconds + self.settings.read_grace
        response = open_stream(self.connection, self.path, query, read_timeout=read_timeout)
        with self._lock:
            if self.closed:
                shut(response)
                return version
            self._response = response
        try:
            with self.connection.translated_errors():
                for lines in read_lines(response):
                    for line in lines:
                        version = yield from self._handle(line, version)
        except Exception:
            if self.closed:  # close() cut the connection under the read: whatever it raised, we are done
                return version
            raise
        finally:
            with self._lock:
                self._response = None
            shut(response)
        return version

    def _handle(self, line: bytes, version: str) -> Iterator[Changed]:
        if not line.strip():
            return version
        try:
            event = json.loads(line)
        except ValueError:
            raise ClusterError("server", "The cluster sent a watch event that is not JSON.") from None
        kind, obj = event.get("type"), event.get("object") or {}
        if kind == "ERROR":
            if obj.get("code") == 410:
                raise _Expired()
            message = f"The cluster ended the watch with an error: {obj.get('message') or 'unknown error'}"
            raise ClusterError("server", message, status=obj.get("code"))
        new_version = (obj.get("metadata") or {}).get("resourceVersion") or version
        if kind != "BOOKMARK":
            yield Changed(kind, obj)
        return new_version
