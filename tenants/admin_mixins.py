"""The admin side of tenant scoping: what a staff user may see and pick in the admin.

The platform superuser sees everything. An agency admin (staff with ``is_agency_admin``) sees
only its agency's tenants and the rows that belong to them, and may only pick those tenants
in foreign-key fields. Of the accounts it sees, picks and edits only its agency's staff and its
tenants' own client users (``scoped_users``): never a superuser, platform staff or another
agency's people. Other staff see no tenant data in the admin.

The admin writes nothing itself: ``ServiceModelAdmin`` hands every save and delete (one row or
the bulk action) to the app's services, like REST and GraphQL do. A ``ValidationError`` a
service raises (``ServiceErrorsMixin``) rolls the whole save or delete back and shows as a form
error or an error message, never as a server error. ``ReadOnlyMixin`` marks
screens of rows that the pipeline writes; ``BoundedCountPaginator`` keeps changelists of
millions of rows fast.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from typing import Any, ClassVar

from django.contrib import admin, messages
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.paginator import Paginator
from django.db import router, transaction
from django.db.models import Model, Q, QuerySet
from django.forms import BaseForm
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from tenants import dbscope, i18n
from tenants.models import Agency, Membership, Tenant, User


def admin_scope(user: Any) -> dbscope.Scope:
    """The database scope of a staff user's admin pages: every tenant for the platform
    superuser (an agency-wide list, logged), the agency's tenants and the agency itself for an
    agency admin, none for anybody else (the sign-in page included)."""
    if not user.is_active or not user.is_staff:
        return dbscope.EMPTY
    if user.is_superuser:
        return dbscope.everything(f"admin: superuser {user.pk}")
    if isinstance(user, User) and user.is_agency_admin and user.agency_id:
        ids = Tenant.objects.filter(agency_id=user.agency_id).values_list("pk", flat=True)
        return dbscope.tenants(list(ids), agency_id=user.agency_id)
    return dbscope.EMPTY


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

    title = _("tenant")
    parameter_name = "tenant"

    def lookups(self, request: HttpRequest, model_admin: Any) -> Any:
        return [(str(t.pk), t.name) for t in admin_tenants(request.user).order_by("name")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if value and value.isascii() and value.isdigit() and len(value) < 19:
            return queryset.for_tenant(int(value))  # type: ignore[attr-defined,no-any-return]
        return queryset


class AgencyFilter(admin.SimpleListFilter):
    """An agency list filter: every agency for the superuser, only its own for others."""

    title = _("agency")
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
        tenants = admin_tenants(request.user)
        if self.tenant_path == "tenant" and hasattr(queryset, "for_tenant"):
            return queryset.for_tenant(tenants)  # type: ignore[no-any-return]
        return queryset.filter(**{f"{self.tenant_path}__in": tenants})

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return self.scope(super().get_queryset(request), request)  # type: ignore[misc]

    # --- language and time zone of a page about one tenant (tenants.i18n) ------------------

    def render_change_form(
        self, request: HttpRequest, context: dict[str, Any], *args: Any, **kwargs: Any
    ) -> Any:
        """A row's page speaks its tenant's language (unless the user chose one) and shows
        times in its tenant's zone."""
        obj = kwargs.get("obj", args[3] if len(args) > 3 else None)
        tenant = _tenant_of(obj)
        if tenant is not None:
            i18n.activate_admin(request, tenant)
        return super().render_change_form(request, context, *args, **kwargs)  # type: ignore[misc]

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> Any:
        """A list filtered to one tenant (``?tenant=<id>``) is that tenant's page."""
        value = request.GET.get("tenant", "")
        if value.isascii() and value.isdigit() and len(value) < 19:
            tenant = admin_tenants(request.user).filter(pk=int(value)).first()
            if tenant is not None:
                i18n.activate_admin(request, tenant)
        return super().changelist_view(request, extra_context)  # type: ignore[misc]

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


def _tenant_of(obj: Any) -> Tenant | None:
    if isinstance(obj, Tenant):
        return obj
    if obj is not None and isinstance(getattr(obj, "tenant_id", None), int):
        return obj.tenant  # type: ignore[no-any-return]
    return None


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


