"""Who is asking: API tokens for scripts, and a login for everything else in team mode."""

from __future__ import annotations

from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib.auth.middleware import LoginRequiredMiddleware
from django.contrib.auth.signals import user_login_failed
from django.http import HttpRequest, HttpResponse, JsonResponse
from django_htmx.http import HttpResponseClientRedirect

from composer.http.throttle import TOKEN_CREDENTIALS
from composer.services.access import team_mode, token_owner


class ApiTokenMiddleware:
    """Authenticates `Authorization: Bearer ps_…` requests; a bad token is a 401, never a fallback."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        header = request.headers.get("Authorization", "")
        if header.startswith("Bearer "):
            # Token guessing is throttled per client address by django-axes, the same counts, limit
            # and cool-off as logins (composer/http/throttle.py) rather than counters of our own: a failed
            # token is reported as a failed login that names no user. A locked-out address is refused
            # even a valid token (else guessing could go on), flagged as axes' backend flags a login
            # (so it is not counted again); AxesMiddleware, which wraps this one, turns the failure
            # that reaches the limit, and every refusal after, into the 429.
            locked = settings.AXES_ENABLED and not AxesProxyHandler.is_allowed(request, TOKEN_CREDENTIALS)
            request.axes_locked_out = locked
            token = None if locked else token_owner(header[7:].strip())
            if token is None:
                user_login_failed.send(sender=type(self), credentials=TOKEN_CREDENTIALS, request=request)
                return JsonResponse({"error": "the API token is unknown or revoked"}, status=401)
            request.user = token.user
            # Token requests carry no cookies, so there is nothing for CSRF to protect.
            request._dont_enforce_csrf_checks = True
        return self.get_response(request)


class TeamLoginRequiredMiddleware(LoginRequiredMiddleware):
    """In team mode every view needs a logged-in user (or an API token); local mode needs none."""

    def process_view(self, request, view_func, view_args, view_kwargs):
        if not team_mode():
            return None
        return super().process_view(request, view_func, view_args, view_kwargs)

    def handle_no_permission(self, request, view_func):
        if request.path.startswith("/api/"):
            return JsonResponse(
                {"error": "log in, or send an API token: Authorization: Bearer <token>"}, status=401
            )
        response = super().handle_no_permission(request, view_func)
        if getattr(request, "htmx", False):
            return HttpResponseClientRedirect(response["Location"])
        return response
