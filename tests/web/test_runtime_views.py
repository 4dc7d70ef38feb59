"""The runtime page and its htmx fragments (Django test client), against the real local control
plane: Pods the real scheduler and kwok move, logs served by kwok (tests/support/realruntime.py);
an unreachable cluster through the fault-injecting proxy, stopped."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from tests.support.realruntime import (
    CRASH_LOOP,
    IMAGE_PULL_FAILS,
    INIT_FAILS,
    Cluster,
    cluster_fixture,  # noqa: F401 (the fixture ``cluster``)
    container,
    deployment,
    pod,
    write_log,
)
from tests.support.runtime import record_for, record_in

pytestmark = [pytest.mark.django_db]


def page(client, record, **query):
    response = client.get(f"/deployments/{record.pk}/runtime", query)
    assert response.status_code == 200, response.content[:500]
    return response.content.decode()


def test_init_containers_render_in_order_with_the_failing_step_called_out(client, cluster: Cluster):
    """wait-db done, a native sidecar started (stopped when the Pod failed), migrate exited 3, the app
    never started: kwok's init failure stage, restartPolicy Never."""
    manifest = cluster.create_pod(pod(
        "web",
        labels={INIT_FAILS: "true"},
        annotations={f"{INIT_FAILS}/container-name": "migrate", f"{INIT_FAILS}/exit-code": "3"},
        init=(container("wait-db"), container("log-shipper", restartPolicy="Always"), container("migrate")),
        restartPolicy="Never",
    ))
    cluster.pod_when(manifest, lambda p: p.phase == "Failed" and any(e.reason == "Scheduled" for e in p.events))
    cluster.set_logs("web", {"migrate": ["applying 0007_orders", "error: relation exists"]})
    html = page(client, record_in(cluster, manifest))

    init_line = html.split('aria-label="Init containers of web"')[1].split("</ol>")[0]
    assert re.findall(r'data-container="([^"]+)"', init_line) == ["wait-db", "log-shipper", "migrate"]
    assert "Init 2/3" in html
    done = "exited: exit code 0 (Completed)"
    assert re.findall(r'<div class="step-state">([^<]+)</div>', init_line) == [
        done, done, "exited: exit code 3 (initContainerError)"]
    assert "native sidecar" in init_line
    assert "Init:initContainerError" in html  # the Pod's status, as kubectl shows it
    assert "waiting: PodInitializing" in html  # the app
    # The failure is called out on top, in words, with a link to the failing container's logs; the Pod
    # has failed for good (restartPolicy Never), so it is no rollout waiting to go on.
    blocked = html.split('class="alert alert-error blocked"')[1].split("</div>\n</div>")[0]
    assert "<strong>Pod failed:</strong>" in blocked
    assert "Init container &#x27;migrate&#x27; (step 3 of 3)" in blocked
    assert "failed with exit code 3 (initContainerError)" in blocked
    assert "Show the logs of migrate" in blocked
    # The log panel defaults to the failing container and shows its log.
    assert 'aria-label="Log of migrate"' in html
    assert "error: relation exists" in html
    # The scheduler's Event, and the Pod's facts as kwok reported them.
    assert f"Successfully assigned {cluster.namespace}/web to localhost" in html
    pod_ip = cluster.core.read_namespaced_pod("web", cluster.namespace).status.pod_ip
    assert pod_ip and pod_ip in html


