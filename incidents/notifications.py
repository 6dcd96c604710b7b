"""Incidents' notices by e-mail (``docs/notifications.md``): the hooks of ``incidents.hooks``
call the platform's notify API (``tenants.notify.services``). Registered from
``IncidentsConfig.ready``; each runs inside the sweep's transaction and only decides (a delivery
row and its queued task, keyed so a rerun of the sweep decides nothing twice)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext as _

from incidents.models import IncidentMember
from tenants import i18n
from tenants.choices import IncidentRole
from tenants.models import Membership, Tenant, User
from tenants.notify import services as notify
from tenants.roles import Cap, role_has


def _incident_url(incident: Any) -> str:
    return settings.SIGAP_PUBLIC_URL + reverse(
        "admin:incidents_incident_change", args=[incident.pk]
    )


def _commanders(incident: Any) -> list[User]:
    """The incident's commander; without one, the members who hold ``incidents.command``."""
    named = [
        member.user
        for member in IncidentMember.objects.for_tenant(incident.tenant_id)
        .filter(incident_id=incident.pk, role=IncidentRole.COMMANDER)
        .select_related("user")
        if member.user.is_active
    ]
    if named:
        return named
    return [
        m.user
        for m in Membership.objects.for_tenant(incident.tenant_id).select_related("user")
        if m.user.is_active and role_has(m.role, Cap.COMMAND_INCIDENTS)
    ]


def on_target_breached(incident: Any, timer: Any) -> None:
    tenant = Tenant.objects.get(pk=incident.tenant_id)
    for user in _commanders(incident):
        with i18n.override(user=user, tenant=tenant):
            title = _("Response target missed: %(title)s") % {"title": incident.title}
            body = _(
                "Target %(target)s was due %(due)s and is %(late)s minutes late.\n\n%(url)s"
            ) % {
                "target": timer.target,
                "due": i18n.local_time(timer.due_at, tenant=tenant),
                "late": timer.late_minutes,
                "url": _incident_url(incident),
            }
        notify.notify_user(
            tenant_id=tenant.pk,
            user=user,
            key=f"incident:{incident.pk}:breach:{timer.target}:{timer.due_at.isoformat()}:"
            f"u{user.pk}",
            event_type="incident.target_breached",
            title=title,
            body=body,
            subject_ref=f"incident:{incident.pk}",
        )


def on_task_reminder(task: Any) -> None:
    owner = task.owner
    if owner is None or not owner.is_active:
        return
    tenant = Tenant.objects.get(pk=task.tenant_id)
    with i18n.override(user=owner, tenant=tenant):
        title = _("Task due: %(title)s") % {"title": task.title}
        body = _("Due %(due)s, in incident %(incident)s.\n\n%(url)s") % {
            "due": i18n.local_time(task.due_at, tenant=tenant),
            "incident": task.incident.title,
            "url": _incident_url(task.incident),
        }
    notify.notify_user(
        tenant_id=tenant.pk,
        user=owner,
        key=f"task:{task.pk}:reminder:{task.due_at.isoformat()}",
        event_type="incident.task_reminder",
        title=title,
        body=body,
        subject_ref=f"incident:{task.incident_id}",
    )
