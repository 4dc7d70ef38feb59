"""The app card's container editor and the Volumes card, as htmx edits: each saves with its message, a bad
value is a 400 with the message beside its field and nothing saved, an edit on an old revision a 409."""

import re
from pathlib import Path

import pytest

from composer.domain import edits
from composer.models import SavedComposition
from composer.services.imports import import_yaml

CORPUS = Path(__file__).parents[1] / "corpus"


def hx_post(client, url, data=None, revision=None):
    headers = {"HTTP_HX_REQUEST": "true"}
    if revision is not None:
        headers["HTTP_IF_MATCH"] = f'"{revision}"'
    return client.post(url, data or {}, **headers)


def last_message(saved):
    return saved.revisions.order_by("-number").first().message


def form_of(html, form_id):
    """What the browser posts for the form as the page shows it: every field's value."""
    form = html.split(f'id="{form_id}"')[1].split("</form>")[0]
    data = {}
    for tag, name, rest in re.findall(r'<(input|textarea|select)[^>]*?name="([^"]+)"([^>]*)>', form):
        element = form.split(f'name="{name}"')[1]
        if tag == "textarea":
            data[name] = element.split(">", 1)[1].split("</textarea>")[0]
        elif tag == "select":
            options = re.findall(r'<option(?: value="([^"]*)")?( selected)?>([^<]*)<', element.split("</select>")[0])
            value, _selected, text = next((o for o in options if o[1]), options[0])
            data[name] = value if 'value="' in element.split("</select>")[0] else text
        elif 'type="checkbox"' in rest:
            if " checked" in rest:
                data[name] = "on"
        else:
            found = re.search(r'value="([^"]*)"', element.split(">")[0])
            data[name] = found.group(1) if found else ""
    return {key: value.replace("&#x27;", "'").replace("&quot;", '"').replace("&lt;", "<").replace("&gt;", ">")
            .replace("&amp;", "&") for key, value in data.items()}


@pytest.fixture
def app_form(client, saved):
    return form_of(client.get(saved.get_absolute_url()).content.decode(), "app-form")


def test_the_app_card_has_every_section_shut_when_it_holds_nothing(client, saved):
    html = client.get(saved.get_absolute_url()).content.decode()
    for section in ("probes", "resources", "security", "lifecycle", "other"):
        assert f'<details class="editor-section" id="app-section-{section}">' in html
    assert '<label for="app-imagePullPolicy">Image pull policy' in html
    assert '<fieldset class="editor-group" data-group>\n    <legend>Readiness probe</legend>' in html


