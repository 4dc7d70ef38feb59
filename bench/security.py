"""The security review's classes of attack, measured: rewrites the access table of docs/reliability.md.

Run by ``.venv/bin/python -m bench.reliability`` after the import tables. Each case sends what an
attacker (or an unlucky user) would send, through the Django test client in team mode, to the real
local control plane (tests/support/controlplane.py) behind the fault-injecting proxy
(tests/support/faultproxy.py, which injects nothing here: its request log counts what reached the
cluster), in a fresh namespace per case, and records the status, the words of the refusal, how many
requests reached the cluster (a refusal must send none) and the time it took. The cases are
asserted by ``tests/hardening/test_security_campaign.py``; times are only recorded.
"""

from __future__ import annotations

import json
import secrets
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TRAVERSAL = "../../kube-system/secrets/victim"
PASSWORD = "wonderland-42"


@dataclass(frozen=True)
class Seen:
    status: int
    message: str
    cluster_requests: int
    seconds: float = 0.0


@dataclass(frozen=True)
class Cluster:
    """Where a case deploys: context ``faulty`` of the proxy in front of the control plane, a fresh namespace."""

    proxy: Any  # tests.support.faultproxy.FaultProxy
    namespace: str
    context: str = "faulty"

    def target(self, namespace: str = "", **flags: bool) -> dict[str, Any]:
        """A deploy body for this context and namespace (or another namespace)."""
        return {"context": self.context, "namespace": namespace or self.namespace, **flags}


@dataclass(frozen=True)
class SecurityCase:
    id: str
    group: str
    attempt: str  # what is tried, for the table
    status: int
    message: str
    run: Callable[[Any, Cluster], tuple[Any, int]]  # (client, cluster) -> (last response, cluster requests)


# --------------------------------------------------------------------------- helpers


def _json(client, method: str, url: str, body: Any) -> Any:
    return getattr(client, method)(url, json.dumps(body), content_type="application/json")


def _message(response) -> str:
    if response.get("Content-Type", "").startswith("application/json"):
        body = json.loads(response.content)
        # An error, or a deploy record whose message says why it failed.
        return " ".join(str(part) for part in (body.get("error") or body.get("message", ""), body.get("errors") or "")
                        if part)
    from bench.reliability import page_text

    return page_text(response.content.decode("utf-8", "replace"))


def _user(name: str, **rights: bool):
    from django.contrib.auth.models import Group, User

    from composer.models import ContextPermission

    user = User.objects.create_user(name, password=PASSWORD)
    group = Group.objects.create(name=f"{name}-team")
    group.user_set.add(user)
    namespaces = rights.pop("namespaces", "")
    ContextPermission.objects.create(group=group, context_pattern="faulty", namespace_pattern=namespaces, **rights)
    return user


def _composition(owner=None, example: str = "log-tailer", edit: Callable[[Any], None] | None = None):
    from composer.domain.examples import EXAMPLES_BY_ID
    from composer.models import SavedComposition

    composition = EXAMPLES_BY_ID[example].build()
    if edit:
        edit(composition)
    return SavedComposition.create(composition, owner=owner)


def _counted(cluster: Cluster, send: Callable[[], Any],
             methods: tuple[str, ...] = ("POST", "PATCH", "PUT", "DELETE")):
    """The response of ``send()``, and how many of the requests it made with ``methods`` reached the cluster."""
    before = len(cluster.proxy.requests)
    response = send()
    return response, sum(1 for r in cluster.proxy.requests[before:] if r.method in methods)


def _deploy_as(client, cluster: Cluster, rights: dict, body: dict, edit=None, path: str = "deploy"):
    user = _user("mallory", **rights)
    client.force_login(user)
    saved = _composition(user, edit=edit)
    return _counted(cluster, lambda: _json(client, "post", f"/api/v1/compositions/{saved.pk}/{path}", body),
                    ("GET", "POST", "PATCH", "PUT", "DELETE"))


# --------------------------------------------------------------------------- cases


