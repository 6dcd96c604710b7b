"""Mentions over REST: cursor pagination, every filter, full-text search, triage, isolation."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from monitoring.api.views import MentionViewSet
from monitoring.models import Mention
from tests.factories import MembershipFactory, UserFactory
from tests.monitoring.factories import NOW, MentionFactory


def url(tenant: Any, pk: Any = None) -> str:
    base = f"/api/v1/tenants/{tenant.slug}/mentions/"
    return f"{base}{pk}/" if pk else base


def ids(response: Any) -> list[int]:
    assert response.status_code == 200, response.content
    return [m["id"] for m in response.json()["results"]]


def test_cursor_pagination_walks_every_mention_once_newest_first(
    api: Any, tenant: Any, members: dict[str, Any]
) -> None:
    # Five share one timestamp: the cursor must still split them correctly by id.
    same = [MentionFactory(tenant=tenant, published_at=NOW) for _ in range(5)]
    others = [MentionFactory(tenant=tenant) for _ in range(6)]
    expected = [
        m.pk for m in sorted([*same, *others], key=lambda m: (m.published_at, m.pk), reverse=True)
    ]
    client = api(members["client"])
    seen: list[int] = []
    pages = []
    link: str | None = url(tenant) + "?page_size=4"
    while link:
        response = client.get(link)
        body = response.json()
        assert "count" not in body
        pages.append(body)
        seen += ids(response)
        link = body["next"]
    assert seen == expected
    assert len(pages) == 3 and pages[0]["previous"] is None
    back = client.get(pages[2]["previous"])
    assert ids(back) == expected[4:8]
    assert client.get(back.json()["previous"]).json()["previous"] is None
    bad = client.get(url(tenant), {"cursor": "garbage!"})
    assert bad.status_code == 400 and bad.json()["errors"][0]["attr"] == "cursor"


@pytest.fixture
def corpus(tenant: Any, other_tenant: Any) -> dict[str, Mention]:
    found = {
        "angry": MentionFactory(
            tenant=tenant,
            text="Pelayanan Kopi Senja lambat sekali, saya kecewa berat",
            sentiment="negative",
            risk=80,
            matched_queries=[11, 12],
            author_handle="budi",
            platform="x",
            tags=["eskalasi"],
            status="relevant",
            published_at=NOW - timedelta(hours=1),
        ),
        "happy": MentionFactory(
            tenant=tenant,
            text="Es kopi susu di Kopi Senja enak banget",
            sentiment="positive",
            risk=5,
            matched_queries=[12],
            author_handle="sari",
            platform="instagram",
            published_at=NOW - timedelta(hours=2),
        ),
        "english": MentionFactory(
            tenant=tenant,
            text="The coffee was cold and the staff rude",
            language="en",
            sentiment="negative",
            risk=40,
            author_handle="budi",
            platform="x",
            published_at=NOW - timedelta(days=2),
        ),
        "theirs": MentionFactory(
            tenant=other_tenant,
            text="Pelayanan bank lambat sekali",
            sentiment="negative",
            risk=90,
            matched_queries=[11],
            author_handle="budi",
            published_at=NOW - timedelta(hours=1),
        ),
    }
    return found


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, ["angry", "happy", "english"]),
        ({"query": 11}, ["angry"]),
        ({"query": 12}, ["angry", "happy"]),
        ({"sentiment": "negative"}, ["angry", "english"]),
        ({"language": "en"}, ["english"]),
        ({"platform": "instagram"}, ["happy"]),
        ({"author": "@budi"}, ["angry", "english"]),
        ({"published_after": (NOW - timedelta(hours=3)).isoformat()}, ["angry", "happy"]),
        ({"published_before": (NOW - timedelta(hours=1)).isoformat()}, ["happy", "english"]),
        ({"min_risk": 40}, ["angry", "english"]),
        ({"status": "relevant"}, ["angry"]),
        ({"status": "new"}, ["happy", "english"]),
        ({"tag": "Eskalasi"}, ["angry"]),
        ({"q": "lambat kecewa"}, ["angry"]),
        ({"q": "kopi -lambat"}, ["happy"]),
        ({"q": '"kopi susu"'}, ["happy"]),
        ({"q": "kecewa OR enak"}, ["angry", "happy"]),
        ({"q": "Pelayanan"}, ["angry"]),
        ({"sentiment": "negative", "platform": "x", "min_risk": 50}, ["angry"]),
    ],
)
def test_filters(
    api: Any,
    tenant: Any,
    members: dict[str, Any],
    corpus: dict[str, Mention],
    params: dict[str, Any],
    expected: list[str],
) -> None:
    response = api(members["client"]).get(url(tenant), params)
    assert ids(response) == [corpus[name].pk for name in expected]


@pytest.mark.parametrize(
    ("params", "attr"),
    [
        ({"sentiment": "furious"}, "sentiment"),
        ({"platform": "myspace"}, "platform"),
        ({"query": "abc"}, "query"),
        ({"min_risk": "high"}, "min_risk"),
        ({"published_after": "yesterday"}, "published_after"),
        ({"status": "done"}, "status"),
    ],
)
def test_bad_filters_answer_400_naming_the_param(
    api: Any, tenant: Any, members: dict[str, Any], params: dict[str, Any], attr: str
) -> None:
    response = api(members["client"]).get(url(tenant), params)
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == attr


def test_detail_and_isolation(
    api: Any, tenant: Any, members: dict[str, Any], corpus: dict[str, Mention]
) -> None:
    client = api(members["client"])
    body = client.get(url(tenant, corpus["angry"].pk)).json()
    assert body["text"].startswith("Pelayanan") and body["assignee"] is None
    assert body["matched_queries"] == [11, 12] and "raw" not in body
    theirs = corpus["theirs"].pk
    assert client.get(url(tenant, theirs)).status_code == 404
    patch = api(members["admin"]).patch(url(tenant, theirs), {"status": "relevant"}, format="json")
    assert patch.status_code == 404
    assert theirs not in ids(client.get(url(tenant), {"q": "bank"}))


def test_triage_updates_status_tags_and_assignee(
    api: Any, tenant: Any, members: dict[str, Any], corpus: dict[str, Mention]
) -> None:
    mention = corpus["happy"]
    client = api(members["responder"])
    response = client.patch(
        url(tenant, mention.pk),
        {
            "status": "responded",
            "tags": ["Pujian", "pujian", " promo "],
            "assignee": members["analyst"].pk,
        },
        format="json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "responded" and body["tags"] == ["pujian", "promo"]
    assert body["assignee"]["email"] == "analyst@kopi.test"
    mention.refresh_from_db()
    assert mention.assignee == members["analyst"] and mention.text.startswith("Es kopi")
    unassigned = client.patch(url(tenant, mention.pk), {"assignee": None}, format="json")
    assert unassigned.json()["assignee"] is None
    assert (
        api(members["client"])
        .patch(url(tenant, mention.pk), {"status": "new"}, format="json")
        .status_code
        == 403
    )


def test_triage_refuses_outside_assignees_and_other_fields(
    api: Any, tenant: Any, members: dict[str, Any], corpus: dict[str, Mention], outsider: Any
) -> None:
    client = api(members["admin"])
    mention = corpus["angry"]
    foreign = client.patch(url(tenant, mention.pk), {"assignee": outsider.pk}, format="json")
    assert foreign.status_code == 400
    assert foreign.json()["errors"][0]["attr"] == "assignee"
    missing = client.patch(url(tenant, mention.pk), {"assignee": 999999}, format="json")
    assert missing.status_code == 400 and missing.json()["errors"][0]["attr"] == "assignee"
    text = client.patch(url(tenant, mention.pk), {"text": "rewritten"}, format="json")
    assert text.status_code == 400 and text.json()["errors"][0]["attr"] == "text"
    status = client.patch(url(tenant, mention.pk), {"status": "closed"}, format="json")
    assert status.status_code == 400 and status.json()["errors"][0]["attr"] == "status"
    put = client.put(url(tenant, mention.pk), {"status": "new"}, format="json")
    assert put.status_code in (403, 405)
    mention.refresh_from_db()
    assert mention.assignee is None and mention.status == "relevant"


def test_mention_list_query_count_is_fixed(
    api: Any,
    tenant: Any,
    members: dict[str, Any],
    django_assert_num_queries: Any,
    monkeypatch: Any,
) -> None:
    # The rate limiter's cache queries depend on cache culling, not on this endpoint.
    monkeypatch.setattr(MentionViewSet, "throttle_classes", [])
    for n in range(12):
        assignee = UserFactory(agency=tenant.agency)
        MembershipFactory(tenant=tenant, user=assignee)
        MentionFactory(tenant=tenant, assignee=assignee if n % 2 else None)
    client = api(members["client"])
    client.get(url(tenant))  # marks the token used
    # token with its user, tenant with roles, one page of mentions with assignees: no COUNT,
    # no N+1
    with django_assert_num_queries(3):
        response = client.get(url(tenant), {"sentiment": "neutral", "page_size": 10})
    assert len(response.json()["results"]) == 10
    with django_assert_num_queries(3):
        client.get(response.json()["next"])
