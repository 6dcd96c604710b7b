"""django-q2 entry points of notifications. Dotted paths are stored in queued tasks and
schedules: never rename them.

``send_delivery`` is the only place a notification leaves Sigap. It locks the delivery row
(``SELECT ... FOR UPDATE``), returns at once unless it is still pending, sends, and records the
outcome in the same transaction:

- a worker killed before the send leaves the row pending and unlocked (PostgreSQL rolls the
  transaction back); the broker hands the task out again after ``Q_RETRY`` seconds and the
  sweep queues any pending row whose time has come, so nothing is lost;
- two runs of the task (a redelivery racing the original) meet on the lock: the second finds the
  row sent and sends nothing;
- the one window left is a worker killed after the receiver accepted and before the commit: the
  row stays pending and is sent again. Receivers that honour an idempotency key drop it (the
  webhook's ``X-Sigap-Delivery``; the e-mail's ``Message-ID``); chat APIs and SMTP servers do
  not, so "exactly once" there means "once, unless a worker dies in those milliseconds"
  (``docs/notifications.md``).

Failures: a retryable one sets ``next_attempt_at`` by back-off (1, 2, 4, 8, 16 minutes; the
sweep queues it then); after ``MAX_ATTEMPTS`` or a permanent error the row is ``failed``. Either
way the channel's ``last_error`` shows it, and other deliveries are never held up.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.apps import apps
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_q.tasks import async_task

from tenants import action_links
from tenants.dbscope import cross_tenant_task, tenant_task
from tenants.models import Channel, Delivery, User
from tenants.notify import senders
from tenants.notify.choices import DeliveryStatus

logger = logging.getLogger("sigap.notify")
MAX_ATTEMPTS = 6
SEND_TASK = "tenants.notify.tasks.send_delivery"


def backoff(attempts: int) -> timedelta:
    return timedelta(minutes=min(2 ** max(attempts - 1, 0), 60))


def _action_lines(delivery: Delivery) -> list[str]:
    """The delivery's action links, made now (in the send's transaction: a send rolled back
    leaves no link) for the delivery's person; a target deleted meanwhile gets none."""
    actions = (delivery.payload or {}).get("actions") or []
    if delivery.user_id is None or not actions:
        return []
    user = User.objects.filter(pk=delivery.user_id, is_active=True).first()
    if user is None:
        return []
    ttl = timedelta(hours=settings.SIGAP_ACTION_LINK_TTL_HOURS)
    lines = []
    for action in actions:
        try:
            model = apps.get_model(str(action["model"]))
            target = (
                model._default_manager.for_tenant(delivery.tenant_id)
                .filter(pk=int(action["id"]))
                .first()
            )
        except (KeyError, LookupError, TypeError, ValueError):
            continue
        if target is None:
            continue
        url = action_links.issue(kind=str(action["kind"]), user=user, target=target, ttl=ttl)
        lines.append(f"{action.get('label') or action['kind']}: {url}")
    return lines


@tenant_task
def send_delivery(tenant_id: int, delivery_id: int) -> str:
    """Send one pending delivery (see the module docstring). Returns its status after."""
    with transaction.atomic():
        delivery = (
            Delivery.objects.for_tenant(tenant_id)
            .select_for_update()
            .filter(pk=delivery_id)
            .first()
        )
        if delivery is None:
            return "missing"
        if delivery.status != DeliveryStatus.PENDING:
            return str(delivery.status)
        channel = (
            Channel.objects.for_tenant(tenant_id).filter(pk=delivery.channel_id).first()
            if delivery.channel_id
            else None
        )
        try:
            result = senders.send(delivery, channel, _action_lines(delivery))
        except Exception as exc:
            logger.exception("notification sender failed", extra={"delivery_id": delivery.pk})
            result = senders.Result(ok=False, retryable=True, error=type(exc).__name__)
        now = timezone.now()
        delivery.attempts += 1
        delivery.response_status = result.status
        if result.ok:
            delivery.status = DeliveryStatus.SENT
            delivery.sent_at = now
            delivery.next_attempt_at = None
            delivery.last_error = ""
        elif result.retryable and delivery.attempts < MAX_ATTEMPTS:
            delivery.next_attempt_at = now + backoff(delivery.attempts)
            delivery.last_error = result.error
        else:
            delivery.status = DeliveryStatus.FAILED
            delivery.next_attempt_at = None
            delivery.last_error = result.error
        delivery.save(
            update_fields=[
                "attempts",
                "response_status",
                "status",
                "sent_at",
                "next_attempt_at",
                "last_error",
            ]
        )
        if channel is not None:
            rows = Channel.objects.for_tenant(tenant_id).filter(pk=channel.pk)
            if result.ok:
                rows.update(last_success_at=now)
            else:
                rows.update(last_error=result.error[:2000], last_error_at=now)
        return str(delivery.status)


@cross_tenant_task("notification delivery sweep")
def sweep_deliveries() -> int:
    """Every minute: queue a send for every pending delivery whose time has come (a retry after
    back-off, or one whose first task was lost). Returns how many were queued."""
    now = timezone.now()
    due = Delivery.objects.get_queryset().filter(
        status=DeliveryStatus.PENDING, next_attempt_at__lte=now
    )
    queued = 0
    for tenant_id in due.tenant_ids():
        ids = list(
            Delivery.objects.for_tenant(tenant_id)
            .filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
            .values_list("pk", flat=True)[:500]
        )
        for delivery_id in ids:
            async_task(SEND_TASK, tenant_id, delivery_id, task_name=f"notify-{delivery_id}")
            queued += 1
    return queued
