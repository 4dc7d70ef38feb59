"""The fault-injecting proxy's (tests/support/faultproxy.py) vocabulary: which injected fault a request
meets, and the record of a request.

- ``Fault``: ``method`` (None: any) and the regex ``path``, searched in the URL path (no query);
  ``times`` requests it applies to (None: all), ``hits`` so far. What it does: see ``FaultProxy.inject``.
- ``Faults``: the injected faults in order; ``take(method, path)`` gives the first that matches
  and is not used up, and counts the hit. Thread-safe.
- ``RecordedRequest``: method, path, query, headers, body as received; ``param(name)``, ``json()``.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from typing import Any

import yaml


@dataclass
class Fault:
    method: str | None
    path: re.Pattern[str]
    status: int | None = None
    message: str = ""
    stall: float = 0.0
    drop: bool = False
    drop_after_bytes: int | None = None
    answer: dict[str, Any] | None = None  # a JSON body to answer with (status, default 200) instead of forwarding
    headers: dict[str, str] = field(default_factory=dict)
    times: int | None = 1
    hits: int = 0

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method.upper() == method) and bool(self.path.search(path))

    @property
    def exhausted(self) -> bool:
        return self.times is not None and self.hits >= self.times


class Faults:
    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()

    def add(self, fault: Fault) -> Fault:
        with self._lock:
            self._faults.append(fault)
        return fault

    def take(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if not fault.exhausted and fault.matches(method, path):
                    fault.hits += 1
                    return fault
        return None

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str  # the URL path, without the query
    query: dict[str, list[str]] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)  # names in Title-Case: "Authorization", "Content-Type"
    body: bytes = b""

    @property
    def content_type(self) -> str:
        return self.headers.get("Content-Type", "")

    def param(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None

    def json(self) -> Any:
        if not self.body:
            return None
        return yaml.safe_load(self.body) if self.content_type.endswith("yaml") else json.loads(self.body)
