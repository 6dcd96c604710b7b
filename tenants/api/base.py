"""The REST base for every tenant resource: ``/api/v1/tenants/{tenant_slug}/...``.

``TenantScopedMixin`` takes the tenant from the URL, resolves the caller's access through
``tenants.access`` (404 for a tenant the caller cannot see, 403 for a missing capability),
and scopes every queryset to that tenant. Once access is granted, the rest of the request runs
in that tenant's database scope (``tenants.dbscope``), so row-level security shows the handler
that tenant's rows only, whatever a query forgets. Subclasses declare ``capabilities`` (action
or HTTP method name to capability) and may narrow the queryset in ``scope_queryset``; they cannot
override ``get_queryset``, ``get_permissions`` or ``initial``, so the check cannot be dropped.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from rest_framework import exceptions, mixins, permissions, viewsets
from rest_framework.request import Request
from rest_framework.views import APIView

from tenants import access, dbscope, i18n
from tenants.api import errors
from tenants.api.serializers import service_errors
from tenants.audit import attach_actor
from tenants.models import Tenant
from tenants.roles import Cap

PROTECTED_METHODS = ("get_queryset", "get_permissions", "initial", "check_permissions")


class TenantCapabilityPermission(permissions.BasePermission):
    """Resolve the URL's tenant for the caller and require the action's capability."""

    def has_permission(self, request: Request, view: Any) -> bool:
        slug = view.kwargs.get("tenant_slug", "")
        try:
            tenant_access = access.resolve(request.user, slug)
        except access.TenantNotFound:
            raise exceptions.NotFound(_("No such tenant.")) from None
        # The rest of the request speaks the user's language, else the tenant's.
        i18n.activate(user=request.user, tenant=tenant_access.tenant)
        setattr(request._request, "tenant_slug", slug)  # noqa: B010 - read by the request log
        cap = view.required_capability(request)
        try:
            tenant_access.require(cap)
        except access.CapabilityMissing as exc:
            raise exceptions.PermissionDenied(
                str(exc), code=errors.MISSING_CAPABILITY.code
            ) from None
        except access.TenantSuspended:
            raise exceptions.PermissionDenied(
                _(errors.TENANT_SUSPENDED.detail), code=errors.TENANT_SUSPENDED.code
            ) from None
        view.tenant_access = tenant_access
        dbscope.set_entry_scope(dbscope.tenants([tenant_access.tenant.pk]))
        return True


class TenantScopedMixin:
    """Mix into a DRF view or viewset whose URL holds ``<tenant_slug>``."""

    capabilities: ClassVar[dict[str, Cap]] = {}
    # tenants.api.errors: what every operation here may answer besides DRF's own refusals.
    error_codes: ClassVar[dict[str, tuple[errors.ErrorCode, ...]]] = {
        "*": (errors.MISSING_CAPABILITY, errors.TENANT_SUSPENDED)
    }
    tenant_access: access.TenantAccess
    kwargs: dict[str, Any]
    queryset: Any

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for name in PROTECTED_METHODS:
            if name in cls.__dict__:
                raise TypeError(
                    f"{cls.__name__} must not override {name}(); tenant scoping and permissions "
                    "live in TenantScopedMixin. Override scope_queryset() instead."
                )

    def required_capability(self, request: Request) -> Cap:
        action = getattr(self, "action", None)
        if action == "metadata" or request.method in ("OPTIONS",):
            return Cap.VIEW_TENANT
        key = action or (request.method or "").lower()
        try:
            return self.capabilities[key]
        except KeyError:
            # Fail closed: an action nobody declared a capability for is refused.
            raise exceptions.PermissionDenied(
                _("'%(action)s' is not permitted here.") % {"action": key}
            ) from None

    def may_answer(self, error: errors.ErrorCode, action: str) -> bool:
        """A suspended tenant refuses writes only (``access.TenantAccess.require``)."""
        if error == errors.TENANT_SUSPENDED:
            cap = self.capabilities.get(action)
            return cap is not None and access.may_be_suspended(cap)
        return True

    def get_permissions(self) -> list[permissions.BasePermission]:
        return [permissions.IsAuthenticated(), TenantCapabilityPermission()]

    def perform_authentication(self, request: Request) -> None:
        super().perform_authentication(request)  # type: ignore[misc]
        i18n.activate(user=request.user)  # the tenant's default joins once access is known

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)  # type: ignore[misc]
        attach_actor(request.user)

    @property
    def tenant(self) -> Tenant:
        return self.tenant_access.tenant

    def get_queryset(self) -> QuerySet[Any]:
        queryset = self.queryset.model._default_manager.all()
        if queryset.model is Tenant:
            queryset = queryset.filter(pk=self.tenant.pk)
        else:
            queryset = queryset.for_tenant(self.tenant)
        return self.scope_queryset(queryset)

    def scope_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        """Narrow or annotate the already tenant-scoped queryset."""
        return queryset

    def get_serializer_context(self) -> dict[str, Any]:
        context: dict[str, Any] = super().get_serializer_context()  # type: ignore[misc]
        if hasattr(self, "tenant_access"):
            context["tenant"] = self.tenant
        return context


class TenantScopedViewSet(TenantScopedMixin, viewsets.GenericViewSet):  # type: ignore[type-arg]
    pass


class TenantScopedAPIView(TenantScopedMixin, APIView):
    pass


class TenantCrudViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    TenantScopedViewSet,
):
    """List, read, create, change (PUT or PATCH) and delete rows of the URL's tenant.

    Subclasses declare ``capabilities`` (e.g. ``crud_capabilities(Cap.VIEW_X, Cap.MANAGE_X)``),
    a ``ServiceModelSerializer`` (its ``create``/``update`` call the app's services, given the
    URL's tenant) and ``delete_service`` (keyword ``instance``). No write happens here.
    """

    delete_service: ClassVar[Callable[..., Any] | None] = None

    def perform_create(self, serializer: Any) -> None:
        serializer.save(tenant=self.tenant)

    def perform_destroy(self, instance: Any) -> None:
        service = type(self).delete_service
        if service is None:
            raise TypeError(f"{type(self).__name__} declares no delete_service.")
        with service_errors():
            service(instance=instance)


def crud_capabilities(read: Cap, write: Cap) -> dict[str, Cap]:
    """The capability map of a ``TenantCrudViewSet``: ``read`` to list and retrieve, ``write``
    to create, change and delete."""
    return {
        "list": read,
        "retrieve": read,
        "create": write,
        "partial_update": write,
        "update": write,
        "destroy": write,
    }


class AuthenticatedViewMixin:
    """Base for the endpoints outside any tenant (``me/``, ``auth/tokens/``, ``tenants/``).

    They read shared tables only; an agency admin's requests may write the agency's tenants
    (the database scope holds the agency, no tenant)."""

    def perform_authentication(self, request: Request) -> None:
        super().perform_authentication(request)  # type: ignore[misc]
        i18n.activate(user=request.user)

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)  # type: ignore[misc]
        if isinstance(request.user, access.MachinePrincipal):
            raise exceptions.PermissionDenied(_("A tenant API key may only ingest mentions."))
        attach_actor(request.user)
        agency_id = access.administered_agency_id(request.user) if request.user.pk else None
        dbscope.set_entry_scope(dbscope.Scope(agency_id=agency_id))
