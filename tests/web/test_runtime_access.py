"""Team mode: the runtime page, its streams and its API need a login and the VIEW right on the context.
Against the real local control plane: a Pod that kwok runs and whose log it serves."""

import pytest

from tests.support.realruntime import Cluster, cluster_fixture, pod  # noqa: F401 (the fixture ``cluster``)
from tests.support.runtime import SseReader, record_in
from tests.support.users import grant

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("team", "quick_streams")]

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


@pytest.fixture
def record(cluster: Cluster):
    manifest = cluster.create_pod(pod("web"))
    cluster.pod_when(manifest, lambda p: p.phase == "Running")
    cluster.set_logs("web", {"app": ["hello"]})
    return record_in(cluster, manifest)


@pytest.mark.parametrize("path", RUNTIME_PATHS)
def test_anonymous_visitors_get_nothing(client, record, path):
    response = client.get(path.format(pk=record.pk))
    assert response.status_code in (302, 401)


@pytest.mark.parametrize("path", RUNTIME_PATHS)
def test_without_the_view_right_the_deploy_is_not_there(client, record, alice, path):
    grant(alice, "other-*", can_view=True)
    client.force_login(alice)
    response = client.get(path.format(pk=record.pk))
    assert response.status_code == 404


def test_with_the_view_right_everything_works(client, record, alice):
    grant(alice, record.context, can_view=True)
    client.force_login(alice)
    assert "hello" in client.get(f"/deployments/{record.pk}/runtime?container=app&follow=0&tail=10").content.decode()
    assert client.get(f"/api/v1/deployments/{record.pk}/status").json()["pods"][0]["name"] == "web"
    reader = SseReader(client.get(f"/deployments/{record.pk}/runtime/status/stream"))
    try:
        assert "Pod <span class=\"mono\">web</span>" in reader.next("status").data
    finally:
        reader.close()
