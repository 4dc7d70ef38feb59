"""A real, local Kubernetes control plane for tests and for people.

It runs the real kube-apiserver, kube-controller-manager and kube-scheduler on etcd,
with kwok simulating one node (``localhost``; a test may add more: kwok simulates every node
annotated ``kwok.x-k8s.io/node: fake``): Pods are scheduled for real, and kwok's
stages walk them through init containers to Running (or into failures), and serve
their logs through the API server. Nothing runs containers.

First use builds the five binaries from Go modules through the module proxy into a
cache keyed by the versions pinned below (``~/.cache/pod-studio/cluster/<versions>/bin``,
``XDG_CACHE_HOME`` respected); later uses start in seconds. ``ensure_kubectl()`` builds kubectl
at the same version beside them on first use (bench/runtime_real.py compares with it).

CLI (state in ``.cluster/`` at the project root, kubeconfig ``.cluster/kubeconfig``)::

    python -m tests.support.controlplane binaries   # build only
    python -m tests.support.controlplane up         # build if needed, start, print how to use it
    python -m tests.support.controlplane status
    python -m tests.support.controlplane down       # stop (SIGTERM, reverse order), remove .cluster/

Python::

    cp = ControlPlane(state_dir).start()     # or: with ControlPlane(state_dir) as cp: ...
    cp.kubeconfig, cp.admin_context, cp.limited_context, cp.limited_namespace
    cp.restart_apiserver()                   # open watches end; same port and etcd data
    cp.compact_etcd()                        # 410 Gone for older resourceVersions that reach etcd
    cp.set_pod_logs(ns, pod, {"app": ["line"]}, previous={"app": ["old"]})
    cp.enable_exec(ns)                       # kubectl exec runs commands on this machine
    cp.stop()                                # and ControlPlane.attach(state_dir) for the CLI's

See docs/testing.md, "A real control plane", for the recipe, timings and kwok's stages.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import datetime as dt
import fcntl
import ipaddress
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

# ---------------------------------------------------------------------------------------
# Versions: the one place they are pinned. Newest patches served by the module proxy when
# this was written; etcd follows what Kubernetes 1.37 ships (kubeadm's DefaultEtcdVersion
# is 3.7.0). Bumping any of them builds a new cache directory next to the old one.
# ---------------------------------------------------------------------------------------
K8S_VERSION = "v1.37.2"  # k8s.io/kubernetes; staging modules at v0.37.2
ETCD_VERSION = "v3.7.3"  # go.etcd.io/etcd/server/v3
KWOK_VERSION = "v0.8.0"  # sigs.k8s.io/kwok

K8S_COMMANDS = ("kube-apiserver", "kube-controller-manager", "kube-scheduler")
BINARIES = (*K8S_COMMANDS, "etcd", "kwok")

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_STATE_DIR = PROJECT_ROOT / ".cluster"

ADMIN_CONTEXT = "local-admin"
LIMITED_CONTEXT = "local-limited"
LIMITED_USER = "team-a-user"
LIMITED_NAMESPACE = "team-a"
NODE_NAME = "localhost"
SERVICE_CIDR = "10.0.0.0/24"
POD_CIDR = "10.244.0.0/16"

# The kwok stages used, from its module (kustomize/stage/...; copied beside the binaries).
KWOK_STAGE_FILES = (
    "node/fast/node-initialize.yaml",
    "node/heartbeat-with-lease/node-heartbeat-with-lease.yaml",
    "pod/general/pod-create.yaml",
    "pod/general/pod-init-container-running.yaml",
    "pod/general/pod-init-container-completed.yaml",
    "pod/general/pod-ready.yaml",
    "pod/general/pod-complete.yaml",
    "pod/general/pod-delete.yaml",
    "pod/chaos/pod-init-container-running-failed.yaml",
    "pod/chaos/pod-container-running-failed.yaml",
)


# kwok's CRDs we install (plural names) and enable (--enable-crds, kinds): per-Pod logs and
# exec rules made at run time. Stages stay in the --config file.
KWOK_CRDS = ("logs", "clusterlogs", "execs", "clusterexecs")
KWOK_CRD_KINDS = ("Logs", "ClusterLogs", "Exec", "ClusterExec")


class ControlPlaneError(RuntimeError):
    pass


def _log(message: str) -> None:
    print(f"[controlplane] {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------
# Building the binaries
# ---------------------------------------------------------------------------------------


def cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "pod-studio" / "cluster"


def version_key() -> str:
    return f"{K8S_VERSION}-{ETCD_VERSION}-{KWOK_VERSION}"


def bin_dir() -> Path:
    return cache_root() / version_key() / "bin"


def kwok_files_dir() -> Path:
    """What kwok's module ships beside its code and we use: ``stage/`` and ``crd/``."""
    return cache_root() / version_key() / "kwok"


def stages_dir() -> Path:
    return kwok_files_dir() / "stage"


def crds_dir() -> Path:
    return kwok_files_dir() / "crd"


def find_go() -> str:
    for candidate in (os.environ.get("GO"), shutil.which("go"), "/usr/local/go/bin/go"):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    raise ControlPlaneError("no Go toolchain found: set GO=/path/to/go (Go >= 1.26 is needed)")


def _go_env() -> dict[str, str]:
    """Go's module and build caches live in our own cache dir, so that their size can be
    told and `rm -rf ~/.cache/pod-studio/cluster` frees all of it (-modcacherw allows that)."""
    env = dict(os.environ)
    root = cache_root() / "go"
    env.setdefault("GOMODCACHE", str(root / "mod"))
    env.setdefault("GOCACHE", str(root / "build"))
    env["GOFLAGS"] = (env.get("GOFLAGS", "") + " -modcacherw").strip()
    env["GOTOOLCHAIN"] = "local"
    env["CGO_ENABLED"] = "0"
    env["GOWORK"] = "off"
    return env


def _run(cmd: list[str], cwd: Path, env: dict[str, str], log: Path) -> str:
    with log.open("a") as fh:
        fh.write(f"\n$ {' '.join(cmd)}\n")
        fh.flush()
        proc = subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=fh, text=True)
        fh.write(proc.stdout)
    if proc.returncode != 0:
        tail = "".join(log.read_text().splitlines(keepends=True)[-30:])
        raise ControlPlaneError(f"{' '.join(cmd[:3])}… failed (exit {proc.returncode}); see {log}:\n{tail}")
    return proc.stdout


def binaries_present() -> bool:
    return (
        (bin_dir() / ".complete").is_file()
        and all((bin_dir() / b).is_file() for b in BINARIES)
        and stages_dir().is_dir()
        and crds_dir().is_dir()
    )


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            _log(f"waiting for another build to finish (lock {path})…")
            fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def ensure_binaries() -> Path:
    """Build the binaries once (safe to call concurrently: a file lock); return bin/."""
    if binaries_present():
        return bin_dir()
    with _file_lock(cache_root() / ".build.lock"):
        if binaries_present():  # built by whoever held the lock
            return bin_dir()
        _build_all()
    return bin_dir()


