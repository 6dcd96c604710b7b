"""django-q2 entry points of escalation. Dotted paths are stored in queued tasks and
schedules: never rename them."""

from __future__ import annotations

from monitoring.escalation import engine
from tenants.dbscope import cross_tenant_task, tenant_task


@tenant_task
def run_step(tenant_id: int, escalation_id: int) -> str:
    return engine.run_step(tenant_id=tenant_id, escalation_id=escalation_id)


@cross_tenant_task("alert escalation sweep")
def sweep() -> int:
    """Every minute: queue the escalation steps whose wait is over."""
    return engine.sweep()