def test_page_of_a_deployment_shows_every_pod_of_the_rollout(client, cluster: Cluster):
    """A rollout stuck half-way: the new ReplicaSet's Pod crash-loops, so the old one stays (kwok has it
    ready for a moment before the loop starts: minReadySeconds keeps that from counting as available)."""
    manifest = cluster.create_deployment(deployment("shop"))
    cluster.pod_when(manifest, lambda p: p.ready)
    cluster.apps.patch_namespaced_deployment("shop", cluster.namespace, {"spec": {
        "minReadySeconds": 30, "template": {"metadata": {"labels": {CRASH_LOOP: "true"}}}}})
    cluster.create_pod(pod("unrelated", labels={"app": "other"}))

    snapshot = cluster.snapshot_when(manifest, lambda s: len(s.pods) == 2 and len({p.owner for p in s.pods}) == 2
                                     and any(p.status == "CrashLoopBackOff" for p in s.pods))
    html = page(client, record_in(cluster, manifest))
    for shop_pod in snapshot.pods:
        assert f'Pod <span class="mono">{shop_pod.name}</span>' in html
        assert shop_pod.owner in html  # "ReplicaSet shop-<hash>", the old one and the new one
    assert "unrelated" not in html
    assert "2 Pods</strong>, 1 ready" in html


def crash_looping_web(cluster: Cluster, logs: dict[str, list[str]], previous: dict[str, list[str]] | None = None
                      ) -> dict:
    manifest = cluster.create_pod(pod(
        "web",
        labels={CRASH_LOOP: "true"},
        annotations={f"{CRASH_LOOP}-container": "app", f"{CRASH_LOOP}-delay": "300ms"},
        init=(container("wait-db"),),
    ))
    cluster.pod_when(manifest, lambda p: p.container("app").restarts >= 1)
    cluster.set_logs("web", logs, previous)
    return manifest


def test_log_panel_fragment_for_an_init_container_and_a_previous_instance(client, cluster: Cluster):
    manifest = crash_looping_web(cluster, {"wait-db": ["db is up"], "app": ["second try"]},
                                 previous={"app": ["first try failed"]})
    record = record_in(cluster, manifest)

    fragment = client.get(f"/deployments/{record.pk}/runtime/logs", {"pod": "web", "container": "wait-db"})
    html = fragment.content.decode()
    assert fragment.status_code == 200
    assert 'aria-label="Log of wait-db"' in html and "db is up" in html
    assert "(none: no restarts)" in html  # wait-db never restarted

    previous = client.get(f"/deployments/{record.pk}/runtime/logs",
                          {"pod": "web", "container": "app", "previous": "1", "tail": "100"}).content.decode()
    assert 'aria-label="Log of app (previous instance)"' in previous
    assert "first try failed" in previous and "second try" not in previous


def test_a_crash_loop_shows_restarts_and_the_last_run(client, cluster: Cluster):
    manifest = crash_looping_web(cluster, {"app": ["panic: boom"]})
    html = page(client, record_in(cluster, manifest))
    blocked = html.split('class="alert alert-error blocked"')[1].split("</div>\n</div>")[0]
    failing = re.search(r"Container &#x27;app&#x27; of Pod &#x27;web&#x27; keeps failing \(CrashLoopBackOff\): "
                        r"last run ended with exit code 1 \(Error\), (\d+) restarts?", blocked)
    assert failing, blocked
    restarts = int(failing[1])
    assert restarts >= 1 and "Init 1/1" in html
    app_row = html.split('data-container-row data-pod="web" data-container="app"')[1].split("</tr>")[0]
    assert "waiting: CrashLoopBackOff" in app_row
    assert f"<td>{restarts}</td>" in app_row and "exit code 1 (Error)" in app_row  # the Last termination column
    assert 'aria-label="Log of app"' in html and "panic: boom" in html  # a failing one is read, not followed


def running_web(cluster: Cluster, containers=("app",), init=()) -> dict:
    manifest = cluster.create_pod(pod("web", init=[container(n) for n in init],
                                      containers=[container(n) for n in containers]))
    cluster.pod_when(manifest, lambda p: p.phase == "Running" and p.ready)
    return manifest


