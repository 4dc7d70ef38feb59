"""Kubeconfig contexts, the in-cluster service account, and an API client per context.

Contexts come from ``$KUBECONFIG`` (several files joined with ``os.pathsep``, merged
the way kubectl merges them: the first file that names a context, cluster or
current-context wins) or ``~/.kube/config``, plus an ``in-cluster`` context when Pod
Studio itself runs in a Pod with a service account. ``ContextInfo`` carries names,
the server URL and the default namespace: never tokens, keys or passwords. The server URL is
for display (``display_url``: no ``user:password@``, query string or fragment); clients are
built from the kubeconfig files by the kubernetes library, never from ``ContextInfo.server``.

Clients are cached per context, kubeconfig file version and timeouts, and every
request they make times out (connect 5 s, read 30 s by default) so that a dead
cluster cannot hang a page. A request that sets ``_request_timeout`` itself (a watch,
a log stream) keeps its own.

Requests here go through ``Connection.request`` (plain JSON) rather than the typed
API classes: the first use of ``CoreV1Api`` costs seconds (its module builds hundreds
of validators on import), which a page must not wait for.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import urllib3
import yaml
from kubernetes import client as k8s
from kubernetes.client.exceptions import ApiException
from kubernetes.config import incluster_config, kube_config
from kubernetes.config.config_exception import ConfigException

from composer.cluster.errors import ClusterError, RequestSite, display_url, plugin_failure, translate
from composer.cluster.logfilter import from_kubernetes_config

IN_CLUSTER = "in-cluster"
SERVICE_ACCOUNT_DIR = Path("/var/run/secrets/kubernetes.io/serviceaccount")
DEFAULT_KUBECONFIG = "~/.kube/config"
USER_AGENT = "pod-studio"
_CLIENT_CACHE_SIZE = 16


@dataclass(frozen=True)
class Timeouts:
    connect: float = 5.0
    read: float = 30.0


DEFAULT_TIMEOUTS = Timeouts()


@dataclass(frozen=True)
class ContextInfo:
    name: str
    cluster: str
    user_name: str
    namespace: str
    server: str
    is_current: bool
    in_cluster: bool = False


# ---------------------------------------------------------------------------
# Reading kubeconfig files
# ---------------------------------------------------------------------------


def kubeconfig_paths() -> list[Path]:
    """The kubeconfig files that exist, in the order kubectl reads them."""
    value = os.environ.get("KUBECONFIG")
    candidates = [part for part in value.split(os.pathsep) if part] if value else [DEFAULT_KUBECONFIG]
    paths = [Path(candidate).expanduser() for candidate in candidates]
    return [path for path in paths if path.is_file()]


@dataclass
class _MergedKubeconfig:
    contexts: dict[str, dict[str, Any]] = field(default_factory=dict)
    clusters: dict[str, dict[str, Any]] = field(default_factory=dict)
    current_context: str = ""


def _read_kubeconfigs(paths: Iterable[Path]) -> _MergedKubeconfig:
    merged = _MergedKubeconfig()
    for path in paths:
        document = _load_kubeconfig(path)
        for section, target, inner in (("contexts", merged.contexts, "context"),
                                       ("clusters", merged.clusters, "cluster")):
            for entry in _named_entries(document, section, path):
                target.setdefault(entry["name"], entry.get(inner) or {})
        merged.current_context = merged.current_context or document.get("current-context") or ""
    return merged


def _named_entries(document: dict[str, Any], section: str, path: Path) -> list[dict[str, Any]]:
    entries = document.get(section) or []
    shaped = isinstance(entries, list) and all(
        isinstance(e, dict) and isinstance(e.get("name"), str) and isinstance(e.get(section[:-1]) or {}, dict)
        for e in entries
    )
    if not shaped:
        raise ClusterError(
            "invalid", f"The kubeconfig file {path} is malformed: '{section}' must be a list of named entries."
        )
    return entries


def _load_kubeconfig(path: Path) -> dict[str, Any]:
    try:
        document = yaml.safe_load(path.read_text())
    except yaml.YAMLError as error:
        # Quote only the position: YAML errors echo file content, and this file holds secrets.
        mark = getattr(error, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise ClusterError("invalid", f"The kubeconfig file {path} is not valid YAML{where}.") from None
    except OSError as error:
        raise ClusterError("invalid", f"The kubeconfig file {path} cannot be read: {error.strerror}.") from None
    if document is None:
        return {}
    if not isinstance(document, dict):
        raise ClusterError("invalid", f"The kubeconfig file {path} is not a kubeconfig (expected a mapping).")
    return document


def _in_cluster_context(*, is_current: bool) -> ContextInfo | None:
    host = os.environ.get("KUBERNETES_SERVICE_HOST")
    port = os.environ.get("KUBERNETES_SERVICE_PORT")
    if not host or not port or not (SERVICE_ACCOUNT_DIR / "token").is_file():
        return None
    namespace_file = SERVICE_ACCOUNT_DIR / "namespace"
    namespace = namespace_file.read_text().strip() if namespace_file.is_file() else "default"
    host = f"[{host}]" if ":" in host else host
    return ContextInfo(
        IN_CLUSTER,
        IN_CLUSTER,
        "service account",
        namespace or "default",
        display_url(f"https://{host}:{port}"),
        is_current=is_current,
        in_cluster=True,
    )


def list_contexts() -> list[ContextInfo]:
    """Every context the user can deploy to; empty when there is no kubeconfig at all."""
    config = _read_kubeconfigs(kubeconfig_paths())
    contexts = [
        ContextInfo(
            name=name,
            cluster=entry.get("cluster", ""),
            user_name=entry.get("user", ""),
            namespace=entry.get("namespace") or "default",
            server=display_url((config.clusters.get(entry.get("cluster", "")) or {}).get("server", "")),
            is_current=name == config.current_context,
        )
        for name, entry in config.contexts.items()
    ]
    in_cluster = _in_cluster_context(is_current=not any(c.is_current for c in contexts))
    return [*contexts, in_cluster] if in_cluster else contexts


def get_context(name: str | None = None) -> ContextInfo:
    """The named context, or the current one when ``name`` is None."""
    contexts = list_contexts()
    if name is None:
        current = next((c for c in contexts if c.is_current), None)
        if current is None:
            raise ClusterError(
                "not_found",
                "No Kubernetes context is selected: the kubeconfig has no current-context (or there is no kubeconfig).",
            )
        return current
    found = next((c for c in contexts if c.name == name), None)
    if found is None:
        raise ClusterError("not_found", f"There is no context '{name}' in the kubeconfig.")
    return found


# ---------------------------------------------------------------------------
# Clients
# ---------------------------------------------------------------------------


class _TimeoutApiClient(k8s.ApiClient):
    """An ApiClient whose requests time out unless the caller chose a timeout itself."""

    def __init__(self, configuration: k8s.Configuration, timeouts: Timeouts) -> None:
        super().__init__(configuration)
        self.timeouts = timeouts
        self.user_agent = USER_AGENT

    def call_api(self, method, url, header_params=None, body=None, post_params=None, _request_timeout=None):
        timeout = _request_timeout or (self.timeouts.connect, self.timeouts.read)
        return super().call_api(method, url, header_params, body, post_params, _request_timeout=timeout)


@dataclass(frozen=True)
class Connection:
    """A context with its client: how the rest of composer.cluster talks to a cluster."""

    context: ContextInfo
    client: k8s.ApiClient
    timeouts: Timeouts

    @property
    def site(self) -> RequestSite:
        return RequestSite(
            self.context.name,
            self.context.server,
            self.context.user_name,
            self.timeouts.connect,
            self.timeouts.read,
        )

    @contextmanager
    def translated_errors(self) -> Iterator[None]:
        """Turn client, HTTP and socket errors raised inside into ClusterError."""
        try:
            yield
        except ClusterError:
            raise
        except (ApiException, urllib3.exceptions.HTTPError, ConfigException, OSError) as error:
            raise translate(error, self.site) from error

    def request(
        self,
        method: str,
        path: str,
        *,
        query: Iterable[tuple[str, Any]] = (),
        body: Any = None,
        content_type: str | None = None,
    ) -> tuple[int, Any]:
        """One API request with a JSON answer: (HTTP status, decoded body). Raises ClusterError."""
        headers = {"Accept": "application/json"}
        if content_type:
            headers["Content-Type"] = content_type
        with self.translated_errors():
            serialized = self.client.param_serialize(
                method=method,
                resource_path=path,
                query_params=list(query),
                header_params=headers,
                body=body,
                auth_settings=["BearerToken"],
            )
            response = self.client.call_api(*serialized)
            response.read()
            result = self.client.response_deserialize(response, {"2XX": "object"})
        return result.status_code, result.data

    def server_version(self) -> tuple[int, int]:
        _, info = self.request("GET", "/version")
        return _version_number(info.get("major")), _version_number(info.get("minor"))


def _version_number(text: Any) -> int:
    digits = "".join(char for char in str(text or "").split(".")[0] if char.isdigit())  # GKE says "28+"
    return int(digits or 0)


_clients: dict[tuple[Any, ...], k8s.ApiClient] = {}
_clients_lock = threading.Lock()


def _file_stamps(paths: Iterable[Path]) -> tuple[tuple[str, int, int], ...]:
    stamps = []
    for path in paths:
        stat = path.stat()
        stamps.append((str(path), stat.st_mtime_ns, stat.st_size))
    return tuple(stamps)


def connect(context_name: str | None = None, *, timeouts: Timeouts | None = None) -> Connection:
    """A Connection to the named (or current) context; the client is reused while the files stay the same."""
    context = get_context(context_name)
    timeouts = timeouts or DEFAULT_TIMEOUTS
    paths = [SERVICE_ACCOUNT_DIR / "token"] if context.in_cluster else kubeconfig_paths()
    key = (context, _file_stamps(paths), timeouts)
    with _clients_lock:
        client = _clients.get(key)
    if client is None:
        client = _build_client(context, paths, timeouts)
        with _clients_lock:
            _clients[key] = client
            while len(_clients) > _CLIENT_CACHE_SIZE:
                del _clients[next(iter(_clients))]  # the oldest; it is closed when no one uses it
    return Connection(context, client, timeouts)


class _KubernetesConfigMessages(logging.Filter):
    """Catches what the kubernetes.config package logs in this thread while a client is built.

    A failing exec credential plugin does not raise: ``kube_config._load_from_exec_plugin``
    logs ``str(error)`` on the root logger (the plugin's stderr, which may quote its secret
    arguments and environment) and goes on without credentials. Those records are kept here,
    away from every handler, so that the user hears which plugin failed and how, and no log
    ever holds its output.
    """

    def __init__(self) -> None:
        super().__init__()
        self.thread = threading.get_ident()
        self.messages: list[str] = []

    def filter(self, record: logging.LogRecord) -> bool:
        if record.thread != self.thread or not from_kubernetes_config(record):
            return True
        try:
            self.messages.append(record.getMessage())
        except Exception:  # a malformed record is still withheld
            self.messages.append(str(record.msg))
        return False


@contextmanager
def _kubernetes_config_messages() -> Iterator[list[str]]:
    catcher = _KubernetesConfigMessages()
    root = logging.getLogger()
    root.addFilter(catcher)
    try:
        yield catcher.messages
    finally:
        root.removeFilter(catcher)


def _exec_command(paths: Iterable[Path], user_name: str) -> str | None:
    """The exec credential plugin's command of the kubeconfig user, if it has one (the first file wins)."""
    for path in paths:
        users = _load_kubeconfig(path).get("users")
        for entry in users if isinstance(users, list) else []:
            if isinstance(entry, dict) and entry.get("name") == user_name:
                user = entry.get("user")
                plugin = user.get("exec") if isinstance(user, dict) else None
                return str(plugin.get("command") or "?") if isinstance(plugin, dict) else None
    return None


