"""Running escalation policies on alerts.

- ``start(alert)``: when an alert is created (a ``post_save`` receiver, in the alert's own
  transaction; ``start_many`` for the alerts early warning opens together, the receiver of
  ``monitoring.signals.alerts_opened``), the tenant's enabled policy for the alert's severity
  gets an ``AlertEscalation`` row due now and its first step is queued (``run_step``) with the ORM
  broker, so the alert, the escalation and the task commit together.
- ``run_step``: under the escalation's row lock, stop when the alert is acknowledged, resolved
  or dismissed (a snoozed alert waits until its snooze ends: silencing is not a response); else
  decide the step's notifications (each keyed by alert, round, step and recipient, so a rerun
  decides nothing twice), move to the next step, and set when it is due (``wait_minutes``
  later). After the last step the steps start again while ``repeat`` allows, then it is done.
- People get an e-mail with a single-use link to acknowledge (``tenants.action_links``, only if
  their role may acknowledge) and a link to open the alert; people in their quiet hours are
  skipped (logged as skipped) unless the alert is SEV1. Channels get the message with the open
  link only (a group chat is not one person).
- ``sweep`` (every minute) queues the steps whose time has come.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django_q.tasks import async_task

from monitoring.choices import AlertStatus
from monitoring.escalation.models import AlertEscalation, EscalationPolicy, EscalationState
from monitoring.models import Alert
from tenants import access, i18n, queues
from tenants.choices import Severity
from tenants.models import Channel, Membership, Tenant, User
from tenants.notify import services as notify
from tenants.roles import Cap

STEP_TASK = "monitoring.escalation.tasks.run_step"
ACK_KIND = "alert.acknowledge"
STOPPING: dict[str, str] = {
    AlertStatus.ACKNOWLEDGED: "acknowledged",
    AlertStatus.RESOLVED: "resolved",
    AlertStatus.DISMISSED: "dismissed",
}


def on_alert_saved(sender: Any, instance: Alert, created: bool, **kwargs: Any) -> None:
    """``post_save`` receiver of ``Alert``: a new alert starts its escalation."""
    if created and not kwargs.get("raw"):
        start(instance)


def on_alerts_opened(sender: Any, tenant_id: int, alerts: list[Alert], **kwargs: Any) -> None:
    """``monitoring.signals.alerts_opened`` receiver: the alerts opened together (inserted at
    once, without ``post_save``) start their escalations, the policies read once."""
    start_many(tenant_id, alerts)


def start(alert: Alert) -> AlertEscalation | None:
    return start_many(alert.tenant_id, [alert])[0]


def start_many(tenant_id: int, alerts: list[Alert]) -> list[AlertEscalation | None]:
    """Each alert's escalation by the tenant's enabled policy for its severity (the first by
    id), due now, its first step queued; ``None`` for an alert no policy covers."""
    policies: dict[str, EscalationPolicy] = {}
    for found in (
        EscalationPolicy.objects.for_tenant(tenant_id)
        .filter(severity__in={alert.severity for alert in alerts}, enabled=True)
        .order_by("id")
    ):
        policies.setdefault(found.severity, found)
    covered = [alert for alert in alerts if alert.severity in policies]
    # one read and one insert for the lot (``get_or_create`` per alert was two statements each)
    existing = {
        e.alert_id: e
        for e in AlertEscalation.objects.for_tenant(tenant_id).filter(
            alert_id__in=[alert.pk for alert in covered]
        )
    }
    now = timezone.now()
    started = AlertEscalation.objects.bulk_create(
        [
            AlertEscalation(
                tenant_id=alert.tenant_id, alert=alert, policy=policies[alert.severity], next_at=now
            )
            for alert in covered
            if alert.pk not in existing
        ]
    )
    existing.update((e.alert_id, e) for e in started)
    out: list[AlertEscalation | None] = [
        existing[alert.pk] if alert.severity in policies else None for alert in alerts
    ]
    queues.async_tasks(
        (STEP_TASK, (e.tenant_id, e.pk), {"task_name": f"escalate-{e.pk}"}) for e in started
    )
    return out


def _open_url(alert: Alert) -> str:
    return settings.SIGAP_PUBLIC_URL + reverse("admin:monitoring_alert_change", args=[alert.pk])


def _message(alert: Alert, tenant: Tenant, round_: int) -> tuple[str, str]:
    severity = Severity(alert.severity).name if alert.severity in Severity.values else "?"
    title = _("[%(severity)s] %(tenant)s: %(title)s") % {
        "severity": severity,
        "tenant": tenant.name,
        "title": alert.title or _("Alert %(id)s") % {"id": alert.pk},
    }
    if round_:
        title = _("Still unacknowledged: %(title)s") % {"title": title}
    lines = [
        alert.explanation or "",
        "",
        _("Opened: %(when)s") % {"when": i18n.local_time(alert.created_at, tenant=tenant)},
        _("Status: %(status)s") % {"status": AlertStatus(alert.status).label},
    ]
    return title, "\n".join(lines).strip()


def _may_ack(user: User, tenant: Tenant) -> bool:
    try:
        access.resolve(user, tenant.slug).require(Cap.ACK_ALERTS)
    except (access.TenantNotFound, access.CapabilityMissing, access.TenantSuspended):
        return False
    return True


def _notify_person(
    *, alert: Alert, tenant: Tenant, user: User, key: str, round_: int, quiet: bool
) -> None:
    with i18n.override(user=user, tenant=tenant):
        title, body = _message(alert, tenant, round_)
        actions = []
        if not quiet and _may_ack(user, tenant):
            actions.append(
                {
                    "kind": ACK_KIND,
                    "model": Alert._meta.label,
                    "id": alert.pk,
                    "label": str(_("Acknowledge (opens a page, then confirm)")),
                }
            )
        body += "\n\n" + _("Open the alert: %(url)s") % {"url": _open_url(alert)}
        skip = str(_("quiet hours")) if quiet else ""
        notify.notify_user(
            tenant_id=tenant.pk,
            user=user,
            key=key,
            event_type="alert.escalation",
            title=title,
            body=body,
            subject_ref=f"alert:{alert.pk}",
            skip_reason=skip,
            actions=actions,
        )


def _notify_channel(
    *, alert: Alert, tenant: Tenant, channel: Channel, key: str, round_: int
) -> None:
    with i18n.override(tenant=tenant):
        title, body = _message(alert, tenant, round_)
        payload = {
            "alert": {
                "id": alert.pk,
                "kind": alert.kind,
                "severity": alert.severity,
                "status": alert.status,
                "title": alert.title,
                "created_at": alert.created_at.isoformat(),
            },
            "links": [{"label": str(_("Open the alert")), "url": _open_url(alert)}],
        }
        notify.notify_channel(
            channel=channel,
            key=key,
            event_type="alert.escalation",
            title=title,
            body=body,
            subject_ref=f"alert:{alert.pk}",
            payload=payload,
        )


@transaction.atomic
def run_step(*, tenant_id: int, escalation_id: int) -> str:
    """Run the escalation's due step (see the module docstring); returns its state after."""
    escalation = (
        AlertEscalation.objects.for_tenant(tenant_id)
        .select_for_update()
        .filter(pk=escalation_id)
        .first()
    )
    if escalation is None or escalation.state != EscalationState.ACTIVE:
        return escalation.state if escalation else "missing"
    now = timezone.now()
    if escalation.next_at and escalation.next_at > now:
        return "waiting"
    alert = Alert.objects.for_tenant(tenant_id).get(pk=int(escalation.alert_id))
    policy = (
        EscalationPolicy.objects.for_tenant(tenant_id).filter(pk=escalation.policy_id).first()
        if escalation.policy_id is not None
        else None
    )
    if alert.status in STOPPING or policy is None or not policy.enabled or not policy.steps:
        escalation.state = EscalationState.STOPPED
        escalation.stopped_reason = STOPPING.get(alert.status, "policy removed or disabled")
        escalation.next_at = None
        escalation.save(update_fields=["state", "stopped_reason", "next_at", "updated_at"])
        return escalation.state
    if alert.status == AlertStatus.SNOOZED and alert.snoozed_until and alert.snoozed_until > now:
        escalation.next_at = alert.snoozed_until
        escalation.save(update_fields=["next_at", "updated_at"])
        return "snoozed"
    tenant = Tenant.objects.get(pk=tenant_id)
    step = policy.steps[min(escalation.step, len(policy.steps) - 1)]
    prefix = f"alert:{alert.pk}:esc:{escalation.pk}:r{escalation.round}:s{escalation.step}"
    members = {
        m.user_id: m.user
        for m in Membership.objects.for_tenant(tenant_id).select_related("user")
        if m.user.is_active
    }
    people: dict[int, User] = {}
    for user_id in step.get("users") or []:
        if user_id in members:
            people.setdefault(user_id, members[user_id])
    if step.get("on_call"):
        for user in notify.on_call_now(tenant_id, now):
            people.setdefault(user.pk, user)
    sev1 = alert.severity == Severity.SEV1
    for user in people.values():
        quiet = not sev1 and notify.in_quiet_hours(tenant, user.pk, now)
        _notify_person(
            alert=alert,
            tenant=tenant,
            user=user,
            key=f"{prefix}:u{user.pk}",
            round_=escalation.round,
            quiet=quiet,
        )
    channels = Channel.objects.for_tenant(tenant_id).filter(
        pk__in=step.get("channels") or [], enabled=True
    )
    for channel in channels.order_by("id"):
        _notify_channel(
            alert=alert,
            tenant=tenant,
            channel=channel,
            key=f"{prefix}:c{channel.pk}",
            round_=escalation.round,
        )
    # Next: the following step, or the steps again while repeats remain, or done.
    escalation.step += 1
    if escalation.step >= len(policy.steps):
        escalation.step = 0
        escalation.round += 1
    wait = timedelta(minutes=int(step.get("wait_minutes") or 0))
    if escalation.round > policy.repeat:
        escalation.state = EscalationState.DONE
        escalation.next_at = None
    else:
        escalation.next_at = now + wait
    escalation.save(update_fields=["step", "round", "state", "next_at", "updated_at"])
    if escalation.state == EscalationState.ACTIVE and not wait:
        async_task(STEP_TASK, tenant_id, escalation.pk, task_name=f"escalate-{escalation.pk}")
    return escalation.state


