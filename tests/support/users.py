"""People for team-mode tests (a pytest plugin, see tests/conftest.py).

- ``team``: team mode on for the test;
- ``alice`` / ``bob``: ordinary accounts (passwords ``wonderland-42`` / ``builder-42``);
- ``grant(user, context_pattern="*", namespace_pattern="", **rights)``: a context permission through
  the user's own group, as an administrator would give it in the admin (by default on every context).
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, User

from composer.models import ContextPermission


@pytest.fixture
def team(settings):
    settings.PODSTUDIO_TEAM_MODE = True


@pytest.fixture
def alice(db) -> User:
    return User.objects.create_user("alice", password="wonderland-42")


@pytest.fixture
def bob(db) -> User:
    return User.objects.create_user("bob", password="builder-42")


def grant(user: User, pattern: str = "*", namespaces: str = "", **rights: bool) -> ContextPermission:
    group, _ = Group.objects.get_or_create(name=f"{user.username}-team")
    group.user_set.add(user)
    return ContextPermission.objects.create(group=group, context_pattern=pattern, namespace_pattern=namespaces,
                                            **rights)
