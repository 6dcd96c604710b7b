"""Bulk triage: up to 500 mentions per request through the one triage service, on REST, GraphQL
and as admin actions; atomic, audited, and silent about other tenants' ids."""

from __future__ import annotations

from typing import Any

import pytest
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.test import Client

from monitoring import services
from monitoring.api.views import MentionViewSet
from monitoring.models import Mention
from tests.conftest import error_codes
from tests.factories import UserFactory
from tests.monitoring.factories import MentionFactory

BULK = """mutation($slug: String!, $ids: [ID!]!, $status: String, $add: [String!],
                   $remove: [String!], $assignee: ID) {
  bulk_triage_mentions(slug: $slug, ids: $ids, status: $status, add_tags: $add,
                       remove_tags: $remove, assignee_id: $assignee) {
    requested updated unchanged errors { id code detail }
  }
}"""


def url(tenant: Any) -> str:
    return f"/api/v1/tenants/{tenant.slug}/mentions/bulk-triage/"


def audit_entries(*mentions: Mention) -> list[LogEntry]:
    kind = ContentType.objects.get_for_model(Mention)
    return list(
        LogEntry.objects.filter(content_type=kind, object_id__in=[m.pk for m in mentions]).order_by(
            "object_id", "pk"
        )
    )


def state(*mentions: Mention) -> list[tuple[str, list[str], int | None]]:
    rows = Mention.objects.filter(pk__in=[m.pk for m in mentions]).order_by("pk")
    return [(m.status, m.tags, m.assignee_id) for m in rows]


