"""The rollups reads take instead of mentions (``monitoring.authors``, ``monitoring.counts``):
kept by the pipeline, by deletion and by retention exactly in step with the mentions; top
authors and mention counts read from them answer what a scan of the mentions answers, for
periods that start and end inside an hour or 5 minutes, or on their boundaries."""

from __future__ import annotations

import random
import zoneinfo
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Count, Max

from monitoring import authors, pipeline, retention, selectors, services
from monitoring.filtersets import MentionFilterSet
from monitoring.models import AuthorBucket, AuthorSlot, IngestChunk, Mention, MentionTally
from tenants.models import Tenant
from tests.monitoring.factories import MonitoredQueryFactory

JAKARTA = zoneinfo.ZoneInfo("Asia/Jakarta")
T0 = datetime(2026, 11, 20, 0, 0, tzinfo=UTC)
HANDLES = ["@Budi_K", "budi_k", "sari", "MediaKota", "lama", "rina", "joko", "dewi", "adi", ""]


def ingest(tenant: Tenant, items: list[dict[str, Any]]) -> None:
    services.accept_items(tenant=tenant, objects=items)
    for chunk in IngestChunk.objects.for_tenant(tenant).filter(done_at__isnull=True):
        pipeline.process_chunk(tenant.pk, chunk.pk)


