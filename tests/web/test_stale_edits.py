"""No lost edits: an edit made on a revision that is no longer the newest (two tabs, two people, two
server processes) is refused and changes nothing, on the page (409 with a Reload button) and in the
API (If-Match with the composition's ETag: 409)."""

import threading

import pytest
from django.db import connection

from composer.domain.model import Composition
from composer.models import SavedComposition, StaleRevision


def hx_post(client, url, data=None, revision=None):
    headers = {"HTTP_HX_REQUEST": "true"}
    if revision is not None:
        headers["HTTP_IF_MATCH"] = f'"{revision}"'
    return client.post(url, data or {}, **headers)


def test_an_edit_on_the_revision_shown_is_saved_and_says_the_next_one(client, saved):
    response = hx_post(client, f"/c/{saved.pk}/helpers/add", {"pattern": "log-tailer"}, revision=1)
    assert response.status_code == 200
    assert '<span data-revision="2" id="saved-state"' in response.content.decode()
    saved.refresh_from_db()
    assert saved.revision == 2


def test_the_page_shows_the_revision_composer_js_sends(client, saved):
    html = client.get(f"/c/{saved.pk}/").content.decode()
    assert 'id="saved-state" data-revision="1"' in html and '<div id="edit-conflict"></div>' in html


def test_a_field_edit_from_an_old_tab_is_refused_with_a_reload_button(client, saved):
    first_tab = hx_post(client, f"/c/{saved.pk}/app", {"name": "api", "image": "nginx:1.27"}, revision=1)
    assert first_tab.status_code == 200
    second_tab = hx_post(client, f"/c/{saved.pk}/app", {"name": "web", "image": "nginx:1.25"}, revision=1)
    html = second_tab.content.decode()
    assert second_tab.status_code == 409
    assert second_tab["HX-Retarget"] == "#edit-conflict" and second_tab["HX-Reswap"] == "outerHTML"
    assert "your edit was made on revision 1, the newest is revision 2" in html and "Nothing was saved" in html
    assert f'<a class="button small" href="/c/{saved.pk}/">Reload</a>' in html
    assert 'data-revision="1">Not saved</span>' in html  # later edits of that tab are refused too
    saved.refresh_from_db()
    assert saved.revision == 2 and saved.data["app"]["name"] == "api"
    assert saved.revisions.count() == 2


@pytest.mark.parametrize("path, data", [
    ("helpers/add", {"pattern": "log-tailer"}),
    ("pod", {"kind": "Pod", "name": "other"}),
    ("revisions/1/restore", {}),
    ("yaml", {"yaml": "apiVersion: v1\nkind: Pod\nmetadata:\n  name: other\nspec:\n  containers:\n"
                      "  - name: app\n    image: nginx:1.27\n"}),
])
def test_every_kind_of_page_edit_on_an_old_revision_changes_nothing(client, saved, path, data):
    saved.record(Composition.from_dict({**saved.data, "app": {**saved.data["app"], "name": "newer"}}), "elsewhere")
    response = hx_post(client, f"/c/{saved.pk}/{path}", data, revision=1)
    assert response.status_code == 409, response.content[:300]
    saved.refresh_from_db()
    assert saved.revision == 2 and saved.data["app"]["name"] == "newer"


def test_a_malformed_precondition_is_a_400_that_names_the_header(client, saved):
    response = client.post(f"/c/{saved.pk}/helpers/add", {"pattern": "log-tailer"}, HTTP_HX_REQUEST="true",
                           HTTP_IF_MATCH="yesterday")
    assert response.status_code == 400 and "If-Match" in response.content.decode()
    saved.refresh_from_db()
    assert saved.revision == 1


