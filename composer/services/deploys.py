"""Deploying a saved composition: check the user's rights, render, send through the cluster layer,
record every attempt (deploys, dry runs, diffs, undeploys).

Every use case here checks access itself (context and namespace rules, the create-namespace and
privileged rights), so the page and the API cannot drift apart: both raise `access.Refused` (403)
or `DeployRefused` (nothing sent, nothing recorded).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from composer import cluster
from composer.domain.kinds import KINDS
from composer.domain.names import dns_label_problem
from composer.domain.privilege import escalations
from composer.domain.render import render
from composer.domain.yamlio import dump_documents, load_documents
from composer.models import DeployRecord, SavedComposition
from composer.services import access
from composer.services.access import Action
from composer.services.previews import preview_of

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
        for field, name in (("context", self.context), ("namespace", self.namespace or "")):
            if any(ord(char) < 32 or ord(char) == 127 for char in name):  # C0 and DEL: NUL, tab, line breaks
                raise DeployRefused(f"the {field} name must not contain control characters (NUL, line breaks …)")
        problem = dns_label_problem(self.namespace)
        if problem:
            raise DeployRefused(f"namespace {self.namespace!r} is not a valid name: {problem}")


@dataclass(frozen=True)
class DiffResult:
    record: DeployRecord
    diffs: list[cluster.ObjectDiff] | None  # None when the diff failed: the record says why


def targets(user, composition_namespace: str) -> dict[str, Any]:
    """Where the deploy panel offers to deploy: the contexts the user may see (names and clusters only,
    never credentials), why there are none if the kubeconfig cannot be read, and the default namespace."""
    try:
        allowed = access.checker(user, Action.VIEW)
        contexts = [c for c in cluster.list_contexts() if allowed(c.name)]
        problem = ""
    except cluster.ClusterError as error:
        contexts, problem = [], error.message
    current = next((c for c in contexts if c.is_current), contexts[0] if contexts else None)
    return {
        "contexts": contexts,
        "contexts_problem": problem,
        "default_namespace": composition_namespace or (current.namespace if current else "") or "default",
    }


def last_deploy(user, saved: SavedComposition) -> DeployRecord | None:
    """The composition's newest deploy the user may see that left something running (not failed, not
    undeployed since): where its runtime view is."""
    records = access.visible_records(user).filter(
        composition=saved, action__in=[DeployRecord.Action.DEPLOY, DeployRecord.Action.UNDEPLOY],
    ).exclude(outcome=DeployRecord.Outcome.FAILED).order_by("-created", "-pk")
    newest = records.first()
    return newest if newest is not None and newest.action == DeployRecord.Action.DEPLOY else None


def manifests_for(saved: SavedComposition, namespace: str) -> list[dict[str, Any]]:
    """The rendered manifests (fresh dicts on every call), every one placed in the chosen namespace."""
    manifests = render(saved.composition())
    for manifest in manifests:
        manifest.setdefault("metadata", {})["namespace"] = namespace
    return manifests


def _require_no_errors(saved: SavedComposition) -> None:
    """The gate of a deploy: the same problems (same Kubernetes version) the composer page shows."""
    blocking = [p.message for p in preview_of(saved.composition()).problems if p.severity == "error"]
    if blocking:
        raise DeployRefused(f"fix {len(blocking)} error{'s' if len(blocking) > 1 else ''} first: {blocking[0]}")


def _require_privileges(user, context: str, namespace: str, manifests: list[dict[str, Any]]) -> None:
    """Fields that give a Pod power over its node need their own right (docs/operations.md)."""
    found = escalations(manifests)
    if found and not access.may(user, Action.RUN_PRIVILEGED, context, namespace):
        more = f" and {len(found) - 1} more" if len(found) > 1 else ""
        raise access.Refused(access.refusal(user, Action.RUN_PRIVILEGED, context, namespace,
                                            reason=f"the workload sets {found[0]}{more}"))


def _checked(user, request: DeployRequest, action: Action, manifests: list[dict[str, Any]]) -> None:
    request.validate()
    access.require(user, action, request.context, request.namespace)
    if request.create_namespace and not request.dry_run:
        access.require(user, Action.CREATE_NAMESPACE, request.context, request.namespace)
    _require_privileges(user, request.context, request.namespace, manifests)


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
    if failed.details.get("request_sent") and not dry_run:
        when = "after Pod Studio stopped waiting" if failed.error_kind == "timeout" else "before the connection broke"
        parts.append(f"The change may have been applied {when}; deploying again is safe "
                     "(server-side apply does not apply the same change twice).")
    if applied:
        parts.append(f"{done} before it: {', '.join(applied)}.")
    if skipped:
        parts.append(f"Not attempted: {', '.join(skipped)}.")
    return " ".join(parts)


def result_dicts(results: list[cluster.ObjectResult]) -> list[dict[str, Any]]:
    return [{k: v for k, v in asdict(r).items() if k != "object"} for r in results]


def _new_record(saved: SavedComposition | None, name: str, revision: int, action: str, request: DeployRequest,
                user, manifests: list[dict[str, Any]]) -> DeployRecord:
    return DeployRecord(
        composition=saved, composition_name=name, revision=revision, action=action, context=request.context,
        namespace=request.namespace, user=access.user_name(user), manifest_yaml=dump_documents(manifests),
        force=request.force,
    )


def deploy(saved: SavedComposition, request: DeployRequest, user) -> DeployRecord:
    """Sends the composition (or a server dry run of it) and records what happened."""
    manifests = manifests_for(saved, request.namespace)
    _checked(user, request, Action.DRY_RUN if request.dry_run else Action.DEPLOY, manifests)
    if not request.dry_run:
        _require_no_errors(saved)
    action = DeployRecord.Action.DRY_RUN if request.dry_run else DeployRecord.Action.DEPLOY
    return _send(_new_record(saved, saved.name, saved.revision, action, request, user, manifests), manifests, request)


def diff(saved: SavedComposition, request: DeployRequest, user) -> DiffResult:
    """What a deploy would change, against the live objects; recorded in the audit trail like a dry run."""
    manifests = manifests_for(saved, request.namespace)
    _checked(user, request, Action.DRY_RUN, manifests)
    record = _new_record(saved, saved.name, saved.revision, DeployRecord.Action.DIFF, request, user, manifests)
    try:
        diffs = cluster.diff_manifests(request.context, request.namespace, manifests, force=request.force)
    except cluster.ClusterError as error:
        return DiffResult(_failed(record, error), None)
    changed = [d for d in diffs if d.changed]
    record.outcome = Outcome.SUCCEEDED
    record.message = (f"{len(changed)} of {len(diffs)} objects would change." if changed
                      else "No changes: the cluster already runs this.")
    record.results = [_diff_result(d) for d in diffs]
    record.save()
    return DiffResult(record, diffs)


def _diff_result(diff: cluster.ObjectDiff) -> dict[str, Any]:
    """One object of a diff, shaped like a deploy's result so that records read alike."""
    outcome = "new" if diff.is_new else "changed" if diff.changed else "unchanged"
    message = diff.refusal or {"new": "would be created", "changed": "would change",
                               "unchanged": "no change"}[outcome]
    return {"kind": diff.kind, "name": diff.name, "namespace": diff.namespace, "outcome": outcome,
            "message": message}


