"""The live hoax rule's band table holds one row per (tenant, band hash): the latest member with
that band value, so a mention meets at most one earlier member per band however many copies a
campaign has had, and a copy still joins its campaign's cluster. The migration that introduced
it rebuilds the same rows from the stored member signatures, with the same hash as the live
rule. Judging a grown cluster reads at most ``HOAX_JUDGE_CAP`` of its members."""

from __future__ import annotations

import importlib
import random
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from monitoring.alerting.hoax import band_hashes, hash_values
from monitoring.demodata import generate
from monitoring.early_warning import live
from monitoring.models import Alert, HoaxBand, HoaxCluster, HoaxMember
from tests.early_warning.test_hoax_cost import claims
from tests.early_warning.test_live import ingest, only, post

pytestmark = pytest.mark.django_db

MIGRATION = importlib.import_module("monitoring.migrations.0026_hoax_bands_16x3")


def edited_copies(claim: str, n: int, seed: int) -> list[str]:
    """``n`` copies of a claim, each with one word swapped for a made-up one (distinct
    signatures that are still near copies)."""
    rng = random.Random(seed)
    words = claim.split()
    out = []
    for _ in range(n):
        copy = list(words)
        copy[rng.randrange(len(copy))] = "".join(rng.choice("bdgkmp") + "a" for _ in range(3))
        out.append(" ".join(copy))
    return out


def band_rows(tenant: Any) -> set[tuple[int, int, int]]:
    """(band, hash, mention) of the tenant's band rows."""
    return set(HoaxBand.objects.for_tenant(tenant).values_list("band", "hash", "mention_id"))


def test_the_migration_hashes_bands_as_the_live_rule() -> None:
    values = [v for v in hash_values([i["text"] for i in generate(200, seed=4)]) if v is not None]
    matrix = np.stack(values).astype(np.uint64)
    assert np.array_equal(
        MIGRATION.band_hashes(matrix), band_hashes(matrix, live.HOAX_BANDS, live.HOAX_ROWS)
    )


def test_a_long_campaign_stays_one_cluster_with_one_band_row_per_hash(tenant: Any) -> None:
    rule = only(tenant, "hoax-spread")["hoax-spread"]
    claim = " ".join(claims(1, seed=9)[0].split()[:16])
    copies = edited_copies(claim, 60, seed=3)
    noise = claims(30, seed=10)
    now = timezone.now() - timedelta(minutes=30)
    for chunk in range(3):
        items = [
            post(
                f"c{chunk}-{i}",
                text,
                now + timedelta(seconds=60 * chunk + i),
                handle=f"a{chunk}{i}",
            )
            for i, text in enumerate(copies[chunk * 20 : (chunk + 1) * 20])
        ] + [
            post(f"n{chunk}-{i}", text, now + timedelta(seconds=60 * chunk + i), handle=f"n{i}")
            for i, text in enumerate(noise[chunk * 10 : (chunk + 1) * 10])
        ]
        ingest(tenant, items)
    cluster = HoaxCluster.objects.for_tenant(tenant).get()
    assert cluster.member_count == 60 and cluster.author_count == 60
    assert Alert.objects.for_tenant(tenant).filter(rule=rule).count() == 1
    members = list(
        HoaxMember.objects.for_tenant(tenant)
        .order_by("published_at", "mention_id")
        .values_list("mention_id", "signature")
    )
    assert len(members) == 90
    # one row per hash, holding its band and the latest member with it
    latest: dict[int, tuple[int, int]] = {}
    matrix = np.stack([np.frombuffer(bytes(sig), dtype=np.uint64) for _, sig in members])
    for (mention_id, _), hashes in zip(
        members, band_hashes(matrix, live.HOAX_BANDS, live.HOAX_ROWS).tolist(), strict=True
    ):
        for band, value in enumerate(hashes):
            latest[value] = (band, mention_id)
    assert band_rows(tenant) == {(band, value, mid) for value, (band, mid) in latest.items()}
    assert len(latest) < 90 * live.HOAX_BANDS  # the copies share most of their bands


