"""Who may reach which tenant, and with which capabilities: the one rule every layer uses.

REST (``tenants.api.base``), GraphQL (``tenants.graphql.permissions``) and the admin
(``tenants.admin_mixins``) all resolve access here. A tenant the caller cannot see raises
``TenantNotFound`` whether or not it exists, so answers never reveal other tenants.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import CharField, OuterRef, Q, QuerySet, Value
from django.db.models.functions import Cast, Concat
from django.utils.translation import gettext as _

from tenants.models import Membership, Tenant, TenantApiKey, User
from tenants.roles import API_KEY_CAPABILITIES, Cap, Role, capabilities_of


class TenantNotFound(Exception):
    """The tenant does not exist or the caller may not know that it does."""


class CapabilityMissing(Exception):
    def __init__(self, cap: Cap) -> None:
        super().__init__(_("Your role in this tenant does not allow '%(cap)s'.") % {"cap": cap})
        self.cap = cap


class TenantSuspended(Exception):
    pass


@dataclass(frozen=True)
class MachinePrincipal:
    """The identity behind a tenant API key: it may ingest into its tenant and nothing else."""

    api_key: TenantApiKey
    is_authenticated: bool = True
    is_active: bool = True
    is_anonymous: bool = False
    is_staff: bool = False
    is_superuser: bool = False
    pk: None = None

    @property
    def tenant_id(self) -> int:
        return self.api_key.tenant_id

    def __str__(self) -> str:
        return f"api-key:{self.api_key.prefix}"


@dataclass(frozen=True)
class TenantAccess:
    tenant: Tenant
    roles: frozenset[str]
    capabilities: frozenset[Cap]

    def can(self, cap: Cap) -> bool:
        return cap in self.capabilities

    def require(self, cap: Cap) -> None:
        if cap not in self.capabilities:
            raise CapabilityMissing(cap)
        if not self.tenant.is_active and may_be_suspended(cap):
            raise TenantSuspended()


def may_be_suspended(cap: Cap) -> bool:
    """Whether a suspended tenant refuses ``cap``: everything but reading and managing it."""
    return cap not in READ_CAPABILITIES | {Cap.MANAGE_TENANT}


READ_CAPABILITIES = frozenset(
    {
        Cap.VIEW_TENANT,
        Cap.VIEW_MEMBERS,
        Cap.VIEW_MONITORING,
        Cap.VIEW_INCIDENTS,
        Cap.VIEW_INCIDENT_INTERNALS,
    }
)


def administered_agency_id(user: User) -> int | None:
    """The agency whose every tenant this user administers (agency admins only)."""
    return user.agency_id if user.is_agency_admin else None


def visible_tenants(user: Any) -> QuerySet[Tenant]:
    """Tenants the user is a member of, plus every tenant of an agency the user administers."""
    if isinstance(user, MachinePrincipal):
        return Tenant.objects.filter(pk=user.tenant_id)
    if not isinstance(user, User) or not user.is_authenticated or not user.is_active:
        return Tenant.objects.none()
    condition = Q(memberships__user=user)
    if administered_agency_id(user) is not None:
        condition |= Q(agency_id=administered_agency_id(user))
    return Tenant.objects.filter(condition).distinct()


def roles_in(user: Any, tenant: Tenant) -> frozenset[str]:
    if not isinstance(user, User) or not user.is_authenticated or not user.is_active:
        return frozenset()
    roles = set(
        Membership.objects.for_tenant(tenant).filter(user=user).values_list("role", flat=True)
    )
    if administered_agency_id(user) == tenant.agency_id:
        roles.add(Role.ADMIN)
    return frozenset(roles)


def _by_tenant(
    memberships: Iterable[tuple[int, str]], administered: Iterable[int]
) -> dict[int, frozenset[Cap]]:
    roles: dict[int, set[str]] = defaultdict(set)
    for tenant_id, role in memberships:
        roles[tenant_id].add(role)
    for tenant_id in administered:
        roles[tenant_id].add(Role.ADMIN)
    return {tenant_id: capabilities_of(held) for tenant_id, held in roles.items()}


def tenant_capabilities(user: Any) -> dict[int, frozenset[Cap]]:
    """Capabilities per tenant id for every tenant the user can see, in two queries."""
    if not isinstance(user, User) or not user.is_authenticated or not user.is_active:
        return {}
    agency_id = administered_agency_id(user)
    return _by_tenant(
        Membership.objects.filter(user=user).values_list("tenant_id", "role"),
        []
        if agency_id is None
        else Tenant.objects.filter(agency_id=agency_id).values_list("pk", flat=True),
    )


def check(tenant: Tenant, capabilities: frozenset[Cap], cap: Cap) -> None:
    """Raise ``CapabilityMissing`` or ``TenantSuspended`` unless ``cap`` may be used now."""
    TenantAccess(tenant, frozenset(), capabilities).require(cap)


def resolve(user: Any, slug: str) -> TenantAccess:
    """The caller's access to the tenant named ``slug``; ``TenantNotFound`` if it has none.
    One query (the tenant with its agency and the caller's roles), none for a machine key."""
    return _resolve(user, slug, everywhere=False)[0]


def resolve_everywhere(
    user: Any, slug: str
) -> tuple[TenantAccess, dict[int, frozenset[Cap]] | None]:
    """``resolve``, and in the same query ``tenant_capabilities(user)`` (None for a machine
    key): what GraphQL needs when a query reads tenant-owned lists."""
    return _resolve(user, slug, everywhere=True)


def _resolve(
    user: Any, slug: str, *, everywhere: bool
) -> tuple[TenantAccess, dict[int, frozenset[Cap]] | None]:
    if isinstance(user, MachinePrincipal):
        tenant = user.api_key.tenant
        if tenant.slug != slug:
            raise TenantNotFound()
        return TenantAccess(tenant, frozenset(), API_KEY_CAPABILITIES), None
    if not isinstance(user, User) or not user.is_authenticated or not user.is_active:
        raise TenantNotFound()
    # One query: the tenant, its agency and the caller's roles in it (``roles_in``'s rule);
    # ``everywhere``: also the caller's memberships and administered tenants (all tenants).
    agency_id = administered_agency_id(user)
    mine = Membership.objects.filter(user_id=user.pk).order_by()
    annotations: dict[str, Any] = {
        "member_roles": ArraySubquery(mine.filter(tenant_id=OuterRef("pk")).values("role"))
    }
    if everywhere:
        pair = Concat(Cast("tenant_id", CharField()), Value(":"), "role", output_field=CharField())
        annotations["all_roles"] = ArraySubquery(mine.annotate(pair=pair).values("pair"))
        if agency_id is not None:
            annotations["administered"] = ArraySubquery(
                Tenant.objects.filter(agency_id=agency_id).order_by().values("pk")
            )
    found = (
        Tenant.objects.select_related("agency").annotate(**annotations).filter(slug=slug).first()
    )
    if found is None:
        raise TenantNotFound()
    held = set(found.member_roles)  # type: ignore[attr-defined]  # the annotation
    if agency_id == found.agency_id:
        held.add(Role.ADMIN)
    if not held:
        raise TenantNotFound()
    roles = frozenset(held)
    everything = None
    if everywhere:
        pairs = [text.split(":", 1) for text in found.all_roles]  # type: ignore[attr-defined]
        everything = _by_tenant(
            [(int(tenant_id), role) for tenant_id, role in pairs],
            getattr(found, "administered", None) or [],
        )
    return TenantAccess(found, roles, capabilities_of(roles)), everything
