"""Root GraphQL fields of the incidents app: what the client portal reads (its incidents,
their visible timeline and tasks). Each takes the tenant's ``slug`` and checks access like
REST; callers without ``incidents.view_internal`` get no drills and only visible items."""

from __future__ import annotations

from typing import Any

import strawberry
import strawberry_django
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet

from incidents import playbooks as incident_playbooks
from incidents import selectors
from incidents.authority import Authority
from incidents.graphql.types import (
    IncidentPlaybookType,
    IncidentTaskType,
    IncidentType,
    ResponseAdviceType,
    TimelineEntryType,
)
from incidents.models import Incident, IncidentPlaybook, ResponseAdvice
from tenants.api.pagination import DIGITS
from tenants.graphql.context import Info
from tenants.graphql.errors import bad_input, forbidden, service_errors
from tenants.graphql.permissions import AUTHENTICATED as _authenticated
from tenants.graphql.permissions import (
    current_user,
    tenant_access,
    tenant_for,
)
from tenants.roles import Cap

MAX_ROWS = 500


def _page(rows: QuerySet[Any], offset: int, limit: int) -> list[Any]:
    """A page of ``rows`` (a list: the visibility filter is already applied by the selector)."""
    if not 1 <= limit <= MAX_ROWS:
        raise bad_input(f"limit: between 1 and {MAX_ROWS}.", "limit")
    if not 0 <= offset <= 100_000:
        raise bad_input("offset: between 0 and 100000.", "offset")
    return list(rows[offset : offset + limit])


def _internal(info: Info, slug: str) -> bool:
    return tenant_access(info, slug).can(Cap.VIEW_INCIDENT_INTERNALS)


def _of_incident(rows: QuerySet[Any], incident: strawberry.ID | None) -> QuerySet[Any]:
    if incident is None:
        return rows
    if not DIGITS.fullmatch(str(incident)):
        raise bad_input("incident: an incident id.", "incident")
    return rows.filter(incident_id=int(incident))


@strawberry.type
class IncidentsQuery:
    @strawberry_django.field(extensions=_authenticated)
    def incidents(
        self,
        info: Info,
        slug: str,
        status: list[str] | None = None,
        severity: list[str] | None = None,
        trigger: list[str] | None = None,
        drill: bool | None = None,
        offset: int = 0,
        limit: int = 100,
    ) -> list[IncidentType]:
        """Incidents, newest first, filtered like the REST list (``limit`` at most 500)."""
        tenant = tenant_for(info, slug, Cap.VIEW_INCIDENTS)
        rows = selectors.incidents(tenant=tenant, internal=_internal(info, slug))
        if status:
            rows = rows.filter(status__in=status)
        if severity:
            rows = rows.filter(severity__in=severity)
        if trigger:
            rows = rows.filter(trigger__in=trigger)
        if drill is not None:
            rows = rows.filter(is_drill=drill)
        return _page(rows, offset, limit)

    @strawberry_django.field(extensions=_authenticated)
    def incident_timeline(
        self,
        info: Info,
        slug: str,
        incident: strawberry.ID | None = None,
        offset: int = 0,
        limit: int = 100,
    ) -> list[TimelineEntryType]:
        """Timeline entries, newest first (of one incident when given; ``limit`` at most
        500)."""
        tenant = tenant_for(info, slug, Cap.VIEW_INCIDENTS)
        rows = selectors.timeline(tenant=tenant, internal=_internal(info, slug))
        return _page(_of_incident(rows, incident), offset, limit)

    @strawberry_django.field(extensions=_authenticated)
    def incident_tasks(
        self,
        info: Info,
        slug: str,
        incident: strawberry.ID | None = None,
        offset: int = 0,
        limit: int = 100,
    ) -> list[IncidentTaskType]:
        """Tasks by due time (of one incident when given; ``limit`` at most 500)."""
        tenant = tenant_for(info, slug, Cap.VIEW_INCIDENTS)
        rows = selectors.tasks(tenant=tenant, internal=_internal(info, slug))
        return _page(_of_incident(rows, incident), offset, limit)

    @strawberry_django.field(extensions=_authenticated)
    def incident_playbooks(
        self,
        info: Info,
        slug: str,
        incident: strawberry.ID | None = None,
        offset: int = 0,
        limit: int = 100,
    ) -> list[IncidentPlaybookType]:
        """Playbooks attached to incidents (of one incident when given), with their
        snapshots; staff only (``incidents.view_internal``)."""
        tenant = tenant_for(info, slug, Cap.VIEW_INCIDENT_INTERNALS)
        rows = IncidentPlaybook.objects.for_tenant(tenant).order_by("incident_id", "attached_at")
        return _page(_of_incident(rows, incident), offset, limit)

    @strawberry_django.field(extensions=_authenticated)
    def incident_advice(
        self,
        info: Info,
        slug: str,
        incident: strawberry.ID | None = None,
        offset: int = 0,
        limit: int = 100,
    ) -> list[ResponseAdviceType]:
        """The response advice of incidents (of one incident when given); staff only."""
        tenant = tenant_for(info, slug, Cap.VIEW_INCIDENT_INTERNALS)
        rows = ResponseAdvice.objects.for_tenant(tenant).order_by("incident_id")
        return _page(_of_incident(rows, incident), offset, limit)


