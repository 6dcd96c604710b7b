"""Admin screens for agencies, tenants, users, memberships and keys, scoped per agency.

Every write here is a service of ``tenants.services``, as on REST and GraphQL: tenants and
agencies are created and changed by their services, members are added with the invitation
rule (``invitable``), change role and leave by ``change_role`` and ``remove_member`` (a tenant
keeps at least one admin), keys are created and revoked by theirs. A refused write is a form
error or an error message. Tenants are deleted with their data by the ``delete_tenant``
command, not here; keys and tokens are revoked, not deleted. Accounts keep Django's user
admin (a new password ends the user's tokens in ``User.save``).
"""

from __future__ import annotations

import zoneinfo
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import URLPattern, path
from django.utils import timezone
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework_api_key.models import APIKey

from tenants import overview, services
from tenants.admin_mixins import (
    AgencyFilter,
    AgencyScopedAdminMixin,
    ServiceModelAdmin,
    TenantFilter,
    admin_tenants,
    scoped_users,
)
from tenants.models import (
    Agency,
    Invitation,
    Membership,
    PersonalToken,
    Tenant,
    TenantApiKey,
    User,
)
from tenants.roles import Role

# The overview pages (tenants.overview, docs/admin.md) and how they describe their figures.
OVERVIEW_TEMPLATE = "admin/sigap/tenant_overview.html"
AGENCY_TEMPLATE = "admin/sigap/agency_overview.html"

# The library's own key model is unused: Sigap's keys belong to a tenant or a user.
admin.site.unregister(APIKey)


class MembershipInline(AgencyScopedAdminMixin, admin.TabularInline):  # type: ignore[type-arg]
    """Members on the tenant page; the user choices are scoped like everywhere else."""

    model = Membership
    extra = 0
    autocomplete_fields = ("user",)


def _update_agency(*, instance: Agency, **changes: Any) -> Agency:
    return services.update_agency(agency=instance, **changes)


def _update_tenant(*, instance: Tenant, **changes: Any) -> Tenant:
    return services.update_tenant(tenant=instance, **changes)


def _change_membership(*, instance: Membership, role: str | None = None) -> None:
    if role is not None:
        # The form has set the new role on ``instance`` already: the service needs the row.
        services.change_role(membership=Membership.objects.get(pk=instance.pk), role=role)


def _remove_membership(*, instance: Membership) -> None:
    services.remove_member(membership=Membership.objects.get(pk=instance.pk))


def _update_api_key(*, instance: TenantApiKey, **changes: Any) -> TenantApiKey:
    return services.update_api_key(key=TenantApiKey.objects.get(pk=instance.pk), **changes)


def _revoke_token(*, instance: PersonalToken, revoked: bool | None = None) -> None:
    if revoked is False:
        raise ValidationError({"revoked": _("A revoked token stays revoked.")})
    if revoked:
        services.revoke(PersonalToken.objects.get(pk=instance.pk))


class NoSlugChangeMixin:
    """The slug is set once, when the row is added."""

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        names = tuple(super().get_readonly_fields(request, obj))  # type: ignore[misc]
        return names if obj is None else (*names, "slug")

    def get_prepopulated_fields(self, request: HttpRequest, obj: Any = None) -> dict[str, Any]:
        fields = super().get_prepopulated_fields(request, obj)  # type: ignore[misc]
        return fields if obj is None else {}


@admin.register(Agency)
class AgencyAdmin(NoSlugChangeMixin, ServiceModelAdmin):
    create_service = staticmethod(services.create_agency)
    update_service = staticmethod(_update_agency)
    list_display = ("name", "slug", "created_at")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}

    def scope(self, queryset: QuerySet[Any], request: HttpRequest) -> QuerySet[Any]:
        if request.user.is_superuser:
            return queryset
        return queryset.filter(pk=getattr(request.user, "agency_id", None))

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return request.user.is_superuser and super().has_add_permission(request, *args)

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view(self.overview_view)
        return [
            path("<path:object_id>/overview/", view, name="tenants_agency_overview"),
            *super().get_urls(),
        ]

    def overview_view(self, request: HttpRequest, object_id: str) -> TemplateResponse:
        """The agency page: the open items (alerts, incidents ...) of every tenant of the agency
        the user may see, most severe and oldest first. Another agency answers 404."""
        agency = self.get_object(request, unquote(object_id))
        if agency is None or not self.has_view_permission(request, agency):
            raise Http404
        now = timezone.now()
        tenants = list(admin_tenants(request.user).filter(agency=agency).order_by("name"))
        by_id = {tenant.pk: tenant for tenant in tenants}
        rows = [
            {"item": item, "tenant": by_id[item.tenant_id]}
            for item in overview.open_items(tenants=tenants, now=now)
        ]
        columns = overview.tenant_columns(tenants=tenants, now=now)
        table = [
            {
                "tenant": tenant,
                "cells": [
                    {"value": column.cells.get(tenant.pk, ""), "css": column.css.get(tenant.pk, "")}
                    for column in columns
                ],
            }
            for tenant in tenants
        ]
        context = {
            **self.admin_site.each_context(request),
            "title": _("%(agency)s: overview") % {"agency": agency.name},
            "opts": self.opts,
            "agency": agency,
            "tenants": table,
            "columns": columns,
            "rows": rows,
            "item_sources": overview.item_sources(),
            "now": now,
        }
        return TemplateResponse(request, AGENCY_TEMPLATE, context)


