"""htmx edits: each saves at once or explains, beside the field, why it did not."""

import yaml

from composer.models import SavedComposition


def hx_post(client, url, data=None):
    return client.post(url, data or {}, HTTP_HX_REQUEST="true")


def test_add_helper_returns_the_workspace_and_saves(client, saved):
    response = hx_post(client, f"/c/{saved.pk}/helpers/add", {"pattern": "log-tailer"})
    html = response.content.decode()
    assert response.status_code == 200 and 'id="workspace"' in html and "Added Log tailer." in html
    assert 'id="saved-state" class="saved-state" aria-live="polite" hx-swap-oob="true">Saved · r2' in html
    saved.refresh_from_db()
    assert saved.data["helpers"][0]["pattern"] == "log-tailer"


def test_unknown_pattern_is_a_422_with_a_message(client, saved):
    response = hx_post(client, f"/c/{saved.pk}/helpers/add", {"pattern": "teleporter"})
    assert response.status_code == 400 and "unknown pattern" in response.content.decode()
    saved.refresh_from_db()
    assert saved.revision == 1


def test_param_errors_come_back_beside_the_fields_and_nothing_is_saved(client, saved):
    hx_post(client, f"/c/{saved.pk}/helpers/add", {"pattern": "wait-for"})
    response = hx_post(client, f"/c/{saved.pk}/helpers/h1/params", {"name": "wait", "host": "", "port": "99999"})
    html = response.content.decode()
    assert response.status_code == 400
    assert '<span id="err-helper-h1-host" class="field-error" hx-swap-oob="true">required</span>' in html
    assert "from 1 to 65535" in html and "Not saved" in html
    saved.refresh_from_db()
    assert saved.revision == 2


def test_param_edit_updates_the_preview(client, saved):
    hx_post(client, f"/c/{saved.pk}/helpers/add", {"pattern": "wait-for"})
    response = hx_post(client, f"/c/{saved.pk}/helpers/h1/params",
                       {"name": "wait-db", "image": "busybox:1.36", "host": "db", "port": "5432", "attempts": "3"})
    html = response.content.decode()
    assert response.status_code == 200 and 'id="preview"' in html
    assert "nc -z -w 2 db 5432" in html
    assert 'id="card-name-h1" class="mono" hx-swap-oob="true">wait-db' in html


def test_custom_container_is_edited_as_yaml(client, saved):
    hx_post(client, f"/c/{saved.pk}/helpers/add", {"pattern": "custom"})
    bad = hx_post(client, f"/c/{saved.pk}/helpers/h1/params", {"role": "sidecar", "container": "name: [x"})
    assert bad.status_code == 400 and "line" in bad.content.decode()
    good = hx_post(client, f"/c/{saved.pk}/helpers/h1/params",
                   {"role": "adapter", "container": "name: api\nimage: hashicorp/http-echo:1.0\n"})
    assert good.status_code == 200
    saved.refresh_from_db()
    assert saved.data["helpers"][0]["params"]["container"] == {"name": "api", "image": "hashicorp/http-echo:1.0"}


def test_app_form_parses_lines_and_reports_bad_ones(client, saved):
    ok = hx_post(client, f"/c/{saved.pk}/app", {
        "name": "web", "image": "nginx:1.27", "command": "", "args": "", "env": "MODE=prod\nDEBUG=0",
        "ports": "http 80\n9090/UDP", "volume_mounts": "data /data ro",
    })
    assert ok.status_code == 200
    saved.refresh_from_db()
    app = saved.data["app"]
    assert app["env"] == [{"name": "MODE", "value": "prod"}, {"name": "DEBUG", "value": "0"}]
    assert app["ports"] == [{"name": "http", "containerPort": 80}, {"containerPort": 9090, "protocol": "UDP"}]
    assert app["volume_mounts"] == [{"name": "data", "mountPath": "/data", "readOnly": True}]
    bad = hx_post(client, f"/c/{saved.pk}/app", {"name": "Web!", "image": "nginx", "ports": "http eighty"})
    html = bad.content.decode()
    assert bad.status_code == 400 and "not a port" in html and "err-app-name" in html


def test_pod_form_toggles_share_process_namespace_and_service(client, saved):
    response = hx_post(client, f"/c/{saved.pk}/pod", {
        "checkboxes": "1", "share_process_namespace": "on", "kind": "Deployment", "name": "shop", "namespace": "",
        "replicas": "3", "labels": "app=shop", "termination_grace_period_seconds": "", "service_enabled": "on",
        "service_type": "ClusterIP", "service_ports": "http 80 8080",
    })
    html = response.content.decode()
    assert response.status_code == 200 and "shareProcessNamespace" in html and ">Deployment<" in html
    saved.refresh_from_db()
    assert saved.data["options"]["share_process_namespace"] is True
    assert saved.data["options"]["service"]["ports"] == [{"name": "http", "port": 80, "targetPort": 8080}]
    assert saved.data["workload"]["replicas"] == 3
    bad = hx_post(client, f"/c/{saved.pk}/pod", {"kind": "Cluster", "replicas": "-1"})
    assert bad.status_code == 400 and "err-pod-kind" in bad.content.decode()


