"""Ambassador patterns: the app talks to localhost; the helper proxies outward or fronts inbound traffic."""

from __future__ import annotations

from composer.domain.patterns.base import (
    BuildContext,
    Contribution,
    Param,
    ParamKind,
    Pattern,
    Role,
    config_volume,
    config_volume_param,
    env,
    existing_config_param,
    generated_config,
    image_param,
    mount,
    name_param,
    port,
)

P = ParamKind

HAPROXY_CONFIG = """global
    log stdout format raw local0
defaults
    mode {mode}
    log global
    timeout connect 5s
    timeout client 60s
    timeout server 60s
frontend listen
    bind *:{listen}
    default_backend app
backend app
    server app 127.0.0.1:{target}
"""


def _port_remapper(ctx: BuildContext) -> Contribution:
    p = ctx.params
    config = config_volume(ctx)
    conf = HAPROXY_CONFIG.format(mode=p["mode"], listen=p["listen_port"], target=p["target_port"])
    return Contribution(
        container={
            "name": p["name"],
            "image": p["image"],
            "ports": [port(p["listen_port"], p["port_name"])],
            "volumeMounts": [mount(config["name"], "/usr/local/etc/haproxy", read_only=True)],
        },
        volumes=[config],
        config_maps=generated_config(ctx, {"haproxy.cfg": conf}),
    )


PORT_REMAPPER = Pattern(
    id="port-remapper",
    role=Role.AMBASSADOR,
    title="Port remapper",
    summary="HAProxy listens on a standard port and forwards to a legacy app's hard-wired port on localhost.",
    params=(
        name_param("port-ambassador"),
        image_param("haproxy:2.9-alpine"),
        Param("listen_port", "Listen on", P.PORT, 80),
        Param("target_port", "App's port", P.PORT, 8775, "The port the app really listens on."),
        Param("port_name", "Port name", P.NAME, "http"),
        Param("mode", "Mode", P.CHOICE, "http", choices=("http", "tcp")),
        existing_config_param(),
        config_volume_param(),
    ),
    build=_port_remapper,
)

NGINX_TLS_CONFIG = """server {{
    listen {listen} ssl;
    ssl_certificate     /certs/{cert};
    ssl_certificate_key /certs/{key};
    location / {{
        proxy_pass http://127.0.0.1:{upstream};
        proxy_set_header Host $host;
        proxy_set_header X-Forwarded-Proto https;
    }}
}}
"""


def _tls_terminator(ctx: BuildContext) -> Contribution:
    p = ctx.params
    certs, config = p["certs_volume"] or f"{p['name']}-certs", config_volume(ctx)
    conf = NGINX_TLS_CONFIG.format(
        listen=p["listen_port"], upstream=p["upstream_port"], cert=p["cert_file"], key=p["key_file"]
    )
    return Contribution(
        container={
            "name": p["name"],
            "image": p["image"],
            "ports": [port(p["listen_port"], p["port_name"])],
            "volumeMounts": [
                mount(certs, "/certs", read_only=True),
                mount(config["name"], "/etc/nginx/conf.d", read_only=True),
            ],
        },
        volumes=[{"name": certs, "secret": {"secretName": p["secret_name"]}}, config],
        # The app must listen on localhost only, on the internal port, so only TLS reaches it.
        app_env=[env(key, value) for key, value in (p["app_env"] or {}).items()],
        config_maps=generated_config(ctx, {"tls.conf": conf}),
        service_ports=([{"name": p["port_name"], "port": p["listen_port"], "targetPort": p["port_name"]}]
                       if p["publish"] else []),
    )


TLS_TERMINATOR = Pattern(
    id="tls-terminator",
    role=Role.AMBASSADOR,
    title="TLS terminator",
    summary="nginx terminates TLS with a Secret's certificate and proxies to the app on a localhost-only port.",
    params=(
        name_param("tls-proxy"),
        image_param("nginx:1.27-alpine"),
        Param("listen_port", "TLS port", P.PORT, 443),
        Param("upstream_port", "App's internal port", P.PORT, 8080),
        Param("port_name", "Port name", P.NAME, "https"),
        Param("secret_name", "TLS Secret", P.STRING, "app-tls"),
        Param("cert_file", "Certificate file", P.STRING, "tls.crt"),
        Param("key_file", "Key file", P.STRING, "tls.key"),
        # Off by default so that compositions made before keep their Service; a new one turns it on (fitting.py).
        Param("publish", "Add to the Service", P.BOOL, False, "Expose the TLS port through the Pod's Service."),
        Param(
            "app_env",
            "Env on the app",
            P.MAP,
            {},
            "e.g. settings that bind the app to 127.0.0.1 on the internal port.",
            optional=True,
        ),
        existing_config_param(),
        config_volume_param(),
        Param("certs_volume", "Certificates volume", P.NAME, "", "Defaults to <name>-certs.", optional=True),
    ),
    build=_tls_terminator,
)

