"""The runtime page and its htmx fragments, against the stand-in API server (Django test client)."""

from __future__ import annotations

import re

import pytest

from tests.support.runtime import (
    container_status,
    deployment_manifest,
    event,
    pod_manifest,
    pod_of,
    record_for,
    running,
    terminated,
    waiting,
)

pytestmark = [pytest.mark.django_db]


def init_in_every_state(server, name="web"):
    """Init 1 done, init 2 failing in a crash loop, init 3 not started; sidecar and app waiting."""
    manifest = pod_manifest(name, init=("wait-db", "migrate", "warm-cache"), sidecars=("log-shipper",))
    server.put_object(manifest)
    server.set_pod_status("default", name, {
        "phase": "Pending",
        "podIP": "10.1.2.3",
        "conditions": [
            {"type": "PodScheduled", "status": "True"},
            {"type": "Initialized", "status": "False", "reason": "ContainersNotInitialized"},
            {"type": "Ready", "status": "False", "reason": "ContainersNotReady"},
        ],
        "initContainerStatuses": [
            container_status("wait-db", terminated(0, "Completed")),
            container_status("migrate", waiting("CrashLoopBackOff", "back-off 40s restarting failed container"),
                             restarts=3, last=terminated(1, "Error")),
            container_status("warm-cache", waiting("PodInitializing")),
            container_status("log-shipper", waiting("PodInitializing"), started=False),
        ],
        "containerStatuses": [container_status("app", waiting("PodInitializing"))],
    })
    return manifest


def page(client, record, **query):
    response = client.get(f"/deployments/{record.pk}/runtime", query)
    assert response.status_code == 200, response.content[:500]
    return response.content.decode()


def test_init_containers_in_every_state_render_in_order(client, server):
    manifest = init_in_every_state(server)
    server.add_log("default", "web", "migrate", "applying 0007_orders", "error: relation exists")
    server.put_object(event("web", "BackOff", "Back-off restarting failed container migrate", type_="Warning",
                            field_path="spec.initContainers{migrate}"))
    html = page(client, record_for(manifest))

    init_line = html.split('aria-label="Init containers of web"')[1].split("</ol>")[0]
    names = re.findall(r'data-container="([^"]+)"', init_line)
    assert names == ["wait-db", "migrate", "warm-cache", "log-shipper"]
    assert "Init 1/4" in html
    assert "exited: exit code 0 (Completed)" in init_line
    assert "waiting: CrashLoopBackOff" in init_line and "3 restarts" in init_line
    assert "last run: exit code 1 (Error)" in init_line
    assert "native sidecar" in init_line
    assert "Init:CrashLoopBackOff" in html  # the Pod's status, as kubectl shows it
    # The blocked rollout is called out on top, in words, with a link to the failing container's logs.
    blocked = html.split('class="alert alert-error blocked"')[1].split("</div>\n</div>")[0]
    assert "Init container &#x27;migrate&#x27; (step 2 of 4)" in blocked
    assert "keeps failing (CrashLoopBackOff): last run ended with exit code 1 (Error), 3 restarts" in blocked
    assert "Show the logs of migrate" in blocked
    # The log panel defaults to the failing container and shows its log.
    assert 'aria-label="Log of migrate"' in html
    assert "error: relation exists" in html
    # The event, and the Pod's facts.
    assert "Back-off restarting failed container migrate" in html
    assert "10.1.2.3" in html


def test_page_of_a_deployment_shows_every_pod_of_the_rollout(client, server):
    manifest = deployment_manifest("shop", init=(), sidecars=())
    server.put_object(manifest)
    for suffix, replica_set in (("aaaaa", "old1"), ("bbbbb", "new2")):
        server.put_object(pod_of(manifest, suffix, replica_set))
    server.set_pod_status("default", "shop-new2-bbbbb", {
        "phase": "Running", "conditions": [{"type": "Ready", "status": "True"}],
        "containerStatuses": [container_status("app", running(), ready=True)],
    })
    server.put_object(pod_manifest("unrelated", labels={"app": "other"}))
    html = page(client, record_for(manifest))
    assert "Pod <span class=\"mono\">shop-old1-aaaaa</span>" in html
    assert "Pod <span class=\"mono\">shop-new2-bbbbb</span>" in html
    assert "unrelated" not in html
    assert "ReplicaSet shop-new2" in html
    assert "2 Pods</strong>, 1 ready" in html


