"""The deploy history (page and API): filtered by the person's rights in the query, then paginated;
and the deploy gate validating at the same Kubernetes version as the composer page."""

from __future__ import annotations

import json

import pytest

from composer.domain.examples import EXAMPLES_BY_ID
from composer.models import DeployRecord, SavedComposition
from tests.support.users import grant


def records(count: int, *, context: str, namespace: str = "default") -> None:
    DeployRecord.objects.bulk_create(
        DeployRecord(composition_name=f"app-{index}", revision=1, action="deploy", context=context,
                     namespace=namespace, user="root", manifest_yaml="", outcome="succeeded")
        for index in range(count)
    )


def test_the_history_shows_the_records_one_may_see_even_behind_many_others(client, team, alice):
    records(5, context="staging")
    records(400, context="prod")  # newer than every staging record
    grant(alice, "staging", can_view=True)
    client.force_login(alice)
    listed = client.get("/api/v1/deployments").json()
    assert listed["count"] == 5 and {d["context"] for d in listed["deployments"]} == {"staging"}
    page = client.get("/deployments/").content.decode()
    assert page.count("staging/default") == 5 and "prod/default" not in page


def test_namespace_rules_filter_in_the_query_too(client, team, alice):
    records(3, context="staging", namespace="team-a-web")
    records(3, context="staging", namespace="kube-system")
    grant(alice, "stag*", "team-a-*", can_view=True)
    client.force_login(alice)
    listed = client.get("/api/v1/deployments").json()
    assert {d["namespace"] for d in listed["deployments"]} == {"team-a-web"}


def test_the_api_list_is_paginated(client, db):
    records(120, context="staging")
    first = client.get("/api/v1/deployments").json()
    assert (first["count"], first["page"], first["pages"], first["next"], first["previous"]) == (120, 1, 3, 2, None)
    assert len(first["deployments"]) == 50
    last = client.get("/api/v1/deployments", {"page": 3}).json()
    assert len(last["deployments"]) == 20 and last["next"] is None and last["previous"] == 2
    ids = [d["id"] for p in (1, 2, 3) for d in client.get("/api/v1/deployments", {"page": p}).json()["deployments"]]
    assert len(set(ids)) == 120 and ids == sorted(ids, reverse=True)
    small = client.get("/api/v1/deployments", {"per_page": 7, "page": "999"}).json()
    assert small["page"] == small["pages"] == 18 and len(small["deployments"]) == 1
    assert client.get("/api/v1/deployments", {"page": "x", "per_page": "-3"}).json()["page"] == 1


def test_the_history_page_is_paginated_with_links(client, db):
    records(60, context="staging")
    first = client.get("/deployments/").content.decode()
    assert "Page 1 of 2 (60 records)" in first and 'rel="next" href="?page=2"' in first
    second = client.get("/deployments/", {"page": 2}).content.decode()
    assert second.count("staging/default") == 10 and 'rel="prev" href="?page=1"' in second


@pytest.mark.parametrize("version, refused", [("1.33.0", True), ("1.37.0", False)])
def test_the_deploy_gate_validates_at_the_pages_kubernetes_version(client, db, settings, real_target, version,
                                                                   refused):
    settings.PODSTUDIO_KUBERNETES_VERSION = version
    composition = EXAMPLES_BY_ID["log-tailer"].build()
    composition.options.extra = {"hostnameOverride": "web"}  # a Pod field since Kubernetes 1.34
    saved = SavedComposition.create(composition)
    problems = client.get(f"/api/v1/compositions/{saved.pk}/problems").json()
    assert (problems["errors"] > 0) is refused
    response = client.post(f"/api/v1/compositions/{saved.pk}/deploy",
                           json.dumps({"context": real_target.context, "namespace": real_target.namespace}),
                           content_type="application/json")
    if refused:
        assert response.status_code == 400 and "hostnameOverride" in response.json()["error"]
        assert real_target.live("Pod", "timecheck") is None
    else:
        # Past the gate, the real 1.37 server takes the field.
        assert response.status_code == 201, response.content
        assert real_target.live("Pod", "timecheck")["spec"]["hostnameOverride"] == "web"
