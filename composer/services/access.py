"""Who may see and do what: local mode (everything, no login) and team mode (login, tokens,
per-context and per-namespace rights).

One family of "the object this user may see" helpers (`visible_compositions`, `composition_for`,
`visible_records`, `record_for`): every view and the API find objects through them, and an object
the user may not see is `NotVisible` (a 404: not even its existence is told).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable
from enum import StrEnum

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from composer.models import ApiToken, ContextPermission, DeployRecord, SavedComposition

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
    # The same translation of the patterns as visible_records' query, so a list and a check agree.
    scopes = [(_compiled(r.context_pattern), _compiled(r.namespace_pattern) if r.namespace_pattern else None)
              for r in ContextPermission.objects.filter(group__user=user) if _grants(r, action)]

    def allowed(context: str, namespace: str | None = None) -> bool:
        return any(
            contexts.fullmatch(context) and (namespace is None or not namespaces or namespaces.fullmatch(namespace))
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


def owner(user):
    """Who owns what `user` creates: the account, or nobody in local mode."""
    return user if user.is_authenticated else None


def user_name(user) -> str:
    """Who a deploy record names: the account, or "local" in local mode."""
    return user.get_username() if user.is_authenticated else "local"


# --- API tokens --------------------------------------------------------------------------------


def token_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def issue_token(user, name: str) -> str:
    """Creates a token and returns it; only its hash is kept, so it can be shown this once."""
    key = TOKEN_PREFIX + secrets.token_urlsafe(32)
    ApiToken.objects.create(user=user, name=name, prefix=key[:10], key_hash=token_hash(key))
    return key


def token_owner(key: str) -> ApiToken | None:
    """The token with this key, if it exists and its user is active (the use is recorded)."""
    token = ApiToken.objects.select_related("user").filter(key_hash=token_hash(key)).first()
    if token is None or not token.user.is_active:
        return None
    ApiToken.objects.filter(pk=token.pk).update(last_used=timezone.now())
    return token


# --- what a user may see ---------------------------------------------------------------------


class NotVisible(LookupError):
    """No such object for this user (it may exist, but they may not know)."""


def visible_compositions(user) -> QuerySet[SavedComposition]:
    """In team mode people see their own compositions and unowned ones (made in local mode)."""
    compositions = SavedComposition.objects.all()
    if not team_mode() or user.is_superuser:
        return compositions
    if not user.is_authenticated:
        return compositions.none()
    return compositions.filter(Q(owner=user) | Q(owner__isnull=True))


def composition_for(user, pk: int) -> SavedComposition:
    try:
        return visible_compositions(user).get(pk=pk)
    except SavedComposition.DoesNotExist:
        raise NotVisible(f"no composition with id {pk}") from None


def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(_glob_regex(pattern))


def _glob_regex(pattern: str) -> str:
    """A shell pattern as a regular expression both SQLite (Python's re) and PostgreSQL (ARE) read alike."""
    parts, index = ["^"], 0
    while index < len(pattern):
        char = pattern[index]
        closing = pattern.find("]", index + 2) if char == "[" else -1
        if char == "*":
            parts.append(".*")
        elif char == "?":
            parts.append(".")
        elif closing != -1:
            members = pattern[index + 1:closing].replace("\\", "\\\\")
            parts.append(f"[^{members[1:]}]" if members.startswith("!") else f"[{members}]")
            index = closing
        else:
            parts.append(re.escape(char))
        index += 1
    parts.append("$")
    return "".join(parts)


def visible_records(user, action: Action = Action.VIEW) -> QuerySet[DeployRecord]:
    """The deploy records of the contexts and namespaces `user` may `action` in, filtered in the query
    (so that lists can be paginated)."""
    records = DeployRecord.objects.all()
    if not team_mode() or user.is_superuser:
        return records
    if not user.is_authenticated:
        return records.none()
    scopes = Q(pk__in=[])
    for rule in ContextPermission.objects.filter(group__user=user):
        if _grants(rule, action):
            scope = Q(context__regex=_glob_regex(rule.context_pattern))
            if rule.namespace_pattern:
                scope &= Q(namespace__regex=_glob_regex(rule.namespace_pattern))
            scopes |= scope
    return records.filter(scopes)


def record_for(user, pk: int) -> DeployRecord:
    """The record, if this user may see its context and namespace."""
    record = DeployRecord.objects.select_related("composition").filter(pk=pk).first()
    if record is None or not may(user, Action.VIEW, record.context, record.namespace):
        raise NotVisible(f"no deployment with id {pk}")
    return record
