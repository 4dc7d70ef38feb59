"""Which revision an edit was made on: the API's ``If-Match`` precondition, and the page's (composer.js
sends the revision the page shows in the same header). docs/api.md, "Edits on an old revision".

A composition's ETag is its revision number in quotes (``"7"``): every response that shows a
composition carries it, and a write with ``If-Match: "7"`` is refused with 409 unless 7 is still the
newest revision (composer.models.StaleRevision), so that an edit made on an old revision never
overwrites the newer one. Without ``If-Match`` (or with ``*``) a write applies to the newest revision.
"""

from __future__ import annotations

import re

from django.http import HttpRequest

_ETAG = re.compile(r'(?:W/)?"([0-9]{1,10})"')


class BadPrecondition(Exception):
    def __init__(self, header: str) -> None:
        self.message = (f"If-Match must be one revision ETag such as \"7\" (as the ETag header of the composition "
                        f"says), or *; not {header[:100]!r}")
        super().__init__(self.message)


def revision_etag(revision: int) -> str:
    return f'"{revision}"'


def edited_revision(request: HttpRequest) -> int | None:
    """The revision the request's edit was made on (If-Match), or None when it does not say."""
    header = request.headers.get("If-Match", "").strip()
    if not header or header == "*":
        return None
    match = _ETAG.fullmatch(header)
    if match is None:
        raise BadPrecondition(header)
    return int(match[1])
