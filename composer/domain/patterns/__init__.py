"""The pattern catalog: every helper a user can drop onto the app container."""

from __future__ import annotations

from composer.domain.patterns import adapter, ambassador, init, sidecar
from composer.domain.patterns.base import ROLE_TITLES, Pattern, Role
from composer.domain.patterns.custom import CUSTOM

CATALOG: dict[str, Pattern] = {
    pattern.id: pattern
    for pattern in (*init.PATTERNS, *sidecar.PATTERNS, *ambassador.PATTERNS, *adapter.PATTERNS, CUSTOM)
}


class UnknownPattern(KeyError):
    def __str__(self) -> str:
        return f"unknown pattern {self.args[0]!r}; known: {', '.join(CATALOG)}"


def get_pattern(pattern_id: str) -> Pattern:
    try:
        return CATALOG[pattern_id]
    except KeyError:
        raise UnknownPattern(pattern_id) from None


def patterns_by_role() -> list[tuple[Role, str, list[Pattern]]]:
    return [
        (role, ROLE_TITLES[role], [p for p in CATALOG.values() if p.role == role])
        for role in Role
    ]
