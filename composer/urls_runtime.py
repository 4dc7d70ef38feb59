"""URLs of the runtime view (issue #5), included by composer/urls.py under app_name "composer"."""

from django.urls import path

from composer.views import runtime, runtime_api, streams

urlpatterns = [
    # The page, its htmx fragments and its SSE streams
    path("deployments/<int:pk>/runtime", runtime.page, name="runtime"),
    path("deployments/<int:pk>/runtime/status", runtime.status_partial, name="runtime-status"),
    path("deployments/<int:pk>/runtime/status/stream", streams.status_stream, name="runtime-status-stream"),
    path("deployments/<int:pk>/runtime/logs", runtime.logs_partial, name="runtime-logs"),
    path("deployments/<int:pk>/runtime/logs/stream", streams.log_stream, name="runtime-logs-stream"),
    # API (docs/runtime.md)
    path("api/v1/deployments/<int:pk>/status", runtime_api.status, name="api-deployment-status"),
    path("api/v1/deployments/<int:pk>/logs", runtime_api.logs, name="api-deployment-logs"),
    path("api/v1/deployments/<int:pk>/logs/stream", runtime_api.logs_stream, name="api-deployment-logs-stream"),
]