def test_bulk_triage_sets_status_assignee_and_adds_and_removes_tags(
    api: Any, tenant: Any, other_tenant: Any, members: dict[str, Any]
) -> None:
    plain = MentionFactory(tenant=tenant)
    tagged = MentionFactory(tenant=tenant, tags=["cek", "promo"])
    done = MentionFactory(
        tenant=tenant, status="relevant", tags=["viral"], assignee=members["analyst"]
    )
    theirs = MentionFactory(tenant=other_tenant)
    response = api(members["responder"]).post(
        url(tenant),
        {
            "ids": [plain.pk, tagged.pk, done.pk, theirs.pk, 987654321, plain.pk],
            "status": "relevant",
            "add_tags": [" Viral "],
            "remove_tags": ["CEK"],
            "assignee": members["analyst"].pk,
        },
        format="json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    not_found = "Mention ini tidak ada di tenant ini."  # the tenant's language: Indonesian
    assert body == {
        "requested": 5,
        "updated": 2,
        "unchanged": 1,
        "errors": [
            {"id": theirs.pk, "code": "not_found", "detail": not_found},
            {"id": 987654321, "code": "not_found", "detail": not_found},
        ],
    }
    analyst = members["analyst"].pk
    assert state(plain, tagged, done) == [
        ("relevant", ["viral"], analyst),
        ("relevant", ["promo", "viral"], analyst),
        ("relevant", ["viral"], analyst),
    ]
    theirs.refresh_from_db()
    assert (theirs.status, theirs.tags) == ("new", [])


def test_each_changed_mention_is_audited_with_the_actor(
    api: Any, tenant: Any, members: dict[str, Any]
) -> None:
    first = MentionFactory(tenant=tenant, tags=["lama"])
    second = MentionFactory(tenant=tenant, status="irrelevant")
    same = MentionFactory(tenant=tenant, status="irrelevant")
    response = api(members["analyst"]).post(
        url(tenant),
        {"ids": [first.pk, second.pk, same.pk], "status": "irrelevant", "add_tags": ["spam"]},
        format="json",
    )
    assert response.json()["updated"] == 3
    entries = audit_entries(first, second, same)
    assert [e.object_id for e in entries] == [first.pk, second.pk, same.pk]
    assert entries[0].changes == {
        "status": ["new", "irrelevant"],
        "tags": ["['lama']", "['lama', 'spam']"],
    }
    assert entries[1].changes == {"tags": ["[]", "['spam']"]}
    for entry in entries:
        assert entry.action == LogEntry.Action.UPDATE
        assert entry.actor == members["analyst"]
        assert entry.additional_data["operation"] == "triage"
        assert entry.additional_data["tenant_id"] == tenant.pk
    again = api(members["analyst"]).post(
        url(tenant), {"ids": [first.pk], "add_tags": ["spam"]}, format="json"
    )
    assert again.json()["unchanged"] == 1
    assert len(audit_entries(first, second, same)) == 3  # nothing changed, nothing logged


def test_single_triage_is_audited_the_same_way(
    api: Any, gql: Any, tenant: Any, members: dict[str, Any]
) -> None:
    mention = MentionFactory(tenant=tenant)
    api(members["responder"]).patch(
        f"/api/v1/tenants/{tenant.slug}/mentions/{mention.pk}/",
        {"status": "responded", "assignee": members["responder"].pk},
        format="json",
    )
    mutation = """mutation($slug: String!, $id: ID!) {
      update_mention_triage(slug: $slug, id: $id, tags: ["Eskalasi"]) { id }
    }"""
    gql(mutation, user=members["analyst"], variables={"slug": tenant.slug, "id": str(mention.pk)})
    rest, graphql = audit_entries(mention)
    assert rest.actor == members["responder"]
    assert rest.changes == {
        "status": ["new", "responded"],
        "assignee": ["None", str(members["responder"].pk)],
    }
    assert graphql.actor == members["analyst"]
    assert graphql.changes == {"tags": ["[]", "['eskalasi']"]}


@pytest.mark.parametrize(
    ("payload", "attr", "code"),
    [
        ({"ids": list(range(1, 502)), "status": "relevant"}, "ids", "max_length"),
        ({"ids": [], "status": "relevant"}, "ids", "min_length"),
        ({"ids": ["abc"], "status": "relevant"}, "ids.0", "invalid"),
        ({"ids": [0], "status": "relevant"}, "ids.0", "min_value"),
        ({"ids": "1,2", "status": "relevant"}, "ids", "not_a_list"),
        ({"ids": [1], "status": "closed"}, "status", "invalid_choice"),
        ({"ids": [1], "add_tags": ["  "]}, "add_tags.0", "blank"),
        ({"ids": [1], "add_tags": ["x" * 51]}, "add_tags.0", "max_length"),
        ({"ids": [1], "add_tags": ["a"], "remove_tags": ["A"]}, "remove_tags", "invalid"),
        ({"ids": [1], "assignee": "someone"}, "assignee", "incorrect_type"),  # an id is a number
        ({"ids": [1], "text": "rewritten", "status": "new"}, "text", "unknown_field"),
        ({"ids": [1]}, "non_field_errors", "required"),
    ],
)
def test_bad_values_refuse_the_whole_request_naming_the_field(
    api: Any, tenant: Any, members: dict[str, Any], payload: dict[str, Any], attr: str, code: str
) -> None:
    mention = MentionFactory(tenant=tenant)
    payload = {**payload, "ids": [mention.pk] if payload["ids"] == [1] else payload["ids"]}
    response = api(members["analyst"]).post(url(tenant), payload, format="json")
    assert response.status_code == 400, response.content
    error = response.json()["errors"][0]
    assert (error["attr"], error["code"]) == (attr, code), error
    assert state(mention) == [("new", [], None)]
    assert audit_entries(mention) == []


def test_an_assignee_outside_the_tenant_refuses_everything(
    api: Any, tenant: Any, members: dict[str, Any], outsider: Any
) -> None:
    mentions = [MentionFactory(tenant=tenant) for _ in range(3)]
    colleague = UserFactory(agency=tenant.agency)  # the agency's staff, no membership here
    for person in (outsider, colleague):
        response = api(members["analyst"]).post(
            url(tenant),
            {"ids": [m.pk for m in mentions], "status": "relevant", "assignee": person.pk},
            format="json",
        )
        assert response.status_code == 400
        assert response.json()["errors"][0]["attr"] == "assignee"
    assert state(*mentions) == [("new", [], None)] * 3


def test_a_mention_that_would_hold_too_many_tags_is_left_alone(
    api: Any, tenant: Any, members: dict[str, Any]
) -> None:
    full = MentionFactory(tenant=tenant, tags=[f"t{n}" for n in range(services.MAX_TAGS)])
    light = MentionFactory(tenant=tenant)
    body = (
        api(members["analyst"])
        .post(url(tenant), {"ids": [full.pk, light.pk], "add_tags": ["baru"]}, format="json")
        .json()
    )
    assert body["updated"] == 1 and body["errors"][0]["id"] == full.pk
    assert body["errors"][0]["code"] == "max_tags"
    full.refresh_from_db()
    assert len(full.tags) == services.MAX_TAGS and "baru" not in full.tags


def test_another_tenants_ids_read_exactly_like_missing_ones(
    api: Any, tenant: Any, other_tenant: Any, members: dict[str, Any]
) -> None:
    theirs = MentionFactory(tenant=other_tenant)
    missing = theirs.pk + 1000
    client = api(members["admin"])
    a = client.post(url(tenant), {"ids": [theirs.pk], "status": "relevant"}, format="json")
    b = client.post(url(tenant), {"ids": [missing], "status": "relevant"}, format="json")
    assert a.status_code == b.status_code == 200
    assert {k: v for k, v in a.json()["errors"][0].items() if k != "id"} == {
        k: v for k, v in b.json()["errors"][0].items() if k != "id"
    }
    assert a.json()["updated"] == b.json()["updated"] == 0


def test_500_mentions_in_one_request_with_a_fixed_query_count(
    api: Any,
    tenant: Any,
    members: dict[str, Any],
    django_assert_num_queries: Any,
    monkeypatch: Any,
) -> None:
    monkeypatch.setattr(MentionViewSet, "throttle_classes", [])
    made = Mention.objects.bulk_create(
        [
            Mention(
                tenant=tenant,
                platform="x",
                external_id=f"bulk-{n}",
                text="Kopi Senja",
                published_at="2026-11-20T08:00:00Z",
                tags=["lama"] if n % 2 else [],
            )
            for n in range(services.MAX_BULK_TRIAGE)
        ]
    )
    client = api(members["responder"])
    client.get(f"/api/v1/tenants/{tenant.slug}/mentions/")  # marks the token used
    payload = {
        "ids": [m.pk for m in made],
        "status": "relevant",
        "add_tags": ["viral"],
        "assignee": members["responder"].pk,
    }
    ContentType.objects.get_for_model(Mention)  # cached per process, as in a running server
    # token, tenant with roles, the savepoint, the assignee, the locked rows, one UPDATE, the
    # audit entries (the first one alone, then the others), the savepoint's release: 9 queries
    # for 500 mentions, none per mention
    with django_assert_num_queries(9):
        response = client.post(url(tenant), payload, format="json")
    assert response.json()["updated"] == services.MAX_BULK_TRIAGE
    assert Mention.objects.filter(tenant=tenant, status="relevant").count() == 500
    assert Mention.objects.filter(tenant=tenant, tags__contains=["lama", "viral"]).count() == 250
    assert len(audit_entries(*made)) == 500


def test_graphql_bulk_triage_answers_like_rest(
    api: Any, gql: Any, tenant: Any, other_tenant: Any, members: dict[str, Any]
) -> None:
    ours = [MentionFactory(tenant=tenant) for _ in range(2)]
    theirs = MentionFactory(tenant=other_tenant)
    ids = [ours[0].pk, theirs.pk]
    rest = api(members["analyst"]).post(url(tenant), {"ids": ids, "add_tags": ["a"]}, format="json")
    body = gql(
        BULK,
        user=members["analyst"],
        variables={
            "slug": tenant.slug,
            "ids": [str(i) for i in [ours[1].pk, theirs.pk]],
            "add": ["a"],
        },
    )
    answer = body["data"]["bulk_triage_mentions"]
    expected = rest.json()
    assert {k: v for k, v in answer.items() if k != "errors"} == {
        k: v for k, v in expected.items() if k != "errors"
    }
    assert answer["errors"] == [
        {"id": str(theirs.pk), "code": "not_found", "detail": expected["errors"][0]["detail"]}
    ]
    bad = gql(
        BULK,
        user=members["analyst"],
        variables={"slug": tenant.slug, "ids": [str(ours[0].pk)], "status": "closed"},
    )
    assert error_codes(bad) == ["BAD_USER_INPUT"]
    assert bad["errors"][0]["extensions"]["field"] == "status"
    too_many = gql(
        BULK,
        user=members["analyst"],
        variables={"slug": tenant.slug, "ids": [str(n) for n in range(1, 502)], "status": "new"},
    )
    assert too_many["errors"][0]["extensions"]["field"] == "ids"
    client = gql(
        BULK, user=members["client"], variables={"slug": tenant.slug, "ids": ["1"], "add": ["a"]}
    )
    assert error_codes(client) == ["FORBIDDEN"]


# --- admin actions ----------------------------------------------------------------------------


@pytest.fixture
def staff(tenant: Any) -> Client:
    user = UserFactory(agency=tenant.agency, is_agency_admin=True, is_staff=True, language="en")
    client = Client()
    client.force_login(user)
    client.user = user  # type: ignore[attr-defined]
    return client


def act(client: Client, action: str, mentions: list[Mention], **values: str) -> Any:
    data = {"action": action, "_selected_action": [m.pk for m in mentions], **values}
    return client.post("/admin/monitoring/mention/", data, follow=True)


def test_admin_actions_triage_through_the_service(
    staff: Client, tenant: Any, other_tenant: Any, members: dict[str, Any]
) -> None:
    mentions = [MentionFactory(tenant=tenant, tags=["cek"]) for _ in range(3)]
    page = staff.get("/admin/monitoring/mention/")
    for action in ("set_status", "assign", "add_tags", "remove_tags"):
        assert f'value="{action}"'.encode() in page.content
    act(staff, "set_status", mentions, status="relevant")
    act(staff, "assign", mentions, assignee=members["analyst"].email.upper())
    act(staff, "add_tags", mentions, tags="Viral, eskalasi")
    answer = act(staff, "remove_tags", mentions[:1], tags="cek")
    assert "1 mentions triaged" in answer.content.decode()
    analyst = members["analyst"].pk
    assert state(*mentions) == [
        ("relevant", ["viral", "eskalasi"], analyst),
        ("relevant", ["cek", "viral", "eskalasi"], analyst),
        ("relevant", ["cek", "viral", "eskalasi"], analyst),
    ]
    entries = audit_entries(*mentions)
    assert len(entries) == 10 and {e.actor for e in entries} == {staff.user}  # type: ignore[attr-defined]
    act(staff, "assign", mentions[:1], assignee="")
    assert state(mentions[0])[0][2] is None


def test_admin_actions_refuse_bad_values_and_keep_everything(
    staff: Client, tenant: Any, members: dict[str, Any], outsider: Any
) -> None:
    mentions = [MentionFactory(tenant=tenant) for _ in range(2)]
    colleague = UserFactory(agency=tenant.agency)  # the agency's, but no member of the tenant
    refused = act(staff, "assign", mentions, assignee=colleague.email)
    assert "must be a member of this tenant" in refused.content.decode()
    unknown = act(staff, "assign", mentions, assignee=outsider.email)  # not even visible
    assert "must be a member of this tenant" in unknown.content.decode()
    empty = act(staff, "set_status", mentions, status="")
    assert "Choose the status" in empty.content.decode()
    no_tags = act(staff, "add_tags", mentions, tags=" , ")
    assert "Give the tags" in no_tags.content.decode()
    assert state(*mentions) == [("new", [], None)] * 2
    assert audit_entries(*mentions) == []


def test_admin_actions_take_at_most_500_mentions(
    staff: Client, tenant: Any, members: dict[str, Any]
) -> None:
    Mention.objects.bulk_create(
        [
            Mention(
                tenant=tenant,
                platform="x",
                external_id=f"many-{n}",
                text="x",
                published_at="2026-11-20T08:00:00Z",
            )
            for n in range(services.MAX_BULK_TRIAGE + 1)
        ]
    )
    response = staff.post(
        "/admin/monitoring/mention/",
        {
            "action": "set_status",
            "select_across": "1",
            "index": "0",
            "_selected_action": [Mention.objects.first().pk],  # type: ignore[union-attr]
            "status": "relevant",
        },
        follow=True,
    )
    assert "Select at most 500 mentions" in response.content.decode()
    assert not Mention.objects.filter(status="relevant").exists()
