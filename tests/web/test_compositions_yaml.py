"""The composer's YAML editor saves through the importer (composer/web/compositions/partials.py, yaml_source):
the text replaces the composition as its next revision, same id, helpers recognised as patterns; a refusal
saves nothing and says where, in the editor's alert region."""

import re

import pytest

from composer.domain import edits
from composer.domain.model import AppContainer, Composition
from composer.domain.render import render
from composer.domain.yamlio import dump_documents
from composer.models import SavedComposition


def hx_post(client, pk, text, revision=None):
    headers = {"HTTP_HX_REQUEST": "true"}
    if revision is not None:
        headers["HTTP_IF_MATCH"] = f'"{revision}"'
    return client.post(f"/c/{pk}/yaml", {"yaml": text}, **headers)


@pytest.fixture
def tailer(db):
    composition = Composition(app=AppContainer(image="busybox:1.36"))
    edits.add_helper(composition, "log-tailer")
    return SavedComposition.create(composition)


def yaml_of(saved):
    return dump_documents(render(saved.composition()))


def notice(html):
    return re.search(r'<div id="notice".*?</div>', html, re.S).group(0)


def test_the_page_offers_the_editor_only_to_javascript_and_says_its_keys(client, tailer):
    html = client.get(f"/c/{tailer.pk}/").content.decode()
    assert '<button class="button small" type="button" data-yaml-edit hidden>Edit YAML</button>' in html
    assert f'data-save-url="/c/{tailer.pk}/yaml"' in html and 'id="yaml-editor" class="yaml-editor" hx-preserve' in html
    assert 'id="yaml-editor-error" class="alert alert-error yaml-editor-error" role="alert"' in html
    assert "Save YAML" in html and "Cancel" in html and "<kbd>Esc</kbd> cancels" in html
    assert 'data-codemirror="/static/vendor/codemirror/codemirror.bundle.js"' in html


def test_the_page_gives_codemirror_a_style_nonce_and_other_pages_none(client, tailer):
    response = client.get(f"/c/{tailer.pk}/")
    nonce = re.search(r'<script src="/static/js/yaml-editor.js"[^>]* nonce="([^"]+)"', response.content.decode())[1]
    assert f"style-src 'self' 'nonce-{nonce}'" in response["Content-Security-Policy"]
    assert "unsafe-inline" not in response["Content-Security-Policy"]
    assert "nonce" not in client.get("/")["Content-Security-Policy"]


def test_an_edit_saves_a_revision_with_the_recognised_pattern_and_its_new_param(client, tailer):
    text = yaml_of(tailer).replace("/var/log/app/app.log", "/var/log/app/access.log")
    response = hx_post(client, tailer.pk, text, revision=1)
    html = response.content.decode()
    assert response.status_code == 200 and 'id="workspace"' in html
    assert "Saved the YAML." in notice(html) and 'role="status"' in notice(html)
    assert f'hx-post="/c/{tailer.pk}/revisions/1/restore"' in notice(html)  # Undo
    assert response["HX-Trigger-After-Settle"] == '{"yaml-saved": {"changed": true}}'
    assert 'data-revision="2" id="saved-state"' in html and "/var/log/app/access.log" in html
    tailer.refresh_from_db()
    assert tailer.pk == SavedComposition.objects.get().pk and tailer.name == "my-app" and tailer.revision == 2
    assert tailer.revisions.first().message == "edited the YAML"
    helper, = tailer.data["helpers"]
    assert (helper["pattern"], helper["params"], helper["overrides"]) == ("log-tailer", {"log_file": "access.log"}, {})


def test_a_helper_written_by_hand_is_recognised_by_its_shape(client, db):
    saved = SavedComposition.create(Composition(app=AppContainer(image="busybox:1.36")))
    init = ("  initContainers:\n  - name: wait-for-db\n    image: busybox:1.36\n"
            "    command: [sh, -c, 'until nc -z db 5432; do sleep 2; done']\n")
    text = yaml_of(saved).replace("  containers:\n", init + "  containers:\n")
    assert hx_post(client, saved.pk, text).status_code == 200
    saved.refresh_from_db()
    helper, = saved.data["helpers"]
    assert (helper["pattern"], helper["params"]) == ("wait-for", {"host": "db"})  # the command as written: an override


def test_the_same_yaml_saves_no_revision_and_says_no_changes(client, tailer):
    response = hx_post(client, tailer.pk, yaml_of(tailer), revision=1)
    assert response.status_code == 200
    assert "No changes" in notice(response.content.decode()) and "Undo" not in notice(response.content.decode())
    assert response["HX-Trigger-After-Settle"] == '{"yaml-saved": {"changed": false}}'
    tailer.refresh_from_db()
    assert tailer.revision == 1 and tailer.revisions.count() == 1


