"""GraphQL access rules, resolved through ``tenants.access`` like REST.

Errors carry ``extensions.code``: ``UNAUTHENTICATED`` (no or bad credentials), ``NOT_FOUND``
(a tenant the caller cannot see, whether or not it exists) and ``FORBIDDEN`` (a member whose
role lacks the capability).

The request's database scope (``tenants.dbscope``) grows with what is resolved here: a tenant
whose access ``tenant_access`` granted, every tenant ``capabilities_by_tenant`` loaded. Fields
read tenant rows only after one of them ran (root fields start from ``tenant_for``; nested lists
filter by ``tenant_ids_with``), so row-level security shows a query the caller's tenants only.
"""

from __future__ import annotations

from typing import Any

from django.utils.functional import lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from strawberry.permission import BasePermission, PermissionExtension

from tenants import access, dbscope, i18n
from tenants.graphql.context import Info
from tenants.graphql.errors import forbidden, not_found, unauthenticated
from tenants.models import Tenant, User
from tenants.roles import Cap

__all__ = [
    "HasTenantCapability",
    "IsAuthenticated",
    "capabilities_by_tenant",
    "current_user",
    "forbidden",
    "not_found",
    "require",
    "tenant_access",
    "tenant_for",
    "unauthenticated",
]


def current_user(info: Info) -> User:
    """The authenticated user, or an UNAUTHENTICATED error."""
    request = info.context.request
    user = getattr(request, "user", None)
    if not isinstance(user, User) or not user.is_authenticated or not user.is_active:
        raise unauthenticated(getattr(request, "auth_error", None) or _("Authentication required."))
    return user


def tenant_access(info: Info, tenant: Tenant | str) -> access.TenantAccess:
    """The caller's access to a tenant, cached for the request; NOT_FOUND when it has none."""
    user = current_user(info)
    slug = tenant if isinstance(tenant, str) else tenant.slug
    cache = info.context.tenant_access
    if slug not in cache:
        try:
            if info.context.capabilities is None and info.context.known_capabilities is None:
                # The first tenant of the request also brings the caller's capabilities in
                # every tenant (same query), which tenant-owned lists read.
                cache[slug], info.context.known_capabilities = access.resolve_everywhere(user, slug)
            else:
                cache[slug] = access.resolve(user, slug)
        except access.TenantNotFound:
            raise not_found() from None
        dbscope.widen_entry_scope([cache[slug].tenant.pk])
        if len(cache) == 1:  # the language of the first tenant the request is about
            i18n.activate(user=user, tenant=cache[slug].tenant)
    return cache[slug]


def capabilities_by_tenant(info: Info) -> dict[int, frozenset[Cap]]:
    """The caller's capabilities in every tenant it can see, loaded once per request (with the
    first tenant ``tenant_access`` resolved, when there was one). The request's scope widens
    to those tenants when they are first used."""
    if info.context.capabilities is None:
        known = info.context.known_capabilities
        info.context.capabilities = (
            known if known is not None else access.tenant_capabilities(current_user(info))
        )
        dbscope.widen_entry_scope(info.context.capabilities)
    return info.context.capabilities


def _check(tenant: Tenant, capabilities: frozenset[Cap], cap: Cap) -> None:
    try:
        access.check(tenant, capabilities, cap)
    except access.CapabilityMissing as exc:
        raise forbidden(str(exc)) from None
    except access.TenantSuspended:
        raise forbidden(_("This tenant is suspended; it is read-only.")) from None


def require(info: Info, tenant: Tenant, cap: Cap) -> None:
    """Errors unless the caller holds ``cap`` in ``tenant`` (an already loaded row)."""
    capabilities = capabilities_by_tenant(info).get(tenant.pk)
    if capabilities is None:
        raise not_found()
    _check(tenant, capabilities, cap)


def tenant_for(info: Info, slug: str, cap: Cap) -> Tenant:
    """The tenant named ``slug`` for a root field: NOT_FOUND outside it, FORBIDDEN without
    ``cap``."""
    result = tenant_access(info, slug)
    _check(result.tenant, result.capabilities, cap)
    return result.tenant


class IsAuthenticated(BasePermission):
    message = gettext_lazy("Authentication required.")  # type: ignore[assignment]
    error_extensions = {"code": "UNAUTHENTICATED"}

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        current_user(info)
        return True


class HasTenantCapability(BasePermission):
    """Guards a field of a tenant (or tenant-owned) object by a capability in that tenant."""

    error_extensions = {"code": "FORBIDDEN"}

    def __init__(self, cap: Cap) -> None:
        self.cap = cap
        # Translated when shown, in the request's language (not at import).
        self.message = lazy(self._message, str)()

    def _message(self) -> str:
        return _("Your role in this tenant does not allow '%(cap)s'.") % {"cap": self.cap}

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        tenant = source if isinstance(source, Tenant) else source.tenant
        require(info, tenant, self.cap)
        return True


# The extension every root field of the tenant API carries: a signed-in caller, or UNAUTHENTICATED.
AUTHENTICATED: list[Any] = [PermissionExtension(permissions=[IsAuthenticated()])]
