"""The composer's text fields <-> composition structures.

Lists are edited one item per line so that every field is a plain, keyboard-friendly
textarea: `KEY=VALUE` for env and labels (`KEY=secret:NAME/KEY`, `KEY=configmap:NAME/KEY` for a value from
a Secret or ConfigMap), `configmap:NAME` or `secret:NAME` for envFrom, `name port` for ports,
`volume /path [ro]` for mounts, `name port target` for Service ports. A container's list entry the line
syntax cannot say (an env var from a fieldRef, a mount with a subPath …) is one line of flow YAML,
`{name: POD_IP, valueFrom: {fieldRef: {fieldPath: status.podIP}}}`, so nothing is hidden or lost; a
command or argument list the lines cannot hold (a multi-line script) is shown as a YAML list. Parsing
reports a message per field.
"""

from __future__ import annotations

import copy
from typing import Any

from django.http import QueryDict

from composer.domain import edits
from composer.domain.kinds import KINDS, KeyField, get_path, set_path
from composer.domain.model import Composition, CompositionError
from composer.domain.names import object_name_problem
from composer.domain.yamlio import YamlError, dump_flow, dump_value, load_value


class FormErrors(ValueError):
    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


def lines(text: str) -> list[str]:
    return [line.strip() for line in text.replace("\r\n", "\n").split("\n") if line.strip()]


def parse_pairs(text: str) -> dict[str, str]:
    pairs = {}
    for number, line in enumerate(lines(text), start=1):
        key, sep, value = line.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"line {number}: write KEY=VALUE")
        pairs[key.strip()] = value.strip()
    return pairs


def format_pairs(pairs: dict[str, str]) -> str:
    return "\n".join(f"{k}={v}" for k, v in pairs.items())


def _port_number(text: str, number: int) -> int:
    if not (text.isascii() and text.isdigit() and len(text) <= 5) or not 1 <= int(text) <= 65535:
        raise ValueError(f"line {number}: {text!r} is not a port from 1 to 65535")
    return int(text)


def _flow_entry(line: str, number: int) -> dict[str, Any]:
    """A line of flow YAML: one list entry the line syntax cannot say."""
    try:
        entry = load_value(line)
    except YamlError as error:
        raise ValueError(f"line {number}: {error.problem}") from None
    if not isinstance(entry, dict):
        raise ValueError(f"line {number}: a line in braces is one entry as flow YAML, e.g. {{name: A, value: b}}")
    return entry


def _entries(text: str, parse_line, previous: list[dict[str, Any]], format_line) -> list[dict[str, Any]]:
    """One entry per line: flow YAML in braces, else `parse_line(line, number)`. A line that reads as it
    was shown keeps its entry exactly (`value: 5` is not made "5")."""
    shown: dict[str, list[dict[str, Any]]] = {}
    for entry in previous:
        shown.setdefault(_entry_line(entry, format_line), []).append(entry)
    entries = []
    for number, line in enumerate(lines(text), start=1):
        if shown.get(line):
            entries.append(copy.deepcopy(shown[line].pop(0)))
        elif line.startswith("{"):
            entries.append(_flow_entry(line, number))
        else:
            entries.append(parse_line(line, number))
    return entries


def _entry_line(entry: dict[str, Any], format_line) -> str:
    return format_line(entry) or dump_flow(entry)


def _format_entries(entries: list[dict[str, Any]], format_line) -> str:
    return "\n".join(_entry_line(entry, format_line) for entry in entries)


def _one_line(text: Any) -> bool:
    """Text a line shows as it is: one line, not empty, nothing around it that the line would lose."""
    return isinstance(text, str) and bool(text) and "\n" not in text and "\r" not in text and text == text.strip()


def _plain(text: Any) -> bool:
    """Text that may start a line: one line, and not one of flow YAML."""
    return _one_line(text) and not text.startswith("{")


