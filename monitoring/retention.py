"""Retention of a tenant's monitoring data (docs/data-lifecycle.md).

What one run of ``apply_retention`` guarantees for a tenant, from ``Tenant`` settings read at
run time (``None`` keeps the data):

* mentions published more than ``mention_retention_days`` ago are deleted, and so are ingest
  batches (with their chunks) and webhook delivery ids received before that day; the 5-minute
  and hourly rollups (``MetricBucket``, ``TermBucket``) are kept, so old periods keep their
  counts without the personal data behind them; the author rollups (``AuthorBucket``,
  ``AuthorSlot``), which name people, are recounted for the deleted mentions' hours and so go
  with them, and the tally of mentions per hour (``MentionTally``, what counts read) loses the
  deleted ones;
* the raw JSON of mentions published more than ``raw_payload_retention_days`` ago is emptied
  (``{}``), and so are the items of ingest chunks that never finished, from batches received
  before that day (a finished chunk's items are emptied by the pipeline when it commits).

The work goes in bounded batches (``batch_size`` rows, oldest first, one short transaction
each), each found through an index: ``mention_timeline`` (tenant, published_at) for deletion,
the partial index ``mention_raw_kept`` (only rows still holding raw JSON) for clearing, the
batches' (tenant, received_at) index. A run stops after ``budget_s`` seconds and says so
(``finished`` false); the task then queues itself again, behind the work already waiting, so a
first run over years of data never holds a worker or a lock for long.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from monitoring import authors, counts
from monitoring.models import IngestBatch, IngestChunk, Mention, WebhookDelivery
from tenants.models import Tenant

logger = logging.getLogger("sigap.retention")

BATCH_SIZE = 2000
BUDGET_S = 20.0


@dataclass
class RetentionResult:
    tenant_id: int
    mentions_deleted: int = 0
    batches_deleted: int = 0
    deliveries_deleted: int = 0
    raw_cleared: int = 0
    chunk_items_cleared: int = 0
    finished: bool = True


def cutoffs(tenant: Tenant, now: datetime) -> tuple[datetime | None, datetime | None]:
    """(mentions older than this go, raw JSON older than this goes); None: kept."""
    mentions = (
        now - timedelta(days=tenant.mention_retention_days)
        if tenant.mention_retention_days
        else None
    )
    raw = (
        now - timedelta(days=tenant.raw_payload_retention_days)
        if tenant.raw_payload_retention_days
        else None
    )
    return mentions, raw


def apply_retention(
    *,
    tenant_id: int,
    now: datetime | None = None,
    batch_size: int = BATCH_SIZE,
    budget_s: float | None = None,
) -> RetentionResult:
    """Apply the tenant's retention settings, batch by batch, for at most ``budget_s``
    (default ``BUDGET_S``)."""
    result = RetentionResult(tenant_id=tenant_id)
    tenant = Tenant.objects.filter(pk=tenant_id).first()
    if tenant is None:
        return result
    now = now or timezone.now()
    stop_at = time.monotonic() + (BUDGET_S if budget_s is None else budget_s)
    mention_cutoff, raw_cutoff = cutoffs(tenant, now)

    def more_time() -> bool:
        if time.monotonic() < stop_at:
            return True
        result.finished = False
        return False

    if mention_cutoff is not None:
        old = Mention.objects.for_tenant(tenant_id).filter(published_at__lt=mention_cutoff)
        while more_time():
            with transaction.atomic():
                gone = list(
                    old.order_by("published_at").values_list(
                        "pk", "platform", "author_handle", "published_at", "sentiment"
                    )[:batch_size]
                )
                if gone:
                    ids = [pk for pk, *_ in gone]
                    Mention.objects.for_tenant(tenant_id).filter(pk__in=ids).delete()
                    authors.refresh(tenant_id, [(row[1], row[2], row[3]) for row in gone])
                    counts.subtract(tenant_id, [(row[3], row[4]) for row in gone])
            result.mentions_deleted += len(gone)
            if len(gone) < batch_size:
                break
        old_batches = IngestBatch.objects.for_tenant(tenant_id).filter(
            received_at__lt=mention_cutoff
        )
        while more_time():
            with transaction.atomic():
                ids = list(old_batches.order_by().values_list("pk", flat=True)[:batch_size])
                if ids:  # with their chunks and events (pinned cascades: TenantCollector)
                    IngestBatch.objects.for_tenant(tenant_id).filter(pk__in=ids).delete()
            result.batches_deleted += len(ids)
            if len(ids) < batch_size:
                break
        if more_time():
            result.deliveries_deleted, _ = (
                WebhookDelivery.objects.for_tenant(tenant_id)
                .filter(received_at__lt=mention_cutoff)
                .delete()
            )

    if raw_cutoff is not None:
        # Same predicate as the partial index ``mention_raw_kept``, so the planner can use it.
        holding = (
            Mention.objects.for_tenant(tenant_id)
            .exclude(raw={})
            .filter(published_at__lt=raw_cutoff)
        )
        while more_time():
            with transaction.atomic():
                ids = list(
                    holding.order_by("published_at").values_list("pk", flat=True)[:batch_size]
                )
                if ids:
                    Mention.objects.for_tenant(tenant_id).filter(pk__in=ids).update(raw={})
            result.raw_cleared += len(ids)
            if len(ids) < batch_size:
                break
        if more_time():
            old_batches = IngestBatch.objects.for_tenant(tenant_id).filter(
                received_at__lt=raw_cutoff
            )
            result.chunk_items_cleared = (
                IngestChunk.objects.for_tenant(tenant_id)
                .filter(done_at__isnull=True, batch__in=old_batches)
                .exclude(items=[])
                .update(items=[])
            )

    logger.info("retention applied", extra=asdict(result))
    return result


def tenants_with_retention() -> list[int]:
    """Ids of the tenants that keep something for a limited time."""
    return list(
        Tenant.objects.exclude(
            mention_retention_days__isnull=True, raw_payload_retention_days__isnull=True
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )
