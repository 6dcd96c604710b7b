"""django-q2 entry points. They take ids, never model instances, and call the pipeline.

Dotted paths here are stored in queued tasks and schedules: do not rename them.
"""

from __future__ import annotations

from typing import Any

from monitoring import pipeline


def process_chunk(tenant_id: int, chunk_id: int) -> dict[str, int]:
    return pipeline.process_chunk(tenant_id, chunk_id)


def on_chunk_failed(task: Any) -> None:
    """Hook: record the final failure of a chunk on its batch (django-q2 keeps the Failure)."""
    if not task.success and task.args:
        pipeline.mark_failed(task.args[0], task.args[1], str(task.result))


def poll_source(tenant_id: int, source_id: int) -> dict[str, Any]:
    from monitoring import polling

    return polling.poll_source(tenant_id, source_id)


def poll_due_sources() -> int:
    from monitoring import polling

    return polling.poll_due_sources()


def prune_webhook_signatures() -> int:
    from monitoring import services

    return services.prune_webhook_signatures()


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
