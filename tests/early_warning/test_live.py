"""Early warning live: rules judged from the pipeline outbox as chunks commit, on the real
database, with tasks run from django-q2's queue as a worker would (``run_queued``)."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone

from monitoring import services as monitoring_services
from monitoring.choices import AlertStatus
from monitoring.early_warning import live, services
from monitoring.models import (
    Alert,
    AlertEvent,
    AlertRule,
    DetectorState,
    EngagementSnapshot,
    HoaxBand,
    HoaxCluster,
    HoaxClusterAuthor,
    HoaxMember,
    Mention,
    MetricBucket,
    OwnedAccount,
    PipelineEvent,
)
from tenants.models import OutboxDelivery
from tests.monitoring.test_outbox import run_queued

pytestmark = pytest.mark.django_db


def post(
    n: Any,
    text: str,
    published: datetime,
    *,
    handle: str | None = None,
    followers: int = 100,
    likes: int = 1,
    lang: str = "id",
    platform: str = "x",
) -> dict[str, Any]:
    return {
        "platform": platform,
        "external_id": str(n),
        "text": text,
        "published_at": published.isoformat(),
        "lang": lang,
        "author": {"handle": handle or f"user{n}", "followers": followers},
        "engagement": {"likes": likes, "shares": 0},
    }


def ingest(tenant: Any, objects: list[dict[str, Any]]) -> None:
    monitoring_services.accept_items(tenant=tenant, objects=objects)
    run_queued()


def only(tenant: Any, *kinds: str) -> dict[str, AlertRule]:
    """The tenant's rules of these kinds, created and enabled (nothing else enabled)."""
    services.ensure_default_rules(tenant=tenant)
    AlertRule.objects.for_tenant(tenant).exclude(kind__in=kinds).update(enabled=False)
    return {r.kind: r for r in AlertRule.objects.for_tenant(tenant).filter(kind__in=kinds)}


def steady_history(tenant: Any, now: datetime, per_bucket: int = 10, days: int = 2) -> None:
    """Quiet rollups (every 5 minutes, ``per_bucket`` mentions) up to the bucket before now."""
    current = live.floor_bucket(now)
    MetricBucket.objects.bulk_create(
        [
            MetricBucket(
                tenant=tenant,
                query_id=0,
                bucket=current - live.BUCKET * k,
                mentions=per_bucket,
                neutral=per_bucket,
            )
            for k in range(1, days * 288)
        ]
    )


def test_a_spike_fires_once_and_later_chunks_merge(tenant: Any) -> None:
    rule = only(tenant, "spike")["spike"]
    now = timezone.now()
    steady_history(tenant, now)
    ingest(tenant, [post(f"a{n}", f"Kopi Senja antre lagi {n}", now) for n in range(150)])
    alert = Alert.objects.for_tenant(tenant).get()
    assert alert.rule_id == rule.pk and alert.kind == "spike" and alert.status == "open"
    assert alert.observed >= alert.threshold > alert.baseline > 0
    assert alert.sigma and "mentions in the 15 minutes" in alert.explanation
    assert alert.window_end > alert.window_start
    assert len(alert.sample_mention_ids) == live.SAMPLES
    ingest(tenant, [post(f"b{n}", f"Kopi Senja antre lagi {n}", now) for n in range(150)])
    assert Alert.objects.for_tenant(tenant).count() == 1  # one spike, one alert
    state = DetectorState.objects.for_tenant(tenant).get(rule=rule)
    assert state.due_at == live.floor_bucket(now) + live.BUCKET + live.SETTLE


def test_backfilled_mentions_update_rollups_but_never_fire(tenant: Any) -> None:
    only(tenant, "spike", "influential-author")
    now = timezone.now()
    steady_history(tenant, now - timedelta(hours=3))
    old = now - timedelta(hours=3)
    ingest(
        tenant,
        [post(f"o{n}", f"Kopi Senja basi, goblok semua {n}", old) for n in range(150)]
        + [post("big", "Kopi Senja penipu goblok, jangan beli!", old, followers=5_000_000)],
    )
    rollup = MetricBucket.objects.for_tenant(tenant).get(query_id=0, bucket=live.floor_bucket(old))
    assert rollup.mentions >= 151
    assert not Alert.objects.for_tenant(tenant).exists()
    # The same kind of post, live, does fire.
    ingest(
        tenant, [post("big2", "Kopi Senja penipu goblok, jangan beli!", now, followers=5_000_000)]
    )
    assert list(Alert.objects.for_tenant(tenant).values_list("kind", flat=True)) == [
        "influential-author"
    ]


