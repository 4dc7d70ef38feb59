"""How a pattern is described (parameters) and what it contributes to a Pod."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from composer.domain.characters import NUL_PROBLEM, nul_problems
from composer.domain.model import AppContainer, Helper
from composer.domain.names import dns_label_problem, dns_subdomain_problem
from composer.domain.shapes import container_problems


class Role(StrEnum):
    INIT = "init"
    SIDECAR = "sidecar"
    AMBASSADOR = "ambassador"
    ADAPTER = "adapter"
    CUSTOM = "custom"


ROLE_TITLES = {
    Role.INIT: "Init containers",
    Role.SIDECAR: "Sidecars",
    Role.AMBASSADOR: "Ambassadors",
    Role.ADAPTER: "Adapters",
    Role.CUSTOM: "Custom",
}

IMAGE = re.compile(r"^[^\s]+$")


class ParamKind(StrEnum):
    STRING = "string"
    TEXT = "text"  # multi-line
    JSON = "json"  # multi-line text that must parse as JSON (a config file the helper writes)
    NAME = "name"  # DNS label: container and volume names
    OBJECT_NAME = "object-name"  # DNS subdomain: the name of a ConfigMap
    IMAGE = "image"
    PATH = "path"  # absolute path in a container
    INT = "int"
    PORT = "port"
    BOOL = "bool"
    CHOICE = "choice"
    LIST = "list"  # list of strings, one per line in forms
    MAP = "map"  # string -> string, KEY=VALUE per line in forms
    CONTAINER = "container"  # a raw container spec (the custom pattern)


@dataclass(frozen=True)
class Param:
    name: str
    label: str
    kind: ParamKind
    default: Any
    help: str = ""
    choices: tuple[str, ...] = ()
    optional: bool = False  # an empty value is allowed

    def as_dict(self) -> dict[str, Any]:
        described = {
            "name": self.name,
            "label": self.label,
            "type": str(self.kind),
            "default": self.default,
            "help": self.help,
            "optional": self.optional,
        }
        if self.choices:
            described["choices"] = list(self.choices)
        return described

    def clean(self, value: Any) -> Any:
        """The value in its canonical type; raises ValueError with a message for the user."""
        if nul_problems(value):  # PostgreSQL cannot store it; no container setting means it
            raise ValueError(NUL_PROBLEM)
        cleaner = _CLEANERS[self.kind]
        if self.kind not in (ParamKind.BOOL, ParamKind.CONTAINER) and (value is None or value == ""):
            if self.optional:
                return _EMPTY.get(self.kind, "")
            raise ValueError("required")
        return cleaner(self, value)


def _clean_string(param: Param, value: Any) -> str:
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise ValueError("must be text")
    text = str(value)
    if param.kind not in (ParamKind.TEXT, ParamKind.JSON) and "\n" in text:
        raise ValueError("must be a single line")
    return text.replace("\r\n", "\n")


def _clean_json(param: Param, value: Any) -> str:
    """The text as written (the file the helper writes), once it parses: jq would fail at Pod start."""
    text = _clean_string(param, value)
    try:
        json.loads(text)
    except ValueError as error:
        raise ValueError(f"not valid JSON: {error}") from None
    return text


def _clean_name(param: Param, value: Any) -> str:
    text = _clean_string(param, value).strip()
    if dns_label_problem(text):
        raise ValueError("lower-case letters, digits and '-' (max 63), e.g. log-tailer")
    return text


def _clean_object_name(param: Param, value: Any) -> str:
    text = _clean_string(param, value).strip()
    problem = dns_subdomain_problem(text)
    if problem:
        raise ValueError(problem)
    return text


def _clean_image(param: Param, value: Any) -> str:
    text = _clean_string(param, value).strip()
    if not IMAGE.match(text):
        raise ValueError("an image reference without spaces, e.g. busybox:1.36")
    return text


def _clean_path(param: Param, value: Any) -> str:
    text = _clean_string(param, value).strip()
    if not text.startswith("/"):
        raise ValueError("an absolute path starting with /")
    return text.rstrip("/") or "/"


def _clean_int(param: Param, value: Any, minimum: int = 0, maximum: int = 10**9) -> int:
    if isinstance(value, bool):
        raise ValueError("must be a whole number")
    try:
        number = int(str(value).strip()) if isinstance(value, str) else value
    except ValueError:
        raise ValueError("must be a whole number") from None
    if not isinstance(number, int) or not minimum <= number <= maximum:
        raise ValueError(f"must be a whole number from {minimum} to {maximum}")
    return number


def _clean_port(param: Param, value: Any) -> int:
    return _clean_int(param, value, 1, 65535)


def _clean_bool(param: Param, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if value in (None, "", "off", "false", "0", 0):
        return False
    if value in ("on", "true", "1", 1):
        return True
    raise ValueError("must be true or false")


def _clean_choice(param: Param, value: Any) -> str:
    if value not in param.choices:
        raise ValueError(f"must be one of {', '.join(param.choices)}")
    return value


def _clean_list(param: Param, value: Any) -> list[str]:
    if isinstance(value, str):
        value = [line.strip() for line in value.splitlines() if line.strip()]
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValueError("must be a list of text lines")
    if not value and not param.optional:
        raise ValueError("at least one line is required")
    return value


def _clean_map(param: Param, value: Any) -> dict[str, str]:
    if isinstance(value, str):
        pairs = {}
        for number, line in enumerate(value.splitlines(), start=1):
            if not line.strip():
                continue
            key, sep, item = line.partition("=")
            if not sep or not key.strip():
                raise ValueError(f"line {number}: write KEY=VALUE")
            pairs[key.strip()] = item.strip()
        value = pairs
    if not isinstance(value, dict):
        raise ValueError("must be KEY=VALUE pairs")
    cleaned = {}
    for key, item in value.items():
        if not isinstance(key, str) or not key or isinstance(item, dict | list) or item is None:
            raise ValueError("must be KEY=VALUE pairs of text")
        cleaned[key] = str(item).lower() if isinstance(item, bool) else str(item)
    if not cleaned and not param.optional:
        raise ValueError("at least one KEY=VALUE pair is required")
    return cleaned


def _clean_container(param: Param, value: Any) -> dict[str, Any]:
    problems = container_problems(value, "container")
    if problems:
        raise ValueError("; ".join(problems))
    return value


_EMPTY: dict[ParamKind, Any] = {ParamKind.LIST: [], ParamKind.MAP: {}, ParamKind.INT: None, ParamKind.PORT: None}

_CLEANERS: dict[ParamKind, Callable[[Param, Any], Any]] = {
    ParamKind.STRING: _clean_string,
    ParamKind.TEXT: _clean_string,
    ParamKind.JSON: _clean_json,
    ParamKind.NAME: _clean_name,
    ParamKind.OBJECT_NAME: _clean_object_name,
    ParamKind.IMAGE: _clean_image,
    ParamKind.PATH: _clean_path,
    ParamKind.INT: _clean_int,
    ParamKind.PORT: _clean_port,
    ParamKind.BOOL: _clean_bool,
    ParamKind.CHOICE: _clean_choice,
    ParamKind.LIST: _clean_list,
    ParamKind.MAP: _clean_map,
    ParamKind.CONTAINER: _clean_container,
}


@dataclass
class Contribution:
    """Everything one helper adds to the Pod and its companion objects."""

    container: dict[str, Any]
    # Regular init containers run to completion before the app; False means "beside the app".
    init: bool = False
    volumes: list[dict[str, Any]] = field(default_factory=list)
    app_mounts: list[dict[str, Any]] = field(default_factory=list)
    app_env: list[dict[str, Any]] = field(default_factory=list)
    # Replaces the app container's command (a start script written by an init container).
    app_command: list[str] | None = None
    config_maps: list[dict[str, Any]] = field(default_factory=list)
    service_ports: list[dict[str, Any]] = field(default_factory=list)
    needs_share_process_namespace: bool = False


@dataclass(frozen=True)
class BuildContext:
    helper: Helper
    params: dict[str, Any]
    app: AppContainer
    workload_name: str


@dataclass(frozen=True)
class Pattern:
    id: str
    role: Role
    title: str
    summary: str
    params: tuple[Param, ...]
    build: Callable[[BuildContext], Contribution]
    # Long-running helpers may become native sidecars; run-to-completion ones may not.
    long_running: bool = True

    @property
    def can_be_native_sidecar(self) -> bool:
        return self.long_running

    def param(self, name: str) -> Param:
        for param in self.params:
            if param.name == name:
                return param
        raise KeyError(name)

    def defaults(self) -> dict[str, Any]:
        return {param.name: param.default for param in self.params}

    def clean_params(self, raw: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
        """(params with defaults filled in, errors by param name)."""
        known = {param.name for param in self.params}
        errors = {key: "unknown parameter" for key in raw if key not in known}
        cleaned = {}
        for param in self.params:
            try:
                cleaned[param.name] = param.clean(raw.get(param.name, param.default))
            except ValueError as error:
                errors[param.name] = str(error)
                cleaned[param.name] = param.default
        return cleaned, errors

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "role": str(self.role),
            "title": self.title,
            "summary": self.summary,
            "native_sidecar_capable": self.can_be_native_sidecar,
            "params": [param.as_dict() for param in self.params],
        }


def name_param(default: str) -> Param:
    return Param("name", "Container name", ParamKind.NAME, default, "Unique within the Pod.")


def image_param(default: str, needs: str = "") -> Param:
    """`needs` says what the helper's command expects of the image, for someone choosing another one."""
    help_text = "Pin a tag; :latest makes deploys unrepeatable."
    return Param("image", "Image", ParamKind.IMAGE, default, f"{needs} {help_text}" if needs else help_text)