def test_api_responses_carry_the_revision_as_etag_and_honour_if_match(api, saved):
    shown = api.get(f"compositions/{saved.pk}")
    assert shown["ETag"] == '"1"'
    body = {**saved.data, "app": {**saved.data["app"], "name": "first"}}
    put = api.client.put(f"/api/v1/compositions/{saved.pk}", body, content_type="application/json",
                         HTTP_IF_MATCH=shown["ETag"])
    assert put.status_code == 200 and put["ETag"] == '"2"' and put.json()["revision"] == 2
    late = api.client.put(f"/api/v1/compositions/{saved.pk}", {**body, "app": {**body["app"], "name": "late"}},
                          content_type="application/json", HTTP_IF_MATCH=shown["ETag"])
    assert late.status_code == 409
    assert "made on revision 1, the newest is revision 2" in late.json()["error"]
    helper = api.client.post(f"/api/v1/compositions/{saved.pk}/helpers", {"pattern": "log-tailer"},
                             content_type="application/json", HTTP_IF_MATCH='"1"')
    assert helper.status_code == 409
    saved.refresh_from_db()
    assert saved.revision == 2 and saved.data["app"]["name"] == "first" and saved.data["helpers"] == []


def test_api_without_if_match_edits_the_newest_revision(api, saved):
    assert api.post(f"compositions/{saved.pk}/helpers", {"pattern": "log-tailer"}).status_code == 201
    assert api.post(f"compositions/{saved.pk}/helpers", {"pattern": "log-tailer"}).status_code == 201
    saved.refresh_from_db()
    assert saved.revision == 3 and len(saved.data["helpers"]) == 2


@pytest.mark.parametrize("header", ['"1", "2"', "1", 'W/"abc"'])
def test_api_refuses_an_if_match_that_is_not_one_revision(api, saved, header):
    response = api.client.post(f"/api/v1/compositions/{saved.pk}/helpers", {"pattern": "log-tailer"},
                               content_type="application/json", HTTP_IF_MATCH=header)
    assert response.status_code == 400 and "If-Match" in response.json()["error"]


def test_an_edit_computed_from_a_copy_loaded_before_another_save_is_refused(saved):
    """What two server processes do: both load revision 1, one saves; the other's save must not win."""
    mine, theirs = SavedComposition.objects.get(pk=saved.pk), SavedComposition.objects.get(pk=saved.pk)
    theirs.record(Composition.from_dict({**saved.data, "app": {**saved.data["app"], "name": "theirs"}}), "theirs")
    with pytest.raises(StaleRevision) as refused:
        mine.record(Composition.from_dict({**saved.data, "app": {**saved.data["app"], "name": "mine"}}), "mine")
    assert (refused.value.edited, refused.value.current) == (1, 2)
    saved.refresh_from_db()
    assert saved.data["app"]["name"] == "theirs" and list(saved.revisions.values_list("number", flat=True)) == [2, 1]


@pytest.mark.django_db(transaction=True)
def test_concurrent_edits_on_one_revision_store_exactly_one(saved_outside_a_transaction):
    """Two threads, two database connections, the same loaded revision at the same moment: one edit is
    stored, the other refused; no revision number is taken twice (a unique constraint would 500)."""
    if connection.vendor == "sqlite":
        pytest.skip("SQLite's in-memory test database is shared between threads and refuses a second writer "
                    "('table is locked'); the PostgreSQL run (PODSTUDIO_TEST_DATABASE=postgres) runs this")
    pk = saved_outside_a_transaction.pk
    copies = [SavedComposition.objects.get(pk=pk) for _ in range(2)]
    start, outcomes = threading.Barrier(2), []

    def edit(copy, name):
        try:
            start.wait()
            copy.record(Composition.from_dict({**copy.data, "app": {**copy.data["app"], "name": name}}), name)
            outcomes.append("saved")
        except StaleRevision:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=edit, args=(copy, f"edit-{i}")) for i, copy in enumerate(copies)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(outcomes) == ["refused", "saved"]
    stored = SavedComposition.objects.get(pk=pk)
    assert stored.revision == 2 and stored.revisions.count() == 2


@pytest.fixture
def saved_outside_a_transaction(transactional_db):
    return SavedComposition.create(Composition())
