"""The pipeline on mention and rollup tables hash-partitioned by tenant, as a sharded PostgreSQL
(Citus, by tenant) or partition-based retention would have them.

The test turns ``monitoring_mention``, ``monitoring_metricbucket`` and ``monitoring_termbucket``
into ``PARTITION BY HASH (tenant_id)`` tables of four partitions, with the primary key
``(tenant_id, id)`` and every UNIQUE constraint including ``tenant_id`` (the shape PostgreSQL
requires of a partitioned table), and puts the real tables back afterwards. A real django-q2
cluster with two workers then runs the real pipeline twice on the same items, sent the way ingest
sends them (``services.accept_items``), with every chunk queued twice in a row so both workers
store the same items at the same time. Mentions, 5-minute rollups, hourly term rollups and the
outbox events must come out exact. Retention then works on the partitioned table too.
"""

from __future__ import annotations

import signal
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.db.models import Sum
from django.utils import timezone

from monitoring import pipeline, retention, services
from monitoring.models import (
    IngestBatch,
    IngestChunk,
    Mention,
    MetricBucket,
    MonitoredQuery,
    PipelineEvent,
    TermBucket,
)
from tenants import rls
from tests.factories import TenantFactory
from tests.monitoring.test_pipeline import item
from tests.monitoring.test_worker_crash import wait_for
from tests.test_ops import start_cluster

PARTITIONS = 4
# table -> the UNIQUE constraints of the model, each with tenant_id (a partitioned table's
# unique constraints must include the partition key); the ON CONFLICT targets of the pipeline.
PARTITIONED = {
    "monitoring_mention": ["tenant_id, platform, external_id"],
    "monitoring_metricbucket": ["tenant_id, query_id, bucket"],
    "monitoring_termbucket": ["tenant_id, query_id, kind, bucket, text"],
}
ITEMS = 160
CHUNK = 40


def _partition(cursor: Any, table: str, uniques: list[str]) -> None:
    keep = f"{table}_unpartitioned"
    cursor.execute(f"ALTER TABLE {table} RENAME TO {keep}")
    constraints = [f"CONSTRAINT {table}_part_pkey PRIMARY KEY (tenant_id, id)"] + [
        f"CONSTRAINT {table}_part_unique{n} UNIQUE ({columns})" for n, columns in enumerate(uniques)
    ]
    cursor.execute(
        f"CREATE TABLE {table} (LIKE {keep} INCLUDING DEFAULTS INCLUDING GENERATED "
        f"INCLUDING IDENTITY INCLUDING CONSTRAINTS, {', '.join(constraints)}) "
        f"PARTITION BY HASH (tenant_id)"
    )
    for remainder in range(PARTITIONS):
        cursor.execute(
            f"CREATE TABLE {table}_p{remainder} PARTITION OF {table} "
            f"FOR VALUES WITH (MODULUS {PARTITIONS}, REMAINDER {remainder})"
        )


def _restore(cursor: Any, table: str) -> None:
    cursor.execute(f"DROP TABLE IF EXISTS {table}")  # with its partitions
    cursor.execute(f"ALTER TABLE {table}_unpartitioned RENAME TO {table}")


@pytest.fixture
def partitioned(transactional_db: Any) -> Iterator[None]:
    """The three tables hash-partitioned by tenant for the test; the real ones put back after
    it (before the test database is flushed)."""
    done = []
    try:
        # Tables are the owner's to change; the new ones get their row-level-security policies
        # as ``migrate`` gives them (the application role runs the test, as in production).
        with rls.owner_connection("test: partitioning"), connection.cursor() as cursor:
            for table, uniques in PARTITIONED.items():
                _partition(cursor, table, uniques)
                done.append(table)
            rls.apply_policies()
        yield
    finally:
        with rls.owner_connection("test: unpartitioning"), connection.cursor() as cursor:
            for table in reversed(done):
                _restore(cursor, table)


def partition_of(tenant_id: int) -> int:
    with connection.cursor() as cursor:
        for remainder in range(PARTITIONS):
            cursor.execute(
                "SELECT satisfies_hash_partition("
                "'monitoring_mention'::regclass, %s, %s, %s::bigint)",
                [PARTITIONS, remainder, tenant_id],
            )
            if cursor.fetchone()[0]:
                return remainder
    raise AssertionError(f"tenant {tenant_id} fits no partition")


def tenants_in_two_partitions() -> list[Any]:
    """Three tenants, two of them in different partitions (tenant ids come from a sequence)."""
    tenants = [TenantFactory(), TenantFactory()]
    while len({partition_of(t.pk) for t in tenants}) < 2:
        tenants.append(TenantFactory())
    return [*tenants, TenantFactory()]


