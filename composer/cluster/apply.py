"""Deploy manifests: server-side apply, server dry-run, diff, delete, recreate.

Manifests are plain dicts (``apiVersion``, ``kind``, ``metadata.name``); an object
without ``metadata.namespace`` goes to the namespace the user chose. Objects are
applied one by one in the order given (the caller puts ConfigMaps and Services before
the workload). The first failure stops the deploy and the rest are reported as
``not_attempted``, so a partial deploy is always reported exactly.

Problems found before anything is sent (an unknown kind, a Secret, a name the API
server would refuse, native sidecars on a cluster older than 1.29) raise ClusterError.
"""

from __future__ import annotations

import copy
import dataclasses
import difflib
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml

from composer.cluster.contexts import Connection, connect
from composer.cluster.errors import ClusterError
from composer.cluster.ownership import FIELD_MANAGER, overlay, owned_fields, owned_values
from composer.cluster.resources import KINDS, KindInfo
from composer.domain.kinds import WORKLOAD_KINDS
from composer.domain.names import dns_label_problem, manifest_name_problems
from composer.domain.podspecs import pod_specs

APPLY_PATCH = "application/apply-patch+yaml"
NATIVE_SIDECARS_SINCE = (1, 29)

CREATED = "created"
CONFIGURED = "configured"
UNCHANGED = "unchanged"
FAILED = "failed"
NOT_ATTEMPTED = "not_attempted"
DELETED = "deleted"
ABSENT = "absent"

_VOLATILE_METADATA = (
    "managedFields",
    "resourceVersion",
    "generation",
    "uid",
    "creationTimestamp",
    "selfLink",
)


@dataclass(frozen=True)
class ObjectResult:
    """What happened to one object. ``object`` is the server's answer (never a Secret: none is sent)."""

    kind: str
    name: str
    namespace: str | None
    outcome: str  # created, configured, unchanged, failed, not_attempted, deleted, absent
    message: str = ""
    error_kind: str | None = None
    status: int | None = None
    object: dict[str, Any] | None = None
    details: dict[str, Any] = field(default_factory=dict)
    # As the server returned them: what an undeploy may delete, and only while the uid is the same.
    api_version: str = ""
    uid: str | None = None

    @property
    def ok(self) -> bool:
        return self.outcome not in (FAILED, NOT_ATTEMPTED)


@dataclass(frozen=True)
class ObjectDiff:
    """The change one apply would make, as a unified diff of YAML (empty when none)."""

    kind: str
    name: str
    namespace: str | None
    is_new: bool
    diff: str
    # Why the server would refuse this change as it is (immutable fields, a conflict), if it would.
    refusal: str = ""

    @property
    def changed(self) -> bool:
        return bool(self.diff)


@dataclass(frozen=True)
class _Target:
    """A manifest ready to send: where it goes and what it is."""

    manifest: dict[str, Any]
    info: KindInfo
    namespace: str
    # Set for a delete: only the object with this uid is deleted.
    uid: str | None = None

    @property
    def kind(self) -> str:
        return self.manifest["kind"]

    @property
    def name(self) -> str:
        return self.manifest["metadata"]["name"]

    @property
    def path(self) -> str:
        return self.info.path(self.namespace, self.name)

    @property
    def label(self) -> str:
        return f"{self.kind} '{self.name}'"

    def result(self, outcome: str, message: str, **extra: Any) -> ObjectResult:
        return ObjectResult(
            self.kind, self.name, self.namespace if self.info.namespaced else None, outcome, message,
            api_version=self.info.api_version, **extra,
        )


# ---------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------


def apply_manifests(
    context: str | None,
    namespace: str,
    manifests: Sequence[dict[str, Any]],
    *,
    dry_run: bool = False,
    force: bool = False,
) -> list[ObjectResult]:
    """Server-side apply each manifest in order as field manager ``pod-studio``."""
    targets = _prepare_all(manifests, namespace)
    connection = connect(context)
    _refuse_unsupported_features(connection, targets)
    return _for_each(targets, lambda target: _apply_one(connection, target, dry_run=dry_run, force=force))


