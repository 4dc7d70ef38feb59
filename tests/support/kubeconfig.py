"""Write kubeconfig files that point at stand-in API servers.

``write_standin_kubeconfig`` writes the two contexts most tests use:

- ``stand-in``: the server's default user (token ``server.token``), namespace ``default``;
- ``stand-in-team``: user ``team-a-user`` with its own token, namespace ``team-a``, on the
  same server or on ``team_server``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from tests.support.apiserver import ApiServer

STANDIN_CONTEXT = "stand-in"
TEAM_CONTEXT = "stand-in-team"
TEAM_USER = "team-a-user"
TEAM_NAMESPACE = "team-a"


@dataclass(frozen=True)
class KubeconfigContext:
    name: str
    server: str
    token: str
    namespace: str = "default"
    cluster: str | None = None  # kubeconfig cluster entry; defaults to the context name
    user: str | None = None  # kubeconfig user entry; defaults to "<context>-user"
    ca_data: str | None = None  # base64 PEM for certificate-authority-data (https servers)

    @property
    def cluster_name(self) -> str:
        return self.cluster or self.name

    @property
    def user_name(self) -> str:
        return self.user or f"{self.name}-user"


def kubeconfig_document(contexts: Sequence[KubeconfigContext], current_context: str | None = None) -> dict:
    clusters = {c.cluster_name: {"name": c.cluster_name, "cluster": _cluster_entry(c)} for c in contexts}
    users = {c.user_name: {"name": c.user_name, "user": {"token": c.token}} for c in contexts}
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "preferences": {},
        "clusters": list(clusters.values()),
        "users": list(users.values()),
        "contexts": [
            {
                "name": c.name,
                "context": {"cluster": c.cluster_name, "user": c.user_name, "namespace": c.namespace},
            }
            for c in contexts
        ],
        "current-context": current_context if current_context is not None else contexts[0].name,
    }


def _cluster_entry(context: KubeconfigContext) -> dict[str, str]:
    entry = {"server": context.server}
    if context.ca_data:
        entry["certificate-authority-data"] = context.ca_data
    return entry


def write_kubeconfig(
    path: Path, contexts: Sequence[KubeconfigContext], current_context: str | None = None
) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(kubeconfig_document(contexts, current_context), sort_keys=False))
    path.chmod(0o600)  # it holds tokens, as a real one does
    return path


def standin_contexts(server: ApiServer, team_server: ApiServer | None = None) -> list[KubeconfigContext]:
    """The ``stand-in`` and ``stand-in-team`` contexts; registers the team user and namespace."""
    team = team_server or server
    team_token = team.add_user(TEAM_USER)
    team.ensure_namespace(TEAM_NAMESPACE)
    return [
        KubeconfigContext(STANDIN_CONTEXT, server.url, server.token, "default", ca_data=server.ca_data),
        KubeconfigContext(
            TEAM_CONTEXT,
            team.url,
            team_token,
            TEAM_NAMESPACE,
            cluster=STANDIN_CONTEXT if team is server else TEAM_CONTEXT,
            user=TEAM_USER,
            ca_data=team.ca_data,
        ),
    ]


def write_standin_kubeconfig(
    path: Path,
    server: ApiServer,
    *,
    team_server: ApiServer | None = None,
    current_context: str = STANDIN_CONTEXT,
) -> Path:
    return write_kubeconfig(path, standin_contexts(server, team_server), current_context)
