"""django-q2 entry points. They take ids, never model instances, and call the pipeline.

Each declares its database scope (``tenants.dbscope``): ``tenant_task`` runs in its
``tenant_id``'s scope only; ``cross_tenant_task`` crosses tenants for scheduling and sweeps and
logs one line a run. Dotted paths here are stored in queued tasks and schedules: do not rename
them.
"""

from __future__ import annotations

from typing import Any

from monitoring import pipeline
from tenants.dbscope import cross_tenant_task, tenant_hook, tenant_task


@tenant_task
def process_chunk(tenant_id: int, chunk_id: int) -> dict[str, int]:
    return pipeline.process_chunk(tenant_id, chunk_id)


@tenant_hook
def on_chunk_failed(task: Any) -> None:
    """Hook: record the final failure of a chunk on its batch (django-q2 keeps the Failure)."""
    if not task.success and task.args:
        pipeline.mark_failed(task.args[0], task.args[1], str(task.result))


@tenant_task
def poll_source(tenant_id: int, source_id: int) -> dict[str, Any]:
    from monitoring import polling

    return polling.poll_source(tenant_id, source_id)


@cross_tenant_task("poll scheduling")
def poll_due_sources() -> int:
    from monitoring import polling

    return polling.poll_due_sources()


@cross_tenant_task("webhook signature pruning")
def prune_webhook_signatures() -> int:
    from monitoring import services

    return services.prune_webhook_signatures()


@cross_tenant_task("early-warning sweep")
def sweep_alerts() -> dict[str, int]:
    """Every minute: close the buckets of quiet series and wake expired snoozes
    (``monitoring.early_warning.live.sweep``)."""
    from dataclasses import asdict

    from monitoring.early_warning import live

    return asdict(live.sweep())


@cross_tenant_task("early-warning pruning")
def prune_alert_state() -> int:
    """Hourly: delete hoax band hashes and members past the window, old engagement snapshots."""
    from monitoring.early_warning import live

    return live.prune()


@cross_tenant_task("retention scheduling")
def apply_retention_all() -> int:
    """Daily schedule: one retention task per tenant that keeps something for a limited time.

    Retention deletes in bulk, so it runs on the slow cluster: it never holds a worker that an
    ingest chunk or an alert is waiting for."""
    from monitoring import retention
    from tenants.queues import enqueue_slow

    tenant_ids = retention.tenants_with_retention()
    for tenant_id in tenant_ids:
        enqueue_slow(RETENTION_TASK, tenant_id, task_name=f"retention-{tenant_id}")
    return len(tenant_ids)


@tenant_task
def apply_retention(tenant_id: int) -> dict[str, Any]:
    """One tenant's retention for a bounded time; queues itself again when work is left."""
    from dataclasses import asdict

    from monitoring import retention
    from tenants.queues import enqueue_slow

    result = retention.apply_retention(tenant_id=tenant_id)
    if not result.finished:
        enqueue_slow(RETENTION_TASK, tenant_id, task_name=f"retention-{tenant_id}")
    return asdict(result)


RETENTION_TASK = "monitoring.tasks.apply_retention"


@tenant_task
def triage_mention(tenant_id: int, mention_id: int, **changes: Any) -> dict[str, Any]:
    """Triage a mention in the background (automations, e.g. a playbook step that assigns the
    on-call responder): ``changes`` are ``status``, ``tags`` and ``assignee`` (a user id, or
    None to unassign), checked by ``services.triage_mention`` like every other writer.
    Returns the triage columns as stored, or ``{"skipped": True}`` for an unknown mention."""
    from monitoring import services
    from monitoring.models import Mention

    mention = Mention.objects.for_tenant(tenant_id).filter(pk=mention_id).first()
    if mention is None:
        return {"skipped": True}
    services.triage_mention(mention=mention, **changes)
    return {"status": mention.status, "tags": mention.tags, "assignee": mention.assignee_id}


@tenant_task
def train_scoring_model(tenant_id: int) -> dict[str, Any]:
    """Train the tenant's next classifier version (slow queue; ``monitoring.classifier``)."""
    from monitoring import classifier

    row = classifier.train_scoring_model(tenant=tenant_id)
    return {"version": row.version, "status": row.status, "metrics": row.metrics}


@tenant_task
def rescore_mentions(tenant_id: int, days: int) -> int:
    """Score the tenant's recent mentions again with its live classifier (slow queue)."""
    from monitoring import classifier

    return classifier.rescore_mentions(tenant=tenant_id, days=days)
