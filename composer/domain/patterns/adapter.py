"""Adapter patterns: present the app to the outside world in a standard shape."""

from __future__ import annotations

from composer.domain.patterns.base import (
    BuildContext,
    Contribution,
    Param,
    ParamKind,
    Pattern,
    Role,
    empty_dir,
    image_param,
    mount,
    name_param,
    port,
    shell,
)

P = ParamKind


def _service_port(name: str, number: int) -> dict:
    return {"name": name, "port": number, "targetPort": name}


def _exporter(ctx: BuildContext) -> Contribution:
    p = ctx.params
    container = {"name": p["name"], "image": p["image"], "ports": [port(p["port"], p["port_name"])]}
    if p["args"]:
        container["args"] = list(p["args"])
    return Contribution(
        container=container,
        service_ports=[_service_port(p["port_name"], p["port"])] if p["publish"] else [],
    )


PROMETHEUS_EXPORTER = Pattern(
    id="prometheus-exporter",
    role=Role.ADAPTER,
    title="Prometheus exporter",
    summary="An exporter translates the app's own stats into Prometheus metrics on a named port.",
    params=(
        name_param("exporter"),
        image_param("justwatch/elasticsearch_exporter:1.1.0"),
        Param("args", "Arguments", P.LIST, ["--es.uri=http://localhost:9200"], "One per line.", optional=True),
        Param("port", "Metrics port", P.PORT, 9114),
        Param("port_name", "Port name", P.NAME, "http-prometheus"),
        Param("publish", "Add to the Service", P.BOOL, True),
    ),
    build=_exporter,
)


def _probe_server(ctx: BuildContext, body_script: str) -> Contribution:
    """busybox httpd serves a file a loop keeps up to date from the app's localhost endpoint."""
    p = ctx.params
    loop = f"while true; do {body_script} sleep {p['interval_seconds']}; done"
    script = f"mkdir -p /www && ({loop}) & exec httpd -f -p {p['port']} -h /www"
    return Contribution(
        container={
            "name": p["name"],
            "image": p["image"],
            "command": shell(script),
            "ports": [port(p["port"], p["port_name"])],
        },
        service_ports=[_service_port(p["port_name"], p["port"])] if p["publish"] else [],
    )


def _health_endpoint(ctx: BuildContext) -> Contribution:
    p = ctx.params
    body = (
        f"if wget -q -T 2 -O /dev/null {p['app_url']}; then echo ok > /www/healthz; "
        f"else rm -f /www/healthz; fi;"
    )
    return _probe_server(ctx, body)


HEALTH_ENDPOINT = Pattern(
    id="health-endpoint",
    role=Role.ADAPTER,
    title="Health endpoint",
    summary="Answers GET /healthz on its own port with 200 while the app answers on localhost, 404 otherwise.",
    params=(
        name_param("health"),
        image_param("busybox:1.36"),
        Param("app_url", "App URL to check", P.STRING, "http://localhost:80/"),
        Param("port", "Port", P.PORT, 8080),
        Param("port_name", "Port name", P.NAME, "health"),
        Param("interval_seconds", "Check every (s)", P.INT, 5),
        Param("publish", "Add to the Service", P.BOOL, True),
    ),
    build=_health_endpoint,
)


def _metrics_endpoint(ctx: BuildContext) -> Contribution:
    p = ctx.params
    body = (
        f"start=$(date +%s%N); if wget -q -T 2 -O /dev/null {p['app_url']}; then up=1; else up=0; fi; "
        f"ms=$(( ($(date +%s%N) - start) / 1000000 )); "
        f"printf '# TYPE app_up gauge\\napp_up %s\\n# TYPE app_response_ms gauge\\napp_response_ms %s\\n' "
        f"$up $ms > /www/metrics;"
    )
    return _probe_server(ctx, body)


METRICS_ENDPOINT = Pattern(
    id="metrics-endpoint",
    role=Role.ADAPTER,
    title="Metrics endpoint",
    summary="Publishes /metrics (up, response time) in Prometheus text format for an app that has none.",
    params=(
        name_param("metrics"),
        image_param("busybox:1.36"),
        Param("app_url", "App URL to check", P.STRING, "http://localhost:80/"),
        Param("port", "Port", P.PORT, 8081),
        Param("port_name", "Port name", P.NAME, "metrics"),
        Param("interval_seconds", "Check every (s)", P.INT, 15),
        Param("publish", "Add to the Service", P.BOOL, True),
    ),
    build=_metrics_endpoint,
)

# awk programs that turn one input line into one JSON line (quotes and backslashes escaped).
_ESCAPE = r'gsub(/\\/,"\\\\"); gsub(/"/,"\\\"");'
LOG_FORMATS = {
    "plain": "{" + _ESCAPE + r' printf "{\"level\":\"info\",\"message\":\"%s\"}\n", $0}',
    "level-first": (
        r'{lvl=tolower($1); $1=""; sub(/^ /,""); '
        + _ESCAPE
        + r' printf "{\"level\":\"%s\",\"message\":\"%s\"}\n", lvl, $0}'
    ),
}


def _log_normaliser(ctx: BuildContext) -> Contribution:
    p = ctx.params
    program = LOG_FORMATS[p["format"]]
    source = f"{p['log_dir']}/{p['log_file']}"
    return Contribution(
        container={
            "name": p["name"],
            "image": p["image"],
            "command": shell(f"tail -n+1 -F {source} | awk '{program}'"),
            "volumeMounts": [mount(p["volume"], p["log_dir"], read_only=True)],
        },
        volumes=[empty_dir(p["volume"])],
        app_mounts=[mount(p["volume"], p["log_dir"])],
    )


LOG_NORMALISER = Pattern(
    id="log-normaliser",
    role=Role.ADAPTER,
    title="Log normaliser",
    summary="Turns the app's own log lines into JSON lines on stdout, the shape log collectors expect.",
    params=(
        name_param("log-normaliser"),
        image_param("busybox:1.36"),
        Param("volume", "Shared volume", P.NAME, "logs"),
        Param("log_dir", "Log directory", P.PATH, "/var/log/app"),
        Param("log_file", "Log file", P.STRING, "app.log"),
        Param("format", "Input format", P.CHOICE, "plain", choices=tuple(LOG_FORMATS)),
    ),
    build=_log_normaliser,
)

PATTERNS = (PROMETHEUS_EXPORTER, HEALTH_ENDPOINT, METRICS_ENDPOINT, LOG_NORMALISER)