@admin.register(Tenant)
class TenantAdmin(NoSlugChangeMixin, ServiceModelAdmin):
    create_service = staticmethod(services.create_tenant)
    update_service = staticmethod(_update_tenant)
    tenant_path = "pk"
    list_display = ("name", "slug", "agency", "status", "time_zone", "default_language")
    list_filter = ("status", "default_language", AgencyFilter)
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    inlines = (MembershipInline,)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        names = tuple(super().get_readonly_fields(request, obj))
        return names if obj is None else (*names, "agency")

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view(self.overview_view)
        return [
            path("<path:object_id>/overview/", view, name="tenants_tenant_overview"),
            *super().get_urls(),
        ]

    def overview_view(self, request: HttpRequest, object_id: str) -> TemplateResponse:
        """The tenant's start page: the panels the apps register (``tenants.overview``) and
        the tenant's open items, times in the tenant's zone. A tenant the user may not see
        answers 404."""
        tenant = self.get_object(request, unquote(object_id))
        if tenant is None or not self.has_view_permission(request, tenant):
            raise Http404
        now = timezone.now()
        panels = overview.tenant_panels(tenant=tenant, now=now)
        with timezone.override(zoneinfo.ZoneInfo(tenant.time_zone)):
            rendered = [
                {
                    "panel": panel,
                    "html": SafeString(
                        render_to_string(
                            panel.template,
                            {**panel.context, "tenant": tenant, "now": now},
                            request=request,
                        )
                    ),
                }
                for panel in panels
            ]
        css = list(dict.fromkeys(name for panel in panels for name in panel.css))
        context = {
            **self.admin_site.each_context(request),
            "title": _("%(tenant)s: start page") % {"tenant": tenant.name},
            "opts": self.opts,
            "original": tenant,
            "tenant": tenant,
            "panels": rendered,
            "panel_css": css,
            "rows": [
                {"item": item, "tenant": tenant}
                for item in overview.open_items(tenants=[tenant], now=now)
            ],
            "item_sources": overview.item_sources(),
            "now": now,
        }
        return TemplateResponse(request, OVERVIEW_TEMPLATE, context)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        """The members on the tenant page, through the member services: additions and
        promotions first, then demotions and removals, so an admin can be handed over in one
        save while the tenant always keeps one."""
        if formset.model is not Membership:
            super().save_formset(request, form, formset, change)
            return
        formset.save(commit=False)
        tenant = form.instance
        formset.new_objects = [
            services.add_member(tenant=tenant, user=row.user, role=row.role, added_by=request.user)
            for row in formset.new_objects
        ]
        changes = sorted(formset.changed_objects, key=lambda pair: pair[0].role != Role.ADMIN)
        for row, changed in changes:
            if "user" in changed:
                raise ValidationError(
                    {"user": _("A member cannot be swapped: remove them and add the other.")}
                )
            _change_membership(instance=row, role=row.role)
        for row in formset.deleted_objects:
            _remove_membership(instance=row)


