"""Sidecar patterns: add a capability beside the app; the app keeps working if they fail."""

from __future__ import annotations

from composer.domain.patterns.base import (
    BuildContext,
    Contribution,
    Param,
    ParamKind,
    Pattern,
    Role,
    config_map_volume,
    config_volume,
    config_volume_param,
    empty_dir,
    env,
    existing_config_param,
    generated_config,
    image_param,
    mount,
    name_param,
    port,
    sh_quote,
    shell,
)

P = ParamKind


def _log_tailer(ctx: BuildContext) -> Contribution:
    p = ctx.params
    return Contribution(
        container={
            "name": p["name"],
            "image": p["image"],
            # -F survives log rotation and a file that does not exist yet.
            "command": ["tail", "-n+1", "-F", f"{p['log_dir']}/{p['log_file']}"],
            "volumeMounts": [mount(p["volume"], p["log_dir"], read_only=True)],
        },
        volumes=[empty_dir(p["volume"])],
        app_mounts=[mount(p["volume"], p["app_log_dir"] or p["log_dir"])],
    )


LOG_TAILER = Pattern(
    id="log-tailer",
    role=Role.SIDECAR,
    title="Log tailer",
    summary="Streams a log file the app writes to a shared volume onto the sidecar's stdout.",
    params=(
        name_param("log-tailer"),
        image_param("busybox:1.36"),
        Param("volume", "Shared volume", P.NAME, "logs"),
        Param("log_dir", "Log directory", P.PATH, "/var/log/app", "Where the app writes its log files."),
        Param("log_file", "Log file", P.STRING, "app.log"),
        Param(
            "app_log_dir", "Log directory in the app", P.PATH, "", "Defaults to the helper's log directory.",
            optional=True,
        ),
    ),
    build=_log_tailer,
)

FLUENT_BIT_CONFIG = """[SERVICE]
    Flush        1
    Log_Level    info
[INPUT]
    Name         tail
    Path         {path}
    Tag          app
{parser}[OUTPUT]
    Name         {output}
    Match        *
{output_options}"""


def _fluent_bit_outputs(p: dict) -> str:
    if p["output"] == "stdout":
        return "    Format       json_lines\n"
    host, _, target_port = p["destination"].partition(":")
    return f"    Host         {host}\n    Port         {target_port or 24224}\n"


def _log_shipper(ctx: BuildContext) -> Contribution:
    p = ctx.params
    conf = FLUENT_BIT_CONFIG.format(
        path=f"{p['log_dir']}/{p['log_pattern']}", parser="", output=p["output"], output_options=_fluent_bit_outputs(p)
    )
    config = config_volume(ctx)
    return Contribution(
        container={
            "name": p["name"],
            "image": p["image"],
            "volumeMounts": [
                mount(p["volume"], p["log_dir"], read_only=True),
                mount(config["name"], "/fluent-bit/etc", read_only=True),
            ],
        },
        volumes=[empty_dir(p["volume"]), config],
        app_mounts=[mount(p["volume"], p["app_log_dir"] or p["log_dir"])],
        config_maps=generated_config(ctx, {"fluent-bit.conf": conf}),
    )


LOG_SHIPPER = Pattern(
    id="log-shipper",
    role=Role.SIDECAR,
    title="Log shipper",
    summary="Fluent Bit reads the app's log files from a shared volume and ships them elsewhere.",
    params=(
        name_param("log-shipper"),
        image_param("fluent/fluent-bit:3.1.9"),
        Param("volume", "Shared volume", P.NAME, "logs"),
        Param("log_dir", "Log directory", P.PATH, "/var/log/app"),
        Param("log_pattern", "Files", P.STRING, "*.log"),
        Param("output", "Send to", P.CHOICE, "forward", choices=("forward", "http", "stdout")),
        Param("destination", "Destination host:port", P.STRING, "fluentd.logging:24224", optional=True),
        Param(
            "app_log_dir", "Log directory in the app", P.PATH, "", "Defaults to the helper's log directory.",
            optional=True,
        ),
        existing_config_param(),
        config_volume_param(),
    ),
    build=_log_shipper,
)


def _file_sync(ctx: BuildContext) -> Contribution:
    p = ctx.params
    return Contribution(
        container={
            "name": p["name"],
            "image": p["image"],
            "env": [
                env("GITSYNC_REPO", p["repository"]),
                env("GITSYNC_REF", p["ref"]),
                env("GITSYNC_ROOT", "/git"),
                env("GITSYNC_LINK", "current"),
                env("GITSYNC_PERIOD", f"{p['period_seconds']}s"),
            ],
            "volumeMounts": [mount(p["volume"], "/git")],
        },
        volumes=[empty_dir(p["volume"])],
        app_mounts=[mount(p["volume"], p["app_mount_path"], read_only=True)],
    )


FILE_SYNC = Pattern(
    id="file-sync",
    role=Role.SIDECAR,
    title="Content sync",
    summary="git-sync keeps a shared volume up to date with a repository; the app serves <path>/current.",
    params=(
        name_param("content-sync"),
        image_param("registry.k8s.io/git-sync/git-sync:v4.2.4"),
        Param("repository", "Repository URL", P.STRING, "https://github.com/kubernetes/website.git"),
        Param("ref", "Branch or tag", P.STRING, "main"),
        Param("period_seconds", "Sync every (s)", P.INT, 60),
        Param("volume", "Shared volume", P.NAME, "content"),
        Param("app_mount_path", "Mount path in the app", P.PATH, "/usr/share/nginx/html"),
    ),
    build=_file_sync,
)