ENV_SOURCES = {"secret": "secretKeyRef", "configmap": "configMapKeyRef"}
_KEY_CHARACTERS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._")
LITERAL = "literal:"  # in front of a value that would otherwise read as a reference: the value as written


def _reference(value: str) -> tuple[str, str, str] | None:
    """('secret' or 'configmap', name, key) if `value` reads as a reference."""
    source, colon, rest = value.partition(":")
    name, slash, key = rest.partition("/")
    if colon and slash and source in ENV_SOURCES and name and key and not any(c.isspace() for c in rest):
        return source, name, key
    return None


def _env_line(line: str, number: int) -> dict[str, Any]:
    key, sep, value = line.partition("=")
    name, value = key.strip(), value.strip()
    if not sep or not name:
        raise ValueError(f"line {number}: write KEY=VALUE, KEY=secret:NAME/KEY or KEY=configmap:NAME/KEY")
    if value.startswith(LITERAL):
        return {"name": name, "value": value.removeprefix(LITERAL)}
    reference = _reference(value)
    if reference is None:
        return {"name": name, "value": value}
    source, object_name, object_key = reference
    kind = "Secret" if source == "secret" else "ConfigMap"
    problem = object_name_problem(kind, object_name)
    problem = f"its name: {problem}" if problem else None
    if not problem and not set(object_key) <= _KEY_CHARACTERS:
        problem = f"its key {object_key!r} may have letters, digits, '-', '_' and '.'"
    if problem:
        raise ValueError(f"line {number}: {source}:{object_name}/{object_key} reads as a {kind} value ({problem}): "
                         f"write {name}={LITERAL}{value} for the text as it is")
    return {"name": name, "valueFrom": {ENV_SOURCES[source]: {"name": object_name, "key": object_key}}}


def _format_env_entry(entry: dict[str, Any]) -> str | None:
    name = entry.get("name")
    if not _plain(name) or "=" in name:
        return None
    if set(entry) == {"name", "value"} and isinstance(entry["value"], str):
        value = entry["value"]
        if value and not _one_line(value):
            return None
        escaped = value.startswith(LITERAL) or _reference(value) is not None
        return f"{name}={LITERAL if escaped else ''}{value}"
    if set(entry) == {"name"}:
        return f"{name}="
    value_from = entry.get("valueFrom")
    if set(entry) != {"name", "valueFrom"} or not isinstance(value_from, dict) or len(value_from) != 1:
        return None
    [(field, reference)] = value_from.items()
    source = next((s for s, f in ENV_SOURCES.items() if f == field), None)
    if source is None or not isinstance(reference, dict) or set(reference) != {"name", "key"}:
        return None
    text = f"{source}:{reference['name']}/{reference['key']}"
    return f"{name}={text}" if _reference(text) == (source, reference["name"], reference["key"]) else None


