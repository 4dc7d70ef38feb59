"""What other tools do to the cluster, through the real kubernetes client (conflict tests need them)."""

from __future__ import annotations

from typing import Any

from kubernetes import client, config


def apply_as(target: Any, manager: str, manifest: dict[str, Any]) -> None:
    """Another tool (kubectl, say) applies a Deployment with its own field manager."""
    api = config.new_client_from_config(config_file=str(target.kubeconfig), context=target.context)
    client.AppsV1Api(api).patch_namespaced_deployment(
        manifest["metadata"]["name"],
        target.namespace,
        manifest,
        field_manager=manager,
        _content_type="application/apply-patch+yaml",
    )
