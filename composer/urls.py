from django.urls import include, path

from composer.views import api, deploy, pages, partials

app_name = "composer"

urlpatterns = [
    path("", pages.home, name="home"),
    path("healthz", pages.healthz, name="healthz"),
    path("new", pages.new_composition, name="new"),
    path("import", pages.import_yaml, name="import"),
    path("examples/<slug:example_id>", pages.open_example, name="example"),
    path("c/<int:pk>/", pages.composition, name="composition"),
    path("c/<int:pk>/history", pages.history, name="history"),
    path("c/<int:pk>/duplicate", pages.duplicate, name="duplicate"),
    path("c/<int:pk>/delete", pages.delete, name="delete"),
    # htmx edits (autosaved)
    path("c/<int:pk>/helpers/add", partials.add_helper, name="add-helper"),
    path("c/<int:pk>/helpers/order", partials.reorder_helpers, name="reorder-helpers"),
    path("c/<int:pk>/helpers/<str:helper_id>/remove", partials.remove_helper, name="remove-helper"),
    path("c/<int:pk>/helpers/<str:helper_id>/move", partials.move_helper, name="move-helper"),
    path("c/<int:pk>/helpers/<str:helper_id>/native", partials.native_sidecar, name="native-sidecar"),
    path("c/<int:pk>/helpers/<str:helper_id>/params", partials.helper_params, name="helper-params"),
    path("c/<int:pk>/app", partials.app_settings, name="app-settings"),
    path("c/<int:pk>/pod", partials.pod_settings, name="pod-settings"),
    path("c/<int:pk>/revisions/<int:number>/restore", partials.restore, name="restore"),
    # deploy
    path("c/<int:pk>/deploy", deploy.deploy, name="deploy"),
    path("c/<int:pk>/deploy/namespaces", deploy.namespaces, name="namespaces"),
    path("deployments/", deploy.history, name="deployments"),
    path("deployments/export.csv", deploy.export_csv, name="deployments-export"),
    path("deployments/<int:pk>/", deploy.detail, name="deployment"),
    path("deployments/<int:pk>/redeploy", deploy.redeploy, name="redeploy"),
    path("deployments/<int:pk>/undeploy", deploy.undeploy, name="undeploy"),
    # runtime: status, logs and their streams (docs/runtime.md)
    path("", include("composer.urls_runtime")),
    # JSON / YAML API (docs/api.md)
    path("api/v1/patterns", api.patterns, name="api-patterns"),
    path("api/v1/compositions", api.compositions, name="api-compositions"),
    path("api/v1/compositions/import", api.import_composition, name="api-import"),
    path("api/v1/compositions/<int:pk>", api.composition, name="api-composition"),
    path("api/v1/compositions/<int:pk>/manifest", api.manifest, name="api-manifest"),
    path("api/v1/compositions/<int:pk>/problems", api.problems, name="api-problems"),
    path("api/v1/compositions/<int:pk>/helpers", api.helpers, name="api-helpers"),
    path("api/v1/compositions/<int:pk>/helpers/order", api.helper_order, name="api-helper-order"),
    path("api/v1/compositions/<int:pk>/helpers/<str:helper_id>", api.helper, name="api-helper"),
    path("api/v1/compositions/<int:pk>/deploy", api.deploy, name="api-deploy"),
    path("api/v1/compositions/<int:pk>/diff", api.diff, name="api-diff"),
    path("api/v1/contexts", api.contexts, name="api-contexts"),
    path("api/v1/deployments", api.deployments, name="api-deployments"),
    path("api/v1/deployments/<int:pk>", api.deployment, name="api-deployment"),
]