def test_the_sweep_closes_quiet_buckets_and_wakes_snoozes(tenant: Any) -> None:
    rule = only(tenant, "spike")["spike"]
    now = timezone.now()
    steady_history(tenant, now)
    ingest(tenant, [post(f"a{n}", f"Kopi Senja antre {n}", now) for n in range(150)])
    alert = Alert.objects.for_tenant(tenant).get()
    services.snooze(alert=alert, user=None, until=now + timedelta(minutes=10))
    later = now + timedelta(hours=2)
    swept = live.sweep(now=later)
    assert swept.series == 1 and swept.woken == 1 and swept.fired == 0
    state = DetectorState.objects.for_tenant(tenant).get(rule=rule)
    assert state.due_at == live.floor_bucket(later) + live.BUCKET + live.SETTLE
    assert state.state["pending"] == {}
    assert not state.state["detector"]["episode_open"]  # the quiet buckets closed the episode
    alert.refresh_from_db()
    assert alert.status == AlertStatus.OPEN and alert.acknowledged_at is None
    assert live.sweep(now=later).series == 0  # nothing due until the next bucket closes


HOAX = (
    "Beredar kabar Kopi Senja pakai biji kopi kadaluarsa dari gudang bekas, "
    "sudah banyak korban keracunan di Jakarta"
)


def test_hoax_clusters_span_workers_and_band_hashes_are_pruned(tenant: Any) -> None:
    rule = only(tenant, "hoax-spread")["hoax-spread"]
    now = timezone.now()
    copies = [
        HOAX,
        HOAX.upper() + " 😱😱",
        "#KopiSenja " + HOAX + " https://beritaviral.blogspot.com/x",
        HOAX + " #viral",
    ]
    unrelated = post("u1", "Pagi ini ngopi di Kopi Senja cabang Bandung, enak sekali rasanya", now)
    # Each copy arrives in its own batch: its own chunk, delivery and transaction, as separate
    # workers would handle them. What ties them together is the database.
    for n, text in enumerate(copies):
        ingest(tenant, [post(f"h{n}", text, now + timedelta(seconds=n), handle=f"akun{n}")])
        if n == 0:
            ingest(tenant, [unrelated])
        fired = Alert.objects.for_tenant(tenant).filter(rule=rule)
        assert fired.count() == (1 if n >= 2 else 0)
    cluster = HoaxCluster.objects.for_tenant(tenant).get()
    assert cluster.member_count == 4 and cluster.author_count == 4
    assert cluster.member_authors == 4  # kept from each chunk's new members
    assert cluster.first_poster == "akun0" and cluster.authors[:2] == ["akun0", "akun1"]
    assert cluster.spread and sum(row["mentions"] for row in cluster.spread) == 4
    alert = Alert.objects.for_tenant(tenant).get()
    assert alert.cluster_id == cluster.pk and alert.evidence_count == 2  # the 4th merged
    assert alert.subject["cluster"]["first_poster"] == "akun0"
    kinds = list(AlertEvent.objects.for_tenant(tenant).values_list("kind", flat=True))
    assert kinds == ["fired", "merged"]
    unrelated_id = Mention.objects.for_tenant(tenant).get(external_id="u1").pk
    member = HoaxMember.objects.for_tenant(tenant).get(mention_id=unrelated_id)
    assert member.cluster_id is None
    # one band row per hash: the four copies have one claim key (every band shared, the row
    # holds the latest copy), the unrelated post its own
    bands = HoaxBand.objects.for_tenant(tenant)
    assert bands.count() == 2 * live.HOAX_BANDS
    latest = Mention.objects.for_tenant(tenant).get(external_id="h3").pk
    assert bands.filter(mention_id=latest).count() == live.HOAX_BANDS
    assert live.prune(now=now + timedelta(hours=23)) == 0
    # band rows, five members, the cluster's four authors
    assert live.prune(now=now + timedelta(hours=25)) == 2 * live.HOAX_BANDS + 5 + 4
    assert not HoaxBand.objects.for_tenant(tenant).exists()
    assert not HoaxClusterAuthor.objects.for_tenant(tenant).exists()
    cluster = HoaxCluster.objects.for_tenant(tenant).get()  # the record stays
    assert cluster.member_authors is None  # its authors gone: no longer counted


