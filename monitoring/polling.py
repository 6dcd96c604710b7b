"""Polling RSS/Atom feeds and Mastodon timelines on a schedule, with back-off on failure.

``poll_due_sources`` runs every minute (a django-q2 schedule): it claims the due rows of the
poll schedule (``PollSchedule``, one row per RSS or Mastodon source that is not paused, of an
active tenant) with ``SELECT ... FOR UPDATE SKIP LOCKED``, leases them and queues one
``poll_source`` task each. The scheduler never reads or locks a tenant table: two schedulers
running at once claim different rows, and no tenant's sources are locked across tenants.

``poll_source`` runs pinned to the source's tenant: it hands new items to
``services.accept_items`` (the same path as the ingest API), keeps the source's cursor (ETag,
Last-Modified, Mastodon ``since_id``) and health, and reschedules it (``next_poll_at`` on the
source, shown by the API, and on its schedule row, lease released). A poll whose worker died
leaves the lease to run out (``LEASE``, the broker's redelivery time) and the source is
claimed again.

``sync_schedule`` keeps a source's schedule row in step whenever the source is saved or
deleted (signals wired in ``monitoring.apps``), whoever writes it.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from django_q.tasks import async_task

from monitoring import services
from monitoring.choices import SourceKind, SourceStatus
from monitoring.models import PollSchedule, Source, validate_source_config
from monitoring.pollers import PollError, PollResult, next_poll_delay, poll_feed, poll_mastodon
from tenants import i18n
from tenants.models import Tenant

POLLED_KINDS = (SourceKind.RSS, SourceKind.MASTODON)
FAILING_AFTER = 3  # consecutive failures before a source shows as failing
POLL_TASK = "monitoring.tasks.poll_source"
CLAIM_BATCH = 500  # sources claimed per scheduler run
# A claimed source is claimed again after this long without a reschedule: the broker's
# redelivery time (Q_RETRY), after which a poll task that a dead worker held is redelivered too.
LEASE = timedelta(seconds=int(str(settings.Q_CLUSTER.get("retry", 360))))
_SYNC = f"""
    INSERT INTO {PollSchedule._meta.db_table} (source_id, tenant_id, next_poll_at)
    VALUES (%s, %s, %s)
    ON CONFLICT (source_id) DO UPDATE SET
        tenant_id = EXCLUDED.tenant_id, next_poll_at = EXCLUDED.next_poll_at
