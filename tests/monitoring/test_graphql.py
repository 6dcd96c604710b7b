"""GraphQL of the monitoring app: queries, sources, terms, mentions, volume and triage."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from monitoring import fields
from monitoring.models import Mention
from tests.conftest import error_codes
from tests.monitoring.factories import (
    NOW,
    MentionFactory,
    MetricBucketFactory,
    MonitoredQueryFactory,
    SourceFactory,
    TrackedTermFactory,
)

SLUG = {"slug": "kopi-senja"}


def test_rest_and_graphql_field_names_match() -> None:
    from config.graphql import schema

    types = schema._schema.type_map
    assert set(fields.QUERY) == set(types["MonitoredQuery"].fields)
    assert set(fields.SOURCE) == set(types["Source"].fields)
    assert set(fields.MENTION) == set(types["Mention"].fields)
    assert set(fields.TRACKED_TERM) == set(types["TrackedTerm"].fields)
    assert set(fields.METRIC_BUCKET) == set(types["MetricBucket"].fields)
    assert "webhook_secret" not in types["Source"].fields


def test_queries_sources_and_terms_of_the_tenant_only(
    gql: Any, tenant: Any, other_tenant: Any, members: dict[str, Any]
) -> None:
    MonitoredQueryFactory(tenant=tenant, name="Boikot", languages=["id"])
    MonitoredQueryFactory(tenant=other_tenant, name="Bank")
    SourceFactory(tenant=tenant, name="Berita", received_count=5_000_000_000)
    SourceFactory(tenant=other_tenant, name="Theirs")
    TrackedTermFactory(tenant=tenant, text="Kopi Senja")
    body = gql(
        """query($slug: String!) {
          monitored_queries(slug: $slug) { name languages is_active }
          sources(slug: $slug) { name kind config received_count consecutive_failures }
          tracked_terms(slug: $slug) { text kind }
        }""",
        user=members["client"],
        variables=SLUG,
    )
    assert "errors" not in body, body
    data = body["data"]
    assert data["monitored_queries"] == [{"name": "Boikot", "languages": ["id"], "is_active": True}]
    assert data["sources"] == [
        {
            "name": "Berita",
            "kind": "rss",
            "config": {"url": "https://news.example/feed.xml"},
            "received_count": 5_000_000_000,
            "consecutive_failures": 0,
        }
    ]
    assert data["tracked_terms"] == [{"text": "Kopi Senja", "kind": "brand"}]


def test_mentions_with_filters_and_pagination(
    gql: Any, tenant: Any, other_tenant: Any, members: dict[str, Any]
) -> None:
    angry = MentionFactory(
        tenant=tenant,
        text="Pelayanan lambat sekali, kecewa",
        sentiment="negative",
        risk=70,
        assignee=members["responder"],
    )
    MentionFactory(tenant=tenant, text="Kopi enak", sentiment="positive")
    rows = [MentionFactory(tenant=tenant) for _ in range(3)]
    MentionFactory(tenant=other_tenant, text="Pelayanan lambat", sentiment="negative")
    query = """query($slug: String!, $filters: MentionFilter, $pagination: MentionPagination) {
      mentions(slug: $slug, filters: $filters, pagination: $pagination) {
        id text sentiment risk author_followers assignee { email }
      }
    }"""
    negative = gql(
        query,
        user=members["client"],
        variables={**SLUG, "filters": {"sentiment": "negative", "q": "lambat"}},
    )
    assert negative["data"]["mentions"] == [
        {
            "id": str(angry.pk),
            "text": "Pelayanan lambat sekali, kecewa",
            "sentiment": "negative",
            "risk": 70,
            "author_followers": 100,
            "assignee": {"email": "responder@kopi.test"},
        }
    ]
    everything = Mention.objects.for_tenant(tenant).order_by("-published_at", "-id")
    page = gql(
        query, user=members["client"], variables={**SLUG, "pagination": {"offset": 1, "limit": 2}}
    )
    assert [m["id"] for m in page["data"]["mentions"]] == [str(m.pk) for m in everything[1:3]]
    assert len(rows) == 3
    bad = gql(query, user=members["client"], variables={**SLUG, "filters": {"sentiment": "meh"}})
    assert error_codes(bad) == ["BAD_USER_INPUT"]
    assert bad["errors"][0]["extensions"]["field"] == "sentiment"
    huge = gql(query, user=members["client"], variables={**SLUG, "pagination": {"limit": 1000}})
    assert error_codes(huge) == ["BAD_USER_INPUT"]


def test_volume_in_the_tenants_zone(gql: Any, tenant: Any, members: dict[str, Any]) -> None:
    MetricBucketFactory(tenant=tenant, bucket=datetime(2026, 11, 19, 16, 55, tzinfo=UTC))
    MetricBucketFactory(
        tenant=tenant, bucket=datetime(2026, 11, 19, 17, 0, tzinfo=UTC), mentions=2, reach=10**10
    )
    query = """query($slug: String!, $since: DateTime, $until: DateTime, $tz: String) {
      volume(slug: $slug, interval: "1d", since: $since, until: $until, tz: $tz) {
        bucket mentions reach
      }
    }"""
    period = {"since": (NOW - timedelta(days=2)).isoformat(), "until": NOW.isoformat()}
    body = gql(query, user=members["approver"], variables={**SLUG, **period})
    assert body["data"]["volume"] == [
        {"bucket": "2026-11-19T00:00:00+07:00", "mentions": 1, "reach": 0},
        {"bucket": "2026-11-20T00:00:00+07:00", "mentions": 2, "reach": 10**10},
    ]
    bad = gql(query, user=members["approver"], variables={**SLUG, **period, "tz": "Mars/Base"})
    assert (
        error_codes(bad) == ["BAD_USER_INPUT"] and bad["errors"][0]["extensions"]["field"] == "tz"
    )


def test_triage_mutation(
    gql: Any, tenant: Any, other_tenant: Any, members: dict[str, Any], outsider: Any
) -> None:
    mention = MentionFactory(tenant=tenant)
    theirs = MentionFactory(tenant=other_tenant)
    mutation = """mutation($slug: String!, $id: ID!, $assignee: ID) {
      update_mention_triage(
        slug: $slug, id: $id, status: "relevant", tags: ["Viral"], assignee_id: $assignee
      ) { id status tags assignee { email } }
    }"""
    body = gql(
        mutation,
        user=members["responder"],
        variables={**SLUG, "id": mention.pk, "assignee": members["analyst"].pk},
    )
    assert body["data"]["update_mention_triage"] == {
        "id": str(mention.pk),
        "status": "relevant",
        "tags": ["viral"],
        "assignee": {"email": "analyst@kopi.test"},
    }
    foreign = gql(
        mutation,
        user=members["responder"],
        variables={**SLUG, "id": mention.pk, "assignee": outsider.pk},
    )
    assert error_codes(foreign) == ["BAD_USER_INPUT"]
    assert foreign["errors"][0]["extensions"]["field"] == "assignee"
    other = gql(mutation, user=members["admin"], variables={**SLUG, "id": theirs.pk})
    assert error_codes(other) == ["BAD_USER_INPUT"]
    theirs.refresh_from_db()
    assert theirs.status == "new"
    refused = gql(mutation, user=members["client"], variables={**SLUG, "id": mention.pk})
    assert error_codes(refused) == ["FORBIDDEN"]
