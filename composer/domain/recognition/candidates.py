"""Recognisers: one per pattern, each proposing params for a container written the textbook way.

A recogniser reads only what decides the pattern (the command line, the image, the mounts, ports,
securityContext, the config it mounts) and proposes nothing when unsure. The importer checks every proposal by rendering
it (composer.domain.importer), so a proposal that cannot reproduce the Pod is dropped.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from typing import Any

from composer.domain.patterns.adapter import LOG_FORMATS
from composer.domain.patterns.sidecar import CACHE_ENGINES
from composer.domain.recognition.configured import (
    config_reloader,
    egress_proxy,
    log_shipper,
    port_remapper,
    tls_terminator,
)
from composer.domain.recognition.found import Found, Recogniser, literal_env
from composer.domain.recognition.init_helpers import config_merger, file_writer, secret_fetcher
from composer.domain.recognition.known_images import repository

TAIL_FLAGS = {"-F", "-f", "--follow=name", "--retry", "-n+1", "-n", "+1", "--lines=+1"}


def _tailed_file(words: list[str]) -> str | None:
    """The one file of `tail [-n +1] -F FILE`, a follow that survives rotation or not."""
    if len(words) < 3 or words[0] not in ("tail", "/bin/tail", "/usr/bin/tail"):
        return None
    *flags, path = words[1:]
    if not set(flags) <= TAIL_FLAGS or not {"-F", "-f", "--follow=name"} & set(flags):
        return None
    return path if path.startswith("/") else None


def _log_location(found: Found, path: str) -> dict[str, Any] | None:
    holding = found.mount_holding(path)
    if holding is None:
        return None
    log_dir = holding["mountPath"].rstrip("/")
    return {"volume": holding["name"], "log_dir": log_dir, "log_file": path[len(log_dir) + 1:]}


def log_tailer(found: Found) -> Iterator[dict[str, Any]]:
    path = _tailed_file(found.words or [])
    location = _log_location(found, path) if path else None
    if location:
        app_dir = found.app_mount_path(location["volume"], location["log_dir"])
        yield {**found.identity(), **location,
               "app_log_dir": "" if app_dir in ("", location["log_dir"]) else app_dir}


def log_normaliser(found: Found) -> Iterator[dict[str, Any]]:
    script = found.script or ""
    for name, program in LOG_FORMATS.items():
        prefix, suffix = "tail -n+1 -F ", f" | awk '{program}'"
        if script.startswith(prefix) and script.endswith(suffix):
            location = _log_location(found, script.removeprefix(prefix).removesuffix(suffix))
            if location:
                yield {**found.identity(), **location, "format": name}


def sysctl(found: Found) -> Iterator[dict[str, Any]]:
    words = found.words or []
    security = found.container.get("securityContext") or {}
    if not found.runs_to_completion or security.get("privileged") is not True:
        return
    if len(words) >= 3 and words[0] in ("sysctl", "/sbin/sysctl") and words[1] == "-w":
        settings = [word.partition("=") for word in words[2:]]
        if all(key and sep and value for key, sep, value in settings):
            yield {**found.identity(), "settings": {key: value for key, _, value in settings}}


WAIT_LOOP = re.compile(
    r"(?:i=0; )?until nc -z (?:-w \d+ )?(?P<host>[^\s;]+|.+?) (?P<port>\d{1,5});\s*do\b(?P<body>.*?)\bdone;?\s*",
    re.DOTALL,
)
GIVE_UP = re.compile(r"\[ \$i -ge (\d+) \]")


def wait_for(found: Found) -> Iterator[dict[str, Any]]:
    match = WAIT_LOOP.fullmatch(found.script or "") if found.runs_to_completion else None
    if match and "sleep" in match["body"]:
        attempts = GIVE_UP.search(match["body"])
        params = {**found.identity(), "host": match["host"], "port": int(match["port"])}
        yield {**params, "attempts": int(attempts[1])} if attempts else params


def prometheus_exporter(found: Found) -> Iterator[dict[str, Any]]:
    named = [p for p in found.container.get("ports") or [] if p.get("name")]
    if found.runs_to_completion or not re.search(r"[-_]exporter$", repository(found.container.get("image", ""))):
        return
    if named and not found.container.get("command"):
        params = {**found.identity(), "args": [str(a) for a in found.container.get("args") or []],
                  "port": named[0]["containerPort"], "port_name": named[0]["name"]}
        # Whether the Service publishes the port is the Pod's business: both are tried.
        yield {**params, "publish": True}
        yield {**params, "publish": False}


IDLE_LOOP = re.compile(r"while true; do sleep (\d+); done")


def debug_shell(found: Found) -> Iterator[dict[str, Any]]:
    # An idle loop is a placeholder as often as a debug shell: only one kept open for `exec` is one.
    match = IDLE_LOOP.fullmatch(found.script or "")
    if match and found.container.get("stdin") is True and found.container.get("tty") is True:
        yield {**found.identity(), "sleep_seconds": int(match[1]), "see_app_processes": found.pod_shares_processes}


MIGRATION_WORDS = re.compile(r"\bmigrat|\bdb:migrate\b|\balembic upgrade\b|\bflyway\b|\bliquibase\b")


def migrations(found: Found) -> Iterator[dict[str, Any]]:
    same_image = found.container.get("image") == found.app.get("image")
    command = found.script if found.script is not None else shlex.join(found.argv)
    if found.runs_to_completion and same_image and MIGRATION_WORDS.search(command):
        # The app's own env comes first in its list, before what other helpers put there.
        env, app_env = found.container.get("env") or [], found.app.get("env") or []
        copies_env = bool(env) and env == app_env[:len(env)]
        yield {"name": found.container.get("name"), "command": command, "copy_app_env": copies_env}
        if copies_env:
            yield {"name": found.container.get("name"), "command": command, "copy_app_env": False}


OWN_GIT_CLONE = re.compile(
    r"\[ -d (?P<directory>/\S*)/\.git \] \|\| git clone --depth=1 --branch (?P<rest>.+)", re.DOTALL)


def _clone_words(found: Found) -> list[str] | None:
    """[ref, repository, directory] of a clone: Pod Studio's `[ -d …/.git ] || git clone …`, or a plain one."""
    own = OWN_GIT_CLONE.fullmatch(found.script or "")
    if own:
        try:
            words = shlex.split(own["rest"])
        except ValueError:
            return None
        return words if len(words) == 3 and words[2] == own["directory"] else None
    words = found.words or []
    if words[:1] == ["git"]:
        words = words[1:]
    elif "git" not in repository(found.container.get("image", "")):
        return None  # bare args are git's only when the image's entrypoint is git
    if words[:1] != ["clone"]:
        return None
    ref, plain = "", []
    rest = iter(words[1:])
    for word in rest:
        if word in ("--branch", "-b"):
            ref = next(rest, "")
        elif word.startswith("--branch="):
            ref = word.removeprefix("--branch=")
        elif word.startswith("-"):
            if word not in ("--depth=1", "--single-branch", "--", "-q", "--quiet"):
                return None
        else:
            plain.append(word)
    return [ref, *plain] if len(plain) == 2 else None


