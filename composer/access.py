"""Who may do what: local mode (everything, no login) and team mode (login, tokens, per-context rights)."""

from __future__ import annotations

import fnmatch
import hashlib
import secrets
from collections.abc import Callable
from enum import StrEnum

from django.conf import settings
from django.contrib.auth.middleware import LoginRequiredMiddleware
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django_htmx.http import HttpResponseClientRedirect

from composer.models import ApiToken, ContextPermission

TOKEN_PREFIX = "ps_"


class Action(StrEnum):
    VIEW = "view"
    DRY_RUN = "dry-run"
    DEPLOY = "deploy"
    UNDEPLOY = "undeploy"


def team_mode() -> bool:
    return settings.PODSTUDIO_TEAM_MODE


def _grants(rule: ContextPermission, action: Action) -> bool:
    return (
        (action == Action.VIEW and (rule.can_view or rule.can_deploy or rule.can_undeploy))
        or (action == Action.DRY_RUN and (rule.can_dry_run or rule.can_deploy))
        or (action == Action.DEPLOY and rule.can_deploy)
        or (action == Action.UNDEPLOY and rule.can_undeploy)
    )


def checker(user, action: Action) -> Callable[[str], bool]:
    """`allowed(context)` for many contexts, with the user's rules read once (lists of records)."""
    if not team_mode() or user.is_superuser:
        return lambda context: True
    if not user.is_authenticated:
        return lambda context: False
    patterns = [r.context_pattern for r in ContextPermission.objects.filter(group__user=user) if _grants(r, action)]
    return lambda context: any(fnmatch.fnmatchcase(context, pattern) for pattern in patterns)


def may(user, action: Action, context: str) -> bool:
    """Whether `user` may `action` in the cluster context named `context`."""
    return checker(user, action)(context)


class Refused(Exception):
    """The user lacks the right for this action in this context; the message says which."""


def require(user, action: Action, context: str) -> None:
    if not may(user, action, context):
        raise Refused(refusal(user, action, context))


def refusal(user, action: Action, context: str) -> str:
    who = user.get_username() if user.is_authenticated else "anonymous"
    return (f"{who} may not {action} in context '{context}': ask an administrator for a context permission "
            "(Django admin → Context permissions).")


# --- API tokens --------------------------------------------------------------------------------


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def issue_token(user, name: str) -> str:
    """Creates a token and returns it; only its hash is kept, so it can be shown this once."""
    key = TOKEN_PREFIX + secrets.token_urlsafe(32)
    ApiToken.objects.create(user=user, name=name, prefix=key[:10], key_hash=_hash(key))
    return key


class ApiTokenMiddleware:
    """Authenticates `Authorization: Bearer ps_…` requests; a bad token is a 401, never a fallback."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        header = request.headers.get("Authorization", "")
        if header.startswith("Bearer "):
            token = ApiToken.objects.select_related("user").filter(key_hash=_hash(header[7:].strip())).first()
            if token is None or not token.user.is_active:
                return JsonResponse({"error": "the API token is unknown or revoked"}, status=401)
            ApiToken.objects.filter(pk=token.pk).update(last_used=timezone.now())
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


def mode_context(request: HttpRequest) -> dict:
    return {"team_mode": team_mode()}
