"""From alert to incident by the tenant's policy: a new alert queues the incident side in its
own transaction; by severity it opens an incident, or attaches to an open incident linked to
the same query, hoax cluster or owned account within 24 hours; links show from both sides."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import time_machine
from django.urls import reverse
from django.utils import timezone
from django_q.models import OrmQ

from incidents import tasks
from incidents.models import IncidentLink, TimelineEntry
from monitoring import services as monitoring_services
from monitoring.alerting.types import Alert as Detected
from monitoring.early_warning import services as early_warning
from monitoring.models import Alert, AlertRule, OwnedAccount
from tenants.roles import Role
from tests.incidents.factories import IncidentFactory, SeverityPolicyFactory


def fire(
    tenant: Any,
    *,
    severity: str,
    key: str,
    query: Any = None,
    kind: str = "spike",
    subject: dict[str, Any] | None = None,
) -> Alert:
    # Made here (test code): the rule's own service is the early-warning app's to test.
    rule = AlertRule.objects.create(
        tenant=tenant, name=f"rule {key}", kind=kind, query=query, severity=severity
    )
    now = timezone.now()
    found = Detected(
        rule=kind,
        at=now,
        window_start=now - timedelta(minutes=15),
        window_end=now,
        observed=80.0,
        baseline=10.0,
        threshold=30.0,
        explanation="80 mentions in 15 minutes",
        severity=severity,
        dedupe_key=key,
        subject=subject or {},
    )
    return early_warning.fire_or_merge(rule=rule, detected=found).alert


def queued(alert: Alert) -> bool:
    return any(
        task.task.get("func") == "incidents.tasks.alert_opened"
        and list(task.task.get("args", ())) == [alert.tenant_id, alert.pk]
        for task in OrmQ.objects.all()
    )


def test_a_new_alert_queues_the_incident_side(tenant: Any) -> None:
    alert = fire(tenant, severity="sev2", key="a")
    assert queued(alert)


def test_sev2_opens_an_incident_and_links_show_from_both_sides(
    api: Any, tenant: Any, members: Any
) -> None:
    query = monitoring_services.create_query(tenant=tenant, name="Kopi", query="kopi")
    alert = fire(tenant, severity="sev2", key="b", query=query)
    incident_id = tasks.alert_opened(tenant.pk, alert.pk)
    assert incident_id is not None
    links = IncidentLink.objects.filter(incident_id=incident_id)
    assert {(link.kind, link.alert_id or link.query_id) for link in links} == {
        ("alert", alert.pk),
        ("query", query.pk),
    }
    client = api(members[Role.ANALYST])
    listed = client.get(
        reverse("incident-list", kwargs={"tenant_slug": tenant.slug}), {"alert": alert.pk}
    )
    assert [row["id"] for row in listed.json()["results"]] == [incident_id]
    assert listed.json()["results"][0]["severity"] == "sev2"
    # a retried task changes nothing
    assert tasks.alert_opened(tenant.pk, alert.pk) == incident_id
    assert IncidentLink.objects.filter(alert=alert).count() == 1


def test_a_second_alert_of_the_same_query_attaches_within_24_hours(tenant: Any) -> None:
    query = monitoring_services.create_query(tenant=tenant, name="Kopi", query="kopi")
    first = fire(tenant, severity="sev1", key="c1", query=query)
    incident_id = tasks.alert_opened(tenant.pk, first.pk)
    second = fire(tenant, severity="sev3", key="c2", query=query)  # sev3 would open nothing
    assert tasks.alert_opened(tenant.pk, second.pk) == incident_id
    entry = TimelineEntry.objects.filter(incident_id=incident_id, kind="link").first()
    assert entry is not None and str(second.pk) in entry.text
    with time_machine.travel(timezone.now() + timedelta(hours=25)):
        late = fire(tenant, severity="sev3", key="c3", query=query)
        assert tasks.alert_opened(tenant.pk, late.pk) is None


def test_the_tenant_policy_decides_what_opens(tenant: Any) -> None:
    assert tasks.alert_opened(tenant.pk, fire(tenant, severity="sev3", key="d1").pk) is None
    SeverityPolicyFactory(tenant=tenant, severity="sev3", auto_open_from_alert=True)
    assert tasks.alert_opened(tenant.pk, fire(tenant, severity="sev3", key="d2").pk) is not None
    SeverityPolicyFactory(tenant=tenant, severity="sev1", auto_open_from_alert=False)
    assert tasks.alert_opened(tenant.pk, fire(tenant, severity="sev1", key="d3").pk) is None


def test_an_owned_account_alert_attaches_to_the_incident_of_that_account(tenant: Any) -> None:
    account = OwnedAccount.objects.create(tenant=tenant, platform="x", handle="kopisenja")
    subject = {"account": {"platform": "x", "handle": "kopisenja"}}
    first = fire(tenant, severity="sev1", key="e1", kind="owned-account", subject=subject)
    incident_id = tasks.alert_opened(tenant.pk, first.pk)
    assert IncidentLink.objects.filter(incident_id=incident_id, owned_account=account).exists()
    from incidents.models import Incident

    assert Incident.objects.get(pk=incident_id).trigger == "cyber_attack"
    second = fire(tenant, severity="sev4", key="e2", kind="owned-account", subject=subject)
    assert tasks.alert_opened(tenant.pk, second.pk) == incident_id


def test_closed_incidents_take_no_alerts(tenant: Any) -> None:
    query = monitoring_services.create_query(tenant=tenant, name="Kopi", query="kopi")
    closed = IncidentFactory(tenant=tenant)
    IncidentLink.objects.create(tenant=tenant, incident=closed, kind="query", query=query)
    from incidents import services

    services.transition_incident(incident=closed, to="closed")
    alert = fire(tenant, severity="sev3", key="f", query=query)
    assert tasks.alert_opened(tenant.pk, alert.pk) is None
