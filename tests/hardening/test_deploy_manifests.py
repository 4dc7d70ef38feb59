"""Pod Studio's own Kubernetes manifests (deploy/kubernetes/, docs/operations.md).

- every manifest passes our schema validation, and the Deployment passes our own lint (imported
  as a composition, the way a user would bring it to Pod Studio);
- the Deployment is hardened as promised and its probes can reach /healthz in team mode;
- the RBAC grants exactly what composer/cluster asks a cluster for: each request of a deploy / diff /
  recreate / undeploy run against the real local control plane (through the fault proxy, which
  records every request) must be allowed by the Role and ClusterRole, and each grant used;
- `kubectl apply --server-side --dry-run=server` against the real local control plane accepts the
  whole directory and stores nothing;
- the containers' own commands (migrate, then uvicorn) serve /healthz to the probes' request.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from composer import cluster
from composer.cluster.feed import pod_statuses
from composer.domain import edits
from composer.domain.examples import EXAMPLES_BY_ID
from composer.domain.importer import import_manifests
from composer.domain.lint import lint
from composer.domain.patterns import CATALOG
from composer.domain.preview import preview
from composer.domain.render import build
from composer.domain.schema import validate_manifests
from composer.domain.yamlio import load_documents
from tests.support.controlplane import ensure_kubectl
from tests.support.faults import RecordedRequest

ROOT = Path(__file__).resolve().parents[2]
MANIFEST_DIR = ROOT / "deploy" / "kubernetes"
SECRET_EXAMPLE = ROOT / "deploy" / "secret.example.yaml"


def documents(*paths: Path) -> list[dict[str, Any]]:
    return [document for path in paths for document in load_documents(path.read_text())]


MANIFESTS = documents(*sorted(MANIFEST_DIR.glob("*.yaml")))


def the(kind: str, name: str | None = None) -> dict[str, Any]:
    found = [d for d in MANIFESTS if d["kind"] == kind and (name is None or d["metadata"]["name"] == name)]
    assert len(found) == 1, (kind, name, len(found))
    return found[0]


DEPLOYMENT = the("Deployment")
POD_SPEC = DEPLOYMENT["spec"]["template"]["spec"]
SETTINGS = the("ConfigMap")["data"]


# --------------------------------------------------------------------------- validation and lint


def test_every_manifest_passes_schema_validation():
    everything = [*MANIFESTS, *documents(SECRET_EXAMPLE)]
    assert {d["kind"] for d in everything} == {
        "Namespace", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding", "ConfigMap",
        "Deployment", "Service", "Secret",
    }
    assert validate_manifests(everything, "1.33") == []
    assert validate_manifests(everything, "1.29") == []  # the oldest version docs/operations.md supports


def test_the_deployment_passes_our_own_lint():
    result = import_manifests([DEPLOYMENT, the("ConfigMap"), the("Service")])
    problems = lint(build(result.composition))
    assert [(p.severity, p.code, p.message) for p in problems] == []
    # The migrate step is recognised as the migrations pattern; what it sets beyond it is kept as overrides.
    [migrate] = result.composition.helpers
    assert migrate.pattern == "migrations"
    assert "manage.py migrate" in CATALOG["migrations"].clean_params(migrate.params)[0]["command"]
    assert "securityContext" in migrate.overrides


def test_the_deployment_is_hardened():
    assert POD_SPEC["securityContext"]["runAsNonRoot"] is True
    assert POD_SPEC["securityContext"]["runAsUser"] > 0
    assert POD_SPEC["serviceAccountName"] == the("ServiceAccount")["metadata"]["name"]
    containers = [*POD_SPEC["initContainers"], *POD_SPEC["containers"]]
    for container in containers:
        security = container["securityContext"]
        assert security["allowPrivilegeEscalation"] is False, container["name"]
        assert security["readOnlyRootFilesystem"] is True, container["name"]
        assert security["capabilities"] == {"drop": ["ALL"]}, container["name"]
        assert {"name": "tmp", "mountPath": "/tmp"} in container["volumeMounts"]
        assert container["resources"]["requests"] and container["resources"]["limits"]["memory"]
    assert POD_SPEC["volumes"] == [{"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}}]
    init, app = POD_SPEC["initContainers"][0], POD_SPEC["containers"][0]
    assert init["image"] == app["image"]
    assert init["command"] == ["python", "manage.py", "migrate", "--noinput"]
    assert app["command"] == ["uvicorn", "podstudio.asgi:application", "--host", "0.0.0.0", "--port", "8000"]


def test_settings_come_from_the_configmap_and_secrets_from_the_secret():
    assert SETTINGS["PODSTUDIO_AUTH"] == "required" and SETTINGS["PODSTUDIO_DEBUG"] == "false"
    secret = documents(SECRET_EXAMPLE)[0]
    for container in [*POD_SPEC["initContainers"], *POD_SPEC["containers"]]:
        assert container["envFrom"] == [{"configMapRef": {"name": "pod-studio"}}]
        refs = {e["name"]: e["valueFrom"]["secretKeyRef"] for e in container["env"]}
        assert set(refs) == {"PODSTUDIO_SECRET_KEY", "DATABASE_URL"}
        assert {ref["name"] for ref in refs.values()} == {secret["metadata"]["name"]}
        assert {ref["key"] for ref in refs.values()} == set(secret["stringData"])
    # The example holds placeholders only, and `kubectl apply -f deploy/kubernetes/` never creates it.
    assert all("REPLACE" in value for value in secret["stringData"].values())
    assert not any(d["kind"] == "Secret" for d in MANIFESTS)


def test_the_probes_send_a_host_that_django_accepts():
    allowed = SETTINGS["PODSTUDIO_ALLOWED_HOSTS"].split(",")
    app = POD_SPEC["containers"][0]
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        get = app[probe]["httpGet"]
        headers = {h["name"]: h["value"] for h in get["httpHeaders"]}
        assert get["path"] == "/healthz" and get["port"] == "http"
        assert headers["Host"] in allowed, probe
        # PODSTUDIO_HTTPS redirects plain http to https: the probe says it came through TLS.
        assert headers["X-Forwarded-Proto"] == "https"
    assert the("Service")["spec"]["ports"][0]["targetPort"] == app["ports"][0]["name"]


# --------------------------------------------------------------------------- RBAC: exactly what is used


def rbac_rules() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(rules of the namespaced Role, rules of the ClusterRole), after checking both are bound to the SA."""
    account = the("ServiceAccount")["metadata"]
    subject = {"kind": "ServiceAccount", "name": account["name"], "namespace": account["namespace"]}
    role, cluster_role = the("Role"), the("ClusterRole")
    binding, cluster_binding = the("RoleBinding"), the("ClusterRoleBinding")
    assert binding["subjects"] == [subject] and cluster_binding["subjects"] == [subject]
    assert binding["roleRef"]["name"] == role["metadata"]["name"]
    assert binding["metadata"]["namespace"] == role["metadata"]["namespace"]
    assert cluster_binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                                          "name": cluster_role["metadata"]["name"]}
    return role["rules"], cluster_role["rules"]


