from django.contrib import admin

from composer.models import ApiToken, ContextPermission, DeployRecord, SavedComposition


@admin.register(ContextPermission)
class ContextPermissionAdmin(admin.ModelAdmin):
    list_display = ("group", "context_pattern", "namespace_pattern", "can_view", "can_dry_run", "can_deploy",
                    "can_undeploy", "can_create_namespace", "can_run_privileged")
    list_filter = ("group",)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens are created with `manage.py createapitoken USER NAME`; here they are listed and revoked."""

    list_display = ("name", "user", "prefix", "created", "last_used")
    readonly_fields = ("user", "name", "prefix", "created", "last_used")

    def has_add_permission(self, request):
        return False


@admin.register(SavedComposition)
class SavedCompositionAdmin(admin.ModelAdmin):
    list_display = ("name", "owner", "revision", "updated")
    list_filter = ("owner",)
    fields = ("name", "owner", "revision")
    readonly_fields = ("name", "revision")


@admin.register(DeployRecord)
class DeployRecordAdmin(admin.ModelAdmin):
    """The audit trail: read-only."""

    list_display = ("created", "action", "outcome", "user", "context", "namespace", "composition_name", "revision")
    list_filter = ("action", "outcome", "context", "user")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
