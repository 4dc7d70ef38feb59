"""Recognisers of init containers that leave a file for the app: written, merged from a ConfigMap, or
fetched from Vault, into a volume the app mounts."""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterator
from typing import Any

from composer.domain.recognition.found import Found, literal_env
from composer.domain.recognition.shell import commands, is_dynamic, redirected

QUOTED = r"'(?:[^']|'\"'\"')*'"  # a word as base.sh_quote writes it
ESCAPES = {"n": "\n", "t": "\t", "\\": "\\", '"': '"', "'": "'"}


def _where(found: Found, path: str) -> dict[str, Any] | None:
    """The volume holding `path` in the helper, its directory there, the file's name in it, and the app's mount
    of that volume; None unless the app mounts it too."""
    holding = found.mount_holding(path) if path.startswith("/") else None
    directory = holding["mountPath"].rstrip("/") if holding else ""
    in_app = found.app_mount(holding["name"], directory) if holding else None
    if not in_app:
        return None
    return {"volume": holding["name"], "directory": directory, "file": path[len(directory) + 1:], "in_app": in_app}


# File / start-script writer

OWN_WRITE = re.compile(
    r"cat > (?P<target>[^\n]+) <<'POD_STUDIO_EOF'\n(?P<content>.*)\nPOD_STUDIO_EOF\n"
    r"(?P<chmod>chmod \+x (?P=target)\n)?", re.DOTALL)
HEREDOC = re.compile(
    r"cat\s+(?:>\s*(?P<before>\S+)\s+<<-?\s*(?P<quote>['\"]?)(?P<tag>\w+)(?P=quote)"
    r"|<<-?\s*(?P<quote2>['\"]?)(?P<tag2>\w+)(?P=quote2)\s+>\s*(?P<after>\S+))[ \t]*\n")
EXECUTABLE = re.compile(r"[ugoa]*\+[rw]*x[rw]*|0?[1357][0-7]{2}")


def _unescaped(text: str) -> str:
    return re.sub(r"\\(.)", lambda m: ESCAPES.get(m[1], m[0]), text, flags=re.DOTALL)


def _echoed(words: list[str]) -> str | None:
    """What `echo [-e] …` or `printf FORMAT` (no conversions) writes, less the final new line."""
    if "|" in words:
        return None
    if words[0] == "echo":
        interprets = words[1:2] == ["-e"]
        text = " ".join(words[2:] if interprets else words[1:])
        return _unescaped(text) if interprets else text
    if words[0] == "printf" and len(words) == 2 and "%" not in words[1].replace("%%", ""):
        text = _unescaped(words[1]).replace("%%", "%")
        return text.removesuffix("\n")
    return None


def _heredoc(script: str) -> tuple[str, str, str] | None:
    """(target, content, the rest of the script) of a leading `cat > FILE <<EOF … EOF`."""
    head = HEREDOC.match(script)
    if not head:
        return None
    tag, quoted = head["tag"] or head["tag2"], bool(head["quote"] or head["quote2"])
    body, end, rest = script[head.end():].partition(f"\n{tag}\n")
    if not end and script.endswith(f"\n{tag}"):
        body, end, rest = script[head.end():].removesuffix(f"\n{tag}"), tag, ""
    if not end or (not quoted and is_dynamic(body)):
        return None
    return head["before"] or head["after"], body, rest


def _written_file(script: str) -> tuple[str, str, list[list[str]]] | None:
    """(target, content, the commands after the write) of a script whose first command writes one file."""
    heredoc = _heredoc(script)
    if heredoc:
        target, content, rest = heredoc
        after = commands(rest)
        return (target, content, after) if after is not None else None
    listed = commands(script) or [[]]
    write = redirected(listed[0])
    content = _echoed(write[0]) if write else None
    if write is None or content is None or is_dynamic(content):
        return None
    return write[1], content, listed[1:]


def _file_write(found: Found) -> tuple[str, str, bool] | None:
    """(target, content, made executable) of Pod Studio's heredoc or an echo/printf/cat written by hand."""
    own = OWN_WRITE.fullmatch(found.script or "")
    if own:
        return own["target"], own["content"], bool(own["chmod"])
    written = _written_file(found.script or "")
    if written is None:
        return None
    target, content, after = written
    if not after:
        return target, content, False
    if len(after) == 1 and len(after[0]) == 3 and after[0][0] == "chmod" and after[0][2] == target:
        return target, content, bool(EXECUTABLE.fullmatch(after[0][1]))
    return None