Grant = tuple[str, str, str]  # (API group, resource[/subresource] or a non-resource URL, verb)


def grants(rules: list[dict[str, Any]]) -> set[Grant]:
    expanded = set()
    for rule in rules:
        for verb in rule["verbs"]:
            expanded |= {("", url, verb) for url in rule.get("nonResourceURLs", [])}
            expanded |= {(group, resource, verb) for group in rule.get("apiGroups", [])
                         for resource in rule.get("resources", [])}
    assert not any("*" in part for grant in expanded for part in grant), "no wildcards"
    return expanded


@dataclass(frozen=True)
class ResourceRequest:
    group: str
    namespace: str | None
    resource: str  # with its subresource: "pods/log"
    name: str | None


def resource_request(path: str) -> ResourceRequest:
    """What a resource URL asks for, read as kube-apiserver's RequestInfoFactory reads it:
    ``/api/v1`` or ``/apis/<group>/<version>``, then ``namespaces/<ns>/`` unless the resource is the
    namespace itself, then ``<resource>[/<name>[/<subresource>]]``."""
    parts = [part for part in path.split("/") if part]
    if parts[:2] == ["api", "v1"]:
        group, rest = "", parts[2:]
    else:
        assert parts[0] == "apis" and len(parts) >= 4, path
        group, rest = parts[1], parts[3:]
    namespace = None
    if rest[0] == "namespaces" and len(rest) > 2:
        namespace, rest = rest[1], rest[2:]
    assert 1 <= len(rest) <= 3, path
    resource = "/".join([rest[0], *rest[2:]])
    return ResourceRequest(group, namespace, resource, rest[1] if len(rest) > 1 else None)


