"""The admin side of tenant scoping: what a staff user may see and pick in the admin.

The platform superuser sees everything. An agency admin (staff with ``is_agency_admin``) sees
only its agency's tenants and the rows that belong to them, and may only pick those tenants
in foreign-key fields. Of the accounts it sees, picks and edits only its agency's staff and its
tenants' own client users (``scoped_users``): never a superuser, platform staff or another
agency's people. Other staff see no tenant data in the admin.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Q, QuerySet
from django.http import HttpRequest

from tenants.models import Agency, Membership, Tenant, User


def admin_tenants(user: Any) -> QuerySet[Tenant]:
    if not user.is_active or not user.is_staff:
        return Tenant.objects.none()
    if user.is_superuser:
        return Tenant.objects.all()
    if isinstance(user, User) and user.is_agency_admin and user.agency_id:
        return Tenant.objects.filter(agency_id=user.agency_id)
    return Tenant.objects.none()


def is_admin_user(user: Any) -> bool:
    return bool(
        user.is_active
        and user.is_staff
        and (user.is_superuser or (getattr(user, "is_agency_admin", False) and user.agency_id))
    )


class TenantFilter(admin.SimpleListFilter):
    """A tenant list filter offering only the tenants the staff user may see."""

    title = "tenant"
    parameter_name = "tenant"

    def lookups(self, request: HttpRequest, model_admin: Any) -> Any:
        return [(str(t.pk), t.name) for t in admin_tenants(request.user).order_by("name")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        return queryset.filter(tenant_id=value) if value and value.isdigit() else queryset


class AgencyFilter(admin.SimpleListFilter):
    """An agency list filter: every agency for the superuser, only its own for others."""

    title = "agency"
    parameter_name = "agency"

    def lookups(self, request: HttpRequest, model_admin: Any) -> Any:
        agencies = Agency.objects.order_by("name")
        if not request.user.is_superuser:
            agencies = agencies.filter(pk=getattr(request.user, "agency_id", None) or 0)
        return [(str(a.pk), a.name) for a in agencies]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        return queryset.filter(agency_id=value) if value and value.isdigit() else queryset


class AgencyScopedAdminMixin:
    """Limits an admin screen to the staff user's tenants. Set ``tenant_path`` to the lookup
    from the model to its tenant (``"tenant"`` for tenant-owned models)."""

    tenant_path: str = "tenant"

    def scope(self, queryset: QuerySet[Any], request: HttpRequest) -> QuerySet[Any]:
        if request.user.is_superuser:
            return queryset
        return queryset.filter(**{f"{self.tenant_path}__in": admin_tenants(request.user)})

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return self.scope(super().get_queryset(request), request)  # type: ignore[misc]

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        model = db_field.remote_field.model
        if not request.user.is_superuser:
            if model is Tenant:
                kwargs["queryset"] = admin_tenants(request.user)
            elif model is Agency:
                kwargs["queryset"] = Agency.objects.filter(
                    pk=getattr(request.user, "agency_id", None) or 0
                )
            elif model is User:
                kwargs["queryset"] = scoped_users(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)  # type: ignore[misc]

    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_admin_user(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_admin_user(request.user)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return is_admin_user(request.user)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_admin_user(request.user)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_admin_user(request.user)


def scoped_users(user: Any) -> QuerySet[User]:
    """The accounts a staff user may see, pick and edit in the admin.

    The superuser: all. An agency's staff: the agency's own staff, and client users (no agency,
    no staff or superuser flag) who are members of the agency's tenants and of no other
    agency's tenant. Never a superuser, platform staff or another agency's staff, whatever
    memberships they hold: editing an account (its password included) is owning it.
    """
    if user.is_superuser:
        return User.objects.all()
    agency_id = getattr(user, "agency_id", None)
    if not agency_id:
        return User.objects.none()
    elsewhere = Membership.objects.exclude(tenant__agency_id=agency_id).values("user_id")
    own_clients = (
        Q(agency__isnull=True, is_staff=False, is_agency_admin=False)
        & Q(pk__in=Membership.objects.filter(tenant__agency_id=agency_id).values("user_id"))
        & ~Q(pk__in=elsewhere)
    )
    return User.objects.filter(is_superuser=False).filter(Q(agency_id=agency_id) | own_clients)


class ScopedModelAdmin(AgencyScopedAdminMixin, admin.ModelAdmin):
    pass
