"""The container editor: a container split into the form's inputs and Other fields, and put back.

See container_inputs.py for what the form shows. Posting the form changes only what was typed: an input
whose text is what it showed keeps its value exactly (`cpu: 1` stays a number). A field is set in one
place: a value in a section and the same field in Other fields is a message beside Other fields. A probe
(or preStop hook) exists when what it checks is chosen; "nothing" removes it, whatever its other inputs
still say (the page hides them then).
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from typing import Any

from composer.domain.model import Composition
from composer.domain.quantities import value
from composer.domain.schema import container_fields
from composer.domain.shapes import container_problems
from composer.domain.yamlio import YamlError, dump_value, load_value
from composer.web.compositions import fields as text_fields
from composer.web.compositions.container_inputs import (
    BASIC_KEYS,
    FORMAT,
    GROUPS,
    OTHER_FIELDS,
    PARSE,
    SECTIONS,
    TEXT_FIELDS,
    TOP_INPUTS,
    Input,
    fits,
    parse,
    text_of,
)
from composer.web.compositions.fields import FormErrors

# --------------------------------------------------------------------------- container <-> inputs


def _get(holder: Any, path: tuple[str, ...]) -> Any:
    for part in path:
        if not isinstance(holder, dict) or part not in holder:
            return None
        holder = holder[part]
    return holder


def _remove(holder: dict[str, Any], path: tuple[str, ...]) -> None:
    """Removes the value at `path`, and the mappings it leaves empty."""
    parents = [holder]
    for part in path[:-1]:
        parents.append(parents[-1][part])
    del parents[-1][path[-1]]
    for depth in range(len(path) - 1, 0, -1):
        if parents[depth]:
            break
        del parents[depth - 1][path[depth - 1]]


def _resolved(path: tuple[str, ...], handler: str) -> tuple[str, ...]:
    return tuple(handler if part == "*" else part for part in path)


def _applies(spec: Input, handler: str) -> bool:
    return not spec.handlers or handler in spec.handlers


@dataclass
class Split:
    """A container as the editor shows it: each input's value, and the rest (Other fields)."""

    values: dict[str, Any] = field(default_factory=dict)
    rest: dict[str, Any] = field(default_factory=dict)

    def texts(self) -> dict[str, str]:
        texts = {spec.name: text_of(spec, self.values.get(spec.name)) for spec in TOP_INPUTS}
        for group in GROUPS:
            texts[group.handler.name] = self.values.get(group.handler.name, "")
            texts.update({spec.name: text_of(spec, self.values.get(spec.name)) for spec in group.inputs})
        return texts


def split(container: dict[str, Any]) -> Split:
    result = Split(rest={key: copy.deepcopy(v) for key, v in container.items() if key not in BASIC_KEYS})
    rest = result.rest

    def take(spec: Input, path: tuple[str, ...]) -> None:
        found = _get(rest, path)
        if found is not None and fits(spec, found):
            result.values[spec.name] = found
            _remove(rest, path)

    for spec in TOP_INPUTS:
        take(spec, spec.path)
    for group in GROUPS:
        holder = _get(rest, group.path)
        handler = next((key for key, _ in group.handler.choices
                        if key and isinstance(holder, dict) and isinstance(holder.get(key), dict)), None)
        if handler is None:
            continue
        result.values[group.handler.name] = handler
        for spec in group.inputs:
            if _applies(spec, handler):
                take(spec, group.path + _resolved(spec.path, handler))
        for path in (group.path + (handler,), group.path):  # the handler's and the group's: the form's now
            if _get(rest, path) == {}:
                _remove(rest, path)
    return result


def _put(target: dict[str, Any], path: tuple[str, ...], put: Any, conflicts: list[str]) -> None:
    """Sets `put` (None: nothing) at `path`, making the mappings on the way; a path that is there already, or
    goes through something else than a mapping, is a conflict."""
    if put is None:
        return
    holder = target
    for depth, part in enumerate(path[:-1]):
        holder = holder.setdefault(part, {})
        if not isinstance(holder, dict):
            conflicts.append(".".join(path[:depth + 1]))
            return
    if path[-1] in holder:
        conflicts.append(".".join(path))
    else:
        holder[path[-1]] = put


def assemble(values: dict[str, Any], rest: dict[str, Any]) -> tuple[dict[str, Any], list[str], dict[str, str]]:
    """(the container's fields but the basic ones, paths set in two places, messages by input)."""
    result, conflicts, errors = copy.deepcopy(rest), [], {}
    for spec in TOP_INPUTS:
        _put(result, spec.path, values.get(spec.name), conflicts)
    for group in GROUPS:
        handler = values.get(group.handler.name)
        if not handler:
            continue
        if _get(result, group.path + (handler,)) is None:
            _put(result, group.path + (handler,), {}, conflicts)
        for spec in group.inputs:
            if not _applies(spec, handler):
                continue
            path = group.path + _resolved(spec.path, handler)
            given = values.get(spec.name)
            if spec.required and given is None and _get(result, path) is None:
                errors[spec.name] = f"needed when it {'checks' if group.path[0] != 'lifecycle' else 'does'} " \
                                    f"{dict(group.handler.choices)[handler]}"
            elif handler == "grpc" and isinstance(given, str):
                errors[spec.name] = "a gRPC check takes a port number"
            _put(result, path, given, conflicts)
    return result, conflicts, errors


