"""Response-time targets: timers per incident, breaches recorded once by the sweep task, task
reminders, drills left out of figures and never notified (their notices say DRILL)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.urls import reverse
from django.utils import timezone

from incidents import hooks, services, tasks
from incidents.models import TimelineEntry
from incidents.targets import DEFAULTS
from tenants.roles import Role
from tests.incidents.factories import SeverityPolicyFactory


def test_default_and_tenant_targets(tenant: Any) -> None:
    assert services.targets_for(tenant.pk, "sev1") == DEFAULTS["sev1"]
    SeverityPolicyFactory(tenant=tenant, severity="sev1", acknowledge_minutes=5)
    assert services.targets_for(tenant.pk, "sev1").acknowledge == 5


def test_timers_of_an_incident(api: Any, tenant: Any, members: Any) -> None:
    detected = timezone.now() - timedelta(minutes=40)
    incident = services.open_incident(
        tenant=tenant,
        title="Akun diretas",
        trigger="cyber_attack",
        severity="sev1",
        detected_at=detected,
    )
    response = api(members[Role.CLIENT]).get(
        reverse("incident-timers", kwargs={"tenant_slug": tenant.slug, "pk": incident.pk})
    )
    assert response.status_code == 200, response.content
    body = response.json()
    timers = {timer["target"]: timer for timer in body["timers"]}
    assert (
        timers["acknowledge"]["state"] == "breached" and timers["acknowledge"]["late_minutes"] >= 24
    )
    assert timers["first_statement"]["state"] == "running"
    assert body["allowed_transitions"] == ["triaged", "responding", "closed"]


def test_the_sweep_records_each_breach_once_and_notifies(tenant: Any) -> None:
    told: list[Any] = []
    handler = hooks.on_target_breached(lambda incident, timer: told.append(timer.target))
    try:
        incident = services.open_incident(
            tenant=tenant,
            title="Viral",
            trigger="negative_news",
            severity="sev2",
            detected_at=timezone.now() - timedelta(minutes=45),
        )
        drill = services.open_incident(
            tenant=tenant,
            title="Latihan",
            trigger="hoax",
            severity="sev2",
            is_drill=True,
            detected_at=timezone.now() - timedelta(minutes=45),
        )
        assert tasks.sweep_timers()["breaches"] == 2
        assert tasks.sweep_timers()["breaches"] == 0  # once per target and due time
    finally:
        hooks._breach_handlers.remove(handler)
    assert told == ["acknowledge"]  # the drill notified nobody
    breach = TimelineEntry.objects.get(incident=incident, kind="breach")
    assert not breach.visible_to_client and "acknowledge" in breach.text
    drill_breach = TimelineEntry.objects.get(incident=drill, kind="breach")
    assert drill_breach.text.startswith("[DRILL]")


def test_task_reminders_before_the_due_time(tenant: Any, members: Any) -> None:
    incident = services.open_incident(tenant=tenant, title="Hoaks", trigger="hoax")
    soon = services.create_task(
        incident=incident,
        title="Klarifikasi",
        owner=members[Role.RESPONDER],
        due_at=timezone.now() + timedelta(minutes=10),
    )
    services.create_task(
        incident=incident, title="Nanti", due_at=timezone.now() + timedelta(hours=5)
    )
    assert services.send_task_reminders(tenant_id=tenant.pk) == 1
    assert services.send_task_reminders(tenant_id=tenant.pk) == 0
    reminder = TimelineEntry.objects.get(incident=incident, kind="reminder")
    assert "Klarifikasi" in reminder.text and reminder.data["task"] == soon.pk


def test_overdue_tasks_are_visible(api: Any, tenant: Any, members: Any) -> None:
    incident = services.open_incident(tenant=tenant, title="Hoaks", trigger="hoax")
    late = services.create_task(
        incident=incident, title="Telat", due_at=timezone.now() - timedelta(minutes=5)
    )
    services.create_task(
        incident=incident, title="Belum", due_at=timezone.now() + timedelta(days=1)
    )
    response = api(members[Role.CLIENT]).get(
        reverse("incident-task-list", kwargs={"tenant_slug": tenant.slug}), {"overdue": "true"}
    )
    rows = response.json()["results"]
    assert [(row["id"], row["is_overdue"]) for row in rows] == [(late.pk, True)]


def test_figures_leave_drills_out(api: Any, tenant: Any, members: Any) -> None:
    real = services.open_incident(tenant=tenant, title="Nyata", trigger="hoax", severity="sev1")
    services.transition_incident(incident=real, to="triaged")
    drill = services.open_incident(
        tenant=tenant, title="Latihan", trigger="hoax", severity="sev1", is_drill=True
    )
    services.transition_incident(incident=drill, to="triaged")
    response = api(members[Role.ANALYST]).get(
        reverse("incident-figures", kwargs={"tenant_slug": tenant.slug})
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["incidents"] == 1
    assert body["by_status"] == {"triaged": 1}
    assert body["median_minutes_to_acknowledge"] is not None