def needed(request: RecordedRequest) -> tuple[bool, set[Grant]]:
    """(namespaced?, the RBAC grants a real API server would check for this request)."""
    if request.path == "/version":
        return False, {("", "/version", "get")}
    target = resource_request(request.path)
    resource, group = target.resource, target.group
    if request.method == "GET":
        verb = "get" if target.name else ("watch" if request.param("watch") == "true" else "list")
    else:
        verb = {"POST": "create", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}[request.method]
    verbs = {verb}
    if request.content_type == cluster.apply.APPLY_PATCH:
        verbs.add("create")  # server-side apply of an object that does not exist yet is a create
    return target.namespace is not None, {(group, resource, v) for v in verbs}


# composer/cluster/feed.py and logs.py (the runtime view, built elsewhere) need these as well:
# they list and watch Pods and Events, the workload's own object (for the kinds workloads.py reads)
# and a CronJob's Jobs, and read container logs. The test below takes a snapshot of each kind (the
# lists); the watches are the feed's.
RUNTIME_NEEDS = {("", "pods", "list"), ("", "pods", "watch"), ("", "events", "list"), ("", "events", "watch"),
                 ("", "pods/log", "get"),
                 *((group, plural, verb) for group, plural in (("apps", "statefulsets"), ("apps", "daemonsets"),
                                                               ("apps", "replicasets"), ("batch", "jobs"),
                                                               ("batch", "cronjobs"))
                   for verb in ("list", "watch"))}

# Every other workload kind, from an example made that kind (renamed, so that no selector finds another's Pods).
OTHER_KINDS = {"StatefulSet": "init-html", "DaemonSet": "log-tailer", "ReplicaSet": "config-merger",
               "Job": "init-html", "CronJob": "config-merger"}


def kind_manifests(kind: str) -> list[dict[str, Any]]:
    composition = EXAMPLES_BY_ID[OTHER_KINDS[kind]].build()
    composition.workload.name = f"kind-{kind.lower()}"
    composition.workload.labels = {"app": composition.workload.name}
    edits.change_kind(composition, kind)
    return preview(composition).manifests


def test_the_rbac_grants_exactly_what_composer_cluster_uses(proxied_target):
    """Every request Pod Studio makes to the real control plane, as the fault proxy recorded it."""
    context, namespace = proxied_target.context, proxied_target.namespace
    examples = {name: preview(EXAMPLES_BY_ID[name].build()).manifests
                for name in ("good-citizen", "config-merger", "exporter", "log-tailer")}
    composition = EXAMPLES_BY_ID["log-tailer"].build()
    composition.helpers[0].native_sidecar = True  # needs the server's version first
    examples["native"] = [{**m, "metadata": {**m["metadata"], "name": "native"}}
                          for m in preview(composition).manifests]
    examples.update({kind: kind_manifests(kind) for kind in OTHER_KINDS})

    cluster.list_namespaces(context)
    for manifests in examples.values():
        assert all(r.ok for r in cluster.apply_manifests(context, namespace, manifests))
        cluster.diff_manifests(context, namespace, manifests)
        cluster.apply_manifests(context, namespace, manifests, dry_run=True)
    recreated = cluster.recreate_workload(context, namespace, examples["config-merger"][-1])
    for kind in OTHER_KINDS:
        pod_statuses(context, namespace, examples[kind][-1])
    for name, manifests in examples.items():
        applied = cluster.apply_manifests(context, namespace, manifests)
        if name == "config-merger":
            applied[-1] = recreated
        refs = [cluster.ObjectRef(r.api_version, r.kind, r.namespace, r.name, r.uid) for r in reversed(applied)]
        deleted = cluster.delete_objects(context, refs)
        assert all(r.ok for r in deleted), [(r.kind, r.name, r.outcome, r.message) for r in deleted]

    role_rules, cluster_rules = rbac_rules()
    role, cluster_wide = grants(role_rules), grants(cluster_rules)
    used_in_namespace: set[Grant] = set()
    used_cluster_wide: set[Grant] = set()
    for request in proxied_target.proxy.requests:
        namespaced, wanted = needed(request)
        (used_in_namespace if namespaced else used_cluster_wide).update(wanted)
    assert used_in_namespace <= role, used_in_namespace - role
    assert used_cluster_wide <= cluster_wide, used_cluster_wide - cluster_wide
    assert role == used_in_namespace | RUNTIME_NEEDS, "a grant nothing uses"
    assert cluster_wide == used_cluster_wide, "a grant nothing uses"
    # Deliberately not granted: creating namespaces (the deploy form's option answers 403 and says so).
    assert ("", "namespaces", "create") not in cluster_wide


# --------------------------------------------------------------------------- kubectl, server-side dry run