def sweep() -> int:
    """Queue every active escalation whose next step is due; returns how many."""
    now = timezone.now()
    due = AlertEscalation.objects.get_queryset().filter(
        state=EscalationState.ACTIVE, next_at__lte=now
    )
    queued = 0
    for tenant_id in due.tenant_ids():
        ids = (
            AlertEscalation.objects.for_tenant(tenant_id)
            .filter(state=EscalationState.ACTIVE, next_at__lte=now)
            .values_list("pk", flat=True)[:500]
        )
        for escalation_id in ids:
            async_task(STEP_TASK, tenant_id, escalation_id, task_name=f"escalate-{escalation_id}")
            queued += 1
    return queued


def acknowledge_from_link(user: User, alert: Alert, data: dict[str, str]) -> str:
    """The ``alert.acknowledge`` action link: acknowledge as ``user`` if their role still may."""
    from django.core.exceptions import ValidationError

    from monitoring.early_warning import services as alert_services

    tenant = Tenant.objects.get(pk=alert.tenant_id)
    if not _may_ack(user, tenant):
        raise ValidationError(_("Your role in this tenant may no longer acknowledge alerts."))
    if alert.status == AlertStatus.ACKNOWLEDGED:
        return str(_("The alert was already acknowledged."))
    alert_services.acknowledge(alert=alert, user=user, note=_("Acknowledged from a notification."))
    return str(_("Alert acknowledged. Escalation stops."))
