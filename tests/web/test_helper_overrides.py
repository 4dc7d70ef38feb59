"""The fields of a recognised helper set by hand (Helper.overrides) on the composer page: shown on the card
beside the pattern's own values, edited as YAML, set, reset one by one or all at once; each a revision."""

import pytest

from composer.domain.model import Composition
from composer.domain.render import render
from composer.services.imports import import_yaml
from tests.support.overrides import TAILER_SET_BY_HAND


def hx_post(client, url, data=None, revision=None):
    headers = {"HTTP_HX_REQUEST": "true"}
    if revision is not None:
        headers["HTTP_IF_MATCH"] = f'"{revision}"'
    return client.post(url, data or {}, **headers)


@pytest.fixture
def imported(db):
    return import_yaml(TAILER_SET_BY_HAND)[0].saved


def helper_of(saved):
    saved.refresh_from_db()
    return saved.data["helpers"][0]


def last_message(saved):
    return saved.revisions.order_by("-number").first().message


def test_the_card_shows_the_fields_set_by_hand_beside_the_patterns(client, imported):
    assert helper_of(imported)["pattern"] == "log-tailer"
    html = client.get(imported.get_absolute_url()).content.decode()
    assert '<summary id="overrides-summary-h1">2 fields set by hand</summary>' in html
    assert '<textarea id="ov-h1-0" name="value"' in html and "cpu: 100m" in html
    # what resetting gives: the pattern leaves resources out, and mounts the logs read-only
    assert 'id="ov-pattern-h1-0" class="override-pattern"><span class="hint">The pattern leaves it out.' in html
    pattern_mounts = html.split('id="ov-pattern-h1-1"')[1].split("</pre>")[0]
    assert "readOnly: true" in pattern_mounts
    assert "Reset <span class=\"visually-hidden\">resources </span>to the pattern's" in html
    assert "Reset all <span class=\"visually-hidden\">fields of count-log-1 </span>to the pattern's" in html
    options = html.split('id="ov-add-field-h1"')[1].split("</select>")[0]
    assert "<option>securityContext</option>" in options and "<option>imagePullPolicy</option>" in options
    assert "<option>name</option>" not in options and "<option>resources</option>" not in options


def test_one_field_reads_singular_and_a_helper_without_any_offers_to_set_one(client, imported):
    hx_post(client, f"/c/{imported.pk}/helpers/h1/overrides/reset", {"field": "volumeMounts"})
    html = client.get(imported.get_absolute_url()).content.decode()
    assert ">1 field set by hand</summary>" in html
    hx_post(client, f"/c/{imported.pk}/helpers/h1/overrides/reset-all")
    html = client.get(imported.get_absolute_url()).content.decode()
    assert ">Set fields by hand</summary>" in html and 'id="override-add-h1"' in html


def test_editing_a_field_saves_it_and_updates_the_preview(client, imported):
    response = hx_post(client, f"/c/{imported.pk}/helpers/h1/overrides/edit",
                       {"field": "resources", "value": "limits:\n  memory: 128Mi\n"})
    html = response.content.decode()
    assert response.status_code == 200 and 'id="preview"' in html and "128Mi" in html
    assert '<span id="err-override-h1-0-value" class="field-error" hx-swap-oob="true"></span>' in html
    assert helper_of(imported)["overrides"]["resources"] == {"limits": {"memory": "128Mi"}}
    assert last_message(imported) == "set resources of h1 by hand"


def test_an_empty_value_leaves_the_field_out_and_says_removed(client, imported):
    response = hx_post(client, f"/c/{imported.pk}/helpers/h1/overrides/edit", {"field": "resources", "value": ""})
    html = response.content.decode()
    assert response.status_code == 200
    assert '<span id="ov-state-h1-0" class="override-state" hx-swap-oob="true">removed</span>' in html
    assert helper_of(imported)["overrides"]["resources"] is None


def test_bad_yaml_is_a_400_beside_the_field_and_nothing_is_saved(client, imported):
    revision = imported.revision
    response = hx_post(client, f"/c/{imported.pk}/helpers/h1/overrides/edit",
                       {"field": "resources", "value": "limits: [x"})
    html = response.content.decode()
    assert response.status_code == 400
    assert '<span id="err-override-h1-0-value" class="field-error" hx-swap-oob="true">line ' in html
    assert "Not saved" in html
    imported.refresh_from_db()
    assert imported.revision == revision


