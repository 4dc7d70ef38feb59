"""The container editor's inputs: every field of a real container on the form.

The app card, and a custom helper's, shows the fields people edit as inputs: the basic ones as text fields
(fields.py's line syntaxes), the common others in sections (Probes, Resources, Security, Lifecycle), each
input one value at one place of the container, and "Other fields (YAML)" with all the rest, down to the keys
of a probe the sections do not show (an httpGet's scheme, a seccompProfile's localhostProfile …). A value an
input cannot show as it is (a port written as a mapping …) stays in the YAML, so nothing is hidden or lost.
Here: the inputs, and their values <-> their text; containers.py splits a container into them and back.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from composer.domain.quantities import quantity_problem
from composer.web.compositions import fields as text_fields


@dataclass(frozen=True)
class Input:
    name: str  # the form field, and the end of its element id
    label: str
    kind: str  # number, quantity, tristate, choice, words, lines, port, text
    path: tuple[str, ...]  # where in the container; in a group, below the group ("*": the handler chosen)
    choices: tuple[tuple[str, str], ...] = ()  # (value, label); "" is "not set"
    minimum: int = 0
    handlers: tuple[str, ...] = ()  # in a group: the handlers it belongs to
    required: bool = False  # in a group: needed by its handlers
    hint: str = ""
    placeholder: str = ""


@dataclass(frozen=True)
class Group:
    """A probe or a hook: there when what it does (its handler) is chosen."""

    name: str
    legend: str
    path: tuple[str, ...]
    handler: Input
    inputs: tuple[Input, ...]


@dataclass(frozen=True)
class Section:
    id: str
    title: str
    inputs: tuple[Input, ...] = ()
    groups: tuple[Group, ...] = ()
    hint: str = ""


def _probe(key: str, legend: str) -> Group:
    def number(name: str, label: str, minimum: int, placeholder: str) -> Input:
        return Input(f"{key}-{name}", label, "number", (name,), minimum=minimum, placeholder=placeholder)

    handler = Input(f"{key}-handler", "Checks", "choice", (), choices=(
        ("", "nothing (no probe)"), ("httpGet", "HTTP GET"), ("tcpSocket", "TCP connect"),
        ("exec", "a command (exec)"), ("grpc", "gRPC health")))
    return Group(key, legend, (key,), handler, (
        Input(f"{key}-path", "Path", "text", ("httpGet", "path"), handlers=("httpGet",), placeholder="e.g. /healthz"),
        Input(f"{key}-port", "Port", "port", ("*", "port"), handlers=("httpGet", "tcpSocket", "grpc"), required=True,
              hint="a number, or the name of a port of this container", placeholder="e.g. http"),
        Input(f"{key}-command", "Command", "lines", ("exec", "command"), handlers=("exec",), required=True,
              hint="one argument per line; success is exit code 0"),
        number("initialDelaySeconds", "Initial delay (s)", 0, "default 0"),
        number("periodSeconds", "Period (s)", 1, "default 10"),
        number("timeoutSeconds", "Timeout (s)", 1, "default 1"),
        number("failureThreshold", "Failure threshold", 1, "default 3"),
    ))


TRISTATE = (("", "not set"), ("true", "yes"), ("false", "no"))
PULL_POLICY = Input("imagePullPolicy", "Image pull policy", "choice", ("imagePullPolicy",), choices=(
    ("", "not set"), ("Always", "Always"), ("IfNotPresent", "IfNotPresent"), ("Never", "Never")),
    hint="not set: Always for :latest or no tag, else IfNotPresent")
SECTIONS = (
    Section("probes", "Probes", groups=(
        _probe("readinessProbe", "Readiness probe"), _probe("livenessProbe", "Liveness probe"),
        _probe("startupProbe", "Startup probe")),
        hint="Readiness: whether to send it traffic; liveness: restart it when it fails; startup: hold the other "
             "two until it has started."),
    Section("resources", "Resources", inputs=tuple(
        Input(f"{group}-{resource}", f"{resource.upper() if resource == 'cpu' else 'Memory'} {group[:-1]}",
              "quantity", ("resources", group, resource),
              placeholder="e.g. 100m" if resource == "cpu" else "e.g. 128Mi")
        for group in ("requests", "limits") for resource in ("cpu", "memory")),
        hint="Kubernetes quantities: CPU in cores (0.5) or millicores (500m), memory in bytes with a unit "
             "(128Mi, 1Gi)."),
    Section("security", "Security", inputs=(
        Input("sc-runAsNonRoot", "Run as non-root", "tristate", ("securityContext", "runAsNonRoot"), TRISTATE),
        Input("sc-runAsUser", "Run as user (UID)", "number", ("securityContext", "runAsUser"),
              placeholder="the image's"),
        Input("sc-runAsGroup", "Run as group (GID)", "number", ("securityContext", "runAsGroup"),
              placeholder="the image's"),
        Input("sc-readOnlyRootFilesystem", "Read-only root filesystem", "tristate",
              ("securityContext", "readOnlyRootFilesystem"), TRISTATE),
        Input("sc-allowPrivilegeEscalation", "Allow privilege escalation", "tristate",
              ("securityContext", "allowPrivilegeEscalation"), TRISTATE),
        Input("sc-privileged", "Privileged", "tristate", ("securityContext", "privileged"), TRISTATE,
              hint="full access to the node"),
        Input("sc-drop", "Drop capabilities", "words", ("securityContext", "capabilities", "drop"),
              hint="ALL drops every one", placeholder="e.g. ALL"),
        Input("sc-add", "Add capabilities", "words", ("securityContext", "capabilities", "add"),
              placeholder="e.g. NET_BIND_SERVICE"),
        Input("sc-seccomp", "Seccomp profile", "choice", ("securityContext", "seccompProfile", "type"), choices=(
            ("", "not set"), ("RuntimeDefault", "RuntimeDefault"), ("Unconfined", "Unconfined"),
            ("Localhost", "Localhost (its localhostProfile under Other fields)"))),
    )),
    Section("lifecycle", "Lifecycle", groups=(
        Group("preStop", "Before it stops (preStop)", ("lifecycle", "preStop"),
              Input("preStop-handler", "Does", "choice", (), choices=(
                  ("", "nothing"), ("exec", "a command (exec)"), ("sleep", "sleep"))),
              (Input("preStop-command", "Command", "lines", ("exec", "command"), handlers=("exec",), required=True,
                     hint="one argument per line"),
               Input("preStop-seconds", "Sleep (s)", "number", ("sleep", "seconds"), handlers=("sleep",),
                     required=True, placeholder="e.g. 5"))),
    ), hint="What runs when the container is asked to stop, before it gets SIGTERM."),
)
TOP_INPUTS = (PULL_POLICY, *(i for section in SECTIONS for i in section.inputs))
GROUPS = tuple(group for section in SECTIONS for group in section.groups)
OTHER_FIELDS = "other_fields"


@dataclass(frozen=True)
class TextField:
    """A basic field: one container key as a text field of fields.py's syntax."""

    name: str  # the form field
    key: str  # the container's
    label: str
    hint: str
    element: str  # the end of its element id
    rows: int = 2
    help: str = ""  # below the field


