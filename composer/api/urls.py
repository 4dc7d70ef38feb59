"""The JSON/YAML API (docs/api.md, docs/runtime.md)."""

from django.urls import path

from composer.api import compositions, deploys, runtime

urlpatterns = [
    path("api/v1/patterns", compositions.patterns, name="api-patterns"),
    path("api/v1/compositions", compositions.compositions, name="api-compositions"),
    path("api/v1/compositions/import", compositions.import_composition, name="api-import"),
    path("api/v1/compositions/<int:pk>", compositions.composition, name="api-composition"),
    path("api/v1/compositions/<int:pk>/manifest", compositions.manifest, name="api-manifest"),
    path("api/v1/compositions/<int:pk>/problems", compositions.problems, name="api-problems"),
    path("api/v1/compositions/<int:pk>/helpers", compositions.helpers, name="api-helpers"),
    path("api/v1/compositions/<int:pk>/helpers/order", compositions.helper_order, name="api-helper-order"),
    path("api/v1/compositions/<int:pk>/helpers/<str:helper_id>", compositions.helper, name="api-helper"),
    path("api/v1/compositions/<int:pk>/helpers/<str:helper_id>/overrides", compositions.helper_overrides,
         name="api-helper-overrides"),
    path("api/v1/compositions/<int:pk>/helpers/<str:helper_id>/overrides/<path:field>", compositions.helper_override,
         name="api-helper-override"),
    path("api/v1/compositions/<int:pk>/deploy", deploys.deploy, name="api-deploy"),
    path("api/v1/compositions/<int:pk>/diff", deploys.diff, name="api-diff"),
    path("api/v1/contexts", deploys.contexts, name="api-contexts"),
    path("api/v1/deployments", deploys.deployments, name="api-deployments"),
    path("api/v1/deployments/<int:pk>", deploys.deployment, name="api-deployment"),
    path("api/v1/deployments/<int:pk>/status", runtime.status, name="api-deployment-status"),
    path("api/v1/deployments/<int:pk>/logs", runtime.logs, name="api-deployment-logs"),
    path("api/v1/deployments/<int:pk>/logs/stream", runtime.logs_stream, name="api-deployment-logs-stream"),
]