def objects(n: int, likes: int = 2) -> list[dict[str, Any]]:
    texts = (
        "Kopi Senja enak banget, mantap! #kopisenja",
        "Pelayanan Kopi Senja lambat, kecewa. #boikotkopisenja",
        "Banjir lagi di Jakarta #banjir",
        "Harga kopi naik terus",
    )
    hours = ("2026-11-20T08:16:00+07:00", "2026-11-20T09:41:00+07:00", "2025-01-02T10:00:00Z")
    return [
        item(
            k,
            f"{texts[k % len(texts)]} ({k})",
            published_at=hours[k % len(hours)],
            engagement={"likes": likes + k % 3, "shares": 1},
        )
        for k in range(n)
    ]


def ingest_twice_in_a_row(tenant: Any, items: list[dict[str, Any]]) -> None:
    """Each chunk of items is accepted twice in a row, so its two tasks sit side by side in the
    queue and the two workers store the same items at the same time."""
    for start in range(0, len(items), CHUNK):
        for _ in range(2):
            services.accept_items(tenant=tenant, objects=items[start : start + CHUNK])


def run_cluster_until_done() -> None:
    cluster = start_cluster(Q_WORKERS="2", Q_TIMEOUT="60", Q_RETRY="90")
    try:
        wait_for(
            lambda: not IngestChunk.objects.filter(done_at__isnull=True).exists(),
            240,
            "every chunk",
        )
    finally:
        cluster.send_signal(signal.SIGTERM)
        cluster.wait(timeout=60)
    assert not IngestBatch.objects.filter(status="failed").exists()


def expected_rollups(tenant: Any, query: MonitoredQuery) -> dict[str, Counter[Any]]:
    """The rollups recomputed from the stored mentions: what the pipeline's counts must be."""
    mentions = list(Mention.objects.for_tenant(tenant))
    five_min = Counter()
    terms = Counter()
    for mention in mentions:
        epoch = int(mention.published_at.timestamp())
        bucket = epoch - epoch % 300
        hour = mention.published_at.replace(minute=0, second=0, microsecond=0)
        for query_id in (0, *mention.matched_queries):
            five_min[(query_id, bucket, "mentions")] += 1
            five_min[(query_id, bucket, mention.sentiment or "none")] += 1
            for tag in mention.hashtags:
                terms[(query_id, "hashtag", hour, tag)] += 1
    assert any(key[0] == query.pk for key in five_min), "the query matched nothing"
    return {"five_min": five_min, "terms": terms}


def stored_rollups(tenant: Any) -> dict[str, Counter[Any]]:
    five_min = Counter()
    for row in MetricBucket.objects.for_tenant(tenant):
        bucket = int(row.bucket.timestamp())
        five_min[(row.query_id, bucket, "mentions")] += row.mentions
        for sentiment in ("positive", "neutral", "negative"):
            if getattr(row, sentiment):
                five_min[(row.query_id, bucket, sentiment)] += getattr(row, sentiment)
        # mentions without a sentiment (scorer errors) are counted in no sentiment column
        rest = row.mentions - row.positive - row.neutral - row.negative
        if rest:
            five_min[(row.query_id, bucket, "none")] += rest
    terms = Counter(
        {
            (row.query_id, row.kind, row.bucket, row.text): row.mentions
            for row in TermBucket.objects.for_tenant(tenant).filter(kind="hashtag")
        }
    )
    return {"five_min": five_min, "terms": terms}


def test_a_chunk_stored_twice_on_partitioned_tables_counts_once(partitioned: None) -> None:
    """The pipeline in this process (its SQL checked by tests/sqlpin.py): a chunk, then the same
    items again with changed engagement."""
    tenant = TenantFactory()
    MonitoredQuery.objects.create(tenant=tenant, name="kopi", query="kopi OR #banjir")
    first = objects(CHUNK)
    services.accept_items(tenant=tenant, objects=first)
    run_in_process(tenant)
    second = [{**obj, "engagement": {"likes": 900, "shares": 1}} for obj in first[:5]]
    services.accept_items(tenant=tenant, objects=first + second)  # 5 items changed, sent twice
    run_in_process(tenant)
    mentions = Mention.objects.for_tenant(tenant)
    assert mentions.count() == CHUNK and mentions.filter(likes=900).count() == 5
    assert stored_rollups(tenant) == expected_rollups(tenant, MonitoredQuery.objects.get())
    events = list(PipelineEvent.objects.for_tenant(tenant).order_by("pk"))
    assert [len(e.inserted_ids) for e in events] == [CHUNK, 0]  # the resend inserted nothing
    ids = dict(mentions.values_list("external_id", "pk"))
    assert sorted(events[0].inserted_ids) == sorted(ids.values())
    changed = sorted(ids[str(k)] for k in range(5))
    assert [sorted(e.updated_ids) for e in PipelineEvent.objects.for_tenant(tenant)] == [
        [],
        changed,
    ]


