"""Recognisers of helpers beside the app that a config file drives: a log shipper, a config reloader, and the
ambassadors (port remapper, TLS terminator, egress proxy). Each reads the config Pod Studio generated, or the
one people write in a ConfigMap of their own (then the pattern mounts that ConfigMap and generates none)."""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from typing import Any

from composer.domain.patterns.ambassador import NGINX_EGRESS_CONFIG, NGINX_TLS_CONFIG
from composer.domain.patterns.sidecar import FLUENT_BIT_CONFIG, RELOAD_LOOP, SIGNAL_ACTION, WEBHOOK_ACTION
from composer.domain.recognition.configs import (
    LOOPBACK,
    FluentBitShipping,
    NginxEgress,
    NginxTls,
    fluent_bit_shipping,
    haproxy_forward,
    nginx_config,
    nginx_egress,
    nginx_tls,
    template_fields,
)
from composer.domain.recognition.found import Found, literal_env
from composer.domain.recognition.known_images import repository


def _config(found: Found, program: str, config_dir: str) -> tuple[dict[str, Any], str] | None:
    """The one ConfigMap mount of a helper beside the app that runs `program` (its image says so, or the mount is
    where that program reads its config) and the text of the files it shows (None without the ConfigMap)."""
    mounts = found.mounts_of("configMap")
    image = repository(str(found.container.get("image", "")))
    if found.runs_to_completion or len(mounts) != 1:
        return None
    if not (re.search(program, image) or mounts[0]["mountPath"].rstrip("/") == config_dir):
        return None
    files = found.config_files(mounts[0])
    return (mounts[0], "\n".join(files.values())) if files else None


def _config_sources(found: Found, mount: dict[str, Any]) -> list[dict[str, str]]:
    """The config as the pattern holds it: generated (when the ConfigMap is named as it would name it; the
    importer keeps that only if the text is exactly what it generates), else the user's ConfigMap mounted."""
    name = found.config_map_of(mount)
    volume = "" if mount["name"] == f"{found.container.get('name')}-config" else mount["name"]
    generated = [{"config_map": "", "config_volume": volume}] if name == found.generated_name() else []
    return [*generated, {"config_map": name, "config_volume": volume}]


def _port_name(found: Found, number: int) -> dict[str, str]:
    ports = found.container.get("ports") or []
    named = [p["name"] for p in ports if p.get("containerPort") == number and p.get("name")]
    return {"port_name": named[0]} if named else {}


# Log shipper

OWN_OUTPUTS = re.compile(r"    Host         (?P<host>.*)\n    Port         (?P<port>.*)\n"
                         r"|    Format       json_lines\n")


def _own_shipping(text: str) -> FluentBitShipping | None:
    fields = template_fields(FLUENT_BIT_CONFIG, text)
    options = OWN_OUTPUTS.fullmatch(fields["output_options"]) if fields and not fields["parser"] else None
    if not options:
        return None
    return FluentBitShipping(fields["path"], fields["output"], options["host"] or "", options["port"] or "")


def log_shipper(found: Found) -> Iterator[dict[str, Any]]:
    config = _config(found, r"fluent-bit|fluentbit", "/fluent-bit/etc")
    shipping = (_own_shipping(config[1]) or fluent_bit_shipping(config[1])) if config else None
    logs = found.mount_holding(shipping.path) if shipping else None
    if not (logs and logs is not config[0] and shipping.output in ("forward", "http", "stdout")):
        return
    log_dir = logs["mountPath"].rstrip("/")
    app_dir = found.app_mount_path(logs["name"], log_dir)
    if not app_dir:
        return
    params = {**found.identity(), "volume": logs["name"], "log_dir": log_dir,
              "log_pattern": shipping.path[len(log_dir) + 1:], "output": shipping.output,
              "app_log_dir": "" if app_dir == log_dir else app_dir}
    if shipping.output != "stdout":
        params["destination"] = f"{shipping.host}:{shipping.port or 24224}"
    for source in _config_sources(found, config[0]):
        yield {**params, **source}


# Config reloader


def _own_reload(found: Found) -> dict[str, Any] | None:
    loop = template_fields(RELOAD_LOOP, found.script or "")
    if not loop or not loop["interval"].isdigit():
        return None
    params = {"config_dir": loop["config_dir"], "interval_seconds": int(loop["interval"])}
    signal, webhook = template_fields(SIGNAL_ACTION, loop["action"]), template_fields(WEBHOOK_ACTION, loop["action"])
    if signal:
        return {**params, "signal": signal["signal"], "process": signal["process"]}
    try:
        return {**params, "webhook_url": shlex.split(webhook["url"])[0]} if webhook else None
    except ValueError:
        return None


def _configmap_reload(found: Found) -> dict[str, Any] | None:
    """configmap-reload's `--volume-dir=DIR --webhook-url=URL` (one of each, nothing else)."""
    image = repository(str(found.container.get("image", "")))
    if found.container.get("command") or "configmap-reload" not in image:
        return None
    flags = [str(arg).lstrip("-").partition("=") for arg in found.container.get("args") or []]
    named = {name: value for name, sep, value in flags if sep}
    if len(named) != len(flags) or set(named) != {"volume-dir", "webhook-url"} or len(flags) != 2:
        return None
    return {"config_dir": named["volume-dir"].rstrip("/") or "/", "webhook_url": named["webhook-url"]}


