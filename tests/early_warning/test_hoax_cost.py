"""The live hoax rule's cost per chunk: a fixed number of SQL statements whatever the number of
clusters it grows or starts, and the rollup sums it reads once per chunk for the chatter test
equal to the per-cluster aggregate it replaced."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.db.models import Q, Sum
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from monitoring.early_warning import live
from monitoring.models import Alert, HoaxCluster, HoaxMember, MetricBucket
from tests.early_warning.test_live import ingest, only, post

pytestmark = pytest.mark.django_db


def claims(n: int, seed: int) -> list[str]:
    """``n`` unrelated claims of 12 made-up words each (no two near copies)."""
    rng = random.Random(seed)
    letters = "bcdfgjklmnprstvz"
    vowels = "aiueo"

    def word() -> str:
        return "".join(rng.choice(letters) + rng.choice(vowels) for _ in range(3))

    return [" ".join(word() for _ in range(12)) for _ in range(n)]


def second_chunk_statements(tenant: Any, campaigns: int, seed: int) -> int:
    """Statements of the chunk (pipeline and delivery) that brings a second author's copy of
    each of ``campaigns`` claims posted once before: each copy starts a cluster with a stored
    first member."""
    now = timezone.now()
    texts = claims(campaigns, seed)
    ingest(
        tenant, [post(f"a{seed}-{i}", t, now, handle=f"a{seed}-{i}") for i, t in enumerate(texts)]
    )
    later = now + timedelta(seconds=5)
    copies = [
        post(f"b{seed}-{i}", t.upper() + " #viral", later, handle=f"b{seed}-{i}")
        for i, t in enumerate(texts)
    ]
    with CaptureQueriesContext(connection) as captured:
        ingest(tenant, copies)
    return len(captured)


def test_a_chunk_costs_the_same_statements_for_5_or_40_new_clusters(tenant: Any) -> None:
    only(tenant, "hoax-spread")
    few = second_chunk_statements(tenant, 5, seed=1)
    many = second_chunk_statements(tenant, 40, seed=2)
    assert HoaxCluster.objects.for_tenant(tenant).count() == 45
    for cluster in HoaxCluster.objects.for_tenant(tenant):
        assert cluster.member_count == 2 and cluster.author_count == 2
        assert cluster.key.startswith("x:a")  # the stored first copy is the cluster's first
    members = HoaxMember.objects.for_tenant(tenant)
    assert members.count() == 90 and not members.filter(cluster__isnull=True).exists()
    assert not Alert.objects.for_tenant(tenant).exists()  # two authors: below the rule's three
    assert many == few


def test_rollup_sums_read_once_equal_the_aggregate_per_cluster(tenant: Any) -> None:
    rng = random.Random(5)
    now = live.floor_bucket(timezone.now())
    MetricBucket.objects.bulk_create(
        [
            MetricBucket(tenant=tenant, query_id=q, bucket=now - live.BUCKET * k, mentions=m)
            for k in range(3 * 288)
            for q in (0, 7)
            if (m := rng.choice([0, 1, 5, 40]))
        ]
    )
    volume = live._Volume(tenant.pk, now)  # reads further back when asked
    for _ in range(60):
        tipping = now - timedelta(seconds=rng.randrange(0, 2 * 86400))
        window = timedelta(hours=rng.choice([1, 6, 24]))
        first_at = tipping - window - timedelta(seconds=rng.randrange(1, 86400))
        window_start = tipping - window
        first, split = live.floor_bucket(first_at), live.floor_bucket(window_start)
        expected = (
            MetricBucket.objects.for_tenant(tenant)
            .filter(query_id=0, bucket__gte=first, bucket__lte=tipping)
            .aggregate(
                recent=Sum("mentions", filter=Q(bucket__gte=split)),
                earlier=Sum("mentions", filter=Q(bucket__lt=split)),
            )
        )
        assert volume.between(split, tipping) == (expected["recent"] or 0)
        assert volume.between(first, split - timedelta(microseconds=1)) == (
            expected["earlier"] or 0
        )


def aggregate(tenant: Any, cluster: HoaxCluster) -> tuple[int, Any, int]:
    """What reading the cluster's members gives (authors, earliest, members in its window)."""
    newest = HoaxMember.objects.for_tenant(tenant).filter(cluster=cluster).latest("published_at")
    window = live.hoax_window(tenant.pk)
    return live._active_members(tenant.pk, [cluster.pk], {cluster.pk: newest.published_at}, window)[
        cluster.pk
    ]


def test_the_kept_author_counts_equal_the_members_aggregate(tenant: Any) -> None:
    only(tenant, "hoax-spread")
    now = timezone.now()
    texts = claims(3, seed=9)
    # three campaigns over four chunks: authors posting twice, in one chunk and across
    # chunks, and a late chunk with earlier copies (a backfill moves the first copy back)
    reads = []
    for chunk, shift in enumerate((0, 60, 120, -600)):
        with CaptureQueriesContext(connection) as captured:
            ingest(
                tenant,
                [
                    post(
                        f"c{chunk}-{i}-{k}",
                        text + (" #viral" if k % 2 else ""),
                        now + timedelta(seconds=shift + k),
                        handle=f"akun{(k + chunk) % 5}",
                    )
                    for i, text in enumerate(texts)
                    for k in range(4)
                ],
            )
        reads.append(
            any("FROM monitoring_hoaxmember m" in q["sql"] for q in captured.captured_queries)
        )
    assert reads == [False] * 4  # judged from the counters, the members not read again
    clusters = list(HoaxCluster.objects.for_tenant(tenant))
    assert len(clusters) == 3
    for cluster in clusters:
        assert cluster.member_authors == 5 and cluster.member_count == 16
        assert aggregate(tenant, cluster) == (
            cluster.member_authors,
            cluster.first_at,
            cluster.member_count,
        )
        assert cluster.first_at == now - timedelta(seconds=600)
    assert Alert.objects.for_tenant(tenant).filter(kind="hoax-spread").count() == 3


def test_a_cluster_without_kept_counts_is_judged_from_its_members(tenant: Any) -> None:
    rule = only(tenant, "hoax-spread")["hoax-spread"]
    now = timezone.now()
    (text,) = claims(1, seed=11)
    ingest(
        tenant, [post(f"o{k}", text, now + timedelta(seconds=k), handle=f"o{k}") for k in (0, 1)]
    )
    cluster = HoaxCluster.objects.for_tenant(tenant).get()
    assert cluster.member_authors == 2
    # as a cluster from before the counts were kept (or one whose authors were pruned)
    HoaxCluster.objects.for_tenant(tenant).update(member_authors=None)
    with CaptureQueriesContext(connection) as captured:
        ingest(tenant, [post("o2", text, now + timedelta(seconds=2), handle="o2")])
    assert any("FROM monitoring_hoaxmember m" in q["sql"] for q in captured.captured_queries)
    alert = Alert.objects.for_tenant(tenant).get(rule=rule)
    assert alert.observed == 3.0  # three authors, read from the members
    cluster.refresh_from_db()
    assert cluster.member_authors is None and cluster.member_count == 3
