"""A fault-injecting HTTPS proxy in front of the real local control plane's API server.

The real kube-apiserver (tests/support/controlplane.py) does not answer 500 on demand, stall,
hang up mid-stream, rate-limit with Retry-After or end a followed log; this proxy does (the faults
of tests/support/faults.py). Everything else is forwarded as it is, streams included (watches,
``?follow=true`` logs, chunked answers: each piece is passed on as it arrives), and upgraded
connections (exec, port-forward) are spliced both ways.

TLS on both sides. Clients (the kubernetes Python client, kubectl) talk HTTPS to the proxy on
127.0.0.1 with the control plane's serving certificate (its CA signed it for 127.0.0.1), and
present the proxy's bearer token (kubectl sends credentials only over TLS); the proxy checks
and strips it, and forwards over TLS as the control plane's admin (client certificate).

::

    proxy = FaultProxy(control_plane, state_dir).start()   # or the ``fault_proxy`` fixture
    proxy.kubeconfig                      # context ``faulty`` (current), namespace default
    proxy.inject("PATCH", r"/pods/", status=503)          # next PATCH of a Pod: a 503 Status
    proxy.inject("GET", r"^/version$", stall=2.0)         # wait, then forward
    proxy.inject("PATCH", r"/pods/", drop=True)           # hang up without answering
    proxy.inject("GET", r"/pods$", drop_after_bytes=300)  # forward, hang up after 300 body bytes
    proxy.inject(None, r"/pods/", status=429, times=None, headers={"Retry-After": "3"})
    proxy.inject("GET", r"^/version$", answer={"gitVersion": "v1.28.4", ...})  # what an older server says
    proxy.end_streams(r"/pods/web/log\\?.*container=app")  # end open answers as a kubelet whose container stopped
    proxy.requests                       # [RecordedRequest(method, path, query, headers, body), ...]
    proxy.requests_matching("PATCH", r"/pods/x$"); proxy.clear_faults(); proxy.stop()
    proxy.upstream("GET", path)           # straight to the API server (no faults): (status, body)

``inject`` matches ``method`` (None: any) and the regex ``path`` searched in the URL path (no
query); the first fault that matches and is not used up applies (tests/support/faults.py).
``stall`` waits first (then the request is forwarded, unless another fault part answers it).
``drop`` closes the connection without an answer. ``status`` answers a Kubernetes ``Status``
(``message`` overrides its words; a 429 says ``Retry-After: 1`` and ``retryAfterSeconds: 1`` as
the real server's max-in-flight limit does) instead of forwarding. ``answer`` answers that JSON
body (with ``status``, 200 by default) instead. ``drop_after_bytes`` forwards and hangs up after
that many bytes of the answer's body (mid-stream). ``headers`` are added to the answer (the
Status, or the forwarded one). ``times``: how many requests it applies to (None: all). A fault
that drops or answers never reaches the API server: nothing is applied.
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import json
import re
import secrets
import select
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import yaml

from tests.support.controlplane import ControlPlane
from tests.support.faults import Fault, Faults, RecordedRequest

FAULTY_CONTEXT = "faulty"

# Not forwarded: they describe one hop (RFC 9110 7.6.1), or they are the proxy's own credential.
_HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization", "te", "trailer",
     "transfer-encoding", "upgrade"}
)

_REASONS = {
    400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound", 405: "MethodNotAllowed",
    409: "Conflict", 410: "Expired", 422: "Invalid", 429: "TooManyRequests", 500: "InternalError",
    503: "ServiceUnavailable", 504: "Timeout",
}


def status_body(code: int, message: str = "", path: str = "") -> dict[str, Any]:
    """A ``Status`` as kube-apiserver words one for ``code``."""
    if not message:
        if code == 429:
            message = "Too many requests, please try again later."
        elif code >= 500:
            message = f"Internal error occurred: injected fault ({code})"
        else:
            message = f"injected fault ({code})"
    body: dict[str, Any] = {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message,
        "reason": _REASONS.get(code, "InternalError" if code >= 500 else "BadRequest"), "code": code,
    }
    if code == 429:
        body["details"] = {"causes": [], "retryAfterSeconds": 1}
    return body


class _Dropped(Exception):
    """The proxy hung up on purpose (drop_after_bytes)."""


@dataclass(eq=False)  # kept in a set of open things: hashed by identity
class _Relay:
    """An answer being forwarded; ``end_streams`` ends it cleanly by closing its upstream side."""

    target: str  # the request target: path and query
    upstream: socket.socket
    ending: bool = False

    def end(self) -> None:
        self.ending = True
        with contextlib.suppress(OSError):
            self.upstream.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self.end()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    proxy: FaultProxy

    def handle_error(self, request, client_address) -> None:
        pass  # clients hanging up, failed handshakes (the untrusted-certificate tests): not news


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fault-proxy"
    sys_version = ""
    server: _Server

    def setup(self) -> None:
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.request.settimeout(30)
        self.request = self.server.proxy._server_tls.wrap_socket(self.request, server_side=True)
        self.request.settimeout(None)
        self.server.proxy._track(self.request)
        super().setup()

    def finish(self) -> None:
        with contextlib.suppress(OSError):
            super().finish()
        self.server.proxy._untrack(self.request)
        with contextlib.suppress(OSError):
            self.request.close()

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._handle()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = do_GET

    @property
    def proxy(self) -> FaultProxy:
        return self.server.proxy

    # -- one request ------------------------------------------------------------------
    def _handle(self) -> None:
        url = urlsplit(self.path)
        path = url.path
        body = self._read_body()
        proxy = self.proxy
        headers = {name.title(): value for name, value in self.headers.items()}
        proxy._record(RecordedRequest(self.command, path, parse_qs(url.query), headers, body))
        scheme, _, token = self.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or token != proxy.token:  # the scheme is case-insensitive (RFC 9110 11.1)
            self._send_status(401, "Unauthorized")
            return
        fault = proxy._faults.take(self.command, path)
        if fault and fault.stall:
            proxy._stopping.wait(fault.stall)
            if proxy._stopping.is_set():  # stopped while stalling: nothing reaches the API server after a test
                self._hang_up()
                return
        if fault and fault.drop:
            self._hang_up()
            return
        if fault and fault.answer is not None:
            self._send_json(fault.status or 200, fault.answer, fault.headers)
            return
        if fault and fault.status:
            self._send_status(fault.status, fault.message, fault.headers)
            return
        try:
            self._forward(body, fault)
        except _Dropped:
            self._hang_up()
        except (OSError, http.client.HTTPException):
            self.close_connection = True

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            parts = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(parts)
                parts.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _hang_up(self) -> None:
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.wfile.flush()
        with contextlib.suppress(OSError):
            self.request.shutdown(socket.SHUT_RDWR)

    def _send_status(self, code: int, message: str = "", headers: dict[str, str] | None = None) -> None:
        extra = {"Retry-After": "1"} if code == 429 else {}
        for name, value in (headers or {}).items():
            extra = {k: v for k, v in extra.items() if k.lower() != name.lower()}
            extra[name] = value
        self._send_json(code, status_body(code, message), extra)

    def _send_json(self, code: int, body: Any, extra: dict[str, str]) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in extra.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()

    def _forward(self, body: bytes, fault: Fault | None) -> None:
        headers = {k: v for k, v in self.headers.items()
                   if k.lower() not in _HOP_BY_HOP and k.lower() not in ("authorization", "content-length")}
        if body or self.command in ("POST", "PUT", "PATCH"):
            headers["Content-Length"] = str(len(body))
        if self.headers.get("Upgrade"):
            self._forward_upgrade(headers, body)
            return
        upstream = self.proxy._upstream_connection()
        self.proxy._track(upstream.sock)
        relay = _Relay(self.path, upstream.sock)
        self.proxy._track(relay)
        try:
            upstream.request(self.command, self.path, body=body or None, headers=headers)
            self._relay(upstream.getresponse(), fault, relay)
        finally:
            self.proxy._untrack(relay)
            self.proxy._untrack(upstream.sock)
            upstream.close()

    def _relay(self, response: http.client.HTTPResponse, fault: Fault | None, relay: _Relay) -> None:
        self.send_response_only(response.status, response.reason)
        length = response.getheader("Content-Length")
        for name, value in response.getheaders():
            if name.lower() not in _HOP_BY_HOP and name.lower() != "content-length":
                self.send_header(name, value)
        for name, value in (fault.headers if fault else {}).items():
            self.send_header(name, value)
        bodiless = self.command == "HEAD" or response.status in (204, 304) or 100 <= response.status < 200
        chunked = not bodiless and length is None
        if bodiless:
            pass
        elif chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", length)
        if response.will_close:
            self.close_connection = True
        self.end_headers()
        self.wfile.flush()
        if bodiless:
            return
        budget = fault.drop_after_bytes if fault else None
        while True:
            try:
                data = response.read1(65536)
            except (OSError, http.client.HTTPException):
                if not relay.ending:
                    raise
                data = b""
            if not data:
                break
            if budget is not None and len(data) >= budget:
                self._write(data[:budget], chunked)
                raise _Dropped
            if budget is not None:
                budget -= len(data)
            self._write(data, chunked)
        if budget == 0:
            raise _Dropped
        if chunked:
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()

    def _write(self, data: bytes, chunked: bool) -> None:
        if not data:
            return
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data) if chunked else data)
        self.wfile.flush()

    def _forward_upgrade(self, headers: dict[str, str], body: bytes) -> None:
        """exec, attach, port-forward (SPDY or WebSocket): pass the request on, then bytes both ways
        until one side ends. Faults apply to the upgrade request only."""
        self.close_connection = True
        headers = {**headers, "Connection": "Upgrade", "Upgrade": self.headers["Upgrade"]}
        up = self.proxy._upstream_connection().sock
        self.proxy._track(up)
        try:
            head = f"{self.command} {self.path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
            up.sendall(head.encode("latin-1") + b"\r\n" + body)
            answer = b""
            while not answer.endswith(b"\r\n\r\n"):  # byte by byte: nothing after the head is read here
                byte = up.recv(1)
                if not byte:
                    break
                answer += byte
            self.wfile.write(answer)
            self.wfile.flush()
            down = self.request
            sockets = [down, up]
            while answer and not self.proxy._stopping.is_set():
                ready = [s for s in sockets if s.pending()] or select.select(sockets, [], [], 0.5)[0]
                for sock in ready:
                    try:
                        data = sock.recv(65536)
                    except (ssl.SSLWantReadError, BlockingIOError):
                        continue
                    if not data:
                        return
                    (up if sock is down else down).sendall(data)
        finally:
            self.proxy._untrack(up)
            with contextlib.suppress(OSError):
                up.close()


class FaultProxy:
    """See the module docstring. ``state_dir`` receives the kubeconfig."""

    def __init__(self, control_plane: ControlPlane, state_dir: Path) -> None:
        self.control_plane = control_plane
        self.state_dir = Path(state_dir)
        self.token = secrets.token_urlsafe(24)
        self._faults = Faults()
        self._requests: list[RecordedRequest] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._open: set[Any] = set()
        pki = control_plane.pki
        self._server_tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self._server_tls.load_cert_chain(str(pki.serving_cert), str(pki.serving_key))
        self._server_tls.set_alpn_protocols(["http/1.1"])  # kubectl offers h2 too: it falls back
        self._upstream_tls = ssl.create_default_context(cafile=str(pki.ca_cert))
        cert, key = pki.client("admin")
        self._upstream_tls.load_cert_chain(str(cert), str(key))
        self._upstream_tls.set_alpn_protocols(["http/1.1"])
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ------------------------------------------------------------------------
    def start(self) -> FaultProxy:
        self._httpd = _Server(("127.0.0.1", 0), _Handler)
        self._httpd.proxy = self
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.1},
                                        name="fault-proxy", daemon=True)
        self._thread.start()
        self.write_kubeconfig(self.kubeconfig)
        return self

    def stop(self) -> None:
        """Stop accepting, end stalls, close every open connection (streams end)."""
        self._stopping.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        with self._lock:
            open_now = list(self._open)
        for thing in open_now:
            if isinstance(thing, socket.socket):
                with contextlib.suppress(OSError):
                    thing.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(Exception):
                thing.close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- where it is ------------------------------------------------------------------------
    @property
    def port(self) -> int:
        assert self._httpd is not None, "not started"
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @property
    def kubeconfig(self) -> Path:
        return self.state_dir / "faulty.kubeconfig"

    def kubeconfig_document(self, context: str = FAULTY_CONTEXT, namespace: str = "default",
                            trusted: bool = True) -> dict[str, Any]:
        """A kubeconfig with ``context`` (current) through the proxy; ``trusted=False`` leaves out
        the CA, so that a client cannot verify the proxy's certificate."""
        cluster: dict[str, Any] = {"server": self.url}
        if trusted:
            ca = self.control_plane.pki.ca_cert.read_bytes()
            cluster["certificate-authority-data"] = base64.b64encode(ca).decode()
        return {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": context, "cluster": cluster}],
            "users": [{"name": f"{context}-user", "user": {"token": self.token}}],
            "contexts": [{"name": context, "context": {"cluster": context, "user": f"{context}-user",
                                                       "namespace": namespace}}],
            "current-context": context,
            "preferences": {},
        }

    def write_kubeconfig(self, path: Path, **options: Any) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(self.kubeconfig_document(**options), sort_keys=False))
        path.chmod(0o600)
        return path

    # -- faults and the request log ---------------------------------------------------------
    def inject(
        self,
        method: str | None,
        path: str,
        *,
        status: int | None = None,
        message: str = "",
        stall: float = 0.0,
        drop: bool = False,
        drop_after_bytes: int | None = None,
        answer: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        times: int | None = 1,
    ) -> Fault:
        return self._faults.add(Fault(method, re.compile(path), status, message, stall, drop, drop_after_bytes,
                                      answer, dict(headers or {}), times))

    def clear_faults(self) -> None:
        self._faults.clear()

    def end_streams(self, target: str) -> int:
        """End the answers being forwarded whose request target (path and query) the regex ``target``
        matches, as a server ends them (the last chunk), as a kubelet ends a followed log when its
        container stops; how many."""
        pattern = re.compile(target)
        with self._lock:
            relays = [thing for thing in self._open if isinstance(thing, _Relay) and pattern.search(thing.target)]
        for relay in relays:
            relay.end()
        return len(relays)

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    def requests_matching(self, method: str | None = None, path: str = "") -> list[RecordedRequest]:
        pattern = re.compile(path)
        return [r for r in self.requests if (method is None or r.method == method) and pattern.search(r.path)]

    def clear_requests(self) -> None:
        with self._lock:
            self._requests.clear()

    # -- straight to the API server -----------------------------------------------------------
    def upstream(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        """One request to the API server itself as admin (no faults, not recorded): (status, JSON)."""
        connection = self._upstream_connection(timeout=10)
        try:
            data = json.dumps(body).encode() if body is not None else None
            connection.request(method, path, body=data, headers={"Accept": "application/json",
                                                                 "Content-Type": "application/json"})
            response = connection.getresponse()
            raw = response.read()
            return response.status, json.loads(raw) if raw else None
        finally:
            connection.close()

    def get_object(self, path: str) -> dict[str, Any] | None:
        """The object at ``path`` on the API server, or None when it answers 404."""
        status, body = self.upstream("GET", path)
        if status == 404:
            return None
        assert status == 200, (status, body)
        return body

    # -- internals ------------------------------------------------------------------------------
    def _upstream_connection(self, timeout: float | None = None) -> http.client.HTTPSConnection:
        port = urlsplit(self.control_plane.server).port
        connection = http.client.HTTPSConnection("127.0.0.1", port, context=self._upstream_tls, timeout=10)
        connection.connect()
        connection.sock.settimeout(timeout)  # streams stay open as long as the API server keeps them
        return connection

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self._requests.append(request)

    def _track(self, thing: Any) -> None:
        with self._lock:
            self._open.add(thing)

    def _untrack(self, thing: Any) -> None:
        with self._lock:
            self._open.discard(thing)


def wait_for(probe, timeout: float = 10.0, pause: float = 0.05) -> Any:
    """Poll ``probe`` until it returns something truthy (returned); AssertionError after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"still {value!r} after {timeout:g} s")
        time.sleep(pause)