def _download_json(go: str, module: str, work: Path, env: dict[str, str], log: Path) -> dict:
    return json.loads(_run([go, "mod", "download", "-json", module], work, env, log))


def _write_module(work: Path, name: str, requires: list[str], tools: list[str]) -> None:
    work.mkdir(parents=True, exist_ok=True)
    lines = [f"module {name}", "", "go 1.26.0", "", "godebug default=go1.26", ""]
    lines += ["require (", *[f"\t{r}" for r in requires], ")", ""]
    lines += ["tool (", *[f"\t{t}" for t in tools], ")", ""]
    (work / "go.mod").write_text("\n".join(lines))
    (work / "go.sum").unlink(missing_ok=True)


def staging_replacements(published_go_mod: str, staging_version: str) -> list[str]:
    """`-replace` arguments for every staging module k8s.io/kubernetes requires.

    Its go.mod requires them at v0.0.0 and replaces them with ./staging/src/...; replaces
    of a dependency do not apply to us, so each one becomes its published v0.X.Y twin.
    Only required ones: some staging modules (sample-controller, sample-cli-plugin) are
    not required and not published for every patch release."""
    staged = set(re.findall(r"^\s*(k8s\.io/\S+)\s+=>\s+\./staging/", published_go_mod, re.M))
    required = set(re.findall(r"^\s*(k8s\.io/\S+)\s+v0\.0\.0\s*$", published_go_mod, re.M))
    return [f"-replace={m}={m}@{staging_version}" for m in sorted(staged & required)]


def _copy_kwok_files(kwok_dir: Path, target: Path) -> None:
    """Every Stage YAML kwok ships (kustomize/stage, without tests) into target/stage, to pick
    from at start, and its CRDs (kustomize/crd/bases) into target/crd: kwok does not install
    them itself (kwokctl applies them), and --enable-crds needs them."""
    shutil.rmtree(target, ignore_errors=True)
    for source, dest in (
        (kwok_dir / "kustomize" / "stage", target / "stage"),
        (kwok_dir / "kustomize" / "crd" / "bases", target / "crd"),
    ):
        for path in sorted(source.rglob("*.yaml")):
            rel = path.relative_to(source)
            if "testdata" in rel.parts or path.name == "kustomization.yaml":
                continue
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, dest / rel)
    missing = [rel for rel in KWOK_STAGE_FILES if not (target / "stage" / rel).is_file()]
    missing += [
        f"crd/kwok.x-k8s.io_{k}.yaml" for k in KWOK_CRDS if not (target / "crd" / f"kwok.x-k8s.io_{k}.yaml").is_file()
    ]
    if missing:
        raise ControlPlaneError(f"kwok {KWOK_VERSION} ships no {', '.join(missing)} under {kwok_dir}/kustomize")


def _build_kubernetes_commands(
    go: str, work: Path, module: str, commands: tuple[str, ...], output: str, env: dict[str, str], log: Path
) -> None:
    """``go build`` k8s.io/kubernetes/cmd/<command> at K8S_VERSION into ``output`` (a file for one
    command, a directory ending in / for several), with the version stamped as a release build has it.

    A module of our own requires k8s.io/kubernetes; its go.mod replaces the staging modules with
    ./staging/src/..., which does not apply to us, so each one is replaced by its published twin."""
    staging_version = "v0." + K8S_VERSION.split(".", 1)[1]
    packages = [f"k8s.io/kubernetes/cmd/{c}" for c in commands]
    _write_module(work, module, [f"k8s.io/kubernetes {K8S_VERSION}"], packages)
    info = _download_json(go, f"k8s.io/kubernetes@{K8S_VERSION}", work, env, log)
    replaces = staging_replacements(Path(info["GoMod"]).read_text(), staging_version)
    if not replaces:
        raise ControlPlaneError(f"found no staging modules in {info['GoMod']}")
    _run([go, "mod", "edit", *replaces], work, env, log)
    _run([go, "mod", "tidy"], work, env, log)
    major, minor = K8S_VERSION.lstrip("v").split(".")[:2]
    build_date = json.loads(Path(info["Info"]).read_text()).get("Time", "1970-01-01T00:00:00Z")
    flags = ["-s", "-w"]
    for pkg in ("k8s.io/component-base/version", "k8s.io/client-go/pkg/version"):
        for key, value in (
            ("gitVersion", K8S_VERSION),
            ("gitMajor", major),
            ("gitMinor", minor),
            ("gitTreeState", "clean"),
            ("buildDate", build_date),
        ):
            flags.append(f"-X {pkg}.{key}={value}")
    _run([go, "build", "-trimpath", "-ldflags", " ".join(flags), "-o", output, *packages], work, env, log)


def kubectl_path() -> Path:
    return bin_dir() / "kubectl"


def ensure_kubectl() -> Path:
    """kubectl at K8S_VERSION beside the other binaries, built on first use (a few minutes with the
    Go caches the control plane's build leaves; benchmarks compare Pod Studio with it on the same
    cluster). Not one of BINARIES, so that a cache without it is no reason to rebuild those."""
    ensure_binaries()
    if kubectl_path().is_file():
        return kubectl_path()
    with _file_lock(cache_root() / ".build.lock"):
        if not kubectl_path().is_file():  # built by whoever held the lock
            root = cache_root() / version_key()
            started = time.monotonic()
            _log(f"building kubectl {K8S_VERSION} into {bin_dir()} (once)…")
            partial = kubectl_path().with_name("kubectl.partial")
            work = root / "src" / "kubectl"
            _build_kubernetes_commands(
                find_go(), work, "kubectlbuild", ("kubectl",), str(partial), _go_env(), root / "build.log"
            )
            partial.rename(kubectl_path())
            _log(f"kubectl built in {time.monotonic() - started:.0f} s")
    return kubectl_path()


