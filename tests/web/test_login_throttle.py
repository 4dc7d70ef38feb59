"""Login throttling (security review, item 7): django-axes with the rules of composer/throttle.py.

A user name and a client address are each locked after AXES_FAILURE_LIMIT failures (3 here, 10 by
default) and the answer is a 429 that says how long to wait; a successful login clears that user's
failures from that address; the admin's login and API tokens are throttled too. Counts are in the
test database, so every test starts with none.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.models import User
from django.test import RequestFactory
from django.utils import timezone

from composer.http.throttle import client_address, wait_words
from composer.services.access import issue_token
from tests.support.processes import run_python

LIMIT = 3
WAIT_SENTENCE = "Try again in 15 minutes"


@pytest.fixture(autouse=True)
def team_with_a_low_limit(team, settings):
    settings.AXES_FAILURE_LIMIT = LIMIT
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # many logins: fast ones


def log_in(client, username, password, address="10.0.0.1", url="/accounts/login/"):
    return client.post(url, {"username": username, "password": password}, REMOTE_ADDR=address)


def assert_locked_out(response, sentence=WAIT_SENTENCE, seconds=900):
    assert response.status_code == 429
    assert seconds - 5 <= int(response["Retry-After"]) <= seconds
    page = response.content.decode()
    assert "Too many failed logins" in page and sentence in page
    assert 'name="password"' in page  # the login form is still there, for after the wait


def assert_logged_in(response, client, user):
    assert response.status_code == 302, response.content.decode()[:500]
    assert client.session["_auth_user_id"] == str(user.pk)


def test_a_user_name_is_locked_after_the_limit_whatever_the_address(client, alice, bob):
    for attempt in range(1, LIMIT):
        refused = log_in(client, "alice", "guess", address=f"10.0.1.{attempt}")
        assert refused.status_code == 200 and "don't match" in refused.content.decode()
    assert_locked_out(log_in(client, "alice", "guess", address=f"10.0.1.{LIMIT}"))
    # The right password, from an address that never failed: still refused, and not logged in.
    assert_locked_out(log_in(client, "alice", "wonderland-42", address="10.0.9.9"))
    assert "_auth_user_id" not in client.session
    # Someone else, from an address that failed once for alice: not locked.
    assert_logged_in(log_in(client, "bob", "builder-42", address="10.0.1.1"), client, bob)


def test_an_address_is_locked_whatever_user_names_it_tries(client, alice):
    for name in ("root", "admin"):
        assert log_in(client, name, "guess", address="10.0.2.1").status_code == 200
    assert_locked_out(log_in(client, "operator", "guess", address="10.0.2.1"))
    assert_locked_out(log_in(client, "alice", "wonderland-42", address="10.0.2.1"))
    assert "_auth_user_id" not in client.session
    assert_logged_in(log_in(client, "alice", "wonderland-42", address="10.0.2.2"), client, alice)


def test_a_successful_login_clears_that_users_failures_from_that_address_only(client, alice, bob):
    for _ in range(LIMIT - 1):
        assert log_in(client, "alice", "typo").status_code == 200
    assert_logged_in(log_in(client, "alice", "wonderland-42"), client, alice)
    client.logout()
    for _ in range(LIMIT - 1):
        assert log_in(client, "alice", "typo").status_code == 200  # counting starts again
    assert_locked_out(log_in(client, "alice", "typo"))

    # bob's failures from 10.0.3.1 stay counted when someone logs in from there (axes' own
    # reset-on-success would forget every failure of the address).
    for _ in range(LIMIT - 1):
        assert log_in(client, "bob", "guess", address="10.0.3.1").status_code == 200
    User.objects.create_user("mallory", password="mine-42")
    assert log_in(client, "mallory", "mine-42", address="10.0.3.1").status_code == 302
    client.logout()
    assert_locked_out(log_in(client, "bob", "guess", address="10.0.3.1"))


def test_the_admin_login_is_throttled_and_counts_are_in_the_database(client, alice):
    alice.is_staff = alice.is_superuser = True
    alice.save()
    for _ in range(LIMIT - 1):
        assert log_in(client, "alice", "guess", url="/admin/login/").status_code == 200
    assert_locked_out(log_in(client, "alice", "guess", url="/admin/login/"))
    assert_locked_out(log_in(client, "alice", "wonderland-42", url="/admin/login/"))
    attempt = AccessAttempt.objects.get(username="alice")
    assert attempt.ip_address == "10.0.0.1" and attempt.path_info == "/admin/login/"
    assert attempt.failures_since_start == LIMIT  # refused attempts are not counted


def test_the_wait_is_counted_from_the_latest_counted_failure_and_refusals_do_not_extend_it(client, alice):
    for _ in range(LIMIT):
        log_in(client, "alice", "guess")
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=10))
    for _ in range(5):  # someone keeps trying: refused, not counted, the wait does not grow
        assert_locked_out(log_in(client, "alice", "guess"), "Try again in 5 minutes", seconds=300)
    assert AccessAttempt.objects.get().failures_since_start == LIMIT
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))
    assert_logged_in(log_in(client, "alice", "wonderland-42"), client, alice)


def test_failed_api_tokens_lock_out_their_address_with_a_json_429(client, alice):
    token = issue_token(alice, "ci")

    def call(key, address="10.0.4.1"):
        return client.get("/api/v1/compositions", HTTP_AUTHORIZATION=f"Bearer {key}", REMOTE_ADDR=address)

    assert call(token).status_code == 200
    for _ in range(LIMIT - 1):
        refused = call("ps_guess")
        assert refused.status_code == 401 and "unknown or revoked" in refused.json()["error"]
    locked = call("ps_guess")
    assert locked.status_code == 429 and 895 <= int(locked["Retry-After"]) <= 900
    assert "try again in 15 minutes" in locked.json()["error"]
    # A valid token from that address is refused too (else guessing could go on), from elsewhere not.
    assert call(token).status_code == 429
    assert call(token, address="10.0.4.2").status_code == 200
    # Token failures name no user: alice herself is not locked out.
    assert AccessAttempt.objects.get().username is None
    assert_logged_in(log_in(client, "alice", "wonderland-42", address="10.0.4.2"), client, alice)


def test_behind_a_proxy_the_address_is_the_one_the_proxy_saw(client, settings, alice):
    settings.PODSTUDIO_PROXY_COUNT = 1
    ingress = {"REMOTE_ADDR": "10.244.0.7"}
    for _ in range(LIMIT):
        client.post("/accounts/login/", {"username": "x", "password": "y"},
                    HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.5", **ingress)
    # Another client behind the same Ingress is not locked out with the first one.
    response = client.post("/accounts/login/", {"username": "alice", "password": "wonderland-42"},
                           HTTP_X_FORWARDED_FOR="203.0.113.6", **ingress)
    assert_logged_in(response, client, alice)
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"203.0.113.5"}


def test_client_address_without_proxies(settings):
    settings.PODSTUDIO_PROXY_COUNT = 0
    plain = RequestFactory().get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="6.6.6.6")
    assert client_address(plain) == "10.0.0.1"  # PODSTUDIO_PROXY_COUNT=0: the header is not trusted


@pytest.mark.parametrize(("header", "expected"), [
    ("6.6.6.6, 203.0.113.5", "203.0.113.5"),  # the left part is the client's to forge
    ("203.0.113.5", "203.0.113.5"),
    ("", "10.0.0.1"),
    ("not-an-address", "10.0.0.1"),
    ("2001:db8::1", "2001:db8::1"),
])
def test_client_address_behind_one_proxy(settings, header, expected):
    settings.PODSTUDIO_PROXY_COUNT = 1
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=header)
    assert client_address(request) == expected


def test_wait_words():
    assert wait_words(timedelta(minutes=15)) == "15 minutes"
    assert wait_words(timedelta(minutes=1)) == "1 minute"
    assert wait_words(timedelta(seconds=30)) == "30 seconds"
    assert wait_words(timedelta(seconds=90)) == "2 minutes"
    assert wait_words(timedelta(hours=2)) == "2 hours"


def test_limits_come_from_the_environment_with_sensible_defaults():
    code = ("from django.conf import settings as s; "
            "print(s.AXES_FAILURE_LIMIT, int(s.AXES_COOLOFF_TIME.total_seconds()), s.AXES_HANDLER, s.AXES_ENABLED)")
    assert run_python(code).stdout.split() == ["10", "900", "axes.handlers.database.AxesDatabaseHandler", "True"]
    tuned = run_python(code, PODSTUDIO_LOGIN_FAILURE_LIMIT="5", PODSTUDIO_LOGIN_COOLOFF_MINUTES="60")
    assert tuned.stdout.split()[:2] == ["5", "3600"]
