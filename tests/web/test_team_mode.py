"""Team mode: login for everything, API tokens, per-context permissions, attribution and audit."""

import csv
import io

import pytest
from django.core.management import call_command

from composer.domain.examples import EXAMPLES_BY_ID
from composer.models import DeployRecord, SavedComposition
from tests.support.faultproxy import wait_for
from tests.support.users import grant

pytestmark = pytest.mark.usefixtures("team")


def test_anonymous_visitors_are_sent_to_log_in(client, db):
    page = client.get("/")
    assert page.status_code == 302 and page.url.startswith("/accounts/login/")
    api = client.get("/api/v1/patterns")
    assert api.status_code == 401 and "API token" in api.json()["error"]
    htmx = client.post("/c/1/helpers/add", {"pattern": "sysctl"}, HTTP_HX_REQUEST="true")
    assert htmx.status_code == 200 and htmx["HX-Redirect"].startswith("/accounts/login/")
    assert client.get("/healthz").content == b"ok\n"
    assert client.get("/accounts/login/").status_code == 200


def test_login_then_people_see_only_their_own_compositions(client, alice, bob):
    theirs = SavedComposition.create(EXAMPLES_BY_ID["log-tailer"].build(), owner=bob)
    assert client.login(username="alice", password="wonderland-42")
    client.post("/new", {"name": "mine", "image": "nginx:1.27"})
    mine = SavedComposition.objects.get(owner=alice)
    home = client.get("/").content.decode()
    assert mine.get_absolute_url() in home and theirs.get_absolute_url() not in home
    assert client.get(theirs.get_absolute_url()).status_code == 404
    edit = client.post(f"/c/{theirs.pk}/helpers/add", {"pattern": "sysctl"}, HTTP_HX_REQUEST="true")
    assert edit.status_code == 404
    assert client.get(f"/api/v1/compositions/{theirs.pk}").status_code == 404
    assert client.delete(f"/api/v1/compositions/{theirs.pk}").status_code == 404
    theirs.refresh_from_db()
    assert theirs.revision == 1


def test_api_tokens_authenticate_scripts_and_bad_ones_are_refused(client, alice):
    out = io.StringIO()
    call_command("createapitoken", "alice", "ci", stdout=out)
    token = out.getvalue().strip()
    assert token.startswith("ps_")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    created = client.post("/api/v1/compositions", "{}", content_type="application/json", **auth)
    assert created.status_code == 201
    assert SavedComposition.objects.get().owner == alice
    bad = client.get("/api/v1/compositions", HTTP_AUTHORIZATION="Bearer ps_nope")
    assert bad.status_code == 401 and "unknown or revoked" in bad.json()["error"]
    alice.is_active = False
    alice.save()
    assert client.get("/api/v1/compositions", **auth).status_code == 401


def test_context_permissions_gate_view_dry_run_deploy_and_undeploy(client, alice, control_plane, real_target):
    client.login(username="alice", password="wonderland-42")
    saved = SavedComposition.create(EXAMPLES_BY_ID["log-tailer"].build(), owner=alice)
    context, namespace = real_target.context, real_target.namespace
    body = {"context": context, "namespace": namespace}
    url = f"/api/v1/compositions/{saved.pk}/deploy"

    assert client.get("/api/v1/contexts").json()["contexts"] == []
    refused = client.post(url, {**body, "dry_run": True}, content_type="application/json")
    assert refused.status_code == 403
    assert f"alice may not dry-run in namespace '{namespace}' of context '{context}'" in refused.json()["error"]

    grant(alice, context, can_view=True, can_dry_run=True)
    # The kubeconfig has a second context (local-limited): a rule for one context shows only that one.
    assert [c["name"] for c in client.get("/api/v1/contexts").json()["contexts"]] == [context]
    assert client.post(url, {**body, "dry_run": True}, content_type="application/json").status_code == 201
    assert real_target.live("Pod", "timecheck") is None
    assert client.post(url, body, content_type="application/json").status_code == 403
    panel = client.post(f"/c/{saved.pk}/deploy", {**body, "action": "deploy"}, HTTP_HX_REQUEST="true")
    assert panel.status_code == 403 and "may not deploy" in panel.content.decode()
    assert real_target.live("Pod", "timecheck") is None

    grant(alice, context, can_deploy=True)
    deployed = client.post(url, body, content_type="application/json")
    assert deployed.status_code == 201 and deployed.json()["user"] == "alice"
    pod = real_target.live("Pod", "timecheck")
    assert pod is not None
    assert client.delete(f"/api/v1/deployments/{deployed.json()['id']}").status_code == 403
    assert real_target.live("Pod", "timecheck")["metadata"].get("deletionTimestamp") is None
    grant(alice, context, can_undeploy=True)
    assert client.delete(f"/api/v1/deployments/{deployed.json()['id']}").status_code == 201
    wait_for(lambda: real_target.live("Pod", "timecheck") is None, timeout=15)


def test_records_of_contexts_one_may_not_view_are_hidden(client, alice, db):
    record = DeployRecord.objects.create(
        composition_name="x", revision=1, action="deploy", context="prod", namespace="a", user="root",
        manifest_yaml="", outcome="succeeded",
    )
    client.login(username="alice", password="wonderland-42")
    assert client.get(record.get_absolute_url()).status_code == 404
    assert client.get(f"/api/v1/deployments/{record.pk}").status_code == 404
    assert "prod/a" not in client.get("/deployments/").content.decode()
    grant(alice, pattern="pro*", can_view=True)
    assert client.get(record.get_absolute_url()).status_code == 200


def test_audit_export_lists_every_attempt_with_who(client, alice, real_target):
    grant(alice, real_target.context, can_deploy=True)
    client.login(username="alice", password="wonderland-42")
    saved = SavedComposition.create(EXAMPLES_BY_ID["log-tailer"].build(), owner=alice)
    client.post(f"/c/{saved.pk}/deploy", {"context": real_target.context, "namespace": real_target.namespace,
                                          "action": "deploy"}, HTTP_HX_REQUEST="true")
    response = client.get("/deployments/export.csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert response["Content-Disposition"].startswith("attachment")
    assert [(r["action"], r["user"], r["context"], r["outcome"]) for r in rows] == [
        ("deploy", "alice", real_target.context, "succeeded")
    ]
    assert real_target.live("Pod", "timecheck") is not None


def test_pages_send_security_headers(client, alice):
    client.login(username="alice", password="wonderland-42")
    response = client.get("/")
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy and "unsafe-inline" not in policy
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
