"""Requests for a host name that is not ours: a short plain 400, in every mode.

Django refuses such a request when something first asks for `request.get_host()` (the security,
common or CSRF middleware), and answers with its technical 500 page when DEBUG is on, which lists
settings and environment variables. A web page on another site can make a browser send exactly
that request (DNS rebinding: evil.example resolving to 127.0.0.1), so this middleware comes first
and never lets the exception reach Django's debug handling.
"""

from __future__ import annotations

import logging

from django.core.exceptions import DisallowedHost
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest

log = logging.getLogger("django.security.DisallowedHost")

BODY = "Bad Request (400): this server does not answer to that host name.\n"


class RefuseForeignHostMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            request.get_host()
        except DisallowedHost:
            # The host goes to the log (quoted: the client chose it), never into the page.
            log.warning("Refused a request for a host not in ALLOWED_HOSTS: %r", request.META.get("HTTP_HOST", ""))
            response = HttpResponseBadRequest(BODY, content_type="text/plain; charset=utf-8")
            response["X-Content-Type-Options"] = "nosniff"
            response["Cache-Control"] = "no-store"
            return response
        return self.get_response(request)
