"""The demo seeding: queries and terms, realistic mentions through the real pipeline, idempotent."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db.models import Max
from django.utils import timezone

from monitoring import pipeline
from monitoring.demo import HOAX_EDITS, SPIKE_COUNT
from monitoring.demodata import generate
from monitoring.models import (
    IngestBatch,
    IngestChunk,
    Mention,
    MetricBucket,
    MonitoredQuery,
    Source,
    TermBucket,
    TrackedTerm,
)
from tenants.demo import TENANTS
from tenants.models import Membership, Tenant, User

DEMO_SLUGS = [slug for slug, _, _ in TENANTS]

COUNT = 600


def process_all(tenant: Any) -> None:
    for chunk in IngestChunk.objects.for_tenant(tenant).filter(done_at__isnull=True):
        pipeline.process_chunk(tenant.pk, chunk.pk)


def test_seed_mentions_goes_through_the_pipeline_and_is_idempotent(tenant: Any) -> None:
    out = StringIO()
    call_command("seed_mentions", "--tenant", tenant.slug, "--count", str(COUNT), stdout=out)
    assert f"{COUNT} mentions queued" in out.getvalue()
    queries = {q.name: q.pk for q in MonitoredQuery.objects.for_tenant(tenant)}
    assert {"Kopi Senja", "Kopi Senja (EN)", "Boikot", "Keluhan layanan"} <= set(queries)
    assert TrackedTerm.objects.for_tenant(tenant).filter(text="Kopi Senja").exists()
    assert Mention.objects.for_tenant(tenant).count() == 0  # only queued so far

    process_all(tenant)
    mentions = Mention.objects.for_tenant(tenant)
    assert mentions.count() == COUNT
    sentiments = Counter(mentions.values_list("sentiment", flat=True))
    assert all(sentiments[kind] >= COUNT * 0.05 for kind in ("positive", "neutral", "negative"))
    assert {"id", "en"} <= set(mentions.values_list("language", flat=True))
    matched = Counter(q for qs in mentions.values_list("matched_queries", flat=True) for q in qs)
    for name in ("Kopi Senja", "Kopi Senja (EN)", "Boikot", "Keluhan layanan"):
        assert matched[queries[name]] > 0, name
    assert mentions.filter(risk__gte=50).exists()
    assert mentions.filter(hashtags__contains=["#boikotkopisenja"]).exists()
    assert sum(MetricBucket.objects.filter(tenant=tenant, query_id=0).values_list(
        "mentions", flat=True)) == COUNT  # fmt: skip

    out = StringIO()
    call_command("seed_mentions", "--tenant", tenant.slug, "--count", str(COUNT), stdout=out)
    assert f"0 mentions queued in 0 batches ({COUNT} already stored)" in out.getvalue()
    assert MonitoredQuery.objects.for_tenant(tenant).count() == len(queries)


def test_a_resent_demo_batch_makes_no_second_row(tenant: Any) -> None:
    call_command("seed_mentions", "--tenant", tenant.slug, "--count", "50", stdout=StringIO())
    # both sends queued before any processing: the constraint keeps one row per id
    call_command("seed_mentions", "--tenant", tenant.slug, "--count", "50", stdout=StringIO())
    process_all(tenant)
    assert Mention.objects.for_tenant(tenant).count() == 50


def test_unknown_tenant_is_refused(db: Any) -> None:
    with pytest.raises(CommandError, match="no tenant"):
        call_command("seed_mentions", "--tenant", "nope", stdout=StringIO())


def test_generator_is_deterministic_and_ids_are_per_run() -> None:
    first = generate(200, seed=3, run_id="a")
    again = generate(200, seed=3, run_id="a")
    assert [i["text"] for i in first] == [i["text"] for i in again]
    assert len({i["external_id"] for i in first}) == 200
    other = generate(200, seed=3, run_id="b")
    assert not {i["external_id"] for i in first} & {i["external_id"] for i in other}
    assert {i["platform"] for i in generate(2000, seed=3)} == {
        "x", "instagram", "tiktok", "facebook", "news"
    }  # fmt: skip


# --- the whole demo: one idempotent command that keeps the demo at now ----------------------

DEMO_COUNT = 300
STORY = SPIKE_COUNT + len(HOAX_EDITS)  # the alert story's spike and hoax copies


def seed_demo(now: Any = None) -> str:
    out = StringIO()
    if now is None:
        call_command("seed_demo", "--mentions", str(DEMO_COUNT), stdout=out)
    else:
        with time_machine.travel(now, tick=False):
            call_command("seed_demo", "--mentions", str(DEMO_COUNT), stdout=out)
    for tenant in Tenant.objects.filter(slug__in=DEMO_SLUGS):
        process_all(tenant)
    return out.getvalue()


def snapshot() -> dict[str, Any]:
    """What the demo holds, per tenant: counts of every kind of row and the rollup totals."""
    result: dict[str, Any] = {"users": User.objects.count()}
    for tenant in Tenant.objects.filter(slug__in=DEMO_SLUGS):
        buckets = MetricBucket.objects.filter(tenant=tenant, query_id=0)
        result[tenant.slug] = {
            "mentions": Mention.objects.for_tenant(tenant).count(),
            "members": Membership.objects.for_tenant(tenant).count(),
            "queries": MonitoredQuery.objects.for_tenant(tenant).count(),
            "terms": TrackedTerm.objects.for_tenant(tenant).count(),
            "sources": Source.objects.for_tenant(tenant).count(),
            "batches": IngestBatch.objects.for_tenant(tenant).count(),
            "bucket_rows": MetricBucket.objects.for_tenant(tenant).count(),
            "bucketed": sum(buckets.values_list("mentions", flat=True)),
            "term_rows": TermBucket.objects.for_tenant(tenant).count(),
        }
    return result


def newest(tenant: Tenant) -> Any:
    return Mention.objects.for_tenant(tenant).aggregate(m=Max("published_at"))["m"]


def test_seed_demo_is_idempotent_and_fills_both_tenants(db: Any) -> None:
    output = seed_demo()
    assert f"kopi-senja: {DEMO_COUNT} mentions queued" in output
    assert f"bank-lestari: {DEMO_COUNT} mentions queued" in output
    first = snapshot()
    for slug in DEMO_SLUGS:
        assert first[slug]["mentions"] == DEMO_COUNT + STORY == first[slug]["bucketed"], slug
        assert first[slug]["sources"] == 3 and first[slug]["members"] >= 4, slug
    bank = Tenant.objects.get(slug="bank-lestari")
    assert Mention.objects.for_tenant(bank).filter(text__icontains="lestari").exists()

    again = seed_demo()
    assert snapshot() == first
    assert "0 mentions queued" in again and "moved" not in again  # nothing to move yet


def test_seed_demo_moves_every_demo_time_up_to_now(db: Any) -> None:
    seed_demo()
    kopi = Tenant.objects.get(slug="kopi-senja")
    before = snapshot()
    first_newest = newest(kopi)
    source = Source.objects.for_tenant(kopi).get(name="Crawler (ingest API)")
    failing = Source.objects.for_tenant(kopi).get(name="Portal berita (RSS)")
    batch = IngestBatch.objects.for_tenant(kopi).earliest("received_at")
    times = {
        "bucket": MetricBucket.objects.for_tenant(kopi).aggregate(m=Max("bucket"))["m"],
        "term": TermBucket.objects.for_tenant(kopi).aggregate(m=Max("bucket"))["m"],
    }

    later = timezone.now() + timedelta(days=3, hours=5, minutes=20)
    output = seed_demo(now=later)
    assert "moved 77 h forward to now" in output
    shift = timedelta(hours=77)
    assert snapshot() == before  # the same rows and totals, only later
    assert newest(kopi) == first_newest + shift
    assert timedelta(0) <= later - newest(kopi) < timedelta(hours=1)
    seven_days = Mention.objects.for_tenant(kopi).filter(
        published_at__gte=later - timedelta(days=7)
    )
    assert seven_days.count() == DEMO_COUNT + STORY
    assert not Mention.objects.for_tenant(kopi).filter(published_at__gt=later).exists()
    source.refresh_from_db()
    failing.refresh_from_db()
    assert source.last_success_at is not None and later - source.last_success_at < timedelta(
        hours=1
    )
    assert failing.status == "failing" and failing.next_poll_at > later  # never polled
    assert IngestBatch.objects.get(pk=batch.pk).received_at == batch.received_at + shift
    assert MetricBucket.objects.for_tenant(kopi).aggregate(m=Max("bucket"))["m"] == (
        times["bucket"] + shift
    )
    assert TermBucket.objects.for_tenant(kopi).aggregate(m=Max("bucket"))["m"] == (
        times["term"] + shift
    )
    # The rollups stay aligned: 5-minute buckets and hourly term buckets.
    assert all(
        b.minute % 5 == 0 and b.second == 0
        for b in MetricBucket.objects.for_tenant(kopi).values_list("bucket", flat=True)
    )
    assert all(
        b.minute == 0 for b in TermBucket.objects.for_tenant(kopi).values_list("bucket", flat=True)
    )
    # Moved once: the same moment again moves nothing.
    assert "moved" not in seed_demo(now=later)
    assert newest(kopi) == first_newest + shift


def test_the_metrics_see_the_last_seven_days(api: Any, db: Any) -> None:
    seed_demo(now=timezone.now() - timedelta(days=10))  # an old demo ...
    seed_demo()  # ... brought up to now by the next start
    analyst = User.objects.get(email="analyst@demo.sigap")
    for slug in DEMO_SLUGS:
        # The default period: the last 7 days.
        response = api(analyst).get(f"/api/v1/tenants/{slug}/metrics/volume/", {"interval": "1d"})
        assert response.status_code == 200, response.content
        series = response.json()["series"]
        assert sum(point["mentions"] for point in series) == DEMO_COUNT + STORY, slug
