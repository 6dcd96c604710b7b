"""Writes of notifications: channels, the on-call rota, quiet hours, and deciding to notify.

Deciding (``notify_user``, ``notify_channel``, ``emit_event``) runs inside the caller's
transaction: it writes a ``Delivery`` row whose ``key`` is unique per tenant (the same decision
taken twice, by a retried task, is one row) and queues ``tenants.notify.tasks.send_delivery``
with the ORM broker, so the row and its task commit with the decision or not at all. The send
itself is never inline (``tenants.notify.tasks``).
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django_q.tasks import async_task

from tenants import i18n
from tenants.models import Channel, Delivery, Membership, OnCallShift, QuietHours, Tenant, User
from tenants.notify.choices import ChannelKind, DeliveryStatus
from tenants.writes import create_row, delete_row, update_row

SEND_TASK = "tenants.notify.tasks.send_delivery"
CHANNEL_WRITABLE = ("name", "kind", "enabled", "target", "secret", "signing_secret", "options")
SHIFT_WRITABLE = ("user", "starts_at", "ends_at", "note")
QUIET_WRITABLE = ("user", "starts", "ends")


def _grace() -> timedelta:
    return timedelta(seconds=getattr(settings, "SIGAP_NOTIFY_GRACE_SECONDS", 60))


# --- channels, rota, quiet hours --------------------------------------------------------------


def create_channel(*, tenant: Tenant, **values: Any) -> Channel:
    return create_row(Channel, tenant=tenant, **values)


def update_channel(*, instance: Channel, **changes: Any) -> Channel:
    if "kind" in changes and changes["kind"] != instance.kind:
        from django.core.exceptions import ValidationError
        from django.utils.translation import gettext as _

        raise ValidationError({"kind": _("A channel's kind never changes.")}, code="read_only")
    changes.pop("kind", None)
    # A secret left out (or empty) keeps the stored one: interfaces never show it back.
    for name in ("secret", "signing_secret"):
        if name in changes and not changes[name]:
            changes.pop(name)
    return update_row(instance, writable=CHANNEL_WRITABLE, **changes)


def delete_channel(*, instance: Channel) -> None:
    delete_row(instance)


def _ensure_member(tenant_id: int, user: User | None) -> None:
    from django.core.exceptions import ValidationError
    from django.utils.translation import gettext as _

    if user is None:
        return
    if not Membership.objects.for_tenant(tenant_id).filter(user_id=user.pk).exists():
        raise ValidationError({"user": _("Not a member of this tenant.")}, code="does_not_exist")


def create_shift(*, tenant: Tenant, **values: Any) -> OnCallShift:
    _ensure_member(tenant.pk, values.get("user"))
    return create_row(OnCallShift, tenant=tenant, **values)


def update_shift(*, instance: OnCallShift, **changes: Any) -> OnCallShift:
    _ensure_member(instance.tenant_id, changes.get("user"))
    return update_row(instance, writable=SHIFT_WRITABLE, **changes)


def delete_shift(*, instance: OnCallShift) -> None:
    delete_row(instance)


def create_quiet_hours(*, tenant: Tenant, **values: Any) -> QuietHours:
    _ensure_member(tenant.pk, values.get("user"))
    return create_row(QuietHours, tenant=tenant, **values)


def update_quiet_hours(*, instance: QuietHours, **changes: Any) -> QuietHours:
    _ensure_member(instance.tenant_id, changes.get("user"))
    return update_row(instance, writable=QUIET_WRITABLE, **changes)


def delete_quiet_hours(*, instance: QuietHours) -> None:
    delete_row(instance)


# --- who ------------------------------------------------------------------------------------


def on_call_now(tenant_id: int, at: datetime | None = None) -> list[User]:
    """The people whose on-call shift covers ``at`` (default now), still members, in shift
    order. Uses ``oncall_by_end`` (tenant, ends_at)."""
    at = at or timezone.now()
    shifts = (
        OnCallShift.objects.for_tenant(tenant_id)
        .filter(starts_at__lte=at, ends_at__gt=at)
        .select_related("user")
        .order_by("starts_at", "id")
    )
    members = set(Membership.objects.for_tenant(tenant_id).values_list("user_id", flat=True))
    seen: dict[int, User] = {}
    for shift in shifts:
        if shift.user_id in members and shift.user.is_active:
            seen.setdefault(shift.user_id, shift.user)
    return list(seen.values())


def _within(start: time, end: time, moment: time) -> bool:
    if start < end:
        return start <= moment < end
    return moment >= start or moment < end  # crosses midnight


def in_quiet_hours(tenant: Tenant, user_id: int, at: datetime | None = None) -> bool:
    """Whether ``at`` (default now) falls in the person's quiet hours, read in the tenant's
    time zone."""
    quiet = QuietHours.objects.for_tenant(tenant.pk).filter(user_id=user_id).first()
    if quiet is None:
        return False
    local = timezone.localtime(at or timezone.now(), i18n.zone_for(tenant=tenant))
    return _within(quiet.starts, quiet.ends, local.time().replace(tzinfo=None))


# --- deciding to notify ---------------------------------------------------------------------


def _record(
    *, tenant_id: int, key: str, status: str = DeliveryStatus.PENDING, **values: Any
) -> tuple[Delivery, bool]:
    """The delivery ``key`` of the tenant: made now (and its send queued) or found."""
    found = Delivery.objects.for_tenant(tenant_id).filter(key=key).first()
    if found is not None:
        return found, False
    try:
        with transaction.atomic():
            delivery = Delivery.objects.create(
                tenant_id=tenant_id,
                key=key,
                status=status,
                next_attempt_at=timezone.now() + _grace()
                if status == DeliveryStatus.PENDING
                else None,
                **values,
            )
    except IntegrityError:  # a concurrent decision made it first
        return Delivery.objects.for_tenant(tenant_id).get(key=key), False
    if status == DeliveryStatus.PENDING:
        async_task(SEND_TASK, tenant_id, delivery.pk, task_name=f"notify-{delivery.pk}")
    return delivery, True


def notify_user(
    *,
    tenant_id: int,
    user: User,
    key: str,
    event_type: str,
    title: str,
    body: str,
    subject_ref: str = "",
    skip_reason: str = "",
    actions: list[dict[str, Any]] | None = None,
) -> Delivery:
    """An e-mail to one person, decided once per ``key``. With ``skip_reason`` the row is
    written as skipped (quiet hours), so the log shows why nobody was woken.

    ``actions`` (``{"kind", "model", "id", "label"}`` each) become action links
    (``tenants.action_links``) made by the send task when it sends, so no usable token is ever
    stored in the delivery log."""
    status = DeliveryStatus.SKIPPED if skip_reason else DeliveryStatus.PENDING
    delivery, _created = _record(
        tenant_id=tenant_id,
        key=key,
        status=status,
        kind=ChannelKind.EMAIL,
        user=user,
        recipient=user.email,
        event_type=event_type,
        subject_ref=subject_ref,
        title=title[:300],
        body=body,
        last_error=skip_reason,
        payload={"actions": actions or []},
    )
    return delivery


def notify_channel(
    *,
    channel: Channel,
    key: str,
    event_type: str,
    title: str,
    body: str,
    subject_ref: str = "",
    payload: dict[str, Any] | None = None,
) -> Delivery | None:
    """One message to one channel, decided once per ``key``; nothing for a disabled one."""
    if not channel.enabled:
        return None
    delivery, _created = _record(
        tenant_id=channel.tenant_id,
        key=key,
        kind=channel.kind,
        channel=channel,
        recipient=channel.name,
        event_type=event_type,
        subject_ref=subject_ref,
        title=title[:300],
        body=body,
        payload=payload or {},
    )
    return delivery


def emit_event(tenant_id: int, event_type: str, payload: dict[str, Any]) -> int:
    """A signed delivery of ``payload`` to every enabled webhook channel of the tenant, keyed by
    the event type and the payload's ``sequence`` (or ``id``) so a retried caller queues
    nothing twice. Returns how many deliveries were queued."""
    marker = payload.get("sequence", payload.get("id"))
    if marker is None:
        marker = timezone.now().isoformat()
    count = 0
    webhooks = Channel.objects.for_tenant(tenant_id).filter(kind=ChannelKind.WEBHOOK, enabled=True)
    for channel in webhooks.order_by("id"):
        notify_channel(
            channel=channel,
            key=f"event:{event_type}:{marker}:c{channel.pk}",
            event_type=event_type,
            title=event_type,
            body="",
            payload=payload,
        )
        count += 1
    return count
