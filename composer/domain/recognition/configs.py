"""Config files read as far as a recogniser needs: what Pod Studio generated, and what people write.

Each reader returns the few facts that decide a pattern (a port, an upstream, a log path …) or None
when the file says something else or more than it can tell; it never guesses."""

from __future__ import annotations

import re
import string
from collections.abc import Iterator
from dataclasses import dataclass

LOOPBACK = ("127.0.0.1", "localhost", "[::1]", "::1")


def template_fields(template: str, text: str) -> dict[str, str] | None:
    """The values a str.format template was filled with to give `text` exactly (None if it was not).

    Each field ends where the template's next text first appears, and the values must render `text` again:
    one pass, whatever the text (a regular expression of lazy groups backtracks without end on a hostile one)."""
    parts = list(string.Formatter().parse(template))
    values: dict[str, str] = {}
    position = 0
    for index, (literal, name, _spec, _conversion) in enumerate(parts):
        if not text.startswith(literal, position):
            return None
        position += len(literal)
        if name is None:
            continue
        following = parts[index + 1][0] if index + 1 < len(parts) else ""
        end = text.find(following, position) if following else len(text)
        if end < 0 or (not following and index + 1 < len(parts)):
            return None
        values.setdefault(name, text[position:end])
        position += len(values[name])
    return values if position == len(text) and template.format(**values) == text else None


def local_port(address: str) -> int | None:
    """The port of `127.0.0.1:PORT` (or localhost, ::1)."""
    host, _, number = address.rpartition(":")
    return int(number) if host in LOOPBACK and number.isdigit() else None


def _listen_port(address: str) -> int | None:
    """The port of a bind address that listens on every interface: `80`, `*:80`, `0.0.0.0:80`, `[::]:80`."""
    match = re.fullmatch(r"(?:(?:\*|0\.0\.0\.0|\[::\]|::)?:)?(\d{1,5})", address)
    return int(match[1]) if match else None


# HAProxy: sections of keyword lines.


@dataclass(frozen=True)
class HaproxyForward:
    listen_port: int
    target_port: int
    mode: str


def _haproxy_sections(text: str) -> list[tuple[str, list[list[str]]]]:
    sections: list[tuple[str, list[list[str]]]] = []
    for line in text.split("\n"):
        words = line.split("#", 1)[0].split()
        if not words:
            continue
        if not line[:1].isspace() and words[0] in ("global", "defaults", "frontend", "backend", "listen"):
            sections.append((words[0], []))
        elif sections:
            sections[-1][1].append(words)
        else:
            return []
    return sections


def haproxy_forward(text: str) -> HaproxyForward | None:
    """One port on every interface forwarded to one port on localhost, in one mode; None for anything else."""
    sections = _haproxy_sections(text)
    lines = [(kind, words) for kind, section in sections for words in section]
    binds = [words[1:] for kind, words in lines if words[0] == "bind" and kind in ("frontend", "listen")]
    servers = [words[1:] for kind, words in lines if words[0] == "server" and kind in ("backend", "listen")]
    modes = {words[1] for _, words in lines if words[0] == "mode" and len(words) == 2}
    if len(binds) != 1 or len(binds[0]) != 1 or len(servers) != 1 or len(servers[0]) < 2 or len(modes) > 1:
        return None
    listen, target = _listen_port(binds[0][0]), local_port(servers[0][1])
    mode = next(iter(modes), "tcp")  # HAProxy's own default
    if listen is None or target is None or mode not in ("http", "tcp"):
        return None
    return HaproxyForward(listen, target, mode)


# nginx: directives, some with a block.


@dataclass(frozen=True)
class Directive:
    name: str
    args: tuple[str, ...]
    block: tuple[Directive, ...] | None = None

    def each(self, name: str) -> list[Directive]:
        return [d for d in self.block or () if d.name == name]

    def first(self, name: str) -> tuple[str, ...] | None:
        found = self.each(name)
        return found[0].args if found else None


NGINX_TOKEN = re.compile(r"""\s+|#[^\n]*|"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'|([{};])|([^\s{};"'#][^\s{};"']*)""")


def _nginx_tokens(text: str) -> Iterator[tuple[str, str]] | None:
    """(kind, text) for each token: "word" (quoted or not) or "punct"; None when something cannot be read."""
    tokens, position = [], 0
    while position < len(text):
        match = NGINX_TOKEN.match(text, position)
        if not match:
            return None
        position = match.end()
        double, single, punct, word = match.groups()
        if punct:
            tokens.append(("punct", punct))
        elif word is not None or double is not None or single is not None:
            tokens.append(("word", next(t for t in (word, double, single) if t is not None)))
    return iter(tokens)


def _nginx_block(tokens: Iterator[tuple[str, str]], nested: bool) -> tuple[Directive, ...] | None:
    directives, words = [], []
    for kind, text in tokens:
        if kind == "word":
            words.append(text)
        elif text == ";" and words:
            directives.append(Directive(words[0], tuple(words[1:])))
            words = []
        elif text == "{" and words:
            block = _nginx_block(tokens, nested=True)
            if block is None:
                return None
            directives.append(Directive(words[0], tuple(words[1:]), block))
            words = []
        elif text == "}" and nested and not words:
            return tuple(directives)
        else:
            return None
    return None if nested or words else tuple(directives)


def nginx_config(text: str) -> Directive | None:
    """The whole file as one block (None when it is not nginx syntax)."""
    tokens = _nginx_tokens(text)
    block = _nginx_block(tokens, nested=False) if tokens is not None else None
    return Directive("main", (), block) if block is not None else None


