"""The platform notify API used by other apps: incidents' missed targets and task reminders
e-mail the right people (never for drills, never twice), and ``emit_event`` sends a signed
delivery to every enabled webhook channel of the tenant."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from incidents import services as incident_services
from incidents import tasks as incident_tasks
from tenants.models import Delivery
from tenants.notify import emit_event
from tenants.notify.tasks import send_delivery
from tenants.roles import Role
from tests.notify.replay import Replay
from tests.notify.test_channels import channel


def test_a_missed_target_emails_the_commanders(tenant: Any, members: dict[str, Any]) -> None:
    incident = incident_services.open_incident(
        tenant=tenant,
        title="Viral",
        trigger="negative_news",
        severity="sev2",
        detected_at=timezone.now() - timedelta(minutes=45),
    )
    incident_services.open_incident(
        tenant=tenant,
        title="Latihan",
        trigger="hoax",
        severity="sev2",
        is_drill=True,
        detected_at=timezone.now() - timedelta(minutes=45),
    )
    incident_tasks.sweep_timers()
    incident_tasks.sweep_timers()
    rows = Delivery.objects.filter(tenant=tenant, event_type="incident.target_breached")
    # Without a named commander: the members holding incidents.command (the admin), once.
    assert [d.recipient for d in rows] == [members[Role.ADMIN].email]
    assert rows[0].subject_ref == f"incident:{incident.pk}"


def test_a_task_reminder_emails_its_owner(tenant: Any, members: dict[str, Any]) -> None:
    incident = incident_services.open_incident(tenant=tenant, title="Hoaks", trigger="hoax")
    incident_services.create_task(
        incident=incident,
        title="Klarifikasi",
        owner=members[Role.RESPONDER],
        due_at=timezone.now() + timedelta(minutes=10),
    )
    incident_services.send_task_reminders(tenant_id=tenant.pk)
    (delivery,) = Delivery.objects.filter(tenant=tenant, event_type="incident.task_reminder")
    assert delivery.recipient == members[Role.RESPONDER].email
    assert "Klarifikasi" in delivery.title


def test_emit_event_signs_to_every_enabled_webhook(tenant: Any, replay: Replay) -> None:
    replay.script("/hooks/", "webhook", "ok")
    channel(tenant, "webhook", replay, name="a")
    channel(tenant, "webhook", replay, name="b")
    channel(tenant, "webhook", replay, name="off", enabled=False)
    channel(tenant, "slack", replay)
    payload = {"sequence": 7, "active": True}
    assert emit_event(tenant.pk, "crisis_mode.started", payload) == 2
    assert emit_event(tenant.pk, "crisis_mode.started", payload) == 2  # same keys: no new rows
    rows = Delivery.objects.filter(tenant=tenant, event_type="crisis_mode.started")
    assert rows.count() == 2
    for row in rows:
        send_delivery(tenant.pk, row.pk)
    bodies = [r.json() for r in replay.to("/hooks/")]
    assert len(bodies) == 2
    assert all(b["type"] == "crisis_mode.started" and b["data"]["sequence"] == 7 for b in bodies)
