"""django-q2 entry points of the platform layer.

Each declares its database scope (``tenants.dbscope``). Dotted paths here are stored in queued
tasks and schedules: do not rename them.
"""

from __future__ import annotations

from tenants import outbox, ratelimit, watchdog
from tenants.dbscope import cross_tenant_task, platform_task, tenant_task


@platform_task
def prune_rate_counters() -> int:
    return ratelimit.prune()


@platform_task
def prune_task_results() -> int:
    return watchdog.prune_task_results()


@tenant_task
def deliver_outbox_event(topic: str, tenant_id: int, event_id: int) -> dict[str, int]:
    return outbox.deliver(topic, tenant_id, event_id)


@cross_tenant_task("outbox sweep")
def sweep_outbox() -> int:
    return outbox.sweep()


@cross_tenant_task("outbox pruning")
def prune_outbox() -> int:
    return outbox.prune()
