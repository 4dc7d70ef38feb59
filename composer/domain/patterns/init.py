"""Init patterns: prepare the environment, run to completion, one after another, before the app."""

from __future__ import annotations

import json

from composer.domain.patterns.base import (
    BuildContext,
    Contribution,
    Param,
    ParamKind,
    Pattern,
    Role,
    config_map,
    config_map_volume,
    empty_dir,
    env,
    image_param,
    mount,
    name_param,
    sh_quote,
    shell,
)

P = ParamKind


def _file_writer(ctx: BuildContext) -> Contribution:
    p = ctx.params
    target = f"{p['directory']}/{p['filename']}"
    # A quoted heredoc writes the content byte for byte, and rewriting is safe on re-runs.
    script = f"cat > {target} <<'POD_STUDIO_EOF'\n{p['content']}\nPOD_STUDIO_EOF\n"
    if p["executable"]:
        script += f"chmod +x {target}\n"
    app_dir = p["app_mount_path"] or p["directory"]
    return Contribution(
        container={
            "name": p["name"],
            "image": p["image"],
            "command": shell(script),
            "volumeMounts": [mount(p["volume"], p["directory"])],
        },
        init=True,
        volumes=[empty_dir(p["volume"])],
        app_mounts=[mount(p["volume"], app_dir, read_only=p["read_only_in_app"])],
        app_command=[f"{app_dir}/{p['filename']}"] if p["use_as_app_command"] else None,
    )


FILE_WRITER = Pattern(
    id="file-writer",
    role=Role.INIT,
    title="File / start-script writer",
    summary="Writes a file (an HTML page, a start script …) into a volume the app then mounts.",
    params=(
        name_param("write-files"),
        image_param("busybox:1.36"),
        Param("volume", "Shared volume", P.NAME, "init-files", "An emptyDir shared with the app."),
        Param("directory", "Directory in the helper", P.PATH, "/init"),
        Param("filename", "File name", P.STRING, "startup.sh"),
        Param("content", "Content", P.TEXT, "#!/bin/sh\necho 'starting'\nexec sleep 3600"),
        Param("executable", "Make it executable", P.BOOL, True),
        Param(
            "app_mount_path", "Mount path in the app", P.PATH, "", "Defaults to the helper's directory.", optional=True
        ),
        Param("use_as_app_command", "Run it as the app's command", P.BOOL, False),
        Param("read_only_in_app", "Read-only in the app", P.BOOL, False),
    ),
    build=_file_writer,
    long_running=False,
)


def _config_merger(ctx: BuildContext) -> Contribution:
    p = ctx.params
    overrides = p["overrides"] or {}
    env_names = {key: "OVERRIDE_" + "".join(c if c.isalnum() else "_" for c in key).upper() for key in overrides}
    # Each override sets one (possibly dotted) key from an env var that lives only on this container.
    # Values that parse as JSON (numbers, true, objects) keep their type; anything else stays a string.
    updates = [
        f"setpath({json.dumps(key.split('.'))}; env.{name} as $v | try ($v | fromjson) catch $v)"
        for key, name in env_names.items()
    ]
    program = " | ".join(["."] + updates)
    source = f"/config-in/{p['config_file']}"
    target = f"/config-out/{p['config_file']}"
    config_map_name = p["config_map"] or f"{ctx.workload_name}-{p['name']}"
    generated = [config_map(config_map_name, {p["config_file"]: p["config_data"]})] if p["config_data"] else []
    container = {
        "name": p["name"],
        "image": p["image"],
        "command": shell(f"jq {sh_quote(program)} {source} > {target}"),
    }
    if overrides:
        container["env"] = [env(name, overrides[key]) for key, name in env_names.items()]
    container["volumeMounts"] = [
        mount(p["input_volume"], "/config-in", read_only=True), mount(p["volume"], "/config-out")]
    return Contribution(
        container=container,
        init=True,
        volumes=[config_map_volume(p["input_volume"], config_map_name), empty_dir(p["volume"])],
        app_mounts=[mount(p["volume"], p["app_config_dir"], read_only=True)],
        config_maps=generated,
    )