def test_a_value_of_the_wrong_shape_is_a_400_and_nothing_is_saved(client, imported):
    revision = imported.revision
    response = hx_post(client, f"/c/{imported.pk}/helpers/h1/overrides/edit",
                       {"field": "volumeMounts", "value": "/var/log"})
    assert response.status_code == 400 and "volumeMounts must be a list (found a string)" in response.content.decode()
    imported.refresh_from_db()
    assert imported.revision == revision


def test_a_nul_written_as_a_yaml_escape_is_a_400_and_nothing_is_saved(client, imported):
    """PostgreSQL cannot store it (this runs on both databases in CI)."""
    revision = imported.revision
    response = hx_post(client, f"/c/{imported.pk}/helpers/h1/overrides/edit", {"field": "args", "value": '["a\\0b"]'})
    assert response.status_code == 400 and "must not contain NUL characters" in response.content.decode()
    imported.refresh_from_db()
    assert imported.revision == revision


def test_setting_another_field_shows_it_open_and_focused(client, imported):
    response = hx_post(client, f"/c/{imported.pk}/helpers/h1/overrides/add",
                       {"field": "imagePullPolicy", "value": "IfNotPresent"})
    html = response.content.decode()
    assert response.status_code == 200 and 'id="workspace"' in html
    assert '<details class="overrides has-overrides" id="overrides-h1" open>' in html
    assert ">3 fields set by hand</summary>" in html
    assert 'id="ov-h1-2" name="value"' in html and "autofocus>IfNotPresent</textarea>" in html
    assert helper_of(imported)["overrides"]["imagePullPolicy"] == "IfNotPresent"
    assert last_message(imported) == "set imagePullPolicy of h1 by hand"


@pytest.mark.parametrize("field, value, where, message", [
    ("name", "tailer", "field", "the container name is a parameter, not an override"),
    ("colour", "blue", "field", "&#x27;colour&#x27; is not a field of a Kubernetes container"),
    ("restartPolicy", "Always", "field", "use Run as native sidecar"),
    ("", "x", "field", "choose a container field"),
    ("resources", "limits: [x", "value", "line "),
    ("securityContext", "- privileged", "value", "securityContext must be a mapping (found a list)"),
])
def test_a_field_that_cannot_be_set_is_a_400_beside_the_form(client, imported, field, value, where, message):
    revision = imported.revision
    response = hx_post(client, f"/c/{imported.pk}/helpers/h1/overrides/add", {"field": field, "value": value})
    html = response.content.decode()
    assert response.status_code == 400 and response["HX-Retarget"] == "#preview"
    error = html.split(f'<span id="err-override-add-h1-{where}" class="field-error" hx-swap-oob="true">')[1]
    assert error.startswith(message) or message in error.split("</span>")[0]
    imported.refresh_from_db()
    assert imported.revision == revision and "name" not in imported.data["helpers"][0]["overrides"]


def test_the_name_cannot_be_edited_as_a_field_set_by_hand_either(client, imported):
    response = hx_post(client, f"/c/{imported.pk}/helpers/h1/overrides/edit", {"field": "name", "value": "other"})
    assert response.status_code == 400 and "a parameter, not an override" in response.content.decode()
    assert "name" not in helper_of(imported)["overrides"]


def test_reset_one_field_gives_the_patterns_value_and_keeps_the_panel_open(client, imported):
    response = hx_post(client, f"/c/{imported.pk}/helpers/h1/overrides/reset", {"field": "volumeMounts"})
    html = response.content.decode()
    assert response.status_code == 200 and "volumeMounts is the pattern&#x27;s again." in html
    assert '<details class="overrides has-overrides" id="overrides-h1" open>' in html
    assert '<summary id="overrides-summary-h1" autofocus>1 field set by hand</summary>' in html
    assert list(helper_of(imported)["overrides"]) == ["resources"]
    assert last_message(imported) == "reset volumeMounts of h1 to the pattern's"
    tailer = [c for c in _pod(imported)["spec"]["containers"] if c["name"] == "count-log-1"][0]
    assert tailer["volumeMounts"] == [{"name": "varlog", "mountPath": "/var/log", "readOnly": True}]