def test_a_probe_and_a_memory_limit_are_saved_with_the_message(client, saved, app_form):
    response = hx_post(client, f"/c/{saved.pk}/app", {
        **app_form, "ports": "http 80", "readinessProbe-handler": "httpGet", "readinessProbe-path": "/healthz",
        "readinessProbe-port": "http", "limits-memory": "256Mi", "sc-runAsNonRoot": "true", "sc-drop": "ALL",
        "imagePullPolicy": "IfNotPresent", "env": "TOKEN=secret:api/token", "env_from": "configmap:settings",
    })
    html = response.content.decode()
    assert response.status_code == 200 and 'id="preview"' in html and "Saved · r2" in html
    assert '<span id="err-app-limits-memory" class="field-error" hx-swap-oob="true"></span>' in html
    saved.refresh_from_db()
    app = saved.data["app"]
    assert app["resources"] == {"limits": {"memory": "256Mi"}}
    assert app["extra"] == {"imagePullPolicy": "IfNotPresent", "envFrom": [{"configMapRef": {"name": "settings"}}],
                            "readinessProbe": {"httpGet": {"path": "/healthz", "port": "http"}},
                            "securityContext": {"runAsNonRoot": True, "capabilities": {"drop": ["ALL"]}}}
    assert app["env"] == [{"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "api", "key": "token"}}}]
    assert last_message(saved) == "edited the app container"
    page = client.get(saved.get_absolute_url()).content.decode()  # the sections holding something are open
    assert '<details class="editor-section" id="app-section-probes" open>' in page
    assert 'id="app-section-security" open>' in page and 'id="app-section-lifecycle">' in page


@pytest.mark.parametrize("changes, field, message", [
    ({"limits-memory": "256MB"}, "limits-memory", "&#x27;256MB&#x27; is not a Kubernetes quantity: MB is not"),
    ({"requests-cpu": "half"}, "requests-cpu", "&#x27;half&#x27; is not a Kubernetes quantity"),
    ({"livenessProbe-handler": "tcpSocket"}, "livenessProbe-port", "needed when it checks TCP connect"),
    ({"other_fields": "image: nginx:1"}, "other_fields", "image is the field Image above"),
    ({"env": "TOKEN=secret:API/token"}, "env", "line 1: secret:API/token reads as a Secret value"),
])
def test_a_bad_value_is_a_400_beside_its_field_and_nothing_is_saved(client, saved, app_form, changes, field,
                                                                     message):
    response = hx_post(client, f"/c/{saved.pk}/app", {**app_form, **changes})
    html = response.content.decode()
    assert response.status_code == 400 and "Not saved: fix the marked field" in html
    assert f'<span id="err-app-{field}" class="field-error" hx-swap-oob="true">{message}' in html
    saved.refresh_from_db()
    assert saved.revision == 1


def test_an_app_edit_on_an_old_revision_is_a_409_and_changes_nothing(client, saved, app_form):
    assert hx_post(client, f"/c/{saved.pk}/app", {**app_form, "limits-cpu": "1"}, revision=1).status_code == 200
    response = hx_post(client, f"/c/{saved.pk}/app", {**app_form, "limits-cpu": "2"}, revision=1)
    assert response.status_code == 409 and response["HX-Retarget"] == "#edit-conflict"
    saved.refresh_from_db()
    assert saved.revision == 2 and saved.data["app"]["resources"] == {"limits": {"cpu": "1"}}


def test_an_imported_container_is_shown_in_the_sections_and_an_unrelated_edit_keeps_it(client, db):
    [imported] = import_yaml((CORPUS / "microservices-demo-frontend.yaml").read_text())
    saved = imported.saved
    html = client.get(saved.get_absolute_url()).content.decode()
    assert 'id="app-section-probes" open>' in html and 'id="app-section-resources" open>' in html
    assert 'id="app-section-other" open>' in html  # the probes' httpHeaders: the inputs do not show them
    form = form_of(html, "app-form")
    assert form["readinessProbe-handler"] == "httpGet" and form["readinessProbe-path"] == "/_healthz"
    assert form["readinessProbe-initialDelaySeconds"] == "10" and form["limits-memory"] == "128Mi"
    assert "httpHeaders:" in form["other_fields"] and "shop_session-id=x-readiness-probe" in form["other_fields"]
    before = saved.data["app"]
    response = hx_post(client, f"/c/{saved.pk}/app", {**form, "image": "frontend:v2"})
    assert response.status_code == 200
    saved.refresh_from_db()
    assert saved.data["app"] == {**before, "image": "frontend:v2"}


def test_the_mount_field_names_the_volumes_there_are(client, saved):
    html = client.get(saved.get_absolute_url()).content.decode()
    assert "The Pod has no volumes yet: add one under Volumes, then mount it here." in html
    edits_made = saved.composition()
    edits.add_helper(edits_made, "log-tailer")
    edits.add_volume(edits_made, {"name": "data", "emptyDir": {}})
    saved.record(edits_made, "test")
    html = client.get(saved.get_absolute_url()).content.decode()
    assert "Volumes of the Pod: logs (from log-tailer), data. Helpers add their own mounts." in html


# --------------------------------------------------------------------------- the Volumes card


def test_add_a_volume_shows_it_and_saves_with_the_message(client, saved):
    response = hx_post(client, f"/c/{saved.pk}/volumes/add", {"name": "data", "kind": "emptyDir", "medium": "Memory",
                                                               "sizeLimit": "64Mi", "configMap": "ignored"})
    html = response.content.decode()
    assert response.status_code == 200 and 'id="workspace"' in html
    assert "Added volume data: mount it in a container&#x27;s Volume mounts as &#x27;data /path&#x27;." in html
    assert '<details class="card volumes" id="volumes" open>' in html and "1 declared" in html
    assert '<summary id="volumes-summary" autofocus>' in html
    assert 'id="vol-0-name" name="name" value="data"' in html and "Volumes of the Pod: data." in html
    saved.refresh_from_db()
    assert saved.data["options"]["volumes"] == [{"name": "data", "emptyDir": {"medium": "Memory",
                                                                             "sizeLimit": "64Mi"}}]
    assert last_message(saved) == "added volume data (emptyDir (Memory, 64Mi))"


@pytest.mark.parametrize("data, field, message", [
    ({"name": "Data", "kind": "emptyDir"}, "name", "a volume name is a DNS label"),
    ({"name": "logs", "kind": "emptyDir"}, "name", "helper h1 (&#x27;log-tailer&#x27;, Log tailer) declares"),
    ({"name": "cfg", "kind": "configMap", "configMap": ""}, "configMap", "the ConfigMap&#x27;s name"),
    ({"name": "db", "kind": "persistentVolumeClaim"}, "claimName", "the PersistentVolumeClaim&#x27;s name"),
    ({"name": "x", "kind": "emptyDir", "sizeLimit": "1GB"}, "sizeLimit", "&#x27;1GB&#x27; is not a Kubernetes"),
    ({"name": "node", "kind": "hostPath", "path": "var/log"}, "path", "a path on the node, from /"),
    ({"name": "p", "kind": "yaml", "source": "projected: [x"}, "source", "line "),
    ({"name": "p", "kind": "yaml", "source": "name: other\nprojected: {sources: []}"}, "source", "the volume&#x27;s"),
    ({"name": "p", "kind": "yaml", "source": "configMap: {name: Bad}"}, "source", "the ConfigMap&#x27;s name"),
    ({"name": "p", "kind": "teleport"}, "kind", "one of emptyDir"),
])
def test_a_volume_that_cannot_be_added_is_a_400_beside_the_form(client, saved, data, field, message):
    composition = saved.composition()
    edits.add_helper(composition, "log-tailer")
    saved.record(composition, "a log tailer")
    response = hx_post(client, f"/c/{saved.pk}/volumes/add", data)
    html = response.content.decode()
    assert response.status_code == 400 and response["HX-Retarget"] == "#preview"
    assert f'<span id="err-volume-add-{field}" class="field-error" hx-swap-oob="true">{message}' in html
    saved.refresh_from_db()
    assert saved.revision == 2 and saved.data["options"]["volumes"] == []


@pytest.fixture
def with_volumes(saved):
    composition = saved.composition()
    edits.add_volume(composition, {"name": "cfg", "configMap": {"name": "app-config", "items": [
        {"key": "a", "path": "a.conf"}]}})
    edits.add_volume(composition, {"name": "proj", "projected": {"sources": [{"configMap": {"name": "x"}}]}})
    composition.app.volume_mounts = [{"name": "cfg", "mountPath": "/etc/app"}]
    saved.record(composition, "volumes")
    return saved


def test_a_volume_is_edited_in_place_keeping_what_its_form_does_not_show(client, with_volumes):
    response = hx_post(client, f"/c/{with_volumes.pk}/volumes/edit", {"index": "0", "name": "cfg",
                                                                       "configMap": "other-config"})
    html = response.content.decode()
    assert response.status_code == 200 and 'id="preview"' in html and 'id="workspace"' not in html
    with_volumes.refresh_from_db()
    assert with_volumes.data["options"]["volumes"][0] == {"name": "cfg", "configMap": {
        "name": "other-config", "items": [{"key": "a", "path": "a.conf"}]}}
    assert last_message(with_volumes) == "edited volume cfg (ConfigMap other-config)"
    page = client.get(with_volumes.get_absolute_url()).content.decode()
    assert "Mounted by app. Kept as found: items." in page
    assert 'id="vol-1-source" name="source"' in page
    assert "projected:\n  sources:\n  - configMap:\n      name: x</textarea>" in page


def test_a_volume_written_as_yaml_is_edited_as_yaml(client, with_volumes):
    response = hx_post(client, f"/c/{with_volumes.pk}/volumes/edit", {
        "index": "1", "name": "proj", "source": "downwardAPI:\n  items:\n  - path: labels\n    fieldRef:\n"
                                                 "      fieldPath: metadata.labels\n"})
    assert response.status_code == 200
    with_volumes.refresh_from_db()
    assert list(with_volumes.data["options"]["volumes"][1]) == ["name", "downwardAPI"]
    bad = hx_post(client, f"/c/{with_volumes.pk}/volumes/edit", {"index": "1", "name": "proj", "source": "- x"})
    assert bad.status_code == 400
    assert '<span id="err-volume-1-source" class="field-error" hx-swap-oob="true">the volume' in bad.content.decode()


def test_a_rename_the_mounts_follow_shows_the_whole_workspace(client, with_volumes):
    response = hx_post(client, f"/c/{with_volumes.pk}/volumes/edit", {"index": "0", "name": "config",
                                                                       "configMap": "app-config"})
    html = response.content.decode()
    assert response.status_code == 200 and 'id="workspace"' in html
    assert "Renamed volume cfg to config and 1 mount." in html
    assert '<textarea id="app-mounts" name="volume_mounts" rows="2" spellcheck="false">config /etc/app' in html
    with_volumes.refresh_from_db()
    assert with_volumes.data["app"]["volume_mounts"] == [{"name": "config", "mountPath": "/etc/app"}]


def test_a_bad_volume_edit_is_a_400_and_nothing_is_saved(client, with_volumes):
    revision = with_volumes.revision
    response = hx_post(client, f"/c/{with_volumes.pk}/volumes/edit", {"index": "0", "name": "proj",
                                                                       "configMap": "app-config"})
    assert response.status_code == 400
    assert '<span id="err-volume-0-name" class="field-error" hx-swap-oob="true">another volume is already named ' \
           '&#x27;proj&#x27;</span>' in response.content.decode()
    gone = hx_post(client, f"/c/{with_volumes.pk}/volumes/edit", {"index": "7", "name": "x"})
    assert gone.status_code == 400 and "no volume number 8: reload the page" in gone.content.decode()
    with_volumes.refresh_from_db()
    assert with_volumes.revision == revision


def test_remove_a_mounted_volume_says_so_and_can_be_undone(client, with_volumes):
    response = hx_post(client, f"/c/{with_volumes.pk}/volumes/remove", {"index": "0"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "Removed volume cfg. app still mounts it: remove the mount too, or undo." in html
    assert ">Undo</button>" in html
    assert "add it under Volumes" in html  # lint's missing-volume
    with_volumes.refresh_from_db()
    assert [v["name"] for v in with_volumes.data["options"]["volumes"]] == ["proj"]
    assert last_message(with_volumes) == "removed volume cfg (app still mounts it)"


@pytest.mark.parametrize("path, data", [
    ("volumes/add", {"name": "more", "kind": "emptyDir"}),
    ("volumes/edit", {"index": "0", "name": "cfg", "configMap": "newer"}),
    ("volumes/remove", {"index": "0"}),
])
def test_a_volume_edit_on_an_old_revision_is_a_409_and_changes_nothing(client, with_volumes, path, data):
    before = with_volumes.data
    response = hx_post(client, f"/c/{with_volumes.pk}/{path}", data, revision=1)
    assert response.status_code == 409 and response["HX-Retarget"] == "#edit-conflict"
    with_volumes.refresh_from_db()
    assert with_volumes.data == before


def test_the_helpers_volumes_are_listed_read_only(client, saved):
    composition = saved.composition()
    edits.add_helper(composition, "log-tailer")
    saved.record(composition, "a log tailer")
    html = client.get(saved.get_absolute_url()).content.decode()
    assert "from helper log-tailer (Log tailer), which keeps it as it needs it; mounted by app, log-tailer." in html
    assert "1 from helpers" in html and 'id="vol-0-name"' not in html


def test_volume_edits_need_post(client, saved):
    assert client.get(f"/c/{saved.pk}/volumes/add").status_code == 405
    assert SavedComposition.objects.get().revision == 1


# --------------------------------------------------------------------------- a custom helper's container


@pytest.fixture
def with_custom(saved):
    composition = saved.composition()
    edits.add_helper(composition, "custom", {"role": "sidecar", "container": {
        "name": "proxy", "image": "envoyproxy/envoy:v1.31", "args": ["-c", "/etc/envoy.yaml"],
        "readinessProbe": {"httpGet": {"path": "/ready", "port": 9901}}, "stdin": True}})
    saved.record(composition, "a custom helper")
    return saved


def test_a_custom_helper_is_edited_with_the_same_sections(client, with_custom):
    html = client.get(with_custom.get_absolute_url()).content.decode()
    form = form_of(html, "helper-h1")
    assert "container" not in form and form["role"] == "sidecar" and form["name"] == "proxy"
    assert form["readinessProbe-handler"] == "httpGet" and form["readinessProbe-port"] == "9901"
    assert form["other_fields"] == "stdin: true"
    assert 'id="h1-section-probes" open>' in html and 'id="h1-readinessProbe-path"' in html
    response = hx_post(client, f"/c/{with_custom.pk}/helpers/h1/params", {
        **form, "limits-memory": "64Mi", "sc-readOnlyRootFilesystem": "true", "role": "ambassador"})
    assert response.status_code == 200
    with_custom.refresh_from_db()
    helper = with_custom.data["helpers"][0]
    assert helper["params"]["role"] == "ambassador"
    assert helper["params"]["container"] == {
        "name": "proxy", "image": "envoyproxy/envoy:v1.31", "args": ["-c", "/etc/envoy.yaml"],
        "readinessProbe": {"httpGet": {"path": "/ready", "port": 9901}}, "stdin": True,
        "resources": {"limits": {"memory": "64Mi"}}, "securityContext": {"readOnlyRootFilesystem": True}}
    assert last_message(with_custom) == "edited Custom container"


def test_a_custom_helpers_bad_values_are_beside_their_fields(client, with_custom):
    form = form_of(client.get(with_custom.get_absolute_url()).content.decode(), "helper-h1")
    response = hx_post(client, f"/c/{with_custom.pk}/helpers/h1/params", {**form, "limits-cpu": "lots"})
    html = response.content.decode()
    assert response.status_code == 400
    assert '<span id="err-helper-h1-limits-cpu" class="field-error" hx-swap-oob="true">&#x27;lots&#x27;' in html
    taken = hx_post(client, f"/c/{with_custom.pk}/helpers/h1/params", {**form, "name": "app"})
    assert taken.status_code == 400
    assert ('<span id="err-helper-h1-name" class="field-error" hx-swap-oob="true">another container is already '
            "named &#x27;app&#x27;</span>") in taken.content.decode()
    with_custom.refresh_from_db()
    assert with_custom.revision == 2


def test_a_field_edit_brings_the_mount_hints_up_to_date(client, with_volumes):
    response = hx_post(client, f"/c/{with_volumes.pk}/volumes/edit", {"index": "1", "name": "projected",
                                                                       "source": "projected: {sources: []}"})
    assert response.status_code == 200
    assert ('<p class="hint" id="app-mounts-help" hx-swap-oob="true">Volumes of the Pod: cfg, projected. Helpers add '
            'their own mounts.</p>') in response.content.decode()
