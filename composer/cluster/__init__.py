"""The cluster layer: the only package that imports ``kubernetes`` (and never Django).

Public API (see the modules for details):

- contexts: ``list_contexts()``, ``get_context(name)``, ``connect(name)``, ``api_client(name)``,
  ``server_version(name)``, ``list_namespaces(name)``, ``create_namespace(name, namespace)``;
- apply: ``apply_manifests(...)``, ``diff_manifests(...)``, ``delete_objects(...)``,
  ``recreate_workload(...)``, with ``ObjectResult`` / ``ObjectDiff`` / ``ObjectRef`` and ``FIELD_MANAGER``;
- errors: every failure is a ``ClusterError`` (``kind``, ``status``, ``message``, ``details``).

What a deploy left running (imported from their modules, not from here):

- pods: ``PodStatus`` / ``ContainerStatus`` parsed from Pod objects (``parse_pod``), ``diagnose``;
- feed: ``Workload``, ``pod_statuses(...)`` (one ``StatusSnapshot``), ``StatusFeed`` (kept current);
- watch: ``Watch`` (list, then watch, resumable) and its ``WatchSettings``;
- logs: ``fetch``, ``fetch_merged``, ``merged_log``, ``raw_log``; logfollow: ``follow(...)``,
  ``LogFollower`` and its ``FollowSettings``;
- streams: ``open_stream`` / ``read_lines`` / ``shut``, the streamed requests under watch and logs.
"""

from composer.cluster.apply import (
    FIELD_MANAGER,
    ObjectDiff,
    ObjectRef,
    ObjectResult,
    apply_manifests,
    delete_objects,
    diff_manifests,
    recreate_workload,
)
from composer.cluster.contexts import (
    ContextInfo,
    Timeouts,
    api_client,
    connect,
    create_namespace,
    get_context,
    list_contexts,
    list_namespaces,
    server_version,
)
from composer.cluster.errors import ClusterError

__all__ = [
    "FIELD_MANAGER",
    "ClusterError",
    "ContextInfo",
    "ObjectDiff",
    "ObjectRef",
    "ObjectResult",
    "Timeouts",
    "api_client",
    "apply_manifests",
    "connect",
    "create_namespace",
    "delete_objects",
    "diff_manifests",
    "get_context",
    "list_contexts",
    "list_namespaces",
    "recreate_workload",
    "server_version",
]
