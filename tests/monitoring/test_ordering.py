"""Ordering the mention list by risk, published time and reach, on REST (with the cursor) and
GraphQL, with the same names and the same refusals."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from monitoring.api.views import MentionViewSet
from monitoring.filtersets import MENTION_ORDERINGS
from monitoring.models import Mention
from tests.conftest import error_codes
from tests.monitoring.factories import NOW, MentionFactory

ORDERINGS = [f"{sign}{name}" for name in MENTION_ORDERINGS for sign in ("", "-")]
GRAPHQL = """query($slug: String!, $ordering: String, $limit: Int!) {
  mentions(slug: $slug, ordering: $ordering, pagination: {limit: $limit}) { id }
}"""


def url(tenant: Any) -> str:
    return f"/api/v1/tenants/{tenant.slug}/mentions/"


@pytest.fixture
def mentions(tenant: Any, other_tenant: Any) -> list[Mention]:
    """Fourteen mentions with repeated risks, follower counts and publication times, so every
    ordering has ties the later key columns must break."""
    made = [
        MentionFactory(
            tenant=tenant,
            risk=(n * 37) % 5 * 20,
            author_followers=(n % 4) * 1000,
            published_at=NOW - timedelta(minutes=n % 6),
        )
        for n in range(14)
    ]
    MentionFactory(tenant=other_tenant, risk=100, author_followers=10**9)
    return made


def expected(rows: list[Mention], ordering: str) -> list[int]:
    columns = MENTION_ORDERINGS[ordering.removeprefix("-")]
    field = {"author_followers": "author_followers"}
    ordered = sorted(
        rows,
        key=lambda m: tuple(getattr(m, field.get(c, c)) for c in columns),
        reverse=ordering.startswith("-"),
    )
    return [m.pk for m in ordered]


def walk(client: Any, first: str) -> tuple[list[int], list[dict[str, Any]]]:
    seen: list[int] = []
    pages = []
    link: str | None = first
    while link:
        response = client.get(link)
        assert response.status_code == 200, response.content
        pages.append(response.json())
        seen += [m["id"] for m in response.json()["results"]]
        link = response.json()["next"]
    return seen, pages


@pytest.mark.parametrize("ordering", ORDERINGS)
def test_rest_cursor_walks_every_ordering_forwards_and_back(
    api: Any, tenant: Any, members: dict[str, Any], mentions: list[Mention], ordering: str
) -> None:
    client = api(members["client"])
    seen, pages = walk(client, f"{url(tenant)}?page_size=4&ordering={ordering}")
    assert seen == expected(mentions, ordering)
    assert len(pages) == 4
    back = client.get(pages[2]["previous"])
    assert [m["id"] for m in back.json()["results"]] == seen[4:8]


@pytest.mark.parametrize("ordering", ORDERINGS)
def test_graphql_orders_like_rest(
    api: Any, gql: Any, tenant: Any, members: dict[str, Any], mentions: list[Mention], ordering: str
) -> None:
    rest = api(members["client"]).get(url(tenant), {"ordering": ordering, "page_size": 50})
    body = gql(
        GRAPHQL,
        user=members["client"],
        variables={"slug": tenant.slug, "ordering": ordering, "limit": 50},
    )
    assert [int(m["id"]) for m in body["data"]["mentions"]] == [
        m["id"] for m in rest.json()["results"]
    ]


def test_the_default_order_is_newest_first_on_both(
    api: Any, gql: Any, tenant: Any, members: dict[str, Any], mentions: list[Mention]
) -> None:
    newest = expected(mentions, "-published_at")
    rest = api(members["client"]).get(url(tenant), {"page_size": 50}).json()["results"]
    assert [m["id"] for m in rest] == newest
    body = gql(GRAPHQL, user=members["client"], variables={"slug": tenant.slug, "limit": 50})
    assert [int(m["id"]) for m in body["data"]["mentions"]] == newest


@pytest.mark.parametrize("ordering", ["author_followers", "-text", "risk,-reach", "RISK", "--risk"])
def test_an_unknown_ordering_is_refused_naming_it(
    api: Any, gql: Any, tenant: Any, members: dict[str, Any], ordering: str
) -> None:
    response = api(members["client"]).get(url(tenant), {"ordering": ordering})
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "ordering"
    count = api(members["client"]).get(f"{url(tenant)}count/", {"ordering": ordering})
    assert count.status_code == 400 and count.json()["errors"][0]["attr"] == "ordering"
    body = gql(
        GRAPHQL,
        user=members["client"],
        variables={"slug": tenant.slug, "ordering": ordering, "limit": 5},
    )
    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["extensions"]["field"] == "ordering"


def test_a_cursor_of_another_ordering_is_refused(
    api: Any, tenant: Any, members: dict[str, Any], mentions: list[Mention]
) -> None:
    client = api(members["client"])
    by_risk = client.get(url(tenant), {"ordering": "-risk", "page_size": 3}).json()["next"]
    swapped = by_risk.replace("ordering=-risk", "ordering=-reach")
    response = client.get(swapped)
    assert response.status_code == 400 and response.json()["errors"][0]["attr"] == "cursor"


def test_filters_and_ordering_combine(
    api: Any, tenant: Any, members: dict[str, Any], mentions: list[Mention]
) -> None:
    risky = [m for m in mentions if m.risk >= 40]
    response = api(members["client"]).get(
        url(tenant), {"min_risk": 40, "ordering": "-reach", "page_size": 50}
    )
    assert [m["id"] for m in response.json()["results"]] == expected(risky, "-reach")


def test_ordered_pages_keep_a_fixed_query_count(
    api: Any,
    tenant: Any,
    members: dict[str, Any],
    mentions: list[Mention],
    django_assert_num_queries: Any,
    monkeypatch: Any,
) -> None:
    monkeypatch.setattr(MentionViewSet, "throttle_classes", [])
    client = api(members["client"])
    client.get(url(tenant))  # marks the token used
    # token with its user, tenant with roles, one page of mentions with assignees: no COUNT
    with django_assert_num_queries(3):
        first = client.get(url(tenant), {"ordering": "-risk", "page_size": 5})
    with django_assert_num_queries(3):
        client.get(first.json()["next"])
