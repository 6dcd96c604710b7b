"""GraphQL types of the tenants app.

``TenantOwnedType.get_queryset`` is the GraphQL side of tenant scoping: every list or nested
prefetch of a tenant-owned type goes through it (the optimizer runs with
``prefetch_custom_queryset=True``), keeping only rows of tenants where the caller holds the
type's ``read_capability``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

import strawberry
import strawberry_django
from django.db.models import QuerySet
from strawberry.permission import PermissionExtension
from strawberry.types import Info

from tenants import access
from tenants.graphql.permissions import HasTenantCapability, capabilities_by_tenant
from tenants.models import Membership, Tenant, User
from tenants.roles import Cap


def tenant_ids_with(info: Info, cap: Cap) -> list[int]:
    """Ids of the tenants where the caller holds ``cap``."""
    by_tenant = capabilities_by_tenant(info) if info.context.request.user.is_authenticated else {}
    return [tenant_id for tenant_id, caps in by_tenant.items() if cap in caps]


class TenantOwnedType:
    """Base for GraphQL types of tenant-owned models."""

    read_capability: ClassVar[Cap] = Cap.VIEW_TENANT

    @classmethod
    def get_queryset(cls, queryset: QuerySet[Any], info: Info, **kwargs: Any) -> QuerySet[Any]:
        return queryset.filter(tenant_id__in=tenant_ids_with(info, cls.read_capability))


@strawberry_django.type(User, name="User")
class UserType:
    id: strawberry.ID
    email: str
    full_name: str
    is_agency_admin: bool
    date_joined: datetime

    @strawberry_django.field(only=["agency__slug"], select_related=["agency"])
    def agency(self, root: User) -> str | None:
        return root.agency.slug if root.agency is not None else None


@strawberry_django.type(User, name="UserSummary")
class UserSummaryType:
    id: strawberry.ID
    email: str
    full_name: str


@strawberry_django.type(Membership, name="Membership")
class MembershipType(TenantOwnedType):
    read_capability = Cap.VIEW_MEMBERS

    id: strawberry.ID
    user: UserSummaryType
    role: str
    created_at: datetime
    updated_at: datetime


@strawberry_django.type(Tenant, name="Tenant")
class TenantType:
    id: strawberry.ID
    slug: str
    name: str
    time_zone: str
    default_language: str
    status: str
    mention_retention_days: int | None
    raw_payload_retention_days: int | None
    created_at: datetime
    updated_at: datetime

    @strawberry_django.field(only=["agency__slug"], select_related=["agency"])
    def agency(self, root: Tenant) -> str:
        return root.agency.slug

    members: list[MembershipType] = strawberry_django.field(
        field_name="memberships",
        only=["status"],  # the permission check reads it; keep it in the optimised query
        extensions=[PermissionExtension(permissions=[HasTenantCapability(Cap.VIEW_MEMBERS)])],
    )

    @classmethod
    def get_queryset(
        cls, queryset: QuerySet[Tenant], info: Info, **kwargs: Any
    ) -> QuerySet[Tenant]:
        return queryset.filter(pk__in=access.visible_tenants(info.context.request.user))
