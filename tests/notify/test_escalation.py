"""Escalation policies on alerts: ordered steps that notify people, the on-call person and
channels, wait, repeat, and stop when someone acknowledges (not when someone snoozes); quiet
hours skip people except for SEV1. And the acknowledge link every e-mail carries: GET changes
nothing, POST acknowledges once, as its own user, for its own alert; expired or used links do
not work; the token never reaches a log line nor the delivery log."""

from __future__ import annotations

import io
import logging
import re
from datetime import time, timedelta
from typing import Any

import pytest
import time_machine
from django.db import transaction
from django.test import Client
from django.utils import timezone

from config.request_context import RedactSecretsFilter
from monitoring.escalation import engine
from monitoring.models import Alert, AlertEscalation
from tenants.models import ActionLink, Delivery, OnCallShift, QuietHours
from tenants.notify import services as notify
from tenants.notify.tasks import send_delivery
from tests.monitoring.factories import AlertFactory
from tests.notify.factories import EscalationPolicyFactory
from tests.notify.replay import Replay
from tests.notify.test_channels import channel

ACK_LINK = re.compile(r"(http://\S+)(/act/(\d+)/([^/\s]+)/)")


@pytest.fixture
def people(tenant: Any, members: dict[str, Any]) -> dict[str, Any]:
    return members


def open_alert(tenant: Any, severity: str = "sev2") -> Alert:
    with transaction.atomic():
        return AlertFactory(tenant=tenant, severity=severity)


def step(alert: Alert) -> str:
    escalation = AlertEscalation.objects.get(alert=alert)
    return engine.run_step(tenant_id=alert.tenant_id, escalation_id=escalation.pk)


def deliveries(alert: Alert) -> list[Delivery]:
    return list(
        Delivery.objects.filter(subject_ref=f"alert:{alert.pk}").order_by("created_at", "id")
    )


def test_steps_run_in_order_wait_repeat_and_stop_on_acknowledge(
    tenant: Any, people: dict[str, Any], replay: Replay
) -> None:
    replay.script("/slack/", "slack", "ok")
    slack = channel(tenant, "slack", replay)
    responder, analyst = people["responder"], people["analyst"]
    now = timezone.now()
    OnCallShift.objects.create(
        tenant=tenant,
        user=analyst,
        starts_at=now - timedelta(hours=1),
        ends_at=now + timedelta(hours=8),
    )
    EscalationPolicyFactory(
        tenant=tenant,
        severity="sev2",
        repeat=1,
        steps=[
            {"users": [responder.pk], "wait_minutes": 5},
            {"on_call": True, "channels": [slack.pk], "wait_minutes": 10},
        ],
    )
    alert = open_alert(tenant)
    escalation = AlertEscalation.objects.get(alert=alert)
    assert escalation.state == "active" and escalation.step == 0

    assert step(alert) == "active"
    assert [(d.kind, d.recipient) for d in deliveries(alert)] == [("email", responder.email)]
    assert step(alert) == "waiting"  # five minutes have not passed: nothing more
    assert len(deliveries(alert)) == 1

    with time_machine.travel(now + timedelta(minutes=6)):
        assert step(alert) == "active"
    sent = [(d.kind, d.recipient) for d in deliveries(alert)]
    assert sent[1:] == [("email", analyst.email), ("slack", slack.name)]

    with time_machine.travel(now + timedelta(minutes=17)):
        assert step(alert) == "active"  # the repeat: the first step again
    assert len(deliveries(alert)) == 4
    # The title is in the recipient's language: Indonesian by default.
    assert deliveries(alert)[-1].title.startswith("Belum dikonfirmasi")

    from monitoring.early_warning import services as alert_services

    alert_services.acknowledge(alert=alert, user=responder)
    with time_machine.travel(now + timedelta(minutes=30)):
        assert step(alert) == "stopped"
    assert len(deliveries(alert)) == 4
    escalation.refresh_from_db()
    assert escalation.stopped_reason == "acknowledged"


def test_running_a_step_twice_decides_nothing_twice(tenant: Any, people: dict[str, Any]) -> None:
    EscalationPolicyFactory(tenant=tenant, steps=[{"users": [people["admin"].pk]}])
    alert = open_alert(tenant)
    escalation = AlertEscalation.objects.get(alert=alert)
    step(alert)
    # A redelivered task that ran the same step again (state put back as it was): same keys.
    AlertEscalation.objects.filter(pk=escalation.pk).update(step=0, round=0, state="active")
    step(alert)
    assert len(deliveries(alert)) == 1


def test_snoozing_is_not_a_response(tenant: Any, people: dict[str, Any]) -> None:
    EscalationPolicyFactory(
        tenant=tenant, repeat=2, steps=[{"users": [people["admin"].pk], "wait_minutes": 1}]
    )
    alert = open_alert(tenant)
    step(alert)
    from monitoring.early_warning import services as alert_services

    until = timezone.now() + timedelta(minutes=30)
    alert_services.snooze(alert=alert, user=people["admin"], until=until)
    with time_machine.travel(timezone.now() + timedelta(minutes=2)):
        assert step(alert) == "snoozed"
    assert AlertEscalation.objects.get(alert=alert).next_at == until
    with time_machine.travel(until + timedelta(minutes=1)):
        from monitoring.early_warning.services import wake_snoozed

        wake_snoozed(tenant_id=tenant.pk)
        assert step(alert) == "active"
    assert len(deliveries(alert)) == 2


