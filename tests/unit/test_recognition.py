"""Recognition by shape: a helper imported (Pod Studio writes no annotation of its own) is the pattern an experienced
engineer would name, with the params it was given and the real container's extra fields as overrides;
what no pattern reproduces exactly stays custom, with a role."""

import json

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from composer.domain.importer import HELPERS_ANNOTATION, import_manifests
from composer.domain.model import AppContainer, Composition, Helper, Workload
from composer.domain.patterns import CATALOG
from composer.domain.recognition.candidates import RECOGNISERS
from composer.domain.render import render
from composer.domain.yamlio import dump_documents, load_documents
from tests.support.compositions import (
    MEANINGFUL,
    ambiguous,
    as_its_manifests_tell,
    existing_config_maps,
    images,
    param_values,
)


def test_every_catalog_pattern_has_a_recogniser():
    assert set(RECOGNISERS) | {"custom"} == set(CATALOG)


@st.composite
def one_helper(draw: st.DrawFn) -> tuple[Composition, Helper]:
    pattern = CATALOG[draw(st.sampled_from(sorted(CATALOG)))]
    chosen = draw(st.lists(st.sampled_from([p.name for p in pattern.params]), unique=True))
    params = {name: draw(param_values(pattern.id, pattern.param(name))) for name in chosen}
    if pattern.id == "prometheus-exporter":
        params.setdefault("image", draw(MEANINGFUL[(pattern.id, "image")]))
    native = pattern.can_be_native_sidecar and params.get("role") != "init" and draw(st.booleans())
    helper = Helper("h1", pattern.id, params, native)
    shares = pattern.id == "debug-shell" and bool(params.get("see_app_processes"))
    composition = Composition(workload=Workload(kind=draw(st.sampled_from(["Pod", "Deployment"])), name="web",
                                                labels={"app": "web"}),
                              app=AppContainer(name="app", image=draw(images),
                                               env=[{"name": "MODE", "value": "prod"}]))
    composition.helpers = [helper]
    composition.options.share_process_namespace = shares
    composition.options.service.enabled = draw(st.booleans())
    composition.extra_objects = existing_config_maps(composition)
    return composition, helper


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(one_helper())
def test_a_rendered_pattern_imports_as_the_same_pattern_and_params(case):
    """Any catalog pattern with any valid params comes back as itself with no overrides; a param the manifests
    cannot tell (publish without a Service, a directory written out that is the default …) as the import reads it."""
    composition, helper = case
    assume(not ambiguous(composition))  # one helper's two volumes of one name: no Pod holds both
    pattern = CATALOG[helper.pattern]
    imported = import_manifests(load_documents(dump_documents(render(composition)))).composition
    [found] = imported.helpers
    assert (found.pattern, found.overrides) == (pattern.id, {})
    [told] = as_its_manifests_tell(composition, imported).helpers
    assert pattern.clean_params(found.params)[0] == pattern.clean_params(told.params)[0]
    assert found.native_sidecar == helper.native_sidecar
    assert imported.extra_objects == composition.extra_objects  # an existing ConfigMap stays a companion


def _pod(helpers: list[dict], *, init: list[dict] = (), volumes: list[dict] = (), app_mounts: list[dict] = (),
         share_processes: bool = False, app_env: list[dict] = (), app_command: list[str] = (),
         config_maps: list[dict] = ()) -> list[dict]:
    """A Pod of the shop app and the helpers, then the ConfigMaps that come with it."""
    app = {"name": "app", "image": "registry.example.com/shop:1.4"}
    for field, value in (("command", list(app_command)), ("env", list(app_env)), ("volumeMounts", list(app_mounts))):
        if value:
            app[field] = value
    spec: dict = {"containers": [app, *helpers]}
    if init:
        spec["initContainers"] = list(init)
    if volumes:
        spec["volumes"] = list(volumes)
    if share_processes:
        spec["shareProcessNamespace"] = True
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "shop", "labels": {"app": "shop"}}, "spec": spec}
    return [pod, *config_maps]


def _config_map(name: str, **files: str) -> dict:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": files}


def _imported(manifests: list[dict]) -> tuple[Composition, list[dict]]:
    """The composition and the helper containers its rendering has, in the Pod's order."""
    composition = import_manifests(manifests).composition
    spec = render(composition)[-1]["spec"]
    return composition, [*spec.get("initContainers", []), *spec["containers"][1:]]


