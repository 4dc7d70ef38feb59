"""Team mode: the runtime page, its streams and its API need a login and the VIEW right on the context."""

import pytest
from django.contrib.auth.models import Group, User

from composer.models import ContextPermission
from tests.support.runtime import SseReader, pod_manifest, record_for

pytestmark = [pytest.mark.django_db]

RUNTIME_PATHS = [
    "/deployments/{pk}/runtime",
    "/deployments/{pk}/runtime/status",
    "/deployments/{pk}/runtime/status/stream",
    "/deployments/{pk}/runtime/logs?pod=web&container=app",
    "/deployments/{pk}/runtime/logs/stream?pod=web&container=app&follow=1",
    "/api/v1/deployments/{pk}/status",
    "/api/v1/deployments/{pk}/logs?container=app",
    "/api/v1/deployments/{pk}/logs/stream?container=app",
]


@pytest.fixture(autouse=True)
def team(settings):
    settings.PODSTUDIO_TEAM_MODE = True
    settings.PODSTUDIO_SSE_HEARTBEAT = 0.2


@pytest.fixture
def record(standin_target):
    manifest = pod_manifest("web", init=(), sidecars=())
    standin_target.server.put_object(manifest)
    standin_target.server.add_log("default", "web", "app", "hello")
    return record_for(manifest)


@pytest.fixture
def alice(db):
    return User.objects.create_user("alice", password="wonderland-42")


def grant_view(user, pattern="stand-in"):
    group, _ = Group.objects.get_or_create(name=f"{user.username}-viewers")
    group.user_set.add(user)
    ContextPermission.objects.create(group=group, context_pattern=pattern, can_view=True)


@pytest.mark.parametrize("path", RUNTIME_PATHS)
def test_anonymous_visitors_get_nothing(client, record, path):
    response = client.get(path.format(pk=record.pk))
    assert response.status_code in (302, 401)


@pytest.mark.parametrize("path", RUNTIME_PATHS)
def test_without_the_view_right_the_deploy_is_not_there(client, record, alice, path):
    grant_view(alice, "other-*")
    client.force_login(alice)
    response = client.get(path.format(pk=record.pk))
    assert response.status_code == 404


def test_with_the_view_right_everything_works(client, record, alice):
    grant_view(alice)
    client.force_login(alice)
    assert "hello" in client.get(f"/deployments/{record.pk}/runtime?container=app&follow=0&tail=10").content.decode()
    assert client.get(f"/api/v1/deployments/{record.pk}/status").json()["pods"][0]["name"] == "web"
    reader = SseReader(client.get(f"/deployments/{record.pk}/runtime/status/stream"))
    try:
        assert "Pod <span class=\"mono\">web</span>" in reader.next("status").data
    finally:
        reader.close()
