"""django-q2 entry points of statements and crisis mode (ids only; dotted paths are stored in
schedules: do not rename them)."""

from __future__ import annotations

from incidents.statements import services
from incidents.statements.choices import VersionStatus
from incidents.statements.models import CrisisMode, StatementVersion
from tenants.dbscope import cross_tenant_task, tenant_task


@cross_tenant_task("statement approval time-boxes and crisis-mode end times sweep")
def sweep_statements() -> dict[str, int]:
    """Every minute: ask the backup of every approval step whose time is up, and end every
    crisis mode whose end time came, tenant by tenant."""
    totals = {"escalated": 0, "crisis_modes_ended": 0}
    waiting = StatementVersion.objects.get_queryset().filter(
        status=VersionStatus.SUBMITTED, step_escalated_at__isnull=True
    )
    running = CrisisMode.objects.get_queryset().filter(ended_at__isnull=True, ends_at__isnull=False)
    for tenant_id in sorted(set(waiting.tenant_ids()) | set(running.tenant_ids())):
        result = check_tenant_statements(tenant_id)
        totals["escalated"] += result["escalated"]
        totals["crisis_modes_ended"] += result["crisis_modes_ended"]
    return totals


@tenant_task
def check_tenant_statements(tenant_id: int) -> dict[str, int]:
    return {
        "escalated": services.escalate_expired_steps(tenant_id=tenant_id),
        "crisis_modes_ended": services.end_expired_crisis_modes(tenant_id=tenant_id),
    }