def test_the_migration_rebuilds_the_rows_from_stored_signatures(tenant: Any) -> None:
    only(tenant, "hoax-spread")
    now = timezone.now() - timedelta(minutes=30)
    texts = edited_copies(claims(1, seed=11)[0], 12, seed=5) + claims(8, seed=12)
    for chunk in range(4):
        ingest(
            tenant,
            [
                post(f"r{chunk}-{i}", text, now + timedelta(seconds=30 * chunk + i))
                for i, text in enumerate(texts[chunk * 5 : (chunk + 1) * 5])
            ],
        )
    before = band_rows(tenant)
    assert before
    editor = SimpleNamespace(connection=connection)
    MIGRATION.rebuild_32x4(None, editor)  # back: the rows of 32 bands of 4
    assert len(band_rows(tenant)) > len(before)
    MIGRATION.rebuild(None, editor)
    assert band_rows(tenant) == before


def test_judging_reads_at_most_the_cap_of_a_clusters_members(
    tenant: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    only(tenant, "hoax-spread")
    monkeypatch.setattr(live, "HOAX_JUDGE_CAP", 4)
    now = timezone.now() - timedelta(minutes=30)
    texts = edited_copies(claims(1, seed=13)[0], 10, seed=6)
    ingest(tenant, [post(f"j{i}", t, now + timedelta(seconds=i)) for i, t in enumerate(texts)])
    cluster = HoaxCluster.objects.for_tenant(tenant).get()
    assert cluster.member_count == 10 and cluster.author_count == 10
    alert = Alert.objects.for_tenant(tenant).get()
    assert alert.observed == 4  # the four earliest members' authors: enough to fire at three


def test_the_clusters_a_chunk_alerts_are_marked_in_one_statement(tenant: Any) -> None:
    only(tenant, "hoax-spread")
    now = timezone.now() - timedelta(minutes=30)
    loud = [edited_copies(claim, 4, seed=20 + n) for n, claim in enumerate(claims(2, seed=21))]
    quiet = edited_copies(claims(1, seed=22)[0], 2, seed=23)  # two authors: below three
    items = [
        post(f"m{n}-{i}", text, now + timedelta(seconds=i), handle=f"m{n}-{i}")
        for n, copies in enumerate([*loud, quiet])
        for i, text in enumerate(copies)
    ]
    with CaptureQueriesContext(connection) as captured:
        ingest(tenant, items)
    clusters = HoaxCluster.objects.for_tenant(tenant)
    assert clusters.count() == 3
    assert clusters.filter(member_count=4, alerted_at__isnull=False).count() == 2
    assert clusters.get(member_count=2).alerted_at is None
    assert Alert.objects.for_tenant(tenant).count() == 2
    # marked by the one update of the chunk's grown clusters, written after their alerts
    updates = [
        " ".join(q["sql"].split())
        for q in captured.captured_queries
        if q["sql"].lstrip().startswith("UPDATE") and "hoaxcluster" in q["sql"]
    ]
    assert len(updates) == 1 and "alerted_at = u.alerted_at" in updates[0]


def test_deleting_a_tenant_takes_its_band_rows_along(tenant: Any, other_tenant: Any) -> None:
    # the band table's tenant key has no database constraint: Django's cascade deletes them
    now = timezone.now() - timedelta(minutes=30)
    for owner in (tenant, other_tenant):
        only(owner, "hoax-spread")
        ingest(owner, [post(f"d{i}", t, now) for i, t in enumerate(claims(3, seed=30))])
    assert band_rows(tenant) and band_rows(other_tenant)
    kept = band_rows(other_tenant)
    tenant_id = tenant.pk
    tenant.delete()
    assert not HoaxBand.objects.for_tenant(tenant_id).exists()
    assert band_rows(other_tenant) == kept
