"""A transactional outbox: what one app did, delivered durably to the apps that care.

An app that does work other apps react to (the monitoring pipeline storing a chunk of mentions)
writes an *event* row, a concrete ``tenants.models.OutboxEvent`` table, with ``publish`` inside
the transaction that did the work. Other apps *subscribe* from their ``AppConfig.ready()``::

    outbox.register_subscriber(
        "monitoring.PipelineEvent", "early_warning", "early_warning.subscribers.on_pipeline_event"
    )

so the publishing app never imports its subscribers. What this module guarantees:

* **Durable**: the event row and its delivery task (django-q2's ORM broker writes the task into
  the same database) commit together with the work, or not at all. A worker killed before or
  during delivery loses nothing: the broker hands the unacknowledged task out again after
  ``Q_RETRY`` seconds, and ``sweep`` (scheduled every minute) queues a new delivery for every
  event that is still not delivered ``SIGAP_OUTBOX_GRACE_SECONDS`` after its last dispatch, also
  after a task used up its attempts.
* **At least once, applied once**: ``deliver`` calls each subscriber in its own transaction that
  first claims ``(topic, event, subscriber)`` with ``INSERT ... ON CONFLICT DO NOTHING`` on a
  unique constraint (``OutboxDelivery``) and then runs the handler. The handler's writes and the
  claim commit together; a second delivery (even a parallel one, which waits on the unique index)
  finds the claim and skips; a failed or killed handler leaves no claim, so it runs again later.
  Handlers must therefore do all their work in the database transaction they are called in (to
  send mail or call out, queue a task there: the ORM broker keeps that atomic too).
* **Batches, still applied once**: a subscriber registered with ``batch=N`` (early warning)
  gets a list of events per call. Its delivery first takes a transaction-scoped advisory lock
  per (topic, subscriber, tenant), *before* any claim, so two such deliveries of one tenant run
  one after the other and never claim overlapping sets in opposite orders (which would deadlock
  on the unique index). A delivery whose event a committed batch already claimed sees so
  first, with a plain read, and skips without waiting for the lock. Then it claims its own
  event as above, then up to N-1 more of the
  tenant's undelivered events it has not processed, oldest first, in one ``INSERT ... SELECT
  ... ON CONFLICT DO NOTHING RETURNING`` (at most ``batch_weight`` of the table's
  ``outbox_weight`` in all, the own event always), and calls the handler once with all of them
  sorted by id. Those claims commit or vanish with the handler's writes, as one claim does; the
  events' own tasks later find the claim, skip, and mark them delivered. A batch that raised is
  retried at once with the delivery's own event alone, so an event the handler cannot take
  fails alone and does not hold back the tenant's later events.
* **At once, when nobody waits** (``publish(..., deliver_after_commit=True)``, the pipeline):
  right after the publishing transaction commits, the publishing worker delivers the event
  itself (``deliver_at_once``), leaving a batch subscriber whose tenant's lock is held (and any
  failure) to the queued task, which still runs and skips what is done. A burst is judged while
  it is stored instead of after every chunk queued before its deliveries.
* **No wait for the disk**: the delivery's transaction commits with ``synchronous_commit =
  off`` (``tenants.commits``): the event stays undelivered until a later, flushed commit marks
  it delivered, so a crash that loses the delivery leaves it to the sweeper.
* **Independent subscribers**: one failing subscriber does not hold back the others; the task
  fails (django-q2 retries it) and the subscribers that already acknowledged are skipped.
* **Bounded**: an event is ``delivered_at`` once every subscriber registered at delivery time has
  processed it (at once when none is registered); ``prune`` (scheduled hourly) deletes delivered
  events and their acknowledgements after ``SIGAP_OUTBOX_RETENTION_DAYS`` days. Undelivered events
  are kept until their subscribers succeed. A subscriber registered later sees only events
  published after it was registered.
* **Pinned to the tenant**: every statement on an event or acknowledgement names its tenant. The
  sweeper and the pruner, which work across tenants, first read which tenants have work
  (``TenantQuerySet.tenant_ids``, an unlocked read) and then lock, update and delete per tenant.

Handlers receive the event instance (a batch subscriber: the list of instances, oldest first;
treat them as read-only) and run inside the worker, so they take ``tenant_id`` and ids from the
rows, as every task does. See ``docs/outbox.md``.
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, transaction
from django.utils import timezone
from django.utils.module_loading import import_string
from django_q.tasks import async_task

from tenants.commits import commit_without_flush
from tenants.models import OutboxDelivery, OutboxEvent

logger = logging.getLogger("sigap.outbox")

DELIVER_TASK = "tenants.tasks.deliver_outbox_event"
SWEEP_BATCH = 500
PRUNE_BATCH = 5000
_CLAIM = """
    INSERT INTO {table} (tenant_id, topic, event_id, subscriber, processed_at)
    VALUES (%s, %s, %s, %s, now())
    ON CONFLICT (tenant_id, topic, event_id, subscriber) DO NOTHING
    RETURNING id
