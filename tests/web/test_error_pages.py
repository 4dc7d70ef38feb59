"""Error pages tell a visitor nothing about the server (security review, item 6).

A page on another site can make a browser request `http://evil.example:8100/` that reaches a
local Pod Studio (DNS rebinding). Django answered that foreign Host with its debug page, which
lists settings and environment variables: now a short plain-text 400 in every mode, DEBUG on or
off. DEBUG is off by default in both modes, so 404 and 500 are small pages of our own.
"""

from __future__ import annotations

import os

import pytest
from django.template import loader
from django.urls import path

from tests.support.processes import get, run_python, runserver

FOREIGN_HOST = "evil.example:8100"
TELLTALES = ("DATABASE", "SECRET", "Traceback", "ALLOWED_HOSTS", "DisallowedHost", "settings", "URLconf",
             "urlpatterns", "META", "PODSTUDIO", "PATH", "HOME")
CANARY = "PODSTUDIO_TEST_CANARY"


def assert_tells_nothing(body: str) -> None:
    for word in TELLTALES:
        assert word not in body, word
    for name in os.environ:
        if len(name) >= 4:
            assert name not in body, name


def boom(request):
    raise RuntimeError("a bug")


# This module is also the URLconf of the 500 test.
urlpatterns = [path("boom", boom)]


@pytest.mark.parametrize("team_mode", [False, True], ids=["local", "team"])
@pytest.mark.parametrize("debug", [False, True], ids=["debug-off", "debug-on"])
@pytest.mark.parametrize("url", ["/x", "/", "/api/v1/patterns", "/admin/login/", "/static/css/app.css"])
def test_a_foreign_host_gets_a_short_plain_400_in_every_mode(client, settings, debug, team_mode, url):
    settings.DEBUG = debug
    settings.PODSTUDIO_TEAM_MODE = team_mode
    response = client.get(url, HTTP_HOST=FOREIGN_HOST)
    assert response.status_code == 400
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    body = response.content.decode()
    assert len(body) < 120 and "host name" in body, body
    assert_tells_nothing(body)
    # A host of ours is answered as before.
    assert client.get("/static/css/app.css", HTTP_HOST="localhost").status_code == 200


def test_runserver_in_debug_answers_a_foreign_host_with_a_short_plain_400(tmp_path):
    """What `make run PODSTUDIO_DEBUG=true` serves, asked over HTTP for a host it does not serve."""
    with runserver(tmp_path / "runserver.log", PODSTUDIO_DEBUG="true", **{CANARY: "canary-41"},
                   PODSTUDIO_SQLITE_PATH=str(tmp_path / "db.sqlite3")) as port:
        status, headers, body = get(port, "/x", FOREIGN_HOST)
        assert status == 400
        assert headers["content-type"] == "text/plain; charset=utf-8"
        text = body.decode()
        assert len(text) < 120 and "host name" in text, text
        assert_tells_nothing(text)
        assert CANARY not in text and "canary-41" not in text
        # Still a working development server for its own names.
        assert get(port, "/static/css/app.css", f"127.0.0.1:{port}")[0] == 200


def test_make_run_without_debug_serves_static_files_and_a_friendly_404(tmp_path):
    """DEBUG is off by default now: `make run` still serves static files (WhiteNoise with finders)."""
    with runserver(tmp_path / "runserver.log", PODSTUDIO_SQLITE_PATH=str(tmp_path / "db.sqlite3")) as port:
        status, headers, body = get(port, "/static/css/app.css", f"localhost:{port}")
        assert status == 200 and headers["content-type"].startswith("text/css") and body
        assert get(port, "/static/favicon.svg", f"localhost:{port}")[0] == 200
        status, _, body = get(port, "/no/such/page", f"localhost:{port}")
        assert status == 404 and b"Page not found" in body
        assert_tells_nothing(body.decode())


def test_debug_is_off_by_default_in_both_modes_and_on_only_when_asked():
    code = "from django.conf import settings; print(settings.DEBUG)"
    assert run_python(code).stdout.strip() == "False"
    assert run_python(code, PODSTUDIO_AUTH="required", PODSTUDIO_SECRET_KEY="k" * 50).stdout.strip() == "False"
    assert run_python(code, PODSTUDIO_DEBUG="true").stdout.strip() == "True"


def test_a_404_page_is_small_and_friendly(client, db):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    page = response.content.decode()
    assert "Page not found" in page and 'href="/"' in page
    assert_tells_nothing(page)
    # Under /api/ a 404 is still JSON (docs/api.md).
    api = client.get("/api/v1/no-such-endpoint")
    assert api.status_code == 404 and "no API endpoint" in api.json()["error"]


def test_the_500_page_needs_no_database_and_no_context_processors():
    # Django's server_error renders it with an empty context: no request, no context processors.
    page = loader.get_template("500.html").render()
    assert "Something went wrong" in page
    assert_tells_nothing(page)


@pytest.mark.urls(__name__)
def test_a_crash_shows_the_small_500_page(client):
    # No `db` fixture: the page must not touch the database (pytest-django would refuse).
    client.raise_request_exception = False
    response = client.get("/boom")
    assert response.status_code == 500
    page = response.content.decode()
    assert "Something went wrong" in page and "a bug" not in page
    assert '<meta name="color-scheme" content="light dark">' in page  # dark with a dark system, unstyled
    assert_tells_nothing(page)
