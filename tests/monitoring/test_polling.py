"""Polling RSS and Mastodon sources against a local server of recorded payloads."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
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
    # Kept for the tenant's people, in the tenant's language (Indonesian by default) ...
    assert result["error"].startswith("config: Kunci tidak dikenal untuk sumber rss: link")
    tenant.default_language = "en"
    tenant.save(update_fields=["default_language"])
    result = polling.poll_source(tenant.pk, source.pk)
    assert result["error"].startswith("config: Unknown keys for an rss source: link")
    source.refresh_from_db()
    assert source.consecutive_failures == 2 and source.last_error == result["error"]


def test_the_schedule_follows_every_write_of_a_source(tenant: Any) -> None:
    from monitoring import services
    from monitoring.models import PollSchedule

    feed = services.create_source(
        tenant=tenant, name="Berita", kind="rss", config={"url": "https://news.example/a.xml"}
    )
    hook = services.create_source(tenant=tenant, name="Hook", kind="webhook")
    schedule = PollSchedule.objects.filter(source_id__in=[feed.pk, hook.pk])
    assert list(schedule.values_list("source_id", "tenant_id")) == [(feed.pk, tenant.pk)]
    services.update_source(instance=feed, status="paused")
    assert not schedule.exists()
    services.update_source(instance=feed, status="active")
    assert schedule.count() == 1
    services.delete_source(instance=feed)
    assert not schedule.exists()


def test_the_scheduler_claims_from_its_table_and_never_locks_a_source(tenant: Any) -> None:
    """The scheduler reads and locks only the schedule (FOR UPDATE SKIP LOCKED on it), never a
    tenant table; a claim is leased, released by the poll, and taken again once it runs out."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from monitoring.models import PollSchedule
    from tests.factories import TenantFactory

    due = Source.objects.create(
        tenant=tenant, kind="rss", name="A", config={"url": "http://127.0.0.1:9/a"}
    )
    suspended = TenantFactory(status="suspended")
    Source.objects.create(
        tenant=suspended, kind="rss", name="S", config={"url": "http://127.0.0.1:9/s"}
    )
    with CaptureQueriesContext(connection) as queries:
        assert polling.poll_due_sources() == 1
    sql = " ".join(q["sql"] for q in queries.captured_queries)
    assert "monitoring_source" not in sql
    assert "FOR UPDATE SKIP LOCKED" in sql and "monitoring_pollschedule" in sql
    assert [task.task["args"] for task in OrmQ.objects.all()] == [(tenant.pk, due.pk)]

    claim = PollSchedule.objects.get(source_id=due.pk)
    assert claim.leased_until is not None and claim.leased_until > timezone.now()
    assert polling.poll_due_sources() == 0  # leased
    PollSchedule.objects.filter(source_id=due.pk).update(
        leased_until=timezone.now() - timedelta(seconds=1)
    )
    assert polling.poll_due_sources() == 1  # the lease ran out: a worker died mid-poll

    polling.poll_source(tenant.pk, due.pk)  # port 9: the poll fails and backs off
    claim.refresh_from_db()
    due.refresh_from_db()
    assert claim.leased_until is None and claim.next_poll_at == due.next_poll_at
    assert due.next_poll_at > timezone.now()
    assert polling.poll_due_sources() == 0  # not due before its back-off ends


def test_a_poll_of_a_source_that_is_gone_drops_its_schedule(tenant: Any) -> None:
    from monitoring.models import PollSchedule

    PollSchedule.objects.create(source_id=987654, tenant=tenant)
    assert polling.poll_source(tenant.pk, 987654) == {"skipped": True}
    assert not PollSchedule.objects.filter(source_id=987654).exists()


@pytest.mark.django_db(transaction=True)
def test_two_schedulers_at_once_never_claim_the_same_source(tenant: Any) -> None:
    """A scheduler that holds its claim (transaction still open) makes the other skip those
    rows, not wait for them."""
    import threading

    from django.db import connection, transaction

    from monitoring.models import PollSchedule

    for name in ("A", "B"):
        Source.objects.create(
            tenant=tenant, kind="rss", name=name, config={"url": f"http://127.0.0.1:9/{name}"}
        )
    locked = threading.Event()
    release = threading.Event()

    def hold_first_row() -> None:
        with transaction.atomic():
            list(
                PollSchedule.objects.select_for_update()
                .order_by("source_id")
                .values_list("source_id", flat=True)[:1]
            )
            locked.set()
            release.wait(30)
        connection.close()

    holder = threading.Thread(target=hold_first_row)
    holder.start()
    try:
        assert locked.wait(30)
        assert polling.poll_due_sources() == 1  # only the row nobody holds
    finally:
        release.set()
        holder.join()
    assert polling.poll_due_sources() == 1  # now the other one
    assert OrmQ.objects.count() == 2