"""
# A batch delivery's further claims: the tenant's undelivered events this subscriber has not
# processed, oldest first, while their running weight fits (weights are >= 0, so that is a
# prefix). The partial index ``<prefix>_pending`` holds only undelivered rows.
_CLAIM_MORE = """
    WITH pending AS (
        SELECT e.id, sum({weight}) OVER (ORDER BY e.id) AS running
        FROM {events} e
        WHERE e.tenant_id = %(tenant)s AND e.delivered_at IS NULL AND e.id <> %(event)s
            AND NOT EXISTS (
                SELECT 1 FROM {table} d
                WHERE d.tenant_id = %(tenant)s AND d.topic = %(topic)s
                    AND d.event_id = e.id AND d.subscriber = %(subscriber)s
            )
        ORDER BY e.id
        LIMIT %(limit)s
    )
    INSERT INTO {table} (tenant_id, topic, event_id, subscriber, processed_at)
    SELECT %(tenant)s, %(topic)s, id, %(subscriber)s, now() FROM pending
    WHERE running <= %(room)s - (
        SELECT {weight} FROM {events} e WHERE e.tenant_id = %(tenant)s AND e.id = %(event)s
    )
    ON CONFLICT (tenant_id, topic, event_id, subscriber) DO NOTHING
    RETURNING event_id
"""

Handler = Callable[[Any], object]


@dataclass(frozen=True)
class Subscriber:
    """A named handler of one outbox table's events; ``handler`` may be a dotted path."""

    name: str
    handler: str | Handler
    batch: int = 1  # > 1: the handler gets a list of up to this many events
    batch_weight: int | None = None  # and at most this much of their ``outbox_weight``

    def resolve(self) -> Handler:
        if isinstance(self.handler, str):
            return import_string(self.handler)  # type: ignore[no-any-return]
        return self.handler


class SubscriberFailed(Exception):
    """One or more subscribers raised; the delivery task fails so django-q2 retries it."""


# topic (the event model's lower-case label) -> subscriber name -> subscriber
_registry: dict[str, dict[str, Subscriber]] = {}


def register_subscriber(
    event_model: str,
    name: str,
    handler: str | Handler,
    *,
    batch: int = 1,
    batch_weight: int | None = None,
) -> None:
    """Subscribe ``handler`` (a callable or its dotted path) to the events of ``event_model``
    (an app label and model name, ``"monitoring.PipelineEvent"``) under ``name``.

    ``batch`` > 1 makes it a batch subscriber: ``handler`` gets a list of up to ``batch`` of the
    tenant's pending events (its own first claimed, then the oldest others; sorted by id), whose
    summed ``outbox_weight`` stays within ``batch_weight`` when given (the first event always
    comes). See the module docstring.

    Call it from ``AppConfig.ready()``. ``name`` is stored with every acknowledgement: keep it
    stable (renaming it makes the subscriber see undelivered events again). Registering the same
    name twice with the same handler is harmless; with another handler it is an error.
    """
    if not name or len(name) > OutboxDelivery._meta.get_field("subscriber").max_length:  # type: ignore[operator]
        raise ImproperlyConfigured(f"Outbox subscriber name {name!r} is empty or too long.")
    topic = event_model.lower()
    subscribers = _registry.setdefault(topic, {})
    existing = subscribers.get(name)
    if batch < 1:
        raise ImproperlyConfigured(f"Outbox subscriber {name!r}: batch must be at least 1.")
    subscriber = Subscriber(name=name, handler=handler, batch=batch, batch_weight=batch_weight)
    if existing is not None and existing != subscriber:
        raise ImproperlyConfigured(f"Outbox subscriber {name!r} of {event_model} is taken.")
    subscribers[name] = subscriber