def redeploy(previous: DeployRecord, user, force: bool = False) -> DeployRecord:
    """Sends exactly the manifests of an earlier deploy again, to the same place."""
    if previous.action != DeployRecord.Action.DEPLOY:
        raise DeployRefused("only a deploy can be sent again (not a dry run, a diff or an undeploy)")
    request = DeployRequest(previous.context, previous.namespace, force=force)
    manifests = load_documents(previous.manifest_yaml)
    if any(m.get("kind") == "Secret" for m in manifests):
        raise DeployRefused("this deploy carried a Secret, which Pod Studio no longer sends: deploy the "
                            "composition again instead (create the Secret in the cluster)")
    _checked(user, request, Action.DEPLOY, manifests)
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


def recreate(saved: SavedComposition, request: DeployRequest, user) -> DeployRecord:
    """The way out of an immutable-field error: delete the workload (a Pod, or a Job with its Pods …) and
    apply it again.

    Deleting needs the undeploy right, and the composition passes the same gate as a deploy."""
    manifests = manifests_for(saved, request.namespace)
    _checked(user, request, Action.DEPLOY, manifests)
    access.require(user, Action.UNDEPLOY, request.context, request.namespace)
    _require_no_errors(saved)
    record = _new_record(saved, saved.name, saved.revision, DeployRecord.Action.DEPLOY, request, user, manifests)
    workload = manifests[-1]  # render() puts the workload last
    kind = workload.get("kind")
    try:
        companions = cluster.apply_manifests(request.context, request.namespace, manifests[:-1])
        if not all(result.ok for result in companions):
            return _finished(record, companions, success="")
        results = [*companions, cluster.recreate_workload(request.context, request.namespace, workload)]
    except cluster.ClusterError as error:
        return _failed(record, error)
    gone = "the Pod" if kind == "Pod" else f"the {kind} (and its Pods)"
    return _finished(record, results, success=f"Deleted {gone} and created it again.")


