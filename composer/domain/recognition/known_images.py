"""Well-known helper images: a name, a one-line explanation and the role they usually play.

Data, not code: a container that matches no pattern stays `custom`, and this table only says what
the image is. Matched on the image's repository name (registry and tag left out)."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class KnownImage:
    name: str
    role: str  # init, sidecar, ambassador or adapter
    explanation: str


# (repository name pattern, KnownImage); the first match wins.
KNOWN_IMAGES: tuple[tuple[str, KnownImage], ...] = (
    (r"istio/proxyv2|istio-proxy", KnownImage(
        "Istio proxy", "ambassador", "Envoy injected by Istio: carries the Pod's traffic through the mesh.")),
    (r"istio/istio-init|istio-init", KnownImage(
        "Istio init", "init", "Sets the iptables rules that send the Pod's traffic through the Istio proxy.")),
    (r"linkerd/proxy-init|linkerd2-proxy-init", KnownImage(
        "Linkerd init", "init", "Sets the iptables rules that send the Pod's traffic through the Linkerd proxy.")),
    (r"linkerd/proxy|linkerd-proxy|linkerd2-proxy", KnownImage(
        "Linkerd proxy", "ambassador", "Linkerd's proxy: carries the Pod's traffic through the mesh (mTLS, metrics).")),
    (r"hashicorp/vault|vault-k8s|vault-agent", KnownImage(
        "Vault agent", "sidecar", "Fetches and renews secrets from Vault into a shared volume.")),
    (r"cloud-sql-proxy|cloudsql-docker/gce-proxy|cloud-sql-connectors", KnownImage(
        "Cloud SQL proxy", "ambassador", "Opens an authenticated, encrypted connection to Cloud SQL on localhost.")),
    (r"oauth2-proxy", KnownImage(
        "OAuth2 proxy", "ambassador", "Fronts the app; lets through only requests signed in with OAuth2/OIDC.")),
    (r"kube-rbac-proxy", KnownImage(
        "kube-rbac-proxy", "ambassador", "Fronts a port with TLS; lets through only callers RBAC allows.")),
    (r"envoyproxy/envoy|(^|/)envoy$", KnownImage(
        "Envoy", "ambassador", "A proxy in front of or beside the app: routing, retries, TLS, metrics.")),
    (r"fluent-bit", KnownImage(
        "Fluent Bit", "sidecar", "Reads log files from a shared volume and ships them to a log store.")),
    (r"fluentd", KnownImage(
        "Fluentd", "sidecar", "A log agent: reads log files from a shared volume and ships them to a log store.")),
    (r"filebeat", KnownImage(
        "Filebeat", "sidecar", "Elastic's log shipper: reads log files and sends them to Elasticsearch or Logstash.")),
    (r"promtail", KnownImage(
        "Promtail", "sidecar", "Grafana Loki's agent: reads log files and pushes them to Loki.")),
    (r"configmap-reload|prometheus-config-reloader", KnownImage(
        "ConfigMap reloader", "sidecar", "Watches a mounted ConfigMap, calls the app's reload endpoint on change.")),
    (r"git-sync", KnownImage(
        "git-sync", "sidecar", "Keeps a shared volume up to date with a Git repository.")),
    (r"socat", KnownImage(
        "socat", "ambassador", "Relays a local port to a remote address: the app talks to localhost.")),
    (r"haproxy", KnownImage(
        "HAProxy", "ambassador", "A TCP/HTTP proxy in front of or beside the app.")),
    (r"hashicorp/http-echo", KnownImage(
        "http-echo", "adapter", "Answers every HTTP request with a fixed text: a stand-in API or a version page.")),
    (r"[-_]exporter$", KnownImage(
        "Prometheus exporter", "adapter", "Translates a program's own statistics into Prometheus metrics.")),
)

_COMPILED = tuple((re.compile(expression), known) for expression, known in KNOWN_IMAGES)


def repository(image: str) -> str:
    """`quay.io/prometheus/node-exporter:v1.8@sha256:…` -> `quay.io/prometheus/node-exporter`."""
    without_digest = image.split("@", 1)[0]
    head, _, last = without_digest.rpartition("/")
    last = last.split(":", 1)[0]
    return f"{head}/{last}" if head else last


def known_image(image: str) -> KnownImage | None:
    name = repository(image or "")
    return next((known for expression, known in _COMPILED if expression.search(name)), None)
