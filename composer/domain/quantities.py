"""Kubernetes quantities (resource.Quantity): `100m`, `0.5`, `128Mi`, `1e3` … as the API server reads them.

The grammar is the one the OpenAPI schema gives for a quantity (a number, then a binary suffix Ki … Ei, a
decimal one n u m k M G T P E, or an exponent); `value()` gives the amount as a Decimal so that a request
can be compared with its limit.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

_NUMBER = r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)"
# The suffix: binary (Ki … Ei), an exponent (e3, E-2: tried before E, exa), or decimal (n u m k M G T P E).
QUANTITY = re.compile(rf"^({_NUMBER})([KMGTPE]i|[eE]{_NUMBER}|[numkMGTPE])?$")
BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
DECIMAL = {"n": Decimal("1e-9"), "u": Decimal("1e-6"), "m": Decimal("1e-3"), "": Decimal(1), "k": Decimal("1e3"),
           "M": Decimal("1e6"), "G": Decimal("1e9"), "T": Decimal("1e12"), "P": Decimal("1e15"), "E": Decimal("1e18")}
EXAMPLES = "e.g. 100m or 0.5 for CPU, 128Mi or 1Gi for memory"
# What people write that is not a quantity, and what they meant.
_MISTAKES = {"MB": "M or Mi", "GB": "G or Gi", "KB": "k or Ki", "Kb": "k or Ki", "mb": "M or Mi", "gb": "G or Gi",
             "K": "k or Ki", "mi": "Mi", "gi": "Gi", "ki": "Ki", "MiB": "Mi", "GiB": "Gi", "KiB": "Ki"}


def value(quantity: Any) -> Decimal | None:
    """The amount a quantity stands for (a number, or text in the grammar); None if it is not one."""
    if isinstance(quantity, bool):
        return None
    if isinstance(quantity, int | float):
        return Decimal(str(quantity))
    if not isinstance(quantity, str):
        return None
    match = QUANTITY.match(quantity)
    if not match:
        return None
    number, suffix = match.group(1), match.group(2) or ""
    try:
        amount = Decimal(number)
        if suffix in BINARY:
            return amount * BINARY[suffix]
        if suffix[:1] in ("e", "E") and len(suffix) > 1:
            return amount * Decimal(10) ** Decimal(suffix[1:])
        return amount * DECIMAL[suffix]
    except (InvalidOperation, ArithmeticError):  # an exponent beyond what Decimal holds
        return None


def quantity_problem(text: str) -> str | None:
    """Why `text` is not a quantity a resource may have (none below 0), or None."""
    amount = value(text)
    if amount is None:
        number = re.match(rf"^{_NUMBER}", text)
        unit = text[number.end():] if number else ""
        if number and unit in _MISTAKES:
            return f"{text!r} is not a Kubernetes quantity: {unit} is not a unit, write {_MISTAKES[unit]}"
        return f"{text!r} is not a Kubernetes quantity ({EXAMPLES})"
    if amount < 0:
        return f"{text!r} is below 0: a resource amount cannot be negative"
    return None
