"""Writes of escalation policies: one policy per tenant and severity whose steps name members
and channels of the same tenant (``docs/notifications.md``)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from monitoring.escalation.models import EscalationPolicy
from tenants.models import Channel, Membership, Tenant
from tenants.writes import create_row, delete_row, update_row

POLICY_WRITABLE = ("name", "severity", "steps", "repeat", "enabled")


def check_step_targets(tenant_id: int, steps: Any) -> None:
    """Every user a step names is a member of the tenant, every channel one of its channels
    (another tenant's ids read like unknown ones)."""
    if not isinstance(steps, list):
        return  # the field's validator says what is wrong with the shape
    users: set[int] = set()
    channels: set[int] = set()
    for step in steps:
        if isinstance(step, dict):
            users.update(u for u in step.get("users") or [] if isinstance(u, int))
            channels.update(c for c in step.get("channels") or [] if isinstance(c, int))
    known_users = set(
        Membership.objects.for_tenant(tenant_id)
        .filter(user_id__in=users)
        .values_list("user_id", flat=True)
    )
    known_channels = set(
        Channel.objects.for_tenant(tenant_id).filter(pk__in=channels).values_list("pk", flat=True)
    )
    unknown_users = sorted(users - known_users)
    unknown_channels = sorted(channels - known_channels)
    if unknown_users:
        raise ValidationError(
            {"steps": _("Not members of this tenant: %(ids)s.") % {"ids": unknown_users}},
            code="not_found",
        )
    if unknown_channels:
        raise ValidationError(
            {"steps": _("No such channels in this tenant: %(ids)s.") % {"ids": unknown_channels}},
            code="not_found",
        )


@transaction.atomic
def create_policy(*, tenant: Tenant, **values: Any) -> EscalationPolicy:
    check_step_targets(tenant.pk, values.get("steps"))
    return create_row(EscalationPolicy, tenant=tenant, **values)


@transaction.atomic
def update_policy(*, instance: EscalationPolicy, **changes: Any) -> EscalationPolicy:
    if "steps" in changes:
        check_step_targets(instance.tenant_id, changes["steps"])
    return update_row(instance, writable=POLICY_WRITABLE, **changes)


@transaction.atomic
def delete_policy(*, instance: EscalationPolicy) -> None:
    delete_row(instance)
