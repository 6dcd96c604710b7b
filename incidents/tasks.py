"""django-q2 entry points of the incidents app. They take ids, never model instances, and call
the services. Dotted paths are stored in schedules: do not rename them."""

from __future__ import annotations

from incidents import services
from incidents.choices import OPEN_STATUSES
from incidents.models import Incident
from tenants.dbscope import cross_tenant_task, tenant_task


@cross_tenant_task("incident response-target and task-reminder sweep")
def sweep_timers() -> dict[str, int]:
    """Every minute: record missed response-time targets and task reminders, tenant by tenant
    (only tenants with open incidents are visited)."""
    totals = {"breaches": 0, "reminders": 0}
    open_incidents = Incident.objects.get_queryset().filter(status__in=OPEN_STATUSES)
    for tenant_id in open_incidents.tenant_ids():
        result = check_tenant_timers(tenant_id)
        totals["breaches"] += result["breaches"]
        totals["reminders"] += result["reminders"]
    return totals


@tenant_task
def check_tenant_timers(tenant_id: int) -> dict[str, int]:
    return {
        "breaches": services.check_targets(tenant_id=tenant_id),
        "reminders": services.send_task_reminders(tenant_id=tenant_id),
    }


@tenant_task
def alert_opened(tenant_id: int, alert_id: int) -> int | None:
    """Queued with every new alert (``incidents.alerts.on_alert_saved``): attach it to an open
    incident of the same subject or open one by the tenant's policy. Returns the incident id."""
    from incidents.alerts import link_alert
    from monitoring.models import Alert

    alert = Alert.objects.for_tenant(tenant_id).filter(pk=alert_id).first()
    if alert is None:
        return None
    incident = link_alert(alert=alert)
    return incident.pk if incident is not None else None


# --- client reports (docs/evaluation.md) ------------------------------------------------------

CLIENT_REPORT_TASK = "incidents.tasks.send_client_report"


@cross_tenant_task("client report scheduling")
def schedule_client_reports() -> int:
    """Daily: each tenant with an active report subscription gets one task per subscription on
    the slow cluster (reports are slow work); a subscription whose last complete period was
    already sent is left alone. Returns how many were queued."""
    from incidents.evaluation.models import ReportSubscription
    from tenants.queues import enqueue_slow

    queued = 0
    active = ReportSubscription.objects.get_queryset().filter(is_active=True)
    for tenant_id in active.tenant_ids():
        for subscription_id in (
            ReportSubscription.objects.for_tenant(tenant_id)
            .filter(is_active=True)
            .values_list("pk", flat=True)
        ):
            enqueue_slow(
                CLIENT_REPORT_TASK,
                tenant_id,
                subscription_id,
                task_name=f"client-report-{tenant_id}-{subscription_id}",
            )
            queued += 1
    return queued


@tenant_task
def send_client_report(tenant_id: int, subscription_id: int) -> dict[str, object]:
    """Make the subscription's report of its last complete period (once) and e-mail it to its
    recipients, unless that period was already sent."""
    from incidents.evaluation import services as evaluation
    from incidents.evaluation.models import ReportSubscription

    subscription = (
        ReportSubscription.objects.for_tenant(tenant_id)
        .filter(pk=subscription_id, is_active=True)
        .select_related("tenant")
        .first()
    )
    if subscription is None:
        return {"skipped": True}
    return evaluation.send_subscription(subscription=subscription)