def _same(posted: str, shown: str) -> bool:
    return posted.replace("\r\n", "\n").strip() == shown.strip()


def _in_order_of(new: Any, old: Any) -> Any:
    """`new` with its mappings' keys in the order `old` had them (new keys after)."""
    if not isinstance(new, dict) or not isinstance(old, dict):
        return new
    ordered = {key: _in_order_of(new[key], old[key]) for key in old if key in new}
    ordered.update((key, item) for key, item in new.items() if key not in ordered)
    return ordered


def edit_container(container: dict[str, Any], post) -> dict[str, Any]:
    """The container with what the form changed; FormErrors (by form field) if anything is not right."""
    errors: dict[str, str] = {}
    edited = {key: copy.deepcopy(v) for key, v in container.items() if key in BASIC_KEYS}
    for text_field in TEXT_FIELDS:
        key, before = text_field.key, container.get(text_field.key)
        shown = FORMAT[key](before) if before not in (None, []) else ""
        if text_field.name not in post or _same(post[text_field.name], shown):
            continue
        try:
            parsed = PARSE[key](post[text_field.name], before if isinstance(before, list) else [])
        except ValueError as error:
            errors[text_field.name] = str(error)
            continue
        if parsed in ([], None) and key not in ("name", "image"):
            edited.pop(key, None)
        else:
            edited[key] = parsed
    parts = split(container)
    values, texts = dict(parts.values), parts.texts()
    for spec in _all_inputs():
        if spec.name not in post or _same(post[spec.name], texts.get(spec.name, "")):
            continue
        try:
            values[spec.name] = parse(spec, post[spec.name])
        except ValueError as error:
            errors[spec.name] = str(error)
    rest = _posted_rest(post, parts.rest, errors)
    others, conflicts, group_errors = assemble(values, rest)
    _, _, had = assemble(parts.values, parts.rest)  # what was already so (an imported probe without its port)
    errors.update({name: message for name, message in group_errors.items()
                   if name not in errors and had.get(name) != message})
    conflicts = list(dict.fromkeys(conflicts))
    if conflicts and OTHER_FIELDS not in errors:
        errors[OTHER_FIELDS] = (f"{', '.join(conflicts)} {'is' if len(conflicts) == 1 else 'are'} set above too: "
                                "set each field in one place")
    result = _in_order_of({**edited, **others}, container)
    before = _together_problems(container)  # what was already so is the schema check's and lint's to say
    for name, message in _together_problems(result).items():
        if before.get(name) != message:
            errors.setdefault(name, message)
    if errors:
        raise FormErrors(errors)
    return result


def _all_inputs() -> list[Input]:
    return [*TOP_INPUTS, *(spec for group in GROUPS for spec in (group.handler, *group.inputs))]


def _posted_rest(post, shown: dict[str, Any], errors: dict[str, str]) -> dict[str, Any]:
    """Other fields as posted (what was shown if it reads the same): a mapping of Container fields that the
    form's text fields do not edit."""
    if OTHER_FIELDS not in post or _same(post[OTHER_FIELDS], other_fields_text(shown)):
        return shown
    try:
        loaded = load_value(post[OTHER_FIELDS])
    except YamlError as error:
        errors[OTHER_FIELDS] = str(error)
        return shown
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        errors[OTHER_FIELDS] = "a mapping of container fields (field: value), e.g. workingDir: /app"
        return shown
    labels = {f.key: f.label for f in TEXT_FIELDS}
    for key in loaded:
        if key in labels:
            errors[OTHER_FIELDS] = f"{key} is the field {labels[key]} above: set it there"
        elif key not in container_fields():
            errors[OTHER_FIELDS] = f"'{key}' is not a field of a Kubernetes container"
    shape = container_problems({"name": "", **loaded}, "container") if OTHER_FIELDS not in errors else []
    if shape:
        errors[OTHER_FIELDS] = shape[0].removeprefix("container.")
    return shown if OTHER_FIELDS in errors else loaded


_SHAPE_FIELDS = {"env": "env", "envFrom": "env_from", "ports": "ports", "volumeMounts": "volume_mounts",
                 "command": "command", "args": "args", "name": "name", "image": "image"}


def _together_problems(container: dict[str, Any]) -> dict[str, str]:
    """What the API server refuses in the whole, by form field: shapes, a request above its limit, a
    privileged container that may not escalate."""
    errors: dict[str, str] = {}
    for problem in container_problems(container, "container"):
        where, _, message = problem.removeprefix("container.").partition(" ")
        errors.setdefault(_SHAPE_FIELDS.get(re.split(r"[.\[]", where)[0], OTHER_FIELDS), f"{where} {message}")
    resources = container.get("resources") if isinstance(container.get("resources"), dict) else {}
    for resource in ("cpu", "memory"):
        request = value(_get(resources, ("requests", resource)))
        limit = value(_get(resources, ("limits", resource)))
        if request is not None and limit is not None and request > limit:
            errors.setdefault(f"requests-{resource}", f"more than its limit ({resources['limits'][resource]}): the "
                                                       "API server refuses a request above the limit")
    context = container.get("securityContext") if isinstance(container.get("securityContext"), dict) else {}
    if context.get("privileged") is True and context.get("allowPrivilegeEscalation") is False:
        errors.setdefault("sc-allowPrivilegeEscalation",
                          "a privileged container always may: the API server refuses 'no' with Privileged")
    return errors