def _all(directive: Directive, name: str, in_servers: bool = True) -> list[Directive]:
    """Every directive called `name`, however deep (or outside the server blocks: set for every server)."""
    found = []
    for child in directive.block or ():
        if child.name == name:
            found.append(child)
        if in_servers or child.name != "server":
            found.extend(_all(child, name, in_servers))
    return found


def _servers(config: Directive) -> list[Directive]:
    return [server for server in _all(config, "server") if server.block is not None]


def _upstream_port(config: Directive, url: str) -> int | None:
    """The localhost port a `proxy_pass http://…` reaches, through an `upstream` block of one server or not."""
    match = re.fullmatch(r"http://([^/:]+|\[::1\])(?::(\d{1,5}))?/?", url)
    if not match:
        return None
    host, number = match.groups()
    upstreams = [u for u in _all(config, "upstream") if u.args == (host,)]
    if upstreams:
        servers = upstreams[0].each("server")
        return local_port(servers[0].args[0]) if len(upstreams) == 1 and len(servers) == 1 else None
    return local_port(f"{host}:{number or 80}")


@dataclass(frozen=True)
class NginxTls:
    listen_port: int
    upstream_port: int
    certificate: str
    key: str


def _is_tls(server: Directive) -> bool:
    return any("ssl" in listen.args[1:] for listen in server.each("listen")) or server.first("ssl") == ("on",)


def _ports(server: Directive, tls: bool) -> set[int | None]:
    """The ports a server listens on; None stands for one it listens on otherwise (TLS or not, an address)."""
    every_listen_tls = server.first("ssl") == ("on",)
    return {_listen_port(listen.args[0]) if listen.args and (every_listen_tls or "ssl" in listen.args[1:]) == tls
            and set(listen.args[1:]) <= {"ssl", "http2", "default_server"} else None
            for listen in server.each("listen")}


def _inherited(config: Directive, server: Directive, name: str) -> tuple[str, ...] | None:
    """A directive set in the server block, or else once for every server (the http block)."""
    own = server.first(name)
    shared = _all(config, name, in_servers=False)
    return own if own is not None else shared[0].args if len(shared) == 1 else None


def _url_host(url: str) -> str:
    match = re.match(r"\w+://(\[[^\]]*\]|[^/:]+)", url)
    return match[1] if match else ""


def nginx_tls(config: Directive) -> NginxTls | None:
    """One TLS server on one port proxying to one localhost port; other servers may only redirect."""
    servers = _servers(config)
    tls = [server for server in servers if _is_tls(server)]
    if len(tls) != 1 or any(_all(server, "proxy_pass") for server in servers if server not in tls):
        return None
    [server] = tls
    ports = _ports(server, tls=True)
    upstreams = {_upstream_port(config, p.args[0]) if len(p.args) == 1 else None for p in _all(server, "proxy_pass")}
    certificate, key = _inherited(config, server, "ssl_certificate"), _inherited(config, server, "ssl_certificate_key")
    if len(ports) != 1 or None in ports or len(upstreams) != 1 or None in upstreams or not certificate or not key:
        return None
    return NginxTls(ports.pop(), upstreams.pop(), certificate[0], key[0])


@dataclass(frozen=True)
class NginxEgress:
    listen_port: int
    routes: dict[str, str]


def nginx_egress(config: Directive) -> NginxEgress | None:
    """One plain server on one port whose locations pass chosen URIs on to outside targets."""
    servers = _servers(config)
    if len(servers) != 1 or _is_tls(servers[0]):
        return None
    ports = _ports(servers[0], tls=False)
    routes = {}
    for location in servers[0].each("location"):
        target = location.first("proxy_pass")
        if target is not None:
            if len(target) != 1 or _url_host(target[0]) in ("", *LOOPBACK):
                return None  # a pass to the Pod itself is no egress
            routes[" ".join(location.args)] = target[0]
    if len(ports) != 1 or None in ports or not routes or _all(config, "upstream"):
        return None
    return NginxEgress(ports.pop(), routes)


# Fluent Bit's classic format: [SECTION] headers and `Key Value` lines.


def _fluent_bit_sections(text: str) -> list[tuple[str, dict[str, str]]] | None:
    sections: list[tuple[str, dict[str, str]]] = []
    for line in text.split("\n"):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.startswith("[") and stripped.endswith("]"):
            sections.append((stripped[1:-1].strip().upper(), {}))
        elif sections and not stripped.startswith("@"):
            key, *value = stripped.split(None, 1)
            sections[-1][1][key.lower()] = value[0] if value else ""
        else:
            return None  # @INCLUDE, @SET: more than this file says
    return sections


@dataclass(frozen=True)
class FluentBitShipping:
    path: str
    output: str
    host: str
    port: str


def fluent_bit_shipping(text: str) -> FluentBitShipping | None:
    """One tail input of one path and one output; None for anything else."""
    sections = _fluent_bit_sections(text) or []
    inputs = [s for name, s in sections if name == "INPUT"]
    outputs = [s for name, s in sections if name == "OUTPUT"]
    if len(inputs) != 1 or len(outputs) != 1 or inputs[0].get("name", "").lower() != "tail":
        return None
    path, output = inputs[0].get("path", ""), outputs[0]
    if not path.startswith("/") or "," in path:
        return None
    return FluentBitShipping(path, output.get("name", "").lower(), output.get("host", ""), output.get("port", ""))