def _build_client(context: ContextInfo, paths: list[Path], timeouts: Timeouts) -> k8s.ApiClient:
    configuration = k8s.Configuration()
    site = RequestSite(context.name, context.server, context.user_name)
    try:
        if context.in_cluster:
            loader = incluster_config.InClusterConfigLoader(
                token_filename=str(SERVICE_ACCOUNT_DIR / "token"),
                cert_filename=str(SERVICE_ACCOUNT_DIR / "ca.crt"),
            )
            loader.load_and_set(configuration)
        else:
            with _kubernetes_config_messages() as messages:
                kube_config.load_kube_config(
                    config_file=os.pathsep.join(str(p) for p in paths),
                    context=context.name,
                    client_configuration=configuration,
                    persist_config=False,
                )
            command = _exec_command(paths, context.user_name) if messages else None
            if command is not None:
                raise ClusterError(
                    "unauthorized",
                    f"No credentials for context '{context.name}': {plugin_failure(command, messages)}. "
                    f"Run kubectl --context {context.name} get namespaces in a terminal to see its output.",
                )
    except (ConfigException, OSError, ValueError) as error:
        raise translate(error if isinstance(error, ConfigException) else ConfigException(str(error)), site) from None
    # A refused connection is retried once; a request that was sent is never repeated
    # (a PATCH must not be applied twice, and a timeout must not double the wait).
    # A 429 or 503 is reported to the user as it is, not retried behind their back.
    configuration.retries = urllib3.Retry(
        total=1, connect=1, read=0, redirect=0, status=0, other=0, respect_retry_after_header=False
    )
    # Every open log or status stream holds a connection; urllib3's default pool of 10 would
    # discard (and reopen) connections as soon as a few pages follow logs.
    configuration.connection_pool_maxsize = 64
    return _TimeoutApiClient(configuration, timeouts)


def api_client(context_name: str | None = None, *, timeouts: Timeouts | None = None) -> k8s.ApiClient:
    """A kubernetes ApiClient for the named (or current) context, with default timeouts."""
    return connect(context_name, timeouts=timeouts).client


# ---------------------------------------------------------------------------
# Cluster-wide questions
# ---------------------------------------------------------------------------


def server_version(context_name: str | None = None) -> tuple[int, int]:
    """(major, minor) of the cluster's Kubernetes version, e.g. (1, 29)."""
    return connect(context_name).server_version()


def list_namespaces(context_name: str | None = None) -> list[str]:
    _, namespaces = connect(context_name).request("GET", "/api/v1/namespaces")
    return sorted(item["metadata"]["name"] for item in namespaces.get("items") or [])


def create_namespace(context_name: str | None, name: str) -> bool:
    """Create a namespace; False when it already existed."""
    body = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}
    try:
        connect(context_name).request("POST", "/api/v1/namespaces", body=body, content_type="application/json")
    except ClusterError as error:
        if error.status == 409:
            return False
        raise
    return True