def empty_dir(name: str) -> dict[str, Any]:
    return {"name": name, "emptyDir": {}}


def mount(volume: str, path: str, read_only: bool = False) -> dict[str, Any]:
    entry: dict[str, Any] = {"name": volume, "mountPath": path}
    if read_only:
        entry["readOnly"] = True
    return entry


def env(name: str, value: str) -> dict[str, Any]:
    return {"name": name, "value": value}


def port(number: int, name: str = "") -> dict[str, Any]:
    entry: dict[str, Any] = {"containerPort": number}
    if name:
        entry = {"name": name, **entry}
    return entry


def config_map(name: str, data: dict[str, str]) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": data}


def config_map_volume(volume: str, config_map_name: str) -> dict[str, Any]:
    return {"name": volume, "configMap": {"name": config_map_name}}


# A helper configured by a file either gets one Pod Studio generates from its params, or mounts the user's own.
def existing_config_param() -> Param:
    return Param("config_map", "Existing ConfigMap", ParamKind.OBJECT_NAME, "",
                 "Mounted as it is, and the settings above only describe it; empty: generated from them.",
                 optional=True)


def config_volume_param() -> Param:
    return Param("config_volume", "Config volume", ParamKind.NAME, "", "Defaults to <name>-config.", optional=True)


def config_volume(ctx: BuildContext) -> dict[str, Any]:
    """The volume of the helper's config: the user's ConfigMap, or the one generated as <workload>-<name>."""
    p = ctx.params
    return config_map_volume(p["config_volume"] or f"{p['name']}-config",
                             p["config_map"] or f"{ctx.workload_name}-{p['name']}")


def generated_config(ctx: BuildContext, data: dict[str, str]) -> list[dict[str, Any]]:
    return [] if ctx.params["config_map"] else [config_map(f"{ctx.workload_name}-{ctx.params['name']}", data)]


def shell(script: str) -> list[str]:
    return ["sh", "-c", script]


def sh_quote(text: str) -> str:
    return "'" + text.replace("'", "'\"'\"'") + "'"
