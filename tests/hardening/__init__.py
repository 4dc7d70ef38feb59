"""Hardening (issue #6): bad input, limits, fuzzing, cluster faults, and Pod Studio's own manifests.

Shared helpers for these tests:

- ``db_state()``: every stored row of the app (compositions, revisions, deploy records), to prove
  that a refused request changed nothing;
- ``ERROR_BODY``: how every API error must look (docs/api.md).
"""

from __future__ import annotations

import json
from typing import Any

from composer.models import DeployRecord, Revision, SavedComposition

MODELS = (SavedComposition, Revision, DeployRecord)


def db_state() -> dict[str, list[dict[str, Any]]]:
    """All rows of the app's models, in primary-key order (timestamps included: a re-save shows)."""
    return {model.__name__: list(model.objects.order_by("pk").values()) for model in MODELS}


def api_error(response) -> str:
    """The `error` of an API error response, after checking it is JSON as docs/api.md promises."""
    assert response["Content-Type"].startswith("application/json"), (response.status_code, response.content[:200])
    body = json.loads(response.content)
    assert isinstance(body, dict) and isinstance(body.get("error"), str) and body["error"], body
    if "errors" in body:
        assert isinstance(body["errors"], dict) and all(isinstance(v, str) for v in body["errors"].values()), body
    return body["error"]