VARLOG = {"name": "varlog", "emptyDir": {}}
STREAMING_SIDECAR = {  # kubernetes.io, "Logging architecture": a streaming sidecar, written in args
    "name": "count-log-1", "image": "busybox:1.28",
    "args": ["/bin/sh", "-c", "tail -n+1 -F /var/log/1.log"],
    "volumeMounts": [{"name": "varlog", "mountPath": "/var/log"}],
}
KIAMOL_LOGGER = {  # Kiamol chapter 7: the app writes /logs, the sidecar reads the same volume at /logs-ro
    "name": "logger", "image": "kiamol/ch03-sleep",
    "command": ["sh", "-c", "tail -f /logs-ro/timecheck.log"],
    "volumeMounts": [{"name": "logs-dir", "mountPath": "/logs-ro", "readOnly": True}],
}
ELASTICSEARCH_SYSCTL = {  # Elastic's "Virtual memory" docs: the privileged init container before Elasticsearch
    "name": "increase-vm-max-map", "image": "busybox:1.36",
    "command": ["sysctl", "-w", "vm.max_map_count=262144"],
    "securityContext": {"privileged": True},
}
WAIT_FOR_POSTGRES = {  # the init container of countless READMEs
    "name": "wait-for-postgres", "image": "busybox:1.36",
    "command": ["sh", "-c", "until nc -z postgres 5432; do echo waiting for postgres; sleep 2; done;"],
}
REDIS_EXPORTER = {  # the redis_exporter README's sidecar, with resources of its own
    "name": "redis-exporter", "image": "oliver006/redis_exporter:v1.62.0",
    "ports": [{"name": "metrics", "containerPort": 9121}],
    "resources": {"requests": {"cpu": "100m", "memory": "100Mi"}},
}


GIT_CLONE = {  # alpine/git's entrypoint is git: the clone in args, the volume the web server serves
    "name": "clone-site", "image": "alpine/git:2.45.2",
    "args": ["clone", "--single-branch", "--branch", "main", "--", "https://github.com/example/site.git", "/site"],
    "volumeMounts": [{"name": "site", "mountPath": "/site"}],
}

# Worked example 16, as Kiamol's chapter 7 lab writes a start script: echo with the new line inside the quotes
# (chmod in an init container of its own), the app started by the script.
ECHOED_START_SCRIPT = {
    "name": "init-script", "image": "kiamol/ch03-sleep",
    "command": ["sh", "-c", "echo '#!/bin/sh\ndotnet Pi.Web.dll -m web' > /init/startup.sh"],
    "volumeMounts": [{"name": "init", "mountPath": "/init"}],
}
# The same with printf and chmod in one script, and a heredoc, the way READMEs write it.
PRINTED_START_SCRIPT = {
    "name": "write-startup", "image": "busybox:1.36",
    "command": ["sh", "-c", "printf '#!/bin/sh\\nexec nginx -g \"daemon off;\"\\n' > /init/startup.sh\n"
                            "chmod 755 /init/startup.sh\n"],
    "volumeMounts": [{"name": "init", "mountPath": "/init"}],
}
HEREDOC_PAGE = {
    "name": "write-page", "image": "alpine:3.19",
    "command": ["/bin/sh", "-c"],
    "args": ["cat <<'EOF' > /work-dir/index.html\n<h1>Hello</h1>\n<p>from an init container</p>\nEOF\n"],
    "volumeMounts": [{"name": "html", "mountPath": "/work-dir"}],
}
# Worked example 4 as Kiamol writes it: a pipe into jq, one override from an env var through --arg.
JQ_MERGE = {
    "name": "init-config", "image": "kiamol/ch03-sleep",
    "command": ["sh", "-c", "cat /config-in/appsettings.json | jq --arg APP_ENV \"$APP_ENVIRONMENT\" "
                            "'.Application.Environment=$APP_ENV' > /config-out/appsettings.json"],
    "env": [{"name": "APP_ENVIRONMENT", "value": "TEST"}],
    "volumeMounts": [{"name": "config-map", "mountPath": "/config-in"},
                     {"name": "config-dir", "mountPath": "/config-out"}],
}
MERGE_VOLUMES = [{"name": "config-map", "configMap": {"name": "timecheck-config"}},
                 {"name": "config-dir", "emptyDir": {}}]