"""  # noqa: S608 - the table name is the model's


def sync_schedule(source: Source) -> None:
    """The source's schedule row as the source now is: there, due at its ``next_poll_at``, for
    an RSS or Mastodon source that is not paused (a lease it holds is kept); gone otherwise."""
    if source.kind in POLLED_KINDS and source.status != SourceStatus.PAUSED:
        with connection.cursor() as cursor:
            cursor.execute(_SYNC, [source.pk, source.tenant_id, source.next_poll_at])
    else:
        PollSchedule.objects.filter(source_id=source.pk).delete()


def on_source_saved(sender: Any, instance: Source, raw: bool = False, **kwargs: Any) -> None:
    if not raw:  # fixtures loaded raw are synced by the next save
        sync_schedule(instance)


def on_source_deleted(sender: Any, instance: Source, **kwargs: Any) -> None:
    PollSchedule.objects.filter(source_id=instance.pk).delete()


def _reschedule(source_id: int, when: Any) -> None:
    PollSchedule.objects.filter(source_id=source_id).update(next_poll_at=when, leased_until=None)


def _fetch(source: Source) -> PollResult:
    """Poll with the source's config as ``validate_source_config`` reads it (the rule every
    writer keeps); a stored config that breaks it (saved before the rule, or edited in the
    database) is a ``ValidationError``, recorded like a failed poll."""
    config = validate_source_config(source.kind, source.config, check_addresses=False)
    cursor = source.cursor or {}
    if source.kind == SourceKind.RSS:
        return poll_feed(config["url"], etag=cursor.get("etag"), modified=cursor.get("modified"))
    return poll_mastodon(
        config["base_url"],
        hashtag=config.get("hashtag"),
        query=config.get("query"),
        since_id=cursor.get("since_id"),
    )


def _config_message(exc: ValidationError) -> str:
    return "config: " + " ".join(exc.message_dict.get("config", exc.messages))


def poll_source(tenant_id: int, source_id: int) -> dict[str, Any]:
    source = (
        Source.objects.for_tenant(tenant_id)
        .select_related("tenant")
        .filter(pk=source_id, kind__in=POLLED_KINDS)
        .exclude(status=SourceStatus.PAUSED)
        .first()
    )
    if source is None:  # deleted, paused or no longer polled: nothing left to schedule
        PollSchedule.objects.filter(source_id=source_id).delete()
        return {"skipped": True}
    now = timezone.now()
    try:
        # The error kept on the source is read by the tenant's people: in its language.
        with i18n.override(tenant=source.tenant, zone=False):
            result = _fetch(source)
    except (PollError, ValidationError) as exc:
        failures = source.consecutive_failures + 1
        retry_after = getattr(exc, "retry_after", None)
        delay = next_poll_delay(
            failures,
            source.poll_interval_s,
            retry_after=retry_after,
            jitter=0.1,
            key=str(source.pk),
        )
        with i18n.override(tenant=source.tenant, zone=False):
            message = exc.message if isinstance(exc, PollError) else _config_message(exc)
        with transaction.atomic():
            Source.objects.for_tenant(tenant_id).filter(pk=source.pk).update(
                consecutive_failures=failures,
                last_error=message[:2000],
                last_error_at=now,
                next_poll_at=now + timedelta(seconds=delay),
                status=SourceStatus.FAILING if failures >= FAILING_AFTER else source.status,
            )
            _reschedule(source.pk, now + timedelta(seconds=delay))
        return {"error": message, "retry_in_s": round(delay)}
    cursor = dict(source.cursor or {})
    if result.etag:
        cursor["etag"] = result.etag
    if result.modified:
        cursor["modified"] = result.modified
    if result.max_id:
        cursor["since_id"] = result.max_id
    with transaction.atomic():
        batch = None
        if result.items:
            batch = services.accept_items(
                tenant=source.tenant, objects=list(result.items), source=source
            )
        Source.objects.for_tenant(tenant_id).filter(pk=source.pk).update(
            cursor=cursor,
            consecutive_failures=0,
            last_success_at=now,
            last_error="",
            status=SourceStatus.ACTIVE,
            next_poll_at=now + timedelta(seconds=source.poll_interval_s),
        )
        _reschedule(source.pk, now + timedelta(seconds=source.poll_interval_s))
    return {"items": len(result.items), "batch_id": batch.pk if batch else None}


def poll_due_sources() -> int:
    """Claim the due sources of active tenants from the poll schedule and queue a poll for
    each; returns how many were queued."""
    now = timezone.now()
    with transaction.atomic():
        due = list(
            PollSchedule.objects.select_for_update(skip_locked=True)
            .filter(Q(next_poll_at__isnull=True) | Q(next_poll_at__lte=now))
            .filter(Q(leased_until__isnull=True) | Q(leased_until__lte=now))
            .filter(tenant_id__in=Tenant.objects.filter(status=Tenant.Status.ACTIVE).values("pk"))
            .order_by(F("next_poll_at").asc(nulls_first=True), "source_id")
            .values_list("source_id", "tenant_id")[:CLAIM_BATCH]
        )
        # Leased now, so the next run does not queue them again while they are polled.
        PollSchedule.objects.filter(source_id__in=[source_id for source_id, _ in due]).update(
            leased_until=now + LEASE
        )
        for source_id, tenant_id in due:
            async_task(POLL_TASK, tenant_id, source_id, task_name=f"poll-{source_id}")
    return len(due)