def _signed_in(client, **rights: bool):
    """A person with every right in the cluster's context: what the check must stop is the input."""
    user = _user("mallory", can_deploy=True, can_undeploy=True, **rights)
    client.force_login(user)
    return user


def _traversal_in_api(client, cluster):
    _signed_in(client)
    body = {"extra_objects": [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": TRAVERSAL}}]}
    return _counted(cluster, lambda: _json(client, "post", "/api/v1/compositions", body))


def _traversal_in_import(client, cluster):
    _signed_in(client)
    manifests = (f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: '{TRAVERSAL}'}}\n---\n"
                 "apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec: {containers: [{name: a, image: b}]}\n")
    return _counted(cluster, lambda: client.post("/api/v1/compositions/import", manifests,
                                                 content_type="application/yaml"))


def _traversal_in_stored_composition(client, cluster):
    from composer.domain.examples import EXAMPLES_BY_ID
    from composer.models import SavedComposition

    data = EXAMPLES_BY_ID["log-tailer"].build().to_dict()
    data["extra_objects"] = [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": TRAVERSAL}}]
    saved = SavedComposition.objects.create(name="old", data=data, owner=_signed_in(client))
    return _counted(cluster, lambda: _json(client, "post", f"/api/v1/compositions/{saved.pk}/deploy",
                                           cluster.target(dry_run=True)),
                    ("GET", "PATCH"))


def _tampered_undeploy(tamper: dict) -> Callable[[Any, Cluster], tuple[Any, int]]:
    def run(client, cluster):
        saved = _composition(_signed_in(client))
        deployed = _json(client, "post", f"/api/v1/compositions/{saved.pk}/deploy", cluster.target()).json()
        from composer.models import DeployRecord

        record = DeployRecord.objects.get(pk=deployed["id"])
        record.results = [{**record.results[0], **tamper}, *record.results[1:]]
        record.save()
        return _counted(cluster, lambda: client.delete(f"/api/v1/deployments/{record.pk}"), ("DELETE",))

    return run


def _outside_the_namespace_rule(path: str) -> Callable[[Any, Cluster], tuple[Any, int]]:
    def run(client, cluster):
        return _deploy_as(client, cluster, {"namespaces": "team-a-*", "can_deploy": True},
                          cluster.target("kube-system"), path=path)

    return run


def _create_namespace_without_the_right(client, cluster):
    return _deploy_as(client, cluster, {"namespaces": "team-a-*", "can_deploy": True},
                      cluster.target("team-a-new", create_namespace=True))


def _privileged(edit: Callable[[Any], None]) -> Callable[[Any, Cluster], tuple[Any, int]]:
    def run(client, cluster):
        return _deploy_as(client, cluster, {"can_deploy": True}, cluster.target(), edit=edit)

    return run


def _host_pid(composition) -> None:
    composition.options.extra = {"hostPID": True}


def _host_path(composition) -> None:
    composition.options.volumes = [{"name": "root", "hostPath": {"path": "/"}}]
    composition.app.volume_mounts = [{"name": "root", "mountPath": "/host"}]


def _sys_admin(composition) -> None:
    composition.app.extra = {"securityContext": {"capabilities": {"add": ["SYS_ADMIN"]}}}


def _privileged_container(composition) -> None:
    composition.app.extra = {"securityContext": {"privileged": True}}


def _secret_in_api(client, cluster):
    _signed_in(client)
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db"}, "stringData": {"pw": "hunter2"}}
    return _counted(cluster, lambda: _json(client, "post", "/api/v1/compositions", {"extra_objects": [secret]}))


def _secret_in_import(client, cluster):
    _signed_in(client)
    manifests = ("apiVersion: v1\nkind: Secret\nmetadata: {name: db}\nstringData: {pw: hunter2}\n---\n"
                 "apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec: {containers: [{name: a, image: b}]}\n")
    return _counted(cluster, lambda: client.post("/api/v1/compositions/import", manifests,
                                                 content_type="application/yaml"))


def _password_guessing(client, cluster):
    from django.conf import settings

    _user("victim")
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        client.post("/accounts/login/", {"username": "victim", "password": f"guess-{attempt}"})
    return client.post("/accounts/login/", {"username": "victim", "password": PASSWORD}), 0


def _token_guessing(client, cluster):
    from django.conf import settings

    for attempt in range(settings.AXES_FAILURE_LIMIT):
        client.get("/api/v1/compositions", HTTP_AUTHORIZATION=f"Bearer ps_guess{attempt}")
    return client.get("/api/v1/compositions", HTTP_AUTHORIZATION="Bearer ps_one-more"), 0


def _stream_hog(client, cluster):
    from django.conf import settings
    from kubernetes import client as k8s

    from tests.support.manifests import pod
    from tests.support.runtime import record_for

    control_plane = cluster.proxy.control_plane
    with control_plane.api_client() as admin:
        k8s.CoreV1Api(admin).create_namespaced_pod(cluster.namespace, pod("web"))
    control_plane.set_pod_logs(cluster.namespace, "web", {"app": ["hello"]})  # waits until kwok serves them
    record = record_for(pod("web"), context=cluster.context, namespace=cluster.namespace)
    client.force_login(_user("hog", can_view=True))
    held = [client.get(f"/api/v1/deployments/{record.pk}/logs/stream?container=app")
            for _ in range(settings.PODSTUDIO_MAX_STREAMS_PER_USER)]
    try:
        return client.get(f"/api/v1/deployments/{record.pk}/logs/stream?container=app"), 0
    finally:
        for response in held:
            response.close()


CASES: tuple[SecurityCase, ...] = (
    SecurityCase("traversal-api", "path segments", f"a ConfigMap named `{TRAVERSAL}` through the API", 400,
                 "metadata.name", _traversal_in_api),
    SecurityCase("traversal-import", "path segments", "the same name in a YAML import", 400, "metadata.name",
                 _traversal_in_import),
    SecurityCase("traversal-stored", "path segments", "a dry run of a composition stored before names were checked",
                 400, "metadata.name", _traversal_in_stored_composition),
    SecurityCase("undeploy-foreign-name", "path segments", "undeploy of a record whose result names the traversal",
                 422, "lower-case letters", _tampered_undeploy({"name": TRAVERSAL})),
    SecurityCase("undeploy-foreign-namespace", "path segments", "undeploy of a record naming `kube-system`", 400,
                 "outside the deploy's namespace", _tampered_undeploy({"namespace": "kube-system"})),
    SecurityCase("undeploy-without-uid", "path segments", "undeploy of a record without uids", 400,
                 "delete them with kubectl", _tampered_undeploy({"uid": None})),
    SecurityCase("deploy-outside-namespaces", "namespace rules", "deploy to `kube-system` with a `team-a-*` rule",
                 403, "may not deploy in namespace 'kube-system'", _outside_the_namespace_rule("deploy")),
    SecurityCase("diff-outside-namespaces", "namespace rules", "diff against `kube-system` (reads live objects)",
                 403, "may not dry-run in namespace 'kube-system'", _outside_the_namespace_rule("diff")),
    SecurityCase("create-namespace", "namespace rules", "deploy with `create_namespace` and no such right", 403,
                 "may not create namespaces", _create_namespace_without_the_right),
    SecurityCase("privileged", "namespace rules", "a privileged container without the privileged right", 403,
                 "securityContext.privileged", _privileged(_privileged_container)),
    SecurityCase("host-pid", "namespace rules", "`hostPID: true`", 403, "spec.hostPID", _privileged(_host_pid)),
    SecurityCase("host-path", "namespace rules", "a `hostPath: /` volume", 403, "hostPath", _privileged(_host_path)),
    SecurityCase("sys-admin", "namespace rules", "`capabilities.add: [SYS_ADMIN]`", 403, "SYS_ADMIN",
                 _privileged(_sys_admin)),
    SecurityCase("secret-api", "Secrets", "a Secret with `stringData` through the API", 400,
                 "kubectl create secret generic", _secret_in_api),
    SecurityCase("secret-import", "Secrets", "a Secret beside a Pod in a YAML import (kept out, with a note)", 201,
                 "", _secret_in_import),
    SecurityCase("password-guessing", "throttling", "the right password after the limit of wrong ones", 429,
                 "Too many failed logins", _password_guessing),
    SecurityCase("token-guessing", "throttling", "one more bearer token after the limit of wrong ones", 429,
                 "too many failed API token attempts", _token_guessing),
    SecurityCase("stream-hog", "stream caps", "one viewer opening one stream more than the per-person cap", 429,
                 "the limit for one person", _stream_hog),
)


# --------------------------------------------------------------------------- running


@contextmanager
def team_mode_on(control_plane) -> Iterator[Cluster]:
    """Team mode, a fresh namespace on ``control_plane`` (a started tests.support.controlplane.ControlPlane)
    and a fault proxy in front of it whose kubeconfig (context ``faulty``) is ``KUBECONFIG``."""
    import os

    from django.test import override_settings

    from tests.support.controlplane_fixtures import wait_for_default_service_account
    from tests.support.faultproxy import FaultProxy

    namespace = f"sec-{secrets.token_hex(4)}"
    proxy = FaultProxy(control_plane, Path(tempfile.mkdtemp(prefix="podstudio-security-"))).start()
    status, body = proxy.upstream("POST", "/api/v1/namespaces", {"metadata": {"name": namespace}})
    assert status == 201, body
    with control_plane.api_client() as admin:
        wait_for_default_service_account(admin, namespace)  # Pods are refused before it exists
    proxy.write_kubeconfig(proxy.kubeconfig, namespace=namespace)
    previous = os.environ.get("KUBECONFIG")
    os.environ["KUBECONFIG"] = str(proxy.kubeconfig)
    try:
        with override_settings(PODSTUDIO_TEAM_MODE=True, PODSTUDIO_SSE_HEARTBEAT=0.2):
            yield Cluster(proxy, namespace)
    finally:
        proxy.stop()
        proxy.upstream("DELETE", f"/api/v1/namespaces/{namespace}")
        if previous is None:
            os.environ.pop("KUBECONFIG", None)
        else:
            os.environ["KUBECONFIG"] = previous


def run(client, cluster: Cluster, case: SecurityCase) -> Seen:
    start = time.perf_counter()
    response, sent = case.run(client, cluster)
    return Seen(response.status_code, _message(response), sent, time.perf_counter() - start)


def ok(case: SecurityCase, seen: Seen) -> bool:
    return seen.status == case.status and case.message in seen.message and seen.cluster_requests == 0


def fresh_database() -> None:
    """Each case starts from empty tables (no users, no records, no login failures)."""
    from django.core.management import call_command

    call_command("flush", interactive=False, verbosity=0)


def table(control_plane) -> tuple[list[str], list[str]]:
    from django.test import Client

    from bench.reliability import _cell

    rows = ["| class | case | attempt | expected | seen | requests to the cluster | ok | time ms |",
            "|---|---|---|---|---|---|---|---|"]
    failures = []
    for case in CASES:
        fresh_database()
        with team_mode_on(control_plane) as cluster:
            seen = run(Client(HTTP_HOST="localhost", raise_request_exception=False), cluster, case)
        mark = "✅" if ok(case, seen) else "❌"
        if mark != "✅":
            failures.append(f"{case.id}: {seen.status} {seen.message[:100]}")
        expected = f"{case.status}" + (f" “…{case.message}…”" if case.message else "")
        rows.append(f"| {case.group} | `{case.id}` | {_cell(case.attempt, 80)} | {_cell(expected, 60)} | "
                    f"{_cell(f'{seen.status} {seen.message}', 110)} | {seen.cluster_requests} | {mark} | "
                    f"{seen.seconds * 1000:,.1f} |")
    return rows, failures