MERGED_IN_APP = [{"name": "config-dir", "mountPath": "/config", "readOnly": True}]
# The same with jq installed first and env read inside the program.
JQ_WITH_ENV = {
    "name": "settings", "image": "alpine:3.19",
    "command": ["sh", "-c", "apk add --no-cache jq && jq '.log.level = env.LOG_LEVEL | .db.host = $ENV.DB_HOST' "
                            "/in/settings.json > /out/settings.json"],
    "env": [{"name": "LOG_LEVEL", "value": "debug"}, {"name": "DB_HOST", "value": "db.prod"}],
    "volumeMounts": [{"name": "defaults", "mountPath": "/in", "readOnly": True},
                     {"name": "merged", "mountPath": "/out"}],
}
# Worked example 13 as devopscube and countless posts write it: log in, read one field, write it to a memory volume.
VAULT_READ = {
    "name": "fetch-secret", "image": "hashicorp/vault:1.15",
    "command": ["sh", "-c", "echo \"Fetching secret from Vault...\"\nvault login $VAULT_TOKEN\n"
                            "vault kv get -field=password secret/myapp > /secret/password.txt\n"],
    "env": [{"name": "VAULT_ADDR", "value": "http://vault.default.svc.cluster.local:8200"},
            {"name": "VAULT_TOKEN", "valueFrom": {"secretKeyRef": {"name": "vault-token", "key": "token"}}}],
    "volumeMounts": [{"name": "secret-volume", "mountPath": "/secret"}],
}
# Worked example 14 as the CKAD labs write it: haproxy 1.7, a `listen` section, its own ConfigMap.
HAPROXY_CFG = """global
    daemon
    maxconn 256

defaults
    mode http
    timeout connect 5000ms
    timeout client 50000ms
    timeout server 50000ms

listen http-in
    bind *:80
    server server1 127.0.0.1:8775 maxconn 32
"""
HAPROXY_AMBASSADOR = {
    "name": "fruit-service-ambassador", "image": "haproxy:1.7",
    "ports": [{"containerPort": 80}],
    "volumeMounts": [{"name": "config-volume", "mountPath": "/usr/local/etc/haproxy"}],
}
HAPROXY_VOLUMES = [{"name": "config-volume", "configMap": {"name": "fruit-service-ambassador-config"}}]
# Worked example 10: nginx with the certificate from a Secret, an upstream block, Elasticsearch on 127.0.0.1:9201.
NGINX_TLS = """upstream elasticsearch {
    server 127.0.0.1:9201;
}

server {
    listen 9200 ssl;
    server_name _;
    ssl_certificate     /etc/nginx/ssl/tls.crt;
    ssl_certificate_key /etc/nginx/ssl/tls.key;
    ssl_protocols       TLSv1.2 TLSv1.3;

    location / {
        proxy_pass http://elasticsearch;
        proxy_set_header X-Forwarded-Proto https;
    }
}
"""
NGINX_TLS_PROXY = {
    "name": "nginx", "image": "nginx:1.25-alpine",
    "ports": [{"name": "https", "containerPort": 9200}],
    "volumeMounts": [{"name": "tls", "mountPath": "/etc/nginx/ssl", "readOnly": True},
                     {"name": "nginx-conf", "mountPath": "/etc/nginx/conf.d"}],
    "resources": {"limits": {"memory": "64Mi"}},
}
TLS_VOLUMES = [{"name": "tls", "secret": {"secretName": "es-tls"}},
               {"name": "nginx-conf", "configMap": {"name": "es-nginx"}}]
ES_BOUND_TO_LOCALHOST = [{"name": "discovery.type", "value": "single-node"},
                         {"name": "network.host", "value": "127.0.0.1"}, {"name": "http.port", "value": "9201"}]
# Worked example 7 with nginx: the app's http_proxy only, an allow-list of one URI, everything else refused.
NGINX_EGRESS = """server {
  listen 1080;
  access_log /dev/stdout;

  location /api {
    proxy_pass https://numbers.example.com/rng;
  }

  location / {
    return 403;
  }
}
"""
EGRESS_PROXY = {
    "name": "proxy", "image": "nginx:1.25",
    "ports": [{"containerPort": 1080}],
    "volumeMounts": [{"name": "proxy-conf", "mountPath": "/etc/nginx/conf.d", "readOnly": True}],
}
EGRESS_VOLUMES = [{"name": "proxy-conf", "configMap": {"name": "egress-rules"}}]
# A Fluent Bit sidecar as the Fluent Bit and kubelabs guides write it: the app's log volume read-write, the
# config from a ConfigMap at /fluent-bit/etc/, shipping over HTTP.
FLUENT_BIT_CONF = """[SERVICE]
    Flush        5
    Log_Level    info

[INPUT]
    Name         tail
    Path         /var/log/app/*.log
    Tag          app.*

[OUTPUT]
    Name         http
    Match        *
    Host         logstash
    Port         8080
"""
FLUENT_BIT = {
    "name": "fluent-bit-sidecar", "image": "cr.fluentbit.io/fluent/fluent-bit:2.2.2",
    "volumeMounts": [{"name": "fluent-bit-config", "mountPath": "/fluent-bit/etc/"},
                     {"name": "app-logs", "mountPath": "/var/log/app"}],
}
FLUENT_BIT_VOLUMES = [{"name": "app-logs", "emptyDir": {}}, {"name": "fluent-bit-config",
                                                             "configMap": {"name": "fluent-bit-config"}}]
