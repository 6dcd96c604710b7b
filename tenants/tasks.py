"""django-q2 entry points of the platform layer.

Dotted paths here are stored in queued tasks and schedules: do not rename them.
"""

from __future__ import annotations

from tenants import outbox, ratelimit


def prune_rate_counters() -> int:
    return ratelimit.prune()


def deliver_outbox_event(topic: str, tenant_id: int, event_id: int) -> dict[str, int]:
    return outbox.deliver(topic, tenant_id, event_id)


def sweep_outbox() -> int:
    return outbox.sweep()


def prune_outbox() -> int:
    return outbox.prune()
