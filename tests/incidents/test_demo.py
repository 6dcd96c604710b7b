"""The demo shows one incident in progress, opened from a demo alert; seeding it again keeps
it."""

from __future__ import annotations

from typing import Any

from incidents.demo import TITLE, seed_incident
from incidents.models import Incident, IncidentLink, IncidentMember, IncidentTask, Reply
from tenants.demo import DEMO_SEEDERS
from tests.monitoring.factories import MentionFactory


def test_the_demo_incident_is_in_progress_and_opened_from_an_alert(
    tenant: Any, members: Any
) -> None:
    assert DEMO_SEEDERS["incidents"] is seed_incident
    MentionFactory(tenant=tenant, text="Kecewa berat, boikot aja!")
    first = seed_incident(tenant)
    assert "opened from alert" in first
    incident = Incident.objects.get(tenant=tenant, title=TITLE)
    assert incident.status == "responding" and incident.first_statement_at is not None
    assert IncidentLink.objects.filter(incident=incident, kind="alert").exists()
    assert IncidentMember.objects.filter(incident=incident, role="commander").exists()
    assert any(task.is_overdue for task in IncidentTask.objects.filter(incident=incident))
    flagged = Reply.objects.for_tenant(tenant).get(incident=incident, flagged=True)
    assert flagged.status == "draft"
    assert {"promise", "tone"} <= {f["category"] for f in flagged.findings}
    waiting = Reply.objects.for_tenant(tenant).filter(incident=incident, status="pending_approval")
    assert waiting.exists()
    assert "kept" in seed_incident(tenant)
    assert Incident.objects.filter(tenant=tenant).count() == 1


def test_the_demo_incident_has_a_statement_through_approval_and_publish_records(
    tenant: Any, members: Any
) -> None:
    from incidents.line import approved_line
    from incidents.statements.models import PublishRecord, StatementApproval, StatementVersion

    seed_incident(tenant)
    incident = Incident.objects.get(tenant=tenant, title=TITLE)
    version = StatementVersion.objects.get(incident=incident)
    assert version.status == "approved" and len(version.steps) == 2
    decisions = StatementApproval.objects.filter(version=version).order_by("step")
    assert [(d.step, d.decision) for d in decisions] == [(0, "approved"), (1, "approved")]
    records = PublishRecord.objects.filter(incident=incident).order_by("published_at")
    assert [r.channel for r in records] == ["instagram", "website"]
    assert incident.first_statement_at == records[0].published_at
    assert approved_line(incident).statement_version_id == version.pk
