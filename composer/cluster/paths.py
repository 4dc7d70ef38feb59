"""Request paths built from names: every segment percent-encoded, and `.`/`..` refused.

Names are validated as Kubernetes validates them before anything is sent; this is the second
line of defence, so that no name can ever reach another object than the one it names.
"""

from __future__ import annotations

from urllib.parse import quote

from composer.cluster.errors import ClusterError


def segment(value: str) -> str:
    """One path segment: `/`, `?`, `#` and `%` are encoded, and a dot segment is refused
    (urllib3 would resolve it to the parent path)."""
    if not isinstance(value, str) or value in ("", ".", ".."):
        raise ClusterError("invalid", f"{value!r} cannot be used as a name in a request path.")
    return quote(value, safe="")