# jimmidyson/configmap-reload beside Prometheus, as Prometheus' Helm chart runs it.
CONFIGMAP_RELOAD = {
    "name": "prometheus-server-configmap-reload", "image": "jimmidyson/configmap-reload:v0.8.0",
    "args": ["--volume-dir=/etc/config", "--webhook-url=http://127.0.0.1:9090/-/reload"],
    "volumeMounts": [{"name": "config-volume", "mountPath": "/etc/config", "readOnly": True}],
    "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}},
}
PROMETHEUS_CONFIG = [{"name": "config-volume", "configMap": {"name": "prometheus-server"}}]


@pytest.mark.parametrize(("manifests", "pattern_id", "params"), [
    pytest.param(_pod([STREAMING_SIDECAR], volumes=[VARLOG],
                      app_mounts=[{"name": "varlog", "mountPath": "/var/log"}]),
                 "log-tailer", {"volume": "varlog", "log_dir": "/var/log", "log_file": "1.log"},
                 id="k8s-docs-streaming"),
    pytest.param(_pod([KIAMOL_LOGGER], volumes=[{"name": "logs-dir", "emptyDir": {}}],
                      app_mounts=[{"name": "logs-dir", "mountPath": "/logs"}]),
                 "log-tailer", {"log_dir": "/logs-ro", "log_file": "timecheck.log", "app_log_dir": "/logs"},
                 id="kiamol-logger"),
    pytest.param(_pod([], init=[ELASTICSEARCH_SYSCTL]), "sysctl", {"settings": {"vm.max_map_count": "262144"}},
                 id="elasticsearch-sysctl"),
    pytest.param(_pod([], init=[WAIT_FOR_POSTGRES]), "wait-for", {"host": "postgres", "port": 5432},
                 id="wait-for-postgres"),
    pytest.param(_pod([], init=[GIT_CLONE], volumes=[{"name": "site", "emptyDir": {}}],
                      app_mounts=[{"name": "site", "mountPath": "/usr/share/nginx/html", "readOnly": True}]),
                 "git-clone", {"repository": "https://github.com/example/site.git", "ref": "main", "directory": "/site",
                               "app_mount_path": "/usr/share/nginx/html"}, id="git-clone"),
    pytest.param(_pod([REDIS_EXPORTER]), "prometheus-exporter", {"port": 9121, "port_name": "metrics", "args": []},
                 id="redis-exporter"),
    pytest.param(_pod([], init=[ECHOED_START_SCRIPT], volumes=[{"name": "init", "emptyDir": {}}],
                      app_mounts=[{"name": "init", "mountPath": "/init"}], app_command=["/init/startup.sh"]),
                 "file-writer", {"directory": "/init", "filename": "startup.sh", "executable": False,
                                 "content": "#!/bin/sh\ndotnet Pi.Web.dll -m web", "use_as_app_command": True},
                 id="kiamol-start-script"),
    pytest.param(_pod([], init=[PRINTED_START_SCRIPT], volumes=[{"name": "init", "emptyDir": {}}],
                      app_mounts=[{"name": "init", "mountPath": "/init"}], app_command=["/init/startup.sh"]),
                 "file-writer", {"filename": "startup.sh", "executable": True, "use_as_app_command": True,
                                 "content": '#!/bin/sh\nexec nginx -g "daemon off;"'}, id="printf-start-script"),
    pytest.param(_pod([], init=[HEREDOC_PAGE], volumes=[{"name": "html", "emptyDir": {}}],
                      app_mounts=[{"name": "html", "mountPath": "/usr/share/nginx/html", "readOnly": True}]),
                 "file-writer", {"volume": "html", "directory": "/work-dir", "filename": "index.html",
                                 "content": "<h1>Hello</h1>\n<p>from an init container</p>", "executable": False,
                                 "app_mount_path": "/usr/share/nginx/html", "read_only_in_app": True},
                 id="heredoc-page"),
    pytest.param(_pod([], init=[JQ_MERGE], volumes=MERGE_VOLUMES, app_mounts=MERGED_IN_APP),
                 "config-merger", {"config_file": "appsettings.json", "overrides": {"Application.Environment": "TEST"},
                                   "input_volume": "config-map", "volume": "config-dir", "app_config_dir": "/config",
                                   "config_map": "timecheck-config", "config_data": ""}, id="kiamol-jq-merge"),
    pytest.param(_pod([], init=[JQ_MERGE], volumes=MERGE_VOLUMES, app_mounts=MERGED_IN_APP,
                      config_maps=[_config_map("timecheck-config", **{"appsettings.json": '{"Application": {}}'})]),
                 "config-merger", {"config_map": "timecheck-config", "config_data": '{"Application": {}}'},
                 id="jq-merge-of-an-imported-config-map"),
    pytest.param(_pod([], init=[JQ_WITH_ENV], volumes=[{"name": "defaults", "configMap": {"name": "app-defaults"}},
                                                        {"name": "merged", "emptyDir": {}}],
                      app_mounts=[{"name": "merged", "mountPath": "/etc/app", "readOnly": True}],
                      config_maps=[_config_map("app-defaults", **{"settings.json": "{}", "README": "defaults"})]),
                 "config-merger", {"config_file": "settings.json", "config_map": "app-defaults", "config_data": "",
                                   "overrides": {"log.level": "debug", "db.host": "db.prod"}}, id="jq-with-env"),
    pytest.param(_pod([], init=[VAULT_READ], volumes=[{"name": "secret-volume", "emptyDir": {"medium": "Memory"}}],
                      app_mounts=[{"name": "secret-volume", "mountPath": "/app/secret"}]),
                 "secret-fetcher", {"vault_address": "http://vault.default.svc.cluster.local:8200",
                                    "secret_path": "secret/myapp", "output_file": "password.txt",
                                    "token_secret": "vault-token", "app_mount_path": "/app/secret",
                                    "read_only_in_app": False, "in_memory": True}, id="vault-kv-get"),
    pytest.param(_pod([HAPROXY_AMBASSADOR], volumes=HAPROXY_VOLUMES,
                      config_maps=[_config_map("fruit-service-ambassador-config", **{"haproxy.cfg": HAPROXY_CFG})]),
                 "port-remapper", {"image": "haproxy:1.7", "listen_port": 80, "target_port": 8775, "mode": "http",
                                   "config_map": "fruit-service-ambassador-config", "config_volume": "config-volume"},
                 id="haproxy-ambassador"),
    pytest.param(_pod([NGINX_TLS_PROXY], volumes=TLS_VOLUMES, app_env=ES_BOUND_TO_LOCALHOST,
                      config_maps=[_config_map("es-nginx", **{"elasticsearch.conf": NGINX_TLS})]),
                 "tls-terminator", {"listen_port": 9200, "upstream_port": 9201, "port_name": "https",
                                    "secret_name": "es-tls", "cert_file": "tls.crt", "key_file": "tls.key",
                                    "app_env": {"network.host": "127.0.0.1", "http.port": "9201"},
                                    "config_map": "es-nginx", "config_volume": "nginx-conf", "certs_volume": "tls"},
                 id="nginx-tls"),
    pytest.param(_pod([EGRESS_PROXY], volumes=EGRESS_VOLUMES,
                      app_env=[{"name": "http_proxy", "value": "http://localhost:1080"},
                               {"name": "RngApi__Url", "value": "http://localhost/api"}],
                      config_maps=[_config_map("egress-rules", **{"default.conf": NGINX_EGRESS})]),
                 "egress-proxy", {"listen_port": 1080, "routes": {"/api": "https://numbers.example.com/rng"},
                                  "proxy_variables": ["http_proxy"], "config_map": "egress-rules"}, id="nginx-egress"),
    pytest.param(_pod([FLUENT_BIT], volumes=FLUENT_BIT_VOLUMES,
                      app_mounts=[{"name": "app-logs", "mountPath": "/var/log/app"}],
                      config_maps=[_config_map("fluent-bit-config", **{"fluent-bit.conf": FLUENT_BIT_CONF})]),
                 "log-shipper", {"volume": "app-logs", "log_dir": "/var/log/app", "log_pattern": "*.log",
                                 "output": "http", "destination": "logstash:8080", "config_map": "fluent-bit-config"},
                 id="fluent-bit"),
    pytest.param(_pod([CONFIGMAP_RELOAD], volumes=PROMETHEUS_CONFIG,
                      app_mounts=[{"name": "config-volume", "mountPath": "/etc/config", "readOnly": True}]),
                 "config-reloader", {"config_map": "prometheus-server", "volume": "config-volume",
                                     "config_dir": "/etc/config", "webhook_url": "http://127.0.0.1:9090/-/reload"},
                 id="configmap-reload"),
])
def test_textbook_helpers_are_the_pattern_an_engineer_would_name(manifests, pattern_id, params):
    original = [*manifests[0]["spec"].get("initContainers", []), *manifests[0]["spec"]["containers"][1:]]
    composition, rendered = _imported(manifests)
    [helper] = composition.helpers
    assert helper.pattern == pattern_id
    cleaned = CATALOG[pattern_id].clean_params(helper.params)[0]
    assert {key: cleaned[key] for key in params} == params
    assert rendered == original  # exactly the container found, overrides and all
    assert render(composition)[-1]["spec"] == manifests[0]["spec"]
    # The user's ConfigMaps stay as written, whether the pattern now generates them or mounts them.
    assert [m for m in render(composition) if m["kind"] == "ConfigMap"] == manifests[1:]


