"""Write kubeconfig files with bearer-token users, for tests of how Pod Studio reads kubeconfigs
(contexts, clusters and users shared or not, current context, CA data); the servers are usually the
fault proxy's (tests/support/faultproxy.py), which takes its own token.

- ``KubeconfigContext``: one context with its cluster entry (server, CA) and user entry (token).
- ``kubeconfig_document(contexts, current_context=None)``: the kubeconfig as a dict.
- ``write_kubeconfig(path, contexts, current_context=None)``: the same written to ``path`` (mode 0600).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml


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
