"""The audit trail: the deploy records a user may see, newest first, a page at a time."""

from __future__ import annotations

from django.core.paginator import Page, Paginator

from composer.services import access

PER_PAGE = 50
MOST_PER_PAGE = 200


def whole_number(text: str | None, default: int, most: int | None = None) -> int:
    """A page number or size from a query string; anything else is the default (ids beyond 18 digits
    do not exist, and SQLite would overflow)."""
    value = int(text) if text and text.isdecimal() and len(text) <= 18 else default
    value = max(value, 1)
    return min(value, most) if most else value


def records_page(user, *, page: str | None = None, per_page: str | None = None,
                 composition: str | None = None) -> Page:
    """One page of the records `user` may see (filtered in the query, then paginated), optionally of
    one composition only. A page past the end is the last page."""
    records = access.visible_records(user).select_related("composition").order_by("-created", "-pk")
    if composition:
        records = records.filter(composition_id=whole_number(composition, 0))
    paginator = Paginator(records, whole_number(per_page, PER_PAGE, MOST_PER_PAGE))
    return paginator.get_page(whole_number(page, 1))


def audit_trail(user):
    """Every record `user` may see, oldest first (the CSV export)."""
    return access.visible_records(user).order_by("created", "pk").iterator()