def test_kubectl_server_side_dry_run_accepts_every_manifest(fault_proxy, tmp_path):
    """On the real local control plane, through the fault proxy (which records kubectl's requests)."""
    namespaces = ("pod-studio", "pod-studio-apps")  # a dry run creates nothing, namespaces included
    for namespace in namespaces:
        fault_proxy.upstream("POST", "/api/v1/namespaces", {"metadata": {"name": namespace}})
    try:
        done = subprocess.run(
            [str(ensure_kubectl()), "--kubeconfig", str(fault_proxy.kubeconfig), "--cache-dir", str(tmp_path / "cache"),
             "apply", "--server-side", "--dry-run=server", "-f", str(MANIFEST_DIR)],
            capture_output=True, text=True, timeout=60, env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
        )
        assert done.returncode == 0, done.stderr
        # kubectl names objects "kind.group/name": deployment.apps/pod-studio, role.rbac.authorization.k8s.io/…
        lines = done.stdout.splitlines()
        printed = [line.split()[0] for line in lines if line.endswith("serverside-applied (server dry run)")]
        applied = {(kind.split(".")[0], name) for kind, name in (item.split("/") for item in printed)}
        assert applied == {(d["kind"].lower(), d["metadata"]["name"]) for d in MANIFESTS}
        patches = fault_proxy.requests_matching("PATCH")
        assert len(patches) == len(MANIFESTS) and all(r.param("dryRun") == "All" for r in patches)
        for document in MANIFESTS:
            if document["kind"] == "Namespace":
                continue  # this test made them, for the dry run of what goes in them
            namespace = document["metadata"].get("namespace")
            kind, name = document["kind"], document["metadata"]["name"]
            done = subprocess.run(
                [str(ensure_kubectl()), "--kubeconfig", str(fault_proxy.kubeconfig), "get", kind, name, "-o", "name",
                 *(["-n", namespace] if namespace else [])],
                capture_output=True, text=True, timeout=60, env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
            )
            assert "NotFound" in done.stderr, (kind, name, done.stdout)  # the dry run stored nothing
    finally:
        for namespace in namespaces:
            fault_proxy.upstream("DELETE", f"/api/v1/namespaces/{namespace}")


# --------------------------------------------------------------------------- the containers' commands


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _get(url: str, headers: dict[str, str]) -> tuple[int, str, str]:
    request = urllib.request.Request(url, headers=headers)

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(request, timeout=5) as response:
            return response.status, response.read().decode(), response.headers.get("Location", "")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(), error.headers.get("Location", "")


def test_the_containers_commands_serve_healthz_to_the_probes(tmp_path):
    """The init container's migrate, then the app's uvicorn, with the ConfigMap's settings, answer the
    probe's exact request (path, Host, X-Forwarded-Proto) in team mode, without a login."""
    env = {**os.environ, **SETTINGS, "PODSTUDIO_SECRET_KEY": "x" * 50, "PYTHONDONTWRITEBYTECODE": "1",
           "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    init, app = POD_SPEC["initContainers"][0], POD_SPEC["containers"][0]
    bindir = Path(sys.executable).parent
    migrate = subprocess.run([str(bindir / init["command"][0]), *init["command"][1:]], cwd=ROOT, env=env,
                             capture_output=True, text=True, timeout=120)
    assert migrate.returncode == 0, migrate.stderr
    port = _free_port()
    command = [str(bindir / app["command"][0]), *app["command"][1:]]
    command[command.index("--port") + 1] = str(port)
    command[command.index("--host") + 1] = "127.0.0.1"
    server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        probe = app["readinessProbe"]["httpGet"]
        headers = {h["name"]: h["value"] for h in probe["httpHeaders"]}
        url = f"http://127.0.0.1:{port}{probe['path']}"
        deadline = time.monotonic() + 30
        while True:
            try:
                status, body, _ = _get(url, headers)
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, "uvicorn did not start"
                time.sleep(0.2)
        assert (status, body) == (200, "ok\n")
        # Without the Host header (the kubelet would send the Pod's IP) Django refuses the probe.
        assert _get(url, {"X-Forwarded-Proto": "https"})[0] == 400
        # Without X-Forwarded-Proto, PODSTUDIO_HTTPS redirects to https.
        assert _get(url, {"Host": "localhost"})[0] == 301
        # Everything else needs a login (team mode).
        status, _, location = _get(f"http://127.0.0.1:{port}/", headers)
        assert status == 302 and "/accounts/login/" in location
    finally:
        server.terminate()
        server.wait(timeout=10)
