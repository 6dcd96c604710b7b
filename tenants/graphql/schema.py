"""Root GraphQL fields of the tenants app: ``me``, ``tenants`` and ``tenant(slug)``."""

from __future__ import annotations

import strawberry
import strawberry_django

from tenants import access
from tenants.graphql.context import Info
from tenants.graphql.permissions import AUTHENTICATED as _authenticated
from tenants.graphql.permissions import current_user, tenant_for
from tenants.graphql.types import TenantType, UserType
from tenants.models import Tenant
from tenants.roles import Cap


@strawberry.type
class TenantsQuery:
    @strawberry_django.field(extensions=_authenticated)  # type: ignore[untyped-decorator]
    def me(self, info: Info) -> UserType:
        return current_user(info)  # type: ignore[return-value]

    @strawberry_django.field(extensions=_authenticated)  # type: ignore[untyped-decorator]
    def tenants(self, info: Info) -> list[TenantType]:
        return access.visible_tenants(current_user(info)).order_by("name")  # type: ignore[return-value]

    @strawberry_django.field(extensions=_authenticated)  # type: ignore[untyped-decorator]
    def tenant(self, info: Info, slug: str) -> TenantType:
        tenant = tenant_for(info, slug, Cap.VIEW_TENANT)
        return Tenant.objects.filter(pk=tenant.pk).get()  # type: ignore[return-value]