NGINX_EGRESS_CONFIG = """log_format egress '$remote_addr "$request" -> $upstream_addr $status';
server {{
    listen {listen};
    access_log /dev/stdout egress;
{locations}    location / {{
        return 403 "blocked by egress ambassador\\n";
    }}
}}
"""


def _egress_proxy(ctx: BuildContext) -> Contribution:
    p = ctx.params
    locations = "".join(
        f"    location {source} {{\n        proxy_pass {target};\n    }}\n" for source, target in p["routes"].items()
    )
    config = config_volume(ctx)
    proxy_url = f"http://localhost:{p['listen_port']}"
    return Contribution(
        container={
            "name": p["name"],
            "image": p["image"],
            "ports": [port(p["listen_port"], "egress")],
            "volumeMounts": [mount(config["name"], "/etc/nginx/conf.d", read_only=True)],
        },
        volumes=[config],
        app_env=[env(variable, proxy_url) for variable in p["proxy_variables"]],
        config_maps=generated_config(ctx, {"default.conf": NGINX_EGRESS_CONFIG.format(
            listen=p["listen_port"], locations=locations)}),
    )


EGRESS_PROXY = Pattern(
    id="egress-proxy",
    role=Role.AMBASSADOR,
    title="HTTP egress proxy",
    summary="The app sets http_proxy to localhost; nginx maps allowed URIs to real targets, blocks and logs the rest.",
    params=(
        name_param("egress-proxy"),
        image_param("nginx:1.27-alpine"),
        Param("listen_port", "Proxy port", P.PORT, 1080),
        Param(
            "routes",
            "Allowed routes",
            P.MAP,
            {"/api": "https://api.example.com/v1"},
            "source URI=target URL; everything else is refused.",
        ),
        Param(
            "proxy_variables", "Proxy variables on the app", P.LIST, ["http_proxy", "HTTP_PROXY"],
            "Set to the proxy's URL; programs read one or the other.",
        ),
        existing_config_param(),
        config_volume_param(),
    ),
    build=_egress_proxy,
)


def _db_proxy(ctx: BuildContext) -> Contribution:
    p = ctx.params
    container = {
        "name": p["name"],
        "image": p["image"],
        "env": [
            env("DB_HOST", p["upstream_host"]),
            env("DB_PORT", str(p["upstream_port"])),
            env("LISTEN_PORT", str(p["listen_port"])),
        ],
        "ports": [port(p["listen_port"], "db")],
    }
    if p["credentials_secret"]:
        container["envFrom"] = [{"secretRef": {"name": p["credentials_secret"]}}]
    return Contribution(
        container=container,
        app_env=[env("DATABASE_HOST", "localhost"), env("DATABASE_PORT", str(p["listen_port"]))],
    )


DB_PROXY = Pattern(
    id="db-proxy",
    role=Role.AMBASSADOR,
    title="Database proxy",
    summary="A pooling proxy (PgBouncer) on localhost; the app connects to localhost, the proxy to the database.",
    params=(
        name_param("db-proxy"),
        image_param("edoburu/pgbouncer:v1.23.1-p2"),
        Param("upstream_host", "Database host", P.STRING, "postgres.db.svc"),
        Param("upstream_port", "Database port", P.PORT, 5432),
        Param("listen_port", "Local port", P.PORT, 6432),
        Param(
            "credentials_secret", "Credentials Secret", P.STRING, "db-credentials", "Env from a Secret.", optional=True
        ),
    ),
    build=_db_proxy,
)

PATTERNS = (PORT_REMAPPER, TLS_TERMINATOR, EGRESS_PROXY, DB_PROXY)