def diff_manifests(
    context: str | None, namespace: str, manifests: Sequence[dict[str, Any]], *, force: bool = False
) -> list[ObjectDiff]:
    """What applying would change: server dry-run of each object against its live version."""
    targets = _prepare_all(manifests, namespace)
    connection = connect(context)
    _refuse_unsupported_features(connection, targets)
    return [_diff_one(connection, target, force=force) for target in targets]


_DIFF_ATTEMPTS = 3


def _diff_one(connection: Connection, target: _Target, *, force: bool) -> ObjectDiff:
    for _ in range(_DIFF_ATTEMPTS):
        live = _get_live(connection, target)
        refusal = ""
        try:
            _, proposed = _server_side_apply(connection, target, dry_run=True, force=force)
        except ClusterError as error:
            if error.kind not in ("immutable", "conflict") or live is None:
                raise
            # Still show what the change is, and why the server would not take it as it is.
            proposed, refusal = _proposed_despite(connection, target, live, error), error.message
            break
        # Found on a real API server: right after a deploy the Deployment controller writes its
        # revision annotation, sometimes between our GET and our dry run, and the diff showed that
        # annotation as our change. A dry run keeps the stored resourceVersion: when it is not the
        # one we read, the object changed in between; read it again.
        if live is None or _resource_version(proposed) == _resource_version(live):
            break
    diff = _yaml_diff(target, live, proposed)
    return ObjectDiff(target.kind, target.name, target.namespace, live is None, diff, refusal)


def _resource_version(obj: dict[str, Any]) -> str | None:
    return (obj.get("metadata") or {}).get("resourceVersion")


def _proposed_despite(
    connection: Connection, target: _Target, live: dict[str, Any], error: ClusterError
) -> dict[str, Any]:
    """What the object would become if the server took the change it refused."""
    if error.kind == "conflict":
        # Found on a real API server: the overlay below is only an estimate, while a forced dry run
        # is exactly what taking the fields over would do (and stores nothing).
        try:
            return _server_side_apply(connection, target, dry_run=True, force=True)[1]
        except ClusterError as forced:
            if forced.kind != "immutable":
                raise
    return overlay(live, target.manifest, owned_fields(live))


@dataclass(frozen=True)
class ObjectRef:
    """One object a deploy applied, as the server named it: an undeploy deletes exactly this object."""

    api_version: str
    kind: str
    namespace: str
    name: str
    uid: str


def delete_objects(context: str | None, refs: Iterable[ObjectRef]) -> list[ObjectResult]:
    """Delete each object if it is still the one with that uid; one already gone is ``absent``, one
    replaced since (another uid) is ``failed`` and left alone."""
    targets = [
        dataclasses.replace(
            _prepare({"apiVersion": ref.api_version, "kind": ref.kind, "metadata": {"name": ref.name}}, ref.namespace),
            uid=ref.uid,
        )
        for ref in refs
    ]
    connection = connect(context)
    return _for_each(targets, lambda target: _delete_one(connection, target))


def recreate_workload(
    context: str | None, namespace: str, manifest: dict[str, Any], *, timeout: float = 60.0
) -> ObjectResult:
    """Delete a workload, wait until it is gone (at most ``timeout`` s), then apply ``manifest``.

    The way out of an ``immutable`` error: a running Pod accepts almost no changes, a Job's Pod
    template and selector none, a controller's selector none. A controller is deleted in the
    foreground: the server removes it only once its Pods are gone, so the new one never runs beside
    the old one's Pods (a StatefulSet's web-0 could not be made while the old web-0 still exists).
    """
    target = _prepare(manifest, namespace)
    if target.kind not in WORKLOAD_KINDS:
        raise ClusterError("invalid", f"Only workloads are recreated this way, not {target.kind}.")
    connection = connect(context)
    _refuse_unsupported_features(connection, [target])
    old = _get_live(connection, target)
    if old is not None:
        _delete_one(connection, target, propagation="Background" if target.kind == "Pod" else "Foreground")
        _wait_until_gone(connection, target, old["metadata"].get("uid"), timeout)
    return _apply_one(connection, target, dry_run=False, force=False)


# ---------------------------------------------------------------------------
# Preparing manifests
# ---------------------------------------------------------------------------


def _prepare_all(manifests: Sequence[dict[str, Any]], namespace: str) -> list[_Target]:
    return [_prepare(manifest, namespace) for manifest in manifests]


