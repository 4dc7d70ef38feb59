"""Errors from a cluster, in words a user can act on.

Every failure that leaves ``composer.cluster`` is a ``ClusterError`` with a ``kind`` the
web layer can branch on (``unreachable``, ``forbidden``, ``conflict`` …), the HTTP
status when there was one, a plain-language ``message`` and structured ``details``
(conflicting fields, invalid fields …). Messages name contexts, users, servers and
objects, never credentials: tokens, client keys and passwords stay in the kubeconfig.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import urllib3
from kubernetes.client.exceptions import ApiException
from kubernetes.config.config_exception import ConfigException

KINDS = frozenset(
    {
        "unreachable",
        "timeout",
        "unauthorized",
        "forbidden",
        "not_found",
        "conflict",
        "invalid",
        "immutable",
        "rate_limited",
        "server",
        "unsupported",
    }
)


class ClusterError(Exception):
    """A cluster request failed; ``message`` is safe to show to the user."""

    def __init__(
        self, kind: str, message: str, *, status: int | None = None, details: dict[str, Any] | None = None
    ) -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown ClusterError kind {kind!r}")
        # A server may quote anything: no credentials, and no NUL (deploy records keep the message,
        # and PostgreSQL cannot store one).
        message = scrub_secrets(message).replace("\x00", "\ufffd")
        super().__init__(message)
        self.kind = kind
        self.status = status
        self.message = message
        self.details = details or {}

    def __repr__(self) -> str:
        return f"ClusterError(kind={self.kind!r}, status={self.status!r}, message={self.message!r})"


@dataclass(frozen=True)
class RequestSite:
    """Where a request went, for messages: names and URLs only, never credentials."""

    context: str
    server: str = ""
    user: str = ""
    connect_timeout: float | None = None
    read_timeout: float | None = None

    @property
    def cluster(self) -> str:
        server = display_url(self.server)
        return f"The cluster at context '{self.context}'" + (f" ({server})" if server else "")


# Belt and braces: whatever text we quote (server messages, library errors, log records), anything
# shaped like a credential is cut out before it can reach a page or a log. Each shape says what
# it looks for; an ordinary word ("the token expired", "password authentication failed") has no
# separator or no credential after it and stays as it is.
REDACTED = "[redacted]"

# A field, parameter or header name whose value is a credential: it ends in one of these words,
# so access_token, X-Auth-Token, clientSecret, api-key and client-key-data all count.
_SECRET_NAME = (
    r"(?<![\w.-])[\w.-]*?"
    r"(?:token|password|passwd|pwd|passphrase|secret|credentials?|authorization|auth|cookie|session[-_]?id|"
    r"signature|sig|api[-_]?key|(?:access|secret|private|client|auth|signing|account)[-_]?key(?:[-_]?data)?|"
    r"client[-_]?certificate[-_]?data)"
    r"(?![A-Za-z0-9])"
)
# A value: quoted (up to the same quote, JSON-escaped quotes too) or bare (up to a separator).
_SECRET_VALUE = (
    r"""(?P<scheme>(?:bearer|basic|token|digest|negotiate)\s+)?"""
    r"""(?:(?P<quote>\\?["'])(?P<quoted>.*?)(?P=quote)|(?P<done>\[redacted\])|(?P<bare>[^\s,;"'&<>(){}\[\]\\]+))"""
)
# What a credential on its own looks like: letters with digits, base64/JWT punctuation or a case
# change inside (base64), or long.
_CREDENTIAL = r"[\w~+/=-]+(?:\.[\w~+/=-]+)*"

_PEM_PRIVATE_KEY = re.compile(
    r"-----BEGIN (?P<label>[A-Z0-9 ]*PRIVATE KEY)-----.*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|\Z)", re.DOTALL
)
_URL_USERINFO = re.compile(r"(?i)(?<![a-z0-9+.-])(?P<scheme>[a-z][a-z0-9+.-]*://)[^\s/?#@\[\]\"'<>]+@")
# token=…, "password": "…", 'apiKey': '…', api_key: …, X-Auth-Token: …, ?access_token=…&
_NAMED = re.compile(
    rf"(?i)(?P<name>{_SECRET_NAME})(?P<name_quote>\\?[\"'])?(?P<separator>\s*[:=]\s*){_SECRET_VALUE}"
)
# --token abc, -p=… is the form above
_FLAG = re.compile(rf"(?i)(?<!\S)(?=-)(?P<name>{_SECRET_NAME})(?P<separator>\s+)(?P<value>(?!-)[^\s,;\"']+)")
# x-auth-token abc123, X-Api-Key abc123 (a header quoted without its colon)
_HEADER = re.compile(
    rf"(?i)(?<![\w.-])(?P<name>x-[\w-]*?(?:token|api-?key|auth)|private-token)(?P<separator>\s+)(?P<value>{_CREDENTIAL})"
)
_SCHEME = re.compile(rf"(?i)\b(?P<name>bearer|basic)(?P<separator>\s+)(?P<value>{_CREDENTIAL})")
_JWT = re.compile(r"\beyJ[\w-]{6,}\.[\w-]{6,}\.[\w-]*")
_POD_STUDIO_TOKEN = re.compile(r"\bps_[\w-]{16,}")


_CASE_CHANGE = re.compile(r"[a-z][A-Z]")


def _looks_like_credential(text: str) -> bool:
    return (
        len(text) >= 20
        or any(char.isdigit() or char in "._~+/=" for char in text)
        or _CASE_CHANGE.search(text) is not None
    )


def _named(match: re.Match) -> str:
    value = f"{match['quote']}{REDACTED}{match['quote']}" if match["quote"] is not None else REDACTED
    return f"{match['name']}{match['name_quote'] or ''}{match['separator']}{match['scheme'] or ''}{value}"


def _if_credential(match: re.Match) -> str:
    if not _looks_like_credential(match["value"]):
        return match[0]
    return f"{match['name']}{match['separator']}{REDACTED}"


def scrub_secrets(text: str) -> str:
    """``text`` with every credential-shaped part replaced by ``[redacted]``."""
    if not text:
        return text
    text = _PEM_PRIVATE_KEY.sub(lambda m: f"-----BEGIN {m['label']}----- {REDACTED}", text)
    text = _URL_USERINFO.sub(lambda m: f"{m['scheme']}{REDACTED}@", text)
    text = _NAMED.sub(_named, text)
    text = _FLAG.sub(lambda m: f"{m['name']}{m['separator']}{REDACTED}", text)
    text = _HEADER.sub(_if_credential, text)
    text = _SCHEME.sub(_if_credential, text)
    text = _JWT.sub(REDACTED, text)
    return _POD_STUDIO_TOKEN.sub(f"ps_{REDACTED}", text)


def display_url(url: object) -> str:
    """A server URL fit to show: scheme, host, port and path; never user:password@, a query or a fragment."""
    text = "" if url is None else str(url).strip()
    if not text:
        return ""
    try:
        parts = urlsplit(text)
        netloc = parts.netloc.rpartition("@")[2]
        shown = urlunsplit((parts.scheme, netloc, parts.path, "", ""))
    except ValueError:  # e.g. an unclosed IPv6 bracket: cut by hand
        shown = re.split(r"[?#]", text, maxsplit=1)[0]
        scheme, sep, rest = shown.rpartition("://")
        shown = f"{scheme}{sep}{rest.rpartition('@')[2]}" if sep else shown.rpartition("@")[2]
    return scrub_secrets(shown)


def _seconds(value: float | None) -> str:
    return f"{value:g} s" if value is not None else "the time allowed"


# ---------------------------------------------------------------------------
# Translation
# ---------------------------------------------------------------------------


def translate(error: BaseException, site: RequestSite) -> ClusterError:
    """Turn an exception from the kubernetes client (or urllib3 under it) into a ClusterError."""
    if isinstance(error, ClusterError):
        return error
    if isinstance(error, ApiException):
        return _from_api_exception(error, site)
    if isinstance(error, ConfigException):
        return ClusterError(
            "invalid", f"The kubeconfig entry for context '{site.context}' cannot be used: {config_problem(error)}"
        )
    if isinstance(error, urllib3.exceptions.MaxRetryError) and error.reason is not None:
        error = error.reason
    return _from_transport_error(error, site)


_PLUGIN_EXIT = re.compile(r"process returned (-?\d+)")
_PLUGIN_COMMAND = re.compile(r"^Cmd: (\S+)", re.MULTILINE)


def plugin_failure(command: str, messages: list[str]) -> str:
    """How a credential plugin (exec or cmd-path) failed, from what the kubernetes library said,
    without the plugin's output or arguments: they may hold secrets."""
    name = os.path.basename(command.rstrip("/\\")) or "?"
    text = "\n".join(messages)
    code = _PLUGIN_EXIT.search(text)
    if code:
        how = f"failed (exit {code[1]})"
    elif "No such file or directory" in text or "[Errno 2]" in text:
        how = "could not be started: there is no such command"
    elif "Permission denied" in text or "[Errno 13]" in text:
        how = "could not be started: permission denied"
    elif "malformed request" in text:
        how = "is not set up completely in the kubeconfig (exec needs apiVersion and command)"
    elif any(marker in text for marker in ("decode process output", "malformed", "does not match", "missing")):
        how = "answered with something that is not a usable ExecCredential"
    else:
        how = "failed"
    return f"the credential plugin '{name}' {how}; its output is not shown as it may contain secrets"


def config_problem(error: ConfigException) -> str:
    """A ConfigException in words, never quoting a credential plugin's output or command line."""
    text = str(error)
    if text.startswith("exec:"):
        return plugin_failure("exec", [text])
    if text.startswith("cmd-path:"):
        command = _PLUGIN_COMMAND.search(text)
        return plugin_failure(command[1] if command else "cmd-path", [text])
    return text


def _from_transport_error(error: BaseException, site: RequestSite) -> ClusterError:
    exceptions = urllib3.exceptions
    # Order matters: NameResolutionError < NewConnectionError < ConnectTimeoutError.
    if isinstance(error, exceptions.NameResolutionError):
        return ClusterError("unreachable", f"{site.cluster} could not be reached: its host name does not resolve.")
    if isinstance(error, exceptions.NewConnectionError):
        cause = "the connection was refused" if "refused" in str(error).lower() else "no connection could be made"
        return ClusterError("unreachable", f"{site.cluster} could not be reached: {cause}.")
    if isinstance(error, exceptions.ConnectTimeoutError):
        return ClusterError(
            "unreachable",
            f"{site.cluster} did not accept a connection within {_seconds(site.connect_timeout)}.",
        )
    # From here on the request was sent: a write may have been applied although no answer came.
    sent = {"request_sent": True}
    if isinstance(error, exceptions.ReadTimeoutError | TimeoutError):
        return ClusterError(
            "timeout", f"{site.cluster} did not answer within {_seconds(site.read_timeout)}.", details=sent
        )
    if isinstance(error, exceptions.SSLError):
        return ClusterError("unreachable", f"{site.cluster} could not be reached securely: {error}.")
    if isinstance(error, exceptions.ProtocolError):
        cut_short = "IncompleteRead" in repr(error) or "Connection broken" in str(error)
        what = "cut its answer short" if cut_short else "closed the connection without answering"
        return ClusterError("unreachable", f"{site.cluster} {what}.", details=sent)
    return ClusterError("unreachable", f"{site.cluster} could not be reached ({type(error).__name__}: {error}).")


def _status_body(error: ApiException) -> dict[str, Any]:
    """The Status object a Kubernetes API server sends with an error, if any."""
    try:
        body = json.loads(error.body or "")
    except (TypeError, ValueError):
        return {}
    return body if isinstance(body, dict) else {}


def _from_api_exception(error: ApiException, site: RequestSite) -> ClusterError:
    status = error.status or 0
    body = _status_body(error)
    message = str(body.get("message") or error.reason or "").strip()
    if status == 0:  # the client wraps TLS failures in an ApiException without a status
        first_line = message.splitlines()[-1] if message else "TLS failed"
        return ClusterError("unreachable", f"{site.cluster} could not be reached securely: {first_line}")
    for codes, explain in _EXPLAINERS:
        if status in codes:
            return explain(status, message, body, error, site)
    if 500 <= status < 600:
        return _server_error(status, message, body, error, site)
    return ClusterError("invalid", f"The cluster rejected the request ({status}): {message}", status=status)


def _unauthorized(status: int, message: str, body: dict, error: ApiException, site: RequestSite) -> ClusterError:
    user = f" of user '{site.user}'" if site.user else ""
    return ClusterError(
        "unauthorized",
        f"{site.cluster} did not accept the credentials{user} (401 Unauthorized). "
        "Log in again or refresh the kubeconfig, then retry.",
        status=status,
    )


_FORBIDDEN = re.compile(
    r'^.+? is forbidden: User "(?P<user>[^"]*)" cannot (?P<verb>\S+) resource "(?P<resource>[^"]+)" '
    r'in API group "(?P<group>[^"]*)"(?: in the namespace "(?P<namespace>[^"]+)"| at the cluster scope)?',
)


def _forbidden(status: int, message: str, body: dict, error: ApiException, site: RequestSite) -> ClusterError:
    match = _FORBIDDEN.match(message)
    if match is None:  # e.g. an admission policy (PodSecurity) said no: its words are the useful part
        return ClusterError("forbidden", f"The cluster refused the request: {message}", status=status)
    resource = match["resource"] + (f" ({match['group']})" if match["group"] else "")
    where = f"in namespace '{match['namespace']}'" if match["namespace"] else "at cluster scope"
    details = {key: match[key] for key in ("user", "verb", "resource", "group", "namespace")}
    return ClusterError(
        "forbidden",
        f"You (user '{match['user']}') may not {match['verb']} {resource} {where}.",
        status=status,
        details=details,
    )


_NOT_FOUND = re.compile(r'^(?P<resource>[\w.-]+) "(?P<name>[^"]+)" not found$')


def _not_found(status: int, message: str, body: dict, error: ApiException, site: RequestSite) -> ClusterError:
    match = _NOT_FOUND.match(message)
    if match is None:
        return ClusterError(
            "not_found", f"{site.cluster} does not serve this kind of object ({message}).", status=status
        )
    details = {"resource": match["resource"], "name": match["name"]}
    if match["resource"] == "namespaces":
        text = f"Namespace '{match['name']}' does not exist in the cluster at context '{site.context}'."
    else:
        text = f"{match['resource']} '{match['name']}' was not found in the cluster at context '{site.context}'."
    return ClusterError("not_found", text, status=status, details=details)


_CONFLICT_MANAGER = re.compile(r'conflict with "(?P<manager>[^"]+)"')


def _conflict(status: int, message: str, body: dict, error: ApiException, site: RequestSite) -> ClusterError:
    causes = (body.get("details") or {}).get("causes") or []
    conflicts = [
        {"field": cause.get("field", ""), "manager": match["manager"] if match else "another tool"}
        for cause in causes
        if cause.get("reason") == "FieldManagerConflict"
        for match in [_CONFLICT_MANAGER.search(cause.get("message", ""))]
    ]
    if conflicts:
        return ClusterError("conflict", _conflict_message(conflicts), status=status, details={"conflicts": conflicts})
    if body.get("reason") == "AlreadyExists":
        return ClusterError("conflict", f"Already exists: {message}.", status=status)
    return ClusterError("conflict", f"Conflict: {message}", status=status)


def _conflict_message(conflicts: list[dict[str, str]]) -> str:
    if len(conflicts) == 1:
        only = conflicts[0]
        return (
            f"Conflict: field {only['field']} is managed by '{only['manager']}'; "
            "deploy again with force to take it over."
        )
    listed = ", ".join(f"{c['field']} (managed by '{c['manager']}')" for c in conflicts)
    return f"Conflict: fields {listed} are managed by other tools; deploy again with force to take them over."


def _gone(status: int, message: str, body: dict, error: ApiException, site: RequestSite) -> ClusterError:
    return ClusterError(
        "not_found",
        f"The cluster no longer has that history ({message}); start again from a fresh list.",
        status=status,
    )


# How the API server's validation words a change to a field that is fixed once created: Pods,
# selectors and Job templates ("field is immutable"), a Service's clusterIP(s) ("may not change once
# set"), a PersistentVolumeClaim's spec ("is immutable after creation").
_IMMUTABLE_MARKERS = (
    "pod updates may not change fields", "field is immutable", "may not change once set", "is immutable after creation"
)


def _unprocessable(status: int, message: str, body: dict, error: ApiException, site: RequestSite) -> ClusterError:
    details = body.get("details") or {}
    causes = details.get("causes") or []
    kind, name = details.get("kind") or "Object", details.get("name") or ""
    said = [message, *(str(c.get("message", "")) for c in causes)]
    if any(marker in text for marker in _IMMUTABLE_MARKERS for text in said):
        return _immutable(status, kind, name, causes)
    fields = [f"Field {c['field']} is invalid: {c.get('message', '')}" for c in causes if c.get("field")]
    text = "; ".join(fields) if fields else f"The cluster rejected {kind} '{name}': {message}"
    return ClusterError("invalid", text, status=status, details={"kind": kind, "name": name, "causes": causes})


def _immutable(status: int, kind: str, name: str, causes: list[dict[str, str]]) -> ClusterError:
    fields = sorted({c.get("field", "") for c in causes if c.get("field")})
    if kind == "Pod":
        text = (
            f"Pod '{name}' cannot be changed in place: a running Pod only accepts new container images "
            "(and a few scheduling fields). Delete and recreate the Pod to apply this change."
        )
    else:
        text = (
            f"{kind} '{name}': {', '.join(fields) or 'a field'} cannot be changed once created. "
            f"Delete and recreate the {kind} to apply this change."
        )
    return ClusterError(
        "immutable",
        text,
        status=status,
        details={"kind": kind, "name": name, "fields": fields, "causes": causes},
    )


def _bad_request(status: int, message: str, body: dict, error: ApiException, site: RequestSite) -> ClusterError:
    return ClusterError("invalid", f"The cluster rejected the request: {message}", status=status)


def _rate_limited(status: int, message: str, body: dict, error: ApiException, site: RequestSite) -> ClusterError:
    retry_after = (error.headers or {}).get("Retry-After") or (body.get("details") or {}).get("retryAfterSeconds")
    wait = f"try again in {retry_after} s" if retry_after else "try again shortly"
    return ClusterError(
        "rate_limited",
        f"{site.cluster} is rate limiting requests (429 Too Many Requests); {wait}.",
        status=status,
        details={"retry_after": retry_after},
    )


def _unsupported(status: int, message: str, body: dict, error: ApiException, site: RequestSite) -> ClusterError:
    return ClusterError(
        "unsupported", f"{site.cluster} does not support this request ({status}): {message}", status=status
    )


# Found on a real API server (1.37): a server-side apply whose object does not fit the schema (a field
# not declared, a string where a number goes, a duplicate list key, a malformed quantity) is answered
# with 500, not 422. The manifest is at fault, not the cluster: say so, and what the field problem is.
_SCHEMA_MISMATCH = re.compile(
    r"^failed to (?:create typed patch object|convert new object) "
    r"\((?:(?P<namespace>[^/;()]*)/)?(?P<name>[^;()]*); [^()]*Kind=(?P<kind>\w+)\)"
    r"(?: to proper version)?: (?:unable to convert unstructured object to [^:]*: )?(?P<problem>.+)$",
    re.DOTALL,
)


def _schema_mismatch(status: int, message: str) -> ClusterError | None:
    match = _SCHEMA_MISMATCH.match(message)
    if match is None:
        return None
    problem = match["problem"].strip().rstrip(".")
    return ClusterError(
        "invalid",
        f"The cluster rejected {match['kind']} '{match['name']}': {problem}.",
        status=status,
        details={"kind": match["kind"], "name": match["name"], "problem": problem},
    )


def _server_error(status: int, message: str, body: dict, error: ApiException, site: RequestSite) -> ClusterError:
    mismatch = _schema_mismatch(status, message) if status == 500 else None
    if mismatch is not None:
        return mismatch
    if status == 504:
        return ClusterError("timeout", f"{site.cluster} timed out handling the request (504): {message}", status=status)
    return ClusterError("server", f"{site.cluster} reported an error ({status}): {message}", status=status)


_EXPLAINERS = (
    ((400,), _bad_request),
    ((401,), _unauthorized),
    ((403,), _forbidden),
    ((404,), _not_found),
    ((405, 406, 415), _unsupported),
    ((409,), _conflict),
    ((410,), _gone),
    ((422,), _unprocessable),
    ((429,), _rate_limited),
)