def other_fields_text(rest: dict[str, Any]) -> str:
    return dump_value(rest).rstrip("\n") if rest else ""


def app_container(composition: Composition) -> dict[str, Any]:
    """The app container as the editor edits it: its own fields, none a helper derives."""
    app = composition.app
    container: dict[str, Any] = {"name": app.name, "image": app.image}
    for key, given in (("command", app.command), ("args", app.args), ("env", app.env), ("ports", app.ports),
                       ("volumeMounts", app.volume_mounts), ("resources", app.resources)):
        if given:
            container[key] = copy.deepcopy(given)
    return {**container, **copy.deepcopy(app.extra)}


def apply_app_form(composition: Composition, post) -> Composition:
    """A new composition with the app container fields from the form; FormErrors if any is invalid."""
    edited = edit_container(app_container(composition), post)
    app: dict[str, Any] = {"name": edited.pop("name", ""), "image": edited.pop("image", "")}
    for key, name in (("command", "command"), ("args", "args"), ("env", "env"), ("ports", "ports"),
                      ("volumeMounts", "volume_mounts"), ("resources", "resources")):
        if key in edited:
            app[name] = edited.pop(key)
    data = composition.to_dict()
    data["app"] = {**app, "extra": edited}
    return text_fields.validated(data, {}, prefix="app.")


# --------------------------------------------------------------------------- the editor as the page shows it


@dataclass
class InputView:
    spec: Input
    element_id: str
    text: str
    handler_choice: bool = False  # the choice of what a probe or hook does

    @property
    def widget(self) -> str:
        if self.spec.kind in ("choice", "tristate"):
            return "select"
        return {"lines": "textarea", "number": "number"}.get(self.spec.kind, "text")

    @property
    def handlers(self) -> str:
        return " ".join(self.spec.handlers)


@dataclass
class GroupView:
    legend: str
    handler: InputView
    inputs: list[InputView]


@dataclass
class SectionView:
    id: str
    title: str
    hint: str
    inputs: list[InputView]
    groups: list[GroupView]

    @property
    def summary(self) -> str:
        """What is set in it, for its <summary>: 'readiness, liveness', '3 set' …"""
        chosen = [group.legend.split(" (")[0].removesuffix(" probe").lower() for group in self.groups
                  if group.handler.text]
        count = sum(1 for view in self.inputs if view.text)
        return ", ".join(chosen) if self.groups else (f"{count} set" if count else "")

    @property
    def open(self) -> bool:
        return bool(self.summary)


@dataclass
class TextFieldView:
    name: str
    label: str
    hint: str
    element_id: str
    text: str
    rows: int
    help: str


@dataclass
class ContainerEditor:
    """A container on the page: its text fields, the image pull policy, the sections and Other fields."""

    container: dict[str, Any]
    prefix: str  # element ids: "<prefix>-<field>"
    form_id: str  # the messages beside the fields: "err-<form_id>-<field>"
    mount_hint: str = ""  # the volumes there are to mount

    def __post_init__(self) -> None:
        self._split = split(self.container)
        self._texts = self._split.texts()

    def _view(self, spec: Input, handler_choice: bool = False) -> InputView:
        return InputView(spec, f"{self.prefix}-{spec.name}", self._texts.get(spec.name, ""), handler_choice)

    @property
    def text_fields(self) -> list[TextFieldView]:
        views = []
        for text_field in TEXT_FIELDS:
            found = self.container.get(text_field.key)
            text = FORMAT[text_field.key](found) if found not in (None, []) else ""
            rows = max(text_field.rows, min(text.count("\n") + 2, 10)) if text_field.rows else 0
            views.append(TextFieldView(text_field.name, text_field.label, text_field.hint,
                                       f"{self.prefix}-{text_field.element}", text, rows, text_field.help))
        return views

    @property
    def pull_policy(self) -> InputView:
        return self._view(TOP_INPUTS[0])

    @property
    def sections(self) -> list[SectionView]:
        return [SectionView(section.id, section.title, section.hint, [self._view(spec) for spec in section.inputs],
                            [GroupView(group.legend, self._view(group.handler, True),
                                       [self._view(spec) for spec in group.inputs]) for group in section.groups])
                for section in SECTIONS]

    @property
    def other_fields(self) -> str:
        return other_fields_text(self._split.rest)

    @property
    def other_summary(self) -> str:
        return ", ".join(self._split.rest)

    @property
    def other_rows(self) -> int:
        return min(max(self.other_fields.count("\n") + 2, 3), 16)