def test_what_a_pattern_does_not_produce_is_kept_as_overrides_field_by_field():
    composition, _ = _imported(_pod([STREAMING_SIDECAR], volumes=[VARLOG],
                                    app_mounts=[{"name": "varlog", "mountPath": "/var/log"}]))
    # The docs write the script in args and the mount read-write; the pattern writes command, read-only.
    assert composition.helpers[0].overrides == {
        "command": None, "args": STREAMING_SIDECAR["args"], "volumeMounts": STREAMING_SIDECAR["volumeMounts"]}
    composition, _ = _imported(_pod([REDIS_EXPORTER]))
    assert composition.helpers[0].overrides == {"resources": REDIS_EXPORTER["resources"]}


@pytest.mark.parametrize(("manifests", "role"), [
    # Not privileged: the sysctl cannot work, so it is not the pattern.
    pytest.param(_pod([], init=[{**ELASTICSEARCH_SYSCTL, "securityContext": {}}]), "init", id="unprivileged-sysctl"),
    # An idle loop without stdin and tty is a placeholder, not a debug shell.
    pytest.param(_pod([{"name": "log-shipper", "image": "busybox:1.36",
                        "command": ["sh", "-c", "while true; do sleep 3600; done"]}]), "sidecar", id="placeholder"),
    # The tailed file is on no volume the app shares: there is nothing to tail.
    pytest.param(_pod([{"name": "tail", "image": "busybox:1.36", "command": ["tail", "-F", "/var/log/app.log"]}]),
                 "sidecar", id="tail-of-nothing"),
    # kubernetes.io's adapter: a tail piped into a shell loop is not a plain log tailer, nor the normaliser's awk.
    pytest.param(_pod([{**STREAMING_SIDECAR, "args": ["/bin/sh", "-c", "tail -F /var/log/1.log | while read line; "
                                                                     "do echo \"adapted: $line\"; done"]}],
                      volumes=[VARLOG], app_mounts=[{"name": "varlog", "mountPath": "/var/log"}]),
                 "sidecar", id="tail-into-a-loop"),
    # The app mounts the log volume read-only: it cannot be writing the log the pattern says it writes.
    pytest.param(_pod([STREAMING_SIDECAR], volumes=[VARLOG],
                      app_mounts=[{"name": "varlog", "mountPath": "/var/log", "readOnly": True}]),
                 "sidecar", id="app-mount-read-only"),
    # The log volume is a hostPath, not the emptyDir the pattern creates.
    pytest.param(_pod([STREAMING_SIDECAR], volumes=[{"name": "varlog", "hostPath": {"path": "/var/log"}}],
                      app_mounts=[{"name": "varlog", "mountPath": "/var/log"}]), "sidecar", id="host-path"),
    # An exporter image is not enough: its metrics port has no name for the Service to use.
    pytest.param(_pod([{**REDIS_EXPORTER, "ports": [{"containerPort": 9121}]}]), "adapter", id="unnamed-port"),
    # HAProxy forwarding to a host outside the Pod is a database or TCP proxy, not a port remapper.
    pytest.param(_pod([HAPROXY_AMBASSADOR], volumes=HAPROXY_VOLUMES, config_maps=[_config_map(
        "fruit-service-ambassador-config",
        **{"haproxy.cfg": HAPROXY_CFG.replace("127.0.0.1:8775", "external-db.example.com:5432")})]),
        "ambassador", id="haproxy-to-another-host"),
    # Its config did not come with the import: what it forwards to is unknown.
    pytest.param(_pod([HAPROXY_AMBASSADOR], volumes=HAPROXY_VOLUMES), "ambassador", id="haproxy-config-not-imported"),
    # nginx with a certificate mounted but no `ssl` on its listen is no TLS terminator.
    pytest.param(_pod([NGINX_TLS_PROXY], volumes=TLS_VOLUMES, app_env=ES_BOUND_TO_LOCALHOST, config_maps=[
        _config_map("es-nginx", **{"elasticsearch.conf": NGINX_TLS.replace("9200 ssl", "9200")})]),
        "sidecar", id="nginx-without-ssl"),
    # TLS in front of another host, not of the app beside it.
    pytest.param(_pod([NGINX_TLS_PROXY], volumes=TLS_VOLUMES, config_maps=[_config_map(
        "es-nginx", **{"elasticsearch.conf": NGINX_TLS.replace("127.0.0.1:9201", "elasticsearch.logging:9200")})]),
        "sidecar", id="tls-to-another-host"),
    # The app has no http_proxy: nothing sends it through the proxy.
    pytest.param(_pod([EGRESS_PROXY], volumes=EGRESS_VOLUMES, config_maps=[
        _config_map("egress-rules", **{"default.conf": NGINX_EGRESS})]), "sidecar", id="egress-without-http-proxy"),
    # A copy out of the ConfigMap into a volume the app does not mount merges nothing for it.
    pytest.param(_pod([], init=[{**JQ_MERGE, "command": ["cp", "/config-in/appsettings.json",
                                                         "/config-out/appsettings.json"], "env": []}],
                      volumes=MERGE_VOLUMES), "init", id="copy-for-nobody"),
    # A file written from the shell's own output (a date) has no content to name.
    pytest.param(_pod([], init=[{**HEREDOC_PAGE, "args": ["echo \"built $(date)\" > /work-dir/index.html"]}],
                      volumes=[{"name": "html", "emptyDir": {}}],
                      app_mounts=[{"name": "html", "mountPath": "/usr/share/nginx/html"}]), "init", id="dynamic-file"),
    # A secret fetched with curl from Vault's HTTP API, not with the Vault CLI the pattern runs.
    pytest.param(_pod([], init=[{**VAULT_READ, "command": [
        "sh", "-c", "curl -s -H \"X-Vault-Token: $VAULT_TOKEN\" $VAULT_ADDR/v1/secret/myapp > /secret/password.txt"]}],
        volumes=[{"name": "secret-volume", "emptyDir": {"medium": "Memory"}}],
        app_mounts=[{"name": "secret-volume", "mountPath": "/app/secret"}]), "init", id="secret-by-curl"),
    # A Fluent Bit whose config did not come with the import: what it ships, and where, is unknown.
    pytest.param(_pod([FLUENT_BIT], volumes=FLUENT_BIT_VOLUMES,
                      app_mounts=[{"name": "app-logs", "mountPath": "/var/log/app"}]), "sidecar",
                 id="fluent-bit-config-not-imported"),
    # Volume sources of another shape than Kubernetes' are read as no source at all, never as an error.
    pytest.param(_pod([NGINX_TLS_PROXY], volumes=[{"name": "tls", "secret": None},
                                                  {"name": "nginx-conf", "configMap": "es-nginx"}],
                      config_maps=[_config_map("es-nginx", **{"elasticsearch.conf": NGINX_TLS})]),
                 "sidecar", id="odd-volume-sources"),
    # configmap-reload watching a directory the app does not read its config from.
    pytest.param(_pod([CONFIGMAP_RELOAD], volumes=PROMETHEUS_CONFIG), "sidecar", id="reload-of-nothing-the-app-reads"),
])
def test_a_near_miss_stays_custom_and_exact(manifests, role):
    original = [*manifests[0]["spec"].get("initContainers", []), *manifests[0]["spec"]["containers"][1:]]
    composition, rendered = _imported(manifests)
    assert [(h.pattern, h.params["role"]) for h in composition.helpers] == [("custom", role)]
    assert rendered == original


