"""Bad input to the YAML import, through the API and the import page (field `yaml` and file `file`).

Every case of bench/reliability.py gets the status and message it expects and stores nothing (or,
for the few valid oddities, exactly one composition). Time and memory of each case are measured
by `python -m bench.reliability` into docs/reliability.md, never asserted here.
"""

from __future__ import annotations

import html

import pytest
import yaml
from django.conf import settings

from bench.reliability import CASES_BY_ID, FORM, case_params, run
from composer.models import SavedComposition
from tests.hardening import api_error, db_state


def _params():
    for case, transport in case_params():
        expect = case.expect[transport]
        marks = [pytest.mark.xfail(strict=True, reason=expect.bug)] if expect.bug else []
        yield pytest.param(case, transport, id=f"{case.id}-{transport}", marks=marks)


@pytest.mark.parametrize(("case", "transport"), list(_params()))
def test_import_case(client, db, case, transport):
    expect = case.expect[transport]
    seen = run(client, case, transport)
    assert seen.status == expect.status, seen.message
    assert expect.message in seen.message
    if expect.accepted:
        assert (seen.saved, seen.revisions) == (1, 1)
        return
    assert (seen.saved, seen.revisions) == (0, 0)
    if transport == FORM and len(case.body) <= settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
        # Nothing is lost either: the page shows the pasted YAML again, beside the message. (A body over
        # Django's upload limit is never read, so it cannot be shown; the textarea's maxlength stops
        # a browser from sending one.)
        assert html.escape(case.body.decode("utf-8")) in seen.content


def test_api_errors_are_json_with_the_position(client, db):
    response = client.post("/api/v1/compositions/import", data=CASES_BY_ID["unclosed-flow"].body,
                           content_type="application/yaml")
    assert api_error(response).startswith("line 4, column 1: did not find expected ',' or ']'")
    assert response.json()["errors"] == {"line": "4", "column": "1"}


def test_refusals_leave_every_row_as_it_was(client, db):
    """Beyond counts: a refused import touches no stored composition, revision or deploy record."""
    client.post("/api/v1/compositions/import", data=CASES_BY_ID["unicode-values"].body,
                content_type="application/yaml")
    before = db_state()
    for case_id in ("billion-laughs", "deep-flow-lists", "nul", "job", "just-over-1-mib"):
        response = client.post("/api/v1/compositions/import", data=CASES_BY_ID[case_id].body,
                               content_type="application/yaml")
        assert response.status_code == 400, case_id
    assert db_state() == before


def test_unicode_values_survive_import_and_every_view(client, db):
    """Emoji, right-to-left marks and NFD text in values are data: kept as sent, never normalised."""
    response = client.post("/api/v1/compositions/import", data=CASES_BY_ID["unicode-values"].body,
                           content_type="application/yaml")
    assert response.status_code == 201
    saved = SavedComposition.objects.get(pk=response.json()["id"])
    value = "\u202eolleh cafe\u0301 🚀"
    assert saved.composition().app.env == [{"name": "GREETING", "value": value}]
    manifest = client.get(f"/api/v1/compositions/{saved.pk}/manifest")
    assert manifest.status_code == 200
    pod = yaml.safe_load(manifest.content)  # the emitter may escape emoji ("\U0001F680"): compare values
    assert pod["spec"]["containers"][0]["env"] == [{"name": "GREETING", "value": value}]
    page = client.get(saved.get_absolute_url())
    assert page.status_code == 200 and "cafe\u0301" in page.content.decode("utf-8")
    assert client.get(f"/api/v1/compositions/{saved.pk}/problems").status_code == 200
