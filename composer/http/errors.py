"""One mapping from what went wrong to an HTTP status, for the pages and the API alike (docs/api.md).

The same refusal is the same status wherever it happens: input that cannot be used (a field, a
deploy that cannot be sent as asked) is 400 on the page (htmx swaps its messages) and in the API,
a right the user lacks is 403, an object they may not see is 404, an edit made on a revision that is
no longer the newest is 409 (someone saved since: reload), and a cluster failure has the status of
its kind (CLUSTER_STATUS).
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.defaults import page_not_found

from composer import cluster
from composer.domain import edits
from composer.domain.model import CompositionError
from composer.http.preconditions import BadPrecondition
from composer.models import SavedComposition, StaleRevision
from composer.services import access, deploys
from composer.services.imports import ImportRefused
from composer.services.runtime import NotWatchable

# A failed cluster request, by ClusterError.kind.
CLUSTER_STATUS = {
    "unauthorized": 401, "forbidden": 403, "not_found": 404, "conflict": 409, "invalid": 422, "immutable": 422,
    "unsupported": 422, "rate_limited": 429, "unreachable": 502, "server": 502, "timeout": 504,
}


def cluster_status(kind: str) -> int:
    return CLUSTER_STATUS.get(kind, 502)


def status_for(error: Exception) -> int | None:
    """The status of an error a user can cause (None: not one of ours, a real server error)."""
    if isinstance(error, access.Refused):
        return 403
    if isinstance(error, access.NotVisible | SavedComposition.DoesNotExist):
        return 404
    if isinstance(error, StaleRevision):
        return 409
    if isinstance(error, NotWatchable):
        return error.status
    if isinstance(error, deploys.DeployRefused | CompositionError | edits.EditError | ImportRefused | BadPrecondition):
        return 400
    if isinstance(error, cluster.ClusterError):
        return cluster_status(error.kind)
    return None


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Every 404: JSON under /api/ (as docs/api.md promises), the small friendly page elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse({"error": f"no API endpoint at {request.path}; see docs/api.md"}, status=404)
    return page_not_found(request, exception)