def _build_all() -> None:
    go = find_go()
    env = _go_env()
    root = cache_root() / version_key()
    src = root / "src"
    src.mkdir(parents=True, exist_ok=True)
    staging = root / "bin.partial"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    log = root / "build.log"
    log.write_text(f"build {version_key()} with {go} at {dt.datetime.now(dt.UTC).isoformat()}\n")
    _log(f"building the control plane binaries into {bin_dir()}: once, ~17 min on 2 cores (log: {log})")
    started = time.monotonic()

    # kwok: a module without replaces; keep its Stage YAMLs beside the binaries.
    t0 = time.monotonic()
    _log(f"building kwok {KWOK_VERSION} (first time: ~2-3 min on 2 cores, seconds with a warm Go cache)…")
    work = src / "kwok"
    _write_module(work, "kwokbuild", [f"sigs.k8s.io/kwok {KWOK_VERSION}"], ["sigs.k8s.io/kwok/cmd/kwok"])
    kwok_dir = Path(_download_json(go, f"sigs.k8s.io/kwok@{KWOK_VERSION}", work, env, log)["Dir"])
    _run([go, "mod", "tidy"], work, env, log)
    ldflags = f"-s -w -X sigs.k8s.io/kwok/pkg/consts.Version={KWOK_VERSION.lstrip('v')}"
    _run(
        [go, "build", "-trimpath", "-ldflags", ldflags, "-o", str(staging / "kwok"), "sigs.k8s.io/kwok/cmd/kwok"],
        work,
        env,
        log,
    )
    kwok_files = root / "kwok.partial"
    _copy_kwok_files(kwok_dir, kwok_files)
    _log(f"kwok built in {time.monotonic() - t0:.0f} s")

    # etcd: `go install go.etcd.io/etcd/server/v3@...` refuses (its go.mod has ../api
    # replaces), a module that requires it builds.
    t0 = time.monotonic()
    _log(f"building etcd {ETCD_VERSION} (first time: ~1 min)…")
    work = src / "etcd"
    _write_module(work, "etcdbuild", [f"go.etcd.io/etcd/server/v3 {ETCD_VERSION}"], ["go.etcd.io/etcd/server/v3"])
    _run([go, "mod", "tidy"], work, env, log)
    _run(
        [go, "build", "-trimpath", "-ldflags", "-s -w", "-o", str(staging / "etcd"), "go.etcd.io/etcd/server/v3"],
        work,
        env,
        log,
    )
    _log(f"etcd built in {time.monotonic() - t0:.0f} s")

    # Kubernetes: require k8s.io/kubernetes, replace each staging module by its twin.
    t0 = time.monotonic()
    _log(f"building {', '.join(K8S_COMMANDS)} {K8S_VERSION} (first time: ~14 min on 2 cores)…")
    _build_kubernetes_commands(go, src / "kubernetes", "kasbuild", K8S_COMMANDS, str(staging) + "/", env, log)
    _log(f"{', '.join(K8S_COMMANDS)} built in {time.monotonic() - t0:.0f} s")

    out = subprocess.run([str(staging / "kube-apiserver"), "--version"], capture_output=True, text=True).stdout
    if K8S_VERSION not in out:
        raise ControlPlaneError(f"kube-apiserver --version says {out.strip()!r}, not {K8S_VERSION}")
    (staging / ".complete").write_text(
        json.dumps(
            {
                "kubernetes": K8S_VERSION,
                "etcd": ETCD_VERSION,
                "kwok": KWOK_VERSION,
                "seconds": round(time.monotonic() - started),
                "go": _run([go, "version"], work, env, log).strip(),
            }
        )
        + "\n"
    )
    shutil.rmtree(kwok_files_dir(), ignore_errors=True)
    kwok_files.rename(kwok_files_dir())
    shutil.rmtree(bin_dir(), ignore_errors=True)
    staging.rename(bin_dir())
    _log(f"all binaries built in {time.monotonic() - started:.0f} s")


# ---------------------------------------------------------------------------------------
# Certificates (Python `cryptography`; ECDSA P-256 keys: quick to make, accepted everywhere)
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pki:
    dir: Path

    def path(self, name: str) -> Path:
        return self.dir / name

    @property
    def ca_cert(self) -> Path:
        return self.path("ca.crt")

    @property
    def serving_cert(self) -> Path:
        return self.path("serving.crt")

    @property
    def serving_key(self) -> Path:
        return self.path("serving.key")

    @property
    def sa_key(self) -> Path:
        return self.path("sa.key")

    @property
    def sa_pub(self) -> Path:
        return self.path("sa.pub")

    def client(self, name: str) -> tuple[Path, Path]:
        return self.path(f"{name}.crt"), self.path(f"{name}.key")


# Client certificates: file stem -> (CN, O). The components get the identities the RBAC
# bootstrap policy knows; kwok acts as cluster admin, as kwokctl sets it up.
CLIENTS = {
    "admin": ("pod-studio-admin", "system:masters"),
    "limited": (LIMITED_USER, None),
    "controller-manager": ("system:kube-controller-manager", None),
    "scheduler": ("system:kube-scheduler", None),
    "kwok": ("kwok-controller", "system:masters"),
    "front-proxy-client": ("front-proxy-client", None),
}


def generate_pki(directory: Path) -> Pki:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    directory.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    until = now + dt.timedelta(days=365)

    def write_key(key, path: Path) -> None:
        path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        path.chmod(0o600)

    def name(cn: str, org: str | None = None) -> x509.Name:
        attrs = [x509.NameAttribute(NameOID.COMMON_NAME, cn)]
        if org:
            attrs.insert(0, x509.NameAttribute(NameOID.ORGANIZATION_NAME, org))
        return x509.Name(attrs)

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = name("pod-studio-local-ca")
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(until)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    pki = Pki(directory)
    pki.ca_cert.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    write_key(ca_key, pki.path("ca.key"))

    def issue(stem: str, subject: x509.Name, usage, sans=None) -> None:
        key = ec.generate_private_key(ec.SECP256R1())
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(ca_name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now)
            .not_valid_after(until)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    key_encipherment=False,
                    content_commitment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=False,
                    crl_sign=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        )
        if sans:
            builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
        cert = builder.sign(ca_key, hashes.SHA256())
        pki.path(f"{stem}.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        write_key(key, pki.path(f"{stem}.key"))

    service_ip = next(ipaddress.ip_network(SERVICE_CIDR).hosts())  # 10.0.0.1, the `kubernetes` Service
    issue(
        "serving",
        name("localhost"),
        ExtendedKeyUsageOID.SERVER_AUTH,
        [
            x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
            x509.IPAddress(service_ip),
            x509.DNSName("localhost"),
            x509.DNSName("kubernetes"),
            x509.DNSName("kubernetes.default"),
            x509.DNSName("kubernetes.default.svc"),
            x509.DNSName("kubernetes.default.svc.cluster.local"),
        ],
    )
    for stem, (cn, org) in CLIENTS.items():
        issue(stem, name(cn, org), ExtendedKeyUsageOID.CLIENT_AUTH)

    sa_key = ec.generate_private_key(ec.SECP256R1())
    write_key(sa_key, pki.sa_key)
    pki.sa_pub.write_bytes(
        sa_key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    return pki


def _b64(path: Path) -> str:
    return base64.b64encode(path.read_bytes()).decode()


def kubeconfig_document(
    server: str, pki: Pki, users: dict[str, str], contexts: dict[str, tuple[str, str]], current: str
) -> dict:
    """users: kubeconfig user name -> client stem; contexts: name -> (user name, namespace)."""
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "local", "cluster": {"server": server, "certificate-authority-data": _b64(pki.ca_cert)}}],
        "users": [
            {
                "name": user,
                "user": {
                    "client-certificate-data": _b64(pki.client(stem)[0]),
                    "client-key-data": _b64(pki.client(stem)[1]),
                },
            }
            for user, stem in users.items()
        ],
        "contexts": [
            {"name": ctx, "context": {"cluster": "local", "user": user, "namespace": ns}}
            for ctx, (user, ns) in contexts.items()
        ],
        "current-context": current,
        "preferences": {},
    }


