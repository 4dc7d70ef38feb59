"""Endless responses (log follow, status watch) under an ASGI server.

Django's ASGI handler serves a StreamingHttpResponse over a *synchronous* iterator by first
reading the whole iterator into a list, which never finishes for an endless stream. Under
ASGI this middleware drives such an iterator from a thread pool of its own, one chunk at a
time, and closes it when the client goes away (a disconnect cancels Django's response task
before it can close the response itself). Under WSGI nothing changes.

Each ASGI request runs in a thread of its own with its own database connection, kept until the
response ends: for a stream, hours. That connection is closed here, before the stream starts
(composer/http/sse.py: streams hold no connection while they wait).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.core.handlers.asgi import ASGIRequest
from django.http import FileResponse, HttpRequest, HttpResponseBase

from composer.http.sse import release_database

_DONE = object()
_pool: ThreadPoolExecutor | None = None


def _threads() -> ThreadPoolExecutor:
    global _pool
    if _pool is None:
        # One thread per open stream blocks in next(); the default executor has only a handful.
        _pool = ThreadPoolExecutor(max_workers=settings.PODSTUDIO_MAX_STREAMS * 2 + 8, thread_name_prefix="stream")
    return _pool


async def _chunks(response: HttpResponseBase, iterator: Iterator[bytes]) -> AsyncIterator[bytes]:
    loop = asyncio.get_running_loop()
    try:
        while (chunk := await loop.run_in_executor(_threads(), next, iterator, _DONE)) is not _DONE:
            yield chunk
    finally:
        await loop.run_in_executor(_threads(), response.close)


class AsyncStreamingMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if (
            isinstance(request, ASGIRequest)
            and response.streaming
            and not response.is_async
            and not isinstance(response, FileResponse)  # static files: WhiteNoise's own business
        ):
            response.streaming_content = _chunks(response, iter(response.streaming_content))
            release_database()
        return response
