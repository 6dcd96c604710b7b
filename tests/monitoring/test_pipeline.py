"""The pipeline end to end on PostgreSQL: validation, dedup, scoring, matching and rollups."""

from __future__ import annotations

from typing import Any

import pytest

from monitoring import pipeline, services
from monitoring.models import IngestChunk, Mention, MetricBucket, MonitoredQuery


def item(n: int, text: str = "Kopi Senja enak banget, mantap!", **extra: Any) -> dict[str, Any]:
    return {
        "platform": "x",
        "external_id": str(n),
        "text": text,
        "published_at": "2026-11-20T08:16:00+07:00",
        "author": {"handle": f"user{n}", "followers": 100 * n},
        "engagement": {"likes": 2, "shares": 1},
        **extra,
    }


def run_all(tenant: Any) -> None:
    for chunk in IngestChunk.objects.for_tenant(tenant).filter(done_at__isnull=True):
        pipeline.process_chunk(tenant.pk, chunk.pk)


def test_items_are_scored_matched_and_counted_once(tenant: Any) -> None:
    boikot = MonitoredQuery.objects.create(
        tenant=tenant, name="boikot", query="boikot* OR #boikotkopisenja"
    )
    batch = services.accept_items(
        tenant=tenant,
        objects=[
            item(1),
            item(2, "Kopi Senja goblok, pelayanan lambat. #BoikotKopiSenja"),
            item(2, "Kopi Senja goblok, pelayanan lambat. #BoikotKopiSenja"),  # repeated
            {"platform": "x", "text": "no id"},
        ],
        chunk_size=2,
    )
    assert batch.item_count == 3 and batch.chunk_count == 2
    assert batch.rejected == [
        {"index": 3, "field": "external_id", "message": "This field is required."}
    ]
    run_all(tenant)
    run_all(tenant)  # a second delivery does nothing
    assert Mention.objects.for_tenant(tenant).count() == 2
    hostile = Mention.objects.get(tenant=tenant, external_id="2")
    assert hostile.sentiment == "negative" and hostile.matched_queries == [boikot.pk]
    assert "#boikotkopisenja" in hostile.hashtags and hostile.risk > 0
    assert hostile.language == "id"
    total = MetricBucket.objects.get(tenant=tenant, query_id=0)
    assert (total.mentions, total.negative) == (2, 1)
    assert total.bucket.isoformat() == "2026-11-20T01:15:00+00:00"
    assert MetricBucket.objects.get(tenant=tenant, query_id=boikot.pk).mentions == 1
    batch.refresh_from_db()
    assert batch.status == "done" and batch.inserted_count == 2 and batch.duplicate_count == 1


def test_reingesting_updates_engagement_without_a_second_row(tenant: Any) -> None:
    services.accept_items(tenant=tenant, objects=[item(7)])
    run_all(tenant)
    services.accept_items(tenant=tenant, objects=[item(7, engagement={"likes": 99})])
    run_all(tenant)
    mention = Mention.objects.get(tenant=tenant, external_id="7")
    assert mention.likes == 99
    assert MetricBucket.objects.get(tenant=tenant, query_id=0).mentions == 1


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        ({"platform": "myspace"}, "platform"),
        ({"published_at": "yesterday"}, "published_at"),
        ({"published_at": "2026-11-20T08:15:00"}, "published_at"),
        ({"text": "   "}, "text"),
        ({"url": "ftp://x"}, "url"),
        ({"author": {"followers": -1}}, "author.followers"),
        ({"author": {"verified": "yes"}}, "author.verified"),
        ({"engagement": {"likes": 1.5}}, "engagement.likes"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_each_rejection_names_item_and_field(tenant: Any, bad: dict[str, Any], field: str) -> None:
    batch = services.accept_items(tenant=tenant, objects=[item(1), item(2, **bad)])
    assert batch.item_count == 1
    assert [(r["index"], r["field"]) for r in batch.rejected] == [(1, field)]


def test_tracked_terms_and_hashtags_reach_the_hourly_term_rollup(tenant: Any) -> None:
    """The term rollup reads the stored rows' term entities (returned as an array by the
    insert, issue 20 item 3): each term once per mention, in lower case, per query."""
    from monitoring.models import TermBucket, TrackedTerm
    from monitoring.pipeline import _cache

    TrackedTerm.objects.create(tenant=tenant, text="Kopi Senja", kind="brand")
    _cache.extensions.pop(tenant.pk, None)  # the worker's cache of the tenant's terms
    services.accept_items(
        tenant=tenant,
        objects=[
            item(1, "KOPI SENJA enak, kopi senja mantap #Ngopi"),
            item(2, "Kopi Senja lambat #ngopi #Antri"),
            item(3, "nothing tracked here"),
        ],
    )
    run_all(tenant)
    rows = {
        (row.query_id, row.kind, row.text): row.mentions
        for row in TermBucket.objects.for_tenant(tenant)
    }
    assert rows == {
        (0, "term", "kopi senja"): 2,
        (0, "hashtag", "#ngopi"): 2,
        (0, "hashtag", "#antri"): 1,
    }
