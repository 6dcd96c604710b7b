"""Polling RSS/Atom feeds and Mastodon timelines on a schedule, with back-off on failure.

``poll_due_sources`` runs every minute (a django-q2 schedule made by a migration): it claims
the sources whose ``next_poll_at`` has passed and queues one ``poll_source`` task each. A poll
hands new items to ``services.accept_items`` (the same path as the ingest API) and keeps the
source's cursor (ETag, Last-Modified, Mastodon ``since_id``) and health.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django_q.tasks import async_task

from monitoring import services
from monitoring.choices import SourceKind, SourceStatus
from monitoring.models import Source, validate_source_config
from monitoring.pollers import PollError, PollResult, next_poll_delay, poll_feed, poll_mastodon

POLLED_KINDS = (SourceKind.RSS, SourceKind.MASTODON)
FAILING_AFTER = 3  # consecutive failures before a source shows as failing
POLL_TASK = "monitoring.tasks.poll_source"


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
        .filter(pk=source_id, kind__in=POLLED_KINDS)
        .exclude(status=SourceStatus.PAUSED)
        .first()
    )
    if source is None:
        return {"skipped": True}
    now = timezone.now()
    try:
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
        message = exc.message if isinstance(exc, PollError) else _config_message(exc)
        Source.objects.filter(pk=source.pk).update(
            consecutive_failures=failures,
            last_error=message[:2000],
            last_error_at=now,
            next_poll_at=now + timedelta(seconds=delay),
            status=SourceStatus.FAILING if failures >= FAILING_AFTER else source.status,
        )
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
        Source.objects.filter(pk=source.pk).update(
            cursor=cursor,
            consecutive_failures=0,
            last_success_at=now,
            last_error="",
            status=SourceStatus.ACTIVE,
            next_poll_at=now + timedelta(seconds=source.poll_interval_s),
        )
    return {"items": len(result.items), "batch_id": batch.pk if batch else None}


def poll_due_sources() -> int:
    """Queue a poll for every source that is due; returns how many were queued."""
    now = timezone.now()
    with transaction.atomic():
        due = list(
            Source.objects.select_for_update(skip_locked=True)
            .filter(kind__in=POLLED_KINDS, tenant__status="active")
            .exclude(status=SourceStatus.PAUSED)
            .filter(Q(next_poll_at__isnull=True) | Q(next_poll_at__lte=now))
            .values_list("pk", "tenant_id", "poll_interval_s")[:500]
        )
        for source_id, tenant_id, interval in due:
            # Claim it now, so the next run does not queue it again while it is polled.
            Source.objects.filter(pk=source_id).update(
                next_poll_at=now + timedelta(seconds=interval)
            )
            async_task(POLL_TASK, tenant_id, source_id, task_name=f"poll-{source_id}")
    return len(due)
