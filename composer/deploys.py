"""Deploying a saved composition: render, send through the cluster layer, record every attempt."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from composer import cluster
from composer.domain.model import DNS_LABEL
from composer.domain.preview import preview
from composer.domain.render import render
from composer.domain.yamlio import dump_documents, load_documents
from composer.models import DeployRecord, SavedComposition

Outcome = DeployRecord.Outcome


class DeployRefused(ValueError):
    """The request cannot be sent at all (bad input, errors in the composition); nothing is recorded."""


@dataclass(frozen=True)
class DeployRequest:
    context: str
    namespace: str
    dry_run: bool = False
    force: bool = False
    create_namespace: bool = False

    def validate(self) -> None:
        if not self.context:
            raise DeployRefused("choose a cluster context")
        if not DNS_LABEL.match(self.namespace or "") or len(self.namespace) > 63:
            raise DeployRefused(f"namespace {self.namespace!r} is not a valid name (lower-case letters, digits, '-')")


def manifests_for(saved: SavedComposition, namespace: str) -> list[dict[str, Any]]:
    """The rendered manifests (fresh dicts on every call), every one placed in the chosen namespace."""
    manifests = render(saved.composition())
    for manifest in manifests:
        manifest.setdefault("metadata", {})["namespace"] = namespace
    return manifests


def _blocking_problems(saved: SavedComposition) -> list[str]:
    return [p.message for p in preview(saved.composition()).problems if p.severity == "error"]


def _outcome(results: list[cluster.ObjectResult]) -> str:
    if all(result.ok for result in results):
        return Outcome.SUCCEEDED
    return Outcome.PARTIAL if any(result.ok and result.outcome != "unchanged" for result in results) else Outcome.FAILED


def _summary(results: list[cluster.ObjectResult], dry_run: bool, done: str = "Applied") -> str:
    failed = next((r for r in results if r.outcome == "failed"), None)
    if failed is None:
        return "Dry run passed: the server accepted every object." if dry_run else f"Every object {done.lower()}."
    applied = [f"{r.kind} {r.name}" for r in results if r.ok]
    skipped = [f"{r.kind} {r.name}" for r in results if r.outcome == "not_attempted"]
    parts = [f"{failed.kind} {failed.name} failed: {failed.message}"]
    if failed.error_kind == "timeout" and not dry_run:
        parts.append("The server may still have made that change after Pod Studio stopped waiting; deploying "
                     "again is safe (server-side apply does not apply the same change twice).")
    if applied:
        parts.append(f"{done} before it: {', '.join(applied)}.")
    if skipped:
        parts.append(f"Not attempted: {', '.join(skipped)}.")
    return " ".join(parts)


def result_dicts(results: list[cluster.ObjectResult]) -> list[dict[str, Any]]:
    return [{k: v for k, v in asdict(r).items() if k != "object"} for r in results]


def _new_record(saved: SavedComposition | None, name: str, revision: int, action: str, request: DeployRequest,
                user: str, manifests: list[dict[str, Any]]) -> DeployRecord:
    return DeployRecord(
        composition=saved, composition_name=name, revision=revision, action=action, context=request.context,
        namespace=request.namespace, user=user, manifest_yaml=dump_documents(manifests), force=request.force,
    )


def deploy(saved: SavedComposition, request: DeployRequest, user: str) -> DeployRecord:
    """Sends the composition (or a server dry run of it) and records what happened."""
    request.validate()
    if not request.dry_run:
        blocking = _blocking_problems(saved)
        if blocking:
            raise DeployRefused(f"fix {len(blocking)} error{'s' if len(blocking) > 1 else ''} first: {blocking[0]}")
    action = DeployRecord.Action.DRY_RUN if request.dry_run else DeployRecord.Action.DEPLOY
    manifests = manifests_for(saved, request.namespace)
    return _send(_new_record(saved, saved.name, saved.revision, action, request, user, manifests), manifests, request)


def redeploy(previous: DeployRecord, user: str, force: bool = False) -> DeployRecord:
    """Sends exactly the manifests of an earlier deploy again, to the same place."""
    if previous.action != DeployRecord.Action.DEPLOY:
        raise DeployRefused("only a deploy can be sent again (not a dry run or an undeploy)")
    request = DeployRequest(previous.context, previous.namespace, force=force)
    manifests = load_documents(previous.manifest_yaml)
    record = _new_record(previous.composition, previous.composition_name, previous.revision,
                         DeployRecord.Action.DEPLOY, request, user, manifests)
    return _send(record, manifests, request)


def _send(record: DeployRecord, manifests: list[dict[str, Any]], request: DeployRequest) -> DeployRecord:
    try:
        if request.create_namespace and not request.dry_run:
            cluster.create_namespace(request.context, request.namespace)
        results = cluster.apply_manifests(
            request.context, request.namespace, manifests, dry_run=request.dry_run, force=request.force
        )
    except cluster.ClusterError as error:
        return _failed(record, error)
    return _finished(record, results, success="", dry_run=request.dry_run)


def _finished(record: DeployRecord, results: list[cluster.ObjectResult], success: str,
              dry_run: bool = False) -> DeployRecord:
    """Records the per-object results; `success` replaces the summary when everything worked."""
    record.results = result_dicts(results)
    record.outcome = _outcome(results)
    done = "Deleted" if record.action == DeployRecord.Action.UNDEPLOY else "Applied"
    record.message = success if success and record.succeeded else _summary(results, dry_run, done)
    failed = next((r for r in results if r.outcome == "failed"), None)
    record.error_kind = (failed.error_kind or "") if failed else ""
    record.save()
    return record


def _failed(record: DeployRecord, error: cluster.ClusterError) -> DeployRecord:
    record.outcome = Outcome.FAILED
    record.message = error.message
    record.error_kind = error.kind
    record.results = []
    record.save()
    return record


def recreate(saved: SavedComposition, request: DeployRequest, user: str) -> DeployRecord:
    """The way out of an immutable-field error: delete the bare Pod and apply it again."""
    request.validate()
    manifests = manifests_for(saved, request.namespace)
    record = _new_record(saved, saved.name, saved.revision, DeployRecord.Action.DEPLOY, request, user, manifests)
    pod = manifests[-1]
    if pod.get("kind") != "Pod":
        raise DeployRefused("only a bare Pod is deleted and recreated; a Deployment rolls out by itself")
    try:
        companions = cluster.apply_manifests(request.context, request.namespace, manifests[:-1])
        if not all(result.ok for result in companions):
            return _finished(record, companions, success="")
        results = [*companions, cluster.recreate_pod(request.context, request.namespace, pod)]
    except cluster.ClusterError as error:
        return _failed(record, error)
    return _finished(record, results, success="Deleted the Pod and created it again.")


def undeploy(deployed: DeployRecord, user: str) -> DeployRecord:
    """Deletes every object a deploy sent, the workload first."""
    if deployed.action != DeployRecord.Action.DEPLOY:
        raise DeployRefused("only a deploy can be undeployed (not a dry run or an undeploy)")
    documents = load_documents(deployed.manifest_yaml)
    refs = [(d["apiVersion"], d["kind"], d["metadata"]["name"]) for d in reversed(documents)]
    request = DeployRequest(deployed.context, deployed.namespace)
    record = _new_record(deployed.composition, deployed.composition_name, deployed.revision,
                         DeployRecord.Action.UNDEPLOY, request, user, documents)
    record.undeploy_of = deployed
    try:
        results = cluster.delete_objects(deployed.context, deployed.namespace, refs)
    except cluster.ClusterError as error:
        return _failed(record, error)
    return _finished(record, results, success="Deleted every object of that deploy.")