TEXT_FIELDS = (
    TextField("name", "name", "Container name", "", "name", 0),
    TextField("image", "image", "Image", "", "image", 0),
    TextField("command", "command", "Command", "one argument per line", "command"),
    TextField("args", "args", "Arguments", "one per line", "args"),
    TextField("env", "env", "Environment", "KEY=VALUE per line", "env",
              help="From a Secret or a ConfigMap: KEY=secret:NAME/KEY, KEY=configmap:NAME/KEY (literal: in front "
                   "keeps a value as written). Anything else is a line of flow YAML."),
    TextField("env_from", "envFrom", "Env from", "configmap:NAME or secret:NAME per line", "env-from",
              help="Every key of it as a variable; prefix=P_ after the name puts P_ in front of each."),
    TextField("ports", "ports", "Ports", "PORT or NAME PORT per line", "ports"),
    TextField("volume_mounts", "volumeMounts", "Volume mounts", "VOLUME /path [ro] per line", "mounts"),
)
PARSE = {
    "name": lambda text, _old: text.strip(),
    "image": lambda text, _old: text.strip(),
    "command": lambda text, _old: text_fields.parse_arguments(text),
    "args": lambda text, _old: text_fields.parse_arguments(text),
    "env": text_fields.parse_env,
    "envFrom": text_fields.parse_env_from,
    "ports": text_fields.parse_ports,
    "volumeMounts": text_fields.parse_mounts,
}
FORMAT = {
    "name": str, "image": str, "command": text_fields.format_arguments, "args": text_fields.format_arguments,
    "env": text_fields.format_env, "envFrom": text_fields.format_env_from, "ports": text_fields.format_ports,
    "volumeMounts": text_fields.format_mounts,
}
BASIC_KEYS = frozenset(f.key for f in TEXT_FIELDS)