def test_a_yaml_error_is_400_with_line_and_column_in_the_editors_alert_and_nothing_saved(client, tailer):
    text = yaml_of(tailer).replace("  name: my-app\n", "  name: [my-app\n")
    response = hx_post(client, tailer.pk, text, revision=1)
    html = response.content.decode()
    assert response.status_code == 400
    assert response["HX-Retarget"] == "#yaml-editor-error" and response["HX-Reswap"] == "innerHTML"
    # libyaml notices the unclosed list where the next key starts, and says where the list began
    assert 'data-yaml-error data-line="5" data-column="9"' in html
    assert ("<strong>Not saved:</strong> line 5, column 9: did not find expected &#x27;,&#x27; or &#x27;]&#x27; "
            "(while parsing a flow sequence at line 4, column 9)") in html
    assert "HX-Trigger-After-Settle" not in response
    tailer.refresh_from_db()
    assert tailer.revision == 1 and tailer.revisions.count() == 1


@pytest.mark.parametrize("text, message", [
    ("", "the YAML is empty"),
    ("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n", "no workload found"),
    ("apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers: []\n", "has no containers"),
])
def test_manifests_that_make_no_composition_are_400_without_a_position(client, tailer, text, message):
    response = hx_post(client, tailer.pk, text)
    html = response.content.decode()
    assert response.status_code == 400 and message in html and 'data-line="" data-column=""' in html
    tailer.refresh_from_db()
    assert tailer.revision == 1


def test_several_workloads_are_400_pointing_to_the_import_page(client, tailer):
    other = dump_documents(render(Composition(app=AppContainer(image="nginx:1.27"))))
    text = yaml_of(tailer) + "---\n" + other.replace("name: my-app", "name: other")
    response = hx_post(client, tailer.pk, text)
    html = response.content.decode()
    assert response.status_code == 400
    assert ("2 workloads (Pod &#x27;my-app&#x27;, Pod &#x27;other&#x27;): the YAML of one composition holds one "
            "workload; import the others from the Import page") in html
    assert SavedComposition.objects.count() == 1 and SavedComposition.objects.get().revision == 1


def test_an_edit_on_an_old_revision_is_409_with_the_reload_button_and_changes_nothing(client, tailer):
    newer = tailer.composition()
    newer.app.image = "busybox:1.37"
    tailer.record(newer, "elsewhere")
    text = yaml_of(SavedComposition.objects.get()).replace("app.log", "access.log")
    response = hx_post(client, tailer.pk, text, revision=1)
    html = response.content.decode()
    assert response.status_code == 409 and response["HX-Retarget"] == "#edit-conflict"
    assert "your edit was made on revision 1, the newest is revision 2" in html and "Reload" in html
    tailer.refresh_from_db()
    assert tailer.revision == 2 and "access.log" not in str(tailer.data)


def test_an_unchanged_text_on_an_old_revision_is_409_too(client, tailer):
    text = yaml_of(tailer)
    tailer.record(tailer.composition(), "elsewhere")
    assert hx_post(client, tailer.pk, text, revision=1).status_code == 409


def test_a_secret_in_the_text_is_not_stored_and_the_notice_says_why(client, tailer):
    secret = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db-password\nstringData:\n  password: hunter2\n---\n"
    text = secret + yaml_of(tailer).replace("app.log", "access.log")
    response = hx_post(client, tailer.pk, text)
    html = notice(response.content.decode())
    assert response.status_code == 200 and 'class="alert alert-warning" role="status"' in html
    assert "Secret &#x27;db-password&#x27; not imported: Pod Studio never stores Secrets" in html
    assert "hunter2" not in response.content.decode()
    tailer.refresh_from_db()
    assert tailer.revision == 2 and "hunter2" not in str(tailer.data) and "db-password" not in str(tailer.data)


def test_another_persons_composition_is_404(client, team, alice, bob):
    theirs = SavedComposition.create(Composition(), owner=bob)
    assert client.login(username="alice", password="wonderland-42")
    assert hx_post(client, theirs.pk, yaml_of(theirs).replace("my-app", "mine")).status_code == 404
    theirs.refresh_from_db()
    assert theirs.revision == 1


def test_a_get_is_405(client, tailer):
    assert client.get(f"/c/{tailer.pk}/yaml").status_code == 405
