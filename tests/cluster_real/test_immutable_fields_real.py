"""Fields other than a Pod's that a real API server (1.37) will not change once set, and how each
refusal reaches the user: as 'immutable' (recreate), never as a plain invalid manifest."""

from __future__ import annotations

from typing import Any

import pytest

from composer.cluster import apply_manifests

ADMIN = "local-admin"


@pytest.fixture
def ns(control_plane, cluster_namespace: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("KUBECONFIG", str(control_plane.kubeconfig))
    return cluster_namespace


def service(cluster_ip: str | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {"selector": {"app": "web"}, "ports": [{"name": "http", "port": 80, "targetPort": 8080}]}
    if cluster_ip:
        spec["clusterIP"] = cluster_ip
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"}, "spec": spec}


def deployment(selector: dict[str, str]) -> dict[str, Any]:
    labels = {"app": "web", "version": "v2"}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web"},
        "spec": {
            "selector": {"matchLabels": selector},
            "template": {"metadata": {"labels": labels}, "spec": {"containers": [{"name": "app", "image": "nginx"}]}},
        },
    }


def test_a_new_cluster_ip_for_a_service_is_immutable_and_names_the_field(ns) -> None:
    [created] = apply_manifests(ADMIN, ns, [service()])
    assigned = created.object["spec"]["clusterIP"]
    octets = assigned.split(".")
    other = ".".join([*octets[:3], str((int(octets[3]) + 1) % 250 + 2)])

    [refused] = apply_manifests(ADMIN, ns, [service(cluster_ip=other)])

    assert (refused.outcome, refused.error_kind, refused.status) == ("failed", "immutable", 422)
    assert refused.message.startswith("Service 'web': spec.clusterIPs[0]")
    assert refused.message.endswith(
        "cannot be changed once created. Delete and recreate the Service to apply this change."
    )
    assert any("may not change once set" in cause["message"] for cause in refused.details["causes"])


@pytest.mark.parametrize("kind", ["Deployment", "ReplicaSet", "DaemonSet", "StatefulSet"])
def test_a_changed_controller_selector_is_immutable(ns, kind: str) -> None:
    def controller(selector: dict[str, str]) -> dict[str, Any]:
        manifest = {**deployment(selector), "kind": kind}
        if kind == "StatefulSet":
            manifest["spec"]["serviceName"] = "web"
        return manifest

    apply_manifests(ADMIN, ns, [controller({"app": "web"})])

    [refused] = apply_manifests(ADMIN, ns, [controller({"app": "web", "version": "v2"})])

    assert (refused.outcome, refused.error_kind, refused.status) == ("failed", "immutable", 422)
    assert "spec.selector" in refused.details["fields"]
    assert refused.message.endswith(f"Delete and recreate the {kind} to apply this change.")


def statefulset(service_name: str) -> dict[str, Any]:
    return {**deployment({"app": "web", "version": "v2"}), "kind": "StatefulSet",
            "spec": {**deployment({"app": "web", "version": "v2"})["spec"], "serviceName": service_name}}


@pytest.mark.parametrize(("field", "value"), [
    ("serviceName", "web-headless"),
    ("podManagementPolicy", "Parallel"),
    ("volumeClaimTemplates", [{"metadata": {"name": "data"}, "spec": {
        "accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}]),
])
def test_a_statefulset_s_fixed_fields_are_immutable_one_by_one(ns, field: str, value: Any) -> None:
    """1.37 names each field ("field is immutable"), no longer a Forbidden update of the whole spec."""
    apply_manifests(ADMIN, ns, [statefulset("web")])
    changed = statefulset("web")
    changed["spec"][field] = value

    [refused] = apply_manifests(ADMIN, ns, [changed])

    assert (refused.outcome, refused.error_kind, refused.status) == ("failed", "immutable", 422)
    assert refused.details["fields"] == [f"spec.{field}"]
    assert refused.message == (f"StatefulSet 'web': spec.{field} cannot be changed once created. Delete and "
                               "recreate the StatefulSet to apply this change.")