@admin.register(User)
class UserAdmin(AgencyScopedAdminMixin, DjangoUserAdmin):  # type: ignore[type-arg]
    ordering = ("email",)
    list_display = (
        "email",
        "full_name",
        "agency",
        "language",
        "is_agency_admin",
        "is_staff",
        "is_active",
    )
    list_filter = (AgencyFilter, "language", "is_agency_admin", "is_staff", "is_active")
    search_fields = ("email", "full_name")
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (
            gettext_lazy("Profile"),
            {"fields": ("full_name", "language", "agency", "is_agency_admin")},
        ),
        (gettext_lazy("Access"), {"fields": ("is_active", "is_staff", "is_superuser")}),
        (
            gettext_lazy("Dates"),
            {"fields": ("last_login", "date_joined", "password_changed_at")},
        ),
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
class MembershipAdmin(ServiceModelAdmin):
    create_service = staticmethod(services.add_member)
    update_service = staticmethod(_change_membership)
    delete_service = staticmethod(_remove_membership)
    list_display = ("user", "tenant", "role", "created_at")
    list_filter = ("role", TenantFilter)
    search_fields = ("user__email", "tenant__name", "tenant__slug")
    autocomplete_fields = ("user",)
    list_select_related = ("user", "tenant")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # A membership is one person's: another person is another membership.
        names = tuple(super().get_readonly_fields(request, obj))
        return names if obj is None else (*names, "user")


def _invite(*, tenant: Tenant, email: str, role: str, full_name: str = "") -> Invitation:
    return services.invite_member(tenant=tenant, email=email, role=role, full_name=full_name)


def _revoke_invitation(*, instance: Invitation) -> None:
    services.revoke_invitation(invitation=Invitation.objects.get(pk=instance.pk))


@admin.register(Invitation)
class InvitationAdmin(ServiceModelAdmin):
    """Invitations by address, as on the API (``services.invite_member``: one answer for every
    address, an e-mail with a link); withdrawing a pending one ends its link. They are not
    changed: invite the address again for a new link."""

    create_service = staticmethod(_invite)
    delete_service = staticmethod(_revoke_invitation)
    list_display = ("email", "tenant", "role", "status", "invited_by", "created_at", "accepted_at")
    list_filter = ("role", TenantFilter)
    search_fields = ("email", "tenant__name", "tenant__slug")
    list_select_related = ("tenant", "invited_by")
    fields = ("tenant", "email", "role", "full_name")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ()
        return (*self.fields, "invited_by", "created_at", "accepted_at")

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.fields if obj is None else self.get_readonly_fields(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(TenantApiKey)
class TenantApiKeyAdmin(ServiceModelAdmin):
    """The key is shown once, in a message, when it is created; only its hash is stored.
    Keys are revoked, not deleted."""

    create_service = staticmethod(services.create_api_key)
    update_service = staticmethod(_update_api_key)

    list_display = ("prefix", "name", "tenant", "created", "expiry_date", "revoked", "last_used_at")
    list_filter = (TenantFilter, "revoked")
    search_fields = ("name", "prefix", "tenant__slug")
    list_select_related = ("tenant",)
    exclude = ("created_by", "last_used_at")

    def save_model(
        self, request: HttpRequest, obj: Any, form: Any = None, change: bool = False
    ) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        data = form.cleaned_data
        created, key = services.create_api_key(
            tenant=data["tenant"],
            name=data["name"],
            created_by=request.user,
            expires_at=data.get("expiry_date"),
        )
        obj.pk = created.pk
        obj._state.adding = False
        messages.warning(
            request,
            _("The API key for %(name)s is: %(key)s - store it now, it will not be shown again.")
            % {"name": created.name, "key": key},
        )

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        if obj is None:
            return ("prefix", "revoked")
        if obj.revoked:
            return ("prefix", "tenant", "name", "expiry_date", "revoked")
        return ("prefix", "tenant")


@admin.register(PersonalToken)
class PersonalTokenAdmin(ServiceModelAdmin):
    """Tokens are created by their owners through the API; here they can be seen and revoked
    (not deleted)."""

    update_service = staticmethod(_revoke_token)
    tenant_path = "user__memberships__tenant"
    list_display = ("prefix", "name", "user", "created", "expiry_date", "revoked", "last_used_at")
    list_filter = ("revoked",)
    search_fields = ("name", "prefix", "user__email")
    readonly_fields = ("prefix", "name", "user", "created", "expiry_date", "last_used_at")
    exclude = ("hashed_key",)

    def scope(self, queryset: QuerySet[Any], request: HttpRequest) -> QuerySet[Any]:
        return queryset.filter(user__in=scoped_users(request.user))

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        names = tuple(super().get_readonly_fields(request, obj))
        return (*names, "revoked") if obj is not None and obj.revoked else names


# Notification channels, the delivery log, the on-call rota and quiet hours.
from tenants.notify import admin as notify_admin  # noqa: E402, F401