def git_clone(found: Found) -> Iterator[dict[str, Any]]:
    words = _clone_words(found) if found.runs_to_completion else None
    if not words:
        return
    ref, repo, directory = words
    target = next((m for m in found.container.get("volumeMounts") or []
                   if m.get("mountPath", "").rstrip("/") == directory.rstrip("/")), None)
    in_app = found.app_mount(target["name"]) if target else None
    if in_app:
        yield {**found.identity(), "repository": repo, "directory": directory, "volume": target["name"],
               "app_mount_path": in_app["mountPath"], "read_only_in_app": bool(in_app.get("readOnly")),
               **({"ref": ref} if ref else {})}


def file_sync(found: Found) -> Iterator[dict[str, Any]]:
    env_values = literal_env(found.container)
    git = next((m for m in found.container.get("volumeMounts") or [] if m.get("mountPath") == "/git"), None)
    period = re.fullmatch(r"(\d+)s", env_values.get("GITSYNC_PERIOD", ""))
    in_app = found.app_mount(git["name"]) if git else None
    if not found.runs_to_completion and "GITSYNC_REPO" in env_values and period and in_app:
        yield {**found.identity(), "repository": env_values["GITSYNC_REPO"], "ref": env_values.get("GITSYNC_REF"),
               "period_seconds": int(period[1]), "volume": git["name"], "app_mount_path": in_app["mountPath"]}


