"""The pipeline's outbox: every committed chunk reaches each subscriber once, with what it did.

Tasks are run as a worker would, from django-q2's ORM queue (``run_queued``), so these tests
also prove that the chunk task queued the delivery in its own transaction.
"""

from __future__ import annotations

import copy
import json
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.utils import timezone
from django.utils.module_loading import import_string
from django_q.models import OrmQ, Schedule

from monitoring import pipeline
from monitoring.models import IngestChunk, Mention, MonitoredQuery, PipelineEvent
from tenants import outbox, tasks
from tenants.apps import ensure_schedules
from tenants.models import OutboxDelivery
from tests.monitoring.factories import PipelineEventFactory
from tests.monitoring.test_pipeline import item
from tests.monitoring.test_worker_crash import wait_for
from tests.outbox_subscriber import handlers
from tests.outbox_subscriber.models import Application

TOPIC = "monitoring.pipelineevent"


def run_queued() -> list[str]:
    """Run every queued django-q2 task in order, as a worker would; the functions run."""
    ran = []
    while rows := list(OrmQ.objects.order_by("id")):
        for row in rows:
            task = row.task
            row.delete()
            func = task["func"]
            (import_string(func) if isinstance(func, str) else func)(
                *task["args"], **task["kwargs"]
            )
            ran.append(func)
    return ran


def ingest(api: Any, user: Any, tenant: Any, objects: list[dict[str, Any]]) -> None:
    response = api(user).post(
        f"/api/v1/tenants/{tenant.slug}/ingest/",
        json.dumps(objects),
        content_type="application/json",
    )
    assert response.status_code == 202, response.content


def applied(subscriber: str = "test_recorder") -> dict[int, Application]:
    return {row.event_id: row for row in Application.objects.filter(subscriber=subscriber)}


def mention_id(tenant: Any, external_id: str) -> int:
    return Mention.objects.for_tenant(tenant).get(external_id=external_id).pk


@pytest.fixture
def registry(monkeypatch: Any) -> dict[str, Any]:
    """A private copy of the subscriber registry, restored after the test."""
    private = copy.deepcopy(outbox._registry)
    monkeypatch.setattr(outbox, "_registry", private)
    return private


def test_subscriber_sees_exactly_what_each_chunk_did_once(
    api: Any, tenant: Any, members: dict[str, Any]
) -> None:
    boikot = MonitoredQuery.objects.create(tenant=tenant, name="boikot", query="boikot*")
    analyst = members["analyst"]
    ingest(api, analyst, tenant, [item(1), item(2, "Boikot Kopi Senja, pelayanan lambat")])
    ran = run_queued()
    assert ran == ["monitoring.tasks.process_chunk", "tenants.tasks.deliver_outbox_event"]
    first = PipelineEvent.objects.for_tenant(tenant).get()
    assert first.delivered_at is not None
    got = applied()[first.pk]
    assert set(got.inserted_ids) == {mention_id(tenant, "1"), mention_id(tenant, "2")}
    assert got.updated_ids == [] and got.query_ids == [boikot.pk]
    assert got.buckets == [datetime(2026, 11, 20, 1, 15, tzinfo=UTC)]

    # Again: 1 unchanged, 2 with new engagement, 3 new in another bucket.
    later = "2026-11-20T09:02:00+07:00"
    again = [
        item(1),
        item(2, "Boikot Kopi Senja, pelayanan lambat", engagement={"likes": 40}),
        item(3, "Kopi Senja buka cabang baru", published_at=later),
    ]
    ingest(api, analyst, tenant, again)
    run_queued()
    second = PipelineEvent.objects.for_tenant(tenant).exclude(pk=first.pk).get()
    got = applied()[second.pk]
    assert got.inserted_ids == [mention_id(tenant, "3")]
    assert got.updated_ids == [mention_id(tenant, "2")]  # 1 was resent unchanged
    assert got.query_ids == [boikot.pk]  # matched by the updated mention
    assert got.buckets == [datetime(2026, 11, 20, 2, 0, tzinfo=UTC)]

    # Everything resent unchanged: the chunk changed nothing and tells nobody.
    ingest(api, analyst, tenant, again)
    assert run_queued() == ["monitoring.tasks.process_chunk"]
    assert PipelineEvent.objects.for_tenant(tenant).count() == 2

    # Every kind of redelivery: the chunk tasks, the delivery tasks, the sweeper.
    for chunk in IngestChunk.objects.for_tenant(tenant):
        pipeline.process_chunk(tenant.pk, chunk.pk)
    for event in (first, second):
        assert tasks.deliver_outbox_event(TOPIC, tenant.pk, event.pk)["applied"] == 0
        outbox.deliver(TOPIC, tenant.pk, event.pk)
    PipelineEvent.objects.update(delivered_at=None)  # as if the acknowledgement were lost
    assert outbox.sweep(grace=timedelta(0)) == 2
    run_queued()
    assert PipelineEvent.objects.count() == 2
    assert {e: row.applications for e, row in applied().items()} == {first.pk: 1, second.pk: 1}
    assert OutboxDelivery.objects.for_tenant(tenant).filter(subscriber="test_recorder").count() == 2