def test_reset_all(client, imported):
    response = hx_post(client, f"/c/{imported.pk}/helpers/h1/overrides/reset-all")
    assert response.status_code == 200 and "Every field is the pattern&#x27;s again." in response.content.decode()
    assert helper_of(imported)["overrides"] == {}
    assert last_message(imported) == "reset every field of h1 to the pattern's"
    again = hx_post(client, f"/c/{imported.pk}/helpers/h1/overrides/reset-all")
    assert again.status_code == 400 and "no field of h1 is set by hand" in again.content.decode()


def test_resetting_a_field_not_set_by_hand_or_of_an_unknown_helper_is_a_400(client, imported):
    revision = imported.revision
    assert hx_post(client, f"/c/{imported.pk}/helpers/h1/overrides/reset", {"field": "tty"}).status_code == 400
    assert hx_post(client, f"/c/{imported.pk}/helpers/h9/overrides/reset", {"field": "resources"}).status_code == 400
    unknown = hx_post(client, f"/c/{imported.pk}/helpers/h9/overrides/add", {"field": "tty", "value": "true"})
    assert unknown.status_code == 400 and "no helper &#x27;h9&#x27;" in unknown.content.decode()
    imported.refresh_from_db()
    assert imported.revision == revision


@pytest.mark.parametrize("path, data", [
    ("helpers/h1/overrides/edit", {"field": "resources", "value": "{}"}),
    ("helpers/h1/overrides/add", {"field": "tty", "value": "true"}),
    ("helpers/h1/overrides/reset", {"field": "resources"}),
    ("helpers/h1/overrides/reset-all", {}),
])
def test_an_edit_on_an_old_revision_is_a_409_and_changes_nothing(client, imported, path, data):
    hx_post(client, f"/c/{imported.pk}/helpers/h1/params", {"name": "tailer", "image": "busybox:1.37",
                                                            "volume": "varlog", "log_dir": "/var/log",
                                                            "log_file": "1.log"})
    before = helper_of(imported)
    response = hx_post(client, f"/c/{imported.pk}/{path}", data, revision=1)
    assert response.status_code == 409 and response["HX-Retarget"] == "#edit-conflict"
    assert helper_of(imported) == before and imported.revision == 2


def test_an_imported_field_of_any_name_is_shown_and_can_be_reset(client, db):
    text = TAILER_SET_BY_HAND.replace("    command: [tail", '    "x/y": 1\n    "": 2\n    "<b>": 3\n    command: [tail')
    [imported_one] = import_yaml(text)
    saved = imported_one.saved
    assert {"x/y", "", "<b>"} <= set(helper_of(saved)["overrides"])  # (PostgreSQL's jsonb keeps no key order)
    html = client.get(saved.get_absolute_url()).content.decode()
    assert ">5 fields set by hand</summary>" in html and "<code>&lt;b&gt;</code>" in html
    refused = hx_post(client, f"/c/{saved.pk}/helpers/h1/overrides/edit", {"field": "x/y", "value": "2"})
    assert refused.status_code == 400 and "not a field of a Kubernetes container" in refused.content.decode()
    for field in ("x/y", "", "<b>"):
        assert hx_post(client, f"/c/{saved.pk}/helpers/h1/overrides/reset", {"field": field}).status_code == 200
    assert sorted(helper_of(saved)["overrides"]) == ["resources", "volumeMounts"]


def test_overrides_edits_need_post(client, imported):
    assert client.get(f"/c/{imported.pk}/helpers/h1/overrides/reset-all").status_code == 405
    assert client.get(f"/c/{imported.pk}/helpers/h1/overrides/edit").status_code == 405


def test_a_param_edit_updates_what_the_pattern_would_give(client, imported):
    response = hx_post(client, f"/c/{imported.pk}/helpers/h1/params", {
        "name": "count-log-1", "image": "busybox:1.37", "volume": "varlog", "log_dir": "/var/log/app",
        "log_file": "1.log"})
    html = response.content.decode()
    pattern_mounts = html.split('<div id="ov-pattern-h1-1" class="override-pattern" hx-swap-oob="true">')[1]
    assert "mountPath: /var/log/app" in pattern_mounts.split("</div>")[0]


