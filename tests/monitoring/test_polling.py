"""Polling RSS and Mastodon sources against a local server of recorded payloads."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone
from django_q.models import OrmQ, Schedule

from monitoring import pipeline, polling
from monitoring.models import IngestChunk, Mention, Source
from tests.pollers.conftest import fixture_server  # noqa: F401 - the local HTTP server fixture


def process(tenant: Any) -> None:
    for chunk in IngestChunk.objects.for_tenant(tenant).filter(done_at__isnull=True):
        pipeline.process_chunk(tenant.pk, chunk.pk)


def test_rss_poll_stores_mentions_and_honours_etag(tenant: Any, fixture_server: Any) -> None:  # noqa: F811
    url = fixture_server.serve_file(
        "/feed.xml", "rss_berita.xml", "application/rss+xml", etag='"v1"'
    )
    source = Source.objects.create(tenant=tenant, kind="rss", name="Berita", config={"url": url})
    first = polling.poll_source(tenant.pk, source.pk)
    assert first["items"] > 0
    process(tenant)
    assert Mention.objects.for_tenant(tenant).filter(platform="rss").count() == first["items"]
    source.refresh_from_db()
    assert source.cursor["etag"] == '"v1"' and source.last_success_at is not None
    again = polling.poll_source(tenant.pk, source.pk)
    assert again == {"items": 0, "batch_id": None}
    assert fixture_server.hits("/feed.xml")[-1].headers.get("if-none-match") == '"v1"'


def test_failures_back_off_and_mark_the_source_failing(tenant: Any, fixture_server: Any) -> None:  # noqa: F811
    url = fixture_server.serve_file("/feed.xml", "rss_berita.xml", "application/rss+xml")
    fixture_server.fail("/feed.xml", status=503, times=10)
    source = Source.objects.create(
        tenant=tenant, kind="rss", name="Berita", config={"url": url}, poll_interval_s=60
    )
    delays = []
    for _ in range(3):
        delays.append(polling.poll_source(tenant.pk, source.pk)["retry_in_s"])
    assert delays[0] < delays[1] < delays[2]
    source.refresh_from_db()
    assert source.status == "failing" and source.consecutive_failures == 3
    assert "503" in source.last_error


def test_mastodon_resumes_from_the_last_id(tenant: Any, fixture_server: Any) -> None:  # noqa: F811
    base = fixture_server.serve_mastodon_tag("banjir")
    source = Source.objects.create(
        tenant=tenant,
        kind="mastodon",
        name="Tag banjir",
        config={"base_url": base, "hashtag": "banjir"},
    )
    first = polling.poll_source(tenant.pk, source.pk)
    assert first["items"] > 0
    source.refresh_from_db()
    assert source.cursor["since_id"]
    second = polling.poll_source(tenant.pk, source.pk)
    assert second["items"] == 0
    last = fixture_server.hits("/api/v1/timelines/tag/banjir")[-1]
    assert last.query["since_id"] == source.cursor["since_id"]


def test_due_sources_are_queued_once(tenant: Any) -> None:
    Source.objects.create(
        tenant=tenant, kind="rss", name="A", config={"url": "http://127.0.0.1:9/a"}
    )
    Source.objects.create(
        tenant=tenant,
        kind="rss",
        name="B",
        config={"url": "http://127.0.0.1:9/b"},
        next_poll_at=timezone.now() + timedelta(hours=1),
    )
    Source.objects.create(tenant=tenant, kind="webhook", name="C")
    assert polling.poll_due_sources() == 1
    assert polling.poll_due_sources() == 0  # claimed until its interval passes
    assert OrmQ.objects.count() == 1
    assert Schedule.objects.filter(func="monitoring.tasks.poll_due_sources").exists()


def test_a_stored_config_that_breaks_the_rule_fails_the_poll_with_its_message(
    tenant: Any,
) -> None:
    # Written past the services (as before the rule, or by hand in the database).
    source = Source.objects.create(tenant=tenant, kind="rss", name="Rusak", config={"link": "x"})
    result = polling.poll_source(tenant.pk, source.pk)
    assert result["error"].startswith("config: Unknown keys for an rss source: link")
    source.refresh_from_db()
    assert source.consecutive_failures == 1 and source.last_error == result["error"]
