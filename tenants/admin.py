"""Admin screens for agencies, tenants, users, memberships and keys, scoped per agency."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest
from rest_framework_api_key.models import APIKey

from tenants.admin_mixins import (
    AgencyFilter,
    AgencyScopedAdminMixin,
    ScopedModelAdmin,
    TenantFilter,
    scoped_users,
)
from tenants.models import Agency, Membership, PersonalToken, Tenant, TenantApiKey, User

# The library's own key model is unused: Sigap's keys belong to a tenant or a user.
admin.site.unregister(APIKey)


class MembershipInline(AgencyScopedAdminMixin, admin.TabularInline):  # type: ignore[type-arg]
    """Members on the tenant page; the user choices are scoped like everywhere else."""

    model = Membership
    extra = 0
    autocomplete_fields = ("user",)


@admin.register(Agency)
class AgencyAdmin(ScopedModelAdmin):
    list_display = ("name", "slug", "created_at")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}

    def scope(self, queryset: QuerySet[Any], request: HttpRequest) -> QuerySet[Any]:
        if request.user.is_superuser:
            return queryset
        return queryset.filter(pk=getattr(request.user, "agency_id", None))

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return request.user.is_superuser

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_superuser


@admin.register(Tenant)
class TenantAdmin(ScopedModelAdmin):
    tenant_path = "pk"
    list_display = ("name", "slug", "agency", "status", "time_zone", "default_language")
    list_filter = ("status", "default_language", AgencyFilter)
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    inlines = (MembershipInline,)


@admin.register(User)
class UserAdmin(AgencyScopedAdminMixin, DjangoUserAdmin):  # type: ignore[type-arg]
    ordering = ("email",)
    list_display = ("email", "full_name", "agency", "is_agency_admin", "is_staff", "is_active")
    list_filter = (AgencyFilter, "is_agency_admin", "is_staff", "is_active")
    search_fields = ("email", "full_name")
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Profile", {"fields": ("full_name", "agency", "is_agency_admin")}),
        ("Access", {"fields": ("is_active", "is_staff", "is_superuser")}),
        ("Dates", {"fields": ("last_login", "date_joined", "password_changed_at")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("email", "agency", "password1", "password2")}),
    )

    def scope(self, queryset: QuerySet[Any], request: HttpRequest) -> QuerySet[Any]:
        return queryset.filter(pk__in=scoped_users(request.user).values("pk"))

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        dates = ("last_login", "date_joined", "password_changed_at")
        if request.user.is_superuser:
            return dates
        return (*dates, "is_superuser", "is_staff")


@admin.register(Membership)
class MembershipAdmin(ScopedModelAdmin):
    list_display = ("user", "tenant", "role", "created_at")
    list_filter = ("role", TenantFilter)
    search_fields = ("user__email", "tenant__name", "tenant__slug")
    autocomplete_fields = ("user",)
    list_select_related = ("user", "tenant")


@admin.register(TenantApiKey)
class TenantApiKeyAdmin(ScopedModelAdmin):
    """The key is shown once, in a message, when it is created; only its hash is stored."""

    list_display = ("prefix", "name", "tenant", "created", "expiry_date", "revoked", "last_used_at")
    list_filter = (TenantFilter, "revoked")
    search_fields = ("name", "prefix", "tenant__slug")
    list_select_related = ("tenant",)
    exclude = ("created_by", "last_used_at")

    def save_model(
        self, request: HttpRequest, obj: Any, form: Any = None, change: bool = False
    ) -> None:
        if change:
            obj.save()
            return
        obj.created_by = request.user
        key = TenantApiKey.objects.assign_key(obj)
        obj.save()
        messages.warning(
            request,
            f"The API key for {obj.name} is: {key} - store it now, it will not be shown again.",
        )

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        if obj is None:
            return ("prefix",)
        return ("prefix", "tenant", "name", "expiry_date") if obj.revoked else ("prefix", "tenant")


@admin.register(PersonalToken)
class PersonalTokenAdmin(AgencyScopedAdminMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    """Tokens are created by their owners through the API; here they can be seen and revoked."""

    tenant_path = "user__memberships__tenant"
    list_display = ("prefix", "name", "user", "created", "expiry_date", "revoked", "last_used_at")
    list_filter = ("revoked",)
    search_fields = ("name", "prefix", "user__email")
    readonly_fields = ("prefix", "name", "user", "created", "expiry_date", "last_used_at")
    exclude = ("hashed_key",)

    def scope(self, queryset: QuerySet[Any], request: HttpRequest) -> QuerySet[Any]:
        return queryset.filter(user__in=scoped_users(request.user))

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False
