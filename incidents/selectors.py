"""Reads of the incidents app: keyword-only, given the tenant, and given whether the caller may
see internal items (``incidents.view_internal``). Without it, a caller sees no drills and only
the timeline entries, tasks and links marked ``visible_to_client`` (the client role)."""

from __future__ import annotations

from datetime import datetime
from statistics import median
from typing import Any

from django.db.models import QuerySet

from incidents.choices import TimelineKind
from incidents.models import Incident, IncidentLink, IncidentTask, TimelineEntry
from tenants.models import Tenant


def incidents(*, tenant: Tenant | int, internal: bool) -> QuerySet[Incident]:
    """The tenant's incidents, newest first (index ``incident_detected``); no drills for
    callers without internal access."""
    rows = Incident.objects.for_tenant(tenant)
    return rows if internal else rows.filter(is_drill=False)


def timeline(*, tenant: Tenant | int, internal: bool) -> QuerySet[TimelineEntry]:
    """Timeline entries, newest first (index ``timeline_incident`` when filtered by incident)."""
    rows = TimelineEntry.objects.for_tenant(tenant).select_related("actor")
    return rows if internal else rows.filter(visible_to_client=True)


def tasks(*, tenant: Tenant | int, internal: bool) -> QuerySet[IncidentTask]:
    """Tasks by due time (index ``incident_task_due``)."""
    rows = IncidentTask.objects.for_tenant(tenant).select_related("owner")
    return rows if internal else rows.filter(visible_to_client=True)


def links(*, tenant: Tenant | int, internal: bool) -> QuerySet[IncidentLink]:
    rows = IncidentLink.objects.for_tenant(tenant)
    return rows if internal else rows.filter(visible_to_client=True)


def _minutes(start: datetime, end: datetime | None) -> float | None:
    return None if end is None else round((end - start).total_seconds() / 60, 1)


def figures(*, tenant: Tenant | int, since: datetime, until: datetime) -> dict[str, Any]:
    """Figures of the incidents detected in ``[since, until)``, drills left out: counts by
    status, severity and trigger, median minutes to acknowledge, to the first statement and
    to resolve, and how many targets were missed (index ``incident_detected``)."""
    rows: list[Any] = list(
        Incident.objects.for_tenant(tenant)
        .filter(is_drill=False, detected_at__gte=since, detected_at__lt=until)
        .values(
            "pk",
            "status",
            "severity",
            "trigger",
            "detected_at",
            "acknowledged_at",
            "first_statement_at",
            "resolved_at",
        )
    )
    breaches = (
        TimelineEntry.objects.for_tenant(tenant)
        .filter(kind=TimelineKind.BREACH, incident_id__in=[row["pk"] for row in rows])
        .count()
        if rows
        else 0
    )

    def counts(name: str) -> dict[str, int]:
        found: dict[str, int] = {}
        for row in rows:
            found[row[name]] = found.get(row[name], 0) + 1
        return dict(sorted(found.items()))

    def median_of(stamp: str) -> float | None:
        values = [
            minutes
            for row in rows
            if (minutes := _minutes(row["detected_at"], row[stamp])) is not None
        ]
        return round(median(values), 1) if values else None

    return {
        "since": since,
        "until": until,
        "incidents": len(rows),
        "by_status": counts("status"),
        "by_severity": counts("severity"),
        "by_trigger": counts("trigger"),
        "median_minutes_to_acknowledge": median_of("acknowledged_at"),
        "median_minutes_to_first_statement": median_of("first_statement_at"),
        "median_minutes_to_resolve": median_of("resolved_at"),
        "targets_missed": breaches,
    }
