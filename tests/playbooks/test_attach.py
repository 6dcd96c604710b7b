"""Attach and run: matching playbooks attach once per incident when it opens or its severity,
trigger or tags change, from the snapshot of their current version, and make tasks with owners
from the incident roles and due times; by hand over REST and the admin; the response advice
per incident; the key messages seam; starter content and the demo."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from incidents import services
from incidents.authority import SYSTEM
from incidents.models import Incident, IncidentPlaybook, IncidentTask, ResponseAdvice
from incidents.playbooks import attached_key_messages
from playbooks import services as playbook_services
from playbooks.models import Playbook
from tenants.roles import Role
from tests.factories import UserFactory
from tests.incidents.factories import IncidentFactory, RolePolicyFactory

STEPS = [
    {"key": "verify", "title": "Verify", "role": "analyst", "due_offset_minutes": 30},
    {
        "key": "reply",
        "title": "Reply",
        "role": "communications",
        "due_offset_minutes": 90,
        "checklist": ["Draft", "Legal read"],
        "depends_on": ["verify"],
    },
]


def url(tenant: Any, name: str, pk: int | None = None) -> str:
    if pk is None:
        return reverse(f"{name}-list", kwargs={"tenant_slug": tenant.slug})
    return reverse(f"{name}-detail", kwargs={"tenant_slug": tenant.slug, "pk": pk})


def hoax_playbook(tenant: Any, **values: Any) -> Playbook:
    values.setdefault("trigger_types", ["hoax"])
    return playbook_services.create_playbook(
        tenant=tenant, name=values.pop("name", "Hoax plan"), steps=STEPS, **values
    )


def attachments(incident: Incident) -> list[IncidentPlaybook]:
    return list(IncidentPlaybook.objects.filter(incident=incident).order_by("pk"))


def test_an_opened_incident_runs_the_matching_playbook(api: Any, tenant: Any, members: Any) -> None:
    playbook = hoax_playbook(tenant, key_messages=["Informasi itu tidak benar."])
    hoax_playbook(tenant, name="Other trigger", trigger_types=["cyber_attack"])
    RolePolicyFactory(tenant=tenant, role="analyst", user=members[Role.ANALYST])
    response = api(members[Role.RESPONDER]).post(
        url(tenant, "incident"),
        {"title": "Hoaks viral", "trigger": "hoax", "severity": "sev2"},
        format="json",
    )
    assert response.status_code == 201, response.content
    incident = Incident.objects.get(pk=response.json()["id"])
    [attachment] = attachments(incident)
    assert attachment.playbook_id == playbook.pk and attachment.version == 1
    assert not attachment.by_hand
    tasks = {t.title: t for t in IncidentTask.objects.filter(incident=incident)}
    assert set(tasks) == {"Verify", "Reply"}
    assert attachment.task_ids == {"verify": tasks["Verify"].pk, "reply": tasks["Reply"].pk}
    assert tasks["Verify"].owner == members[Role.ANALYST]  # from the role policy
    assert tasks["Reply"].owner is None  # nobody is the communications lead yet
    assert tasks["Verify"].due_at == incident.detected_at + timedelta(minutes=30)
    assert tasks["Reply"].due_at == incident.detected_at + timedelta(minutes=90)
    assert tasks["Reply"].depends_on == [tasks["Verify"].pk]
    assert tasks["Reply"].checklist == [
        {"text": "Draft", "done": False},
        {"text": "Legal read", "done": False},
    ]
    # a role given later makes its holder the owner of the unowned tasks of that role
    services.assign_role(incident=incident, user=members[Role.RESPONDER], role="communications")
    tasks["Reply"].refresh_from_db()
    assert tasks["Reply"].owner == members[Role.RESPONDER]
    assert attached_key_messages(incident) == ("Informasi itu tidak benar.",)


def test_severity_trigger_and_tag_changes_attach_what_matches_now_once(
    tenant: Any, members: Any
) -> None:
    severe = hoax_playbook(tenant, name="Severe hoax", min_severity="sev2")
    tagged = hoax_playbook(tenant, name="Product hoax", tags=["produk"])
    news = hoax_playbook(tenant, name="News", trigger_types=["negative_news"])
    incident = services.open_incident(
        tenant=tenant, title="Rumour", trigger="hoax", severity="sev3"
    )
    assert [a.playbook_id for a in attachments(incident)] == []
    services.change_severity(incident=incident, severity="sev2", authority=SYSTEM)
    assert [a.playbook_id for a in attachments(incident)] == [severe.pk]
    services.change_severity(incident=incident, severity="sev3", authority=SYSTEM)
    services.change_severity(incident=incident, severity="sev1", authority=SYSTEM)
    assert [a.playbook_id for a in attachments(incident)] == [severe.pk]  # once
    services.update_incident(instance=incident, tags=["Produk"], authority=SYSTEM)
    services.update_incident(instance=incident, trigger="negative_news", authority=SYSTEM)
    assert [a.playbook_id for a in attachments(incident)] == [severe.pk, tagged.pk, news.pk]
    assert IncidentTask.objects.filter(incident=incident).count() == 6


def test_only_the_tenants_language_and_active_playbooks_attach(tenant: Any) -> None:
    assert tenant.default_language == "id"
    hoax_playbook(tenant, name="English", language="en")
    hoax_playbook(tenant, name="Inactive", is_active=False)
    indonesian = hoax_playbook(tenant, name="Indonesian", language="id")
    agency = hoax_playbook(tenant, name="Agency", owner="agency")
    incident = services.open_incident(tenant=tenant, title="Rumour", trigger="hoax")
    assert {a.playbook_id for a in attachments(incident)} == {indonesian.pk, agency.pk}


def test_editing_the_template_never_changes_a_running_incident(
    api: Any, tenant: Any, members: Any
) -> None:
    playbook = hoax_playbook(tenant)
    incident = services.open_incident(tenant=tenant, title="Rumour", trigger="hoax")
    [before] = attachments(incident)
    response = api(members[Role.ADMIN]).patch(
        url(tenant, "playbook", playbook.pk),
        {"name": "Renamed", "steps": [{**STEPS[0], "title": "Verify twice"}]},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["version"] == 2
    [after] = attachments(incident)
    assert (after.name, after.version, after.snapshot) == (before.name, 1, before.snapshot)
    assert [s["title"] for s in after.snapshot["steps"]] == ["Verify", "Reply"]
    assert set(IncidentTask.objects.filter(incident=incident).values_list("title", flat=True)) == {
        "Verify",
        "Reply",
    }
    # a new incident gets the new version
    fresh = services.open_incident(tenant=tenant, title="Again", trigger="hoax")
    [attached] = attachments(fresh)
    assert attached.version == 2 and attached.name == "Renamed"
    # deleting the template keeps the snapshots
    playbook_services.delete_playbook(instance=playbook)
    assert attachments(incident)[0].snapshot == before.snapshot


def test_a_playbook_is_attached_by_hand_once(
    api: Any, tenant: Any, other_tenant: Any, members: Any
) -> None:
    playbook = hoax_playbook(tenant, trigger_types=["cyber_attack"])
    foreign = hoax_playbook(other_tenant, name="Theirs")
    incident = IncidentFactory(tenant=tenant, trigger="hoax")
    client = api(members[Role.RESPONDER])
    refused = client.post(
        url(tenant, "incident-playbook"),
        {"incident": incident.pk, "playbook": foreign.pk},
        format="json",
    )
    assert refused.status_code == 400, refused.content
    assert refused.json()["errors"][0]["attr"] == "playbook"
    response = client.post(
        url(tenant, "incident-playbook"),
        {"incident": incident.pk, "playbook": playbook.pk},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["by_hand"] is True and len(response.json()["task_ids"]) == 2
    again = client.post(
        url(tenant, "incident-playbook"),
        {"incident": incident.pk, "playbook": playbook.pk},
        format="json",
    )
    assert again.status_code == 400
    assert (again.json()["errors"][0]["attr"], again.json()["errors"][0]["code"]) == (
        "playbook",
        "unique",
    )
    assert IncidentTask.objects.filter(incident=incident).count() == 2
    # the client role reads neither attachments nor advice
    assert api(members[Role.CLIENT]).get(url(tenant, "incident-playbook")).status_code == 403


def test_nothing_attaches_to_a_closed_incident(tenant: Any) -> None:
    playbook = hoax_playbook(tenant, trigger_types=["cyber_attack"])
    incident = services.open_incident(tenant=tenant, title="False alarm", trigger="hoax")
    services.transition_incident(incident=incident, to="closed", authority=SYSTEM)
    incident.refresh_from_db()
    from django.core.exceptions import ValidationError

    from incidents.playbooks import attach_playbook

    with pytest.raises(ValidationError) as refused:
        attach_playbook(incident=incident, playbook=playbook)
    assert "incident" in refused.value.message_dict


# --- response advice ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("trigger", "cluster", "posture"),
    [
        ("hoax", "victim", "correct_record"),
        ("cyber_attack", "victim", "inform_and_protect"),
        ("provocation", "accidental", "diminish"),
        ("unexpected_event", "accidental", "diminish"),
        ("negative_news", "accidental", "diminish"),
        ("negative_perception", "accidental", "diminish"),
    ],
)
def test_each_incident_gets_advice_from_its_trigger(
    tenant: Any, trigger: str, cluster: str, posture: str
) -> None:
    incident = services.open_incident(tenant=tenant, title="X", trigger=trigger)
    advice = ResponseAdvice.objects.get(incident=incident)
    assert (advice.cluster, advice.posture, advice.similar_incidents) == (cluster, posture, 0)
    assert advice.reasoning  # in the tenant's language (Indonesian)
    assert "Klaster" in advice.reasoning


def test_a_crisis_history_moves_the_cluster_up_to_rebuild(tenant: Any, other_tenant: Any) -> None:
    old = timezone.now() - timedelta(days=4000)
    services.open_incident(
        tenant=tenant, title="Long ago", trigger="negative_news", detected_at=old
    )
    services.open_incident(tenant=tenant, title="Drill", trigger="negative_news", is_drill=True)
    services.open_incident(tenant=other_tenant, title="Elsewhere", trigger="negative_news")
    first = services.open_incident(tenant=tenant, title="First", trigger="negative_news")
    assert ResponseAdvice.objects.get(incident=first).cluster == "accidental"
    second = services.open_incident(tenant=tenant, title="Second", trigger="negative_news")
    advice = ResponseAdvice.objects.get(incident=second)
    assert (advice.cluster, advice.posture, advice.similar_incidents) == (
        "preventable",
        "rebuild",
        1,
    )
    assert "dapat dicegah" in advice.reasoning.lower()


def test_the_commander_edits_the_advice_and_it_stays(api: Any, tenant: Any, members: Any) -> None:
    incident = services.open_incident(tenant=tenant, title="Hoaks", trigger="hoax")
    services.assign_role(incident=incident, user=members[Role.ADMIN], role="commander")
    advice = ResponseAdvice.objects.get(incident=incident)
    detail = url(tenant, "response-advice", advice.pk)
    # a responder who is not the commander lacks the commander's powers
    refused = api(members[Role.RESPONDER]).patch(detail, {"posture": "rebuild"}, format="json")
    assert refused.status_code == 403, refused.content
    bad = api(members[Role.ADMIN]).patch(detail, {"posture": "shout"}, format="json")
    assert bad.status_code == 400
    assert (bad.json()["errors"][0]["attr"], bad.json()["errors"][0]["code"]) == (
        "posture",
        "invalid_choice",
    )
    response = api(members[Role.ADMIN]).patch(
        detail,
        {"cluster": "preventable", "posture": "rebuild", "reasoning": "Produk kami memang cacat."},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["is_edited"] is True
    # a trigger change no longer re-derives an edited advice
    services.update_incident(instance=incident, trigger="negative_news", authority=SYSTEM)
    advice.refresh_from_db()
    assert (advice.cluster, advice.posture) == ("preventable", "rebuild")


def test_an_unedited_advice_follows_the_trigger(tenant: Any) -> None:
    incident = services.open_incident(tenant=tenant, title="X", trigger="negative_news")
    services.update_incident(instance=incident, trigger="hoax", authority=SYSTEM)
    advice = ResponseAdvice.objects.get(incident=incident)
    assert (advice.cluster, advice.posture, advice.derived_from) == (
        "victim",
        "correct_record",
        "hoax",
    )


def test_graphql_reads_attachments_and_advice_for_staff(
    gql: Any, tenant: Any, members: Any
) -> None:
    hoax_playbook(tenant)
    incident = services.open_incident(tenant=tenant, title="Hoaks", trigger="hoax")
    query = (
        "query($slug: String!, $incident: ID) { "
        "incident_playbooks(slug: $slug, incident: $incident) { name version task_ids } "
        "incident_advice(slug: $slug, incident: $incident) { cluster posture is_edited } }"
    )
    body = gql(
        query,
        user=members[Role.APPROVER],
        variables={"slug": tenant.slug, "incident": str(incident.pk)},
    )
    assert body["data"]["incident_playbooks"][0]["name"] == "Hoax plan"
    assert body["data"]["incident_advice"] == [
        {"cluster": "victim", "posture": "correct_record", "is_edited": False}
    ]


# --- starter content and the demo --------------------------------------------------------------


def test_the_starter_playbooks_cover_every_trigger_in_both_languages(tenant: Any) -> None:
    created = playbook_services.load_starter_playbooks(agency=tenant.agency)
    assert len(created) == 12
    assert playbook_services.load_starter_playbooks(agency=tenant.agency) == []  # idempotent
    from tenants.choices import CrisisTrigger

    for language in ("id", "en"):
        rows = Playbook.objects.filter(language=language, tenant__isnull=True)
        covered = {trigger for p in rows for trigger in p.trigger_types}
        assert covered == set(CrisisTrigger.values), language
        for playbook in rows:
            assert playbook.steps.count() >= 3 and playbook.key_messages
            assert len(playbook.do_guidance) >= 5 and len(playbook.dont_guidance) >= 3
    # the do and don't guidance of the issue, in both languages
    english = Playbook.objects.get(language="en", starter_key="hoax")
    text = " ".join(english.do_guidance + english.dont_guidance).lower()
    for phrase in ("stay calm", "never ignore negative posts", "answer fast", "transparent"):
        assert phrase in text
    assert "apologise when" in text and "never argue with the public" in text


def test_the_demo_incident_runs_a_starter_playbook(tenant: Any, members: Any) -> None:
    from incidents.demo import seed_incident

    output = seed_incident(tenant)
    assert "1 playbook attached" in output, output
    incident = Incident.objects.get(title__startswith="Demo:")
    [attachment] = attachments(incident)
    assert attachment.snapshot["language"] == "id"
    tasks = IncidentTask.objects.filter(pk__in=attachment.task_ids.values())
    assert tasks.filter(status="in_progress").count() == 1
    assert tasks.filter(owner__isnull=False).count() == tasks.count()
    assert "kept" in seed_incident(tenant)
    assert len(attachments(incident)) == 1


def test_the_admin_attaches_a_playbook_by_hand(client: Any, tenant: Any) -> None:
    playbook = hoax_playbook(tenant, trigger_types=["cyber_attack"])
    incident = IncidentFactory(tenant=tenant, trigger="hoax")
    admin = UserFactory(agency=tenant.agency, is_agency_admin=True, is_staff=True)
    client.force_login(admin)
    response = client.post(
        reverse("admin:incidents_incidentplaybook_add"),
        {"tenant": tenant.pk, "incident": incident.pk, "playbook": playbook.pk},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    [attachment] = attachments(incident)
    assert attachment.by_hand and len(attachment.task_ids) == 2
    page = client.get(reverse("admin:incidents_incident_change", args=[incident.pk]))
    assert page.status_code == 200 and "Hoax plan" in page.content.decode()


def test_graphql_changes_the_advice_with_the_commanders_powers_only(
    gql: Any, tenant: Any, members: Any
) -> None:
    incident = services.open_incident(tenant=tenant, title="Hoaks", trigger="hoax")
    services.assign_role(incident=incident, user=members[Role.ADMIN], role="commander")
    advice = ResponseAdvice.objects.get(incident=incident)
    mutation = (
        "mutation($slug: String!, $id: ID!, $posture: String) { "
        "update_incident_advice(slug: $slug, id: $id, posture: $posture) { posture is_edited } }"
    )
    variables = {"slug": tenant.slug, "id": str(advice.pk), "posture": "rebuild"}
    refused = gql(mutation, user=members[Role.RESPONDER], variables=variables)
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    bad = gql(mutation, user=members[Role.ADMIN], variables={**variables, "posture": "shout"})
    assert bad["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "posture"}
    done = gql(mutation, user=members[Role.ADMIN], variables=variables)
    assert done["data"]["update_incident_advice"] == {"posture": "rebuild", "is_edited": True}


def test_a_role_holder_who_left_the_tenant_owns_nothing_and_blocks_nothing(
    tenant: Any, members: Any
) -> None:
    from tenants.models import Membership

    severe = hoax_playbook(tenant, name="Severe", min_severity="sev1")
    incident = services.open_incident(tenant=tenant, title="Rumour", trigger="hoax")
    services.assign_role(incident=incident, user=members[Role.ANALYST], role="analyst")
    Membership.objects.filter(tenant=tenant, user=members[Role.ANALYST]).delete()
    services.change_severity(incident=incident, severity="sev1", authority=SYSTEM)
    [attachment] = attachments(incident)
    assert attachment.playbook_id == severe.pk
    verify = IncidentTask.objects.get(pk=attachment.task_ids["verify"])
    assert verify.owner is None
