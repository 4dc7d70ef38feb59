"""Defaults that fit the composition: what a newly added helper gets instead of its pattern's fixed defaults.

A pattern's defaults are written for a Pod of its own (a health endpoint on 8080, a remapper aimed at
8775). Added to a real composition they collide or miss: a port the app already listens on, a port
name another container uses, a URL aimed at a port nobody declares. These rules adjust only the params
the user did not give, and only where the fixed default would be wrong here.
"""

from __future__ import annotations

import re
from typing import Any

from composer.domain.model import Composition
from composer.domain.patterns.base import ParamKind, Pattern
from composer.domain.render import Rendering, build

# Params that a helper listens on: each must be a port no container of the Pod uses yet.
LISTENING = ("port", "listen_port")
# Params that aim at the app's own port.
AIMED_AT_APP = {("port-remapper", "target_port"), ("tls-terminator", "upstream_port")}
APP_URLS = {("health-endpoint", "app_url"), ("metrics-endpoint", "app_url")}
LOCAL_PORT = re.compile(r"(//(?:localhost|127\.0\.0\.1)):(\d{1,5})")


def fitted_params(composition: Composition, pattern: Pattern, given: dict[str, Any]) -> dict[str, Any]:
    """The params to add to `given` so that the helper fits: free ports, a free port name, the app's port."""
    rendering = build(composition)
    running = [container for _, _, container in rendering.running_containers()]
    used_ports = {p.get("containerPort") for c in running for p in c.get("ports") or []}
    used_names = {p.get("name") for c in running for p in c.get("ports") or []}
    app_port = next((p.get("containerPort") for p in composition.app.ports if isinstance(p.get("containerPort"), int)),
                    None)
    defaults = pattern.defaults()
    fitted: dict[str, Any] = {}
    for param in pattern.params:
        name, default = param.name, defaults.get(param.name)
        if name in given:
            continue
        if (pattern.id, name) in AIMED_AT_APP and app_port is not None:
            fitted[name] = app_port
        elif (pattern.id, name) in APP_URLS and app_port is not None:
            fitted[name] = f"http://localhost:{app_port}/"
        elif name in LISTENING and param.kind == ParamKind.PORT and default in used_ports:
            fitted[name] = _free_port(default, used_ports)
        elif name == "port_name" and default in used_names:
            fitted[name] = _free_name(default, used_names)
    if pattern.id == "tls-terminator" and "publish" not in given:
        listen = given.get("listen_port", fitted.get("listen_port", defaults.get("listen_port")))
        served = {port.get("port") for port in composition.options.service.ports}
        fitted["publish"] = listen not in served  # a TLS terminator serves traffic: through the Service
    tls = _tls_ports(rendering)
    if pattern.id == "prometheus-exporter" and "args" not in given and tls:
        # An exporter of the app must not send plain HTTP to the TLS terminator: aim it at the app behind it.
        fitted["args"] = [LOCAL_PORT.sub(lambda m: f"{m.group(1)}:{tls.get(int(m.group(2)), m.group(2))}", arg)
                          for arg in defaults.get("args") or []]
    return fitted


def _tls_ports(rendering: Rendering) -> dict[int, int]:
    """TLS terminators' listen port -> the app port behind it."""
    return {item.params["listen_port"]: item.params["upstream_port"]
            for item in rendering.helpers if item.pattern.id == "tls-terminator"}


def _free_port(start: int, used: set[Any]) -> int:
    port = start
    while port in used and port < 65535:
        port += 1
    return port


def _free_name(base: str, used: set[Any]) -> str:
    """A port name (at most 15 characters) no container uses: `health-2` beside `health`."""
    number = 2
    while f"{base[:12]}-{number}" in used:
        number += 1
    return f"{base[:12]}-{number}"
