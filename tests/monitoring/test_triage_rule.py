"""One rule, seven adapters: a mention's assignee must be a member of the mention's tenant.

The rule lives in ``monitoring.services`` (``triage_mentions``, of which ``triage_mention`` is
the one-mention case); REST, GraphQL, the admin and a django-q2 task all call it, for one
mention and in bulk (REST ``bulk-triage/``, the GraphQL ``bulk_triage_mentions`` mutation,
the admin's "assign" action). The person refused here is the agency's own staff without a
membership in this tenant: the admin's user picker offers them (they are the agency's), so only
the service's rule stands between them and the assignment (the admin used to skip it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django_q.models import Task
from django_q.tasks import async_task

from monitoring.models import Mention
from tests.conftest import error_codes
from tests.factories import UserFactory
from tests.monitoring.factories import MentionFactory

TRIAGE = """mutation($slug: String!, $id: ID!, $assignee: ID) {
  update_mention_triage(slug: $slug, id: $id, status: "relevant", assignee_id: $assignee) {
    id status assignee { email }
  }
}"""


def via_rest(ctx: dict[str, Any], mention: Mention, assignee: Any) -> bool:
    response = ctx["api"](ctx["members"]["responder"]).patch(
        f"/api/v1/tenants/{mention.tenant.slug}/mentions/{mention.pk}/",
        {"status": "relevant", "assignee": assignee.pk},
        format="json",
    )
    if response.status_code == 400:
        assert response.json()["errors"][0]["attr"] == "assignee"
        assert response.json()["errors"][0]["code"] == "does_not_exist"
        return False
    assert response.status_code == 200, response.content
    return True


def via_graphql(ctx: dict[str, Any], mention: Mention, assignee: Any) -> bool:
    body = ctx["gql"](
        TRIAGE,
        user=ctx["members"]["responder"],
        variables={"slug": mention.tenant.slug, "id": str(mention.pk), "assignee": assignee.pk},
    )
    if body.get("errors"):
        assert error_codes(body) == ["BAD_USER_INPUT"]
        assert body["errors"][0]["extensions"]["field"] == "assignee"
        return False
    return True


def via_admin(ctx: dict[str, Any], mention: Mention, assignee: Any) -> bool:
    staff = UserFactory(  # reads the admin's messages in English
        agency=mention.tenant.agency, is_agency_admin=True, is_staff=True, language="en"
    )
    client = Client()
    client.force_login(staff)
    response = client.post(
        f"/admin/monitoring/mention/{mention.pk}/change/",
        {"status": "relevant", "tags": "", "assignee": assignee.pk},
    )
    if response.status_code == 200:  # the form again, with the service's error
        assert "must be a member" in response.content.decode()  # rendered in English
        return False
    assert response.status_code == 302, response.content
    return True


def via_task(ctx: dict[str, Any], mention: Mention, assignee: Any) -> bool:
    """Through django-q2 (``sync=True`` runs the queued task in this process and re-raises
    its exception)."""
    try:
        task_id = async_task(
            "monitoring.tasks.triage_mention",
            mention.tenant_id,
            mention.pk,
            status="relevant",
            assignee=assignee.pk,
            sync=True,
        )
    except ValidationError as exc:
        assert [error.code for error in exc.error_dict["assignee"]] == ["does_not_exist"]
        return False
    assert Task.objects.get(id=task_id).success
    return True


def via_rest_bulk(ctx: dict[str, Any], mention: Mention, assignee: Any) -> bool:
    response = ctx["api"](ctx["members"]["responder"]).post(
        f"/api/v1/tenants/{mention.tenant.slug}/mentions/bulk-triage/",
        {"ids": [mention.pk], "status": "relevant", "assignee": assignee.pk},
        format="json",
    )
    if response.status_code == 400:
        assert response.json()["errors"][0]["attr"] == "assignee"
        assert response.json()["errors"][0]["code"] == "does_not_exist"
        return False
    assert response.status_code == 200 and response.json()["updated"] == 1, response.content
    return True


BULK = """mutation($slug: String!, $id: ID!, $assignee: ID) {
  bulk_triage_mentions(slug: $slug, ids: [$id], status: "relevant", assignee_id: $assignee) {
    updated
  }
}"""


def via_graphql_bulk(ctx: dict[str, Any], mention: Mention, assignee: Any) -> bool:
    body = ctx["gql"](
        BULK,
        user=ctx["members"]["responder"],
        variables={"slug": mention.tenant.slug, "id": str(mention.pk), "assignee": assignee.pk},
    )
    if body.get("errors"):
        assert error_codes(body) == ["BAD_USER_INPUT"]
        assert body["errors"][0]["extensions"]["field"] == "assignee"
        return False
    return bool(body["data"]["bulk_triage_mentions"]["updated"] == 1)


def via_admin_action(ctx: dict[str, Any], mention: Mention, assignee: Any) -> bool:
    """The "assign" action (by e-mail), then "set status" once the assignment went through."""
    staff = UserFactory(  # reads the admin's messages in English
        agency=mention.tenant.agency, is_agency_admin=True, is_staff=True, language="en"
    )
    client = Client()
    client.force_login(staff)

    def act(action: str, **values: Any) -> str:
        data = {"action": action, "_selected_action": [mention.pk], **values}
        return client.post("/admin/monitoring/mention/", data, follow=True).content.decode()

    assigned = act("assign", assignee=assignee.email)
    if "must be a member" in assigned:
        return False
    assert "1 mentions triaged" in assigned, assigned
    assert "1 mentions triaged" in act("set_status", status="relevant")
    return True


ADAPTERS: dict[str, Callable[[dict[str, Any], Mention, Any], bool]] = {
    "rest": via_rest,
    "graphql": via_graphql,
    "admin": via_admin,
    "task": via_task,
    "rest_bulk": via_rest_bulk,
    "graphql_bulk": via_graphql_bulk,
    "admin_action": via_admin_action,
}


@pytest.fixture
def ctx(api: Any, gql: Any, members: dict[str, Any]) -> dict[str, Any]:
    return {"api": api, "gql": gql, "members": members}


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_an_assignee_outside_the_tenant_is_refused(
    adapter: str, ctx: dict[str, Any], tenant: Any
) -> None:
    mention = MentionFactory(tenant=tenant)
    agency_colleague = UserFactory(agency=tenant.agency)  # staff, but not a member here
    assert ADAPTERS[adapter](ctx, mention, agency_colleague) is False
    mention.refresh_from_db()
    assert mention.assignee_id is None and mention.status == "new"  # nothing changed


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_a_member_of_the_tenant_is_assigned(
    adapter: str, ctx: dict[str, Any], tenant: Any, members: dict[str, Any]
) -> None:
    mention = MentionFactory(tenant=tenant)
    assert ADAPTERS[adapter](ctx, mention, members["analyst"]) is True
    mention.refresh_from_db()
    assert mention.assignee == members["analyst"] and mention.status == "relevant"


def test_an_assignee_id_beyond_any_account_is_the_same_field_error(
    gql: Any, tenant: Any, members: dict[str, Any]
) -> None:
    mention = MentionFactory(tenant=tenant)
    for assignee in ("99999999999999999999999", "12a", "-3"):
        body = gql(
            TRIAGE,
            user=members["responder"],
            variables={"slug": tenant.slug, "id": str(mention.pk), "assignee": assignee},
        )
        assert error_codes(body) == ["BAD_USER_INPUT"], body
        assert body["errors"][0]["extensions"]["field"] == "assignee"
    mention.refresh_from_db()
    assert mention.assignee_id is None and mention.status == "new"