def test_a_failing_subscriber_holds_back_no_other_and_is_retried(
    tenant: Any, registry: dict[str, Any]
) -> None:
    failures = ["once"]

    def flaky(event: Any) -> None:
        handlers.apply("flaky", event)  # undone with the failure
        if failures:
            failures.pop()
            raise RuntimeError("the detector is down")

    outbox.register_subscriber("monitoring.PipelineEvent", "flaky", flaky)
    event = PipelineEventFactory(tenant=tenant, delivered_at=None)
    with pytest.raises(outbox.SubscriberFailed, match="flaky"):
        outbox.deliver(TOPIC, tenant.pk, event.pk)  # django-q2 retries the task
    assert set(applied()) == {event.pk} and applied("flaky") == {}
    event.refresh_from_db()
    assert event.delivered_at is None

    # early warning and the recorder applied it the first time
    assert outbox.deliver(TOPIC, tenant.pk, event.pk) == {"applied": 1, "already": 2, "failed": 0}
    assert applied()[event.pk].applications == 1
    assert applied("flaky")[event.pk].applications == 1
    event.refresh_from_db()
    assert event.delivered_at is not None


@pytest.mark.django_db(transaction=True)
def test_two_parallel_deliveries_apply_an_event_once(tenant: Any, registry: dict[str, Any]) -> None:
    """The second delivery waits on the first one's claim, then finds it and skips."""
    registry.clear()
    inside, release = threading.Event(), threading.Event()

    def slow(event: Any) -> None:
        handlers.apply("slow", event)
        inside.set()
        assert release.wait(30)

    outbox.register_subscriber("monitoring.PipelineEvent", "slow", slow)
    event = PipelineEventFactory(tenant=tenant, delivered_at=None)
    results: dict[str, Any] = {}

    def run(name: str) -> None:
        try:  # as a worker runs it: the task entry point sets the tenant's database scope
            results[name] = tasks.deliver_outbox_event(TOPIC, tenant.pk, event.pk)
        finally:
            connection.close()

    first = threading.Thread(target=run, args=("first",))
    first.start()
    assert inside.wait(30)
    second = threading.Thread(target=run, args=("second",))
    second.start()

    def second_waits_on_the_claim() -> bool:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock' AND query LIKE %s",
                ["%tenants_outboxdelivery%"],
            )
            return bool(cursor.fetchone()[0])

    try:
        wait_for(second_waits_on_the_claim, 20, "the second delivery to wait on the claim")
    finally:
        release.set()
        first.join(30)
        second.join(30)
    assert results["first"] == {"applied": 1, "already": 0, "failed": 0}
    assert results["second"] == {"applied": 0, "already": 1, "failed": 0}
    assert applied("slow")[event.pk].applications == 1


def test_the_sweeper_waits_out_the_grace_period_then_redispatches(tenant: Any) -> None:
    stale = timezone.now() - timedelta(minutes=11)
    lost = PipelineEventFactory(tenant=tenant, delivered_at=None, dispatched_at=stale)
    young = PipelineEventFactory(tenant=tenant, delivered_at=None)
    PipelineEventFactory(tenant=tenant, delivered_at=stale, dispatched_at=stale)  # done
    assert outbox.sweep() == 1  # SIGAP_OUTBOX_GRACE_SECONDS: 600
    assert [queued.task["args"] for queued in OrmQ.objects.all()] == [(TOPIC, tenant.pk, lost.pk)]
    assert outbox.sweep() == 0  # dispatched again just now: not queued twice
    run_queued()
    lost.refresh_from_db()
    young.refresh_from_db()
    assert lost.delivered_at is not None and young.delivered_at is None
    assert set(applied()) == {lost.pk}


def test_without_subscribers_events_are_kept_but_nothing_is_queued(
    tenant: Any, registry: dict[str, Any]
) -> None:
    registry.clear()
    from monitoring import services

    services.accept_items(tenant=tenant, objects=[item(1)])
    assert run_queued() == ["monitoring.tasks.process_chunk"]
    event = PipelineEvent.objects.for_tenant(tenant).get()
    assert event.delivered_at is not None and event.inserted_ids == [mention_id(tenant, "1")]
    stuck = PipelineEventFactory(tenant=tenant, delivered_at=None)
    stuck.dispatched_at = timezone.now() - timedelta(hours=1)
    stuck.save()
    assert outbox.sweep() == 0  # a table nobody listens to any more is settled
    stuck.refresh_from_db()
    assert stuck.delivered_at is not None and not OrmQ.objects.exists()


