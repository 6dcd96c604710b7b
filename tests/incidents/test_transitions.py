"""The incident status machine: the documented table is the code's, every allowed move works
and stamps its stage, every other move is refused naming the allowed ones, and commander-only
moves need the commander's powers."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone, translation

from incidents import services
from incidents.authority import SYSTEM
from incidents.models import Incident, TimelineEntry
from tenants.models import Tenant
from tenants.roles import Role
from tests.incidents.factories import IncidentFactory

DOC = Path(__file__).resolve().parents[2] / "docs" / "incidents.md"


def documented_table() -> set[tuple[str, str, str, bool]]:
    """Rows of the table under "## Transition table": from, to, condition, commander."""
    text = DOC.read_text().split("## Transition table", 1)[1].split("\n## ", 1)[0]
    rows = set()
    for line in text.splitlines():
        match = re.match(r"^\| `(\w+)` \| `(\w+)` \| ([^|]*) \| ([^|]*) \|", line)
        if match:
            source, target, condition, command = (part.strip() for part in match.groups())
            rows.add((source, target, "" if condition == "—" else condition, command == "yes"))
    return rows


def test_the_documented_table_is_the_code() -> None:
    code = {
        (row["from"], row["to"], ", ".join(row["conditions"]), row["command"])
        for row in services.transition_table()
    }
    assert documented_table() == code
    assert len(code) == 12


def url(incident: Incident, name: str = "transition") -> str:
    return reverse(
        f"incident-{name}", kwargs={"tenant_slug": incident.tenant.slug, "pk": incident.pk}
    )


def move(api: Any, user: Any, incident: Incident, to: str) -> Any:
    return api(user).post(url(incident), {"to": to}, format="json")


def test_the_whole_lifecycle_stamps_every_stage(api: Any, tenant: Any, members: Any) -> None:
    incident = IncidentFactory(tenant=tenant)
    admin = members[Role.ADMIN]
    for stage in ("triaged", "responding", "monitoring", "resolved", "reviewed"):
        response = move(api, admin, incident, stage)
        assert response.status_code == 200, response.content
        assert response.json()["status"] == stage
    incident.refresh_from_db()
    for stamp in ("acknowledged_at", "mitigated_at", "resolved_at", "reviewed_at"):
        assert getattr(incident, stamp) is not None, stamp
    entries = TimelineEntry.objects.filter(incident=incident, kind="status")
    assert entries.count() == 5
    assert all(entry.visible_to_client for entry in entries)


def test_an_invalid_move_names_the_allowed_ones_and_changes_nothing(
    api: Any, tenant: Any, members: Any
) -> None:
    incident = IncidentFactory(tenant=tenant, severity="sev2")
    before = TimelineEntry.objects.filter(incident=incident).count()
    # The assertions read the English text: this tenant works in English (codes never change).
    Tenant.objects.filter(pk=tenant.pk).update(default_language="en")
    response = move(api, members[Role.RESPONDER], incident, "monitoring")
    assert response.status_code == 400, response.content
    error = response.json()["errors"][0]
    assert error["attr"] == "to" and error["code"] == "invalid_transition"
    assert "Allowed now: triaged, closed" in error["detail"]
    # detected → responding is in the table, but only at SEV1: the reason is given
    response = move(api, members[Role.RESPONDER], incident, "responding")
    assert response.status_code == 400
    assert "severity is SEV1" in response.json()["errors"][0]["detail"]
    incident.refresh_from_db()
    assert incident.status == "detected"
    assert TimelineEntry.objects.filter(incident=incident).count() == before


def test_sev1_skips_triage_and_is_acknowledged_by_responding(
    api: Any, tenant: Any, members: Any
) -> None:
    incident = IncidentFactory(tenant=tenant, severity="sev1")
    response = move(api, members[Role.RESPONDER], incident, "responding")
    assert response.status_code == 200, response.content
    assert response.json()["acknowledged_at"] is not None


@pytest.mark.parametrize("stage", ["detected", "triaged", "responding", "monitoring"])
def test_every_stage_before_resolution_closes_as_a_false_alarm(stage: str, tenant: Any) -> None:
    incident = IncidentFactory(tenant=tenant, severity="sev1")
    path = {"detected": [], "triaged": ["triaged"], "responding": ["responding"]}
    for step in path.get(stage, ["responding", "monitoring"]):
        incident = services.transition_incident(incident=incident, to=step)
    closed = services.transition_incident(incident=incident, to="closed")
    assert closed.status == "closed" and closed.closed_at is not None


def test_resolved_and_later_stages_cannot_close(tenant: Any) -> None:
    incident = IncidentFactory(tenant=tenant, severity="sev1")
    for step in ("responding", "monitoring", "resolved"):
        incident = services.transition_incident(incident=incident, to=step)
    with (
        translation.override("en"),
        pytest.raises(Exception, match="Allowed now: responding, reviewed"),
    ):
        services.transition_incident(incident=incident, to="closed")


def test_a_second_wave_reopens_within_14_days_only(tenant: Any) -> None:
    incident = IncidentFactory(tenant=tenant, severity="sev1")
    for step in ("responding", "monitoring", "responding", "monitoring", "resolved"):
        incident = services.transition_incident(incident=incident, to=step)
    with time_machine.travel(timezone.now() + timedelta(days=13)):
        reopened = services.transition_incident(incident=incident, to="responding")
    assert reopened.reopened_count == 1 and reopened.resolved_at is None
    for step in ("monitoring", "resolved"):
        reopened = services.transition_incident(incident=reopened, to=step)
    later = timezone.now() + timedelta(days=15)
    with (
        time_machine.travel(later),
        pytest.raises(Exception, match="within 14 days of resolution"),
    ):
        services.transition_incident(incident=reopened, to="responding")


def test_commander_only_moves_need_the_commanders_powers(
    api: Any, tenant: Any, members: Any
) -> None:
    incident = IncidentFactory(tenant=tenant, severity="sev1")
    services.assign_role(incident=incident, user=members[Role.ADMIN], role="commander")
    responder = members[Role.RESPONDER]
    assert move(api, responder, incident, "responding").status_code == 200
    assert move(api, responder, incident, "monitoring").status_code == 200
    refused = move(api, responder, incident, "resolved")
    assert refused.status_code == 403, refused.content
    incident.refresh_from_db()
    assert incident.status == "monitoring"
    # the commander hands over; the responder may now resolve
    services.assign_role(incident=incident, user=responder, role="commander")
    assert move(api, responder, incident, "resolved").status_code == 200


def test_incidents_command_overrides_another_commander_on_the_record(
    api: Any, tenant: Any, members: Any
) -> None:
    incident = IncidentFactory(tenant=tenant, severity="sev1")
    services.assign_role(incident=incident, user=members[Role.RESPONDER], role="commander")
    response = move(api, members[Role.ADMIN], incident, "closed")
    assert response.status_code == 200, response.content
    override = TimelineEntry.objects.get(incident=incident, kind="override")
    assert not override.visible_to_client
    assert override.actor == members[Role.ADMIN]


def test_without_a_commander_every_manager_holds_the_powers(tenant: Any, members: Any) -> None:
    from incidents.authority import Authority
    from tenants.roles import MATRIX

    incident = IncidentFactory(tenant=tenant)
    responder = Authority(members[Role.RESPONDER], MATRIX[Role.RESPONDER])
    changed = services.change_severity(incident=incident, severity="sev1", authority=responder)
    assert changed.severity == "sev1"
    assert SYSTEM.command_mode(incident) == "system"
