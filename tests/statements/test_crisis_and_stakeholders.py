"""Crisis mode (one running per tenant, tied to an open incident, started by a holder of
``crisis_mode.manage`` or the incident's commander, events with an increasing per-tenant
sequence and the full state, ended at its end time or when the incident resolves, audited,
never sent for drills) and stakeholders (contacts with tags, the engagement log on the
timeline, the right-of-reply tracker; another tenant's contact is refused)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from django.utils import timezone

from incidents import hooks
from incidents import services as incident_services
from incidents.models import TimelineEntry
from incidents.statements import services
from incidents.statements.models import (
    CrisisMode,
    CrisisModeEvent,
    RightOfReply,
    Stakeholder,
    StakeholderInteraction,
)
from tenants.roles import Role
from tests.incidents.factories import IncidentFactory


def url(tenant: Any, basename: str, pk: Any = None, action: str | None = None) -> str:
    action = action.replace("_", "-") if action else None
    if pk is None:
        name = f"{basename}-{action}" if action else f"{basename}-list"
        return reverse(name, kwargs={"tenant_slug": tenant.slug})
    name = f"{basename}-{action}" if action else f"{basename}-detail"
    return reverse(name, kwargs={"tenant_slug": tenant.slug, "pk": pk})


def error(response: Any) -> tuple[str, str]:
    first = response.json()["errors"][0]
    return first["attr"], first["code"]


@pytest.fixture
def told() -> Any:
    """The events the crisis-mode hook receives during the test."""
    events: list[tuple[int, str, dict[str, Any]]] = []

    def handler(tenant_id: int, event_type: str, payload: dict[str, Any]) -> None:
        events.append((tenant_id, event_type, payload))

    hooks.on_crisis_mode(handler)
    yield events
    hooks._crisis_handlers.remove(handler)


def test_crisis_mode_events_carry_an_increasing_sequence_and_the_state(
    api: Any, tenant: Any, members: Any, told: Any
) -> None:
    incident = IncidentFactory(tenant=tenant)
    admin = api(members[Role.ADMIN])
    started = admin.post(
        url(tenant, "crisis-mode"), {"incident": incident.pk, "reason": "Viral"}, format="json"
    )
    assert started.status_code == 201, started.content
    current = api(members[Role.CLIENT]).get(url(tenant, "crisis-mode", action="current")).json()
    assert current["active"] and current["crisis_mode"]["incident"] == incident.pk
    again = admin.post(url(tenant, "crisis-mode"), {"incident": incident.pk}, format="json")
    assert again.status_code == 400 and error(again) == ("incident", "already_running")
    ended = admin.post(
        url(tenant, "crisis-mode", started.json()["id"], "end"), {"reason": "calm"}, format="json"
    )
    assert ended.status_code == 200 and ended.json()["is_active"] is False
    second = admin.post(url(tenant, "crisis-mode"), {"incident": incident.pk}, format="json")
    assert second.status_code == 201
    assert [(t, e, p["sequence"]) for t, e, p in told] == [
        (tenant.pk, "crisis_mode.started", 1),
        (tenant.pk, "crisis_mode.ended", 2),
        (tenant.pk, "crisis_mode.started", 3),
    ]
    assert told[0][2]["state"]["active"] is True
    assert told[1][2]["state"] == {"active": False, "crisis_mode": None, "incident": None}
    assert list(CrisisModeEvent.objects.values_list("sequence", flat=True)) == [3, 2, 1]
    crisis_type = ContentType.objects.get_for_model(CrisisMode)
    assert LogEntry.objects.filter(content_type=crisis_type).count() == 3
    assert TimelineEntry.objects.filter(incident=incident, kind="crisis_mode").count() == 3


def test_only_the_manager_or_the_incidents_commander_starts_crisis_mode(
    api: Any, tenant: Any, members: Any, told: Any
) -> None:
    incident = IncidentFactory(tenant=tenant)
    responder = api(members[Role.RESPONDER])
    refused = responder.post(url(tenant, "crisis-mode"), {"incident": incident.pk}, format="json")
    assert refused.status_code == 403
    assert not CrisisMode.objects.exists() and told == []
    incident_services.assign_role(incident=incident, user=members[Role.RESPONDER], role="commander")
    ok = responder.post(url(tenant, "crisis-mode"), {"incident": incident.pk}, format="json")
    assert ok.status_code == 201, ok.content


def test_crisis_mode_ends_when_the_incident_resolves_and_at_its_end_time(
    api: Any, tenant: Any, members: Any, told: Any
) -> None:
    incident = IncidentFactory(tenant=tenant, severity="sev1")
    crisis = services.start_crisis_mode(incident=incident)
    for stage in ("responding", "monitoring", "resolved"):
        incident_services.transition_incident(incident=incident, to=stage)
    crisis.refresh_from_db()
    assert crisis.ended_at is not None and "resolved" in crisis.end_reason
    assert [e for _, e, _ in told] == ["crisis_mode.started", "crisis_mode.ended"]

    other = IncidentFactory(tenant=tenant)
    timed = services.start_crisis_mode(
        incident=other, ends_at=timezone.now() + timedelta(minutes=30)
    )
    assert services.end_expired_crisis_modes(tenant_id=tenant.pk) == 0
    later = timezone.now() + timedelta(minutes=31)
    assert services.end_expired_crisis_modes(tenant_id=tenant.pk, now=later) == 1
    timed.refresh_from_db()
    assert timed.ended_at is not None
    assert [p["sequence"] for _, _, p in told] == [1, 2, 3, 4]


def test_drills_never_send_crisis_mode_events(tenant: Any, told: Any) -> None:
    drill = IncidentFactory(tenant=tenant, is_drill=True)
    crisis = services.start_crisis_mode(incident=drill)
    services.end_crisis_mode(crisis_mode=crisis)
    assert told == [] and not CrisisModeEvent.objects.exists()


def test_stakeholders_the_engagement_log_and_right_of_reply(
    api: Any, tenant: Any, other_tenant: Any, members: Any
) -> None:
    incident = IncidentFactory(tenant=tenant)
    responder = api(members[Role.RESPONDER])
    made = responder.post(
        url(tenant, "stakeholder"),
        {"name": "Rina", "kind": "journalist", "organisation": "Harian Kota", "tags": ["Ekonomi"]},
        format="json",
    )
    assert made.status_code == 201, made.content
    assert made.json()["tags"] == ["ekonomi"]
    tagged = responder.get(url(tenant, "stakeholder") + "?tag=ekonomi").json()
    rows = tagged["results"] if isinstance(tagged, dict) else tagged
    assert [row["name"] for row in rows] == ["Rina"]

    theirs = Stakeholder.objects.create(tenant=other_tenant, name="Lain", kind="outlet")
    refused = responder.post(
        url(tenant, "stakeholder-interaction"),
        {"incident": incident.pk, "stakeholder": theirs.pk, "channel": "phone", "summary": "x"},
        format="json",
    )
    assert refused.status_code == 400 and error(refused)[0] == "stakeholder"
    refused = responder.post(
        url(tenant, "right-of-reply"),
        {"incident": incident.pk, "outlet": theirs.pk, "article_url": "https://berita.example/1"},
        format="json",
    )
    assert refused.status_code == 400 and error(refused)[0] == "outlet"
    assert not StakeholderInteraction.objects.exists() and not RightOfReply.objects.exists()

    logged = responder.post(
        url(tenant, "stakeholder-interaction"),
        {
            "incident": incident.pk,
            "stakeholder": made.json()["id"],
            "channel": "phone",
            "summary": "Menjelaskan kronologi.",
            "promised": "Pernyataan resmi pukul 15.00.",
            "follow_up_due": (timezone.now() + timedelta(hours=2)).isoformat(),
        },
        format="json",
    )
    assert logged.status_code == 201, logged.content
    entry = TimelineEntry.objects.get(incident=incident, kind="stakeholder")
    assert not entry.visible_to_client and "Pernyataan resmi" in entry.text
    client_view = api(members[Role.CLIENT]).get(url(tenant, "stakeholder-interaction")).json()
    assert (client_view["results"] if isinstance(client_view, dict) else client_view) == []

    reply = responder.post(
        url(tenant, "right-of-reply"),
        {
            "incident": incident.pk,
            "outlet": made.json()["id"],
            "article_url": "https://berita.example/1",
            "request_sent_at": timezone.now().isoformat(),
            "answer_due_at": (timezone.now() + timedelta(days=2)).isoformat(),
        },
        format="json",
    )
    assert reply.status_code == 201, reply.content
    published = responder.patch(
        url(tenant, "right-of-reply", reply.json()["id"]), {"published": True}, format="json"
    )
    assert published.status_code == 200 and published.json()["published_at"] is not None
    assert TimelineEntry.objects.filter(incident=incident, kind="right_of_reply").count() == 2
    in_use = responder.delete(url(tenant, "stakeholder", made.json()["id"]))
    assert in_use.status_code == 400
