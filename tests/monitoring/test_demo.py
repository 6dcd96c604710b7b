"""The demo seeding: queries and terms, realistic mentions through the real pipeline, idempotent."""

from __future__ import annotations

from collections import Counter
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from monitoring import pipeline
from monitoring.demodata import generate
from monitoring.models import IngestChunk, Mention, MetricBucket, MonitoredQuery, TrackedTerm

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