def db_proxy(found: Found) -> Iterator[dict[str, Any]]:
    env_values = literal_env(found.container)
    ports = found.container.get("ports") or []
    if found.runs_to_completion or not {"DB_HOST", "DB_PORT", "LISTEN_PORT"} <= set(env_values):
        return
    if ports and ports[0].get("name") == "db" and str(ports[0].get("containerPort")) == env_values["LISTEN_PORT"]:
        secrets = [e["secretRef"]["name"] for e in found.container.get("envFrom") or [] if "secretRef" in e]
        yield {**found.identity(), "upstream_host": env_values["DB_HOST"], "upstream_port": env_values["DB_PORT"],
               "listen_port": env_values["LISTEN_PORT"], "credentials_secret": secrets[0] if secrets else ""}


CACHE_ARGS = {
    "redis": re.compile(r"--port (?P<port>\d+) --maxmemory (?P<memory>\d+)mb --maxmemory-policy allkeys-lru"),
    "memcached": re.compile(r"-p (?P<port>\d+) -m (?P<memory>\d+)"),
}


def local_cache(found: Found) -> Iterator[dict[str, Any]]:
    args = " ".join(str(a) for a in found.container.get("args") or [])
    for engine, expression in CACHE_ARGS.items():
        match = expression.fullmatch(args)
        if match and not found.runs_to_completion and not found.container.get("command"):
            default_image, _, url = CACHE_ENGINES[engine]
            image = found.container.get("image")
            for variable, value in literal_env(found.app).items():
                if value == url.format(port=match["port"]):  # the app is told where the cache is
                    yield {"name": found.container.get("name"), "engine": engine, "port": match["port"],
                           "image": "" if image == default_image else image, "memory_mb": match["memory"],
                           "app_env_var": variable}


PROBE_SERVER = re.compile(
    r"mkdir -p /www && \(while true; do (?P<body>.+) sleep (?P<interval>\d+); done\) & "
    r"exec httpd -f -p (?P<port>\d+) -h /www", re.DOTALL)
PROBE_BODIES = {
    "health-endpoint": re.compile(r"if wget -q -T 2 -O /dev/null (?P<url>.+); then echo ok > /www/healthz; "
                                  r"else rm -f /www/healthz; fi;", re.DOTALL),
    "metrics-endpoint": re.compile(r"start=\$\(date \+%s%N\); if wget -q -T 2 -O /dev/null (?P<url>.+); then up=1; "
                                   r".*> /www/metrics;", re.DOTALL),
}


def _probe_server(pattern_id: str) -> Recogniser:
    def recognise(found: Found) -> Iterator[dict[str, Any]]:
        server = PROBE_SERVER.fullmatch(found.script or "")
        body = PROBE_BODIES[pattern_id].fullmatch(server["body"]) if server else None
        ports = found.container.get("ports") or []
        if body and ports and ports[0].get("name"):
            params = {**found.identity(), "app_url": body["url"], "port": int(server["port"]),
                      "port_name": ports[0]["name"], "interval_seconds": int(server["interval"])}
            yield {**params, "publish": True}
            yield {**params, "publish": False}
    return recognise


RECOGNISERS: dict[str, Recogniser] = {
    "log-tailer": log_tailer,
    "log-normaliser": log_normaliser,
    "sysctl": sysctl,
    "wait-for": wait_for,
    "prometheus-exporter": prometheus_exporter,
    "debug-shell": debug_shell,
    "migrations": migrations,
    "git-clone": git_clone,
    "file-sync": file_sync,
    "db-proxy": db_proxy,
    "local-cache": local_cache,
    "health-endpoint": _probe_server("health-endpoint"),
    "metrics-endpoint": _probe_server("metrics-endpoint"),
    "file-writer": file_writer,
    "config-merger": config_merger,
    "secret-fetcher": secret_fetcher,
    "log-shipper": log_shipper,
    "config-reloader": config_reloader,
    "port-remapper": port_remapper,
    "tls-terminator": tls_terminator,
    "egress-proxy": egress_proxy,
}


def candidates(found: Found) -> Iterator[tuple[str, dict[str, Any]]]:
    """(pattern id, params) proposals for one container, the likeliest first."""
    for pattern_id, recogniser in RECOGNISERS.items():
        for params in recogniser(found):
            yield pattern_id, params