def file_writer(found: Found) -> Iterator[dict[str, Any]]:
    write = _file_write(found) if found.runs_to_completion else None
    where = _where(found, write[0]) if write else None
    if not where:
        return
    _, content, executable = write
    app_dir = where["in_app"]["mountPath"].rstrip("/")
    yield {**found.identity(), "volume": where["volume"], "directory": where["directory"], "filename": where["file"],
           "content": content, "executable": executable,
           "app_mount_path": "" if app_dir == where["directory"] else app_dir,
           "use_as_app_command": found.app.get("command") == [f"{app_dir}/{where['file']}"],
           "read_only_in_app": bool(where["in_app"].get("readOnly"))}


# Config merger

# Before its image held jq, Pod Studio's merge installed it first; compositions deployed then still read back.
OWN_MERGE = re.compile(
    rf"(?:command -v jq >/dev/null \|\| apk add --no-cache jq >/dev/null; )?"
    rf"jq (?P<program>{QUOTED}) /config-in/(?P<file>.+) > /config-out/(?P=file)", re.DOTALL)
OWN_UPDATE = re.compile(
    r"setpath\((?P<path>\[.*?\]); env\.(?P<variable>\w+) as \$v \| try \(\$v \| fromjson\) catch \$v\)")
ASSIGNMENT = re.compile(r"\.(?P<path>[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)\s*=\s*(?P<value>\$\w+|env\.\w+|\$ENV\.\w+)")


def _own_overrides(program: str, env: dict[str, str]) -> dict[str, str] | None:
    updates = list(OWN_UPDATE.finditer(program))
    if "." + "".join(f" | {update[0]}" for update in updates) != program:
        return None
    try:
        paths = [json.loads(update["path"]) for update in updates]
    except ValueError:
        return None
    if not all(isinstance(key, str) for path in paths for key in path):
        return None
    if not all(update["variable"] in env for update in updates):
        return None
    return {".".join(path): env[update["variable"]] for path, update in zip(paths, updates, strict=True)}


def _jq_overrides(words: list[str], env: dict[str, str]) -> tuple[str, dict[str, str]] | None:
    """(the input file, the overrides) of `jq [--arg NAME VALUE …] '.a.b = $NAME | …' FILE`."""
    arguments, rest = {}, list(words[1:])
    while rest[:1] == ["--arg"] and len(rest) >= 3:
        value = rest[2]
        arguments[rest[1]] = env.get(value[1:]) if value.startswith("$") else value
        rest = rest[3:]
    if len(rest) != 2:
        return None
    program, source = rest
    overrides = {}
    for part in (p.strip() for p in program.split("|")):
        match = ASSIGNMENT.fullmatch(part)
        if part == ".":
            continue
        if not match:
            return None
        value = match["value"]
        overrides[match["path"]] = (arguments.get(value[1:]) if value.startswith("$") and "." not in value
                                    else env.get(value.rsplit(".", 1)[1]))
    return (source, overrides) if None not in overrides.values() else None


def _merge(found: Found) -> tuple[str, str, dict[str, str]] | None:
    """(source, target, overrides) of Pod Studio's jq merge, a hand-written jq merge, or a plain `cp`."""
    env = literal_env(found.container)
    own = OWN_MERGE.fullmatch(found.script or "")
    if own:
        overrides = _own_overrides(shlex.split(own["program"])[0], env)
        file = own["file"]
        return (f"/config-in/{file}", f"/config-out/{file}", overrides) if overrides is not None else None
    listed = commands(found.script) if found.script is not None else [found.argv]
    while listed and listed[0][:2] == ["apk", "add"]:  # the image lacked jq
        listed = listed[1:]
    if not listed or len(listed) != 1:
        return None
    words = listed[0]
    if len(words) == 3 and words[0] == "cp":
        return words[1], words[2], {}
    write = redirected(words)
    if write is None:
        return None
    command, target = write
    if command[:1] == ["cat"] and command[2:4] == ["|", "jq"]:
        command = [*command[3:], command[1]]
    merged = _jq_overrides(command, env) if command[:1] == ["jq"] else None
    return (merged[0], target, merged[1]) if merged else None