class ScopedModelAdmin(AgencyScopedAdminMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    pass


class ReadOnlyMixin:
    """Rows written by the pipeline: viewable, never added or changed here."""

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class BoundedCountPaginator(Paginator):  # type: ignore[type-arg]
    """Counts at most 10,001 rows, so a changelist of a million rows stays fast."""

    limit = 10_000

    @cached_property
    def count(self) -> int:
        return int(self.object_list[: self.limit + 1].count())  # type: ignore[attr-defined]


def _copy_into(target: Model, source: Model) -> None:
    """The admin keeps using the instance its form built: give it the saved row's values."""
    for field in source._meta.concrete_fields:
        setattr(target, field.attname, getattr(source, field.attname))
    target._state.adding = False
    target._state.db = source._state.db


_REFUSAL = "_sigap_service_refusal"


def add_service_errors(form: BaseForm, error: ValidationError) -> None:
    """A service's errors on the form: on the field they name if the form shows it, else on
    the whole form."""
    errors = (
        error.error_dict if hasattr(error, "error_dict") else {NON_FIELD_ERRORS: error.error_list}
    )
    for name, messages_ in errors.items():
        form.add_error(name if name in form.fields else None, messages_)


def refusal_text(error: ValidationError) -> str:
    return " ".join(str(message) for message in error.messages)


class ServiceErrorsMixin:
    """Service ``ValidationError``s during an admin save (the row and its inline rows) or a
    delete (one row or the bulk action): the write is rolled back and the error shown.

    A refused save renders the same form again with the errors: the view is run once more,
    with a form that adds the refusal in ``clean()`` and so saves nothing.
    """

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        view = super().changeform_view  # type: ignore[misc]
        try:
            return view(request, object_id, form_url, extra_context)  # type: ignore[no-any-return]
        except ValidationError as exc:
            if request.method != "POST" or hasattr(request, _REFUSAL):
                raise
            setattr(request, _REFUSAL, exc)
            return view(request, object_id, form_url, extra_context)  # type: ignore[no-any-return]

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        form = super().get_form(request, obj, change, **kwargs)  # type: ignore[misc]
        found: ValidationError | None = getattr(request, _REFUSAL, None)
        if found is None:
            return form
        refusal = found

        class RefusedForm(form):  # type: ignore[misc,valid-type]
            def clean(self) -> Any:
                data = super().clean()
                add_service_errors(self, refusal)
                return data

        return RefusedForm

    def delete_view(
        self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        try:
            return super().delete_view(request, object_id, extra_context)  # type: ignore[misc,no-any-return]
        except ValidationError as exc:
            self.message_user(request, refusal_text(exc), messages.ERROR)  # type: ignore[attr-defined]
            opts = self.model._meta  # type: ignore[attr-defined]
            name = f"{self.admin_site.name}:{opts.app_label}_{opts.model_name}_change"  # type: ignore[attr-defined]
            return HttpResponseRedirect(reverse(name, args=[object_id]))

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions: dict[str, Any] = super().get_actions(request)  # type: ignore[misc]
        if "delete_selected" in actions:
            func, name, description = actions["delete_selected"]
            actions[name] = (_all_or_nothing(func), name, description)
        return actions


def _all_or_nothing(action: Callable[..., Any]) -> Callable[..., Any]:
    """The bulk delete in one transaction: one refused row keeps every selected row."""

    def run(modeladmin: Any, request: HttpRequest, queryset: QuerySet[Any]) -> Any:
        try:
            with transaction.atomic(using=router.db_for_write(queryset.model)):
                return action(modeladmin, request, queryset)
        except ValidationError as exc:
            modeladmin.message_user(request, refusal_text(exc), messages.ERROR)
            return None

    return run


class ServiceModelAdmin(ServiceErrorsMixin, ScopedModelAdmin):
    """A scoped admin screen whose writes are the app's services (set with ``staticmethod``):

    - ``create_service(tenant=..., **fields)`` for an added row (the form's fields);
    - ``update_service(instance=..., **changed)`` with the fields the form changed;
    - ``delete_service(instance=...)`` for each deleted row, also in the bulk delete action.

    The form has run the model's rules already; the service runs them again with the rules
    only it knows. A screen without a service for an action does not offer that action.
    """

    create_service: ClassVar[Callable[..., Any] | None] = None
    update_service: ClassVar[Callable[..., Any] | None] = None
    delete_service: ClassVar[Callable[..., Any] | None] = None

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return self.create_service is not None and super().has_add_permission(request, *args)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        names = tuple(super().get_readonly_fields(request, obj))
        # A row never moves to another tenant; the services have no such change.
        if obj is None or "tenant" in names or not hasattr(self.model, "tenant_id"):
            return names
        return (*names, "tenant")

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.delete_service is not None and super().has_delete_permission(request, obj)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        data = {name: value for name, value in form.cleaned_data.items() if name in form.fields}
        if change:
            if self.update_service is None:
                raise PermissionError("This screen changes nothing.")
            changed = {name: data[name] for name in form.changed_data if name in data}
            changed.pop("tenant", None)  # a row never moves to another tenant
            type(self).update_service(instance=obj, **changed)  # type: ignore[misc]
            return
        if self.create_service is None:
            raise PermissionError("This screen adds nothing.")
        created = type(self).create_service(**data)  # type: ignore[misc]
        _copy_into(obj, created)

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        type(self).delete_service(instance=obj)  # type: ignore[misc]

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        for obj in queryset:
            type(self).delete_service(instance=obj)  # type: ignore[misc]


class ReadOnlyTenantInline(admin.TabularInline):  # type: ignore[type-arg]
    """A read-only table of a page's related rows (an incident's team, a review's lessons):
    shown to admin users, never added, changed or deleted here, read through ``for_tenant`` over
    the user's tenants (the page's object pins them too)."""

    extra = 0
    can_delete = False
    show_change_link = False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_admin_user(request.user)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> Any:
        rows = super().get_queryset(request)
        return rows.for_tenant(admin_tenants(request.user))  # type: ignore[attr-defined]
