"""Admin for superusers: access limits on the user page; API tokens are listed, never shown."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin

from cek.models import ApiToken, UserAccess


class UserAccessInline(admin.StackedInline):
    model = UserAccess
    can_delete = True
    verbose_name_plural = "access limit (auditor engagements)"


User = get_user_model()
admin.site.unregister(User)


@admin.register(User)
class CekUserAdmin(UserAdmin):
    inlines = (UserAccessInline,)
    list_display = ("username", "email", "first_name", "last_name", "is_active", "is_superuser")


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("name", "user", "prefix", "created_at", "last_used_at", "expires_at", "revoked_at")
    list_select_related = ("user",)
    readonly_fields = ("user", "name", "prefix", "created_at", "last_used_at")
    exclude = ("digest",)
    search_fields = ("name", "user__username", "prefix")

    def has_add_permission(self, request) -> bool:
        return False  # tokens are issued on /accounts/tokens/ or with manage.py create_api_token
