import os

import pytest
from django.test import RequestFactory
from django.test.client import ClientMixin
from hypothesis import settings

pytest_plugins = [
    "tests.support.controlplane_fixtures",
    "tests.support.faultproxy_fixtures",
    "tests.support.realcluster_report",
    "tests.support.browser",
    "tests.support.streams",
    "tests.support.users",
    "tests.support.postgres_fixtures",
]

# CI replays the same examples every run: a red CI then means a change broke something, not that
# the dice found an old bug. Exploration with fresh random examples happens on developers' runs.
settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI"):
    settings.load_profile("ci")


# django-axes' backend (login throttling) refuses authenticate() without a request, so that a login
# view forgetting to pass one fails loudly instead of going unthrottled. The test client's login()
# passes none: give it a request from the test client's address, so tests log in as before and
# their logins count (and reset counts) like real ones. Counts live in the test database, which
# every test starts empty.
_login = ClientMixin.login


def _login_with_a_request(self, **credentials):
    credentials.setdefault("request", RequestFactory().post("/accounts/login/"))
    return _login(self, **credentials)


ClientMixin.login = _login_with_a_request


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix, request):
    """PODSTUDIO_TEST_DATABASE=postgres: the test database lives in the throwaway PostgreSQL cluster
    (tests/support/postgres_fixtures.py); otherwise it is SQLite, as the settings say."""
    from tests.support import postgres_fixtures  # a plugin (above): imported here, after pytest rewrote it

    if postgres_fixtures.chosen_database() == "postgres":
        postgres_fixtures.point_django_at(request.getfixturevalue("postgres_cluster"))
