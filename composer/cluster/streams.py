"""Streamed GET requests (a watch, a followed log): open one, read its lines, cut it from any thread.

Plain requests go through the ``Connection``'s ApiClient (see contexts.py); a streamed one is
opened here with its own read timeout and its body is read as it arrives.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from typing import Any

import urllib3
from kubernetes.client.exceptions import ApiException

from composer.cluster.contexts import Connection


def open_stream(
    connection: Connection, path: str, query: Iterable[tuple[str, Any]], *, read_timeout: float
) -> urllib3.BaseHTTPResponse:
    """GET ``path`` without reading the body (a watch, a followed log). Raises ClusterError.

    ``read_timeout`` is how long a silent connection may stay silent before it counts as lost.
    """
    with connection.translated_errors():
        serialized = connection.client.param_serialize(
            method="GET",
            resource_path=path,
            query_params=list(query),
            header_params={"Accept": "application/json, */*"},
            auth_settings=["BearerToken"],
        )
        rest_response = connection.client.call_api(
            *serialized, _request_timeout=(connection.timeouts.connect, read_timeout)
        )
        response = rest_response.response
        if not 200 <= response.status <= 299:
            try:
                raise ApiException(http_resp=response)
            finally:
                response.release_conn()
    return response


def shut(response: urllib3.BaseHTTPResponse | None) -> None:
    """Interrupt a blocked read on ``response`` from another thread, and close it."""
    if response is None:
        return
    with contextlib.suppress(Exception):  # it may have finished or been closed meanwhile
        response.shutdown()
    with contextlib.suppress(Exception):
        response.close()


def read_lines(response: urllib3.BaseHTTPResponse, chunk_size: int = 65536) -> Iterator[list[bytes]]:
    """The complete lines of a streamed body, in groups as they arrive (without the newline).

    ``read1`` returns whatever has arrived instead of waiting for ``chunk_size`` bytes, so a
    line is handed on as soon as the server sends it.
    """
    pending = b""
    while True:
        data = response.read1(chunk_size)
        if not data:
            break
        pending += data
        if b"\n" not in data:
            continue
        *complete, pending = pending.split(b"\n")
        yield complete
    if pending:
        yield [pending]
