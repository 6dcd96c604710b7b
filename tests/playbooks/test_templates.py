"""Playbook templates over REST, GraphQL and the admin: agency- or tenant-owned, conditions,
ordered steps (a negative offset or a dependency cycle answers 400 on ``steps``), guidance and
key messages; who may write which; every change a new version."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from playbooks import services
from playbooks.models import Playbook, PlaybookStep, PlaybookVersion
from tenants.roles import Role
from tests.factories import TenantFactory, UserFactory

STEPS = [
    {"key": "verify", "title": "Verify the claim", "role": "analyst", "due_offset_minutes": 30},
    {
        "key": "correct",
        "title": "Publish the correction",
        "role": "communications",
        "due_offset_minutes": 90,
        "checklist": ["Evidence", "Visual"],
        "depends_on": ["verify"],
    },
]
BODY = {
    "name": "Hoaks produk",
    "language": "id",
    "trigger_types": ["hoax"],
    "min_severity": "sev3",
    "tags": ["produk"],
    "do_guidance": ["Tetap tenang."],
    "dont_guidance": ["Jangan berdebat dengan publik."],
    "key_messages": ["Informasi yang beredar tidak benar."],
    "steps": STEPS,
}


def url(tenant: Any, pk: int | None = None) -> str:
    if pk is None:
        return reverse("playbook-list", kwargs={"tenant_slug": tenant.slug})
    return reverse("playbook-detail", kwargs={"tenant_slug": tenant.slug, "pk": pk})


@pytest.fixture
def agency_admin(tenant: Any) -> Any:
    return UserFactory(email="boss@agency.test", agency=tenant.agency, is_agency_admin=True)


def error(response: Any) -> tuple[str, str]:
    first = response.json()["errors"][0]
    return first["attr"], first["code"]


def test_an_admin_creates_a_tenant_playbook_with_ordered_steps(
    api: Any, tenant: Any, members: Any
) -> None:
    response = api(members[Role.ADMIN]).post(url(tenant), BODY, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["owner"] == "tenant" and body["version"] == 1
    assert [s["key"] for s in body["steps"]] == ["verify", "correct"]
    assert body["steps"][1]["depends_on"] == ["verify"]
    playbook = Playbook.objects.get(pk=body["id"])
    assert playbook.tenant == tenant and playbook.agency == tenant.agency
    assert PlaybookVersion.objects.filter(playbook=playbook).count() == 1


@pytest.mark.parametrize(
    ("steps", "code"),
    [
        ([{**STEPS[0], "due_offset_minutes": -5}], "min_value"),
        (
            [
                {**STEPS[0], "depends_on": ["correct"]},
                STEPS[1],
            ],
            "cycle",
        ),
        ([{**STEPS[0], "depends_on": ["verify"]}], "cycle"),
        ([{**STEPS[0], "depends_on": ["nothing"]}], "unknown_step"),
        ([STEPS[0], {**STEPS[1], "key": "verify"}], "unique"),
        ([{**STEPS[0], "role": "boss"}], "invalid_choice"),
    ],
    ids=["negative-offset", "cycle", "self", "unknown", "duplicate-key", "role"],
)
def test_bad_steps_answer_400_on_steps_and_store_nothing(
    api: Any, tenant: Any, members: Any, steps: Any, code: str
) -> None:
    response = api(members[Role.ADMIN]).post(url(tenant), {**BODY, "steps": steps}, format="json")
    assert response.status_code == 400, response.content
    attr, found = error(response)
    assert attr.startswith("steps") and found == code, response.json()
    assert not Playbook.objects.exists()


def test_a_cycle_through_an_update_is_refused_and_keeps_the_old_steps(
    api: Any, tenant: Any, members: Any
) -> None:
    playbook = services.create_playbook(tenant=tenant, name="A", steps=STEPS)
    cyclic = [{**STEPS[0], "depends_on": ["correct"]}, STEPS[1]]
    response = api(members[Role.ADMIN]).patch(
        url(tenant, playbook.pk), {"steps": cyclic}, format="json"
    )
    assert response.status_code == 400 and error(response) == ("steps", "cycle")
    assert list(
        PlaybookStep.objects.filter(playbook=playbook).values_list("key", "depends_on")
    ) == [
        ("verify", []),
        ("correct", ["verify"]),
    ]
    playbook.refresh_from_db()
    assert playbook.version == 1


def test_every_change_is_a_new_version_with_its_snapshot(
    api: Any, tenant: Any, members: Any
) -> None:
    playbook = services.create_playbook(tenant=tenant, name="A", steps=STEPS)
    response = api(members[Role.ADMIN]).patch(
        url(tenant, playbook.pk), {"key_messages": ["Kami mendengar."]}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["version"] == 2
    versions = PlaybookVersion.objects.filter(playbook=playbook).order_by("number")
    assert [v.number for v in versions] == [1, 2]
    assert versions[0].snapshot["key_messages"] == []
    assert versions[1].snapshot["key_messages"] == ["Kami mendengar."]
    # the same value again changes nothing
    api(members[Role.ADMIN]).patch(
        url(tenant, playbook.pk), {"key_messages": ["Kami mendengar."]}, format="json"
    )
    assert PlaybookVersion.objects.filter(playbook=playbook).count() == 2


def test_agency_playbooks_are_written_by_agency_admins_only(
    api: Any, tenant: Any, members: Any, agency_admin: Any
) -> None:
    body = {**BODY, "owner": "agency"}
    refused = api(members[Role.ADMIN]).post(url(tenant), body, format="json")
    assert refused.status_code == 403, refused.content
    assert not Playbook.objects.exists()
    created = api(agency_admin).post(url(tenant), body, format="json")
    assert created.status_code == 201, created.content
    playbook = Playbook.objects.get(pk=created.json()["id"])
    assert playbook.tenant is None and playbook.owner == "agency"
    # a tenant admin reads it, but may not change or delete it
    client = api(members[Role.ADMIN])
    assert client.get(url(tenant, playbook.pk)).status_code == 200
    assert client.patch(url(tenant, playbook.pk), {"name": "X"}, format="json").status_code == 403
    assert client.delete(url(tenant, playbook.pk)).status_code == 403
    playbook.refresh_from_db()
    assert playbook.name == BODY["name"]
    assert api(agency_admin).delete(url(tenant, playbook.pk)).status_code == 204
    assert not Playbook.objects.filter(pk=playbook.pk).exists()


def test_a_tenant_sees_its_own_and_its_agencys_playbooks_only(
    api: Any, tenant: Any, other_tenant: Any, members: Any
) -> None:
    sibling = TenantFactory(agency=tenant.agency)
    own = services.create_playbook(tenant=tenant, name="Own")
    shared = services.create_playbook(tenant=tenant, name="Shared", owner="agency")
    services.create_playbook(tenant=sibling, name="Sibling's")
    services.create_playbook(tenant=other_tenant, name="Other agency's", owner="agency")
    for role in Role:
        response = api(members[role]).get(url(tenant))
        assert response.status_code == 200, (role, response.content)
        names = {row["name"] for row in response.json()["results"]}
        assert names == {own.name, shared.name}, role
    missing = api(members[Role.ADMIN]).get(url(tenant, Playbook.objects.get(name="Sibling's").pk))
    assert missing.status_code == 404


def test_only_admins_manage_tenant_playbooks(api: Any, tenant: Any, members: Any) -> None:
    for role in (Role.ANALYST, Role.RESPONDER, Role.APPROVER, Role.CLIENT):
        response = api(members[role]).post(url(tenant), BODY, format="json")
        assert response.status_code == 403, role
        assert response.json()["errors"][0]["code"] == "missing_capability"
    assert not Playbook.objects.exists()


def test_graphql_lists_the_same_playbooks(gql: Any, tenant: Any, members: Any) -> None:
    services.create_playbook(tenant=tenant, name="Own", steps=STEPS)
    services.create_playbook(tenant=tenant, name="Shared", owner="agency")
    body = gql(
        "query($slug: String!) { playbooks(slug: $slug) { id name owner steps key_messages } }",
        user=members[Role.CLIENT],
        variables={"slug": tenant.slug},
    )
    rows = body["data"]["playbooks"]
    assert [(r["name"], r["owner"]) for r in rows] == [("Own", "tenant"), ("Shared", "agency")]
    assert [s["key"] for s in rows[0]["steps"]] == ["verify", "correct"]


def test_the_admin_saves_a_playbook_with_inline_steps_through_the_services(
    client: Any, tenant: Any, agency_admin: Any
) -> None:
    agency_admin.is_staff = True
    agency_admin.language = "en"  # the page's errors are read in English here
    agency_admin.save()
    client.force_login(agency_admin)
    form = {
        "agency": tenant.agency.pk,
        "tenant": "",
        "name": "Agency plan",
        "description": "",
        "language": "id",
        "trigger_types": "hoax",
        "min_severity": "sev4",
        "tags": "",
        "do_guidance": "[]",
        "dont_guidance": "[]",
        "key_messages": '["Kami peduli."]',
        "is_active": "on",
        "steps-TOTAL_FORMS": "2",
        "steps-INITIAL_FORMS": "0",
        "steps-MIN_NUM_FORMS": "0",
        "steps-MAX_NUM_FORMS": "1000",
        "steps-0-position": "1",
        "steps-0-key": "verify",
        "steps-0-title": "Verify",
        "steps-0-role": "analyst",
        "steps-0-due_offset_minutes": "30",
        "steps-0-checklist": "[]",
        "steps-0-depends_on": "correct",
        "steps-0-visible_to_client": "on",
        "steps-1-position": "2",
        "steps-1-key": "correct",
        "steps-1-title": "Correct",
        "steps-1-role": "communications",
        "steps-1-due_offset_minutes": "60",
        "steps-1-checklist": "[]",
        "steps-1-depends_on": "verify",
        "steps-1-visible_to_client": "on",
    }
    add = reverse("admin:playbooks_playbook_add")
    refused = client.post(add, form)
    assert refused.status_code == 200
    assert "make a cycle" in refused.content.decode()
    assert not Playbook.objects.exists()
    form["steps-0-depends_on"] = ""
    saved = client.post(add, form)
    assert saved.status_code == 302, saved.content.decode()[:3000]
    playbook = Playbook.objects.get()
    assert playbook.tenant is None
    assert list(playbook.steps.values_list("key", "depends_on")) == [
        ("verify", []),
        ("correct", ["verify"]),
    ]


def test_a_duplicate_name_answers_400_on_name(api: Any, tenant: Any, members: Any) -> None:
    services.create_playbook(tenant=tenant, name=BODY["name"], language="id")
    response = api(members[Role.ADMIN]).post(url(tenant), BODY, format="json")
    assert response.status_code == 400 and error(response) == ("name", "unique")
    # the same name in the other language, or owned by the agency, is another playbook
    english = api(members[Role.ADMIN]).post(url(tenant), {**BODY, "language": "en"}, format="json")
    assert english.status_code == 201, english.content
    assert Playbook.objects.count() == 2


def test_the_admin_lists_and_edits_the_agencys_playbooks_only(
    client: Any, tenant: Any, other_tenant: Any, agency_admin: Any
) -> None:
    agency_admin.is_staff = True
    agency_admin.save()
    ours = services.create_playbook(tenant=tenant, name="Ours", owner="agency", steps=STEPS)
    services.create_playbook(tenant=tenant, name="Tenant's", steps=STEPS)
    theirs = services.create_playbook(tenant=other_tenant, name="Theirs", owner="agency")
    client.force_login(agency_admin)
    page = client.get(reverse("admin:playbooks_playbook_changelist")).content.decode()
    assert "Ours" in page and "Tenant&#x27;s" in page and "Theirs" not in page
    assert client.get(reverse("admin:playbooks_playbook_change", args=[theirs.pk])).status_code in (
        302,
        404,
    )
    change = reverse("admin:playbooks_playbook_change", args=[ours.pk])
    assert client.get(change).status_code == 200
    steps = list(ours.steps.order_by("position"))
    form = {
        "name": "Ours, renamed",
        "description": "",
        "language": "",
        "trigger_types": "",
        "min_severity": "sev4",
        "tags": "",
        "do_guidance": "[]",
        "dont_guidance": "[]",
        "key_messages": "[]",
        "is_active": "on",
        "steps-TOTAL_FORMS": "2",
        "steps-INITIAL_FORMS": "2",
        "steps-MIN_NUM_FORMS": "0",
        "steps-MAX_NUM_FORMS": "1000",
    }
    for index, step in enumerate(steps):
        form.update(
            {
                f"steps-{index}-id": str(step.pk),
                f"steps-{index}-playbook": str(ours.pk),
                f"steps-{index}-position": str(step.position),
                f"steps-{index}-key": step.key,
                f"steps-{index}-title": step.title,
                f"steps-{index}-role": step.role,
                f"steps-{index}-due_offset_minutes": str(step.due_offset_minutes),
                f"steps-{index}-checklist": "[]",
                f"steps-{index}-depends_on": ",".join(step.depends_on),
                f"steps-{index}-visible_to_client": "on",
            }
        )
    form["steps-1-DELETE"] = "on"
    form["steps-0-due_offset_minutes"] = "-5"
    refused = client.post(change, form)
    assert refused.status_code == 200
    assert ours.steps.count() == 2
    form["steps-0-due_offset_minutes"] = "15"
    saved = client.post(change, form)
    assert saved.status_code == 302, saved.content.decode()[:2000]
    ours.refresh_from_db()
    assert ours.name == "Ours, renamed" and ours.version == 3
    assert list(ours.steps.values_list("key", "due_offset_minutes")) == [("verify", 15)]
