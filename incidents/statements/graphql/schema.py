"""Root GraphQL fields of statements and crisis mode: what the client portal reads (the
statements awaiting or holding approval, the tenant's crisis mode) and the client approver's
decision. Each takes the tenant's ``slug`` and checks access like REST."""

from __future__ import annotations

import strawberry
import strawberry_django

from incidents.authority import Authority
from incidents.graphql.schema import _internal, _of_incident, _page
from incidents.statements import selectors, services
from incidents.statements.choices import DecisionVia
from incidents.statements.graphql.types import (
    CrisisModeType,
    StatementType,
    StatementVersionType,
)
from incidents.statements.models import StatementVersion
from tenants.api.pagination import DIGITS
from tenants.graphql.context import Info
from tenants.graphql.errors import bad_input, service_errors
from tenants.graphql.permissions import AUTHENTICATED as _authenticated
from tenants.graphql.permissions import (
    current_user,
    tenant_access,
    tenant_for,
)
from tenants.roles import Cap


@strawberry.type
class StatementsQuery:
    @strawberry_django.field(extensions=_authenticated)
    def statements(
        self,
        info: Info,
        slug: str,
        incident: strawberry.ID | None = None,
        offset: int = 0,
        limit: int = 100,
    ) -> list[StatementType]:
        """Statements, newest first (of one incident when given; ``limit`` at most 500)."""
        tenant = tenant_for(info, slug, Cap.VIEW_INCIDENTS)
        rows = selectors.statements(tenant=tenant, internal=_internal(info, slug))
        return _page(_of_incident(rows, incident), offset, limit)

    @strawberry_django.field(extensions=_authenticated)
    def statement_versions(
        self,
        info: Info,
        slug: str,
        incident: strawberry.ID | None = None,
        offset: int = 0,
        limit: int = 100,
    ) -> list[StatementVersionType]:
        """Statement versions, newest first; the client role sees those that left the agency
        (awaiting approval, approved, rejected)."""
        tenant = tenant_for(info, slug, Cap.VIEW_INCIDENTS)
        rows = selectors.versions(tenant=tenant, internal=_internal(info, slug))
        return _page(_of_incident(rows.order_by("-created_at", "-pk"), incident), offset, limit)

    @strawberry_django.field(extensions=_authenticated)
    def crisis_mode(self, info: Info, slug: str) -> CrisisModeType | None:
        """The tenant's running crisis mode, or null."""
        tenant = tenant_for(info, slug, Cap.VIEW_INCIDENTS)
        return selectors.running_crisis_mode(  # type: ignore[return-value]
            tenant=tenant, internal=_internal(info, slug)
        )


@strawberry.type
class StatementsMutation:
    @strawberry_django.mutation(extensions=_authenticated)
    def client_decide_statement(
        self,
        info: Info,
        slug: str,
        id: strawberry.ID,
        decision: str,
        comment: str = "",
    ) -> StatementVersionType:
        """The incident's client approver approves or rejects (with a comment) the version
        awaiting their step. Refused (BAD_USER_INPUT naming the field): an old version, one not
        awaiting them, a rejection without a comment."""
        tenant = tenant_for(info, slug, Cap.CLIENT_APPROVE_STATEMENTS)
        internal = _internal(info, slug)
        version = (
            selectors.versions(tenant=tenant, internal=internal).filter(pk=int(id)).first()
            if DIGITS.fullmatch(str(id))
            else None
        )
        if version is None:
            raise bad_input("No such statement version in this tenant.", "id")
        authority = Authority(
            user=current_user(info), capabilities=tenant_access(info, slug).capabilities
        )
        with service_errors():
            services.decide(
                version=version,
                decision=decision,
                comment=comment,
                authority=authority,
                via=DecisionVia.PORTAL,
            )
        return StatementVersion.objects.for_tenant(tenant).get(pk=version.pk)  # type: ignore[return-value]