def test_a_custom_helper_has_no_fields_to_set_beside_its_spec(client, saved):
    hx_post(client, f"/c/{saved.pk}/helpers/add", {"pattern": "custom"})
    assert 'id="overrides-h1"' not in client.get(saved.get_absolute_url()).content.decode()
    response = hx_post(client, f"/c/{saved.pk}/helpers/h1/overrides/add", {"field": "tty", "value": "true"})
    assert response.status_code == 400 and "Container spec parameter" in response.content.decode()


def _pod(saved):
    return render(Composition.from_dict(saved.data))[-1]


# --- the API does the same (docs/api.md, "Fields set by hand") ---------------------------------------


def test_api_sets_and_resets_fields_by_hand(api, imported):
    base = f"compositions/{imported.pk}/helpers/h1/overrides"
    response = api.client.put(f"/api/v1/{base}/imagePullPolicy", data='{"value": "Always"}',
                              content_type="application/json", HTTP_IF_MATCH=f'"{imported.revision}"')
    assert response.status_code == 200 and response["ETag"] == f'"{imported.revision + 1}"'
    assert response.json()["composition"]["helpers"][0]["overrides"]["imagePullPolicy"] == "Always"
    assert last_message(imported) == "set imagePullPolicy of h1 by hand"
    removed = api.put(f"{base}/resources", {"value": None})
    assert removed.json()["composition"]["helpers"][0]["overrides"]["resources"] is None
    reset = api.delete(f"{base}/volumeMounts")
    assert "volumeMounts" not in reset.json()["composition"]["helpers"][0]["overrides"]
    assert last_message(imported) == "reset volumeMounts of h1 to the pattern's"
    assert "readOnly: true" in api.get(f"compositions/{imported.pk}/manifest").content.decode()
    everything = api.delete(base)
    assert everything.status_code == 200 and everything.json()["composition"]["helpers"][0]["overrides"] == {}
    assert last_message(imported) == "reset every field of h1 to the pattern's"


@pytest.mark.parametrize("method, path, body, field", [
    ("put", "overrides/name", {"value": "x"}, "field"),
    ("put", "overrides/colour", {"value": "blue"}, "field"),
    ("put", "overrides/resources", {"value": "64Mi"}, "value"),
    ("put", "overrides/resources", {"limits": {}}, "value"),
    ("delete", "overrides/tty", None, "field"),
])
def test_api_refuses_what_the_page_refuses(api, imported, method, path, body, field):
    url = f"compositions/{imported.pk}/helpers/h1/{path}"
    response = api.put(url, body) if method == "put" else api.delete(url)
    assert response.status_code == 400 and field in response.json()["errors"], response.json()
    imported.refresh_from_db()
    assert imported.revision == 1


def test_api_refuses_an_unknown_helper_and_an_old_revision(api, imported):
    assert api.put(f"compositions/{imported.pk}/helpers/h9/overrides/tty", {"value": True}).status_code == 400
    api.put(f"compositions/{imported.pk}/helpers/h1/overrides/tty", {"value": True})
    stale = api.client.delete(f"/api/v1/compositions/{imported.pk}/helpers/h1/overrides", HTTP_IF_MATCH='"1"')
    assert stale.status_code == 409
    assert helper_of(imported)["overrides"]["tty"] is True


def test_api_resets_an_imported_field_whatever_its_name(api, db):
    text = TAILER_SET_BY_HAND.replace("    command: [tail", '    "x/y": 1\n    command: [tail')
    [imported_one] = import_yaml(text)
    saved = imported_one.saved
    response = api.delete(f"compositions/{saved.pk}/helpers/h1/overrides/x%2Fy")
    assert response.status_code == 200
    assert sorted(response.json()["composition"]["helpers"][0]["overrides"]) == ["resources", "volumeMounts"]


def test_a_composition_put_with_an_override_of_the_wrong_shape_is_refused(api, imported):
    data = {**imported.data}
    data["helpers"] = [{**data["helpers"][0], "overrides": {"volumeMounts": "/var/log"}}]
    response = api.put(f"compositions/{imported.pk}", data)
    assert response.status_code == 400
    assert response.json()["errors"] == {"helpers[0].overrides.volumeMounts": "must be a list (found a string)"}