def _prepare(manifest: dict[str, Any], namespace: str) -> _Target:
    api_version, kind = manifest.get("apiVersion"), manifest.get("kind")
    name = (manifest.get("metadata") or {}).get("name")
    if not api_version or not kind or not name:
        raise ClusterError(
            "invalid",
            "Every object needs apiVersion, kind and metadata.name "
            f"(got apiVersion={api_version!r}, kind={kind!r}, name={name!r}).",
        )
    if kind == "Secret":
        raise ClusterError(
            "unsupported", f"Secret '{name}' not sent: Pod Studio never sends Secrets; create it in the cluster."
        )
    info = KINDS.get((api_version, kind))
    if info is None:
        raise ClusterError("unsupported", f"Pod Studio cannot deploy {kind} ({api_version}) objects.")
    problems = manifest_name_problems(manifest)
    namespace_problem = dns_label_problem(namespace)
    if namespace_problem:
        problems[f"namespace {namespace!r}"] = namespace_problem
    if problems:
        listed = "; ".join(f"{path}: {problem}" for path, problem in problems.items())
        raise ClusterError("invalid", f"Not sent: {listed}.", details={"names": problems})
    manifest = copy.deepcopy(manifest)
    given = manifest["metadata"].get("namespace")
    if info.namespaced:
        if given and given != namespace:
            raise ClusterError(
                "invalid", f"{kind} '{name}' says namespace '{given}' but the deploy goes to '{namespace}'."
            )
        manifest["metadata"]["namespace"] = namespace
    return _Target(manifest, info, namespace)


def _native_sidecars(target: _Target) -> list[str]:
    return [
        container.get("name", "?")
        for _, spec in pod_specs(target.manifest)
        for container in spec.get("initContainers") or []
        if container.get("restartPolicy") == "Always"
    ]


def _refuse_unsupported_features(connection: Connection, targets: Sequence[_Target]) -> None:
    """Native sidecars need Kubernetes 1.29; say so before sending anything to an older cluster."""
    sidecars = [name for target in targets for name in _native_sidecars(target)]
    if not sidecars:
        return
    version = connection.server_version()
    if version < NATIVE_SIDECARS_SINCE:
        names = ", ".join(f"'{name}'" for name in sidecars)
        raise ClusterError(
            "unsupported",
            f"Native sidecars (init containers with restartPolicy: Always: {names}) need Kubernetes 1.29 or "
            f"newer, but the cluster at context '{connection.context.name}' runs {version[0]}.{version[1]}. "
            "Make them regular sidecar containers, or deploy to a newer cluster.",
            details={"sidecars": sidecars, "server_version": list(version)},
        )


# ---------------------------------------------------------------------------
# Requests
# ---------------------------------------------------------------------------


def _for_each(targets: Sequence[_Target], action: Callable[[_Target], ObjectResult]) -> list[ObjectResult]:
    """Run ``action`` per target; after the first failure the rest are not attempted."""
    results: list[ObjectResult] = []
    for index, target in enumerate(targets):
        try:
            results.append(action(target))
        except ClusterError as error:
            results.append(
                target.result(FAILED, error.message, error_kind=error.kind, status=error.status, details=error.details)
            )
            results.extend(
                t.result(NOT_ATTEMPTED, f"Not attempted: {target.label} failed first.") for t in targets[index + 1 :]
            )
            break
    return results


def _get_live(connection: Connection, target: _Target) -> dict[str, Any] | None:
    try:
        return connection.request("GET", target.path)[1]
    except ClusterError as error:
        if error.status == 404 and error.details.get("resource") != "namespaces":
            return None
        raise


def _server_side_apply(
    connection: Connection, target: _Target, *, dry_run: bool, force: bool
) -> tuple[int, dict[str, Any]]:
    query = [("fieldManager", FIELD_MANAGER), ("force", "true" if force else "false")]
    if dry_run:
        query.append(("dryRun", "All"))
    return connection.request("PATCH", target.path, query=query, body=target.manifest, content_type=APPLY_PATCH)