def test_script_in_a_log_line_arrives_escaped(client, cluster: Cluster):
    manifest = running_web(cluster)
    cluster.set_logs("web", {"app": ['<script>alert("pwned")</script>', "\x1b[31mred\x1b[0m <b>bold?</b>"]})
    html = page(client, record_in(cluster, manifest), container="app", tail="100")  # read, not followed
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(\"pwned\")&lt;/script&gt;" in html
    assert '<span class="ansi-fg-red">red</span> &lt;b&gt;bold?&lt;/b&gt;' in html


def test_merged_view_tags_lines_by_container_in_time_order(client, cluster: Cluster):
    manifest = running_web(cluster, containers=("app", "proxy"), init=("setup",))
    files = cluster.set_logs("web", {"setup": ["setup 1"], "app": ["app 1", "app 2"], "proxy": ["proxy 1"]})
    base = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    at = [base + dt.timedelta(milliseconds=10 * n) for n in range(4)]
    write_log(files["setup"], [(at[0], "setup 1")])  # times that interleave the containers
    write_log(files["app"], [(at[1], "app 1"), (at[3], "app 2")])
    write_log(files["proxy"], [(at[2], "proxy 1")])
    record = record_in(cluster, manifest)
    html = client.get(f"/deployments/{record.pk}/runtime/logs",
                      {"pod": "web", "container": "*", "tail": "50"}).content.decode()
    tagged = re.findall(r'<span class="tag tag-\d">([^<]+)</span>([^<]+)</div>', html)
    assert tagged == [("setup", "setup 1"), ("app", "app 1"), ("proxy", "proxy 1"), ("app", "app 2")]
    assert 'aria-label="Logs of all containers of web"' in html


def test_unreachable_cluster_is_said_in_words_without_credentials(client, fault_proxy, monkeypatch):
    monkeypatch.setenv("KUBECONFIG", str(fault_proxy.kubeconfig))
    record = record_for(pod("web"), context="faulty", namespace="default")
    fault_proxy.stop()  # nothing listens there any more
    html = page(client, record)
    assert "The cluster cannot be reached." in html
    assert "could not be reached" in html
    assert fault_proxy.token not in html
    assert "There is no Pod to read logs from yet." in html


def test_forbidden_is_explained(client, cluster: Cluster):
    """team-a-user may list Pods in namespace team-a only (real RBAC)."""
    manifest = cluster.create_pod(pod("web"))
    html = page(client, record_for(manifest, context=cluster.cp.limited_context, namespace=cluster.namespace))
    assert "<strong>Access denied.</strong>" in html
    assert f"You (user &#x27;team-a-user&#x27;) may not list pods in namespace &#x27;{cluster.namespace}" in html


def test_a_context_gone_from_the_kubeconfig_is_named(client, cluster: Cluster):
    html = page(client, record_for(pod("web"), context="old-cluster", namespace=cluster.namespace))
    assert "There is no context &#x27;old-cluster&#x27; in the kubeconfig." in html


def test_dry_runs_and_unknown_deploys_have_no_runtime_page(client):
    dry = record_for(pod("web"), action="dry-run")
    assert client.get(f"/deployments/{dry.pk}/runtime").status_code == 404
    assert client.get("/deployments/999/runtime").status_code == 404


def test_status_fragment_for_a_manual_refresh(client, cluster: Cluster):
    manifest = cluster.create_pod(pod(
        "web", labels={IMAGE_PULL_FAILS: "true"}, containers=[container("app", "registry.invalid/app:1.0")]))
    cluster.pod_when(manifest, lambda p: p.container("app").reason == "ImagePullBackOff")
    html = client.get(f"/deployments/{record_in(cluster, manifest).pk}/runtime/status").content.decode()
    assert "Rollout blocked:" in html
    assert "its image &#x27;registry.invalid/app:1.0&#x27; cannot be pulled (ImagePullBackOff)" in html


def test_only_full_chunks_may_be_skipped_off_screen():
    """A chunk of fewer than 100 lines would otherwise get a 100-line placeholder and look empty."""
    from composer.web.runtime.views import in_chunks

    html = in_chunks("\n".join(f'<div class="l">{n}</div>' for n in range(150)))
    assert html.count('<div class="chunk">') == 1 and html.count('<div class="chunk partial">') == 1