def run_in_process(tenant: Any) -> None:
    for chunk in IngestChunk.objects.for_tenant(tenant).filter(done_at__isnull=True):
        pipeline.process_chunk(tenant.pk, chunk.pk)


@pytest.mark.slow
def test_the_pipeline_counts_exactly_on_tables_partitioned_by_tenant(partitioned: None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname FROM pg_class WHERE relkind = 'p' AND relname = ANY(%s)",
            [list(PARTITIONED)],
        )
        assert {row[0] for row in cursor.fetchall()} == set(PARTITIONED)
    tenants = tenants_in_two_partitions()
    queries = {
        t.pk: MonitoredQuery.objects.create(tenant=t, name="kopi", query="kopi OR #banjir")
        for t in tenants
    }
    first = objects(ITEMS)
    for tenant in tenants:
        ingest_twice_in_a_row(tenant, first)
    run_cluster_until_done()

    # The second run: the same items again, a third of them with more likes.
    second = [
        {**obj, "engagement": {"likes": 500 + k, "shares": 1}} if k % 3 == 0 else obj
        for k, obj in enumerate(first)
    ]
    for tenant in tenants:
        ingest_twice_in_a_row(tenant, second)
    run_cluster_until_done()

    for tenant in tenants:
        mentions = Mention.objects.for_tenant(tenant)
        assert mentions.count() == ITEMS
        assert mentions.values("external_id").distinct().count() == ITEMS
        changed = {str(k) for k in range(0, ITEMS, 3)}
        assert set(mentions.filter(likes__gte=500).values_list("external_id", flat=True)) == changed
        total = MetricBucket.objects.for_tenant(tenant).filter(query_id=0)
        assert total.aggregate(n=Sum("mentions"))["n"] == ITEMS
        expected = expected_rollups(tenant, queries[tenant.pk])
        stored = stored_rollups(tenant)
        assert stored["five_min"] == expected["five_min"]
        assert stored["terms"] == expected["terms"] and stored["terms"]
        # Every mention was inserted by exactly one chunk, and reported so exactly once.
        events = PipelineEvent.objects.for_tenant(tenant)
        inserted = [i for e in events for i in e.inserted_ids]
        assert sorted(inserted) == sorted(mentions.values_list("pk", flat=True))
        updated = Counter(i for e in events for i in e.updated_ids)
        ids = dict(mentions.values_list("external_id", "pk"))
        assert set(updated) == {ids[e] for e in changed}  # unchanged resends are in neither
        batches = IngestBatch.objects.for_tenant(tenant)
        assert batches.aggregate(n=Sum("inserted_count"))["n"] == ITEMS
        assert batches.aggregate(n=Sum("duplicate_count"))["n"] == 3 * ITEMS

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(DISTINCT tableoid) FROM monitoring_mention WHERE tenant_id = ANY(%s)",
            [[t.pk for t in tenants]],
        )
        assert cursor.fetchone()[0] >= 2  # the rows really are spread over partitions

    # Retention deletes mentions by tenant and id: it works on the partitioned table.
    tenant = tenants[0]
    tenant.mention_retention_days = 365
    tenant.save(update_fields=["mention_retention_days"])
    now = timezone.now().replace(year=2026, month=12, day=1)
    old = Mention.objects.for_tenant(tenant).filter(published_at__lt=now - timedelta(days=365))
    n_old = old.count()
    assert 0 < n_old < ITEMS
    before = MetricBucket.objects.for_tenant(tenant).aggregate(n=Sum("mentions"))["n"]
    result = retention.apply_retention(tenant_id=tenant.pk, now=now)
    assert result.mentions_deleted == n_old and not old.exists()
    assert Mention.objects.for_tenant(tenant).count() == ITEMS - n_old
    assert MetricBucket.objects.for_tenant(tenant).aggregate(n=Sum("mentions"))["n"] == before
    assert Mention.objects.for_tenant(tenants[1]).count() == ITEMS  # other tenants untouched