def subscribers(topic: str) -> list[Subscriber]:
    """The subscribers of one outbox table, in the order they were registered."""
    return list(_registry.get(topic.lower(), {}).values())


def event_models() -> list[type[OutboxEvent]]:
    """Every concrete outbox table of the installed apps."""
    return [model for model in apps.get_models() if issubclass(model, OutboxEvent)]


def publish(event: OutboxEvent, *, deliver_after_commit: bool = False) -> None:
    """Store ``event`` and queue its delivery. Call it inside the transaction that did the work.

    One INSERT for the row and, when anybody subscribes, one for the delivery task. With
    ``deliver_after_commit`` (a publisher that runs in a task worker) the event is also handed
    to its subscribers in this process right after the transaction commits, when that needs no
    wait (``deliver_at_once``); the queued task stays the durable path.
    """
    if not connection.in_atomic_block:
        raise RuntimeError("outbox.publish() belongs inside the transaction that did the work.")
    topic = event._meta.label_lower
    now = timezone.now()
    event.created_at = event.dispatched_at = now
    if not subscribers(topic):
        event.delivered_at = now  # nobody to tell: nothing to sweep later
        event.save(force_insert=True)
        return
    event.save(force_insert=True)
    _dispatch(topic, event.tenant_id, event.pk)
    if deliver_after_commit:
        tenant_id, event_id = event.tenant_id, event.pk
        transaction.on_commit(lambda: deliver_at_once(topic, tenant_id, event_id))


def _dispatch(topic: str, tenant_id: int, event_id: int) -> None:
    async_task(DELIVER_TASK, topic, tenant_id, event_id, task_name=f"outbox-{topic}-{event_id}")


def _event_model(topic: str) -> type[OutboxEvent]:
    model = apps.get_model(topic)
    if not issubclass(model, OutboxEvent):
        raise LookupError(f"{topic} is not an outbox table.")
    return model


def _claim(topic: str, tenant_id: int, event_id: int, subscriber: str) -> bool:
    """Claim one (event, subscriber) pair in the current transaction; False if it is taken."""
    with connection.cursor() as cursor:
        cursor.execute(
            _CLAIM.format(table=OutboxDelivery._meta.db_table),
            [tenant_id, topic, event_id, subscriber],
        )
        return cursor.fetchone() is not None


def _claimed(topic: str, tenant_id: int, event_id: int, subscriber: str) -> bool:
    """Whether a committed delivery claimed the pair (a claim is final: read without a lock)."""
    return (
        OutboxDelivery.objects.for_tenant(tenant_id)
        .filter(topic=topic, event_id=event_id, subscriber=subscriber)
        .exists()
    )


def _lock_batches(topic: str, tenant_id: int, subscriber: str, *, wait: bool = True) -> bool:
    """Serialise one batch subscriber's deliveries of one tenant (until the transaction ends).
    Without ``wait``: False at once when another delivery holds the lock.

    Taken before any claim: two deliveries that claimed overlapping sets of events, each
    waiting on a row the other inserted into the unique index, would deadlock."""
    key = zlib.crc32(f"outbox:{topic}:{subscriber}".encode()) - 2**31  # a signed int4
    with connection.cursor() as cursor:
        if not wait:
            cursor.execute("SELECT pg_try_advisory_xact_lock(%s, %s)", [key, tenant_id])
            return bool(cursor.fetchone()[0])
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [key, tenant_id])
        return True


def _claim_more(
    model: type[OutboxEvent], event: OutboxEvent, topic: str, subscriber: Subscriber
) -> list[OutboxEvent]:
    """Claim up to ``subscriber.batch - 1`` more pending events of ``event``'s tenant."""
    room = subscriber.batch_weight if subscriber.batch_weight is not None else 2**62
    with connection.cursor() as cursor:
        cursor.execute(
            _CLAIM_MORE.format(
                table=OutboxDelivery._meta.db_table,
                events=model._meta.db_table,
                weight=model.outbox_weight,
            ),
            {
                "tenant": event.tenant_id,
                "topic": topic,
                "event": event.pk,
                "subscriber": subscriber.name,
                "limit": subscriber.batch - 1,
                "room": room,
            },
        )
        ids = [row[0] for row in cursor.fetchall()]
    return list(model.objects.for_tenant(event.tenant_id).filter(pk__in=ids)) if ids else []


