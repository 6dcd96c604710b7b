"""GraphQL types of statements and crisis mode, built from ``incidents.statements.fields`` so
names match REST. Callers without ``incidents.view_internal`` in a tenant (the client role)
see there only versions that left the agency (never drafts or withdrawn ones) and nothing of
drills."""

from __future__ import annotations

from typing import Any

import strawberry
import strawberry_django
from django.db.models import Q, QuerySet

from incidents.models import Incident
from incidents.statements import fields
from incidents.statements.models import CrisisMode, Statement, StatementVersion
from incidents.statements.selectors import CLIENT_VERSION_STATUSES
from tenants.graphql.context import Info
from tenants.graphql.types import TenantOwnedType, public_type, tenant_ids_with
from tenants.roles import Cap


def _id(value: Any) -> strawberry.ID | None:
    return strawberry.ID(str(value)) if value is not None else None


class _ClientSafe(TenantOwnedType):
    read_capability = Cap.VIEW_INCIDENTS

    @classmethod
    def client_sees(cls, tenant_ids: list[int]) -> Q:
        drills = Incident.objects.for_tenant(tenant_ids).filter(is_drill=True).values("pk")
        return ~Q(incident_id__in=drills)

    @classmethod
    def get_queryset(cls, queryset: QuerySet[Any], info: Info, **kwargs: Any) -> QuerySet[Any]:
        queryset = super().get_queryset(queryset, info, **kwargs)
        internal = tenant_ids_with(info, Cap.VIEW_INCIDENT_INTERNALS)
        others = [t for t in tenant_ids_with(info, cls.read_capability) if t not in internal]
        return queryset.filter(Q(tenant_id__in=internal) | cls.client_sees(others))


@public_type(fields.STATEMENT_VERSION)
class StatementVersionType(_ClientSafe):
    @classmethod
    def client_sees(cls, tenant_ids: list[int]) -> Q:
        return super().client_sees(tenant_ids) & Q(status__in=CLIENT_VERSION_STATUSES)

    @strawberry_django.field(only=["statement_id"])
    def statement(self, root: StatementVersion) -> strawberry.ID:
        return strawberry.ID(str(root.statement_id))

    @strawberry_django.field(only=["incident_id"])
    def incident(self, root: StatementVersion) -> strawberry.ID:
        return strawberry.ID(str(root.incident_id))

    @strawberry_django.field(only=["author_id"])
    def author(self, root: StatementVersion) -> strawberry.ID | None:
        return _id(root.author_id)


@public_type(fields.STATEMENT)
class StatementType(_ClientSafe):
    @strawberry_django.field(only=["incident_id"])
    def incident(self, root: Statement) -> strawberry.ID:
        return strawberry.ID(str(root.incident_id))

    @strawberry_django.field(only=["template_id"])
    def template(self, root: Statement) -> strawberry.ID | None:
        return _id(root.template_id)

    @strawberry_django.field(only=["created_by_id"])
    def created_by(self, root: Statement) -> strawberry.ID | None:
        return _id(root.created_by_id)


@public_type(fields.CRISIS_MODE)
class CrisisModeType(_ClientSafe):
    @classmethod
    def client_sees(cls, tenant_ids: list[int]) -> Q:
        return Q(is_drill=False)

    @strawberry_django.field(only=["incident_id"])
    def incident(self, root: CrisisMode) -> strawberry.ID:
        return strawberry.ID(str(root.incident_id))

    @strawberry_django.field(only=["ended_at"])
    def is_active(self, root: CrisisMode) -> bool:
        return root.is_active
