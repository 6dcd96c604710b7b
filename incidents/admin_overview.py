"""The incidents app's rows on the admin's start pages (``tenants.overview``, docs/admin.md):
the incidents still being handled (``choices.OPEN_STATUSES``), drills included and marked as
such, one query for all the tenants asked (index ``incident_detected``). Registered by
``IncidentsConfig.ready``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from incidents.choices import OPEN_STATUSES
from incidents.models import Incident
from tenants import overview
from tenants.models import Tenant

LIMIT = 50


def open_incidents(*, tenants: Sequence[Tenant], now: datetime) -> list[overview.Item]:
    """The open incidents of these tenants, most recently detected first, at most ``LIMIT``."""
    ids = [tenant.pk for tenant in tenants]
    if not ids:
        return []
    rows = (
        Incident.objects.for_tenant(ids)
        .filter(status__in=OPEN_STATUSES)
        .only("id", "tenant_id", "title", "severity", "status", "is_drill", "detected_at")
        .order_by("-detected_at", "-id")[:LIMIT]
    )
    return [
        overview.Item(
            tenant_id=incident.tenant_id,
            kind=str(_("Drill") if incident.is_drill else _("Incident")),
            title=f"{incident.title} ({incident.get_status_display()})",
            severity=overview.severity_level(incident.severity),
            severity_label=incident.severity.upper(),
            opened_at=incident.detected_at,
            url=reverse("admin:incidents_incident_change", args=[incident.pk]),
        )
        for incident in rows
    ]


def running_crisis_modes(*, tenants: Sequence[Tenant], now: datetime) -> list[overview.Item]:
    """The tenants in crisis mode now (at most one each), shown first on the start pages."""
    from incidents.statements.models import CrisisMode

    ids = [tenant.pk for tenant in tenants]
    if not ids:
        return []
    rows = CrisisMode.objects.for_tenant(ids).filter(ended_at__isnull=True).order_by("-started_at")
    return [
        overview.Item(
            tenant_id=crisis.tenant_id,
            kind=str(_("Crisis mode (drill)") if crisis.is_drill else _("Crisis mode")),
            title=crisis.reason or str(_("Crisis mode is on")),
            severity=overview.severity_level("sev1"),
            severity_label="CRISIS",
            opened_at=crisis.started_at,
            url=reverse("admin:incidents_crisismode_change", args=[crisis.pk]),
        )
        for crisis in rows[:LIMIT]
    ]


def register() -> None:
    overview.register_items("incidents.crisis_mode", provider=running_crisis_modes, order=10)
    overview.register_items("incidents.incidents", provider=open_incidents, order=20)