def test_log_panel_fragment_for_an_init_container_and_a_previous_instance(client, server):
    manifest = init_in_every_state(server)
    server.add_log("default", "web", "wait-db", "db is up")
    server.add_log("default", "web", "migrate", "second try", previous=False)
    server.add_log("default", "web", "migrate", "first try failed", previous=True)
    record = record_for(manifest)

    fragment = client.get(f"/deployments/{record.pk}/runtime/logs", {"pod": "web", "container": "wait-db"})
    html = fragment.content.decode()
    assert fragment.status_code == 200
    assert 'aria-label="Log of wait-db"' in html and "db is up" in html
    assert "(none: no restarts)" in html  # wait-db never restarted

    previous = client.get(f"/deployments/{record.pk}/runtime/logs",
                          {"pod": "web", "container": "migrate", "previous": "1", "tail": "100"}).content.decode()
    assert 'aria-label="Log of migrate (previous instance)"' in previous
    assert "first try failed" in previous and "second try" not in previous


def test_script_in_a_log_line_arrives_escaped(client, server):
    manifest = pod_manifest("web", init=(), sidecars=())
    server.put_object(manifest)
    server.set_pod_status("default", "web", {"phase": "Running",
                                             "containerStatuses": [container_status("app", terminated(0))]})
    server.add_log("default", "web", "app", '<script>alert("pwned")</script>', "\x1b[31mred\x1b[0m <b>bold?</b>")
    html = page(client, record_for(manifest))
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(\"pwned\")&lt;/script&gt;" in html
    assert '<span class="ansi-fg-red">red</span> &lt;b&gt;bold?&lt;/b&gt;' in html


def test_merged_view_tags_lines_by_container_in_time_order(client, server):
    manifest = pod_manifest("web", init=("setup",), sidecars=(), containers=("app", "proxy"))
    server.put_object(manifest)
    server.add_log("default", "web", "setup", "setup 1")
    server.add_log("default", "web", "app", "app 1")
    server.add_log("default", "web", "proxy", "proxy 1")
    server.add_log("default", "web", "app", "app 2")
    record = record_for(manifest)
    html = client.get(f"/deployments/{record.pk}/runtime/logs",
                      {"pod": "web", "container": "*", "tail": "50"}).content.decode()
    tagged = re.findall(r'<span class="tag tag-\d">([^<]+)</span>([^<]+)</div>', html)
    assert tagged == [("setup", "setup 1"), ("app", "app 1"), ("proxy", "proxy 1"), ("app", "app 2")]
    assert 'aria-label="Logs of all containers of web"' in html


def test_unreachable_cluster_is_said_in_words_without_credentials(client, server, kubeconfig_env):
    manifest = pod_manifest("web")
    record = record_for(manifest)
    server.stop()
    html = page(client, record)
    assert "The cluster cannot be reached." in html
    assert "could not be reached" in html
    assert server.token not in html
    assert "There is no Pod to read logs from yet." in html


def test_forbidden_is_explained(client, server):
    manifest = pod_manifest("web")
    server.put_object(manifest)
    server.deny("tester", "list", "pods")
    html = page(client, record_for(manifest))
    assert "<strong>Access denied.</strong>" in html
    assert "may not list pods in namespace" in html


def test_a_context_gone_from_the_kubeconfig_is_named(client, server):
    html = page(client, record_for(pod_manifest("web"), context="old-cluster"))
    assert "There is no context &#x27;old-cluster&#x27; in the kubeconfig." in html


def test_dry_runs_and_unknown_deploys_have_no_runtime_page(client, server):
    dry = record_for(pod_manifest("web"), action="dry-run")
    assert client.get(f"/deployments/{dry.pk}/runtime").status_code == 404
    assert client.get("/deployments/999/runtime").status_code == 404


def test_status_fragment_for_a_manual_refresh(client, server):
    manifest = pod_manifest("web", init=(), sidecars=())
    server.put_object(manifest)
    server.set_pod_status("default", "web", {
        "phase": "Running", "containerStatuses": [container_status("app", waiting("ImagePullBackOff",
                                                                                   "Back-off pulling image"))],
    })
    html = client.get(f"/deployments/{record_for(manifest).pk}/runtime/status").content.decode()
    assert "Rollout blocked:" in html
    assert "its image &#x27;registry.example/app:1.0&#x27; cannot be pulled (ImagePullBackOff)" in html


def test_only_full_chunks_may_be_skipped_off_screen():
    """A chunk of fewer than 100 lines would otherwise get a 100-line placeholder and look empty."""
    from composer.web.runtime.views import in_chunks

    html = in_chunks("\n".join(f'<div class="l">{n}</div>' for n in range(150)))
    assert html.count('<div class="chunk">') == 1 and html.count('<div class="chunk partial">') == 1