def recreatable(record: DeployRecord) -> str:
    """The kind of workload that ``recreate`` would delete and apply again to get past this deploy's
    refusal ('' when the refusal was not about a field fixed once created, or not about the workload)."""
    if record.error_kind != "immutable":
        return ""
    failed = next((r for r in record.results if r.get("outcome") == "failed"), None)
    kind = (failed or {}).get("kind", "")
    return kind if kind in KINDS else ""


def applied_objects(deployed: DeployRecord) -> list[cluster.ObjectRef]:
    """The objects a deploy left in the cluster, as the server named them (workload first), or why an
    undeploy cannot know them: only these are ever deleted."""
    applied = [r for r in deployed.results if r.get("outcome") in DeployRecord.APPLIED_OUTCOMES]
    if not applied:
        raise DeployRefused("this deploy applied nothing, so there is nothing to undeploy")
    if not all(r.get("uid") and r.get("api_version") for r in applied):
        raise DeployRefused("this deploy was recorded before Pod Studio kept the uid of each object it applied, "
                            "so it cannot tell them from objects made since: delete them with kubectl")
    refs = []
    for result in reversed(applied):
        if result.get("namespace") != deployed.namespace:
            raise DeployRefused(f"{result.get('kind')} {result.get('name')!r} is recorded outside the deploy's "
                                f"namespace '{deployed.namespace}': refused")
        refs.append(cluster.ObjectRef(result["api_version"], result["kind"], result["namespace"], result["name"],
                                      result["uid"]))
    return refs


def undeploy(deployed: DeployRecord, user) -> DeployRecord:
    """Deletes exactly the objects a deploy applied (kind, namespace, name and uid), the workload first."""
    if deployed.action != DeployRecord.Action.DEPLOY:
        raise DeployRefused("only a deploy can be undeployed (not a dry run, a diff or an undeploy)")
    access.require(user, Action.UNDEPLOY, deployed.context, deployed.namespace)
    refs = applied_objects(deployed)
    request = DeployRequest(deployed.context, deployed.namespace)
    documents = load_documents(deployed.manifest_yaml)
    deleted = {(ref.kind, ref.name) for ref in refs}
    sent = [d for d in documents if (d.get("kind"), (d.get("metadata") or {}).get("name")) in deleted]
    record = _new_record(deployed.composition, deployed.composition_name, deployed.revision,
                         DeployRecord.Action.UNDEPLOY, request, user, sent)
    record.undeploy_of = deployed
    try:
        results = cluster.delete_objects(deployed.context, refs)
    except cluster.ClusterError as error:
        return _failed(record, error)
    return _finished(record, results, success="Deleted every object of that deploy.")