def field_names() -> list[str]:
    """Every field of the editor's form: the messages beside them after an edit."""
    names = [f.name for f in TEXT_FIELDS] + [i.name for i in TOP_INPUTS]
    for group in GROUPS:
        names += [group.handler.name, *(i.name for i in group.inputs)]
    return [*names, OTHER_FIELDS]


# --------------------------------------------------------------------------- values <-> text


_PORT_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]{0,13}[a-z0-9])?$")
_CAPABILITY = re.compile(r"^[A-Za-z0-9_]+$")


def fits(spec: Input, found: Any) -> bool:
    """Whether the input shows `found` as it is."""
    if spec.kind == "number":
        return isinstance(found, int) and not isinstance(found, bool)
    if spec.kind == "quantity":
        return isinstance(found, int | float | str) and not isinstance(found, bool) and "\n" not in str(found)
    if spec.kind == "tristate":
        return isinstance(found, bool)
    if spec.kind == "choice":
        return isinstance(found, str) and found != "" and found in dict(spec.choices)
    if spec.kind in ("words", "lines"):
        return isinstance(found, list) and bool(found) and all(
            isinstance(item, str) and item and item == item.strip() and "\n" not in item
            and (spec.kind == "lines" or " " not in item) for item in found)
    if spec.kind == "port":
        number = isinstance(found, int) and not isinstance(found, bool)
        return number or (isinstance(found, str) and "\n" not in found)
    return isinstance(found, str) and found == found.strip() and "\n" not in found


def text_of(spec: Input, shown: Any) -> str:
    if shown is None:
        return ""
    if spec.kind == "tristate":
        return "true" if shown else "false"
    if spec.kind == "words":
        return " ".join(shown)
    if spec.kind == "lines":
        return "\n".join(shown)
    return str(shown)


def parse(spec: Input, text: str) -> Any:
    """The value typed (None: not set); ValueError with the message beside the input."""
    text = text.strip()
    if not text:
        return None
    if spec.kind == "number":
        if not (text.isascii() and text.isdigit() and len(text) <= 10) or int(text) < spec.minimum:
            raise ValueError(f"a whole number of at least {spec.minimum}, or empty")
        return int(text)
    if spec.kind == "quantity":
        problem = quantity_problem(text)
        if problem:
            raise ValueError(problem)
        return text
    if spec.kind in ("tristate", "choice"):
        if text not in dict(spec.choices):
            raise ValueError(f"one of {', '.join(v for v, _ in spec.choices if v)}, or not set")
        return {"true": True, "false": False}.get(text, text) if spec.kind == "tristate" else text
    if spec.kind == "words":
        words = text.replace(",", " ").split()
        bad = [word for word in words if not _CAPABILITY.match(word)]
        if bad:
            raise ValueError(f"{bad[0]!r} is not a capability name (e.g. NET_BIND_SERVICE, ALL)")
        return words
    if spec.kind == "lines":
        return text_fields.lines(text)
    if spec.kind == "port":
        return _port(text)
    return text


def _port(text: str) -> int | str:
    if text.isascii() and text.isdigit():
        if len(text) > 5 or not 1 <= int(text) <= 65535:
            raise ValueError(f"{text} is not a port from 1 to 65535")
        return int(text)
    if not _PORT_NAME.match(text) or "--" in text or not any(c.isalpha() for c in text):
        raise ValueError(f"{text!r} is neither a port number nor a port name (at most 15 lower-case letters, "
                         "digits and '-', e.g. http)")
    return text
