"""Credentials never reach a page, an API answer or a log (security review, December).

- ``scrub_secrets`` cuts every credential shape out of the text it is given (cluster error
  messages, log records), and leaves ordinary words alone;
- server URLs are shown without ``user:password@``, query string or fragment (``display_url``,
  at the source: ``ContextInfo.server``), while clients still connect with the kubeconfig as is;
- a failing exec credential plugin is reported by name and exit code, never with its output,
  arguments or environment, and nothing of it reaches a log record or the configured handler;
  the servers these tests connect to are the real local control plane's API server behind the
  fault-injecting proxy (tests/support/faultproxy.py), which takes a bearer token and records
  every request;
- the console handler's ``CredentialFilter`` drops what ``kubernetes.config`` logs and scrubs
  every other record.
"""

from __future__ import annotations

import base64
import io
import logging
import socket
import stat
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from django.conf import settings
from kubernetes.config.config_exception import ConfigException
from pythonjsonlogger.json import JsonFormatter

from composer import cluster
from composer.cluster.errors import ClusterError, RequestSite, display_url, scrub_secrets, translate
from composer.cluster.logfilter import CredentialFilter
from tests.support.faultproxy import FaultProxy
from tests.support.kubeconfig import KubeconfigContext, kubeconfig_document, write_kubeconfig

# --------------------------------------------------------------------------- scrub_secrets

SECRET = "s3cr3t-Value_42"

# (text, what must be gone, what must stay)
SHAPES = [
    (f'{{"token": "{SECRET}"}}', SECRET, '"token": "[redacted]"'),
    (f'{{"password": "{SECRET} with spaces"}}', "with spaces", '"password": "[redacted]"'),
    (f"{{'password': '{SECRET}'}}", SECRET, "'password': '[redacted]'"),
    (f'{{\\"token\\":\\"{SECRET}\\"}}', SECRET, '\\"token\\":\\"[redacted]\\"'),
    (f'"auth": {{"token": "{SECRET}"}}', SECRET, '"token": "[redacted]"'),
    (f"token={SECRET}", SECRET, "token=[redacted]"),
    (f"password: {SECRET}", SECRET, "password: [redacted]"),
    (f"apiKey={SECRET}", SECRET, "apiKey=[redacted]"),
    (f"api_key: {SECRET}", SECRET, "api_key: [redacted]"),
    (f"x-api-key={SECRET}", SECRET, "x-api-key=[redacted]"),
    (f"clientSecret={SECRET}", SECRET, "clientSecret=[redacted]"),
    (f"client_secret = {SECRET}", SECRET, "client_secret = [redacted]"),
    (f"x-auth-token {SECRET}", SECRET, "x-auth-token [redacted]"),
    (f"X-Auth-Token: {SECRET}", SECRET, "X-Auth-Token: [redacted]"),
    (f"X-Vault-Token {SECRET}", SECRET, "X-Vault-Token [redacted]"),
    (f"GET /api/v1/namespaces?access_token={SECRET}&limit=5", SECRET, "access_token=[redacted]&limit=5"),
    (f"refresh_token={SECRET}", SECRET, "refresh_token=[redacted]"),
    (f"id-token: {SECRET}", SECRET, "id-token: [redacted]"),
    (f"X-Amz-Security-Token={SECRET}&X-Amz-Signature={SECRET}", SECRET, "X-Amz-Signature=[redacted]"),
    (f"client-key-data: {SECRET}", SECRET, "client-key-data: [redacted]"),
    (f"client-certificate-data: {SECRET}", SECRET, "client-certificate-data: [redacted]"),
    (f"Authorization: Bearer {SECRET}", SECRET, "Authorization: Bearer [redacted]"),
    (f"authorization: Basic {SECRET}", SECRET, "authorization: Basic [redacted]"),
    (f"sent Bearer {SECRET} upstream", SECRET, "Bearer [redacted] upstream"),
    ("Basic dXNlcjpwYXNz", "dXNlcjpwYXNz", "Basic [redacted]"),
    (f"cookie: sessionid={SECRET}", SECRET, "cookie: [redacted]"),
    (f"run --token {SECRET} --namespace x", SECRET, "--token [redacted] --namespace x"),
    (f"run --password={SECRET}", SECRET, "--password=[redacted]"),
    (f"https://admin:{SECRET}@10.0.0.1:6443/api", SECRET, "https://[redacted]@10.0.0.1:6443/api"),
    ("jwt eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJtZSJ9.c2lnbmF0dXJl here", "eyJhbGciOiJSUzI1NiJ9", "jwt [redacted] here"),
    ("-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA\n-----END RSA PRIVATE KEY-----", "MIIEpAIBAAKCAQEA",
     "-----BEGIN RSA PRIVATE KEY----- [redacted]"),
    ("Authorization: Bearer ps_abcdefghijklmnopqrstuvwx", "abcdefghijklmnop", "Bearer [redacted]"),
]