CONFIG_MERGER = Pattern(
    id="config-merger",
    role=Role.INIT,
    title="Config merger",
    summary="Reads JSON config from a ConfigMap, applies overrides with jq, writes it where the app reads it.",
    params=(
        name_param("merge-config"),
        # The redirect needs a shell beside jq; the jq project's own image is jq alone, and installing jq at Pod
        # start needs a package mirror the Pod may not reach.
        image_param("badouralix/curl-jq:alpine", "An image with sh and jq."),
        Param(
            "config_map", "ConfigMap", P.OBJECT_NAME, "", "An existing ConfigMap; empty: generate one.", optional=True
        ),
        Param("config_file", "File name", P.STRING, "config.json"),
        Param("config_data", "Generated config", P.JSON, '{"logLevel": "info", "port": 8080}', optional=True),
        Param(
            "overrides", "Overrides", P.MAP, {"logLevel": "debug"},
            "key=value; dotted keys reach nested fields; none: a plain copy.", optional=True,
        ),
        Param("input_volume", "Input volume", P.NAME, "config-in", "The ConfigMap's volume."),
        Param("volume", "Output volume", P.NAME, "config-out"),
        Param("app_config_dir", "App config directory", P.PATH, "/config"),
    ),
    build=_config_merger,
    long_running=False,
)


def _git_clone(ctx: BuildContext) -> Contribution:
    p = ctx.params
    # A restarted Pod keeps its emptyDir only when the container restarts; clone only if absent.
    script = (
        f"[ -d {p['directory']}/.git ] || "
        f"git clone --depth=1 --branch {sh_quote(p['ref'])} {sh_quote(p['repository'])} {p['directory']}"
    )
    return Contribution(
        container={
            "name": p["name"],
            "image": p["image"],
            "command": shell(script),
            "volumeMounts": [mount(p["volume"], p["directory"])],
        },
        init=True,
        volumes=[empty_dir(p["volume"])],
        app_mounts=[mount(p["volume"], p["app_mount_path"], read_only=p["read_only_in_app"])],
    )


GIT_CLONE = Pattern(
    id="git-clone",
    role=Role.INIT,
    title="Git clone",
    summary="Clones a repository into a volume before the app starts.",
    params=(
        name_param("git-clone"),
        image_param("alpine/git:2.45.2"),
        Param("repository", "Repository URL", P.STRING, "https://github.com/kubernetes/examples.git"),
        Param("ref", "Branch or tag", P.STRING, "master"),
        Param("volume", "Volume", P.NAME, "repo"),
        Param("directory", "Clone into", P.PATH, "/repo"),
        Param("app_mount_path", "Mount path in the app", P.PATH, "/usr/share/nginx/html"),
        Param("read_only_in_app", "Read-only in the app", P.BOOL, True),
    ),
    build=_git_clone,
    long_running=False,
)


def _wait_for(ctx: BuildContext) -> Contribution:
    p = ctx.params
    target = f"{p['host']} {p['port']}"
    script = (
        f"i=0; until nc -z -w 2 {target}; do "
        f"i=$((i+1)); [ $i -ge {p['attempts']} ] && echo 'gave up waiting for {p['host']}:{p['port']}' && exit 1; "
        f"echo 'waiting for {p['host']}:{p['port']}'; sleep 2; done"
    )
    return Contribution(container={"name": p["name"], "image": p["image"], "command": shell(script)}, init=True)


WAIT_FOR = Pattern(
    id="wait-for",
    role=Role.INIT,
    title="Wait for dependency",
    summary="Blocks the app's start until host:port accepts connections (e.g. a database Service).",
    params=(
        name_param("wait-for-db"),
        image_param("busybox:1.36"),
        Param("host", "Host", P.STRING, "postgres"),
        Param("port", "Port", P.PORT, 5432),
        Param("attempts", "Attempts (2 s apart)", P.INT, 150),
    ),
    build=_wait_for,
    long_running=False,
)