def test_quiet_hours_skip_people_but_not_for_sev1(tenant: Any, people: dict[str, Any]) -> None:
    admin = people["admin"]
    QuietHours.objects.create(tenant=tenant, user=admin, starts=time(22, 0), ends=time(6, 0))
    for severity in ("sev2", "sev1"):
        EscalationPolicyFactory(tenant=tenant, severity=severity, steps=[{"users": [admin.pk]}])
    # 23:30 in Jakarta (the tenant's zone) is 16:30 UTC.
    night = timezone.now().replace(hour=16, minute=30, second=0, microsecond=0)
    with time_machine.travel(night):
        sev2, sev1 = open_alert(tenant, "sev2"), open_alert(tenant, "sev1")
        step(sev2)
        step(sev1)
    (quiet,) = deliveries(sev2)
    assert quiet.status == "skipped" and quiet.last_error
    (urgent,) = deliveries(sev1)
    assert urgent.status == "pending"
    assert notify.in_quiet_hours(tenant, admin.pk, night)
    assert not notify.in_quiet_hours(tenant, admin.pk, night + timedelta(hours=8))


def test_no_policy_no_escalation(tenant: Any) -> None:
    alert = open_alert(tenant, "sev4")
    assert not AlertEscalation.objects.filter(alert=alert).exists()


def test_alerts_opened_together_each_get_one_escalation_by_their_severity(tenant: Any) -> None:
    sev2 = EscalationPolicyFactory(tenant=tenant, severity="sev2", steps=[{"wait_minutes": 5}])
    with transaction.atomic():
        alerts = [
            AlertFactory(tenant=tenant, severity=severity) for severity in ("sev2", "sev4", "sev2")
        ]
    started = list(AlertEscalation.objects.filter(alert__in=alerts).order_by("alert_id"))
    assert [e.alert_id for e in started] == [alerts[0].pk, alerts[2].pk]
    assert {e.policy_id for e in started} == {sev2.pk}
    # starting them again finds each one's escalation and creates none
    again = engine.start_many(tenant.pk, alerts)
    assert [e.pk if e else None for e in again] == [started[0].pk, None, started[1].pk]
    assert AlertEscalation.objects.filter(alert__in=alerts).count() == 2


def _emailed_link(tenant: Any, people: dict[str, Any], smtp: Any) -> tuple[Alert, str, str]:
    responder = people["responder"]
    EscalationPolicyFactory(tenant=tenant, steps=[{"users": [responder.pk]}])
    alert = open_alert(tenant)
    step(alert)
    (delivery,) = deliveries(alert)
    assert "/act/" not in delivery.body  # the delivery log never holds a usable link
    send_delivery(tenant.pk, delivery.pk)
    (message,) = smtp.messages
    found = ACK_LINK.search(message.get_content())
    assert found is not None
    return alert, found.group(2), found.group(4)


def test_the_acknowledge_link_acts_only_on_post_once(
    tenant: Any, people: dict[str, Any], smtp: Any
) -> None:
    alert, path, token = _emailed_link(tenant, people, smtp)
    link = ActionLink.objects.get(tenant=tenant)
    assert token not in link.token_hash and len(link.token_hash) == 64
    page = Client().get(path)  # a mail scanner opening the link
    assert page.status_code == 200
    alert.refresh_from_db()
    assert alert.status == "open"
    done = Client().post(path)
    assert done.status_code == 200
    alert.refresh_from_db()
    assert alert.status == "acknowledged"
    assert alert.acknowledged_by == people["responder"]  # bound to its user
    assert Client().post(path).status_code == 404  # single-use
    assert Client().get(path).status_code == 404


def test_the_link_expires_and_is_bound_to_its_tenant(
    tenant: Any, other_tenant: Any, people: dict[str, Any], smtp: Any
) -> None:
    alert, path, _token = _emailed_link(tenant, people, smtp)
    elsewhere = path.replace(f"/act/{tenant.pk}/", f"/act/{other_tenant.pk}/")
    assert Client().post(elsewhere).status_code == 404
    with time_machine.travel(timezone.now() + timedelta(hours=25)):
        assert Client().post(path).status_code == 404
    alert.refresh_from_db()
    assert alert.status == "open"


def test_a_member_who_lost_the_capability_cannot_use_the_link(
    tenant: Any, people: dict[str, Any], smtp: Any
) -> None:
    from tenants.models import Membership

    alert, path, _token = _emailed_link(tenant, people, smtp)
    Membership.objects.filter(tenant=tenant, user=people["responder"]).update(role="approver")
    assert Client().post(path).status_code == 400
    alert.refresh_from_db()
    assert alert.status == "open"


def test_the_token_never_reaches_a_log_line(tenant: Any, people: dict[str, Any], smtp: Any) -> None:
    _alert, path, token = _emailed_link(tenant, people, smtp)
    console = next(
        h
        for h in logging.getLogger().handlers
        if any(isinstance(f, RedactSecretsFilter) for f in h.filters)
    )
    stream = io.StringIO()
    capture = logging.StreamHandler(stream)
    capture.setFormatter(console.formatter)
    for found in console.filters:
        capture.addFilter(found)
    root = logging.getLogger()
    level = root.level
    root.addHandler(capture)
    root.setLevel(logging.DEBUG)
    try:
        Client().get(path)
        Client(enforce_csrf_checks=True).post(path)
        Client().post(path)
        Client().post(path)
    finally:
        root.removeHandler(capture)
        root.setLevel(level)
    written = stream.getvalue()
    assert f"/act/{tenant.pk}/[redacted]/" in written
    assert token not in written