def _write_yaml(path: Path, *documents: dict) -> Path:
    import yaml

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump_all(documents, sort_keys=False))
    path.chmod(0o600)
    return path


# ---------------------------------------------------------------------------------------
# kwok configuration: stages (shipped + ours), logs
# ---------------------------------------------------------------------------------------

# Our own stages beside this file: failures kwok's chaos stages do not cover.
PROJECT_STAGES_DIR = Path(__file__).resolve().parent / "kwok_stages"


def _lower_delays(stage: dict, delay_ms: int, jitter_ms: int) -> dict:
    """Shorter delays for tests; the per-Pod annotations (durationFrom) still override them.

    kwok waits `duration` plus a random part up to `jitter` (jitter is the upper bound).
    Node stages keep theirs (heartbeats), and so do stages annotated
    ``pod-studio.test/keep-delay: "true"`` (a crash loop's pace); pod-delete waits up to the deletion timestamp
    (the grace period) upstream, which we drop: nothing runs, so nothing has to stop."""
    delay = stage["spec"].get("delay")
    if not delay or stage["spec"]["resourceRef"]["kind"] != "Pod":
        return stage
    if stage["metadata"].get("annotations", {}).get("pod-studio.test/keep-delay") == "true":
        return stage
    if "durationMilliseconds" in delay:
        delay["durationMilliseconds"] = min(delay["durationMilliseconds"], delay_ms)
    if "jitterDurationMilliseconds" in delay:
        delay["jitterDurationMilliseconds"] = min(delay["jitterDurationMilliseconds"], max(jitter_ms, delay_ms))
    if stage["metadata"]["name"] == "pod-delete":
        delay.pop("jitterDurationFrom", None)
    return stage


def kwok_stage_documents(delay_ms: int, jitter_ms: int) -> list[dict]:
    """kwok's shipped stages (KWOK_STAGE_FILES) and ours (kwok_stages/*.yaml), all Pod stages
    with the test delays. One of ours drops the shipped stages its annotation
    ``pod-studio.test/replaces`` names (comma-separated)."""
    import yaml

    by_name: dict[str, dict] = {}
    for rel in KWOK_STAGE_FILES:
        doc = yaml.safe_load((stages_dir() / rel).read_text())
        by_name[doc["metadata"]["name"]] = doc
    for path in sorted(PROJECT_STAGES_DIR.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if not doc:
                continue
            replaces = doc["metadata"].get("annotations", {}).get("pod-studio.test/replaces", "")
            for name in filter(None, (n.strip() for n in replaces.split(","))):
                by_name.pop(name, None)
            by_name[doc["metadata"]["name"]] = doc
    return [_lower_delays(doc, delay_ms, jitter_ms) for doc in by_name.values()]


def cri_log_lines(lines: list[str], stream: str = "stdout", start: dt.datetime | None = None) -> str:
    """Lines in the CRI log format kwok reads (`<RFC3339Nano> <stream> F <text>`)."""
    start = start or dt.datetime.now(dt.UTC)
    out = []
    for i, line in enumerate(lines):
        ts = (start + dt.timedelta(milliseconds=i)).strftime("%Y-%m-%dT%H:%M:%S.%f000Z")
        out.append(f"{ts} {stream} F {line}\n")
    return "".join(out)


# ---------------------------------------------------------------------------------------
# Processes
# ---------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _die_with_parent() -> None:  # preexec_fn: SIGTERM the child when its parent dies
    import ctypes

    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie of ours still "exists": reap it if it is our child.
    with contextlib.suppress(ChildProcessError):
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return False
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def _terminate(pid: int, timeout: float = 15.0) -> None:
    """SIGTERM, wait, then SIGKILL: only this pid (each component is its own session)."""
    if not _pid_alive(pid):
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _pid_alive(pid):
            return
        time.sleep(0.05)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and _pid_alive(pid):
        time.sleep(0.05)


def _https_context(pki: Pki, client: str | None = "admin") -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=str(pki.ca_cert))
    if client:
        cert, key = pki.client(client)
        ctx.load_cert_chain(str(cert), str(key))
    return ctx


STATE_MARKER = ".pod-studio-controlplane"
START_ORDER = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok")


@dataclass
class Ports:
    etcd: int
    etcd_peer: int
    apiserver: int
    controller_manager: int
    scheduler: int
    kwok: int

    @classmethod
    def pick(cls) -> Ports:
        seen: set[int] = set()
        ports = []
        while len(ports) < 6:
            port = free_port()
            if port not in seen:
                seen.add(port)
                ports.append(port)
        return cls(*ports)