def test_a_kind_change_brings_that_kinds_fields_and_what_its_pods_need(client, saved):
    response = hx_post(client, f"/c/{saved.pk}/pod", {"kind": "CronJob"})
    html = response.content.decode()
    assert response.status_code == 200
    assert '<div id="kind-fields" class="kind-fields" hx-swap-oob="true">' in html
    assert 'name="spec-schedule" value="*/5 * * * *"' in html and 'name="replicas"' not in html
    saved.refresh_from_db()
    assert saved.data["workload"]["kind"] == "CronJob"
    assert saved.data["options"]["extra"]["restartPolicy"] == "Never"
    edited = hx_post(client, f"/c/{saved.pk}/pod", {"kind": "CronJob", "spec-schedule": "@hourly",
                                                     "spec-concurrencyPolicy": "Forbid",
                                                     "spec-jobTemplate-spec-backoffLimit": "2"})
    assert edited.status_code == 200 and "kind-fields" not in edited.content.decode()
    saved.refresh_from_db()
    assert saved.data["workload"]["extra"] == {"schedule": "@hourly", "concurrencyPolicy": "Forbid",
                                               "jobTemplate": {"spec": {"backoffLimit": 2}}}


def test_a_bad_key_field_is_a_field_error_and_nothing_is_saved(client, saved):
    hx_post(client, f"/c/{saved.pk}/pod", {"kind": "Job"})
    saved.refresh_from_db()
    revision = saved.revision
    superscript = hx_post(client, f"/c/{saved.pk}/pod", {"kind": "Job", "spec-backoffLimit": "²"})
    assert superscript.status_code == 400 and "a whole number" in superscript.content.decode()
    response = hx_post(client, f"/c/{saved.pk}/pod", {"kind": "Job", "spec-backoffLimit": "many"})
    html = response.content.decode()
    assert response.status_code == 400
    assert '<span id="err-pod-spec-backoffLimit" class="field-error" hx-swap-oob="true">a whole number' in html
    saved.refresh_from_db()
    assert saved.revision == revision


def test_move_reorder_native_and_remove(client, saved):
    for pattern in ("sysctl", "wait-for", "log-tailer"):
        hx_post(client, f"/c/{saved.pk}/helpers/add", {"pattern": pattern})
    hx_post(client, f"/c/{saved.pk}/helpers/h2/move", {"direction": "up"})
    assert [h["id"] for h in SavedComposition.objects.get().data["helpers"]] == ["h2", "h1", "h3"]
    assert hx_post(client, f"/c/{saved.pk}/helpers/h2/move", {"direction": "up"}).status_code == 400
    client.post(f"/c/{saved.pk}/helpers/order", {"order": ["h1", "h2"]}, HTTP_HX_REQUEST="true")
    assert [h["id"] for h in SavedComposition.objects.get().data["helpers"]] == ["h1", "h2", "h3"]
    assert hx_post(client, f"/c/{saved.pk}/helpers/order", {"order": ["h1", "h9"]}).status_code == 400
    hx_post(client, f"/c/{saved.pk}/helpers/h3/native", {"native_sidecar": "on"})
    assert SavedComposition.objects.get().data["helpers"][2]["native_sidecar"] is True
    assert hx_post(client, f"/c/{saved.pk}/helpers/h1/native", {"native_sidecar": "on"}).status_code == 400
    removed = hx_post(client, f"/c/{saved.pk}/helpers/h1/remove").content.decode()
    assert "Removed Privileged sysctl." in removed and "Undo" in removed


def test_edits_need_post_and_csrf(client, saved):
    assert client.get(f"/c/{saved.pk}/helpers/add").status_code == 405
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    assert strict.post(f"/c/{saved.pk}/helpers/add", {"pattern": "sysctl"}).status_code == 403


def test_a_rename_carries_the_app_label_selector_and_heading_along(client, saved):
    form = {"kind": "Deployment", "name": "shop", "labels": "app=my-app", "checkboxes": "1", "service_enabled": "on",
            "service_type": "ClusterIP", "service_ports": "http 80 80"}
    html = hx_post(client, f"/c/{saved.pk}/pod", form).content.decode()
    assert '<h1 id="composition-title" hx-swap-oob="true">Deployment <span class="mono">shop</span></h1>' in html
    assert '<textarea id="pod-labels" name="labels" rows="2" spellcheck="false" hx-swap-oob="true">app=shop' in html
    saved.refresh_from_db()
    assert saved.data["workload"]["labels"] == {"app": "shop"}
    service, deployment = yaml.safe_load_all(client.get(f"/api/v1/compositions/{saved.pk}/manifest").content)
    assert service["spec"]["selector"] == deployment["spec"]["selector"]["matchLabels"] == {"app": "shop"}
    # Labels edited in the same change are the user's: kept as typed.
    hx_post(client, f"/c/{saved.pk}/pod", {**form, "name": "shop2", "labels": "app=store"})
    saved.refresh_from_db()
    assert saved.data["workload"]["labels"] == {"app": "store"}