def _config_sources(found: Found, mount: dict[str, Any], file: str) -> list[dict[str, str]]:
    """The config's ConfigMap as the pattern holds it: generated from its content when it can be, else named."""
    name = found.config_map_of(mount)
    source = {"config_map": "" if name == found.generated_name() else name}
    files = found.config_files(mount)
    owned = [{**source, "config_data": files[file]}] if files and list(files) == [file] and files[file] else []
    return [*owned, {**source, "config_data": ""}]


def config_merger(found: Found) -> Iterator[dict[str, Any]]:
    merge = _merge(found) if found.runs_to_completion else None
    source = found.mount_holding(merge[0]) if merge else None
    target = _where(found, merge[1]) if merge else None
    if not (source and target and found.config_map_of(source)):
        return
    file = merge[0][len(source["mountPath"].rstrip("/")) + 1:]
    if file != target["file"]:
        return
    params = {**found.identity(), "config_file": file, "overrides": merge[2], "input_volume": source["name"],
              "volume": target["volume"], "app_config_dir": target["in_app"]["mountPath"].rstrip("/")}
    for config in _config_sources(found, source, file):
        yield {**params, **config}


# Secret fetcher

OWN_FETCH = re.compile(rf"vault read -format=json (?P<path>{QUOTED}) > /secrets/(?P<file>.+)", re.DOTALL)
VAULT_FLAGS = re.compile(r"-(?:format|field|address)=\S+")


def _vault_read(words: list[str]) -> tuple[str, str] | None:
    """(secret path, address flag) of `vault read|kv get [-format= -field= -address=] PATH`."""
    verb = 2 if words[:2] == ["vault", "read"] else 3 if words[:3] == ["vault", "kv", "get"] else 0
    flags, paths = words[verb:-1], words[-1:]
    if not verb or len(words) <= verb or not all(VAULT_FLAGS.fullmatch(flag) for flag in flags):
        return None
    address = next((flag.removeprefix("-address=") for flag in flags if flag.startswith("-address=")), "")
    return paths[0], address


def _fetch(found: Found) -> tuple[str, str, str] | None:
    """(secret path, target file, address flag) of Pod Studio's `vault read` or one written by hand, after
    `echo` and `vault login` lines at most."""
    own = OWN_FETCH.fullmatch(found.script or "")
    if own:
        return shlex.split(own["path"])[0], f"/secrets/{own['file']}", ""
    listed = commands(found.script) if found.script is not None else None
    fetches = [redirected(words) for words in listed or []]
    others = [words for words, fetch in zip(listed or [], fetches, strict=True) if fetch is None]
    reads = [(_vault_read(fetch[0]), fetch[1]) for fetch in fetches if fetch is not None]
    if len(reads) != 1 or reads[0][0] is None or not all(w[0] == "echo" or w[:2] == ["vault", "login"] for w in others):
        return None
    (path, address), target = reads[0]
    return path, target, address


def _token_secret(found: Found) -> str:
    token = next((e for e in found.container.get("env") or [] if e.get("name") == "VAULT_TOKEN"), {})
    reference = (token.get("valueFrom") or {}).get("secretKeyRef") if isinstance(token.get("valueFrom"), dict) else None
    return str(reference.get("name", "")) if isinstance(reference, dict) else ""


def secret_fetcher(found: Found) -> Iterator[dict[str, Any]]:
    fetch = _fetch(found) if found.runs_to_completion else None
    where = _where(found, fetch[1]) if fetch else None
    address = (fetch[2] or literal_env(found.container).get("VAULT_ADDR", "")) if fetch else ""
    if not (where and address):
        return
    medium = found.source(where["volume"], "emptyDir").get("medium")
    yield {**found.identity(), "vault_address": address, "secret_path": fetch[0], "output_file": where["file"],
           "token_secret": _token_secret(found), "volume": where["volume"],
           "app_mount_path": where["in_app"]["mountPath"].rstrip("/"),
           "read_only_in_app": bool(where["in_app"].get("readOnly")), "in_memory": medium == "Memory"}