def _apply(
    model: type[OutboxEvent],
    event: OutboxEvent,
    topic: str,
    subscriber: Subscriber,
    *,
    alone: bool,
    wait: bool = True,
) -> int | None:
    """One subscriber's transaction: claim, handle, commit together. 1 if it applied the event
    now, 0 if the event was claimed already; a batch subscriber's call takes more pending
    events unless ``alone``. Without ``wait``, None (nothing done) when another delivery holds
    the batch subscriber's lock for the tenant."""
    with transaction.atomic():
        commit_without_flush()  # delivered_at is set by a later, flushed commit
        if subscriber.batch > 1:
            if _claimed(topic, event.tenant_id, event.pk, subscriber.name):
                return 0  # a committed batch took it: no wait behind the batch running now
            if not _lock_batches(topic, event.tenant_id, subscriber.name, wait=wait):
                return None
        if not _claim(topic, event.tenant_id, event.pk, subscriber.name):
            return 0
        if subscriber.batch > 1:
            more = [] if alone else _claim_more(model, event, topic, subscriber)
            subscriber.resolve()(sorted([event, *more], key=lambda e: e.pk))
        else:
            subscriber.resolve()(event)
        return 1


def deliver(topic: str, tenant_id: int, event_id: int, *, wait: bool = True) -> dict[str, int]:
    """Hand one event to each of its subscribers that has not processed it yet (a batch
    subscriber: with more of the tenant's pending events).

    Each subscriber runs in its own transaction together with its acknowledgement. Raises
    ``SubscriberFailed`` when any subscriber raised (after trying all of them); marks the event
    delivered when none did. Returns how many subscribers applied it now and how many had already.
    Without ``wait`` (``deliver_at_once``) a batch subscriber whose tenant's lock is held is left
    out (counted as ``busy``) and the event stays undelivered for its queued task.
    """
    model = _event_model(topic)
    event = model.objects.for_tenant(tenant_id).filter(pk=event_id).first()
    if event is None or event.delivered_at is not None:
        return {"applied": 0, "already": 0, "failed": 0}
    applied = already = busy = 0
    failed: list[str] = []
    for subscriber in subscribers(topic):
        try:
            try:
                done = _apply(model, event, topic, subscriber, alone=False, wait=wait)
            except Exception:
                if subscriber.batch == 1:
                    raise
                # An event the handler cannot take must fail alone, not every batch it is in
                # (batches take the oldest first): this event again, without the others.
                logger.warning(
                    "outbox batch failed; this event alone",
                    exc_info=True,
                    extra={"topic": topic, "tenant_id": tenant_id, "event_id": event_id},
                )
                done = _apply(model, event, topic, subscriber, alone=True, wait=wait)
            if done is None:
                busy += 1
                continue
            applied += done
            already += 1 - done
        except Exception:  # one subscriber's failure must not hold back the others
            logger.exception(
                "outbox subscriber failed",
                extra={
                    "topic": topic,
                    "tenant_id": tenant_id,
                    "event_id": event_id,
                    "subscriber": subscriber.name,
                },
            )
            failed.append(subscriber.name)
    if failed:
        raise SubscriberFailed(f"{topic} {event_id}: {', '.join(failed)} failed; retried later.")
    if busy:
        return {"applied": applied, "already": already, "failed": 0, "busy": busy}
    model.objects.for_tenant(tenant_id).filter(pk=event_id, delivered_at__isnull=True).update(
        delivered_at=timezone.now()
    )
    return {"applied": applied, "already": already, "failed": 0}