@pytest.mark.parametrize(("image", "role"), [
    ("docker.io/istio/proxyv2:1.23.0", "ambassador"),
    ("cr.l5d.io/linkerd/proxy:stable-2.14.10", "ambassador"),
    ("gcr.io/cloud-sql-connectors/cloud-sql-proxy:2.11.0", "ambassador"),
    ("quay.io/oauth2-proxy/oauth2-proxy:v7.6.0", "ambassador"),
    ("fluent/fluent-bit:3.1.9", "sidecar"),
    ("grafana/promtail:3.0.0", "sidecar"),
    ("quay.io/prometheus/node-exporter:v1.8.2", "adapter"),
    ("registry.example.com/team/worker:2.0", "sidecar"),
])
def test_a_custom_helper_beside_the_app_gets_the_role_its_image_plays(image, role):
    composition, _ = _imported(_pod([{"name": "helper", "image": image}]))
    assert composition.helpers[0].params["role"] == role


def test_an_old_composition_is_still_recognised_from_its_annotation():
    composition = Composition(workload=Workload(kind="Pod", name="web", labels={"app": "web"}),
                              app=AppContainer(name="app", image="nginx:1.27"),
                              helpers=[Helper("h1", "port-remapper", {"listen_port": 8080})])
    manifests = render(composition)
    assert "annotations" not in manifests[-1]["metadata"]  # Pod Studio writes none now
    # As Pod Studio wrote it before recognition by shape.
    manifests[-1]["metadata"]["annotations"] = {HELPERS_ANNOTATION: json.dumps(
        [{"container": "port-ambassador", "pattern": "port-remapper", "params": {"listen_port": 8080}}])}
    imported = import_manifests(manifests).composition
    assert [(h.pattern, h.params, h.overrides) for h in imported.helpers] == [
        ("port-remapper", {"listen_port": 8080}, {})]
    assert imported.workload.annotations == {}


