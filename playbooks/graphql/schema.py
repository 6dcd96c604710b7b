"""Root GraphQL fields of the playbooks app: the playbooks a tenant sees (its own and its
agency's), with ``slug`` and access checked like REST."""

from __future__ import annotations

import strawberry
import strawberry_django
from strawberry.extensions.field_extension import FieldExtension
from strawberry.permission import PermissionExtension

from playbooks import selectors
from playbooks.graphql.types import PlaybookType
from tenants.graphql.context import Info
from tenants.graphql.errors import bad_input
from tenants.graphql.permissions import IsAuthenticated, tenant_for
from tenants.roles import Cap

_authenticated: list[FieldExtension] = [PermissionExtension(permissions=[IsAuthenticated()])]


@strawberry.type
class PlaybooksQuery:
    @strawberry_django.field(extensions=_authenticated)
    def playbooks(
        self, info: Info, slug: str, trigger: str | None = None, limit: int = 100
    ) -> list[PlaybookType]:
        """The tenant's playbooks and its agency's, by name (of one trigger when given;
        ``limit`` at most 500)."""
        tenant = tenant_for(info, slug, Cap.VIEW_PLAYBOOKS)
        if not 1 <= limit <= 500:
            raise bad_input("limit: between 1 and 500.", "limit")
        rows = selectors.playbooks(tenant=tenant)
        if trigger is not None:
            rows = rows.filter(trigger_types__contains=[trigger]) | rows.filter(trigger_types=[])
        return list(rows[:limit])  # type: ignore[arg-type]