@pytest.mark.parametrize(("text", "secret", "kept"), SHAPES, ids=[shape[2][:40] for shape in SHAPES])
def test_every_credential_shape_is_scrubbed(text, secret, kept):
    scrubbed = scrub_secrets(text)
    assert secret not in scrubbed
    assert kept in scrubbed
    assert scrub_secrets(scrubbed) == scrubbed  # scrubbing twice changes nothing more


ORDINARY = [
    "the token expired",
    "Unauthorized: token has expired; log in again",
    "password authentication failed for user 'me'",
    "Bearer token expired",
    "x-auth-token header is missing",
    'secrets "db-creds" is forbidden: User "alice" cannot get resource "secrets" in API group ""',
    "Field spec.template.spec.containers[0].env[1].valueFrom.secretKeyRef.name: Required value",
    "tokens=3 token_count=5",
    "The cluster at context 'prod' (https://10.0.0.1:6443) could not be reached: the connection was refused.",
    "Basic authentication is disabled",
]


@pytest.mark.parametrize("text", ORDINARY)
def test_ordinary_words_are_left_alone(text):
    assert scrub_secrets(text) == text


def test_cluster_errors_scrub_their_messages():
    error = ClusterError("server", f'The cluster reported an error (500): {{"token": "{SECRET}"}}')
    assert SECRET not in error.message + str(error) + repr(error)
    quoted = ClusterError("invalid", 'The cluster rejected Pod "a\x00b"')  # kept in deploy records: no NUL
    assert quoted.message == 'The cluster rejected Pod "a\ufffdb"'


# --------------------------------------------------------------------------- server URLs


@pytest.mark.parametrize(("url", "shown"), [
    ("https://admin:pa55@10.0.0.1:6443", "https://10.0.0.1:6443"),
    ("https://10.0.0.1:6443/k8s/clusters/c-1?access_token=tok-123#frag", "https://10.0.0.1:6443/k8s/clusters/c-1"),
    ("https://token-only@[fd00::1]:6443/?x=1", "https://[fd00::1]:6443/"),
    ("https://kubernetes.default.svc", "https://kubernetes.default.svc"),
    ("http://[::1", "http://[::1"),  # not a URL urlsplit accepts: cut by hand
    ("http://u:p@[::1?token=abc", "http://[::1"),
    ("", ""),
    (None, ""),
])
def test_display_urls_carry_no_userinfo_query_or_fragment(url, shown):
    assert display_url(url) == shown


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _ca_data(proxy: FaultProxy) -> str:
    return base64.b64encode(proxy.control_plane.pki.ca_cert.read_bytes()).decode()


def test_contexts_show_servers_without_credentials_and_still_connect(tmp_path, fault_proxy, monkeypatch):
    scheme, host = fault_proxy.url.split("://", 1)
    with_userinfo = KubeconfigContext("userinfo", f"{scheme}://admin:pa55-word@{host}", fault_proxy.token,
                                      ca_data=_ca_data(fault_proxy))
    with_query = KubeconfigContext("query", "https://10.0.0.1:6443/base?access_token=tok-123#frag", "t")
    path = write_kubeconfig(tmp_path / "kubeconfig", [with_userinfo, with_query])
    monkeypatch.setenv("KUBECONFIG", str(path))

    found = {c.name: c for c in cluster.list_contexts()}
    assert found["userinfo"].server == fault_proxy.url
    assert found["query"].server == "https://10.0.0.1:6443/base"
    assert "pa55-word" not in repr(found) and "tok-123" not in repr(found)
    # The client is built from the kubeconfig by the kubernetes library, not from ContextInfo.server.
    assert cluster.server_version("userinfo") == (1, 37)
    assert [(r.method, r.path) for r in fault_proxy.requests] == [("GET", "/version")]