def _apply_one(connection: Connection, target: _Target, *, dry_run: bool, force: bool) -> ObjectResult:
    live = _get_live(connection, target)
    status, returned = _server_side_apply(connection, target, dry_run=dry_run, force=force)
    outcome = _outcome(live, returned)
    verb = {CREATED: "created", CONFIGURED: "configured", UNCHANGED: "unchanged"}[outcome]
    message = f"{target.label} would be {verb} (server dry run)." if dry_run else f"{target.label} {verb}."
    uid = None if dry_run else (returned.get("metadata") or {}).get("uid")
    return target.result(outcome, message, status=status, object=returned, uid=uid)


def _outcome(live: dict[str, Any] | None, returned: dict[str, Any]) -> str:
    if live is None:
        return CREATED
    # Compare the content, not the resourceVersion: a dry run keeps the version, and on a real server
    # a controller's status update between our GET and our PATCH changes it although we changed nothing.
    if _comparable(live) == _comparable(returned):
        return UNCHANGED
    # Found on a real API server: the Deployment controller's revision annotation, written between our
    # GET and our PATCH right after a deploy, made a deploy again report 'configured'. An apply only
    # sets the fields it owns (and removes those it owned and no longer sends): when Pod Studio owns
    # the same fields with the same values before and after, another writer made the difference.
    before, after = owned_fields(live), owned_fields(returned)
    if before and before == after and owned_values(live, before) == owned_values(returned, after):
        return UNCHANGED
    return CONFIGURED


def _delete_one(connection: Connection, target: _Target, *, propagation: str = "Background") -> ObjectResult:
    """Delete the object; the garbage collector then deletes what it owns (a Job's or a controller's Pods).

    ``Background`` as kubectl does: the object goes at once, its Pods right after. Sent explicitly: found on
    a real API server (1.37), a Job deleted without a policy leaves its Pods behind ("child pods are
    preserved by default when jobs are deleted", the server warns); a CronJob's Jobs and Pods go by default."""
    body: dict[str, Any] = {"apiVersion": "v1", "kind": "DeleteOptions", "propagationPolicy": propagation}
    if target.uid:
        body["preconditions"] = {"uid": target.uid}
    try:
        status, _ = connection.request("DELETE", target.path, body=body, content_type="application/json")
    except ClusterError as error:
        if error.status == 404 and error.details.get("resource") != "namespaces":
            return target.result(ABSENT, f"{target.label} was already gone.", status=404)
        if error.status == 409 and target.uid:
            raise ClusterError(
                "conflict",
                f"{target.label} is no longer the object this deploy created (it was replaced since): left alone.",
                status=409,
            ) from None
        raise
    return target.result(DELETED, f"{target.label} deleted.", status=status)


def _wait_until_gone(connection: Connection, target: _Target, uid: str | None, timeout: float) -> None:
    """Poll until the old object is gone; a new object with another uid counts as gone."""
    deadline = time.monotonic() + timeout
    pause = 0.05
    while True:
        live = _get_live(connection, target)
        if live is None or live["metadata"].get("uid") != uid:
            return
        if time.monotonic() >= deadline:
            raise ClusterError(
                "timeout",
                f"{target.label} was still terminating after {timeout:g} s; try again when it is gone.",
            )
        time.sleep(pause)
        pause = min(pause * 2, 1.0)


# ---------------------------------------------------------------------------
# Display: diffs
# ---------------------------------------------------------------------------


def _comparable(obj: dict[str, Any]) -> dict[str, Any]:
    """An object without the fields the server changes on every write."""
    trimmed = {key: value for key, value in obj.items() if key != "status"}
    trimmed["metadata"] = {k: v for k, v in (obj.get("metadata") or {}).items() if k not in _VOLATILE_METADATA}
    return trimmed


def _yaml_text(obj: dict[str, Any] | None) -> list[str]:
    if obj is None:
        return []
    return yaml.safe_dump(obj, sort_keys=True, default_flow_style=False).splitlines(keepends=True)


def _yaml_diff(target: _Target, live: dict[str, Any] | None, proposed: dict[str, Any]) -> str:
    before = _comparable(live) if live is not None else None
    after = _comparable(proposed)
    name = f"{target.kind}/{target.name}"
    lines = difflib.unified_diff(
        _yaml_text(before), _yaml_text(after), fromfile=f"{name} (live)", tofile=f"{name} (after deploy)"
    )
    return "".join(lines)
