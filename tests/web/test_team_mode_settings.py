"""Team mode's start-up refusals and the password-reset pages (security review, item 14).

Team mode used to start with the public development secret key when PODSTUDIO_DEBUG=true (anyone
could then forge sessions), and `/accounts/password_reset/` was open and tried to mail through
localhost:25. Settings are read when Django starts, so these run it in a subprocess.
"""

from __future__ import annotations

import importlib

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.urls import clear_url_caches

import podstudio.urls
from tests.support.processes import run_manage, run_python

REFUSAL = "Team mode needs PODSTUDIO_SECRET_KEY"
RESET_URLS = ["/accounts/password_reset/", "/accounts/password_reset/done/", "/accounts/reset/MQ/set-password/",
              "/accounts/reset/done/"]

TEAM_MODES = {
    "auth": {"PODSTUDIO_AUTH": "required"},
    "bind": {"PODSTUDIO_BIND": "0.0.0.0"},
    "host": {"PODSTUDIO_ALLOWED_HOSTS": "pod-studio.example.com,localhost"},
}


CASES = [("auth", "true"), ("auth", "false"), ("auth", None), ("bind", "true"), ("host", "true")]


@pytest.mark.parametrize(("mode", "debug"), CASES, ids=[f"{m}-debug-{d or 'default'}" for m, d in CASES])
def test_team_mode_refuses_to_start_without_a_secret_key_whatever_debug_says(mode, debug):
    env = {**TEAM_MODES[mode], **({"PODSTUDIO_DEBUG": debug} if debug else {})}
    check = run_manage("check", **env)
    assert check.returncode != 0
    assert REFUSAL in check.stderr and "RuntimeError" in check.stderr
    if debug == "true":  # with a key it starts
        started = run_manage("check", PODSTUDIO_SECRET_KEY="k" * 50, **env)
        assert started.returncode == 0, started.stderr


def test_local_mode_still_starts_without_a_secret_key():
    check = run_manage("check", PODSTUDIO_DEBUG="true")
    assert check.returncode == 0, check.stderr


@pytest.mark.parametrize("team_mode", [False, True], ids=["local", "team"])
def test_password_reset_pages_do_not_exist_without_email(client, db, settings, team_mode):
    settings.PODSTUDIO_TEAM_MODE = team_mode
    User.objects.create_user("alice", email="alice@example.com", password="wonderland-42")
    for url in RESET_URLS:
        assert client.get(url).status_code == 404, url
    assert client.post("/accounts/password_reset/", {"email": "alice@example.com"}).status_code == 404
    assert mail.outbox == []
    # Logging in is not affected.
    assert client.get("/accounts/login/").status_code == 200


def test_email_settings_come_from_the_environment_and_enable_password_reset():
    code = ("from django.conf import settings as s; from django.urls import reverse; "
            "print(s.EMAIL_HOST, s.EMAIL_PORT, s.EMAIL_HOST_USER, s.EMAIL_HOST_PASSWORD, s.EMAIL_USE_TLS, "
            "s.DEFAULT_FROM_EMAIL, reverse('password_reset'))")
    configured = run_python(code, PODSTUDIO_EMAIL_HOST="smtp.example.com", PODSTUDIO_EMAIL_PORT="2525",
                            PODSTUDIO_EMAIL_USER="pod", PODSTUDIO_EMAIL_PASSWORD="pw",
                            PODSTUDIO_EMAIL_FROM="pod-studio@example.com")
    assert configured.stdout.split() == ["smtp.example.com", "2525", "pod", "pw", "True", "pod-studio@example.com",
                                         "/accounts/password_reset/"], configured.stderr
    unconfigured = run_python(code)
    assert unconfigured.returncode != 0 and "NoReverseMatch" in unconfigured.stderr


@pytest.fixture
def password_reset_on(settings):
    """As with PODSTUDIO_EMAIL_HOST set (the URLconf reads the setting when it is imported)."""
    original = settings.PODSTUDIO_PASSWORD_RESET
    settings.PODSTUDIO_PASSWORD_RESET = True
    importlib.reload(podstudio.urls)
    clear_url_caches()
    yield
    settings.PODSTUDIO_PASSWORD_RESET = original
    importlib.reload(podstudio.urls)
    clear_url_caches()


def test_with_email_configured_password_reset_mails_a_link_in_team_mode(client, db, settings, password_reset_on):
    settings.PODSTUDIO_TEAM_MODE = True
    User.objects.create_user("alice", email="alice@example.com", password="wonderland-42")
    assert client.get("/accounts/password_reset/").status_code == 200  # no login needed for this page
    sent = client.post("/accounts/password_reset/", {"email": "alice@example.com"})
    assert sent.status_code == 302 and sent.url == "/accounts/password_reset/done/"
    assert len(mail.outbox) == 1 and "/accounts/reset/" in mail.outbox[0].body
