"""Bad input answers 4xx naming the field and the reason, and changes nothing: a role given to
a non-member, a task owner from another tenant, a dependency cycle, a bad checklist; one
commander at a time; the timeline is append-only and records every change."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from incidents import services
from incidents.models import IncidentMember, IncidentTask, TimelineEntry
from tenants.roles import Role
from tests.factories import UserFactory
from tests.incidents.factories import IncidentFactory, RolePolicyFactory


def url(tenant: Any, name: str) -> str:
    return reverse(f"{name}-list", kwargs={"tenant_slug": tenant.slug})


def entries(incident: Any) -> int:
    return TimelineEntry.objects.filter(incident=incident).count()


def test_a_role_for_a_non_member_is_refused_on_user(
    api: Any, tenant: Any, other_tenant: Any, members: Any, outsider: Any
) -> None:
    incident = IncidentFactory(tenant=tenant)
    before = entries(incident)
    stranger = UserFactory(agency=tenant.agency)  # same agency, no membership
    for user in (outsider, stranger):
        response = api(members[Role.RESPONDER]).post(
            url(tenant, "incident-member"),
            {"incident": incident.pk, "user": user.pk, "role": "analyst"},
            format="json",
        )
        assert response.status_code == 400, response.content
        error = response.json()["errors"][0]
        assert (error["attr"], error["code"]) == ("user", "not_a_member")
    assert not IncidentMember.objects.filter(incident=incident).exists()
    assert entries(incident) == before


def test_one_commander_at_a_time_and_only_a_manager_commands(tenant: Any, members: Any) -> None:
    incident = IncidentFactory(tenant=tenant)
    services.assign_role(incident=incident, user=members[Role.RESPONDER], role="commander")
    services.assign_role(incident=incident, user=members[Role.ADMIN], role="commander")
    commanders = IncidentMember.objects.filter(incident=incident, role="commander")
    assert [m.user for m in commanders] == [members[Role.ADMIN]]
    with pytest.raises(ValidationError) as refused:
        services.assign_role(incident=incident, user=members[Role.CLIENT], role="commander")
    assert refused.value.message_dict.keys() == {"user"}
    # the client may hold the client approver role
    services.assign_role(incident=incident, user=members[Role.CLIENT], role="client_approver")
    team = TimelineEntry.objects.filter(incident=incident, kind="team")
    assert team.count() == 3 and not any(e.visible_to_client for e in team)


def test_a_task_owner_from_another_tenant_is_refused_on_owner(
    api: Any, tenant: Any, members: Any, outsider: Any
) -> None:
    incident = IncidentFactory(tenant=tenant)
    before = entries(incident)
    response = api(members[Role.RESPONDER]).post(
        url(tenant, "incident-task"),
        {"incident": incident.pk, "title": "Hubungi media", "owner": outsider.pk},
        format="json",
    )
    assert response.status_code == 400, response.content
    assert response.json()["errors"][0]["attr"] == "owner"
    assert not IncidentTask.objects.filter(incident=incident).exists()
    assert entries(incident) == before


def test_a_dependency_cycle_is_refused_on_depends_on(api: Any, tenant: Any, members: Any) -> None:
    incident = IncidentFactory(tenant=tenant)
    first = services.create_task(incident=incident, title="Kumpulkan bukti")
    second = services.create_task(
        incident=incident, title="Draf klarifikasi", depends_on=[first.pk]
    )
    third = services.create_task(incident=incident, title="Terbitkan", depends_on=[second.pk])
    before = entries(incident)
    client = api(members[Role.RESPONDER])
    detail = reverse("incident-task-detail", kwargs={"tenant_slug": tenant.slug, "pk": first.pk})
    response = client.patch(detail, {"depends_on": [third.pk]}, format="json")
    assert response.status_code == 400, response.content
    error = response.json()["errors"][0]
    assert (error["attr"], error["code"]) == ("depends_on", "cycle")
    first.refresh_from_db()
    assert first.depends_on == [] and entries(incident) == before
    # a task of another incident is no dependency either
    elsewhere = services.create_task(incident=IncidentFactory(tenant=tenant), title="Lain")
    response = client.patch(detail, {"depends_on": [elsewhere.pk]}, format="json")
    assert response.json()["errors"][0]["attr"] == "depends_on"
    # and a task cannot start before what it depends on is finished
    response = client.patch(
        reverse("incident-task-detail", kwargs={"tenant_slug": tenant.slug, "pk": second.pk}),
        {"status": "in_progress"},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "blocked"


@pytest.mark.parametrize(
    "checklist",
    ["do it", [{"text": ""}], [{"text": "ok", "done": "yes"}], [{"text": "x", "who": 1}]],
)
def test_a_bad_checklist_is_refused_on_checklist(
    api: Any, tenant: Any, members: Any, checklist: Any
) -> None:
    incident = IncidentFactory(tenant=tenant)
    response = api(members[Role.RESPONDER]).post(
        url(tenant, "incident-task"),
        {"incident": incident.pk, "title": "Cek", "checklist": checklist},
        format="json",
    )
    assert response.status_code == 400, response.content
    assert response.json()["errors"][0]["attr"] == "checklist"


def test_the_timeline_is_append_only(tenant: Any) -> None:
    incident = services.open_incident(tenant=tenant, title="Hoaks", trigger="hoax")
    entry = TimelineEntry.objects.get(incident=incident, kind="created")
    entry.text = "rewritten"
    with pytest.raises(ValidationError):
        entry.save()


def test_every_change_is_on_the_timeline(tenant: Any, members: Any) -> None:
    incident = services.open_incident(tenant=tenant, title="Hoaks", trigger="hoax")
    services.update_incident(instance=incident, summary="Video lama diedit.")
    services.change_severity(incident=incident, severity="sev1", reason="Viral di TikTok.")
    services.assign_role(incident=incident, user=members[Role.ANALYST], role="analyst")
    task = services.create_task(incident=incident, title="Klarifikasi")
    services.update_task(instance=task, status="done")
    services.create_link(incident=incident, kind="url", url="https://cek.example/fakta")
    services.transition_incident(incident=incident, to="responding")
    services.record_statement(incident=incident, text="Klarifikasi resmi terbit.")
    services.add_entry(incident=incident, kind="note", text="Pantau akun penyebar.")
    kinds = list(
        TimelineEntry.objects.filter(incident=incident)
        .order_by("at", "id")
        .values_list("kind", flat=True)
    )
    assert kinds == [
        "created",
        "details",
        "severity",
        "team",
        "task",
        "task",
        "link",
        "status",
        "statement",
        "note",
    ]
    incident.refresh_from_db()
    assert incident.first_statement_at is not None


def test_role_policies_staff_a_new_incident(tenant: Any, members: Any) -> None:
    RolePolicyFactory(tenant=tenant, role="commander", user=members[Role.RESPONDER], trigger="")
    RolePolicyFactory(
        tenant=tenant, role="commander", user=members[Role.ADMIN], trigger="hoax", severity="sev1"
    )
    RolePolicyFactory(tenant=tenant, role="analyst", user=members[Role.ANALYST], trigger="hoax")
    incident = services.open_incident(tenant=tenant, title="Hoaks", trigger="hoax", severity="sev1")
    team = {(m.role, m.user_id) for m in IncidentMember.objects.filter(incident=incident)}
    assert team == {("commander", members[Role.ADMIN].pk), ("analyst", members[Role.ANALYST].pk)}
    other = services.open_incident(tenant=tenant, title="Kritik", trigger="negative_news")
    team = {(m.role, m.user_id) for m in IncidentMember.objects.filter(incident=other)}
    assert team == {("commander", members[Role.RESPONDER].pk)}