def test_error_messages_show_the_display_url(tmp_path, monkeypatch):
    server = f"http://admin:pa55-word@127.0.0.1:{closed_port()}/?access_token=tok-123"
    path = write_kubeconfig(tmp_path / "kubeconfig", [KubeconfigContext("gone", server, "tok-unreachable")])
    monkeypatch.setenv("KUBECONFIG", str(path))
    with pytest.raises(ClusterError) as unreachable:
        cluster.list_namespaces("gone")
    message = unreachable.value.message
    assert "The cluster at context 'gone' (http://127.0.0.1:" in message
    for secret in ("pa55-word", "tok-123", "admin", "tok-unreachable"):
        assert secret not in message
    site = RequestSite("gone", server)
    assert site.cluster.startswith("The cluster at context 'gone' (http://127.0.0.1:") and "admin" not in site.cluster


# --------------------------------------------------------------------------- exec credential plugins

ARG_SECRET = "arg-s3cret-7f1c"
ENV_SECRET = "env-s3cret-93ad"
STDERR_SECRET = "stderr-s3cret-5e20"
SECRETS = (ARG_SECRET, ENV_SECRET, STDERR_SECRET)


def _plugin(tmp_path: Path, name: str, body: str) -> Path:
    script = tmp_path / name
    script.write_text(f"#!{sys.executable}\nimport os, sys\n{body}\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


def _exec_kubeconfig(tmp_path: Path, proxy: FaultProxy, command: Path) -> Path:
    document = kubeconfig_document([KubeconfigContext("plugged", proxy.url, "unused", ca_data=_ca_data(proxy))])
    document["users"] = [{"name": "plugged-user", "user": {"exec": {
        "apiVersion": "client.authentication.k8s.io/v1beta1",
        "command": str(command),
        "args": ["--client-secret", ARG_SECRET],
        "env": [{"name": "PLUGIN_PASSWORD", "value": ENV_SECRET}],
        "interactiveMode": "Never",
    }}}]
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


@pytest.fixture
def console_output() -> Iterator[io.StringIO]:
    """What the handler configured by settings.LOGGING writes, for the duration of a test."""
    handlers = [h for h in logging.getLogger().handlers if any(isinstance(f, CredentialFilter) for f in h.filters)]
    assert handlers, "settings.LOGGING attaches CredentialFilter to the console handler"
    stream = io.StringIO()
    previous = [handler.setStream(stream) for handler in handlers]
    try:
        yield stream
    finally:
        for handler, old in zip(handlers, previous, strict=True):
            handler.setStream(old)


def _logged(caplog, console_output: io.StringIO) -> str:
    texts = [console_output.getvalue()]
    for record in caplog.records:
        texts += [record.getMessage(), record.exc_text or "", str(record.args)]
    return "\n".join(texts)


def test_a_failing_exec_plugin_is_named_without_its_output(tmp_path, fault_proxy, monkeypatch, caplog,
                                                           console_output):
    script = _plugin(tmp_path, "fail-plugin", (
        f"print('cannot log in: PLUGIN_PASSWORD=' + os.environ['PLUGIN_PASSWORD'] + ' args=' + ' '.join(sys.argv)"
        f" + ' {STDERR_SECRET}', file=sys.stderr)\nsys.exit(1)"
    ))
    monkeypatch.setenv("KUBECONFIG", str(_exec_kubeconfig(tmp_path, fault_proxy, script)))
    caplog.set_level(logging.DEBUG)

    for attempt in (lambda: cluster.connect("plugged"), lambda: cluster.list_namespaces("plugged")):
        with pytest.raises(ClusterError) as failed:
            attempt()
        error = failed.value
        assert error.kind == "unauthorized"
        assert "the credential plugin 'fail-plugin' failed (exit 1)" in error.message
        for secret in SECRETS:
            assert secret not in error.message + repr(error) + str(error.details)
    logged = _logged(caplog, console_output)
    for secret in SECRETS:
        assert secret not in logged
    assert fault_proxy.requests == []  # nothing was sent without credentials


def test_a_working_exec_plugin_still_logs_in(tmp_path, fault_proxy, monkeypatch):
    credential = {"apiVersion": "client.authentication.k8s.io/v1beta1", "kind": "ExecCredential",
                  "status": {"token": fault_proxy.token}}
    script = _plugin(tmp_path, "ok-plugin", f"import json\nprint(json.dumps({credential!r}))")
    monkeypatch.setenv("KUBECONFIG", str(_exec_kubeconfig(tmp_path, fault_proxy, script)))
    assert {"default", "kube-system", "team-a"} <= set(cluster.list_namespaces("plugged"))
    [sent] = fault_proxy.requests
    assert sent.headers["Authorization"] == f"Bearer {fault_proxy.token}"


@pytest.mark.parametrize(("message", "expected"), [
    (f"exec: process returned 2. --client-secret {ARG_SECRET} {STDERR_SECRET}",
     "the credential plugin 'exec' failed (exit 2)"),
    (f"cmd-path: process returned 1\nCmd: /usr/bin/gcloud config-helper --token {ARG_SECRET}\n"
     f"Stderr: {STDERR_SECRET}", "the credential plugin 'gcloud' failed (exit 1)"),
    ("exec: failed to decode process output: Expecting value", "is not a usable ExecCredential"),
])
def test_config_errors_of_credential_plugins_quote_no_output(message, expected):
    error = translate(ConfigException(message), RequestSite("ctx"))
    assert error.kind == "invalid" and expected in error.message
    for secret in SECRETS:
        assert secret not in error.message


# --------------------------------------------------------------------------- the log filter


def _record(message, *args, pathname="/srv/app/composer/views/api.py", exc_info=None) -> logging.LogRecord:
    return logging.LogRecord("composer", logging.ERROR, pathname, 1, message, args, exc_info)


def test_settings_attach_the_filter_to_the_console_handler():
    assert settings.LOGGING["filters"]["credentials"]["()"] == "composer.cluster.logfilter.CredentialFilter"
    assert "credentials" in settings.LOGGING["handlers"]["console"]["filters"]


@pytest.mark.parametrize("pathname", [
    f"{Path(sys.prefix)}/lib/python3.11/site-packages/kubernetes/config/kube_config.py",
    "/opt/venv/lib/python3.12/site-packages/kubernetes/config/exec_provider.py",
])
def test_records_of_kubernetes_config_are_dropped(pathname):
    record = _record("exec: process returned 1. %s", STDERR_SECRET, pathname=pathname)
    assert CredentialFilter().filter(record) is False


def test_other_records_are_scrubbed_message_args_and_traceback():
    record = _record("calling %s with token=%s", "https://admin:pw-123@h:6443", SECRET)
    assert CredentialFilter().filter(record) is True
    assert record.getMessage() == "calling https://[redacted]@h:6443 with token=[redacted]"
    try:
        raise ValueError(f'server said {{"password": "{SECRET}"}}')
    except ValueError:
        failed = _record("request failed", exc_info=sys.exc_info())
    assert CredentialFilter().filter(failed) is True
    for formatter in (JsonFormatter("%(message)s"), logging.Formatter("%(message)s")):
        text = formatter.format(failed)
        assert SECRET not in text and '"password": "[redacted]"' in text.replace('\\"', '"')


def test_a_clean_record_is_left_as_it_is():
    record = _record("GET /api/v1/patterns %s", 200)
    assert CredentialFilter().filter(record) is True
    assert (record.msg, record.args) == ("GET /api/v1/patterns %s", (200,))