def _authority(info: Info, slug: str) -> Authority:
    return Authority(user=current_user(info), capabilities=tenant_access(info, slug).capabilities)


def _id(value: strawberry.ID, field: str) -> int:
    if not DIGITS.fullmatch(str(value)) or len(str(value)) > 18:
        raise bad_input(f"{field}: an id.", field)
    return int(value)


@strawberry.type
class IncidentsMutation:
    @strawberry_django.mutation(extensions=_authenticated)
    def attach_playbook(
        self, info: Info, slug: str, incident: strawberry.ID, playbook: strawberry.ID
    ) -> IncidentPlaybookType:
        """Attach a playbook of the tenant or its agency to an incident by hand (like REST's
        ``POST incident-playbooks/``): its snapshot and a task per step, once per incident."""
        tenant = tenant_for(info, slug, Cap.MANAGE_INCIDENTS)
        found = Incident.objects.for_tenant(tenant).filter(pk=_id(incident, "incident")).first()
        if found is None:
            raise bad_input("incident: no such incident in this tenant.", "incident")
        with service_errors():
            attached = incident_playbooks.attach_playbook(
                incident=found, playbook=_id(playbook, "playbook"), authority=_authority(info, slug)
            )
        return attached  # type: ignore[return-value]

    @strawberry_django.mutation(extensions=_authenticated)
    def update_incident_advice(
        self,
        info: Info,
        slug: str,
        id: strawberry.ID,
        cluster: str | None = None,
        posture: str | None = None,
        reasoning: str | None = None,
    ) -> ResponseAdviceType:
        """Change an incident's response advice (a commander's power, like REST's ``PATCH
        incident-advice/{id}``); it is no longer re-derived afterwards."""
        tenant = tenant_for(info, slug, Cap.MANAGE_INCIDENTS)
        advice = ResponseAdvice.objects.for_tenant(tenant).filter(pk=_id(id, "id")).first()
        if advice is None:
            raise bad_input("id: no such advice in this tenant.", "id")
        changes = {
            name: value
            for name, value in (
                ("cluster", cluster),
                ("posture", posture),
                ("reasoning", reasoning),
            )
            if value is not None
        }
        try:
            with service_errors():
                incident_playbooks.update_advice(
                    instance=advice, authority=_authority(info, slug), **changes
                )
        except PermissionDenied as exc:
            raise forbidden(str(exc)) from None
        return ResponseAdvice.objects.for_tenant(tenant).get(pk=advice.pk)  # type: ignore[return-value]