def test_an_owned_account_posting_unlike_itself_names_the_departed_features(tenant: Any) -> None:
    only(tenant, "owned-account")
    services.create_owned_account(tenant=tenant, platform="x", handle="@KopiSenja")
    now = timezone.now()
    history = [
        post(
            f"own{n}",
            f"Selamat pagi sahabat Senja, promo kopi gula aren hari ini nomor {n}",
            now - timedelta(days=1, minutes=30 * n),
            handle="KopiSenja",
        )
        for n in range(25)
    ]
    ingest(tenant, history)  # backfilled: learnt, never judged
    assert not Alert.objects.for_tenant(tenant).exists()
    account = OwnedAccount.objects.for_tenant(tenant).get()
    assert account.posts_seen == 25
    hijacked = post(
        "own-x",
        "Claim your free crypto airdrop now, verify your account at https://bit.ly/claim-now",
        now,
        handle="KopiSenja",
        lang="en",
    )
    ingest(tenant, [hijacked])
    alert = Alert.objects.for_tenant(tenant).get()
    features = {f["feature"] for f in alert.details["features"]}
    assert {"language", "link domain", "scam wording"} <= features
    assert "language: en" in alert.explanation and "bit.ly" in alert.explanation
    assert alert.dedupe_key == "owned-account:x:kopisenja"


def test_velocity_from_items_a_source_delivers_again(tenant: Any) -> None:
    rule = only(tenant, "velocity")["velocity"]
    published = timezone.now() - timedelta(minutes=10)
    ingest(tenant, [post("v1", "Kopi Senja viral lagi nih", published, likes=3)])
    assert not EngagementSnapshot.objects.for_tenant(tenant).exists()  # inserts are no snapshot
    ingest(tenant, [post("v1", "Kopi Senja viral lagi nih", published, likes=40)])
    assert EngagementSnapshot.objects.for_tenant(tenant).count() == 1
    assert not Alert.objects.for_tenant(tenant).exists()
    time.sleep(1.2)
    ingest(tenant, [post("v1", "Kopi Senja viral lagi nih", published, likes=900)])
    alert = Alert.objects.for_tenant(tenant).get()
    assert alert.rule_id == rule.pk and alert.kind == "velocity"
    assert alert.observed >= alert.threshold and "an hour" in alert.explanation
    ingest(tenant, [post("v1", "Kopi Senja viral lagi nih", published, likes=900)])  # unchanged
    assert EngagementSnapshot.objects.for_tenant(tenant).count() == 2


def test_keywords_keep_their_window_across_chunks(tenant: Any) -> None:
    only(tenant)
    rule = services.create_rule(
        tenant=tenant, name="Kata", kind="trigger-keywords", params={"keywords": ["kopi basi"]}
    )
    now = timezone.now()
    ingest(tenant, [post("k1", "Wah #KopiBasi di cabang Depok", now, handle="a")])
    assert not Alert.objects.for_tenant(tenant).exists()
    ingest(tenant, [post("k2", "kopi basi lagi hari ini", now, handle="b")])
    alert = Alert.objects.for_tenant(tenant).get()
    assert alert.rule_id == rule.pk and alert.dedupe_key == "trigger-keywords:kopi basi"
    assert len(alert.sample_mention_ids) == 1


def test_a_delivery_judges_the_tenants_pending_chunks_together(tenant: Any) -> None:
    """Two chunks committed before early warning got to either: the first delivery takes both
    (one evaluation, both mentions as the alert's evidence), the second finds its event done."""
    only(tenant)
    services.create_rule(
        tenant=tenant, name="Kata", kind="trigger-keywords", params={"keywords": ["kopi basi"]}
    )
    now = timezone.now()
    monitoring_services.accept_items(
        tenant=tenant, objects=[post("k1", "Wah #KopiBasi di cabang Depok", now, handle="a")]
    )
    monitoring_services.accept_items(
        tenant=tenant, objects=[post("k2", "kopi basi lagi hari ini", now, handle="b")]
    )
    run_queued()
    alert = Alert.objects.for_tenant(tenant).get()
    both = Mention.objects.for_tenant(tenant).values_list("id", flat=True)
    assert sorted(alert.sample_mention_ids) == sorted(both)
    events = PipelineEvent.objects.for_tenant(tenant)
    assert events.count() == 2 and not events.filter(delivered_at__isnull=True).exists()
    claims = OutboxDelivery.objects.for_tenant(tenant).filter(subscriber=live.SUBSCRIBER)
    assert sorted(claims.values_list("event_id", flat=True)) == sorted(
        events.values_list("pk", flat=True)
    )
    assert len({claim.processed_at for claim in claims}) == 1  # one transaction
