"""Metrics over REST, checked against hand-built rollups and mentions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from monitoring.api.views import VolumeView
from tests.monitoring.factories import (
    NOW,
    MentionFactory,
    MetricBucketFactory,
    MonitoredQueryFactory,
)


def url(tenant: Any, name: str) -> str:
    return f"/api/v1/tenants/{tenant.slug}/metrics/{name}/"


def get(client: Any, tenant: Any, name: str, **params: Any) -> dict[str, Any]:
    response = client.get(url(tenant, name), params)
    assert response.status_code == 200, response.content
    return response.json()


PERIOD = {
    "since": (NOW - timedelta(days=3)).isoformat(),
    "until": (NOW + timedelta(days=1)).isoformat(),
}


def test_volume_buckets_follow_the_time_zone(
    api: Any, tenant: Any, other_tenant: Any, members: dict[str, Any]
) -> None:
    # 16:55 and 17:00 UTC are 23:55 and 00:00 in Jakarta: two different days there.
    before = datetime(2026, 11, 19, 16, 55, tzinfo=UTC)
    after = datetime(2026, 11, 19, 17, 0, tzinfo=UTC)
    MetricBucketFactory(
        tenant=tenant, bucket=before, mentions=3, positive=1, negative=2, reach=300, engagement=9
    )
    MetricBucketFactory(tenant=tenant, bucket=after, mentions=4, neutral=4, reach=50, engagement=1)
    MetricBucketFactory(tenant=other_tenant, bucket=after, mentions=100)
    client = api(members["client"])
    jakarta = get(client, tenant, "volume", interval="1d", **PERIOD)
    assert jakarta["tz"] == "Asia/Jakarta" and jakarta["query"] is None
    assert [(p["bucket"], p["mentions"]) for p in jakarta["series"]] == [
        ("2026-11-19T00:00:00+07:00", 3),
        ("2026-11-20T00:00:00+07:00", 4),
    ]
    assert jakarta["series"][0] == {
        "bucket": "2026-11-19T00:00:00+07:00",
        "mentions": 3,
        "positive": 1,
        "neutral": 0,
        "negative": 2,
        "reach": 300,
        "engagement": 9,
    }
    utc = get(client, tenant, "volume", interval="1d", tz="UTC", **PERIOD)
    assert [(p["bucket"], p["mentions"], p["reach"]) for p in utc["series"]] == [
        ("2026-11-19T00:00:00+00:00", 7, 350)
    ]
    hourly = get(client, tenant, "volume", interval="1h", tz="Asia/Jakarta", **PERIOD)
    assert [p["bucket"] for p in hourly["series"]] == [
        "2026-11-19T23:00:00+07:00",
        "2026-11-20T00:00:00+07:00",
    ]
    raw = get(client, tenant, "volume", interval="5m", tz="UTC", **PERIOD)
    assert [p["bucket"] for p in raw["series"]] == [before.isoformat(), after.isoformat()]


def test_volume_of_one_query_and_default_period(
    api: Any, tenant: Any, members: dict[str, Any]
) -> None:
    query = MonitoredQueryFactory(tenant=tenant)
    recent = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(hours=2)
    MetricBucketFactory(tenant=tenant, query_id=query.pk, bucket=recent, mentions=2)
    MetricBucketFactory(tenant=tenant, query_id=0, bucket=recent, mentions=5)
    MetricBucketFactory(tenant=tenant, query_id=query.pk, bucket=recent - timedelta(days=8))
    client = api(members["analyst"])
    body = get(client, tenant, "volume", interval="1d", query=query.pk)
    assert body["query"] == query.pk
    assert sum(p["mentions"] for p in body["series"]) == 2
    everything = get(client, tenant, "volume", interval="1d")
    assert sum(p["mentions"] for p in everything["series"]) == 5
    since = datetime.fromisoformat(body["since"].replace("Z", "+00:00"))
    until = datetime.fromisoformat(body["until"].replace("Z", "+00:00"))
    assert until - since == timedelta(days=7)


@pytest.mark.parametrize(
    ("params", "attr"),
    [
        ({"interval": "2h"}, "interval"),
        ({"tz": "Mars/Olympus"}, "tz"),
        ({"query": "abc"}, "query"),
        ({"query": 987654}, "query"),
        ({"since": "last week"}, "since"),
        ({"since": "2026-01-01T00:00:00Z", "until": "2025-01-01T00:00:00Z"}, "since"),
        ({"since": "2024-01-01T00:00:00Z", "until": "2026-01-01T00:00:00Z"}, "since"),
        (
            {"interval": "5m", "since": "2026-01-01T00:00:00Z", "until": "2026-03-01T00:00:00Z"},
            "since",
        ),
    ],
)
def test_volume_refuses_bad_params_naming_them(
    api: Any, tenant: Any, members: dict[str, Any], params: dict[str, Any], attr: str
) -> None:
    response = api(members["client"]).get(url(tenant, "volume"), params)
    assert response.status_code == 400, response.content
    assert response.json()["errors"][0]["attr"] == attr


def test_query_of_another_tenant_is_refused(
    api: Any, tenant: Any, other_tenant: Any, members: dict[str, Any]
) -> None:
    theirs = MonitoredQueryFactory(tenant=other_tenant)
    MetricBucketFactory(tenant=other_tenant, query_id=theirs.pk, bucket=NOW, mentions=9)
    response = api(members["client"]).get(url(tenant, "volume"), {"query": theirs.pk, **PERIOD})
    assert response.status_code == 400 and response.json()["errors"][0]["attr"] == "query"


def test_share_of_voice(api: Any, tenant: Any, other_tenant: Any, members: dict[str, Any]) -> None:
    ours = MonitoredQueryFactory(tenant=tenant, name="Kopi Senja")
    rival = MonitoredQueryFactory(tenant=tenant, name="Kopi Rival")
    quiet = MonitoredQueryFactory(tenant=tenant, name="Sepi")
    paused = MonitoredQueryFactory(tenant=tenant, name="Lama", is_active=False)
    theirs = MonitoredQueryFactory(tenant=other_tenant)
    for query, counts in ((ours, (10, 20)), (rival, (5, 5)), (paused, (50, 0)), (theirs, (9, 9))):
        for offset, mentions in enumerate(counts):
            MetricBucketFactory(
                tenant=query.tenant,
                query_id=query.pk,
                bucket=NOW - timedelta(minutes=5 * offset),
                mentions=mentions,
            )
    MetricBucketFactory(tenant=tenant, query_id=0, bucket=NOW, mentions=1000)
    MetricBucketFactory(tenant=tenant, query_id=ours.pk, bucket=NOW - timedelta(days=30))
    body = get(api(members["client"]), tenant, "share-of-voice", **PERIOD)
    assert body["total"] == 40
    assert body["results"] == [
        {"query": ours.pk, "name": "Kopi Senja", "mentions": 30, "share": 0.75},
        {"query": rival.pk, "name": "Kopi Rival", "mentions": 10, "share": 0.25},
        {"query": quiet.pk, "name": "Sepi", "mentions": 0, "share": 0.0},
    ]


def test_top_authors(api: Any, tenant: Any, other_tenant: Any, members: dict[str, Any]) -> None:
    query = MonitoredQueryFactory(tenant=tenant)

    def term(text: str) -> dict[str, Any]:
        return {"type": "term", "text": text, "start": 0, "end": len(text), "kind": "brand"}

    MentionFactory(
        tenant=tenant,
        author_handle="budi",
        author_name="Budi",
        author_followers=100,
        hashtags=["#boikot", "#kopisenja"],
        scores={"entities": [term("Kopi Senja"), term("kopi senja"), {"type": "hashtag"}]},
        matched_queries=[query.pk],
    )
    MentionFactory(
        tenant=tenant,
        author_handle="budi",
        author_name="Budi",
        author_followers=250,
        hashtags=["#boikot"],
        scores={"entities": [term("Senja Latte")]},
    )
    MentionFactory(
        tenant=tenant,
        author_handle="media",
        author_followers=90000,
        hashtags=["#boikot"],
        scores={"entities": "not a list"},
        matched_queries=[query.pk],
    )
    MentionFactory(tenant=tenant, author_handle="", author_followers=10**9)
    MentionFactory(
        tenant=tenant, author_handle="lama", published_at=NOW - timedelta(days=10), hashtags=["#x"]
    )
    MentionFactory(
        tenant=other_tenant,
        author_handle="budi",
        author_followers=10**8,
        hashtags=["#boikot", "#bank"],
        scores={"entities": [term("Bank")]},
    )
    client = api(members["client"])
    authors = get(client, tenant, "top-authors", **PERIOD)["results"]
    assert [(a["author_handle"], a["mentions"], a["reach"]) for a in authors] == [
        ("media", 1, 90000),
        ("budi", 2, 250),
    ]
    assert authors[1]["author_name"] == "Budi" and authors[1]["platform"] == "x"
    limited = get(client, tenant, "top-authors", limit=1, **PERIOD)["results"]
    assert [a["author_handle"] for a in limited] == ["media"]
    too_many = client.get(url(tenant, "top-authors"), {"limit": 101})
    assert too_many.status_code == 400 and too_many.json()["errors"][0]["attr"] == "limit"


def test_metrics_query_count(
    api: Any,
    tenant: Any,
    members: dict[str, Any],
    django_assert_num_queries: Any,
    monkeypatch: Any,
) -> None:
    monkeypatch.setattr(VolumeView, "throttle_classes", [])
    for minutes in range(0, 600, 5):
        MetricBucketFactory(tenant=tenant, bucket=NOW - timedelta(minutes=minutes), mentions=1)
    client = api(members["client"])
    client.get(url(tenant, "volume"))  # marks the token used
    # token with its user, tenant with roles, one grouped query over the rollups
    with django_assert_num_queries(3):
        body = get(client, tenant, "volume", interval="1h", **PERIOD)
    assert sum(p["mentions"] for p in body["series"]) == 120


def test_top_hashtags_and_terms_come_from_the_pipelines_hourly_rollups(
    api: Any, tenant: Any, other_tenant: Any, members: dict[str, Any]
) -> None:
    from monitoring import pipeline, services
    from monitoring.models import IngestChunk, TrackedTerm

    query = MonitoredQueryFactory(tenant=tenant, query="boikot*")
    TrackedTerm.objects.create(tenant=tenant, text="Kopi Senja", kind="brand")
    TrackedTerm.objects.create(tenant=tenant, text="Senja Latte", kind="product")
    when = (NOW - timedelta(hours=2)).isoformat()

    def post(n: int, text: str, target: Any = tenant) -> dict[str, Any]:
        return {"platform": "x", "external_id": str(n), "text": text, "published_at": when}

    services.accept_items(
        tenant=tenant,
        objects=[
            post(1, "Ayo boikot Kopi Senja! #boikot #KopiSenja"),
            post(2, "Senja Latte enak, tapi tetap #boikot"),
            post(3, "Berita: ajakan boikot meluas #boikot"),
            post(4, "Kopi Senja lama banget antrinya"),
        ],
    )
    services.accept_items(tenant=other_tenant, objects=[post(9, "#boikot #bank Kopi Senja")])
    for chunk in IngestChunk.objects.filter(done_at__isnull=True):
        pipeline.process_chunk(chunk.tenant_id, chunk.pk)
    client = api(members["client"])
    hashtags = get(client, tenant, "top-hashtags", **PERIOD)["results"]
    assert hashtags == [
        {"text": "#boikot", "mentions": 3},
        {"text": "#kopisenja", "mentions": 1},
    ]
    of_query = get(client, tenant, "top-hashtags", query=query.pk, **PERIOD)["results"]
    assert of_query == [{"text": "#boikot", "mentions": 3}, {"text": "#kopisenja", "mentions": 1}]
    terms = get(client, tenant, "top-terms", **PERIOD)["results"]
    assert terms == [{"text": "kopi senja", "mentions": 2}, {"text": "senja latte", "mentions": 1}]
    later = {"since": (NOW - timedelta(hours=1)).isoformat(), "until": PERIOD["until"]}
    assert get(client, tenant, "top-hashtags", **later)["results"] == []