@dataclass
class ControlPlane:
    """A local control plane whose files live in ``state_dir`` (created; removed by stop()).

    ``stage_delay_ms``/``stage_jitter_ms``: each kwok Pod stage (create, init running, init
    done, ready, delete, failures) waits between delay and jitter ms; upstream waits 1-6 s.
    ``watch_cache``: the API server's watch cache (on in real clusters).
    ``die_with_parent``: the components get SIGTERM when the process that started them
    exits (tests); the CLI turns it off so that the cluster outlives ``up``.
    """

    state_dir: Path
    stage_delay_ms: int = 100
    stage_jitter_ms: int = 250
    watch_cache: bool = True
    die_with_parent: bool = True
    ready_timeout: float = 90.0
    verbosity: int = 1
    apiserver_args: tuple[str, ...] = ()
    ports: Ports | None = None
    pids: dict[str, int] = field(default_factory=dict)

    admin_context = ADMIN_CONTEXT
    limited_context = LIMITED_CONTEXT
    limited_user = LIMITED_USER
    limited_namespace = LIMITED_NAMESPACE
    node_name = NODE_NAME

    def __post_init__(self) -> None:
        self.state_dir = Path(self.state_dir).resolve()
        self._procs: dict[str, subprocess.Popen] = {}

    # -- paths ------------------------------------------------------------------------
    @property
    def kubeconfig(self) -> Path:
        return self.state_dir / "kubeconfig"

    @property
    def pki(self) -> Pki:
        return Pki(self.state_dir / "pki")

    @property
    def logs_dir(self) -> Path:
        """Each component's stdout/stderr: ``<component>.log``."""
        return self.state_dir / "logs"

    @property
    def pod_logs_dir(self) -> Path:
        """CRI-format container log files kwok serves (see set_pod_logs)."""
        return self.state_dir / "pod-logs"

    @property
    def server(self) -> str:
        assert self.ports, "not started"
        return f"https://127.0.0.1:{self.ports.apiserver}"

    @property
    def etcd_url(self) -> str:
        assert self.ports, "not started"
        return f"http://127.0.0.1:{self.ports.etcd}"

    @property
    def _state_file(self) -> Path:
        return self.state_dir / "state.json"

    # -- lifecycle --------------------------------------------------------------------
    def __enter__(self) -> ControlPlane:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> ControlPlane:
        if self._state_file.exists() and any(self.running().values()):
            raise ControlPlaneError(f"a control plane already runs from {self.state_dir} (down it first)")
        self.pids = {}
        bins = ensure_binaries()
        self._remove_state_dir()
        for sub in ("logs", "pod-logs", "components", "etcd-data"):
            (self.state_dir / sub).mkdir(parents=True, exist_ok=True)
        (self.state_dir / STATE_MARKER).write_text("a local control plane's state: `down` removes this directory\n")
        self.state_dir.chmod(0o700)
        self.ports = Ports.pick()
        self._bins = bins
        started = time.monotonic()
        try:
            generate_pki(self.pki.dir)
            self._write_configs()
            self._start_etcd()
            self._start_apiserver()
            self._bootstrap_objects()
            self._start_component(
                "kube-controller-manager",
                self._controller_manager_args(),
                f"https://127.0.0.1:{self.ports.controller_manager}/healthz",
            )
            self._start_component(
                "kube-scheduler", self._scheduler_args(), f"https://127.0.0.1:{self.ports.scheduler}/healthz"
            )
            self._install_kwok_crds()
            self._start_component("kwok", self._kwok_args(), f"https://127.0.0.1:{self.ports.kwok}/healthz")
            self._after_kwok()
        except BaseException:
            self._dump_logs()
            self.stop()
            raise
        _log(f"control plane up in {time.monotonic() - started:.1f} s: {self.server}, kubeconfig {self.kubeconfig}")
        return self

    def stop(self, remove_state: bool = True) -> None:
        """SIGTERM every component in reverse start order; remove the state dir."""
        if not self.pids and self._state_file.exists():
            self._load_state()
        for name in reversed(START_ORDER):
            pid = self.pids.pop(name, None)
            if pid:  # the API server lingers up to 60 s for open watches: see stop_apiserver
                _terminate(pid, timeout=5 if name == "kube-apiserver" else 15)
            proc = self._procs.pop(name, None)
            if proc:
                with contextlib.suppress(Exception):
                    proc.wait(timeout=1)
        if remove_state:
            self._remove_state_dir()
        elif self.state_dir.exists():
            self._save_state()

    def running(self) -> dict[str, bool]:
        """Component -> whether its process is alive (empty when nothing was started)."""
        if not self.pids and self._state_file.exists():
            self._load_state()
        return {name: _pid_alive(pid) for name, pid in self.pids.items()}

    def healthy(self) -> bool:
        try:
            return self._get("/readyz", timeout=3).strip() == b"ok"
        except Exception:  # noqa: BLE001 - any failure means "not healthy"
            return False

    @classmethod
    def attach(cls, state_dir: Path) -> ControlPlane:
        """The control plane a previous process started from ``state_dir`` (CLI status/down)."""
        cp = cls(state_dir)
        if not cp._state_file.exists():
            raise ControlPlaneError(f"no control plane state in {cp.state_dir}")
        cp._load_state()
        return cp

    # -- test helpers -----------------------------------------------------------------
    def stop_apiserver(self, grace: float = 2.0) -> None:
        """SIGTERM the API server; SIGKILL it if it has not exited after ``grace`` s.

        On SIGTERM kube-apiserver stops listening at once, then keeps serving the watches
        already open until its shutdown timeout (``--request-timeout``, 60 s) runs out; the
        kill ends them sooner, as a kubelet does after a Pod's grace period."""
        pid = self.pids.pop("kube-apiserver", None)
        if pid:
            _terminate(pid, timeout=grace)
        self._procs.pop("kube-apiserver", None)
        self._save_state()

    def start_apiserver(self) -> None:
        """Start the API server again on the same port with the same etcd data; wait for /readyz."""
        if self.pids.get("kube-apiserver") and _pid_alive(self.pids["kube-apiserver"]):
            return
        self._bins = bin_dir()
        self._start_apiserver()

    def restart_apiserver(self, downtime: float = 0.0, grace: float = 2.0) -> None:
        """Stop the API server (see stop_apiserver), wait ``downtime`` s, start it again
        (~3 s until /readyz). Open watches end; what re-watching from the last
        resourceVersion seen gives depends on ``watch_cache``:

        - on (default, as in real clusters): 410 Gone "too old resource version" when
          anything was written since (the new API server's watch cache starts at etcd's
          current revision, and the API server writes leases as it starts, so in practice
          always): the client must relist, then watch from the list's resourceVersion;
        - off: the watch resumes from etcd's history (until compact_etcd())."""
        self.stop_apiserver(grace=grace)
        if downtime:
            time.sleep(downtime)
        self.start_apiserver()

    def etcd_revision(self) -> int:
        """etcd's current revision (what resourceVersions count)."""
        status = self._etcd_post(
            "/v3/kv/range", {"key": base64.b64encode(b"/registry/health").decode(), "count_only": True}
        )
        return int(status["header"]["revision"])

    def compact_etcd(self, revision: int | None = None) -> int:
        """Compact etcd's history up to ``revision`` (default: its current one); return it.

        Requests that reach etcd with an older resourceVersion then fail with 410 Gone: with
        ``watch_cache=False`` a watch ("The resourceVersion for the provided watch is too
        old") and a list with resourceVersionMatch=Exact. With the watch cache on, the API
        server goes on serving watches from its cache's window (no 410); a restart after
        the compaction (restart_apiserver) makes any older resourceVersion 410 either way."""
        revision = revision or self.etcd_revision()
        self._etcd_post("/v3/kv/compaction", {"revision": str(revision), "physical": True})
        return revision

    def set_pod_logs(
        self,
        namespace: str,
        pod: str,
        logs: dict[str, list[str]],
        previous: dict[str, list[str]] | None = None,
        wait: float = 10.0,
    ) -> dict[str, Path]:
        """Serve ``logs`` (container -> lines) for one Pod, and ``previous`` for
        `logs --previous` (a container without one answers 400, as a kubelet does for a
        container that has not restarted): writes CRI-format files into pod_logs_dir and creates a kwok
        ``Logs`` object named after the Pod (other containers fall back to the defaults).
        Append to the returned files (cri_log_lines) to feed `logs -f`. Waits (at most
        ``wait`` s) until kwok serves these lines: it watches Logs objects, and reports
        nothing in their status."""
        previous = previous or {}
        entries, files = [], {}
        for container in sorted(set(logs) | set(previous)):
            entry: dict = {"containers": [container]}
            for kind, source in (("logsFile", logs), ("previousLogsFile", previous)):
                if kind == "previousLogsFile" and container not in previous:
                    entry[kind] = str(self._no_previous)
                    continue
                suffix = ".log" if kind == "logsFile" else ".previous.log"
                path = self.pod_logs_dir / namespace / pod / f"{container}{suffix}"
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(cri_log_lines(source.get(container, [])))
                entry[kind] = str(path)
                if kind == "logsFile":
                    files[container] = path
            entries.append(entry)
        entries.append(self._default_log_entry())
        body = {
            "apiVersion": "kwok.x-k8s.io/v1alpha1",
            "kind": "Logs",
            "metadata": {"name": pod, "namespace": namespace},
            "spec": {"logs": entries},
        }
        path = f"/apis/kwok.x-k8s.io/v1alpha1/namespaces/{namespace}/logs"
        try:
            self._request("POST", path, body)
        except urllib.error.HTTPError as err:
            if err.code != 409:
                raise
            current = json.loads(self._get(f"{path}/{pod}"))
            body["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"]
            self._request("PUT", f"{path}/{pod}", body)
        expected = {c: "".join(f"{line}\n" for line in logs.get(c, [])) for c in files}

        def serving() -> bool:
            return all(self._kwok_logs(namespace, pod, c) == text for c, text in expected.items())

        self._wait("kwok", serving, timeout=wait)
        return files

    def enable_exec(
        self, namespace: str | None = None, workdir: str | None = None, env: dict[str, str] | None = None
    ) -> None:
        """Let `kubectl exec` run commands (on THIS machine, as the user running kwok) in
        ``workdir`` for Pods in ``namespace`` (all when None): a kwok ClusterExec. Off by
        default, since anyone allowed pods/exec could then run local commands."""
        workdir = workdir or str(self.state_dir / "exec")
        Path(workdir).mkdir(parents=True, exist_ok=True)
        selector = {"matchNamespaces": [namespace]} if namespace else {}
        name = f"exec-{namespace or 'all'}"
        body = {
            "apiVersion": "kwok.x-k8s.io/v1alpha1",
            "kind": "ClusterExec",
            "metadata": {"name": name},
            "spec": {
                "selector": selector,
                "execs": [
                    {"local": {"workDir": workdir, "envs": [{"name": k, "value": v} for k, v in (env or {}).items()]}}
                ],
            },
        }
        with contextlib.suppress(urllib.error.HTTPError):
            self._request("DELETE", f"/apis/kwok.x-k8s.io/v1alpha1/clusterexecs/{name}")
        self._request("POST", "/apis/kwok.x-k8s.io/v1alpha1/clusterexecs", body)
        time.sleep(1.0)  # kwok's informer sees it within milliseconds; nothing tells when

    def api_client(self, context: str | None = None):
        """A `kubernetes` ApiClient for ``context`` (default: admin)."""
        from kubernetes import config

        return config.new_client_from_config(str(self.kubeconfig), context=context or self.admin_context)

    def component_log(self, name: str) -> str:
        path = self.logs_dir / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    # -- internals: config files --------------------------------------------------------
    def _component_kubeconfig(self, stem: str) -> Path:
        doc = kubeconfig_document(self.server, self.pki, {stem: stem}, {stem: (stem, "default")}, stem)
        return _write_yaml(self.state_dir / "components" / f"{stem}.kubeconfig", doc)

    def _write_configs(self) -> None:
        doc = kubeconfig_document(
            self.server,
            self.pki,
            {ADMIN_CONTEXT: "admin", LIMITED_USER: "limited"},
            {ADMIN_CONTEXT: (ADMIN_CONTEXT, "default"), LIMITED_CONTEXT: (LIMITED_USER, LIMITED_NAMESPACE)},
            ADMIN_CONTEXT,
        )
        _write_yaml(self.kubeconfig, doc)
        for stem in ("controller-manager", "scheduler", "kwok"):
            self._component_kubeconfig(stem)
        default_logs = self.pod_logs_dir / "default.log"
        default_logs.write_text(
            cri_log_lines(
                [
                    "kwok simulates this container: nothing runs and nothing logs.",
                    "ControlPlane.set_pod_logs() serves chosen lines for a Pod.",
                ]
            )
        )
        # Stages only: a KwokConfiguration object here replaces kwok's defaults instead of
        # overriding them (kwok then refuses "node leases parallelism must be greater than 0").
        _write_yaml(
            self.state_dir / "components" / "kwok.yaml",
            *kwok_stage_documents(self.stage_delay_ms, self.stage_jitter_ms),
        )

    @property
    def _no_previous(self) -> Path:
        """A file that never exists: `logs --previous` of a container without previous logs
        then fails with 400 BadRequest as from a kubelet, and kwok's message ("failed to read
        log file ...: no such file or directory") holds the kubelet's words "previous
        terminated container ... not found" through this name."""
        return self.pod_logs_dir / "none" / "previous terminated container not found"

    def _default_log_entry(self) -> dict:
        return {"logsFile": str(self.pod_logs_dir / "default.log"), "previousLogsFile": str(self._no_previous)}

    # -- internals: components ----------------------------------------------------------
    def _spawn(self, name: str, args: list[str]) -> None:
        log = (self.logs_dir / f"{name}.log").open("ab")
        env = dict(os.environ)
        env["HOME"] = str(self.state_dir)  # kwok would read ~/.kwok/kwok.yaml; keep them all away from $HOME
        proc = subprocess.Popen(
            [str(self._bins / name), *args],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=self.state_dir,
            env=env,
            start_new_session=True,
            preexec_fn=_die_with_parent if self.die_with_parent else None,
        )
        log.close()
        self._procs[name] = proc
        self.pids[name] = proc.pid
        self._save_state()

    def _wait(self, name: str, probe, timeout: float | None = None) -> None:
        deadline = time.monotonic() + (timeout or self.ready_timeout)
        last = None
        while time.monotonic() < deadline:
            proc = self._procs.get(name)
            if proc is not None and proc.poll() is not None:
                raise ControlPlaneError(
                    f"{name} exited with {proc.returncode}; its log:\n" + self.component_log(name)[-4000:]
                )
            try:
                if probe():
                    return
            except Exception as err:  # noqa: BLE001
                last = err
            time.sleep(0.2)
        raise ControlPlaneError(
            f"{name} not ready after {timeout or self.ready_timeout:.0f} s ({last}); "
            f"log tail:\n{self.component_log(name)[-4000:]}"
        )

    def _start_etcd(self) -> None:
        p = self.ports
        self._spawn(
            "etcd",
            [
                "--name=pod-studio",
                f"--data-dir={self.state_dir / 'etcd-data'}",
                f"--listen-client-urls=http://127.0.0.1:{p.etcd}",
                f"--advertise-client-urls=http://127.0.0.1:{p.etcd}",
                f"--listen-peer-urls=http://127.0.0.1:{p.etcd_peer}",
                f"--initial-advertise-peer-urls=http://127.0.0.1:{p.etcd_peer}",
                f"--initial-cluster=pod-studio=http://127.0.0.1:{p.etcd_peer}",
                "--unsafe-no-fsync",
                "--quota-backend-bytes=2147483648",
                "--log-level=warn",
            ],
        )
        self._wait(
            "etcd",
            lambda: (
                json.loads(urllib.request.urlopen(f"{self.etcd_url}/health", timeout=2).read()).get("health") == "true"
            ),
        )

    def _apiserver_args(self) -> list[str]:
        pki, p = self.pki, self.ports
        return [
            f"--etcd-servers={self.etcd_url}",
            "--bind-address=127.0.0.1",
            "--advertise-address=127.0.0.1",
            f"--secure-port={p.apiserver}",
            f"--tls-cert-file={pki.serving_cert}",
            f"--tls-private-key-file={pki.serving_key}",
            f"--client-ca-file={pki.ca_cert}",
            "--authorization-mode=RBAC",
            "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
            f"--service-account-key-file={pki.sa_pub}",
            f"--service-account-signing-key-file={pki.sa_key}",
            f"--service-cluster-ip-range={SERVICE_CIDR}",
            "--allow-privileged=true",
            "--endpoint-reconciler-type=none",
            "--kubelet-preferred-address-types=InternalIP,Hostname",
            # The front proxy (aggregation) settings: without them the controller-manager and
            # scheduler log errors about the missing requestheader CA, all the time.
            f"--requestheader-client-ca-file={pki.ca_cert}",
            "--requestheader-allowed-names=front-proxy-client",
            "--requestheader-username-headers=X-Remote-User",
            "--requestheader-group-headers=X-Remote-Group",
            "--requestheader-extra-headers-prefix=X-Remote-Extra-",
            f"--proxy-client-cert-file={pki.client('front-proxy-client')[0]}",
            f"--proxy-client-key-file={pki.client('front-proxy-client')[1]}",
            f"--kubelet-client-certificate={pki.client('admin')[0]}",
            f"--kubelet-client-key={pki.client('admin')[1]}",
            f"--watch-cache={'true' if self.watch_cache else 'false'}",
            "--profiling=false",
            f"--v={self.verbosity}",
            *self.apiserver_args,
        ]

    def _start_apiserver(self) -> None:
        self._spawn("kube-apiserver", self._apiserver_args())
        self._wait("kube-apiserver", lambda: self._get("/readyz", timeout=3).strip() == b"ok")

    def _common_component_args(self, stem: str, port: int) -> list[str]:
        kubeconfig = self.state_dir / "components" / f"{stem}.kubeconfig"
        return [
            f"--kubeconfig={kubeconfig}",
            f"--authentication-kubeconfig={kubeconfig}",
            f"--authorization-kubeconfig={kubeconfig}",
            "--bind-address=127.0.0.1",
            f"--secure-port={port}",
            f"--tls-cert-file={self.pki.serving_cert}",
            f"--tls-private-key-file={self.pki.serving_key}",
            "--leader-elect=false",
            f"--v={self.verbosity}",
        ]

    def _controller_manager_args(self) -> list[str]:
        pki = self.pki
        return [
            *self._common_component_args("controller-manager", self.ports.controller_manager),
            "--use-service-account-credentials=true",
            f"--service-account-private-key-file={pki.sa_key}",
            f"--root-ca-file={pki.ca_cert}",
            f"--cluster-signing-cert-file={pki.ca_cert}",
            f"--cluster-signing-key-file={pki.path('ca.key')}",
            f"--service-cluster-ip-range={SERVICE_CIDR}",
        ]

    def _scheduler_args(self) -> list[str]:
        return self._common_component_args("scheduler", self.ports.scheduler)

    def _kwok_args(self) -> list[str]:
        p = self.ports
        return [
            f"--kubeconfig={self.state_dir / 'components' / 'kwok.kubeconfig'}",
            f"--config={self.state_dir / 'components' / 'kwok.yaml'}",
            # Every node annotated so (localhost, and those a test adds: a DaemonSet's second node).
            "--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake",
            "--node-ip=127.0.0.1",
            f"--cidr={POD_CIDR}",  # kwok's default, 10.0.0.1/24, overlaps the Service range
            f"--node-name={NODE_NAME}",
            f"--node-port={p.kwok}",
            "--node-lease-duration-seconds=40",
            f"--server-address=127.0.0.1:{p.kwok}",
            f"--tls-cert-file={self.pki.serving_cert}",
            f"--tls-private-key-file={self.pki.serving_key}",
            f"--enable-crds={','.join(KWOK_CRD_KINDS)}",
            f"--v={'INFO' if self.verbosity <= 1 else 'DEBUG'}",
        ]

    def _start_component(self, name: str, args: list[str], health_url: str) -> None:
        self._spawn(name, args)
        ctx = ssl.create_default_context(cafile=str(self.pki.ca_cert))
        self._wait(name, lambda: urllib.request.urlopen(health_url, context=ctx, timeout=2).read().strip() == b"ok")

    # -- internals: objects -----------------------------------------------------------
    def _bootstrap_objects(self) -> None:
        ns = LIMITED_NAMESPACE
        self._apply("/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
        role = {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": {"name": "pod-studio-team", "namespace": ns},
            "rules": [
                {"apiGroups": [""], "resources": ["pods", "configmaps", "services"], "verbs": ["*"]},
                {"apiGroups": [""], "resources": ["pods/log", "pods/status"], "verbs": ["get", "list", "watch"]},
                {"apiGroups": [""], "resources": ["pods/exec"], "verbs": ["get", "create"]},
                {"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["*"]},
                {"apiGroups": ["apps"], "resources": ["replicasets"], "verbs": ["get", "list", "watch"]},
            ],
        }
        binding = {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": {"name": "pod-studio-team", "namespace": ns},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "pod-studio-team"},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": LIMITED_USER}],
        }
        self._apply(f"/apis/rbac.authorization.k8s.io/v1/namespaces/{ns}/roles", role)
        self._apply(f"/apis/rbac.authorization.k8s.io/v1/namespaces/{ns}/rolebindings", binding)
        node = {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {
                "name": NODE_NAME,
                "annotations": {"kwok.x-k8s.io/node": "fake"},
                "labels": {
                    "kubernetes.io/hostname": NODE_NAME,
                    "kubernetes.io/os": "linux",
                    "kubernetes.io/arch": "amd64",
                    "type": "kwok",
                },
            },
            "spec": {},
        }
        self._apply("/api/v1/nodes", node)

    def _install_kwok_crds(self) -> None:
        import yaml

        for plural in KWOK_CRDS:
            crd = yaml.safe_load((crds_dir() / f"kwok.x-k8s.io_{plural}.yaml").read_text())
            self._apply("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd)

        def established() -> bool:
            for plural in KWOK_CRDS:
                path = f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{plural}.kwok.x-k8s.io"
                conditions = json.loads(self._get(path, timeout=3)).get("status", {}).get("conditions", [])
                if not any(c["type"] == "Established" and c["status"] == "True" for c in conditions):
                    return False
            return True

        self._wait("kube-apiserver", established)

    def _after_kwok(self) -> None:
        self._apply(
            "/apis/kwok.x-k8s.io/v1alpha1/clusterlogs",
            {
                "apiVersion": "kwok.x-k8s.io/v1alpha1",
                "kind": "ClusterLogs",
                "metadata": {"name": "default"},
                "spec": {"selector": {}, "logs": [self._default_log_entry()]},
            },
        )

        def node_ready() -> bool:
            node = json.loads(self._get(f"/api/v1/nodes/{NODE_NAME}", timeout=3))
            return any(c["type"] == "Ready" and c["status"] == "True" for c in node["status"].get("conditions", []))

        self._wait("kwok", node_ready)

        def default_sa() -> bool:  # the controller-manager works: it makes ServiceAccounts
            return self._get(f"/api/v1/namespaces/{LIMITED_NAMESPACE}/serviceaccounts/default", timeout=3) is not None

        self._wait("kube-controller-manager", default_sa)

    def _kwok_logs(self, namespace: str, pod: str, container: str) -> str:
        """What kwok serves for a container (its kubelet-like endpoint, as the API server asks)."""
        url = f"https://127.0.0.1:{self.ports.kwok}/containerLogs/{namespace}/{pod}/{container}"
        ctx = ssl.create_default_context(cafile=str(self.pki.ca_cert))
        try:
            with urllib.request.urlopen(url, context=ctx, timeout=3) as resp:
                return resp.read().decode(errors="replace")
        except urllib.error.HTTPError as err:
            return f"<{err.code}>"

    # -- internals: HTTP ----------------------------------------------------------------
    def _request(self, method: str, path: str, body: dict | None = None, timeout: float = 10) -> bytes:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(
            self.server + path,
            data=data,
            method=method,
            headers={"Content-Type": "application/json", "Accept": "application/json"},
        )
        with urllib.request.urlopen(req, context=_https_context(self.pki), timeout=timeout) as resp:
            return resp.read()

    def _get(self, path: str, timeout: float = 10) -> bytes:
        return self._request("GET", path, timeout=timeout)

    def _apply(self, collection: str, body: dict) -> None:
        try:
            self._request("POST", collection, body)
        except urllib.error.HTTPError as err:
            if err.code != 409:
                raise ControlPlaneError(f"POST {collection}: {err.code} {err.read()[:500]!r}") from err

    def _etcd_post(self, path: str, body: dict) -> dict:
        req = urllib.request.Request(
            self.etcd_url + path,
            data=json.dumps(body).encode(),
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=10) as resp:
            return json.loads(resp.read())

    # -- internals: state ---------------------------------------------------------------
    def _remove_state_dir(self) -> None:
        """Remove the state dir, but only one of ours (or an empty one): never a wrong path."""
        if not self.state_dir.exists():
            return
        if not (self.state_dir / STATE_MARKER).exists() and any(self.state_dir.iterdir()):
            raise ControlPlaneError(f"{self.state_dir} is not empty and holds no control plane state: not removing it")
        shutil.rmtree(self.state_dir, ignore_errors=True)

    def _save_state(self) -> None:
        if not self.state_dir.exists():
            return
        state = {
            "pids": self.pids,
            "ports": vars(self.ports) if self.ports else None,
            "versions": {"kubernetes": K8S_VERSION, "etcd": ETCD_VERSION, "kwok": KWOK_VERSION},
            "watch_cache": self.watch_cache,
            "stage_delay_ms": self.stage_delay_ms,
            "stage_jitter_ms": self.stage_jitter_ms,
            "apiserver_args": list(self.apiserver_args),
        }
        tmp = self._state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(state, indent=2) + "\n")
        tmp.replace(self._state_file)

    def _load_state(self) -> None:
        state = json.loads(self._state_file.read_text())
        self.pids = {k: int(v) for k, v in state.get("pids", {}).items()}
        self.ports = Ports(**state["ports"]) if state.get("ports") else None
        self.watch_cache = state.get("watch_cache", True)
        self.apiserver_args = tuple(state.get("apiserver_args", ()))

    def _dump_logs(self) -> None:
        for name in START_ORDER:
            text = self.component_log(name)
            if text:
                _log(f"--- {name} log tail ---\n{text[-2500:]}")