# Every few seconds: a checksum of the config's files; when it changes, the action.
RELOAD_LOOP = (
    "last=''; while true; do now=$(find {config_dir} -type f -exec md5sum {{}} + | sort | md5sum); "
    "if [ -n \"$last\" ] && [ \"$now\" != \"$last\" ]; then {action}; fi; last=$now; sleep {interval}; done"
)
# Without a shared process namespace the signal cannot reach the app's process.
SIGNAL_ACTION = "echo 'config changed: sending {signal} to {process}'; pkill -{signal} {process}"
WEBHOOK_ACTION = "echo 'config changed: calling the reload URL'; wget -q -O /dev/null --post-data='' {url}"


def _reload_action(p: dict) -> str:
    if p["webhook_url"]:
        return WEBHOOK_ACTION.format(url=sh_quote(p["webhook_url"]))
    return SIGNAL_ACTION.format(signal=p["signal"], process=p["process"])


def _config_reloader(ctx: BuildContext) -> Contribution:
    p = ctx.params
    config_dir = p["config_dir"]
    script = RELOAD_LOOP.format(config_dir=config_dir, action=_reload_action(p), interval=p["interval_seconds"])
    return Contribution(
        container={
            "name": p["name"],
            "image": p["image"],
            "command": shell(script),
            "volumeMounts": [mount(p["volume"], config_dir, read_only=True)],
        },
        volumes=[config_map_volume(p["volume"], p["config_map"])],
        app_mounts=[mount(p["volume"], config_dir, read_only=True)],
        needs_share_process_namespace=not p["webhook_url"],
    )


CONFIG_RELOADER = Pattern(
    id="config-reloader",
    role=Role.SIDECAR,
    title="Config reloader",
    summary="Tells the app to reload when its ConfigMap changes: a signal (needs a shared process namespace) or a URL.",
    params=(
        name_param("config-reloader"),
        image_param("busybox:1.36"),
        Param("config_map", "ConfigMap", P.OBJECT_NAME, "app-config"),
        Param("volume", "Config volume", P.NAME, "app-config"),
        Param("config_dir", "Config directory", P.PATH, "/etc/app"),
        Param("process", "Process name", P.STRING, "nginx"),
        Param("signal", "Signal", P.CHOICE, "HUP", choices=("HUP", "USR1", "USR2", "TERM")),
        Param("interval_seconds", "Check every (s)", P.INT, 10),
        Param(
            "webhook_url", "Reload URL", P.STRING, "",
            "POSTed to on a change (e.g. http://localhost:9090/-/reload) instead of the signal.", optional=True,
        ),
    ),
    build=_config_reloader,
)

CACHE_ENGINES = {
    "redis": ("redis:7.2-alpine", 6379, "redis://localhost:{port}"),
    "memcached": ("memcached:1.6-alpine", 11211, "localhost:{port}"),
}


def _local_cache(ctx: BuildContext) -> Contribution:
    p = ctx.params
    image, _default_port, url = CACHE_ENGINES[p["engine"]]
    if p["engine"] == "redis":
        args = ["--port", str(p["port"]), "--maxmemory", f"{p['memory_mb']}mb", "--maxmemory-policy", "allkeys-lru"]
    else:
        args = ["-p", str(p["port"]), "-m", str(p["memory_mb"])]
    return Contribution(
        container={
            "name": p["name"],
            "image": p["image"] or image,
            "args": args,
            "ports": [port(p["port"], "cache")],
            "resources": {"limits": {"memory": f"{p['memory_mb'] + 32}Mi"}},
        },
        app_env=[env(p["app_env_var"], url.format(port=p["port"]))],
    )


LOCAL_CACHE = Pattern(
    id="local-cache",
    role=Role.SIDECAR,
    title="Local cache",
    summary="A Redis or memcached beside the app, reached on localhost; the URL is put in the app's env.",
    params=(
        name_param("cache"),
        Param("engine", "Engine", P.CHOICE, "redis", choices=tuple(CACHE_ENGINES)),
        Param("image", "Image", P.IMAGE, "", "Empty: the engine's pinned default.", optional=True),
        Param("port", "Port", P.PORT, 6379),
        Param("memory_mb", "Memory (MiB)", P.INT, 64),
        Param("app_env_var", "Env var on the app", P.STRING, "CACHE_URL"),
    ),
    build=_local_cache,
)


def _debug_shell(ctx: BuildContext) -> Contribution:
    p = ctx.params
    return Contribution(
        container={
            "name": p["name"],
            "image": p["image"],
            "command": shell(f"while true; do sleep {p['sleep_seconds']}; done"),
            "stdin": True,
            "tty": True,
        },
        needs_share_process_namespace=p["see_app_processes"],
    )


DEBUG_SHELL = Pattern(
    id="debug-shell",
    role=Role.SIDECAR,
    title="Debug shell",
    summary="An idle shell to `kubectl exec` into; with a shared process namespace it sees the app's processes.",
    params=(
        name_param("debug"),
        image_param("busybox:1.36"),
        Param("sleep_seconds", "Sleep loop (s)", P.INT, 30),
        Param("see_app_processes", "Needs to see the app's processes", P.BOOL, False),
    ),
    build=_debug_shell,
)

PATTERNS = (LOG_TAILER, LOG_SHIPPER, FILE_SYNC, CONFIG_RELOADER, LOCAL_CACHE, DEBUG_SHELL)
