"""Errors from a cluster, in words a user can act on.

Every failure that leaves ``composer.cluster`` is a ``ClusterError`` with a ``kind`` the
web layer can branch on (``unreachable``, ``forbidden``, ``conflict`` …), the HTTP
status when there was one, a plain-language ``message`` and structured ``details``
(conflicting fields, invalid fields …). Messages name contexts, users, servers and
objects, never credentials: tokens, client keys and passwords stay in the kubeconfig.
"""

from __future__ import annotations

import json
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
        message = scrub_secrets(message)
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
        server = _without_userinfo(self.server)
        return f"The cluster at context '{self.context}'" + (f" ({server})" if server else "")


# Belt and braces: whatever text we quote (server messages, library errors), anything
# shaped like a credential is cut out before it can reach a page or a log.
_SECRET_PATTERNS = (
    re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+"),
    re.compile(r"(?i)\b(token|password|client-key-data|client-certificate-data)(\"?\s*[:=]\s*)[^\s,;\"']+"),
)


def scrub_secrets(text: str) -> str:
    text = _SECRET_PATTERNS[0].sub(lambda m: f"{m.group(1)} [redacted]", text)
    return _SECRET_PATTERNS[1].sub(lambda m: f"{m.group(1)}{m.group(2)}[redacted]", text)


def _without_userinfo(url: str) -> str:
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))


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
        return ClusterError("invalid", f"The kubeconfig entry for context '{site.context}' cannot be used: {error}")
    if isinstance(error, urllib3.exceptions.MaxRetryError) and error.reason is not None:
        error = error.reason
    return _from_transport_error(error, site)


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
    if isinstance(error, exceptions.ReadTimeoutError | TimeoutError):
        return ClusterError("timeout", f"{site.cluster} did not answer within {_seconds(site.read_timeout)}.")
    if isinstance(error, exceptions.SSLError):
        return ClusterError("unreachable", f"{site.cluster} could not be reached securely: {error}.")
    if isinstance(error, exceptions.ProtocolError):
        return ClusterError("unreachable", f"{site.cluster} closed the connection without answering.")
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


_IMMUTABLE_MARKERS = ("pod updates may not change fields", "field is immutable")


def _unprocessable(status: int, message: str, body: dict, error: ApiException, site: RequestSite) -> ClusterError:
    details = body.get("details") or {}
    causes = details.get("causes") or []
    kind, name = details.get("kind") or "Object", details.get("name") or ""
    if any(marker in message for marker in _IMMUTABLE_MARKERS):
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


def _server_error(status: int, message: str, body: dict, error: ApiException, site: RequestSite) -> ClusterError:
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