# ---------------------------------------------------------------------------------------
# CLI
# ---------------------------------------------------------------------------------------


def _cmd_up(args: argparse.Namespace) -> int:
    state_dir = Path(args.state_dir)
    if (state_dir / "state.json").exists():
        existing = ControlPlane.attach(state_dir)
        if all(existing.running().values()) and existing.healthy():
            print(f"already running: {existing.server}\nexport KUBECONFIG={existing.kubeconfig}")
            return 0
        _log("a previous control plane left state behind: stopping what is left of it")
        existing.stop()
    cp = ControlPlane(
        state_dir, die_with_parent=False, stage_delay_ms=args.stage_delay_ms, stage_jitter_ms=args.stage_jitter_ms
    )
    cp.start()
    print(f"Kubernetes {K8S_VERSION} (etcd {ETCD_VERSION}, kwok {KWOK_VERSION}) at {cp.server}")
    print(f"export KUBECONFIG={cp.kubeconfig}")
    print(
        f"contexts: {cp.admin_context} (cluster admin), {cp.limited_context} "
        f"(user {cp.limited_user}, namespace {cp.limited_namespace} only)"
    )
    print(f"component logs: {cp.logs_dir}/   stop: python -m tests.support.controlplane down")
    return 0


def _cmd_down(args: argparse.Namespace) -> int:
    state_dir = Path(args.state_dir)
    if not (state_dir / "state.json").exists():
        print("not running")
        ControlPlane(state_dir)._remove_state_dir()
        return 0
    ControlPlane.attach(state_dir).stop()
    print("stopped")
    return 0


