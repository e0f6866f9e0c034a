"""Django admin for superusers: every inventory model with its history (simple-history's admin)."""

from __future__ import annotations

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from inventory import models


@admin.register(models.Key)
class KeyAdmin(SimpleHistoryAdmin):
    list_display = ("name", "store", "external_id", "purpose", "owner", "state", "cryptoperiod_ends_on")
    list_filter = ("state", "kind", "ssrm_layer", "purpose__function", "store")
    search_fields = ("name", "external_id", "description")
    list_select_related = ("store", "purpose", "owner")
    raw_id_fields = ("owner", "backup_owner", "purpose_approver")
    readonly_fields = ("cryptoperiod_ends_on", "created_at", "updated_at")


@admin.register(models.Purpose)
class PurposeAdmin(SimpleHistoryAdmin):
    list_display = ("name", "slug", "function", "key_type", "max_cryptoperiod_days", "is_ai_specific", "is_active")
    list_filter = ("function", "is_ai_specific", "is_active")
    search_fields = ("name", "slug")


@admin.register(models.Binding)
class BindingAdmin(SimpleHistoryAdmin):
    list_display = ("key", "service", "tenant", "purpose", "principal")
    list_select_related = ("key", "service", "tenant", "purpose")
    raw_id_fields = ("key",)
    search_fields = ("key__name", "service__name", "principal")


@admin.register(models.AccessGrant)
class AccessGrantAdmin(SimpleHistoryAdmin):
    list_display = ("key", "principal", "principal_type", "approver", "expires_on")
    list_select_related = ("key", "approver")
    raw_id_fields = ("key", "approver")
    search_fields = ("key__name", "principal")


@admin.register(models.KeyImport)
class KeyImportAdmin(admin.ModelAdmin):
    list_display = ("file_name", "format", "status", "created_by", "created_at", "applied_at")
    list_filter = ("status", "format")
    readonly_fields = [f.name for f in models.KeyImport._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False


for model in (models.Party, models.SsrmAssignment, models.Tenant, models.Service, models.KeyStore):
    admin.site.register(model, SimpleHistoryAdmin)