def test_prune_deletes_old_delivered_events_with_their_acknowledgements(
    tenant: Any, settings: Any
) -> None:
    settings.SIGAP_OUTBOX_RETENTION_DAYS = 3
    old = timezone.now() - timedelta(days=4)
    gone = PipelineEventFactory(tenant=tenant, delivered_at=old)
    pending = PipelineEventFactory(tenant=tenant, delivered_at=None, created_at=old)
    recent = PipelineEventFactory(tenant=tenant, delivered_at=timezone.now())
    for event in (gone, pending, recent):
        OutboxDelivery.objects.create(
            tenant=tenant, topic=TOPIC, event_id=event.pk, subscriber="test_recorder"
        )
    assert tasks.prune_outbox() == 1
    assert set(PipelineEvent.objects.values_list("pk", flat=True)) == {pending.pk, recent.pk}
    assert set(OutboxDelivery.objects.values_list("event_id", flat=True)) == {
        pending.pk,
        recent.pk,
    }


def test_registration_rules_and_system_check(registry: dict[str, Any]) -> None:
    assert outbox.check_subscribers() == []
    assert [s.name for s in outbox.subscribers("monitoring.PipelineEvent")] == [
        "early_warning",
        "test_recorder",
    ]
    outbox.register_subscriber(  # the same again: harmless (ready() may run twice)
        "monitoring.PipelineEvent", "test_recorder", "tests.outbox_subscriber.handlers.record"
    )
    with pytest.raises(ImproperlyConfigured, match="taken"):
        outbox.register_subscriber("monitoring.PipelineEvent", "test_recorder", print)
    with pytest.raises(ImproperlyConfigured):
        outbox.register_subscriber("monitoring.PipelineEvent", "", print)
    outbox.register_subscriber("monitoring.PipelineEvent", "typo", "tests.nowhere.handle")
    outbox.register_subscriber("monitoring.Mention", "wrong_table", print)
    assert sorted(error.id for error in outbox.check_subscribers()) == [
        "tenants.E101",
        "tenants.E102",
    ]


@pytest.mark.django_db(transaction=True)
def test_publish_outside_a_transaction_is_refused(tenant: Any) -> None:
    assert not connection.in_atomic_block
    with pytest.raises(RuntimeError, match="inside the transaction"):
        outbox.publish(PipelineEventFactory.build(tenant=tenant, batch=None))
    assert not PipelineEvent.objects.exists()


def test_the_sweeper_and_pruner_are_scheduled(db: Any) -> None:
    ensure_schedules()
    schedules = dict(
        Schedule.objects.filter(name__startswith="tenants.").values_list("name", "func")
    )
    assert schedules["tenants.sweep_outbox"] == "tenants.tasks.sweep_outbox"
    assert schedules["tenants.prune_outbox"] == "tenants.tasks.prune_outbox"
    assert Schedule.objects.get(name="tenants.sweep_outbox").minutes == 1


def test_docs_describe_every_event_column_and_setting(settings: Any) -> None:
    """docs/outbox.md is what early warning will read: it must match the table and settings."""
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "docs" / "outbox.md").read_text()
    columns = {field.attname for field in PipelineEvent._meta.concrete_fields} - {"id"}
    documented = set()
    for line in text.splitlines():
        if line.startswith("| `"):
            documented |= {name.strip(" `") for name in line.split("|")[1].split(", ")}
    assert columns <= documented, columns - documented
    for name in ("SIGAP_OUTBOX_GRACE_SECONDS", "SIGAP_OUTBOX_RETENTION_DAYS"):
        assert f"| `{name}` | {getattr(settings, name)} |" in text


@pytest.mark.django_db(transaction=True)
def test_a_chunk_is_delivered_by_the_worker_that_stored_it_right_after_its_commit(
    api: Any, tenant: Any, members: dict[str, Any]
) -> None:
    """``process_chunk`` hands its event to the subscribers once its transaction committed; the
    queued delivery task stays (the durable path) and finds the work done."""
    ingest(api, members["analyst"], tenant, [item(1), item(2)])
    row = OrmQ.objects.get()  # the chunk's task only, as the worker that picked it runs it
    task = row.task
    row.delete()
    assert task["func"] == "monitoring.tasks.process_chunk"
    import_string(task["func"])(*task["args"], **task["kwargs"])
    event = PipelineEvent.objects.for_tenant(tenant).get()
    assert event.delivered_at is not None
    assert applied()[event.pk].applications == 1
    assert OutboxDelivery.objects.for_tenant(tenant).filter(event_id=event.pk).count() == len(
        outbox.subscribers(TOPIC)
    )
    assert run_queued() == ["tenants.tasks.deliver_outbox_event"]
    assert applied()[event.pk].applications == 1