def _cmd_status(args: argparse.Namespace) -> int:
    state_dir = Path(args.state_dir)
    if not (state_dir / "state.json").exists():
        print("not running")
        return 1
    cp = ControlPlane.attach(state_dir)
    alive = cp.running()
    healthy = cp.healthy()
    for name in START_ORDER:
        if name in alive:
            print(f"{name:<24} {'running' if alive[name] else 'STOPPED'} (pid {cp.pids[name]})")
    print(f"API server {cp.server}: {'ready' if healthy else 'NOT ready'}; kubeconfig {cp.kubeconfig}")
    return 0 if healthy and all(alive.values()) else 1


def _cmd_binaries(args: argparse.Namespace) -> int:
    ensure_binaries()
    print(ensure_kubectl().parent)  # the tests check the cluster with kubectl of the same version
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.support.controlplane", description=__doc__.split("\n")[0])
    parser.add_argument("--state-dir", default=str(DEFAULT_STATE_DIR))
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="build if needed, start, write the kubeconfig")
    up.add_argument("--stage-delay-ms", type=int, default=1000, help="kwok Pod stage delay (default 1000)")
    up.add_argument("--stage-jitter-ms", type=int, default=2000, help="kwok Pod stage delay upper bound")
    up.set_defaults(func=_cmd_up)
    sub.add_parser("down", help="stop everything, remove the state dir").set_defaults(func=_cmd_down)
    sub.add_parser("status", help="say whether it runs (exit 0 when healthy)").set_defaults(func=_cmd_status)
    sub.add_parser("binaries", help="only build the binaries").set_defaults(func=_cmd_binaries)
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except ControlPlaneError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