def parse_env(text: str, previous: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """KEY=VALUE lines, KEY=secret:NAME/KEY and KEY=configmap:NAME/KEY for a value from a Secret or a
    ConfigMap, `literal:` in front of a value that would read as one, flow YAML for any other entry."""
    return _entries(text, _env_line, previous, _format_env_entry)


def format_env(env: list[dict[str, Any]]) -> str:
    return _format_entries(env, _format_env_entry)


def _env_from_line(line: str, number: int) -> dict[str, Any]:
    parts = line.split()
    source, colon, name = parts[0].partition(":") if parts else ("", "", "")
    prefix = parts[1].removeprefix("prefix=") if len(parts) == 2 and parts[1].startswith("prefix=") else None
    if source not in ENV_SOURCES or not colon or not name or len(parts) > 2 or (len(parts) == 2 and not prefix):
        raise ValueError(f"line {number}: write 'configmap:NAME' or 'secret:NAME', optionally 'prefix=PREFIX_'")
    kind = "Secret" if source == "secret" else "ConfigMap"
    problem = object_name_problem(kind, name)
    if problem:
        raise ValueError(f"line {number}: the {kind}'s name {name!r}: {problem}")
    entry: dict[str, Any] = {f"{'secret' if source == 'secret' else 'configMap'}Ref": {"name": name}}
    if prefix:
        entry = {"prefix": prefix, **entry}
    return entry


def _format_env_from_entry(entry: dict[str, Any]) -> str | None:
    refs = [key for key in entry if key in ("configMapRef", "secretRef")]
    if len(refs) != 1 or set(entry) - {refs[0], "prefix"}:
        return None
    reference, prefix = entry[refs[0]], entry.get("prefix")
    if not isinstance(reference, dict) or set(reference) != {"name"} or not _plain(reference["name"]):
        return None
    if prefix is not None and not (_plain(prefix) and " " not in prefix):
        return None
    source = "secret" if refs[0] == "secretRef" else "configmap"
    return f"{source}:{reference['name']}" + (f" prefix={prefix}" if prefix else "")


def parse_env_from(text: str, previous: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return _entries(text, _env_from_line, previous, _format_env_from_entry)


def format_env_from(env_from: list[dict[str, Any]]) -> str:
    return _format_entries(env_from, _format_env_from_entry)


def _port_line(line: str, number: int) -> dict[str, Any]:
    parts = line.replace("/", " ").split()
    protocol = parts.pop().upper() if parts and parts[-1].upper() in ("TCP", "UDP", "SCTP") else "TCP"
    if len(parts) == 1:
        port: dict[str, Any] = {"containerPort": _port_number(parts[0], number)}
    elif len(parts) == 2:
        port = {"name": parts[0], "containerPort": _port_number(parts[1], number)}
    else:
        raise ValueError(f"line {number}: write 'PORT' or 'NAME PORT', e.g. 'http 8080'")
    if protocol != "TCP":
        port["protocol"] = protocol
    return port


def _format_port_entry(port: dict[str, Any]) -> str | None:
    number, name, protocol = port.get("containerPort"), port.get("name"), port.get("protocol", "TCP")
    if set(port) - {"name", "containerPort", "protocol"} or not isinstance(number, int) or isinstance(number, bool):
        return None
    if (name is not None and not (_plain(name) and " " not in name and "/" not in name)) \
            or protocol not in ("TCP", "UDP", "SCTP"):
        return None
    parts = [name] if name else []
    parts.append(str(number))
    if protocol != "TCP":
        parts.append(protocol)
    return " ".join(parts)


def parse_ports(text: str, previous: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    return _entries(text, _port_line, previous or [], _format_port_entry)


def format_ports(ports: list[dict[str, Any]]) -> str:
    return _format_entries(ports, _format_port_entry)


def _mount_line(line: str, number: int) -> dict[str, Any]:
    parts = line.split()
    well_formed = len(parts) in (2, 3) and parts[1].startswith("/") and parts[2:] in ([], ["ro"], ["rw"])
    if not well_formed:
        raise ValueError(f"line {number}: write 'VOLUME /path' or 'VOLUME /path ro'")
    mount: dict[str, Any] = {"name": parts[0], "mountPath": parts[1]}
    if parts[2:] == ["ro"]:
        mount["readOnly"] = True
    return mount


def _format_mount_entry(mount: dict[str, Any]) -> str | None:
    name, path, read_only = mount.get("name"), mount.get("mountPath"), mount.get("readOnly", False)
    if set(mount) - {"name", "mountPath", "readOnly"} or not isinstance(read_only, bool):
        return None
    if not (_plain(name) and " " not in name and _plain(path) and " " not in path and path.startswith("/")):
        return None
    return f"{name} {path}{' ro' if read_only else ''}"


def parse_mounts(text: str, previous: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`VOLUME /path [ro]` lines; a mount with more (subPath, mountPropagation …) is a line of flow YAML."""
    return _entries(text, _mount_line, previous, _format_mount_entry)


def format_mounts(mounts: list[dict[str, Any]]) -> str:
    return _format_entries(mounts, _format_mount_entry)


def format_arguments(items: list[str]) -> str:
    """One argument per line; a list the lines cannot hold (an empty or multi-line argument, one with spaces
    around it, a first one that reads as YAML) as a YAML list."""
    plain = all(isinstance(item, str) and item and "\n" not in item and "\r" not in item and item == item.strip()
                for item in items)
    if plain and not (items and (items[0].startswith(("- ", "[")) or items[0] == "-")):
        return "\n".join(items)
    return dump_value(list(items)).rstrip("\n")


def parse_arguments(text: str) -> list[str]:
    first = text.lstrip()
    if not first.startswith(("- ", "-\n", "[")) and first != "-":
        return lines(text)
    try:
        items = load_value(text)
    except YamlError as error:
        raise ValueError(f"a YAML list of arguments: {error}") from None
    if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
        raise ValueError("a YAML list of arguments: each one text (quote numbers: '8080')")
    return items


def parse_service_ports(text: str) -> list[dict[str, Any]]:
    ports = []
    for number, line in enumerate(lines(text), start=1):
        parts = line.split()
        if len(parts) not in (2, 3):
            raise ValueError(f"line {number}: write 'NAME PORT [TARGET]', e.g. 'http 80 http'")
        target: int | str = parts[2] if len(parts) == 3 else parts[1]
        if isinstance(target, str) and target.isdigit():
            target = _port_number(target, number)
        ports.append({"name": parts[0], "port": _port_number(parts[1], number), "targetPort": target})
    return ports


def format_service_ports(ports: list[dict[str, Any]]) -> str:
    return "\n".join(f"{p.get('name', '')} {p.get('port')} {p.get('targetPort', p.get('port'))}".strip() for p in ports)


def _parse_fields(parsers: dict[str, Any], post: QueryDict) -> tuple[dict[str, Any], dict[str, str]]:
    values, errors = {}, {}
    for field, parse in parsers.items():
        if field not in post:
            continue
        try:
            values[field] = parse(post[field])
        except ValueError as error:
            errors[field] = str(error)
    return values, errors


def apply_pod_form(composition: Composition, post: QueryDict) -> Composition:
    values, errors = _parse_fields(
        {
            "kind": str.strip,
            "name": str.strip,
            "namespace": str.strip,
            "labels": parse_pairs,
            "replicas": lambda text: int(text) if text.strip().lstrip("-").isdigit() else (
                None if not text.strip() else text),
            "termination_grace_period_seconds": lambda text: int(text) if text.strip().isdigit() else (
                None if not text.strip() else text),
            "service_type": str.strip,
            "service_ports": parse_service_ports,
        },
        post,
    )
    kind_values = _parse_key_fields(composition.workload.kind, post, errors)
    data = composition.to_dict()
    workload, options, service = data["workload"], data["options"], data["options"]["service"]
    for field in ("name", "namespace", "labels", "replicas"):
        if field in values:
            workload[field] = values[field]
    _rename_default_label(composition, workload, values)
    for key_field, value in kind_values:
        set_path(workload["extra"], key_field.path, value)
    if "termination_grace_period_seconds" in values:
        options["termination_grace_period_seconds"] = values["termination_grace_period_seconds"]
    # Checkboxes are absent when unticked; the form always sends a marker for them.
    if "checkboxes" in post:
        options["share_process_namespace"] = post.get("share_process_namespace") == "on"
        service["enabled"] = post.get("service_enabled") == "on"
    if "service_type" in values:
        service["type"] = values["service_type"]
    if "service_ports" in values:
        service["ports"] = values["service_ports"]
    edited = validated(data, errors, prefix="")
    if values.get("kind", edited.workload.kind) != edited.workload.kind:
        try:
            edits.change_kind(edited, values["kind"])
        except edits.EditError as error:
            raise FormErrors(error.errors) from None
    return edited


def _rename_default_label(composition: Composition, workload: dict[str, Any], values: dict[str, Any]) -> None:
    """A rename carries the `app` label along when it is the old name and the labels were left as they were:
    the Pod labels, the selector and the Service selector derived from them then follow the new name."""
    old_name, new_name = composition.workload.name, values.get("name", composition.workload.name)
    labels_as_shown = values.get("labels", composition.workload.labels) == composition.workload.labels
    if new_name != old_name and labels_as_shown and composition.workload.labels.get("app") == old_name:
        workload["labels"] = {**composition.workload.labels, "app": new_name}


def key_field_name(key_field: KeyField) -> str:
    """The form field of a kind's key field: `spec-` and its path (ids and names without dots)."""
    return "spec-" + key_field.path.replace(".", "-")


def kind_field_names(kind_name: str) -> list[str]:
    return [key_field_name(key_field) for key_field in KINDS[kind_name].key_fields]


def kind_field_rows(composition: Composition) -> list[dict[str, Any]]:
    """The current kind's key fields for the form, with their values as text."""
    rows = []
    for key_field in KINDS[composition.workload.kind].key_fields:
        value = get_path(composition.workload.extra, key_field.path)
        rows.append({"field": key_field, "name": key_field_name(key_field),
                     "value": "" if value is None else str(value)})
    return rows


def _parse_key_fields(kind_name: str, post: QueryDict, errors: dict[str, str]) -> list[tuple[KeyField, Any]]:
    """(key field, value) for each one posted; an empty one is left out of the manifest (None)."""
    found = []
    for key_field in KINDS[kind_name].key_fields if kind_name in KINDS else ():
        name = key_field_name(key_field)
        if name not in post:
            continue
        text = post[name].strip()
        if key_field.number and text and not (text.isascii() and text.isdigit()):
            errors[name] = "a whole number of at least 0, or empty"
            continue
        found.append((key_field, (int(text) if key_field.number else text) if text else None))
    return found


FIELD_FOR_PATH = {
    "workload.kind": "kind",
    "workload.name": "name",
    "app.image": "image",
    "workload.namespace": "namespace",
    "workload.labels": "labels",
    "workload.replicas": "replicas",
    "options.termination_grace_period_seconds": "termination_grace_period_seconds",
    "options.service.type": "service_type",
}


def validated(data: dict[str, Any], errors: dict[str, str], prefix: str) -> Composition:
    """The composition `data` describes; FormErrors with `errors` and the model's own, by form field."""
    try:
        composition = Composition.from_dict(data)
    except CompositionError as error:
        for path, message in error.errors.items():
            field = _field_name(path, prefix)
            errors.setdefault(field, message)
        composition = None
    if errors:
        raise FormErrors(errors)
    return composition


APP_FIELD_FOR_PATH = {"extra": "other_fields", "resources": "other_fields"}


def _field_name(path: str, prefix: str) -> str:
    if prefix and path.startswith(prefix):
        name = path[len(prefix):].split(".")[0].split("[")[0]
        return APP_FIELD_FOR_PATH.get(name, name)
    if path.startswith("workload.extra."):
        return "spec-" + path.removeprefix("workload.extra.").replace(".", "-")
    for known, field in FIELD_FOR_PATH.items():
        if path.startswith(known):
            return field
    if path.startswith("options.service.ports") or path.startswith("workload.labels"):
        return "service_ports" if "service" in path else "labels"
    return path


def starting_composition(name: str, image: str, kind: str) -> Composition:
    """A new composition of one app container: the workload named `name` (its Pods labelled app=`name`)."""
    errors = {}
    if not name:
        errors["name"] = "required: the workload's name, e.g. shop (lower-case letters, digits and '-')"
    if not image:
        errors["image"] = "required: the app's image, e.g. nginx:1.27"
    if kind not in KINDS:
        errors["kind"] = f"must be one of {', '.join(KINDS)}"
    data = Composition().to_dict()
    data["workload"].update(name=name, labels={"app": name})
    data["app"]["image"] = image or "nginx:1.27"  # a missing image is said above; check the name meanwhile
    composition = validated(data, errors, prefix="")
    edits.change_kind(composition, kind)
    return composition
