"""The pages and their htmx fragments and streams, by feature."""

from django.urls import path

from composer.web.compositions import pages, partials
from composer.web.deploys import views as deploys
from composer.web.runtime import streams
from composer.web.runtime import views as runtime

urlpatterns = [
    # compositions
    path("", pages.home, name="home"),
    path("healthz", pages.healthz, name="healthz"),
    path("new", pages.new_composition, name="new"),
    path("import", pages.import_yaml, name="import"),
    path("import/created", pages.imported, name="imported"),
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
    # fields set by hand: the field is in the form (an imported field's name may be any text)
    path("c/<int:pk>/helpers/<str:helper_id>/overrides/add", partials.add_override, name="add-override"),
    path("c/<int:pk>/helpers/<str:helper_id>/overrides/edit", partials.edit_override, name="edit-override"),
    path("c/<int:pk>/helpers/<str:helper_id>/overrides/reset", partials.reset_override, name="reset-override"),
    path("c/<int:pk>/helpers/<str:helper_id>/overrides/reset-all", partials.reset_overrides, name="reset-overrides"),
    path("c/<int:pk>/app", partials.app_settings, name="app-settings"),
    path("c/<int:pk>/pod", partials.pod_settings, name="pod-settings"),
    path("c/<int:pk>/yaml", partials.yaml_source, name="yaml-source"),
    # the Pod's volumes: which one is in the form (its place in the list, on the revision the page shows)
    path("c/<int:pk>/volumes/add", partials.add_volume, name="add-volume"),
    path("c/<int:pk>/volumes/edit", partials.update_volume, name="update-volume"),
    path("c/<int:pk>/volumes/remove", partials.remove_volume, name="remove-volume"),
    path("c/<int:pk>/revisions/<int:number>/restore", partials.restore, name="restore"),
    # deploys
    path("c/<int:pk>/deploy", deploys.deploy, name="deploy"),
    path("c/<int:pk>/deploy/namespaces", deploys.namespaces, name="namespaces"),
    path("deployments/", deploys.history, name="deployments"),
    path("deployments/export.csv", deploys.export_csv, name="deployments-export"),
    path("deployments/<int:pk>/", deploys.detail, name="deployment"),
    path("deployments/<int:pk>/redeploy", deploys.redeploy, name="redeploy"),
    path("deployments/<int:pk>/undeploy", deploys.undeploy, name="undeploy"),
    # runtime: the page, its htmx fragments and its SSE streams (docs/runtime.md)
    path("deployments/<int:pk>/runtime", runtime.page, name="runtime"),
    path("deployments/<int:pk>/runtime/status", runtime.status_partial, name="runtime-status"),
    path("deployments/<int:pk>/runtime/status/stream", streams.status_stream, name="runtime-status-stream"),
    path("deployments/<int:pk>/runtime/logs", runtime.logs_partial, name="runtime-logs"),
    path("deployments/<int:pk>/runtime/logs/stream", streams.log_stream, name="runtime-logs-stream"),
]
