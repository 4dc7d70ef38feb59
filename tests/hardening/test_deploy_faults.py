"""Cluster faults during deploy, diff and undeploy, on the real local control plane.

The server hangs up, stalls past the client's timeout, or answers 500/503/429, on the first or a
later object. Each time: a clear message, a DeployRecord with the outcome and what was (not)
applied, the HTTP status of the failure, and nothing partial presented as a success. Log and
status streaming faults are not covered here (that code is being built elsewhere).

Pod Studio talks to the real kube-apiserver (tests/support/controlplane.py) through the
fault-injecting proxy (tests/support/faultproxy.py, context ``faulty``), in a fresh namespace per
test; what "the server has" is asked of the API server itself.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from composer.cluster import contexts
from composer.domain import edits
from composer.domain.examples import EXAMPLES_BY_ID
from composer.models import DeployRecord, SavedComposition
from tests.hardening import api_error
from tests.support.faultproxy import FAULTY_CONTEXT, FaultProxy, wait_for

SHORT = contexts.Timeouts(connect=2.0, read=0.5)
STALL = 2.0  # seconds: well past SHORT.read


@pytest.fixture
def short_timeouts(monkeypatch):
    monkeypatch.setattr(contexts, "DEFAULT_TIMEOUTS", SHORT)


@dataclass
class Target:
    """Where a test deploys (the proxy's context, a fresh namespace) and the proxy that injects faults."""

    namespace: str
    proxy: FaultProxy
    context: str = FAULTY_CONTEXT

    @property
    def token(self) -> str:
        return self.proxy.token

    def inject(self, method: str | None, path: str, **options: Any) -> None:
        self.proxy.inject(method, path, **options)

    def clear_faults(self) -> None:
        self.proxy.clear_faults()

    def requests_matching(self, method: str, path: str) -> list:
        return self.proxy.requests_matching(method, path)

    def get(self, kind: str, name: str) -> dict[str, Any] | None:
        """The object as the server has it (straight from the API server, no faults), or None."""
        return self.proxy.get_object(f"/api/v1/namespaces/{self.namespace}/{kind.lower()}s/{name}")

    def gone(self, kind: str, name: str) -> bool:
        """Whether the object is gone: the API server deletes a Pod once the kubelet (kwok) let it go."""
        return wait_for(lambda: self.get(kind, name) is None, timeout=15)

    def untrusted_kubeconfig(self, path: Path) -> Path:
        """A kubeconfig for the same proxy without its CA: its certificate cannot be verified."""
        return self.proxy.write_kubeconfig(path, namespace=self.namespace, trusted=False)

    def forget(self, namespace: str) -> None:
        """Delete a namespace a test made."""
        self.proxy.upstream("DELETE", f"/api/v1/namespaces/{namespace}")


@pytest.fixture
def target(fault_proxy, cluster_namespace: str, monkeypatch: pytest.MonkeyPatch) -> Target:
    fault_proxy.write_kubeconfig(fault_proxy.kubeconfig, namespace=cluster_namespace)
    monkeypatch.setenv("KUBECONFIG", str(fault_proxy.kubeconfig))
    return Target(cluster_namespace, fault_proxy)


def saved(example: str, native_sidecar: bool = False) -> SavedComposition:
    composition = EXAMPLES_BY_ID[example].build()
    if native_sidecar:
        edits.set_native_sidecar(composition, composition.helpers[0].id, True)
    return SavedComposition.create(composition)


def deploy(client, target: Target, composition: SavedComposition, **flags):
    body = {"context": target.context, "namespace": target.namespace, **flags}
    return client.post(f"/api/v1/compositions/{composition.pk}/deploy", json.dumps(body),
                       content_type="application/json")


@dataclass(frozen=True)
class Fault:
    id: str
    example: str  # exporter: Service then Pod es-metrics; log-tailer: Pod timecheck
    inject: tuple[str | None, str, dict[str, Any]]  # method, path regex, FaultProxy.inject keywords
    status: int
    kind: str
    outcome: str
    results: list[tuple[str, str]]  # (kind, outcome) per object
    words: list[str] = field(default_factory=list)
    flags: dict[str, Any] = field(default_factory=dict)
    native_sidecar: bool = False
    bug: str = ""  # a known bug: the case xfails strictly with this reason




FAULTS = [
    Fault("hang-up-on-the-first-object", "exporter", ("PATCH", r"/services/", {"drop": True}), 502, "unreachable",
          "failed", [("Service", "failed"), ("Pod", "not_attempted")],
          ["closed the connection without answering", "Not attempted: Pod es-metrics"]),
    Fault("hang-up-on-the-second-object", "exporter", ("PATCH", r"/pods/", {"drop": True}), 502, "unreachable",
          "partial", [("Service", "created"), ("Pod", "failed")],
          ["closed the connection without answering", "Applied before it: Service es-metrics"]),
    Fault("hang-up-on-the-live-read", "log-tailer", ("GET", r"/pods/timecheck$", {"drop": True, "times": None}),
          502, "unreachable", "failed", [("Pod", "failed")], ["closed the connection"]),
    Fault("stall-on-the-live-read", "log-tailer", ("GET", r"/pods/timecheck$", {"stall": STALL}), 504, "timeout",
          "failed", [("Pod", "failed")], ["did not answer within 0.5 s"]),
    Fault("stall-on-the-version-check", "log-tailer", ("GET", r"^/version$", {"stall": STALL}), 504, "timeout",
          "failed", [], ["did not answer within 0.5 s"], native_sidecar=True),
    Fault("500-on-the-live-read", "exporter", ("GET", r"/services/es-metrics$", {"status": 500}), 502, "server",
          "failed", [("Service", "failed"), ("Pod", "not_attempted")], ["reported an error (500)"]),
    Fault("503-on-the-second-object", "exporter", ("PATCH", r"/pods/", {"status": 503}), 502, "server", "partial",
          [("Service", "created"), ("Pod", "failed")], ["(503)", "Applied before it: Service es-metrics"]),
    Fault("429-on-the-second-object", "exporter", ("PATCH", r"/pods/", {"status": 429, "times": None}), 429,
          "rate_limited", "partial", [("Service", "created"), ("Pod", "failed")],
          ["rate limiting", "try again in 1 s", "Applied before it: Service es-metrics"]),
    Fault("429-on-the-version-check", "log-tailer", ("GET", r"^/version$", {"status": 429, "times": None}), 429,
          "rate_limited", "failed", [], ["rate limiting"], native_sidecar=True),
    Fault("429-on-the-live-read", "exporter", ("GET", r"/pods/es-metrics$", {"status": 429, "times": None}), 429,
          "rate_limited", "partial", [("Service", "created"), ("Pod", "failed")], ["rate limiting"]),
    Fault("500-creating-the-namespace", "log-tailer", ("POST", r"^/api/v1/namespaces$", {"status": 500}), 502,
          "server", "failed", [], ["reported an error (500)"], flags={"create_namespace": True}),
]


@pytest.mark.parametrize("fault", [
    pytest.param(f, id=f.id, marks=[pytest.mark.xfail(strict=True, reason=f.bug)] if f.bug else []) for f in FAULTS
])
def test_a_fault_is_reported_recorded_and_never_a_success(client, db, target, short_timeouts, fault):
    method, path, options = fault.inject
    target.inject(method, path, **options)
    composition = saved(fault.example, fault.native_sidecar)
    flags = dict(fault.flags)
    if flags.get("create_namespace"):  # a namespace that does not exist yet
        target.namespace = f"{target.namespace}-new"
    try:
        response = deploy(client, target, composition, **flags)
    finally:
        if flags.get("create_namespace"):
            target.forget(target.namespace)

    assert response.status_code == fault.status, response.content[:400]
    body = response.json()
    assert (body["outcome"], body["error_kind"]) == (fault.outcome, fault.kind)
    assert [(r["kind"], r["outcome"]) for r in body["results"]] == fault.results
    for words in fault.words:
        assert words in body["message"]
    assert target.token not in response.content.decode()

    record = DeployRecord.objects.get(pk=body["id"])
    assert (record.outcome, record.error_kind, record.message) == (fault.outcome, fault.kind, body["message"])
    assert record.results == body["results"]
    # What the record says was applied is what the server has: nothing claimed that is not there.
    applied = [r for r in body["results"] if r["outcome"] in ("created", "configured", "unchanged")]
    for result in applied:
        assert target.get(result["kind"], result["name"]) is not None
    # ... and what failed or was not attempted is not there either (each test starts with none).
    for result in body["results"]:
        if result["outcome"] in ("failed", "not_attempted"):
            assert target.get(result["kind"], result["name"]) is None, result
    page = client.get(record.get_absolute_url()).content.decode()
    assert ("partly applied" if fault.outcome == "partial" else ": failed") in page


def test_a_write_that_was_sent_is_never_repeated(client, db, target, short_timeouts):
    """After a hang-up mid-request the client does not resend the PATCH (it could apply twice)."""
    target.inject("PATCH", r"/pods/", drop=True, times=1)
    response = deploy(client, target, saved("log-tailer"))
    assert response.status_code == 502
    assert len(target.requests_matching("PATCH", r"/pods/timecheck$")) == 1
    assert target.get("Pod", "timecheck") is None


def test_a_timed_out_write_says_it_may_have_been_applied(client, db, target, short_timeouts):
    target.inject("PATCH", r"/pods/", stall=STALL)
    body = deploy(client, target, saved("log-tailer")).json()
    assert body["error_kind"] == "timeout"
    assert "may have been applied after Pod Studio stopped waiting" in body["message"]


def test_a_hang_up_after_the_write_was_answered_says_it_may_have_been_applied(client, db, target, short_timeouts):
    target.inject("PATCH", r"/services/", drop_after_bytes=40)  # the server applied it; the answer is cut short
    body = deploy(client, target, saved("exporter")).json()
    assert target.get("Service", "es-metrics") is not None
    assert body["error_kind"] == "unreachable"
    assert "cut its answer short" in body["message"]
    assert "may have been applied before the connection broke" in body["message"]


def test_a_timed_out_write_is_recorded_as_failed_and_a_retry_settles_it(client, db, target, short_timeouts):
    target.inject("PATCH", r"/pods/", stall=1.0)
    composition = saved("log-tailer")
    first = deploy(client, target, composition)
    assert first.status_code == 504 and first.json()["outcome"] == "failed"
    target.clear_faults()
    # The proxy sends the stalled PATCH on after 1 s: the server applies it although nobody waits any more.
    wait_for(lambda: target.get("Pod", "timecheck"), timeout=10)
    again = deploy(client, target, composition)
    assert again.status_code == 201
    # The retry comes after the stalled write landed: it changes nothing.
    assert [r["outcome"] for r in again.json()["results"]] == ["unchanged"]
    assert list(DeployRecord.objects.order_by("pk").values_list("outcome", flat=True)) == ["failed", "succeeded"]


def test_a_fault_while_undeploying_is_recorded_with_what_was_deleted(client, db, target, short_timeouts):
    deployed = deploy(client, target, saved("config-merger")).json()
    assert deployed["outcome"] == "succeeded"
    target.inject("DELETE", r"/configmaps/", drop=True)
    response = client.delete(f"/api/v1/deployments/{deployed['id']}")
    assert response.status_code == 502
    body = response.json()
    assert (body["action"], body["outcome"], body["error_kind"]) == ("undeploy", "partial", "unreachable")
    assert [(r["kind"], r["outcome"]) for r in body["results"]] == [("Pod", "deleted"), ("ConfigMap", "failed")]
    assert "ConfigMap merged-config-merge-config failed" in body["message"]
    assert target.gone("Pod", "merged-config")
    assert target.get("ConfigMap", "merged-config-merge-config") is not None
    assert DeployRecord.objects.get(pk=body["id"]).undeploy_of_id == deployed["id"]


def test_a_partial_undeploy_says_what_it_deleted(client, db, target, short_timeouts):
    deployed = deploy(client, target, saved("config-merger")).json()
    target.inject("DELETE", r"/configmaps/", status=500)
    body = client.delete(f"/api/v1/deployments/{deployed['id']}").json()
    assert "Deleted before it: Pod merged-config" in body["message"]


def test_a_429_while_undeploying_says_rate_limited(client, db, target, short_timeouts):
    """DELETE is another method urllib3 retries by itself on Retry-After."""
    deployed = deploy(client, target, saved("log-tailer")).json()
    target.inject("DELETE", r"/pods/", status=429, times=None)
    response = client.delete(f"/api/v1/deployments/{deployed['id']}")
    assert response.json()["outcome"] == "failed"
    assert (response.status_code, response.json()["error_kind"]) == (429, "rate_limited")
    assert target.get("Pod", "timecheck") is not None  # nothing was deleted behind the 429


@pytest.mark.parametrize(("fault", "status", "words"), [
    ({"status": 500}, 502, "reported an error (500)"),
    ({"stall": STALL}, 504, "did not answer within 0.5 s"),
    ({"drop": True, "times": None}, 502, "closed the connection"),
])
def test_diff_faults_are_json_errors_and_recorded_as_failed_diffs(client, db, target, short_timeouts, fault,
                                                                  status, words):
    target.inject("PATCH", r"/pods/", **fault)
    composition = saved("log-tailer")
    response = client.post(f"/api/v1/compositions/{composition.pk}/diff",
                           json.dumps({"context": target.context, "namespace": target.namespace}),
                           content_type="application/json")
    assert response.status_code == status
    assert words in api_error(response)
    [record] = DeployRecord.objects.all()
    assert (record.action, record.outcome) == ("diff", "failed") and words in record.message
    assert target.get("Pod", "timecheck") is None  # a diff (server dry run) never applies


def test_the_deploy_panel_never_shows_a_partial_deploy_as_a_success(client, db, target, short_timeouts):
    target.inject("PATCH", r"/pods/", drop=True)
    composition = saved("exporter")
    response = client.post(f"/c/{composition.pk}/deploy", {"context": target.context, "namespace": target.namespace},
                           HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Deploy partly applied" in html and 'role="alert"' in html
    assert "succeeded" not in html
    assert "closed the connection without answering" in html


def test_a_stalled_namespace_list_explains_itself_in_time(client, db, target, short_timeouts):
    target.inject("GET", r"^/api/v1/namespaces$", stall=STALL)
    composition = saved("log-tailer")
    response = client.get(f"/c/{composition.pk}/deploy/namespaces", {"context": target.context})
    assert response.status_code == 200
    assert "Namespaces can't be listed" in response.content.decode()
    assert "did not answer within 0.5 s" in response.content.decode()


def test_a_redeploy_that_fails_leads_to_its_failed_record(client, db, target, short_timeouts):
    first = deploy(client, target, saved("log-tailer")).json()
    target.inject("PATCH", r"/pods/", status=503)
    response = client.post(f"/deployments/{first['id']}/redeploy")
    assert response.status_code == 302
    record = DeployRecord.objects.order_by("-pk").first()
    assert response["Location"] == record.get_absolute_url()
    assert (record.outcome, record.error_kind) == ("failed", "server")


def test_an_untrusted_certificate_is_unreachable_securely_without_leaking_the_token(client, db, target,
                                                                                     tmp_path, monkeypatch):
    monkeypatch.setenv("KUBECONFIG", str(target.untrusted_kubeconfig(tmp_path / "config")))
    response = deploy(client, target, saved("log-tailer"))
    assert response.status_code == 502
    body = response.json()
    assert body["error_kind"] == "unreachable" and "could not be reached securely" in body["message"]
    assert target.token not in response.content.decode()
    assert target.proxy.requests == []  # no request got past the TLS handshake
