"""Characters that text from outside may not carry.

- NUL (U+0000) nowhere: not in a key, not in a value. PostgreSQL cannot store it (neither in
  text nor in jsonb), and no Kubernetes field means it.
- No control character (C0: U+0000 to U+001F, and DEL, U+007F) in a name: names end up in URLs,
  request paths, file names, log lines and the audit CSV, and Kubernetes accepts none there.
  Free text (env values, scripts, ConfigMap data, annotation values) keeps its tabs and line breaks.

Pure Python, used by the model parse (so the API, the forms and imports all refuse alike) and by
deploy requests.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

NUL_PROBLEM = "must not contain NUL characters (\\u0000)"
CONTROL_PROBLEM = "must not contain control characters (such as NUL, tab, line breaks or DEL)"


def has_control_characters(text: Any) -> bool:
    return isinstance(text, str) and _CONTROL.search(text) is not None


def control_character_problem(text: Any) -> str | None:
    """The problem of a name with control characters in it, or None."""
    return CONTROL_PROBLEM if has_control_characters(text) else None


def _shown(key: str) -> str:
    """A key fit for an error path: control characters as \\uXXXX escapes."""
    return _CONTROL.sub(lambda match: f"\\u{ord(match[0]):04x}", key)


def _join(where: str, step: str | int) -> str:
    if isinstance(step, int):
        return f"{where}[{step}]"
    return f"{where}.{_shown(step)}" if where else _shown(step)


def _has_nul(value: Any) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        if item.__class__ is str:
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            for key, child in item.items():
                if isinstance(key, str) and "\x00" in key:
                    return True
                stack.append(child)
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str) and "\x00" in item:
            return True
    return False


def nul_problems(value: Any, where: str = "") -> dict[str, str]:
    """{path: problem} for every key and string under ``value`` holding a NUL; iterative, so depth is free."""
    if not _has_nul(value):  # the usual case, without building a path for every value
        return {}
    problems: dict[str, str] = {}
    stack: list[tuple[str, Any]] = [(where, value)]
    while stack:
        path, item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                problems[path or "(the body)"] = NUL_PROBLEM
        elif isinstance(item, dict):
            for key, child in item.items():
                child_path = _join(path, key if isinstance(key, str) else str(key))
                if isinstance(key, str) and "\x00" in key:
                    problems[child_path] = f"the key {NUL_PROBLEM}"
                stack.append((child_path, child))
        elif isinstance(item, list):
            stack.extend((_join(path, index), child) for index, child in enumerate(item))
    return problems


def _get(data: Any, *steps: str) -> Any:
    for step in steps:
        if not isinstance(data, dict):
            return None
        data = data.get(step)
    return data


def _items(data: Any) -> Iterator[tuple[int, dict]]:
    items = data if isinstance(data, list) else []
    return ((index, item) for index, item in enumerate(items) if isinstance(item, dict))


def _composition_names(data: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    """(path, value) of every name a composition holds (of any type: shapes are checked elsewhere)."""
    workload = _get(data, "workload")
    yield "workload.name", _get(workload, "name")
    yield "workload.namespace", _get(workload, "namespace")
    for section in ("labels", "annotations"):
        mapping = _get(workload, section)
        for key, value in mapping.items() if isinstance(mapping, dict) else ():
            yield _join(f"workload.{section}", str(key)), key
            if section == "labels":
                yield _join("workload.labels", str(key)), value
    app = _get(data, "app")
    yield "app.name", _get(app, "name")
    for field in ("env", "ports", "volume_mounts"):
        for index, item in _items(_get(app, field)):
            yield f"app.{field}[{index}].name", item.get("name")
    for index, helper in _items(_get(data, "helpers")):
        yield f"helpers[{index}].id", helper.get("id")
        container = _get(helper, "params", "container")
        yield f"helpers[{index}].params.container.name", _get(container, "name")
    for index, volume in _items(_get(data, "options", "volumes")):
        yield f"options.volumes[{index}].name", volume.get("name")
    for index, port in _items(_get(data, "options", "service", "ports")):
        yield f"options.service.ports[{index}].name", port.get("name")
    for index, extra in _items(_get(data, "extra_objects")):
        yield f"extra_objects[{index}].metadata.name", _get(extra, "metadata", "name")
        yield f"extra_objects[{index}].metadata.namespace", _get(extra, "metadata", "namespace")


def composition_character_problems(data: Any) -> dict[str, str]:
    """{field path: problem} for NUL anywhere in a composition and control characters in its names."""
    if not isinstance(data, dict):
        return {}
    problems = nul_problems(data)
    for path, name in _composition_names(data):
        if path not in problems and has_control_characters(name):
            problems[path] = CONTROL_PROBLEM
    return problems