def _with_old_annotation(manifests: list[dict], params: dict) -> list[dict]:
    """As Pod Studio wrote a log tailer before recognition by shape."""
    manifests[-1]["metadata"]["annotations"] = {HELPERS_ANNOTATION: json.dumps(
        [{"container": "log-tailer", "pattern": "log-tailer", "params": params}])}
    return manifests


def test_yaml_edited_by_hand_says_the_edit_as_the_param_not_as_an_override_of_the_annotation():
    """An old annotation still renders the edited Pod (the new file only as an override of the command);
    the shape renders it with no override: the fewer overrides win (the composer's YAML editor)."""
    composition = Composition(app=AppContainer(image="busybox:1.36"), helpers=[Helper("h1", "log-tailer", {})])
    text = dump_documents(_with_old_annotation(render(composition), {})).replace(
        "/var/log/app/app.log", "/var/log/app/access.log")
    imported = import_manifests(load_documents(text)).composition
    assert [(h.pattern, h.params, h.overrides) for h in imported.helpers] == [
        ("log-tailer", {"log_file": "access.log"}, {})]


def test_an_edit_no_shape_explains_stays_the_annotations_pattern_with_an_override():
    composition = Composition(app=AppContainer(image="busybox:1.36"), helpers=[Helper("h1", "log-tailer", {})])
    text = dump_documents(_with_old_annotation(render(composition), {})).replace(
        "    - -F\n", "    - -F\n    - -s\n    - '5'\n")
    imported = import_manifests(load_documents(text)).composition
    helper, = imported.helpers
    assert helper.pattern == "log-tailer" and helper.overrides == {
        "command": ["tail", "-n+1", "-F", "-s", "5", "/var/log/app/app.log"]}


def test_a_config_merger_rendered_when_it_installed_jq_at_pod_start_is_the_pattern_and_keeps_its_install():
    """Its params read back; the install stays as the one field set by hand, so the Pod does what it did."""
    composition = Composition(app=AppContainer(image="nginx:1.27"),
                              helpers=[Helper("h1", "config-merger", {"image": "alpine:3.20"})])
    manifests = render(composition)
    merger = manifests[-1]["spec"]["initContainers"][0]
    assert not any("apk" in word for word in merger["command"])  # the default image holds jq
    merger["command"][-1] = "command -v jq >/dev/null || apk add --no-cache jq >/dev/null; " + merger["command"][-1]
    helper, = import_manifests(manifests).composition.helpers
    assert (helper.pattern, helper.params) == ("config-merger", {"image": "alpine:3.20"})
    assert helper.overrides == {"command": merger["command"]}
