"""GraphQL types of the incidents app, built from ``incidents.fields`` so names match REST.

Every type derives from ``TenantOwnedType`` with ``incidents.view``; timeline entries and
tasks keep, for tenants where the caller lacks ``incidents.view_internal`` (the client role),
only rows marked ``visible_to_client`` (``get_queryset``), and incidents no drills there, on
every path that reaches them.
"""

from __future__ import annotations

from typing import Any

import strawberry
import strawberry_django
from django.db.models import Q, QuerySet

from incidents import fields
from incidents.models import IncidentPlaybook, IncidentTask, ResponseAdvice, TimelineEntry
from tenants.graphql.context import Info
from tenants.graphql.types import TenantOwnedType, UserSummaryType, public_type, tenant_ids_with
from tenants.roles import Cap


class _ClientSafe(TenantOwnedType):
    read_capability = Cap.VIEW_INCIDENTS
    client_sees: Q = Q(visible_to_client=True)

    @classmethod
    def get_queryset(cls, queryset: QuerySet[Any], info: Info, **kwargs: Any) -> QuerySet[Any]:
        queryset = super().get_queryset(queryset, info, **kwargs)
        internal = tenant_ids_with(info, Cap.VIEW_INCIDENT_INTERNALS)
        return queryset.filter(Q(tenant_id__in=internal) | cls.client_sees)


@public_type(fields.INCIDENT)
class IncidentType(_ClientSafe):
    client_sees = Q(is_drill=False)


@public_type(fields.TIMELINE_ENTRY)
class TimelineEntryType(_ClientSafe):
    actor: UserSummaryType | None

    @strawberry_django.field(only=["incident_id"])
    def incident(self, root: TimelineEntry) -> strawberry.ID:
        return strawberry.ID(str(root.incident_id))

    @strawberry_django.field(only=["mention_id"])
    def mention(self, root: TimelineEntry) -> strawberry.ID | None:
        return strawberry.ID(str(root.mention_id)) if root.mention_id else None


@public_type(fields.TASK)
class IncidentTaskType(_ClientSafe):
    owner: UserSummaryType | None

    @strawberry_django.field(only=["incident_id"])
    def incident(self, root: IncidentTask) -> strawberry.ID:
        return strawberry.ID(str(root.incident_id))

    @strawberry_django.field(only=["due_at", "status"])
    def is_overdue(self, root: IncidentTask) -> bool:
        return root.is_overdue


class _Internal(TenantOwnedType):
    read_capability = Cap.VIEW_INCIDENT_INTERNALS


@public_type(fields.INCIDENT_PLAYBOOK)
class IncidentPlaybookType(_Internal):
    attached_by: UserSummaryType | None

    @strawberry_django.field(only=["incident_id"])
    def incident(self, root: IncidentPlaybook) -> strawberry.ID:
        return strawberry.ID(str(root.incident_id))

    @strawberry_django.field(only=["playbook_id"])
    def playbook(self, root: IncidentPlaybook) -> strawberry.ID | None:
        return strawberry.ID(str(root.playbook_id)) if root.playbook_id else None


@public_type(fields.RESPONSE_ADVICE)
class ResponseAdviceType(_Internal):
    edited_by: UserSummaryType | None

    @strawberry_django.field(only=["incident_id"])
    def incident(self, root: ResponseAdvice) -> strawberry.ID:
        return strawberry.ID(str(root.incident_id))

    @strawberry_django.field(only=["edited_at"])
    def is_edited(self, root: ResponseAdvice) -> bool:
        return root.is_edited