def _sysctl(ctx: BuildContext) -> Contribution:
    p = ctx.params
    return Contribution(
        container={
            "name": p["name"],
            "image": p["image"],
            "command": ["sysctl", "-w", *[f"{key}={value}" for key, value in p["settings"].items()]],
            "securityContext": {"privileged": True},
        },
        init=True,
    )


SYSCTL = Pattern(
    id="sysctl",
    role=Role.INIT,
    title="Privileged sysctl",
    summary="Sets kernel parameters on the node (e.g. vm.max_map_count for Elasticsearch). Privileged.",
    params=(
        name_param("sysctl"),
        image_param("alpine:3.20"),
        Param("settings", "Kernel settings", P.MAP, {"vm.max_map_count": "262144"}, "key=value per line"),
    ),
    build=_sysctl,
    long_running=False,
)


def _secret_fetcher(ctx: BuildContext) -> Contribution:
    p = ctx.params
    target = f"/secrets/{p['output_file']}"
    container = {
        "name": p["name"],
        "image": p["image"],
        "command": shell(f"vault read -format=json {sh_quote(p['secret_path'])} > {target}"),
        "env": [env("VAULT_ADDR", p["vault_address"])],
        "volumeMounts": [mount(p["volume"], "/secrets")],
    }
    if p["token_secret"]:
        container["env"].append(
            {"name": "VAULT_TOKEN", "valueFrom": {"secretKeyRef": {"name": p["token_secret"], "key": "token"}}}
        )
    return Contribution(
        container=container,
        init=True,
        volumes=[{"name": p["volume"], "emptyDir": {"medium": "Memory"} if p["in_memory"] else {}}],
        app_mounts=[mount(p["volume"], p["app_mount_path"], read_only=p["read_only_in_app"])],
    )


SECRET_FETCHER = Pattern(
    id="secret-fetcher",
    role=Role.INIT,
    title="Secret fetcher",
    summary="Reads a secret from Vault into an in-memory volume the app mounts read-only.",
    params=(
        name_param("fetch-secrets"),
        image_param("hashicorp/vault:1.17"),
        Param("vault_address", "Vault address", P.STRING, "http://vault:8200"),
        Param("secret_path", "Secret path", P.STRING, "secret/myapp/config"),
        Param("output_file", "Output file", P.STRING, "secrets.json"),
        Param(
            "token_secret", "Token Secret", P.STRING, "vault-token", "A Secret with key 'token'.", optional=True
        ),
        Param("volume", "Volume", P.NAME, "secrets"),
        Param("app_mount_path", "Mount path in the app", P.PATH, "/secrets"),
        Param("read_only_in_app", "Read-only in the app", P.BOOL, True),
        Param("in_memory", "In memory", P.BOOL, True, "A tmpfs emptyDir: the secret never reaches the node's disk."),
    ),
    build=_secret_fetcher,
    long_running=False,
)


def _migrations(ctx: BuildContext) -> Contribution:
    p = ctx.params
    container = {"name": p["name"], "image": ctx.app.image, "command": shell(p["command"])}
    if p["copy_app_env"] and ctx.app.env:
        container["env"] = [dict(item) for item in ctx.app.env]
    return Contribution(container=container, init=True)


MIGRATIONS = Pattern(
    id="migrations",
    role=Role.INIT,
    title="Migrations",
    summary="Runs a migration command with the app's own image before the app starts; must be idempotent.",
    params=(
        name_param("migrate"),
        Param("command", "Command", P.STRING, "python manage.py migrate --noinput"),
        Param("copy_app_env", "Same environment as the app", P.BOOL, True),
    ),
    build=_migrations,
    long_running=False,
)

PATTERNS = (FILE_WRITER, CONFIG_MERGER, GIT_CLONE, WAIT_FOR, SYSCTL, SECRET_FETCHER, MIGRATIONS)
