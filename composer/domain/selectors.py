"""Label selectors as the API server evaluates them (matchLabels and matchExpressions, ANDed)."""

from __future__ import annotations

from typing import Any


def is_empty(selector: dict[str, Any]) -> bool:
    return not selector.get("matchLabels") and not selector.get("matchExpressions")


def matches(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    """Whether a LabelSelector selects an object with `labels` (an empty one selects everything)."""
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    return all(_expression_matches(expression, labels) for expression in selector.get("matchExpressions") or [])


def _expression_matches(expression: dict[str, Any], labels: dict[str, str]) -> bool:
    key, operator, values = expression.get("key"), expression.get("operator"), expression.get("values") or []
    if operator == "In":
        return key in labels and labels[key] in values
    if operator == "NotIn":
        return key not in labels or labels[key] not in values
    if operator == "Exists":
        return key in labels
    if operator == "DoesNotExist":
        return key not in labels
    return False


def describe(selector: dict[str, Any]) -> str:
    """The selector as kubectl writes one: `app=web,tier in (a,b),!legacy`."""
    parts = [f"{key}={value}" for key, value in (selector.get("matchLabels") or {}).items()]
    for expression in selector.get("matchExpressions") or []:
        key, operator, values = expression.get("key"), expression.get("operator"), expression.get("values") or []
        parts.append({
            "In": f"{key} in ({','.join(values)})",
            "NotIn": f"{key} notin ({','.join(values)})",
            "Exists": f"{key}",
            "DoesNotExist": f"!{key}",
        }.get(operator, f"{key} {operator}"))
    return ",".join(parts) or "(empty)"
