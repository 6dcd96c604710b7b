"""From alert to incident (issue 13 item 2), without monitoring knowing about incidents.

How it is wired: ``IncidentsConfig.ready`` connects ``on_alert_saved`` to ``post_save`` of
``monitoring.Alert`` and ``on_alerts_opened`` to ``monitoring.signals.alerts_opened`` (the
alerts ``monitoring.early_warning.services.fire_or_merge_many`` opens together, inserted at
once). When an alert is *created* (either way), the receiver queues the task
``incidents.tasks.alert_opened(tenant_id, alert_id)`` inside the alert's own transaction: the
ORM broker commits the task with the alert or not at all, a failure of the incident side never
rolls back the alert, and django-q2 retries the task. Merged evidence (an update of an existing
alert) queues nothing. ``link_alert`` is idempotent, so a retried task changes nothing twice.

What it does (``link_alert``), by the tenant's per-severity policy
(``SeverityPolicy.auto_open_from_alert``; defaults: SEV1 and SEV2 open, ``docs/incidents.md``):

1. an open incident of the tenant that has a link to the same monitored query, hoax cluster or
   owned account made within the last 24 hours gets the alert attached (an ``alert`` link and
   an internal timeline entry);
2. otherwise, when the policy says so for the alert's severity, a new incident opens from the
   alert (title, severity, explanation; trigger from the alert's kind), linked to the alert and
   to its query, hoax cluster and owned account, so later alerts of the same subject attach;
3. otherwise nothing happens: the alert stays an alert.

Links are visible from both sides: ``incident-links/?incident=`` and the incident's timeline
from the incident; ``incidents/?alert=<id>`` and ``incident-links/?alert=<id>`` from the alert
(and the reverse relation ``Alert.incident_links`` for monitoring's own code).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django_q.tasks import async_task

from incidents import services
from incidents.choices import OPEN_STATUSES, LinkKind
from incidents.models import Incident, IncidentLink
from monitoring.models import Alert, HoaxCluster, MonitoredQuery, OwnedAccount
from tenants import queues
from tenants.choices import CrisisTrigger, Severity
from tenants.models import Tenant

ATTACH_WINDOW = timedelta(hours=24)
TASK = "incidents.tasks.alert_opened"

# The crisis trigger an alert of each kind most likely means (the commander can change it).
TRIGGER_OF_KIND = {
    "hoax-spread": CrisisTrigger.HOAX,
    "owned-account": CrisisTrigger.CYBER_ATTACK,
    "provocation-burst": CrisisTrigger.PROVOCATION,
    "negative-surge": CrisisTrigger.NEGATIVE_PERCEPTION,
}


def on_alert_saved(sender: Any, instance: Alert, created: bool, **kwargs: Any) -> None:
    """``post_save`` receiver: a new alert queues ``alert_opened`` in its transaction."""
    if not created or kwargs.get("raw"):
        return
    async_task(
        TASK, instance.tenant_id, instance.pk, task_name=f"incident-from-alert-{instance.pk}"
    )


def on_alerts_opened(sender: Any, tenant_id: int, alerts: list[Alert], **kwargs: Any) -> None:
    """``monitoring.signals.alerts_opened`` receiver: each of the alerts opened together
    queues its ``alert_opened`` in their transaction (the broker rows in one INSERT)."""
    queues.async_tasks(
        (TASK, (alert.tenant_id, alert.pk), {"task_name": f"incident-from-alert-{alert.pk}"})
        for alert in alerts
    )


def owned_account_of(alert: Alert) -> OwnedAccount | None:
    """The tenant's owned account an alert is about (``subject.account`` of owned-account
    alerts: ``{"platform", "handle"}``)."""
    account = (alert.subject or {}).get("account")
    if not isinstance(account, dict):
        return None
    platform, handle = account.get("platform"), account.get("handle")
    if not isinstance(platform, str) or not isinstance(handle, str):
        return None
    return (
        OwnedAccount.objects.for_tenant(alert.tenant_id)
        .filter(platform=platform, handle=handle)
        .first()
    )


def _subjects(alert: Alert) -> dict[str, Any]:
    found: dict[str, Any] = {}
    if alert.query_id:
        found["query"] = MonitoredQuery.objects.for_tenant(alert.tenant_id).get(pk=alert.query_id)
    if alert.cluster_id:
        found["hoax_cluster"] = HoaxCluster.objects.for_tenant(alert.tenant_id).get(
            pk=alert.cluster_id
        )
    account = owned_account_of(alert)
    if account is not None:
        found["owned_account"] = account
    return found


def incident_to_attach(alert: Alert, subjects: dict[str, Any]) -> Incident | None:
    """The open incident with a link to one of ``subjects`` made in the last 24 hours (the
    most recently linked one)."""
    if not subjects:
        return None
    since = (alert.created_at or timezone.now()) - ATTACH_WINDOW
    same = Q()
    for name, row in subjects.items():
        same |= Q(**{f"{name}_id": row.pk})
    open_ids = Incident.objects.for_tenant(alert.tenant_id).filter(status__in=OPEN_STATUSES)
    link = (
        IncidentLink.objects.for_tenant(alert.tenant_id)
        .filter(same, created_at__gte=since, incident_id__in=open_ids.values("pk"))
        .order_by("-created_at", "-id")
        .first()
    )
    if link is None:
        return None
    return Incident.objects.for_tenant(alert.tenant_id).get(pk=link.incident_id)


@transaction.atomic
def link_alert(*, alert: Alert) -> Incident | None:
    """Attach ``alert`` to an open incident of the same subject, or open one by the tenant's
    policy, or do nothing (see the module docstring). Returns the incident, if any."""
    already = (
        IncidentLink.objects.for_tenant(alert.tenant_id)
        .filter(alert=alert)
        .values_list("incident_id", flat=True)
        .first()
    )
    if already is not None:
        return Incident.objects.for_tenant(alert.tenant_id).get(pk=already)
    subjects = _subjects(alert)
    incident = incident_to_attach(alert, subjects)
    if incident is not None:
        services.create_link(
            incident=incident,
            kind=LinkKind.ALERT,
            alert=alert,
            note=_("Attached: same subject within 24 hours."),
        )
        return incident
    severity = alert.severity if alert.severity in Severity.values else Severity.SEV3
    if not services.auto_opens(alert.tenant_id, severity):
        return None
    incident = services.open_incident(
        tenant=Tenant.objects.get(pk=alert.tenant_id),
        title=(alert.title or _("Alert %(id)s") % {"id": alert.pk})[:200],
        trigger=TRIGGER_OF_KIND.get(alert.kind, CrisisTrigger.NEGATIVE_NEWS),
        severity=severity,
        summary=alert.explanation[:5000],
        detected_at=alert.first_evidence_at or alert.created_at,
        text=_("Opened from alert %(id)s (%(kind)s, %(severity)s) by the tenant's policy.")
        % {"id": alert.pk, "kind": alert.kind, "severity": severity},
    )
    services.create_link(incident=incident, kind=LinkKind.ALERT, alert=alert)
    for name, row in subjects.items():
        services.create_link(incident=incident, kind=name, **{name: row})
    return incident
