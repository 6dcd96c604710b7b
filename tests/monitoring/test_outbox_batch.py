"""Batch subscribers of the outbox: one call takes a tenant's pending events, each still applied
once; two workers delivering overlapping events neither double nor deadlock."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import DatabaseError, connection, transaction
from django_q.models import OrmQ

from monitoring.models import PipelineEvent
from tenants import outbox, tasks
from tenants.models import OutboxDelivery
from tests.monitoring.factories import IngestBatchFactory, PipelineEventFactory
from tests.monitoring.test_outbox import TOPIC, applied, registry  # noqa: F401 - fixture
from tests.monitoring.test_worker_crash import wait_for
from tests.outbox_subscriber import handlers

pytestmark = pytest.mark.django_db


def batch_recorder(calls: list[list[int]], name: str = "batch") -> Any:
    def handle(events: list[Any]) -> None:
        calls.append([event.pk for event in events])
        for event in events:
            handlers.apply(name, event)

    return handle


def pending(tenant: Any, n: int, **kwargs: Any) -> list[PipelineEvent]:
    return [PipelineEventFactory(tenant=tenant, delivered_at=None, **kwargs) for _ in range(n)]


def test_one_call_takes_the_pending_events_and_their_own_tasks_find_them_done(
    tenant: Any,
    other_tenant: Any,
    registry: dict[str, Any],  # noqa: F811
) -> None:
    registry.clear()
    calls: list[list[int]] = []
    outbox.register_subscriber("monitoring.PipelineEvent", "batch", batch_recorder(calls), batch=3)
    first, second, third, fourth = pending(tenant, 4)
    elsewhere = pending(other_tenant, 1)[0]  # another tenant's event is never taken along

    # the third event's task runs first: it takes itself and the two oldest others
    assert tasks.deliver_outbox_event(TOPIC, tenant.pk, third.pk) == {
        "applied": 1,
        "already": 0,
        "failed": 0,
    }
    assert calls == [[first.pk, second.pk, third.pk]]
    for event in (first, second):  # their own tasks: claimed already, marked delivered
        assert tasks.deliver_outbox_event(TOPIC, tenant.pk, event.pk) == {
            "applied": 0,
            "already": 1,
            "failed": 0,
        }
    tasks.deliver_outbox_event(TOPIC, tenant.pk, fourth.pk)
    tasks.deliver_outbox_event(TOPIC, other_tenant.pk, elsewhere.pk)
    assert calls == [[first.pk, second.pk, third.pk], [fourth.pk], [elsewhere.pk]]
    assert {e: row.applications for e, row in applied("batch").items()} == {
        e.pk: 1 for e in (first, second, third, fourth, elsewhere)
    }
    assert not PipelineEvent.objects.filter(delivered_at__isnull=True).exists()
    assert OutboxDelivery.objects.filter(subscriber="batch").count() == 5


def test_the_weight_caps_a_batch_but_the_own_event_always_comes(
    tenant: Any,
    registry: dict[str, Any],  # noqa: F811
) -> None:
    registry.clear()
    calls: list[list[int]] = []
    outbox.register_subscriber(
        "monitoring.PipelineEvent", "batch", batch_recorder(calls), batch=10, batch_weight=6
    )
    big = pending(tenant, 1, inserted_ids=list(range(1, 8)))[0]  # 7 mentions: over the cap
    small = pending(tenant, 3, inserted_ids=[1, 2], updated_ids=[3])  # 3 each
    outbox.deliver(TOPIC, tenant.pk, big.pk)  # alone: nothing else fits
    outbox.deliver(TOPIC, tenant.pk, small[0].pk)  # 3 + 3
    outbox.deliver(TOPIC, tenant.pk, small[2].pk)
    assert calls == [[big.pk], [small[0].pk, small[1].pk], [small[2].pk]]


@pytest.mark.django_db(transaction=True)
def test_an_event_a_committed_batch_took_does_not_wait_for_the_running_batch(
    tenant: Any,
    registry: dict[str, Any],  # noqa: F811
) -> None:
    registry.clear()
    calls: list[list[int]] = []
    inside, release = threading.Event(), threading.Event()
    record = batch_recorder(calls)

    def slow(events: list[Any]) -> None:
        record(events)
        if len(calls) == 2:  # the second batch holds the lock until released
            inside.set()
            assert release.wait(30)

    outbox.register_subscriber("monitoring.PipelineEvent", "batch", slow, batch=2)
    first, second, third, fourth = (e.pk for e in pending(tenant, 4))
    tasks.deliver_outbox_event(TOPIC, tenant.pk, first)  # takes first and second

    def run() -> None:
        try:
            tasks.deliver_outbox_event(TOPIC, tenant.pk, third)  # takes third and fourth
        finally:
            connection.close()

    running = threading.Thread(target=run)
    running.start()
    try:
        assert inside.wait(30)
        # the second event's own task: claimed by the committed batch, answered at once
        assert tasks.deliver_outbox_event(TOPIC, tenant.pk, second) == {
            "applied": 0,
            "already": 1,
            "failed": 0,
        }
    finally:
        release.set()
        running.join(30)
    tasks.deliver_outbox_event(TOPIC, tenant.pk, fourth)
    assert calls == [[first, second], [third, fourth]]
    assert not PipelineEvent.objects.filter(delivered_at__isnull=True).exists()


def test_an_event_the_handler_cannot_take_fails_alone(
    tenant: Any,
    registry: dict[str, Any],  # noqa: F811
) -> None:
    registry.clear()
    calls: list[list[int]] = []
    record = batch_recorder(calls)
    poisoned, *others = pending(tenant, 3)

    def picky(events: list[Any]) -> None:
        record(events)  # undone with the failure
        if poisoned.pk in [event.pk for event in events]:
            raise RuntimeError("cannot take it")

    outbox.register_subscriber("monitoring.PipelineEvent", "batch", picky, batch=5)
    with pytest.raises(outbox.SubscriberFailed):
        outbox.deliver(TOPIC, tenant.pk, poisoned.pk)  # in every batch: fails, retried later
    for event in others:  # each still gets through, alone
        assert outbox.deliver(TOPIC, tenant.pk, event.pk)["applied"] == 1
    assert set(applied("batch")) == {event.pk for event in others}
    p, o1, o2 = poisoned.pk, others[0].pk, others[1].pk
    assert calls == [[p, o1, o2], [p], [p, o1, o2], [o1], [p, o2], [o2]]
    assert set(
        PipelineEvent.objects.filter(delivered_at__isnull=True).values_list("pk", flat=True)
    ) == {poisoned.pk}


@pytest.mark.django_db(transaction=True)
def test_parallel_batches_over_overlapping_events_neither_double_nor_deadlock(
    tenant: Any,
    registry: dict[str, Any],  # noqa: F811
) -> None:
    """The second delivery waits on the batch lock before claiming anything, then finds its
    event taken; many workers delivering the same events in different orders apply each once."""
    registry.clear()
    inside, release = threading.Event(), threading.Event()
    calls: list[list[int]] = []
    record = batch_recorder(calls)

    def slow(events: list[Any]) -> None:
        record(events)
        if not release.is_set():
            inside.set()
            assert release.wait(30)

    outbox.register_subscriber("monitoring.PipelineEvent", "batch", slow, batch=4)
    events = [e.pk for e in pending(tenant, 12)]
    results: dict[str, Any] = {}
    errors: list[DatabaseError] = []

    def run(name: str, ids: list[int]) -> None:
        try:  # as a worker runs it: the task entry point sets the tenant's database scope
            for event_id in ids:
                results[f"{name}:{event_id}"] = tasks.deliver_outbox_event(
                    TOPIC, tenant.pk, event_id
                )
        except DatabaseError as error:  # a deadlock would land here
            errors.append(error)
        finally:
            connection.close()

    # events 1..4: the first worker holds them (claimed 3 first, then 1, 2, 4)
    first = threading.Thread(target=run, args=("first", [events[2]]))
    first.start()
    assert inside.wait(30)
    second = threading.Thread(target=run, args=("second", [events[0]]))
    second.start()

    def second_waits_on_the_batch_lock() -> bool:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock' AND wait_event = 'advisory'"
            )
            return bool(cursor.fetchone()[0])

    try:
        wait_for(second_waits_on_the_batch_lock, 20, "the second delivery to wait on the lock")
    finally:
        release.set()
        first.join(30)
        second.join(30)
    assert calls[0] == events[:4]
    assert results[f"second:{events[0]}"] == {"applied": 0, "already": 1, "failed": 0}

    # the rest, by four workers at once in different orders
    orders = [events, events[::-1], events[1::2] + events[::2], events[::2] + events[1::2]]
    workers = [
        threading.Thread(target=run, args=(f"w{k}", order)) for k, order in enumerate(orders)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    assert errors == []
    assert sorted(pk for call in calls for pk in call) == events  # each exactly once
    assert {e: row.applications for e, row in applied("batch").items()} == dict.fromkeys(events, 1)
    assert not PipelineEvent.objects.filter(delivered_at__isnull=True).exists()


def test_registration_of_a_batch_subscriber(registry: dict[str, Any]) -> None:  # noqa: F811
    outbox.register_subscriber("monitoring.PipelineEvent", "b", print, batch=5)
    outbox.register_subscriber("monitoring.PipelineEvent", "b", print, batch=5)  # same: harmless
    with pytest.raises(outbox.ImproperlyConfigured, match="taken"):
        outbox.register_subscriber("monitoring.PipelineEvent", "b", print, batch=6)
    with pytest.raises(outbox.ImproperlyConfigured, match="at least 1"):
        outbox.register_subscriber("monitoring.PipelineEvent", "c", print, batch=0)


@pytest.mark.django_db(transaction=True)
def test_a_delivery_at_once_leaves_a_busy_tenant_to_the_queued_task_without_waiting(
    tenant: Any,
    registry: dict[str, Any],  # noqa: F811
) -> None:
    """While another worker's batch holds the tenant's lock, ``deliver_at_once`` returns at once
    and claims nothing; the event stays undelivered until its queued task (or the tenant's next
    batch) takes it."""
    registry.clear()
    calls: list[list[int]] = []
    inside, release = threading.Event(), threading.Event()
    record = batch_recorder(calls)

    def slow(events: list[Any]) -> None:
        record(events)
        if len(calls) == 1:
            inside.set()
            assert release.wait(30)

    outbox.register_subscriber("monitoring.PipelineEvent", "batch", slow, batch=5)
    first = pending(tenant, 1)[0].pk

    def run() -> None:
        try:
            tasks.deliver_outbox_event(TOPIC, tenant.pk, first)
        finally:
            connection.close()

    running = threading.Thread(target=run)
    running.start()
    try:
        assert inside.wait(30)
        later = pending(tenant, 1)[0].pk  # committed after the running batch claimed its own
        assert outbox.deliver_at_once(TOPIC, tenant.pk, later) == {
            "applied": 0,
            "already": 0,
            "failed": 0,
            "busy": 1,
        }
        assert not OutboxDelivery.objects.filter(event_id=later).exists()
        assert PipelineEvent.objects.get(pk=later).delivered_at is None
    finally:
        release.set()
        running.join(30)
    assert tasks.deliver_outbox_event(TOPIC, tenant.pk, later)["applied"] == 1
    assert calls == [[first], [later]]
    assert not PipelineEvent.objects.filter(delivered_at__isnull=True).exists()


@pytest.mark.django_db(transaction=True)
def test_publish_with_deliver_after_commit_delivers_once_the_transaction_committed(
    tenant: Any,
    registry: dict[str, Any],  # noqa: F811
) -> None:
    registry.clear()
    calls: list[list[int]] = []
    outbox.register_subscriber("monitoring.PipelineEvent", "batch", batch_recorder(calls), batch=5)
    older = pending(tenant, 1)[0].pk  # left undelivered earlier: taken along
    batch = IngestBatchFactory(tenant=tenant)
    with transaction.atomic():
        event = PipelineEvent(tenant=tenant, batch=batch, inserted_ids=[1])
        outbox.publish(event, deliver_after_commit=True)
        assert calls == []  # not before the commit
    assert calls == [[older, event.pk]]
    assert PipelineEvent.objects.get(pk=event.pk).delivered_at is not None
    # the queued task, the durable path, is still there and finds it done
    assert OrmQ.objects.count() == 1
    assert tasks.deliver_outbox_event(TOPIC, tenant.pk, event.pk) == {
        "applied": 0,
        "already": 0,
        "failed": 0,
    }
    # an event published without it waits for its task
    with transaction.atomic():
        quiet = PipelineEvent(tenant=tenant, batch=batch, inserted_ids=[2])
        outbox.publish(quiet)
    assert PipelineEvent.objects.get(pk=quiet.pk).delivered_at is None
    assert calls == [[older, event.pk]]


@pytest.mark.django_db(transaction=True)
def test_a_failing_delivery_at_once_does_not_raise_and_leaves_the_event_to_its_task(
    tenant: Any,
    registry: dict[str, Any],  # noqa: F811
) -> None:
    registry.clear()
    fail = [True]
    calls: list[list[int]] = []
    record = batch_recorder(calls)

    def flaky(events: list[Any]) -> None:
        if fail[0]:
            raise RuntimeError("not now")
        record(events)

    outbox.register_subscriber("monitoring.PipelineEvent", "batch", flaky, batch=5)
    event = pending(tenant, 1)[0].pk
    assert outbox.deliver_at_once(TOPIC, tenant.pk, event) is None
    assert PipelineEvent.objects.get(pk=event).delivered_at is None
    fail[0] = False
    assert tasks.deliver_outbox_event(TOPIC, tenant.pk, event)["applied"] == 1
    assert calls == [[event]]
