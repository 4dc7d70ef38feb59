"""The examples gallery: one ready composition per worked example in PATTERNS.md."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from composer.domain.edits import add_helper
from composer.domain.model import AppContainer, Composition, PodOptions, ServiceExposure, Workload


@dataclass(frozen=True)
class Example:
    id: str
    title: str
    summary: str
    build: Callable[[], Composition]


def _base(name: str, app: AppContainer, kind: str = "Pod", **options) -> Composition:
    return Composition(
        workload=Workload(kind=kind, name=name, labels={"app": name}),
        app=app,
        options=PodOptions(**options),
    )


def _loop(script: str, seconds: int = 5) -> list[str]:
    return ["sh", "-c", f"while true; do {script}; sleep {seconds}; done"]


def _shared_scratch() -> Composition:
    c = _base(
        "scratch",
        AppContainer(
            name="writer",
            image="busybox:1.36",
            command=_loop("date >> /data-rw/dates.txt"),
            volume_mounts=[{"name": "scratch", "mountPath": "/data-rw"}],
        ),
        volumes=[{"name": "scratch", "emptyDir": {}}],
    )
    reader = {
        "name": "reader",
        "image": "busybox:1.36",
        "command": _loop("tail -n 1 /data-ro/dates.txt", 10),
        "volumeMounts": [{"name": "scratch", "mountPath": "/data-ro", "readOnly": True}],
    }
    add_helper(c, "custom", {"role": "sidecar", "container": reader})
    return c


def _localhost_api() -> Composition:
    c = _base(
        "no-api-app",
        AppContainer(name="app", image="busybox:1.36", command=_loop("wget -q -O- http://localhost:8080/", 10)),
    )
    api = {
        "name": "api",
        "image": "hashicorp/http-echo:1.0",
        "args": ["-listen=:8080", "-text=status: ok"],
        "ports": [{"name": "api", "containerPort": 8080}],
    }
    add_helper(c, "custom", {"role": "adapter", "container": api})
    return c


def _init_writes_html() -> Composition:
    c = _base("hello-web", AppContainer(image="nginx:1.27", ports=[{"name": "http", "containerPort": 80}]))
    add_helper(c, "file-writer", {
        "name": "write-page",
        "volume": "html",
        "directory": "/work-dir",
        "filename": "index.html",
        "content": "<h1>Written by an init container</h1>",
        "executable": False,
        "app_mount_path": "/usr/share/nginx/html",
    })
    return c


def _config_merger() -> Composition:
    c = _base("merged-config", AppContainer(image="busybox:1.36", command=_loop("cat /config/config.json", 30)))
    add_helper(c, "config-merger", {
        "config_data": '{"logLevel": "info", "feature": {"beta": false}}',
        "overrides": {"logLevel": "debug", "feature.beta": "true"},
    })
    return c


def _log_tailer() -> Composition:
    c = _base(
        "timecheck",
        AppContainer(image="busybox:1.36", command=_loop("echo \"$(date) timecheck\" >> /logs/app.log")),
    )
    add_helper(c, "log-tailer", {"log_dir": "/logs", "log_file": "app.log"})
    return c


def _good_citizen() -> Composition:
    c = _base(
        "citizen",
        AppContainer(image="nginx:1.27", ports=[{"name": "http", "containerPort": 80}]),
        kind="Deployment",
        service=ServiceExposure(enabled=True, ports=[{"name": "http", "port": 80, "targetPort": "http"}]),
    )
    add_helper(c, "health-endpoint")
    add_helper(c, "metrics-endpoint")
    return c


def _egress() -> Composition:
    c = _base("egress", AppContainer(image="busybox:1.36", command=_loop("wget -q -O- http://localhost/api", 10)))
    add_helper(c, "egress-proxy", {"routes": {"/api": "https://httpbin.org/anything"}})
    return c


def _broken_init() -> Composition:
    c = _base("broken-rollout", AppContainer(image="nginx:1.27"), kind="Deployment")
    add_helper(c, "wait-for", {"name": "wait-for-missing", "host": "no-such-service", "port": 80, "attempts": 5})
    return c


def _share_process_namespace() -> Composition:
    c = _base(
        "shared-pids", AppContainer(image="nginx:1.27", ports=[{"containerPort": 80}]), share_process_namespace=True
    )
    add_helper(c, "debug-shell", {"name": "shell", "see_app_processes": True})
    return c


ELASTICSEARCH = "docker.elastic.co/elasticsearch/elasticsearch:7.9.3"


def _elasticsearch(**app) -> AppContainer:
    env = [{"name": "discovery.type", "value": "single-node"}, *app.pop("env", [])]
    return AppContainer(name="elasticsearch", image=ELASTICSEARCH, env=env, **app)


def _tls_ambassador() -> Composition:
    c = _base("es-tls", _elasticsearch())
    add_helper(c, "tls-terminator", {
        "listen_port": 9200,
        "upstream_port": 9201,
        "secret_name": "es-certs",
        "app_env": {"network.host": "127.0.0.1", "http.port": "9201"},
    })
    return c


def _exporter() -> Composition:
    c = _base(
        "es-metrics",
        _elasticsearch(ports=[{"name": "http", "containerPort": 9200}]),
        service=ServiceExposure(enabled=True, ports=[{"name": "http", "port": 9200, "targetPort": "http"}]),
    )
    add_helper(c, "prometheus-exporter")
    return c


def _sysctl() -> Composition:
    c = _base("es-sysctl", _elasticsearch(ports=[{"name": "http", "containerPort": 9200}]))
    add_helper(c, "sysctl")
    return c


def _secret_fetcher() -> Composition:
    c = _base(
        "vault-consumer",
        AppContainer(image="busybox:1.36", command=_loop("ls -l /secrets", 30)),
    )
    add_helper(c, "secret-fetcher")
    return c


def _port_ambassador() -> Composition:
    c = _base(
        "legacy",
        AppContainer(image="registry.example.com/legacy-app:2.3", command=["/opt/legacy/run", "--port=8775"]),
    )
    add_helper(c, "port-remapper", {"image": "haproxy:1.7", "listen_port": 80, "target_port": 8775})
    return c


def _debug_shell() -> Composition:
    c = _base("web-debug", AppContainer(image="nginx:1.27", ports=[{"containerPort": 80}]))
    add_helper(c, "debug-shell")
    return c


def _start_script() -> Composition:
    c = _base("scripted", AppContainer(image="nginx:1.27", ports=[{"name": "http", "containerPort": 80}]))
    add_helper(c, "file-writer", {
        "name": "write-startup",
        "content": "#!/bin/sh\necho 'configuring nginx'\nexec nginx -g 'daemon off;'",
        "use_as_app_command": True,
    })
    version = {
        "name": "version",
        "image": "hashicorp/http-echo:1.0",
        "args": ["-listen=:8080", "-text=version 1.0.0"],
        "ports": [{"name": "version", "containerPort": 8080}],
    }
    add_helper(c, "custom", {"role": "adapter", "container": version})
    return c


EXAMPLES = (
    Example("shared-scratch", "Shared scratch volume", "One container writes an emptyDir, another reads it "
            "read-only.", _shared_scratch),
    Example("localhost-api", "HTTP over localhost", "A second container serves HTTP on 8080 for an app that has "
            "no API.", _localhost_api),
    Example("init-html", "Init writes the page", "An init container writes index.html that nginx serves.",
            _init_writes_html),
    Example("config-merger", "Config-merging init", "jq merges env overrides into ConfigMap config before the "
            "app starts.", _config_merger),
    Example("log-tailer", "Log-tailing sidecar", "A legacy app logs to a file; a sidecar tails it to stdout.",
            _log_tailer),
    Example("good-citizen", "Good-citizen adapters", "Health and metrics sidecars published through a "
            "Service.", _good_citizen),
    Example("egress", "Egress ambassador", "The app's http_proxy is an allow-listing, logging nginx.", _egress),
    Example("broken-init", "Broken init container", "A misconfigured init container blocks the rollout.",
            _broken_init),
    Example("share-processes", "Shared process namespace", "A shell sidecar sees nginx's processes.",
            _share_process_namespace),
    Example("tls-ambassador", "TLS ambassador", "nginx terminates TLS on 9200 for Elasticsearch bound to "
            "127.0.0.1:9201.", _tls_ambassador),
    Example("exporter", "Exporter adapter", "elasticsearch_exporter publishes metrics on 9114 beside 9200.",
            _exporter),
    Example("sysctl", "Privileged sysctl init", "Raises vm.max_map_count before Elasticsearch starts.", _sysctl),
    Example("secret-fetcher", "Secret-fetching init", "A Vault client writes secrets into a memory volume.",
            _secret_fetcher),
    Example("port-ambassador", "Port ambassador", "HAProxy on 80 in front of a legacy app hard-wired to 8775.",
            _port_ambassador),
    Example("debug-shell", "Debug shell sidecar", "nginx plus a busybox that loops sleep 30.", _debug_shell),
    Example("start-script", "Start-script init", "An init container writes the app's start script; a second "
            "container answers its version on 8080.", _start_script),
)

EXAMPLES_BY_ID = {example.id: example for example in EXAMPLES}
