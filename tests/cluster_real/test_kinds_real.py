"""Every workload kind with a Pod template, deployed through Pod Studio's HTTP API to the real local
control plane and watched through its runtime API: StatefulSet, DaemonSet, ReplicaSet, Job, CronJob.

Each composition is an example made another kind with ``edits.change_kind`` (tests/support/kinds.py).
kubectl (the server's version, as the admin) checks what the server stores; Pod Studio's status and
logs API what a user sees: the objects as rendered, a second deploy "unchanged", an empty diff, the
right Pods in the right order (a StatefulSet's by ordinal, a DaemonSet's one per node, a Job's with its
progress, a CronJob's across its Jobs), a Job Pod's log, and an undeploy that takes the Pods too.

kwok plays the kubelet: it completes a Job's Pods (its pod-complete stage) a moment after they run;
annotations hold a Pod until the test releases it, so every Job state is reached on purpose.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest

from composer.domain.cron import next_run
from composer.domain.render import render
from composer.models import DeployRecord
from tests.support.kinds import (
    CONTAINER_FAILS,
    HOLD_JOB_POD,
    api_deploy,
    api_diff,
    api_status,
    extra_node_fixture,  # noqa: F401 (the fixture ``extra_node``)
    kind_composition,
    kubectl,
    kubectl_json,
    names,
    release,
    saved,
    status_when,
    wait_until,
)
from tests.support.realruntime import (
    IMAGE_PULL_FAILS,
    Cluster,
    cluster_fixture,  # noqa: F401 (the fixture ``cluster``)
)

pytestmark = pytest.mark.django_db


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------


def deployed(client, cluster: Cluster, composition) -> tuple[Any, dict[str, Any]]:
    """Save, deploy through the API (201), and check the second deploy changes nothing and the diff is
    empty; (the saved composition, the first deploy's record as JSON)."""
    stored = saved(composition)
    first = api_deploy(client, stored, cluster.namespace)
    assert first.status_code == 201, first.json()
    assert {r["outcome"] for r in first.json()["results"]} == {"created"}, first.json()["results"]
    again = api_deploy(client, stored, cluster.namespace)
    assert again.status_code == 201, again.json()
    assert [(r["kind"], r["outcome"]) for r in again.json()["results"]] == [
        (r["kind"], "unchanged") for r in first.json()["results"]]
    diffs = api_diff(client, stored, cluster.namespace)
    assert {key: d["diff"] for key, d in diffs.items() if d["changed"]} == {}
    return stored, first.json()


def rendered(stored, kind: str) -> dict[str, Any]:
    return next(m for m in render(stored.composition()) if m["kind"] == kind)


def undeploy(client, cluster: Cluster, record: dict[str, Any], *selector: str) -> None:
    """Undeploy through the API; every object deleted, and the garbage collector takes the Pods."""
    response = client.delete(f"/api/v1/deployments/{record['id']}")
    assert response.status_code == 201, response.json()
    assert {r["outcome"] for r in response.json()["results"]} == {"deleted"}
    wait_until(lambda: names(cluster.cp, cluster.namespace, "pods", *selector) == [], "the Pods gone")


def pod_names(body: dict[str, Any]) -> list[str]:
    return [p["name"] for p in body["pods"]]


def log_text(client, record_id: int, pod: str, container: str) -> str:
    response = client.get(f"/api/v1/deployments/{record_id}/logs", {"pod": pod, "container": container})
    assert response.status_code == 200, response.content
    return b"".join(response.streaming_content).decode()


# ---------------------------------------------------------------------------
# Dry runs store nothing, for every kind
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob"])
def test_a_dry_run_of_each_kind_is_accepted_and_stores_nothing(client, cluster: Cluster, kind: str) -> None:
    stored = saved(kind_composition(kind))
    response = api_deploy(client, stored, cluster.namespace, dry_run=True)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["message"] == "Dry run passed: the server accepted every object."
    assert body["results"][-1]["kind"] == kind and body["results"][-1]["uid"] is None
    assert names(cluster.cp, cluster.namespace, kind.lower()) == []


# ---------------------------------------------------------------------------
# StatefulSet: ordinals in order, OrderedReady
# ---------------------------------------------------------------------------


def test_a_statefulset_runs_its_ordinal_pods_and_is_shown_in_ordinal_order(client, cluster: Cluster) -> None:
    stored, record = deployed(client, cluster, kind_composition("StatefulSet", replicas=3))

    live = kubectl_json(cluster.cp, cluster.namespace, "statefulset", "hello-web")
    sent = rendered(stored, "StatefulSet")
    assert (live["spec"]["replicas"], live["spec"]["serviceName"]) == (3, "hello-web")
    assert live["spec"]["podManagementPolicy"] == "OrderedReady"  # the server's default
    assert live["spec"]["selector"] == sent["spec"]["selector"]
    assert [c["name"] for c in live["spec"]["template"]["spec"]["initContainers"]] == ["write-page"]
    # change_kind gave it its headless Service: each Pod's DNS name is <pod>.hello-web.
    assert kubectl_json(cluster.cp, cluster.namespace, "service", "hello-web")["spec"]["clusterIP"] == "None"

    body = status_when(client, record["id"], lambda b: len(b["pods"]) == 3 and all(p["ready"] for p in b["pods"]),
                       "three ready Pods")
    assert pod_names(body) == ["hello-web-0", "hello-web-1", "hello-web-2"]
    assert all(p["owner"] == "StatefulSet hello-web" for p in body["pods"])
    state = body["workload"]["state"]
    assert state["summary"] == ("StatefulSet 'hello-web': 3 of 3 Pods ready (hello-web-0 … hello-web-2), started "
                                "one by one in order, each once the one before is Running and Ready (OrderedReady).")
    assert (state["replicas"], state["ready"], state["waiting"], state["notes"]) == (3, 3, None, [])
    # The ordinals came up one after another: each Pod was created after the one before was Ready.
    created = [kubectl_json(cluster.cp, cluster.namespace, "pod", name)["metadata"]["creationTimestamp"]
               for name in pod_names(body)]
    assert created == sorted(created)

    undeploy(client, cluster, record, "-l", "app=hello-web")


def test_ordered_ready_says_which_pod_waits_for_which(client, cluster: Cluster) -> None:
    """hello-web-0's image cannot be pulled (our kwok stage): it never gets Ready, so the StatefulSet
    controller never creates hello-web-1 (OrderedReady), and the status says so."""
    composition = kind_composition("StatefulSet", replicas=2, labels={IMAGE_PULL_FAILS: "true"})
    _, record = deployed(client, cluster, composition)

    body = status_when(client, record["id"], lambda b: b["blocked"], "hello-web-0 blocked")
    assert pod_names(body) == ["hello-web-0"]
    assert body["blocked"][0]["reason"] == "ImagePullBackOff"
    state = body["workload"]["state"]
    assert state["waiting"] == {"pod": "hello-web-1", "for": "hello-web-0"}
    assert state["notes"] == ["Pod 'hello-web-1' waits for 'hello-web-0' to be Running and Ready: OrderedReady "
                              "starts the Pods one by one."]
    assert names(cluster.cp, cluster.namespace, "pods") == ["hello-web-0"]  # the server agrees


# ---------------------------------------------------------------------------
# DaemonSet: one Pod per node
# ---------------------------------------------------------------------------


def test_a_daemonset_runs_one_pod_per_node_and_shows_each_node(client, cluster: Cluster, extra_node: str) -> None:
    stored, record = deployed(client, cluster, kind_composition("DaemonSet"))

    live = kubectl_json(cluster.cp, cluster.namespace, "daemonset", "timecheck")
    assert live["spec"]["template"]["spec"]["tolerations"] == rendered(stored, "DaemonSet")["spec"]["template"][
        "spec"]["tolerations"]
    body = status_when(client, record["id"], lambda b: len(b["pods"]) == 2 and all(p["ready"] for p in b["pods"]),
                       "a ready Pod on each node")
    nodes = sorted(["localhost", extra_node])
    assert [p["node"] for p in body["pods"]] == nodes  # by node
    by_kubectl = kubectl_json(cluster.cp, cluster.namespace, "pods")["items"]
    assert {p["metadata"]["name"]: p["spec"]["nodeName"] for p in by_kubectl} == {
        p["name"]: p["node"] for p in body["pods"]}
    state = body["workload"]["state"]
    assert state["summary"] == f"DaemonSet 'timecheck': 2 of 2 nodes run a ready Pod (on {', '.join(nodes)})."
    assert (state["desired"], state["ready"], state["nodes"]) == (2, 2, nodes)
    # Each Pod's log is read from its own node (kwok serves both).
    for pod in body["pods"]:
        assert "kwok simulates this container" in log_text(client, record["id"], pod["name"], "app")

    undeploy(client, cluster, record)


# ---------------------------------------------------------------------------
# ReplicaSet
# ---------------------------------------------------------------------------


def test_a_replicaset_runs_its_replicas(client, cluster: Cluster) -> None:
    stored, record = deployed(client, cluster, kind_composition("ReplicaSet", replicas=2))

    live = kubectl_json(cluster.cp, cluster.namespace, "replicaset", "merged-config")
    assert live["spec"]["replicas"] == 2
    assert live["spec"]["selector"] == rendered(stored, "ReplicaSet")["spec"]["selector"]
    assert names(cluster.cp, cluster.namespace, "configmaps", "merged-config-merge-config")
    body = status_when(client, record["id"], lambda b: len(b["pods"]) == 2 and all(p["ready"] for p in b["pods"]),
                       "two ready replicas")
    assert sorted(pod_names(body)) == names(cluster.cp, cluster.namespace, "pods")
    assert {p["owner"] for p in body["pods"]} == {"ReplicaSet merged-config"}
    assert body["workload"]["state"]["summary"] == "ReplicaSet 'merged-config': 2 of 2 replicas ready, 2 available."

    undeploy(client, cluster, record)
    assert "merged-config-merge-config" not in names(cluster.cp, cluster.namespace, "configmaps")


# ---------------------------------------------------------------------------
# Job: its Pods, its progress, its logs, immutable, undeploy
# ---------------------------------------------------------------------------


def held_pods(cluster: Cluster, job: str) -> list[str]:
    """The Job's Pods that kwok runs and holds (HOLD_JOB_POD), not yet completed."""
    pods = kubectl_json(cluster.cp, cluster.namespace, "pods", "-l", f"batch.kubernetes.io/job-name={job}")["items"]
    return [p["metadata"]["name"] for p in pods if p["status"].get("phase") == "Running"]


def test_a_job_shows_its_pods_and_its_progress_until_it_is_complete(client, cluster: Cluster) -> None:
    composition = kind_composition("Job", annotations=HOLD_JOB_POD, completions=2, parallelism=1)
    stored, record = deployed(client, cluster, composition)

    live = kubectl_json(cluster.cp, cluster.namespace, "job", "hello-web")
    assert (live["spec"]["completions"], live["spec"]["parallelism"]) == (2, 1)
    assert live["spec"]["template"]["spec"]["restartPolicy"] == "Never"  # change_kind's
    # The server generated the selector (a controller uid) and labelled the Pod template with it.
    assert list(live["spec"]["selector"]["matchLabels"]) == ["batch.kubernetes.io/controller-uid"]
    assert "selector" not in rendered(stored, "Job")["spec"]

    [first] = wait_until(lambda: held_pods(cluster, "hello-web"), "the first Pod running")
    body = status_when(client, record["id"], lambda b: b["workload"]["state"]["active"] == 1, "one active")
    assert body["workload"]["selector"] == "batch.kubernetes.io/job-name=hello-web"
    assert pod_names(body) == [first]
    state = body["workload"]["state"]
    assert state["summary"] == "Job 'hello-web': Running: 0 of 2 completions succeeded, 1 active, 0 failed."
    assert (state["state"], state["completions"], state["succeeded"]) == ("running", 2, 0)

    release(cluster.cp, cluster.namespace, first)
    [second] = wait_until(lambda: [p for p in held_pods(cluster, "hello-web") if p != first], "the second Pod")
    body = status_when(client, record["id"], lambda b: b["workload"]["state"]["succeeded"] == 1 and
                       b["workload"]["state"]["active"] == 1, "one succeeded, one active")
    assert pod_names(body) == [second, first]  # newest first
    assert [p["phase"] for p in body["pods"]] == ["Running", "Succeeded"]
    assert body["workload"]["state"]["progress"] == "1 of 2 completions succeeded, 1 active, 0 failed"

    release(cluster.cp, cluster.namespace, second)
    body = status_when(client, record["id"], lambda b: b["workload"]["state"]["state"] == "complete", "complete")
    assert [(p["phase"], p["status"], p["ready"]) for p in body["pods"]] == [("Succeeded", "Completed", False)] * 2
    assert body["blocked"] == []
    state = body["workload"]["state"]
    assert re.fullmatch(r"Job 'hello-web': Complete in \d+ s: 2 of 2 completions succeeded, 0 active, 0 failed\.",
                        state["summary"]), state["summary"]
    assert kubectl(cluster.cp, "-n", cluster.namespace, "get", "job", "hello-web", "-o",
                   "jsonpath={.status.succeeded}").stdout == "2"

    # The log of a finished Job Pod, its init container's too.
    cluster.set_logs(first, {"app": ["served /index.html", "done"], "write-page": ["wrote index.html"]})
    assert log_text(client, record["id"], first, "app").splitlines() == ["served /index.html", "done"]
    assert log_text(client, record["id"], first, "write-page").splitlines() == ["wrote index.html"]

    undeploy(client, cluster, record, "-l", "batch.kubernetes.io/job-name=hello-web")
    assert names(cluster.cp, cluster.namespace, "jobs") == []


def test_a_job_that_fails_says_why(client, cluster: Cluster) -> None:
    """Its container exits 1 (kwok's chaos stage) and the back-off limit is 0: the Job fails."""
    composition = kind_composition("Job", labels={CONTAINER_FAILS: "true"}, backoffLimit=0)
    _, record = deployed(client, cluster, composition)

    # Found on the real server: FailureTarget comes first (the Job is failing, its Pods being stopped,
    # status.failed maybe not counted yet), then Failed.
    body = status_when(client, record["id"], lambda b: b["workload"]["state"]["state"] in ("failing", "failed"),
                       "failing")
    if body["workload"]["state"]["state"] == "failing":
        assert body["workload"]["state"]["summary"].startswith("Job 'hello-web': Failing (BackoffLimitExceeded): ")
        assert body["workload"]["state"]["summary"].endswith(" Its Pods are being stopped.")
    body = status_when(client, record["id"], lambda b: b["workload"]["state"]["state"] == "failed", "failed")
    state = body["workload"]["state"]
    assert (state["reason"], state["failed"], state["succeeded"]) == ("BackoffLimitExceeded", 1, 0)
    assert state["summary"] == ("Job 'hello-web': Failed (BackoffLimitExceeded): Job has reached the specified "
                                "backoff limit. 0 of 1 completion succeeded, 0 active, 1 failed.")
    [pod] = body["pods"]
    [blocked] = body["blocked"]
    assert pod["phase"] == "Failed" and (blocked["exit_code"], blocked["stopped"]) == (1, True)
    page = client.get(f"/deployments/{record['id']}/runtime/status").content.decode()
    assert "<strong>Pod failed:</strong>" in page and "Rollout blocked" not in page  # no rollout waits on it


def test_a_changed_job_is_refused_as_immutable_and_recreate_replaces_it_with_its_pods(
    client, cluster: Cluster
) -> None:
    stored, record = deployed(client, cluster, kind_composition("Job"))
    wait_until(lambda: kubectl(cluster.cp, "-n", cluster.namespace, "get", "job", "hello-web", "-o",
                               "jsonpath={.status.succeeded}").stdout == "1", "the Job complete")
    old_uid = kubectl_json(cluster.cp, cluster.namespace, "job", "hello-web")["metadata"]["uid"]
    [old_pod] = names(cluster.cp, cluster.namespace, "pods")
    composition = stored.composition()
    composition.app.image = "nginx:1.28"
    stored.record(composition, "newer nginx")

    refused = api_deploy(client, stored, cluster.namespace)

    assert refused.status_code == 422, refused.json()
    body = refused.json()
    assert (body["outcome"], body["error_kind"]) == ("failed", "immutable")
    assert body["results"][-1]["message"] == (
        "Job 'hello-web': spec.template cannot be changed once created. Delete and recreate the Job to apply "
        "this change.")
    diff = api_diff(client, stored, cluster.namespace)["Job/hello-web"]
    assert diff["refusal"] == body["results"][-1]["message"]
    changed = [line for line in diff["diff"].splitlines()[2:] if line[:1] in "+-"]
    assert changed == ["-      - image: nginx:1.27", "+      - image: nginx:1.28"]  # nothing the server added

    # The deploy panel offers to recreate the Job, and doing so replaces the Job and its Pods.
    form = {"context": cluster.context, "namespace": cluster.namespace}
    page = client.post(f"/c/{stored.pk}/deploy", {**form, "action": "deploy"}, HTTP_HX_REQUEST="true")
    html = page.content.decode()
    assert "Delete and recreate the Job" in html and "A Job's Pod template, selector and completions are fixed" in html
    recreated = client.post(f"/c/{stored.pk}/deploy", {**form, "action": "recreate"}, HTTP_HX_REQUEST="true")
    assert "Deploy succeeded" in recreated.content.decode()
    assert "Deleted the Job (and its Pods) and created it again." in recreated.content.decode()
    live = kubectl_json(cluster.cp, cluster.namespace, "job", "hello-web")
    assert live["metadata"]["uid"] != old_uid
    assert live["spec"]["template"]["spec"]["containers"][-1]["image"] == "nginx:1.28"
    new_pods = wait_until(lambda: names(cluster.cp, cluster.namespace, "pods"), "the new Job's Pod")
    assert old_pod not in new_pods  # deleted in the foreground: gone before the new Job was made
    assert DeployRecord.objects.filter(action="deploy", outcome="succeeded").count() == 3


# ---------------------------------------------------------------------------
# CronJob: its schedule, its Jobs, their Pods
# ---------------------------------------------------------------------------


NEVER_SOON = "0 0 1 1 *"  # midnight on New Year's Day: not during a test run (unless it starts then)


def test_a_cronjob_that_has_not_run_says_when_it_will_then_shows_the_pods_of_its_jobs(
    client, cluster: Cluster
) -> None:
    stored, record = deployed(client, cluster, kind_composition("CronJob", schedule=NEVER_SOON))

    live = kubectl_json(cluster.cp, cluster.namespace, "cronjob", "merged-config")
    assert live["spec"]["schedule"] == NEVER_SOON
    template = live["spec"]["jobTemplate"]["spec"]["template"]
    assert template["spec"]["restartPolicy"] == "Never"
    sent = rendered(stored, "CronJob")["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    assert [v["name"] for v in template["spec"]["volumes"]] == [v["name"] for v in sent["volumes"]]
    assert [c["name"] for c in template["spec"]["initContainers"]] == [c["name"] for c in sent["initContainers"]]

    body = api_status(client, record["id"])
    assert body["pods"] == [] and body["blocked"] == []
    state = body["workload"]["state"]
    upcoming = next_run(NEVER_SOON, _now())
    assert state["summary"] == (f"CronJob 'merged-config' has not run yet: it waits for its schedule '{NEVER_SOON}'; "
                                f"the next Job starts at {upcoming:%Y-%m-%d %H:%M} UTC.")
    assert state["no_pods"] == state["summary"]
    assert (state["last_schedule"], state["active_jobs"], state["jobs"]) == (None, [], [])

    # What `kubectl create job --from=cronjob/…` does: a Job of the CronJob's template, owned by it.
    kubectl(cluster.cp, "-n", cluster.namespace, "create", "job", "--from=cronjob/merged-config", "by-hand")
    body = status_when(client, record["id"], lambda b: b["pods"] and b["workload"]["state"]["jobs"] and
                       b["workload"]["state"]["jobs"][0]["state"] == "complete", "the Job's Pod, complete")
    [pod] = body["pods"]
    assert pod["name"].startswith("by-hand-") and pod["owner"] == "Job by-hand" and pod["phase"] == "Succeeded"
    [run] = body["workload"]["state"]["jobs"]
    assert (run["name"], run["manual"], run["succeeded"], run["completions"]) == ("by-hand", True, 1, 1)
    assert body["workload"]["state"]["summary"].startswith(
        f"CronJob 'merged-config' runs on schedule '{NEVER_SOON}': not started by its schedule yet; no Job running now")
    cluster.set_logs(pod["name"], {"app": ["merged 2 files"]})
    assert log_text(client, record["id"], pod["name"], "app") == "merged 2 files\n"

    # Its schedule and job template change in place (for the Jobs it starts next).
    composition = stored.composition()
    composition.workload.extra["schedule"] = "0 0 2 1 *"
    composition.app.image = "busybox:1.37"
    stored.record(composition, "later, newer")
    changed = api_deploy(client, stored, cluster.namespace)
    assert changed.status_code == 201, changed.json()
    assert changed.json()["results"][-1]["outcome"] == "configured"
    live = kubectl_json(cluster.cp, cluster.namespace, "cronjob", "merged-config")
    assert live["spec"]["schedule"] == "0 0 2 1 *"
    assert live["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["image"] == "busybox:1.37"

    undeploy(client, cluster, record)
    assert names(cluster.cp, cluster.namespace, "jobs") == []


def test_a_cronjob_on_its_schedule_runs_jobs_named_after_it(client, cluster: Cluster) -> None:
    """The one test that waits for the clock: a schedule of every minute fires within 60 s."""
    _, record = deployed(client, cluster, kind_composition("CronJob", schedule="* * * * *",
                                                           concurrencyPolicy="Forbid"))
    kubectl(cluster.cp, "-n", cluster.namespace, "create", "job", "--from=cronjob/merged-config", "by-hand")

    body = status_when(client, record["id"], lambda b: b["workload"]["state"]["last_schedule"] and len(b["pods"]) == 2,
                       "a scheduled Job's Pod beside the hand-made one's", timeout=100)
    state = body["workload"]["state"]
    scheduled = next(run for run in state["jobs"] if not run["manual"])
    assert re.fullmatch(r"merged-config-\d+", scheduled["name"]), scheduled["name"]
    assert scheduled["scheduled"] == state["last_schedule"]
    assert {p["owner"] for p in body["pods"]} == {f"Job {scheduled['name']}", "Job by-hand"}
    assert pod_names(body)[0].startswith(scheduled["name"] + "-")  # the newest Job's Pod first
    assert f"last scheduled at {state['last_schedule'][:10]}" in state["summary"]
    assert state["summary"].endswith(f"; the next Job starts at {state['next_run'][:10]} "
                                     f"{state['next_run'][11:16]} UTC.")
    assert names(cluster.cp, cluster.namespace, "jobs") == sorted(run["name"] for run in state["jobs"])


def _now() -> datetime:
    return datetime.now(UTC)
