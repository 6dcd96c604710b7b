"""Writes and business rules of the monitoring app, shared by REST, GraphQL, admin and tasks."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django_q.tasks import async_task

from monitoring.choices import BatchStatus
from monitoring.ingest import validate_items
from monitoring.models import IngestBatch, IngestChunk, Source, WebhookSignature
from tenants.models import Tenant

# Items per pipeline task: large enough to batch the scorer and the SQL, small enough that a
# retried task redoes little work.
CHUNK_SIZE = 500
PIPELINE_TASK = "monitoring.tasks.process_chunk"
FAILURE_HOOK = "monitoring.tasks.on_chunk_failed"


@transaction.atomic
def accept_items(
    *,
    tenant: Tenant,
    objects: list[Any],
    source: Source | None = None,
    chunk_size: int = CHUNK_SIZE,
) -> IngestBatch:
    """Validate raw items, store the valid ones durably as a batch and queue their processing.

    The batch, its chunks and their queued tasks are written in one transaction: either the
    caller gets a batch id and every accepted item will be processed, or nothing was stored.
    """
    validated = validate_items(objects)
    items = validated.items
    chunks = [items[i : i + chunk_size] for i in range(0, len(items), chunk_size)]
    batch = IngestBatch.objects.create(
        tenant=tenant,
        source=source,
        item_count=len(items),
        rejected=validated.rejected,
        chunk_count=len(chunks),
        status=BatchStatus.QUEUED if chunks else BatchStatus.DONE,
    )
    created = IngestChunk.objects.bulk_create(
        [
            IngestChunk(tenant=tenant, batch=batch, index=index, items=chunk)
            for index, chunk in enumerate(chunks)
        ]
    )
    for chunk in created:
        async_task(
            PIPELINE_TASK, tenant.pk, chunk.pk, task_name=f"chunk-{chunk.pk}", hook=FAILURE_HOOK
        )
    if source is not None:
        Source.objects.filter(pk=source.pk).update(
            received_count=F("received_count") + len(objects),
            accepted_count=F("accepted_count") + len(items),
            rejected_count=F("rejected_count") + len(validated.rejected),
        )
    return batch


@transaction.atomic
def claim_webhook_signature(
    *, source: Source, signature: str, delivery_id: str, expires_at: datetime
) -> bool:
    """Records that ``source`` signed ``delivery_id`` with ``signature``.

    False when the signature was already used for another delivery (a replay). Two parallel
    claims of one signature meet at the UNIQUE (source, signature) constraint: the second waits
    for the first and then sees its row.
    """
    record, created = WebhookSignature.objects.get_or_create(
        source=source,
        signature=signature,
        defaults={
            "tenant_id": source.tenant_id,
            "delivery_id": delivery_id,
            "expires_at": expires_at,
        },
    )
    return created or record.delivery_id == delivery_id


def prune_webhook_signatures() -> int:
    """Deletes the signatures whose timestamp is no longer accepted anyway."""
    deleted, _ = WebhookSignature.objects.filter(expires_at__lt=timezone.now()).delete()
    return deleted
