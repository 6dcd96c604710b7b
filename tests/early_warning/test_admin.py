"""The early-warning admin: scoped to the agency's tenants, rules and owned accounts written
through the services, alerts changed only by their actions (dismiss needs a reason)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from monitoring.models import AlertEvent, AlertRule, OwnedAccount
from tests.factories import UserFactory
from tests.monitoring.factories import (
    AlertFactory,
    AlertRuleFactory,
    HoaxClusterFactory,
    MonitoredQueryFactory,
    OwnedAccountFactory,
)

pytestmark = pytest.mark.django_db
SCREENS = ("alertrule", "alert", "hoaxcluster", "ownedaccount")


@pytest.fixture
def agency_admin(tenant: Any) -> Client:
    # The assertions read English labels: this user chose English (the default is Indonesian).
    user = UserFactory(agency=tenant.agency, is_agency_admin=True, is_staff=True, language="en")
    client = Client()
    client.force_login(user)
    return client


def test_screens_show_only_the_agencys_rows(
    agency_admin: Client, tenant: Any, other_tenant: Any
) -> None:
    made = {}
    for owner in (tenant, other_tenant):
        alert = AlertFactory(tenant=owner, title=f"Lonjakan {owner.slug}")
        AlertEvent.objects.create(
            tenant=owner, alert=alert, kind="fired", at=alert.created_at, to_status="open"
        )
        HoaxClusterFactory(tenant=owner)
        OwnedAccountFactory(tenant=owner)
        made[owner.slug] = alert
    for screen in SCREENS:
        listed = agency_admin.get(f"/admin/monitoring/{screen}/")
        assert listed.status_code == 200, screen
        assert b"bank-lestari" not in listed.content and b"Bank Lestari" not in listed.content
    ours, theirs = made["kopi-senja"], made["bank-lestari"]
    page = agency_admin.get(f"/admin/monitoring/alert/{ours.pk}/change/")
    assert page.status_code == 200 and ours.explanation.encode() in page.content
    assert agency_admin.get(f"/admin/monitoring/alert/{theirs.pk}/change/").status_code == 302
    assert agency_admin.get("/admin/monitoring/alert/add/").status_code == 403
    assert agency_admin.get("/admin/monitoring/hoaxcluster/add/").status_code == 403


def test_alert_actions_go_through_the_services(agency_admin: Client, tenant: Any) -> None:
    first, second = AlertFactory(tenant=tenant), AlertFactory(tenant=tenant)
    url = "/admin/monitoring/alert/"
    refused = agency_admin.post(
        url, {"action": "dismiss", "_selected_action": [first.pk], "reason": ""}, follow=True
    )
    assert refused.status_code == 200
    first.refresh_from_db()
    assert first.status == "open"
    agency_admin.post(
        url, {"action": "dismiss", "_selected_action": [first.pk], "reason": "Promo terjadwal"}
    )
    agency_admin.post(url, {"action": "acknowledge", "_selected_action": [second.pk]})
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, first.dismissed_reason) == ("dismissed", "Promo terjadwal")
    assert second.status == "acknowledged" and second.acknowledged_by is not None
    assert AlertEvent.objects.filter(alert=second, to_status="acknowledged").exists()
    agency_admin.post(url, {"action": "resolve", "_selected_action": [second.pk]})
    second.refresh_from_db()
    assert second.status == "resolved"


def test_rule_and_owned_account_admin_write_through_the_services(
    agency_admin: Client, tenant: Any, other_tenant: Any
) -> None:
    theirs = MonitoredQueryFactory(tenant=other_tenant)
    add = "/admin/monitoring/alertrule/add/"
    base = {
        "tenant": tenant.pk,
        "name": "Lonjakan",
        "kind": "spike",
        "sensitivity": "medium",
        "severity": "",
        "window": "01:00:00",
        "cooldown": "02:00:00",
        "enabled": "on",
        "params": "{}",
    }
    bad = agency_admin.post(add, {**base, "window": "-01:00:00"})
    assert bad.status_code == 200 and not AlertRule.objects.filter(tenant=tenant).exists()
    foreign = agency_admin.post(add, {**base, "query": theirs.pk})
    assert foreign.status_code == 200 and not AlertRule.objects.filter(tenant=tenant).exists()
    created = agency_admin.post(add, base)
    assert created.status_code == 302, created.content
    rule = AlertRule.objects.get(tenant=tenant, name="Lonjakan")
    page = agency_admin.get(f"/admin/monitoring/alertrule/{rule.pk}/change/")
    assert b"none decided yet" in page.content
    account = agency_admin.post(
        "/admin/monitoring/ownedaccount/add/",
        {"tenant": tenant.pk, "platform": "x", "handle": "@KopiSenja", "label": "Resmi"},
    )
    assert account.status_code == 302, account.content
    assert OwnedAccount.objects.get(tenant=tenant).handle == "kopisenja"
    AlertRuleFactory(tenant=other_tenant, name="Theirs")
    listed = agency_admin.get("/admin/monitoring/alertrule/")
    assert b"Theirs" not in listed.content


def test_the_snooze_action_takes_a_duration_and_never_acknowledges(
    agency_admin: Client, tenant: Any
) -> None:
    alert = AlertFactory(tenant=tenant)
    url = "/admin/monitoring/alert/"
    refused = agency_admin.post(
        url, {"action": "snooze", "_selected_action": [alert.pk], "snooze_for": ""}, follow=True
    )
    assert refused.status_code == 200
    alert.refresh_from_db()
    assert alert.status == "open"
    before = timezone.now()
    agency_admin.post(url, {"action": "snooze", "_selected_action": [alert.pk], "snooze_for": "4h"})
    alert.refresh_from_db()
    assert alert.status == "snoozed"
    assert alert.acknowledged_at is None and alert.acknowledged_by is None
    assert timedelta(hours=4) <= alert.snoozed_until - before < timedelta(hours=4, minutes=5)
    assert AlertEvent.objects.filter(alert=alert, to_status="snoozed").exists()
