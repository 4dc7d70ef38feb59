"""Who may do what: local mode (everything, no login) and team mode (login, tokens, per-context rights)."""

from __future__ import annotations

import fnmatch
import hashlib
import secrets
from collections.abc import Callable
from enum import StrEnum

from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib.auth.middleware import LoginRequiredMiddleware
from django.contrib.auth.signals import user_login_failed
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django_htmx.http import HttpResponseClientRedirect

from composer.models import ApiToken, ContextPermission
from composer.throttle import TOKEN_CREDENTIALS

TOKEN_PREFIX = "ps_"


class Action(StrEnum):
    VIEW = "view"
    DRY_RUN = "dry-run"
    DEPLOY = "deploy"
    UNDEPLOY = "undeploy"
    CREATE_NAMESPACE = "create namespaces"
    RUN_PRIVILEGED = "run privileged workloads"


def team_mode() -> bool:
    return settings.PODSTUDIO_TEAM_MODE


def _grants(rule: ContextPermission, action: Action) -> bool:
    return {
        Action.VIEW: rule.can_view or rule.can_deploy or rule.can_undeploy,
        Action.DRY_RUN: rule.can_dry_run or rule.can_deploy,
        Action.DEPLOY: rule.can_deploy,
        Action.UNDEPLOY: rule.can_undeploy,
        Action.CREATE_NAMESPACE: rule.can_create_namespace,
        Action.RUN_PRIVILEGED: rule.can_run_privileged,
    }[action]


Allowed = Callable[[str, str | None], bool]


def checker(user, action: Action) -> Allowed:
    """`allowed(context, namespace)` for many records, with the user's rules read once.

    `namespace=None` asks about the context as a whole (any namespace in it: to list contexts)."""
    if not team_mode() or user.is_superuser:
        return lambda context, namespace=None: True
    if not user.is_authenticated:
        return lambda context, namespace=None: False
    scopes = [(r.context_pattern, r.namespace_pattern) for r in ContextPermission.objects.filter(group__user=user)
              if _grants(r, action)]

    def allowed(context: str, namespace: str | None = None) -> bool:
        return any(
            fnmatch.fnmatchcase(context, contexts)
            and (namespace is None or not namespaces or fnmatch.fnmatchcase(namespace, namespaces))
            for contexts, namespaces in scopes
        )

    return allowed


def may(user, action: Action, context: str, namespace: str | None = None) -> bool:
    """Whether `user` may `action` in namespace `namespace` of the cluster context named `context`."""
    return checker(user, action)(context, namespace)


class Refused(Exception):
    """The user lacks the right for this action in this context; the message says which."""


def require(user, action: Action, context: str, namespace: str | None = None) -> None:
    if not may(user, action, context, namespace):
        raise Refused(refusal(user, action, context, namespace))


def refusal(user, action: Action, context: str, namespace: str | None = None, reason: str = "") -> str:
    who = user.get_username() if user.is_authenticated else "anonymous"
    where = f"namespace '{namespace}' of context '{context}'" if namespace else f"context '{context}'"
    because = f" ({reason})" if reason else ""
    return (f"{who} may not {action} in {where}{because}: ask an administrator for a context permission "
            "(Django admin → Context permissions).")


def user_name(user) -> str:
    """Who a deploy record names: the account, or "local" in local mode."""
    return user.get_username() if user.is_authenticated else "local"


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
            # Token guessing is throttled per client address by django-axes, the same counts, limit
            # and cool-off as logins (composer/throttle.py) rather than counters of our own: a failed
            # token is reported as a failed login that names no user. A locked-out address is refused
            # even a valid token (else guessing could go on), flagged as axes' backend flags a login
            # (so it is not counted again); AxesMiddleware, which wraps this one, turns the failure
            # that reaches the limit, and every refusal after, into the 429.
            locked = settings.AXES_ENABLED and not AxesProxyHandler.is_allowed(request, TOKEN_CREDENTIALS)
            request.axes_locked_out = locked
            token = None if locked else (
                ApiToken.objects.select_related("user").filter(key_hash=_hash(header[7:].strip())).first()
            )
            if token is None or not token.user.is_active:
                user_login_failed.send(sender=type(self), credentials=TOKEN_CREDENTIALS, request=request)
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