def deliver_at_once(topic: str, tenant_id: int, event_id: int) -> dict[str, int] | None:
    """``deliver`` without waiting, right after the event's transaction committed, in the
    process that published it (``publish(..., deliver_after_commit=True)``): the subscribers'
    work follows the publisher's in the same worker instead of queueing behind every task queued
    meanwhile, so a stream of chunks is judged while it is stored. Best effort, never raises:
    a batch subscriber busy with the tenant (another worker handling its events: the tenant's
    next delivery takes this one along) and a failure leave the event to its queued task, which
    skips what was applied here or by a later batch."""
    try:
        return deliver(topic, tenant_id, event_id, wait=False)
    except Exception:  # the queued task delivers (and retries) it
        logger.warning(
            "outbox delivery at once failed; the queued task retries",
            exc_info=True,
            extra={"topic": topic, "tenant_id": tenant_id, "event_id": event_id},
        )
        return None


def sweep(*, grace: timedelta | None = None) -> int:
    """Queue a new delivery for every event still undelivered ``grace`` after its last dispatch
    (default ``SIGAP_OUTBOX_GRACE_SECONDS``), at most ``SWEEP_BATCH`` per table and run; events
    of a table nobody subscribes to any more are marked delivered. Returns how many were queued.
    """
    if grace is None:
        grace = timedelta(seconds=settings.SIGAP_OUTBOX_GRACE_SECONDS)
    queued = 0
    for model in event_models():
        topic = model._meta.label_lower
        now = timezone.now()
        pending = model.objects.get_queryset().filter(
            delivered_at__isnull=True, dispatched_at__lte=now - grace
        )
        rows: list[tuple[int, int]] = []
        for tenant_id in pending.tenant_ids():
            tenant_pending = pending.for_tenant(tenant_id)
            with transaction.atomic():
                if not subscribers(topic):
                    tenant_pending.update(delivered_at=now)
                    continue
                # SKIP LOCKED: two sweepers running at once never queue the same event twice.
                ids = list(
                    tenant_pending.order_by("dispatched_at")
                    .select_for_update(skip_locked=True)
                    .values_list("pk", flat=True)[: SWEEP_BATCH - len(rows)]
                )
                if not ids:
                    continue
                model.objects.for_tenant(tenant_id).filter(pk__in=ids).update(dispatched_at=now)
                for pk in ids:
                    _dispatch(topic, tenant_id, pk)
            rows += [(pk, tenant_id) for pk in ids]
            if len(rows) >= SWEEP_BATCH:
                break
        if not rows:
            continue
        logger.warning("outbox events re-dispatched", extra={"topic": topic, "count": len(rows)})
        queued += len(rows)
    return queued


def prune(*, days: int | None = None) -> int:
    """Delete delivered events older than ``days`` (default ``SIGAP_OUTBOX_RETENTION_DAYS``) with
    their acknowledgements; undelivered events stay. Returns how many events were deleted."""
    if days is None:
        days = settings.SIGAP_OUTBOX_RETENTION_DAYS
    cutoff = timezone.now() - timedelta(days=days)
    deleted = 0
    for model in event_models():
        topic = model._meta.label_lower
        old = model.objects.get_queryset().filter(delivered_at__lt=cutoff)
        for tenant_id in old.tenant_ids():
            while True:
                with transaction.atomic():
                    ids = list(
                        old.for_tenant(tenant_id)
                        .order_by()
                        .values_list("pk", flat=True)[:PRUNE_BATCH]
                    )
                    OutboxDelivery.objects.for_tenant(tenant_id).filter(
                        topic=topic, event_id__in=ids
                    ).delete()
                    model.objects.for_tenant(tenant_id).filter(pk__in=ids).delete()
                deleted += len(ids)
                if len(ids) < PRUNE_BATCH:
                    break
    return deleted


def check_subscribers(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """System check: every subscription names an outbox table and an importable handler."""
    errors: list[checks.CheckMessage] = []
    for topic, registered in _registry.items():
        try:
            _event_model(topic)
        except (LookupError, ValueError):
            errors.append(
                checks.Error(
                    f"Outbox subscribers listen to {topic!r}, which is no outbox table.",
                    id="tenants.E101",
                )
            )
        for subscriber in registered.values():
            try:
                subscriber.resolve()
            except ImportError:
                errors.append(
                    checks.Error(
                        f"Outbox subscriber {subscriber.name!r} names {subscriber.handler!r}, "
                        "which cannot be imported.",
                        id="tenants.E102",
                    )
                )
    return errors
