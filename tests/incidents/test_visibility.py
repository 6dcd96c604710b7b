"""The client role sees only visible items, everywhere: REST and GraphQL show it no drills and
only the timeline entries, tasks and links marked ``visible_to_client``; the admin is for staff
only. Staff roles see everything."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from incidents import services
from tenants.roles import Role


def world(tenant: Any, members: Any) -> dict[str, Any]:
    incident = services.open_incident(tenant=tenant, title="Boikot", trigger="provocation")
    drill = services.open_incident(tenant=tenant, title="Latihan", trigger="hoax", is_drill=True)
    note = services.add_entry(incident=incident, kind="note", text="Internal guess.")
    shown = services.add_entry(
        incident=incident, kind="note", text="We are on it.", visible_to_client=True
    )
    legal = services.add_entry(incident=incident, kind="legal_review", text="Hold the reply.")
    task = services.create_task(incident=incident, title="Reply to press")
    hidden_task = services.create_task(
        incident=incident, title="Check the leaker", visible_to_client=False
    )
    drill_task = services.create_task(incident=drill, title="Drill task", visible_to_client=True)
    link = services.create_link(incident=incident, kind="url", url="https://berita.example/a")
    return {
        "incident": incident,
        "drill": drill,
        "visible_entries": {shown.pk},
        "hidden_entries": {note.pk, legal.pk},
        "task": task,
        "hidden_tasks": {hidden_task.pk, drill_task.pk},
        "link": link,
    }


def rest_ids(api: Any, user: Any, tenant: Any, name: str) -> set[int]:
    response = api(user).get(reverse(f"{name}-list", kwargs={"tenant_slug": tenant.slug}))
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def test_the_client_sees_only_visible_items_on_rest(api: Any, tenant: Any, members: Any) -> None:
    w = world(tenant, members)
    client = members[Role.CLIENT]
    assert rest_ids(api, client, tenant, "incident") == {w["incident"].pk}
    entries = rest_ids(api, client, tenant, "timeline-entry")
    assert w["visible_entries"] <= entries and not entries & w["hidden_entries"]
    tasks = rest_ids(api, client, tenant, "incident-task")
    assert tasks == {w["task"].pk}
    assert rest_ids(api, client, tenant, "incident-link") == set()  # links are internal
    drill_detail = reverse(
        "incident-detail", kwargs={"tenant_slug": tenant.slug, "pk": w["drill"].pk}
    )
    assert api(client).get(drill_detail).status_code == 404
    team = reverse("incident-member-list", kwargs={"tenant_slug": tenant.slug})
    assert api(client).get(team).status_code == 403
    # staff see everything
    analyst = members[Role.ANALYST]
    assert rest_ids(api, analyst, tenant, "incident") == {w["incident"].pk, w["drill"].pk}
    assert w["hidden_entries"] <= rest_ids(api, analyst, tenant, "timeline-entry")
    assert w["hidden_tasks"] <= rest_ids(api, analyst, tenant, "incident-task")


def test_the_client_sees_only_visible_items_on_graphql(gql: Any, tenant: Any, members: Any) -> None:
    w = world(tenant, members)
    query = """query($slug: String!) {
        incidents(slug: $slug) { id }
        incident_timeline(slug: $slug) { id visible_to_client }
        incident_tasks(slug: $slug) { id visible_to_client }
    }"""
    body = gql(query, user=members[Role.CLIENT], variables={"slug": tenant.slug})
    assert "errors" not in body, body
    data = body["data"]
    assert {int(row["id"]) for row in data["incidents"]} == {w["incident"].pk}
    assert all(row["visible_to_client"] for row in data["incident_timeline"])
    assert {int(row["id"]) for row in data["incident_tasks"]} == {w["task"].pk}
    staff = gql(query, user=members[Role.RESPONDER], variables={"slug": tenant.slug})["data"]
    assert len(staff["incidents"]) == 2
    assert w["hidden_entries"] <= {int(row["id"]) for row in staff["incident_timeline"]}


def test_the_admin_is_for_staff_only(client: Any, tenant: Any, members: Any) -> None:
    world(tenant, members)
    client.force_login(members[Role.CLIENT])
    for name in ("incident", "timelineentry", "incidenttask"):
        response = client.get(reverse(f"admin:incidents_{name}_changelist"))
        assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_agency_admins_see_the_incident_with_its_inlines(
    client: Any, tenant: Any, members: Any
) -> None:
    w = world(tenant, members)
    staff = members[Role.ADMIN]
    staff.is_staff = True
    staff.is_agency_admin = True
    staff.save()
    client.force_login(staff)
    page = client.get(reverse("admin:incidents_incident_change", args=[w["incident"].pk]))
    assert page.status_code == 200
    text = page.content.decode()
    for seen in ("Internal guess.", "Reply to press", "https://berita.example/a"):
        assert seen in text
