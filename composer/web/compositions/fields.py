"""The composer's text fields <-> composition structures.

Lists are edited one item per line so that every field is a plain, keyboard-friendly
textarea: `KEY=VALUE` for env and labels, `name port` for ports, `volume /path [ro]`
for mounts, `name port target` for Service ports. Parsing reports a message per field.
"""

from __future__ import annotations

import copy
from typing import Any

from django.http import QueryDict

from composer.domain import edits
from composer.domain.kinds import KINDS, KeyField, get_path, set_path
from composer.domain.model import Composition, CompositionError


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
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise ValueError(f"line {number}: {text!r} is not a port from 1 to 65535")
    return int(text)


def parse_ports(text: str) -> list[dict[str, Any]]:
    ports = []
    for number, line in enumerate(lines(text), start=1):
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
        ports.append(port)
    return ports


def format_ports(ports: list[dict[str, Any]]) -> str:
    rendered = []
    for port in ports:
        parts = [port["name"]] if port.get("name") else []
        parts.append(str(port.get("containerPort", "")))
        if port.get("protocol", "TCP") != "TCP":
            parts.append(port["protocol"])
        rendered.append(" ".join(parts))
    return "\n".join(rendered)


def parse_env(text: str, previous: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """KEY=VALUE lines; entries with valueFrom (not editable as text) are kept as they were."""
    kept = [copy.deepcopy(e) for e in previous if "valueFrom" in e]
    return kept + [{"name": k, "value": v} for k, v in parse_pairs(text).items()]


def format_env(env: list[dict[str, Any]]) -> str:
    return "\n".join(f"{e['name']}={e.get('value', '')}" for e in env if "valueFrom" not in e)


def parse_mounts(text: str, previous: list[dict[str, Any]]) -> list[dict[str, Any]]:
    extra = {(m.get("name"), m.get("mountPath")): m for m in previous}
    mounts = []
    for number, line in enumerate(lines(text), start=1):
        parts = line.split()
        well_formed = len(parts) in (2, 3) and parts[1].startswith("/") and parts[2:] in ([], ["ro"], ["rw"])
        if not well_formed:
            raise ValueError(f"line {number}: write 'VOLUME /path' or 'VOLUME /path ro'")
        # Keep fields the text form cannot show (subPath …) from the mount it replaces.
        mount = {k: v for k, v in extra.get((parts[0], parts[1]), {}).items() if k not in ("readOnly",)}
        mount.update({"name": parts[0], "mountPath": parts[1]})
        if len(parts) == 3 and parts[2] == "ro":
            mount["readOnly"] = True
        mounts.append(mount)
    return mounts


def format_mounts(mounts: list[dict[str, Any]]) -> str:
    return "\n".join(f"{m['name']} {m['mountPath']}{' ro' if m.get('readOnly') else ''}" for m in mounts)


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


def apply_app_form(composition: Composition, post: QueryDict) -> Composition:
    """A new composition with the app container fields from the form; FormErrors if any is invalid."""
    app = composition.app
    values, errors = _parse_fields(
        {
            "name": str.strip,
            "image": str.strip,
            "command": lines,
            "args": lines,
            "env": lambda text: parse_env(text, app.env),
            "ports": parse_ports,
            "volume_mounts": lambda text: parse_mounts(text, app.volume_mounts),
        },
        post,
    )
    data = composition.to_dict()
    data["app"].update(values)
    return _validated(data, errors, prefix="app.")


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
    edited = _validated(data, errors, prefix="")
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
        if key_field.number and text and not text.isdigit():
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


def _validated(data: dict[str, Any], errors: dict[str, str], prefix: str) -> Composition:
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


def _field_name(path: str, prefix: str) -> str:
    if prefix and path.startswith(prefix):
        return path[len(prefix):].split(".")[0].split("[")[0]
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
    composition = _validated(data, errors, prefix="")
    edits.change_kind(composition, kind)
    return composition
