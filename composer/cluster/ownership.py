"""What Pod Studio owns of a live object (its managedFields entry) and what an apply would leave.

Server-side apply records, per field manager, the fields it set (``fieldsV1``). apply.py reads
Pod Studio's entry to tell its own changes from other writers' (``owned_values``) and, when the
server refuses a change, to show roughly what the change would have made of the object (``overlay``).
"""

from __future__ import annotations

import copy
import json
from typing import Any

FIELD_MANAGER = "pod-studio"


def owned_fields(live: dict[str, Any]) -> dict[str, Any]:
    """The fields Pod Studio's last apply set (managedFields' fieldsV1 tree), empty when none."""
    for entry in (live.get("metadata") or {}).get("managedFields") or []:
        if entry.get("manager") == FIELD_MANAGER and entry.get("operation") == "Apply":
            return entry.get("fieldsV1") or {}
    return {}


# Keys of the lists a server merges item by item (containers, env, volumes, volumeMounts, ports …).
_LIST_KEYS = ("name", "mountPath", "devicePath", "containerPort", "port", "ip", "type")


def overlay(live: dict[str, Any], manifest: dict[str, Any], owned: dict[str, Any]) -> dict[str, Any]:
    """Roughly what an apply would leave: the manifest's fields over the live object's.

    As server-side apply does, and as found on a real API server (which fills dozens of defaults:
    imagePullPolicy, terminationMessagePath, the service account's volumeMount …): lists of named
    items merge item by item, and what the live object has beyond the manifest stays unless Pod
    Studio set it last time (``owned``) and no longer does. Replacing lists whole showed every
    default of every container as removed.
    """
    merged = copy.deepcopy(live)
    for key in [key for key in merged if key not in manifest and f"f:{key}" in owned]:
        del merged[key]
    for key, value in manifest.items():
        old, inner = merged.get(key), owned.get(f"f:{key}") or {}
        list_key = _list_key(old, value)
        if isinstance(value, dict) and isinstance(old, dict):
            merged[key] = overlay(old, value, inner)
        elif list_key:
            merged[key] = _overlay_list(old, value, list_key, inner)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _list_key(old: Any, new: Any) -> str | None:
    if not (isinstance(old, list) and isinstance(new, list) and old and new):
        return None
    for key in _LIST_KEYS:
        keyed = all(isinstance(item, dict) and key in item for item in (*old, *new))
        if keyed and all(len({repr(item[key]) for item in items}) == len(items) for items in (old, new)):
            return key
    return None


def _overlay_list(old: list[Any], new: list[Any], key: str, owned: dict[str, Any]) -> list[Any]:
    live_items = {repr(item[key]): item for item in old}
    merged = []
    for item in new:
        match = live_items.pop(repr(item[key]), None)
        merged.append(copy.deepcopy(item) if match is None else overlay(match, item, _owned_item(owned, match) or {}))
    # Items only the live object has: kept unless Pod Studio applied them last time.
    merged.extend(copy.deepcopy(item) for item in live_items.values() if _owned_item(owned, item) is None)
    return merged


def _owned_item(owned: dict[str, Any], item: dict[str, Any]) -> dict[str, Any] | None:
    """The fieldsV1 entry of a list item (``k:{"name":"app"}``), if Pod Studio's apply set it."""
    for entry, inner in owned.items():
        if _is_keyed_by(item, entry):
            return inner if isinstance(inner, dict) else {}
    return None


def _is_keyed_by(item: Any, entry: str) -> bool:
    """Whether a list item is the one a fieldsV1 key entry (``k:{"name":"app"}``) names."""
    if not entry.startswith("k:") or not isinstance(item, dict):
        return False
    try:
        fields = json.loads(entry[2:])
    except ValueError:
        return False
    return isinstance(fields, dict) and all(item.get(name) == value for name, value in fields.items())


def owned_values(obj: Any, fields: Any) -> Any:
    """The values of ``obj`` at the paths of a managedFields fieldsV1 tree."""
    if not isinstance(fields, dict) or not any(key != "." for key in fields):
        return obj  # a leaf (or an atomic value): the whole value
    if isinstance(obj, dict):
        return {key: owned_values(obj.get(key[2:]), inner) for key, inner in fields.items() if key.startswith("f:")}
    if isinstance(obj, list):
        values: dict[str, Any] = {}
        for key, inner in fields.items():
            if key.startswith("k:"):
                values[key] = owned_values(next((i for i in obj if _is_keyed_by(i, key)), None), inner)
            elif key.startswith("v:"):
                values[key] = key[2:] in {json.dumps(item, separators=(",", ":")) for item in obj}
            elif key.startswith("i:") and key[2:].isdigit():
                index = int(key[2:])
                values[key] = owned_values(obj[index] if index < len(obj) else None, inner)
        return values
    return obj
