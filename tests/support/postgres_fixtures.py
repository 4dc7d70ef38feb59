"""Which database the tests run on, and the throwaway PostgreSQL cluster (a pytest plugin, see
tests/conftest.py; docs/testing.md, "Two databases").

- ``PODSTUDIO_TEST_DATABASE``: ``sqlite`` (the default: Django's in-memory test database) or
  ``postgres``: Django's test database is created in ``postgres_cluster``, with the connection
  settings team mode derives from ``DATABASE_URL`` (podstudio/settings.py, ``database_from_url``).
- ``postgres_cluster`` (session): a started ``PostgresCluster``, stopped at the end of the session.
  Without PostgreSQL's server programs it skips with a one-line reason; with
  ``PODSTUDIO_REAL_POSTGRES=1`` (``make test``) it fails instead, so CI cannot pass by skipping.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

import pytest

from tests.support.postgres import PostgresCluster, PostgresUnavailable

DATABASE_ENV = "PODSTUDIO_TEST_DATABASE"
REQUIRED_ENV = "PODSTUDIO_REAL_POSTGRES"
CHOICES = ("sqlite", "postgres")


def chosen_database() -> str:
    choice = os.environ.get(DATABASE_ENV, "sqlite").strip().lower() or "sqlite"
    if choice not in CHOICES:
        raise pytest.UsageError(f"{DATABASE_ENV}={choice!r}: choose one of {', '.join(CHOICES)}")
    return choice


def pytest_configure(config: pytest.Config) -> None:
    chosen_database()  # a typo in the variable stops the run before anything runs on the wrong database


def pytest_report_header(config: pytest.Config) -> str:
    return f"database: {chosen_database()} ({DATABASE_ENV})"


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[PostgresCluster]:
    try:
        # In the system's temporary directory, not pytest's: as root, pytest's is closed to the
        # account PostgreSQL runs as.
        cluster = PostgresCluster().start()
    except PostgresUnavailable as error:
        if os.environ.get(REQUIRED_ENV) == "1":
            pytest.fail(f"{REQUIRED_ENV}=1 but {error}", pytrace=False)
        pytest.skip(f"needs PostgreSQL: {error}")
    try:
        yield cluster
    finally:
        cluster.stop()


def point_django_at(cluster: PostgresCluster) -> None:
    """Django's ``default`` database becomes the cluster, configured as team mode configures it
    (podstudio/settings.py with DATABASE_URL)."""
    from django.conf import settings
    from django.db import connections

    from podstudio.settings import database_from_url

    default = settings.DATABASES["default"]  # the dict Django's connection handler reads: changed in place
    default.update({"OPTIONS": {}, **database_from_url(cluster.url)})
    default["TEST"] = {**default.get("TEST", {}), "NAME": None}
    with contextlib.suppress(AttributeError):  # a connection made before, for SQLite, is dropped
        connections["default"].close()
        del connections["default"]
