"""Recognisers: one per pattern, each proposing params for a container written the textbook way.

A recogniser reads only what decides the pattern (the command line, the image, the mounts, ports,
securityContext) and proposes nothing when unsure. The importer checks every proposal by rendering
it (composer.domain.importer), so a proposal that cannot reproduce the Pod is dropped.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from composer.domain.patterns.adapter import LOG_FORMATS
from composer.domain.patterns.sidecar import CACHE_ENGINES
from composer.domain.recognition.known_images import repository

SHELLS = ("sh", "/bin/sh", "bash", "/bin/bash", "ash", "/bin/ash")


@dataclass(frozen=True)
class Found:
    """A helper container as found in a manifest (a native sidecar's restartPolicy taken off)."""

    container: dict[str, Any]
    runs_to_completion: bool  # a regular init container
    app: dict[str, Any]  # the app container as found
    pod_shares_processes: bool = False  # shareProcessNamespace

    @property
    def argv(self) -> list[str]:
        return [str(word) for word in [*(self.container.get("command") or []), *(self.container.get("args") or [])]]

    @property
    def script(self) -> str | None:
        """The shell script of `sh -c SCRIPT`, however command and args split it."""
        argv = self.argv
        if len(argv) == 3 and argv[0] in SHELLS and argv[1] == "-c":
            return argv[2]
        return None

    @property
    def words(self) -> list[str] | None:
        """The command line as words: the argv, or a one-command shell script split as the shell would."""
        script = self.script
        if script is None:
            return self.argv
        if any(char in script for char in ";|&<>$`\n(){}*?["):  # more than one plain command
            return None
        try:
            return shlex.split(script)
        except ValueError:
            return None

    def mount_holding(self, path: str) -> dict[str, Any] | None:
        """The mount whose directory holds `path` (the deepest one)."""
        holding = [m for m in self.container.get("volumeMounts") or []
                   if path.startswith(str(m.get("mountPath", "")).rstrip("/") + "/")]
        return max(holding, key=lambda m: len(m["mountPath"]), default=None)


Recogniser = Callable[[Found], Iterator[dict[str, Any]]]
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


def _app_mount_of(found: Found, volume: str) -> str:
    """Where the app mounts `volume` ("" when it does not)."""
    mounts = found.app.get("volumeMounts") or []
    return next((m["mountPath"].rstrip("/") for m in mounts if m.get("name") == volume), "")


def log_tailer(found: Found) -> Iterator[dict[str, Any]]:
    path = _tailed_file(found.words or [])
    location = _log_location(found, path) if path else None
    if location:
        app_dir = _app_mount_of(found, location["volume"])
        yield {**_identity(found), **location,
               "app_log_dir": "" if app_dir in ("", location["log_dir"]) else app_dir}


def log_normaliser(found: Found) -> Iterator[dict[str, Any]]:
    script = found.script or ""
    for name, program in LOG_FORMATS.items():
        prefix, suffix = "tail -n+1 -F ", f" | awk '{program}'"
        if script.startswith(prefix) and script.endswith(suffix):
            location = _log_location(found, script.removeprefix(prefix).removesuffix(suffix))
            if location:
                yield {**_identity(found), **location, "format": name}


def sysctl(found: Found) -> Iterator[dict[str, Any]]:
    words = found.words or []
    security = found.container.get("securityContext") or {}
    if not found.runs_to_completion or security.get("privileged") is not True:
        return
    if len(words) >= 3 and words[0] in ("sysctl", "/sbin/sysctl") and words[1] == "-w":
        settings = [word.partition("=") for word in words[2:]]
        if all(key and sep and value for key, sep, value in settings):
            yield {**_identity(found), "settings": {key: value for key, _, value in settings}}


WAIT_LOOP = re.compile(
    r"(?:i=0; )?until nc -z (?:-w \d+ )?(?P<host>[^\s;]+|.+?) (?P<port>\d{1,5});\s*do\b(?P<body>.*?)\bdone;?\s*",
    re.DOTALL,
)
GIVE_UP = re.compile(r"\[ \$i -ge (\d+) \]")


def wait_for(found: Found) -> Iterator[dict[str, Any]]:
    match = WAIT_LOOP.fullmatch(found.script or "") if found.runs_to_completion else None
    if match and "sleep" in match["body"]:
        attempts = GIVE_UP.search(match["body"])
        params = {**_identity(found), "host": match["host"], "port": int(match["port"])}
        yield {**params, "attempts": int(attempts[1])} if attempts else params


def prometheus_exporter(found: Found) -> Iterator[dict[str, Any]]:
    named = [p for p in found.container.get("ports") or [] if p.get("name")]
    if found.runs_to_completion or not re.search(r"[-_]exporter$", repository(found.container.get("image", ""))):
        return
    if named and not found.container.get("command"):
        params = {**_identity(found), "args": [str(a) for a in found.container.get("args") or []],
                  "port": named[0]["containerPort"], "port_name": named[0]["name"]}
        # Whether the Service publishes the port is the Pod's business: both are tried.
        yield {**params, "publish": True}
        yield {**params, "publish": False}


IDLE_LOOP = re.compile(r"while true; do sleep (\d+); done")


def debug_shell(found: Found) -> Iterator[dict[str, Any]]:
    # An idle loop is a placeholder as often as a debug shell: only one kept open for `exec` is one.
    match = IDLE_LOOP.fullmatch(found.script or "")
    if match and found.container.get("stdin") is True and found.container.get("tty") is True:
        yield {**_identity(found), "sleep_seconds": int(match[1]), "see_app_processes": found.pod_shares_processes}


MIGRATION_WORDS = re.compile(r"\bmigrat|\bdb:migrate\b|\balembic upgrade\b|\bflyway\b|\bliquibase\b")


def migrations(found: Found) -> Iterator[dict[str, Any]]:
    same_image = found.container.get("image") == found.app.get("image")
    command = found.script if found.script is not None else shlex.join(found.argv)
    if found.runs_to_completion and same_image and MIGRATION_WORDS.search(command):
        copies_env = bool(found.app.get("env")) and found.container.get("env") == found.app.get("env")
        yield {"name": found.container.get("name"), "command": command, "copy_app_env": copies_env}


def _app_mount(found: Found, volume: str) -> dict[str, Any] | None:
    return next((m for m in found.app.get("volumeMounts") or [] if m.get("name") == volume), None)


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
    in_app = _app_mount(found, target["name"]) if target else None
    if in_app:
        yield {**_identity(found), "repository": repo, "directory": directory, "volume": target["name"],
               "app_mount_path": in_app["mountPath"], "read_only_in_app": bool(in_app.get("readOnly")),
               **({"ref": ref} if ref else {})}


def _env_values(container: dict[str, Any]) -> dict[str, str]:
    return {e["name"]: str(e["value"]) for e in container.get("env") or [] if "name" in e and "value" in e}


def file_sync(found: Found) -> Iterator[dict[str, Any]]:
    env_values = _env_values(found.container)
    git = next((m for m in found.container.get("volumeMounts") or [] if m.get("mountPath") == "/git"), None)
    period = re.fullmatch(r"(\d+)s", env_values.get("GITSYNC_PERIOD", ""))
    in_app = _app_mount(found, git["name"]) if git else None
    if not found.runs_to_completion and "GITSYNC_REPO" in env_values and period and in_app:
        yield {**_identity(found), "repository": env_values["GITSYNC_REPO"], "ref": env_values.get("GITSYNC_REF"),
               "period_seconds": int(period[1]), "volume": git["name"], "app_mount_path": in_app["mountPath"]}


def db_proxy(found: Found) -> Iterator[dict[str, Any]]:
    env_values = _env_values(found.container)
    ports = found.container.get("ports") or []
    if found.runs_to_completion or not {"DB_HOST", "DB_PORT", "LISTEN_PORT"} <= set(env_values):
        return
    if ports and ports[0].get("name") == "db" and str(ports[0].get("containerPort")) == env_values["LISTEN_PORT"]:
        secrets = [e["secretRef"]["name"] for e in found.container.get("envFrom") or [] if "secretRef" in e]
        yield {**_identity(found), "upstream_host": env_values["DB_HOST"], "upstream_port": env_values["DB_PORT"],
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
            for variable, value in _env_values(found.app).items():
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
            params = {**_identity(found), "app_url": body["url"], "port": int(server["port"]),
                      "port_name": ports[0]["name"], "interval_seconds": int(server["interval"])}
            yield {**params, "publish": True}
            yield {**params, "publish": False}
    return recognise


def _identity(found: Found) -> dict[str, Any]:
    return {"name": found.container.get("name"), "image": found.container.get("image")}


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
}


def candidates(found: Found) -> Iterator[tuple[str, dict[str, Any]]]:
    """(pattern id, params) proposals for one container, the likeliest first."""
    for pattern_id, recogniser in RECOGNISERS.items():
        for params in recogniser(found):
            yield pattern_id, params