def posts(count: int, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    texts = ["Kopi Senja enak", "ayo boikot Kopi Senja", "cuaca cerah", "boikot saja"]
    return [
        {
            "platform": rng.choice(["x", "x", "instagram"]),
            "external_id": f"{seed}-{n}",
            "text": rng.choice(texts),
            "published_at": (T0 + timedelta(minutes=rng.randrange(0, 12 * 60))).isoformat(),
            "author": {
                "handle": rng.choice(HANDLES),
                "name": rng.choice(["", "Budi", "Sari S.", "Media"]),
                # ties on purpose: reach alone does not order them
                "followers": rng.choice([10, 40, 40, 1200, 1500, 90000, 90000]),
            },
            "engagement": {"likes": n, "shares": 1},
        }
        for n in range(count)
    ]


def scanned(
    tenant_id: int, since: datetime, until: datetime, limit: int, query_id: int | None
) -> list[dict[str, Any]]:
    """Top authors computed from the mentions themselves (what the rollup must answer)."""
    rows = (
        Mention.objects.for_tenant(tenant_id)
        .filter(published_at__gte=since, published_at__lt=until)
        .exclude(author_handle="")
    )
    if query_id:
        rows = rows.filter(matched_queries__contains=[query_id])
    found = [
        {
            "platform": row["platform"],
            "author_handle": row["author_handle"],
            "author_name": row["name"],
            "mentions": row["n"],
            "reach": row["reach"],
        }
        for row in rows.values("platform", "author_handle").annotate(
            n=Count("id"), reach=Max("author_followers"), name=Max("author_name")
        )
    ]
    found.sort(key=lambda a: (-a["reach"], -a["mentions"], a["author_handle"], a["platform"]))
    return found[:limit]


def recounted(
    tenant_id: int, grain: Any = authors.hour_of
) -> dict[tuple[Any, ...], tuple[int, int, str]]:
    """An author rollup rebuilt from the mentions: (query, hour or 5 minutes as ``grain``
    says, platform, handle) -> figures."""
    totals: dict[tuple[Any, ...], tuple[int, int, str]] = {}
    for platform, handle, name, followers, at, matched in (
        Mention.objects.for_tenant(tenant_id)
        .exclude(author_handle="")
        .values_list(
            "platform",
            "author_handle",
            "author_name",
            "author_followers",
            "published_at",
            "matched_queries",
        )
    ):
        for query_id in (0, *matched):
            key = (query_id, grain(at), platform, handle)
            n, reach, best = totals.get(key, (0, 0, ""))
            totals[key] = (n + 1, max(reach, followers), max(best, name))
    return totals


def stored(
    tenant_id: int, model: Any = AuthorBucket
) -> dict[tuple[Any, ...], tuple[int, int, str]]:
    return {
        (q, bucket, platform, handle): (n, reach, name)
        for q, bucket, platform, handle, n, reach, name in model.objects.for_tenant(
            tenant_id
        ).values_list(
            "query_id", "bucket", "platform", "author_handle", "mentions", "reach", "author_name"
        )
    }


PERIODS = [
    (T0, T0 + timedelta(hours=12)),  # whole hours only
    (T0 + timedelta(minutes=17), T0 + timedelta(hours=9, minutes=41)),  # both ends inside
    (T0 + timedelta(hours=2), T0 + timedelta(hours=5, minutes=1)),
    (T0 + timedelta(hours=3, minutes=5), T0 + timedelta(hours=3, minutes=55)),  # one hour
    (T0 + timedelta(hours=3, minutes=50), T0 + timedelta(hours=4, minutes=10)),  # no whole one
    (T0 + timedelta(hours=3, minutes=52), T0 + timedelta(hours=4, minutes=58)),  # slots only
    (T0 + timedelta(hours=3, minutes=51), T0 + timedelta(hours=3, minutes=54)),  # in one slot
    (T0 + timedelta(hours=4, minutes=3), T0 + timedelta(hours=4, minutes=7)),  # across two
    (T0 + timedelta(minutes=35), T0 + timedelta(hours=7, minutes=20)),  # on slot boundaries
    (T0 - timedelta(days=1), T0 + timedelta(days=1)),
    (T0 + timedelta(hours=20), T0 + timedelta(hours=22)),  # nothing
]


def assert_same_counts(tenant: Tenant) -> None:
    tallied = {
        (bucket, sentiment): n
        for bucket, sentiment, n in MentionTally.objects.for_tenant(tenant).values_list(
            "bucket", "sentiment", "mentions"
        )
        if n
    }
    expected: dict[tuple[datetime, str], int] = {}
    for at, sentiment in Mention.objects.for_tenant(tenant).values_list(
        "published_at", "sentiment"
    ):
        key = (authors.hour_of(at), sentiment)
        expected[key] = expected.get(key, 0) + 1
    assert tallied == expected
    mentions = Mention.objects.for_tenant(tenant)
    bounds: list[datetime | None] = [None, *(moment for period in PERIODS[:4] for moment in period)]
    for since in bounds:
        for until in bounds:
            for extra in ({}, {"sentiment": "negative"}, {"sentiment": "neutral"}, {"q": "kopi"}):
                data = {**extra, "ordering": "-risk"}
                if since is not None:
                    data["published_after"] = since.astimezone(JAKARTA).isoformat()
                if until is not None:
                    data["published_before"] = until.isoformat()
                bound = MentionFilterSet(data=data, queryset=mentions)
                assert bound.is_valid(), bound.errors
                exact = MentionFilterSet(data=data, queryset=mentions).qs.order_by().count()
                assert selectors.mention_count(tenant.pk, bound) == exact, data


def assert_same_answers(tenant: Tenant, queries: list[int | None]) -> None:
    assert stored(tenant.pk) == recounted(tenant.pk)
    assert stored(tenant.pk, AuthorSlot) == recounted(tenant.pk, authors.slot_of)
    assert_same_counts(tenant)
    for since, until in PERIODS:
        for zone in (UTC, JAKARTA):  # a +07:00 period is the same instant
            for limit in (1, 2, 3, 5, 100):
                for query_id in queries:
                    args = (since.astimezone(zone), until.astimezone(zone), limit, query_id)
                    expected = scanned(tenant.pk, *args)
                    got = authors.top_authors(
                        tenant.pk, since=args[0], until=args[1], limit=limit, query_id=query_id
                    )
                    assert got == expected, (since, until, limit, query_id)


def test_rollup_answers_as_a_scan_of_the_mentions(tenant: Tenant, other_tenant: Tenant) -> None:
    kopi = MonitoredQueryFactory(tenant=tenant, name="Kopi", query="kopi")
    boikot = MonitoredQueryFactory(tenant=tenant, name="Boikot", query="boikot*")
    queries: list[int | None] = [None, kopi.pk, boikot.pk]
    ingest(tenant, posts(300, seed=1))
    ingest(other_tenant, posts(50, seed=1))  # same handles elsewhere: never counted here
    assert AuthorBucket.objects.for_tenant(tenant).exists()
    assert (
        AuthorSlot.objects.for_tenant(tenant).count()
        > AuthorBucket.objects.for_tenant(tenant).count()
    )
    assert_same_answers(tenant, queries)

    # Re-delivered items with fewer followers: the pipeline updates them, and their hours
    # are recounted (a largest follower count can go down).
    again = posts(300, seed=1)[:120]
    for item in again:
        item["author"]["followers"] = 5
    ingest(tenant, again)
    assert Mention.objects.for_tenant(tenant).filter(author_followers=5).count() == 120
    assert_same_answers(tenant, queries)

    # Deleted by a tenant admin: gone from the rollup too (hours left empty lose their rows).
    doomed = list(
        Mention.objects.for_tenant(tenant)
        .filter(author_handle__in=["sari", "mediakota"])
        .values_list("pk", flat=True)[:60]
    )
    assert services.delete_mentions(tenant=tenant, ids=doomed) == 60
    assert_same_answers(tenant, queries)

    # Retention: everything published before 05:00 goes, and its authors with it.
    Tenant.objects.filter(pk=tenant.pk).update(mention_retention_days=30)
    result = retention.apply_retention(
        tenant_id=tenant.pk, now=T0 + timedelta(days=30, hours=5), batch_size=37
    )
    assert result.finished and result.mentions_deleted > 0
    assert not AuthorBucket.objects.for_tenant(tenant).filter(bucket__lt=T0 + timedelta(hours=5))
    assert not AuthorSlot.objects.for_tenant(tenant).filter(bucket__lt=T0 + timedelta(hours=5))
    assert_same_answers(tenant, queries)
    # The other tenant was never touched.
    assert stored(other_tenant.pk) == recounted(other_tenant.pk)
    assert stored(other_tenant.pk, AuthorSlot) == recounted(other_tenant.pk, authors.slot_of)


def test_top_authors_walks_the_rollup_not_the_mentions(tenant: Tenant) -> None:
    """A whole-hour period reads no mention row: the answer comes from the rollup alone."""
    ingest(tenant, posts(200, seed=2))
    since, until = T0 + timedelta(hours=1), T0 + timedelta(hours=11)
    expected = scanned(tenant.pk, since, until, 3, None)
    Mention.objects.for_tenant(tenant).filter(
        published_at__gte=since, published_at__lt=until
    ).update(author_followers=0)  # behind the rollup's back: it must not be read
    got = authors.top_authors(tenant.pk, since=since, until=until, limit=3)
    assert got == expected


def test_top_authors_reads_the_partial_hours_from_the_slots(tenant: Tenant) -> None:
    """A period that starts and ends on 5-minute boundaries inside hours reads no mention row
    either: its partial hours come from the 5-minute rollup."""
    ingest(tenant, posts(300, seed=3))
    for since, until in [
        (T0 + timedelta(minutes=25), T0 + timedelta(hours=10, minutes=40)),  # hours and slots
        (T0 + timedelta(hours=2, minutes=10), T0 + timedelta(hours=3, minutes=45)),  # slots only
    ]:
        for limit in (1, 3, 100):
            expected = scanned(tenant.pk, since, until, limit, None)
            with transaction.atomic():
                Mention.objects.for_tenant(tenant).update(author_followers=0, author_name="")
                got = authors.top_authors(tenant.pk, since=since, until=until, limit=limit)
                transaction.set_rollback(True)
            assert got == expected, (since, until, limit)