def config_reloader(found: Found) -> Iterator[dict[str, Any]]:
    reload = (_own_reload(found) or _configmap_reload(found)) if not found.runs_to_completion else None
    mount = found.mount_at(reload["config_dir"]) if reload else None
    config_map = found.config_map_of(mount) if mount else ""
    if config_map and found.app_mount_path(mount["name"]) == reload["config_dir"]:
        yield {**found.identity(), **reload, "config_map": config_map, "volume": mount["name"]}


# Port remapper


def port_remapper(found: Found) -> Iterator[dict[str, Any]]:
    config = _config(found, r"haproxy", "/usr/local/etc/haproxy")
    forward = haproxy_forward(config[1]) if config else None
    if forward:
        params = {**found.identity(), "listen_port": forward.listen_port, "target_port": forward.target_port,
                  "mode": forward.mode, **_port_name(found, forward.listen_port)}
        for source in _config_sources(found, config[0]):
            yield {**params, **source}


# TLS terminator

BINDING_NAME = re.compile(r"host|bind|addr|listen", re.IGNORECASE)


def _own_tls(text: str) -> NginxTls | None:
    fields = template_fields(NGINX_TLS_CONFIG, text)
    if not fields or not (fields["listen"].isdigit() and fields["upstream"].isdigit()):
        return None
    listen, upstream = int(fields["listen"]), int(fields["upstream"])
    return NginxTls(listen, upstream, f"/certs/{fields['cert']}", f"/certs/{fields['key']}")


def _binding_env(found: Found, upstream_port: int) -> dict[str, str]:
    """The app's settings that bind it to localhost on the internal port, which the pattern puts there."""
    return {name: value for name, value in literal_env(found.app).items()
            if (BINDING_NAME.search(name) and value in LOOPBACK)
            or ("port" in name.lower() and value == str(upstream_port))}


def tls_terminator(found: Found) -> Iterator[dict[str, Any]]:
    config = _config(found, r"nginx", "/etc/nginx/conf.d")
    secrets = found.mounts_of("secret")
    if not config or len(secrets) != 1:
        return
    parsed = nginx_config(config[1])
    tls = _own_tls(config[1]) or (nginx_tls(parsed) if parsed else None)
    certs_dir = secrets[0]["mountPath"].rstrip("/") + "/"
    if not tls or not (tls.certificate.startswith(certs_dir) and tls.key.startswith(certs_dir)):
        return
    certs = secrets[0]["name"]
    params = {**found.identity(), "listen_port": tls.listen_port, "upstream_port": tls.upstream_port,
              "secret_name": found.source(certs, "secret").get("secretName", ""),
              "cert_file": tls.certificate.removeprefix(certs_dir), "key_file": tls.key.removeprefix(certs_dir),
              "certs_volume": "" if certs == f"{found.container.get('name')}-certs" else certs,
              **_port_name(found, tls.listen_port)}
    binding = _binding_env(found, tls.upstream_port)
    for source in _config_sources(found, config[0]):
        for app_env in ([binding, {}] if binding else [{}]):
            # Whether the Service publishes the port is the Pod's business: both are tried.
            yield {**params, **source, "app_env": app_env, "publish": True}
            yield {**params, **source, "app_env": app_env, "publish": False}


# Egress proxy

PROXY_VARIABLES = ("http_proxy", "HTTP_PROXY")
OWN_LOCATION = re.compile(r"    location (?P<source>.*) \{\n        proxy_pass (?P<target>.*);\n    \}\n")


def _own_egress(text: str) -> NginxEgress | None:
    fields = template_fields(NGINX_EGRESS_CONFIG, text)
    if not fields or not fields["listen"].isdigit():
        return None
    routes, position = {}, 0
    while match := OWN_LOCATION.match(fields["locations"], position):
        routes[match["source"]] = match["target"]
        position = match.end()
    return NginxEgress(int(fields["listen"]), routes) if position == len(fields["locations"]) else None


def _proxy_port(found: Found) -> tuple[int, list[str]] | None:
    """The localhost port the app's http_proxy (or HTTP_PROXY) points at, and which of the two it sets."""
    proxies = {name: value for name, value in literal_env(found.app).items() if name in PROXY_VARIABLES}
    ports = {value.removeprefix("http://localhost:") for value in proxies.values()}
    if len(ports) != 1 or not all(value.startswith("http://localhost:") for value in proxies.values()):
        return None
    port = ports.pop()
    return (int(port), list(proxies)) if port.isdigit() else None


def egress_proxy(found: Found) -> Iterator[dict[str, Any]]:
    config = _config(found, r"nginx", "/etc/nginx/conf.d")
    proxy = _proxy_port(found) if config else None
    parsed = nginx_config(config[1]) if proxy else None
    egress = (_own_egress(config[1]) or (nginx_egress(parsed) if parsed else None)) if proxy else None
    if egress and egress.routes and egress.listen_port == proxy[0]:
        params = {**found.identity(), "listen_port": egress.listen_port, "routes": egress.routes,
                  "proxy_variables": proxy[1]}
        for source in _config_sources(found, config[0]):
            yield {**params, **source}
