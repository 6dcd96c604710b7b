"""Early warning over HTTP: rule field errors, the backtest on constructed rollups, the alert
actions (snoozing is not acknowledging, dismissing needs a reason), the false-positive rate on
the rule, filters, and the client portal's GraphQL reads. CRUD, refusals per role and other
tenants' objects of every resource: ``test_resources.py`` and ``tests/test_isolation_walk.py``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from monitoring.alerting.spike import SpikeConfig, SpikeDetector
from monitoring.models import Alert, AlertEvent, AlertRule, MetricBucket
from tests.conftest import error_codes
from tests.monitoring.factories import (
    AlertFactory,
    AlertRuleFactory,
    HoaxClusterFactory,
    MentionFactory,
    MonitoredQueryFactory,
)

pytestmark = pytest.mark.django_db


def url(tenant: Any, resource: str, pk: Any = None, extra: str = "") -> str:
    base = f"/api/v1/tenants/{tenant.slug}/{resource}/"
    return f"{base}{pk}/{extra}" if pk else base


def first_error(response: Any) -> dict[str, Any]:
    return response.json()["errors"][0]


# --- rules: field errors ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"window": "-00:05:00"}, "window"),
        ({"window": "00:00:00"}, "window"),
        ({"window": "31 00:00:00"}, "window"),
        ({"cooldown": "-PT1H"}, "cooldown"),
        ({"window": "soon"}, "window"),
        ({"kind": "earthquake"}, "kind"),
        ({"sensitivity": "extreme"}, "sensitivity"),
        ({"severity": "sev9"}, "severity"),
        ({"query": 987654321}, "query"),
        ({"query": "abc"}, "query"),
        ({"params": {"unknown": 1}}, "params"),
        ({"params": ["not", "an", "object"]}, "params"),
        ({"kind": "trigger-keywords"}, "params"),  # needs its keywords
        ({"kind": "trigger-keywords", "params": {"keywords": []}}, "params"),
        ({"kind": "hoax-spread", "params": {"min_authors": 1}}, "params"),
        ({"kind": "velocity", "params": {"min_rate": 0}}, "params"),
        ({"kind": "influential-author", "params": {"min_followers": -1}}, "params"),
        ({"tenant": 1}, "tenant"),
    ],
)
def test_invalid_rules_are_refused_naming_the_field(
    api: Any, tenant: Any, members: dict[str, Any], change: dict[str, Any], field: str
) -> None:
    body = {"name": "Aturan", "kind": "spike", **change}
    response = api(members["analyst"]).post(url(tenant, "alert-rules"), body, format="json")
    assert response.status_code == 400, response.content
    assert first_error(response)["attr"] == field, response.content
    assert not AlertRule.objects.filter(tenant=tenant).exists()


def test_another_tenants_query_reads_like_a_missing_one(
    api: Any, tenant: Any, other_tenant: Any, members: dict[str, Any]
) -> None:
    theirs = MonitoredQueryFactory(tenant=other_tenant)
    client = api(members["admin"])
    foreign = client.post(
        url(tenant, "alert-rules"), {"name": "A", "kind": "spike", "query": theirs.pk}, "json"
    )
    missing = client.post(
        url(tenant, "alert-rules"), {"name": "A", "kind": "spike", "query": 987654321}, "json"
    )
    assert foreign.status_code == missing.status_code == 400
    assert first_error(foreign) == first_error(missing)
    rule = AlertRuleFactory(tenant=tenant)
    patched = client.patch(url(tenant, "alert-rules", rule.pk), {"query": theirs.pk}, "json")
    assert patched.status_code == 400 and first_error(patched)["attr"] == "query"


def test_rule_with_its_query_kind_params_and_no_kind_change(
    api: Any, tenant: Any, members: dict[str, Any]
) -> None:
    query = MonitoredQueryFactory(tenant=tenant)
    client = api(members["admin"])
    created = client.post(
        url(tenant, "alert-rules"),
        {
            "name": "Kata pemicu",
            "kind": "trigger-keywords",
            "query": query.pk,
            "params": {"keywords": [" kopi  basi ", "Kopi basi", "boikot"]},
            "window": "PT2H",
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["query"] == query.pk and body["window"] == "02:00:00"
    assert body["params"] == {"keywords": ["kopi basi", "boikot"]}
    changed = client.patch(url(tenant, "alert-rules", body["id"]), {"kind": "spike"}, "json")
    assert changed.status_code == 400 and first_error(changed)["attr"] == "kind"
    duplicate = client.post(
        url(tenant, "alert-rules"), {"name": "Kata pemicu", "kind": "spike"}, format="json"
    )
    assert duplicate.status_code == 400 and first_error(duplicate)["attr"] == "name"


# --- rules: false-positive rate --------------------------------------------------------------


def test_false_positive_rate_is_shown_on_the_rule(
    api: Any, gql: Any, tenant: Any, members: dict[str, Any]
) -> None:
    rule = AlertRuleFactory(tenant=tenant, name="Lonjakan")
    quiet = AlertRuleFactory(tenant=tenant, name="Sepi")
    AlertFactory(tenant=tenant, rule=rule, status="dismissed", dismissed_reason="promo")
    AlertFactory(tenant=tenant, rule=rule, status="dismissed", dismissed_reason="bot")
    AlertFactory(tenant=tenant, rule=rule, status="resolved")
    AlertFactory(tenant=tenant, rule=rule, status="open")
    client = api(members["client"])
    detail = client.get(url(tenant, "alert-rules", rule.pk)).json()
    expected = {"alerts": 4, "dismissed": 2, "resolved": 1, "rate": 0.6667}
    assert detail["false_positive_rate"] == expected
    rows = {r["name"]: r for r in client.get(url(tenant, "alert-rules")).json()["results"]}
    assert rows["Lonjakan"]["false_positive_rate"] == expected
    assert rows["Sepi"]["false_positive_rate"]["rate"] is None
    assert quiet.pk == rows["Sepi"]["id"]
    body = gql(
        "query($slug: String!) { alert_rules(slug: $slug) "
        "{ name false_positive_rate { alerts dismissed resolved rate } } }",
        user=members["client"],
        variables={"slug": tenant.slug},
    )
    by_name = {r["name"]: r for r in body["data"]["alert_rules"]}
    assert by_name["Lonjakan"]["false_positive_rate"] == expected


def test_dismissing_through_the_api_moves_the_rate(
    api: Any, tenant: Any, members: dict[str, Any]
) -> None:
    rule = AlertRuleFactory(tenant=tenant)
    alert = AlertFactory(tenant=tenant, rule=rule)
    client = api(members["responder"])
    response = client.post(
        url(tenant, "alerts", alert.pk, "dismiss/"), {"reason": "Promo terjadwal"}, "json"
    )
    assert response.status_code == 200, response.content
    rate = api(members["client"]).get(url(tenant, "alert-rules", rule.pk)).json()
    assert rate["false_positive_rate"] == {"alerts": 1, "dismissed": 1, "resolved": 0, "rate": 1.0}


# --- the backtest ----------------------------------------------------------------------------


BUCKET = timedelta(minutes=5)


def _rollups(tenant: Any, counts: list[int], *, query_id: int = 0) -> list[Any]:
    """5-minute rollups ending with the last closed bucket before now."""
    now = timezone.now()
    until = now.replace(minute=now.minute - now.minute % 5, second=0, microsecond=0)
    starts = [until - (len(counts) - i) * BUCKET for i in range(len(counts))]
    MetricBucket.objects.bulk_create(
        MetricBucket(tenant=tenant, query_id=query_id, bucket=start, mentions=n, negative=n // 2)
        for start, n in zip(starts, counts, strict=True)
    )
    return starts


def _z(moment: Any) -> str:
    return str(moment.isoformat().replace("+00:00", "Z"))


def test_backtest_finds_the_constructed_spike_and_only_it(
    api: Any, tenant: Any, other_tenant: Any, members: dict[str, Any]
) -> None:
    # Two quiet days (10 mentions per 5 minutes), a jump to 90 for 20 minutes, quiet again.
    counts = [10] * 576 + [90] * 4 + [10] * 60
    starts = _rollups(tenant, counts)
    spike_at = starts[576]
    _rollups(other_tenant, [500] * 640)  # another tenant's storm: never read
    _rollups(tenant, [400] * 640, query_id=987)  # another query's: not this rule's series
    rule = AlertRuleFactory(tenant=tenant, kind="spike")
    response = api(members["analyst"]).post(url(tenant, "alert-rules", rule.pk, "backtest/"))
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["rule"], body["kind"], body["sensitivity"], body["days"]) == (
        rule.pk,
        "spike",
        "medium",
        30,
    )
    assert body["truncated"] is False
    assert body["alert_count"] == 1, body
    (alert,) = body["alerts"]
    assert alert["timestamp"] == _z(spike_at) and alert["rule"] == "spike"
    assert alert["observed"] >= alert["threshold"] > alert["baseline"] > 0
    assert alert["window"]["end"] == _z(spike_at + BUCKET)
    assert alert["sigma"] > 4 and alert["severity"] in ("sev2", "sev3", "sev4")
    assert "mentions in the" in alert["explanation"]
    # The same answer as the pure detector replaying the same buckets.
    detector = SpikeDetector(SpikeConfig(), BUCKET, series="q0")
    fired = [s for s, n in zip(starts, counts, strict=True) if detector.observe(s, float(n))]
    assert fired == [spike_at]
    # Nothing was stored.
    assert not Alert.objects.exists()


def test_backtest_honours_days_sensitivity_query_and_kind(
    api: Any, tenant: Any, members: dict[str, Any]
) -> None:
    query = MonitoredQueryFactory(tenant=tenant)
    counts = [10] * 576 + [90] * 4 + [10] * 60
    _rollups(tenant, counts, query_id=query.pk)
    rule = AlertRuleFactory(tenant=tenant, kind="spike", query=query)
    client = api(members["admin"])
    one_day = client.post(url(tenant, "alert-rules", rule.pk, "backtest/"), {"days": 1}, "json")
    assert one_day.status_code == 200, one_day.content
    assert one_day.json()["query"] == query.pk and one_day.json()["days"] == 1
    assert one_day.json()["alert_count"] == 1  # the spike is in the last day
    low = client.post(
        url(tenant, "alert-rules", rule.pk, "backtest/"), {"sensitivity": "low"}, "json"
    )
    assert low.json()["sensitivity"] == "low"
    rule.refresh_from_db()
    assert rule.sensitivity == "medium"  # a try, not a change
    surge = AlertRuleFactory(tenant=tenant, kind="negative-surge", query=query)
    negative = client.post(url(tenant, "alert-rules", surge.pk, "backtest/"))
    assert negative.status_code == 200 and negative.json()["kind"] == "negative-surge"
    assert negative.json()["alert_count"] == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"days": 0}, "days"),
        ({"days": 31}, "days"),
        ({"days": "many"}, "days"),
        ({"days": 1.5}, "days"),
        ({"sensitivity": "extreme"}, "sensitivity"),
        ({"since": "2026-01-01"}, "since"),
    ],
)
def test_backtest_input_is_checked(
    api: Any, tenant: Any, members: dict[str, Any], body: dict[str, Any], field: str
) -> None:
    rule = AlertRuleFactory(tenant=tenant)
    response = api(members["admin"]).post(
        url(tenant, "alert-rules", rule.pk, "backtest/"), body, format="json"
    )
    assert response.status_code == 400, response.content
    assert first_error(response)["attr"] == field


def test_backtest_refusals_and_rules_without_history(
    api: Any, tenant: Any, other_tenant: Any, members: dict[str, Any]
) -> None:
    rule = AlertRuleFactory(tenant=tenant, kind="velocity")
    client = api(members["admin"])
    response = client.post(url(tenant, "alert-rules", rule.pk, "backtest/"))
    assert response.status_code == 200 and response.json()["alerts"] == []
    theirs = AlertRuleFactory(tenant=other_tenant)
    assert client.post(url(tenant, "alert-rules", theirs.pk, "backtest/")).status_code == 404
    viewer = api(members["responder"])
    assert viewer.post(url(tenant, "alert-rules", rule.pk, "backtest/")).status_code == 403


# --- alerts: actions -------------------------------------------------------------------------


def test_snoozing_is_never_acknowledging(api: Any, tenant: Any, members: dict[str, Any]) -> None:
    alert = AlertFactory(tenant=tenant)
    client = api(members["responder"])
    until = (timezone.now() + timedelta(hours=2)).isoformat()
    snoozed = client.post(url(tenant, "alerts", alert.pk, "snooze/"), {"until": until}, "json")
    assert snoozed.status_code == 200, snoozed.content
    body = snoozed.json()
    assert body["status"] == "snoozed" and body["snoozed_until"] is not None
    assert body["acknowledged_by"] is None and body["acknowledged_at"] is None
    assert [e["to_status"] for e in body["history"]] == ["snoozed"]
    acked = client.post(url(tenant, "alerts", alert.pk, "acknowledge/"), {"note": "Saya"}, "json")
    assert acked.status_code == 200, acked.content
    body = acked.json()
    assert body["status"] == "acknowledged" and body["snoozed_until"] is None
    assert body["acknowledged_by"]["email"] == "responder@kopi.test"
    last = body["history"][-1]
    assert (last["from_status"], last["to_status"], last["note"]) == (
        "snoozed",
        "acknowledged",
        "Saya",
    )
    assert last["actor"]["email"] == "responder@kopi.test"
    filtered = client.get(url(tenant, "alerts"), {"status": "acknowledged"}).json()["results"]
    assert [a["id"] for a in filtered] == [alert.pk]


def test_snooze_needs_a_time_ahead(api: Any, tenant: Any, members: dict[str, Any]) -> None:
    alert = AlertFactory(tenant=tenant)
    client = api(members["analyst"])
    for until in (
        (timezone.now() - timedelta(minutes=1)).isoformat(),
        (timezone.now() + timedelta(days=31)).isoformat(),
        "tomorrow",
    ):
        response = client.post(url(tenant, "alerts", alert.pk, "snooze/"), {"until": until}, "json")
        assert response.status_code == 400 and first_error(response)["attr"] == "until", until
    missing = client.post(url(tenant, "alerts", alert.pk, "snooze/"), {}, "json")
    assert missing.status_code == 400 and first_error(missing)["attr"] == "until"
    alert.refresh_from_db()
    assert alert.status == "open"


def test_dismissing_requires_a_reason(api: Any, tenant: Any, members: dict[str, Any]) -> None:
    alert = AlertFactory(tenant=tenant)
    client = api(members["admin"])
    for body in ({}, {"reason": ""}, {"reason": "   "}):
        response = client.post(url(tenant, "alerts", alert.pk, "dismiss/"), body, "json")
        assert response.status_code == 400 and first_error(response)["attr"] == "reason", body
    alert.refresh_from_db()
    assert alert.status == "open" and not AlertEvent.objects.filter(alert=alert).exists()
    done = client.post(url(tenant, "alerts", alert.pk, "dismiss/"), {"reason": "Promo"}, "json")
    assert done.status_code == 200
    assert done.json()["status"] == "dismissed" and done.json()["dismissed_reason"] == "Promo"
    again = client.post(url(tenant, "alerts", alert.pk, "dismiss/"), {"reason": "x"}, "json")
    assert again.status_code == 400 and first_error(again)["attr"] == "status"


def test_resolve_then_no_acknowledge_and_unknown_fields(
    api: Any, tenant: Any, members: dict[str, Any]
) -> None:
    alert = AlertFactory(tenant=tenant)
    client = api(members["analyst"])
    unknown = client.post(url(tenant, "alerts", alert.pk, "resolve/"), {"status": "x"}, "json")
    assert unknown.status_code == 400 and first_error(unknown)["attr"] == "status"
    resolved = client.post(url(tenant, "alerts", alert.pk, "resolve/"), {"note": "Reda"}, "json")
    assert resolved.status_code == 200 and resolved.json()["resolved_at"] is not None
    ack = client.post(url(tenant, "alerts", alert.pk, "acknowledge/"))
    assert ack.status_code == 400 and first_error(ack)["attr"] == "status"


def test_roles_on_actions(
    api: Any, tenant: Any, other_tenant: Any, members: dict[str, Any]
) -> None:
    alert = AlertFactory(tenant=tenant)
    for role in ("approver", "client"):
        response = api(members[role]).post(url(tenant, "alerts", alert.pk, "acknowledge/"))
        assert response.status_code == 403, role
        assert first_error(response)["code"] == "missing_capability"
    theirs = AlertFactory(tenant=other_tenant)
    client = api(members["admin"])
    foreign = client.post(url(tenant, "alerts", theirs.pk, "acknowledge/"))
    missing = client.post(url(tenant, "alerts", 987654321, "acknowledge/"))
    assert foreign.status_code == missing.status_code == 404
    assert foreign.json() == missing.json()
    theirs.refresh_from_db()
    assert theirs.status == "open"


# --- alerts: reads ---------------------------------------------------------------------------


def test_alert_detail_explains_itself(api: Any, tenant: Any, members: dict[str, Any]) -> None:
    mentions = [MentionFactory(tenant=tenant, text=f"Kopi basi {n}") for n in range(2)]
    query = MonitoredQueryFactory(tenant=tenant)
    alert = AlertFactory(
        tenant=tenant,
        query=query,
        sample_mention_ids=[m.pk for m in mentions] + [987654321],
        sample_authors=["x:budi", "x:citra"],
        subject={"series": "q1"},
    )
    body = api(members["client"]).get(url(tenant, "alerts", alert.pk)).json()
    assert body["explanation"].startswith("60 mentions")
    assert (body["observed"], body["baseline"], body["threshold"], body["sigma"]) == (
        60.0,
        15.0,
        40.0,
        6.5,
    )
    assert body["rule"] == alert.rule_id and body["query"] == query.pk
    assert [m["id"] for m in body["sample_mentions"]] == [m.pk for m in mentions]
    assert body["sample_authors"] == ["x:budi", "x:citra"]
    assert body["history"] == []


def test_alert_filters_and_ordering(
    api: Any, tenant: Any, other_tenant: Any, members: dict[str, Any]
) -> None:
    rule = AlertRuleFactory(tenant=tenant)
    sev2 = AlertFactory(tenant=tenant, rule=rule, severity="sev2", kind="hoax-spread")
    sev4 = AlertFactory(tenant=tenant, severity="sev4", status="resolved")
    AlertFactory(tenant=other_tenant, severity="sev2")
    client = api(members["client"])

    def ids(**params: Any) -> list[int]:
        response = client.get(url(tenant, "alerts"), params)
        assert response.status_code == 200, response.content
        return [a["id"] for a in response.json()["results"]]

    assert ids(severity="sev2") == [sev2.pk]
    assert ids(kind="hoax-spread") == [sev2.pk]
    assert ids(rule=rule.pk) == [sev2.pk]
    assert ids(status="resolved") == [sev4.pk]
    assert ids(active="true") == [sev2.pk]
    assert ids(ordering="severity") == [sev2.pk, sev4.pk]
    assert ids(ordering="-severity") == [sev4.pk, sev2.pk]
    for name, value in (("status", "gone"), ("severity", "sev9"), ("rule", "1e30")):
        bad = client.get(url(tenant, "alerts"), {name: value})
        assert bad.status_code == 400 and first_error(bad)["attr"] == name, name
    bad = client.get(url(tenant, "alerts"), {"ordering": "title"})
    assert bad.status_code == 400 and first_error(bad)["attr"] == "ordering"


def test_hoax_cluster_shows_its_spread(api: Any, tenant: Any, members: dict[str, Any]) -> None:
    cluster = HoaxClusterFactory(tenant=tenant)
    body = api(members["client"]).get(url(tenant, "hoax-clusters", cluster.pk)).json()
    assert body["first_poster"] == "x:penyebar"
    assert body["authors"] == ["x:penyebar", "x:akun2", "x:akun3"]
    assert body["low_credibility_links"] == ["https://hoaks.example/kopi"]
    assert body["spread"] == [{"hour": 0, "mentions": 2}, {"hour": 1, "mentions": 2}]
    listed = api(members["client"]).get(url(tenant, "hoax-clusters"), {"min_authors": 4})
    assert listed.json()["results"] == []


# --- GraphQL: the client portal --------------------------------------------------------------


def test_portal_reads_alerts_with_history_and_counts(
    api: Any, gql: Any, tenant: Any, other_tenant: Any, members: dict[str, Any]
) -> None:
    alert = AlertFactory(tenant=tenant, severity="sev2")
    AlertFactory(tenant=tenant, severity="sev4")
    AlertFactory(tenant=other_tenant, severity="sev2")
    until = (timezone.now() + timedelta(hours=1)).isoformat()
    api(members["responder"]).post(
        url(tenant, "alerts", alert.pk, "snooze/"), {"until": until}, "json"
    )
    body = gql(
        """query($slug: String!, $filters: AlertFilter) {
          alerts(slug: $slug, filters: $filters) {
            id status explanation acknowledged_by { email }
            history { kind from_status to_status actor { email } }
          }
          alerts_count(slug: $slug, filters: $filters)
          all: alerts_count(slug: $slug)
        }""",
        user=members["client"],
        variables={"slug": tenant.slug, "filters": {"severity": "sev2"}},
    )
    assert "errors" not in body, body
    assert body["data"]["alerts"] == [
        {
            "id": str(alert.pk),
            "status": "snoozed",
            "explanation": alert.explanation,
            "acknowledged_by": None,
            "history": [
                {
                    "kind": "status",
                    "from_status": "open",
                    "to_status": "snoozed",
                    "actor": {"email": "responder@kopi.test"},
                }
            ],
        }
    ]
    assert body["data"]["alerts_count"] == 1 and body["data"]["all"] == 2
    bad = gql(
        'query($slug: String!) { alerts(slug: $slug, ordering: "title") { id } }',
        user=members["client"],
        variables={"slug": tenant.slug},
    )
    assert error_codes(bad) == ["BAD_USER_INPUT"]


def test_a_tenant_created_over_the_api_starts_with_the_default_rules(api: Any, db: Any) -> None:
    from monitoring.early_warning.services import DEFAULT_RULES
    from tests.factories import TenantFactory, UserFactory

    boss = UserFactory(agency=TenantFactory().agency, is_agency_admin=True)
    client = api(boss)
    created = client.post("/api/v1/tenants/", {"slug": "teh-manis", "name": "Teh"}, format="json")
    assert created.status_code == 201, created.content  # rules written in the new tenant's scope
    rules = client.get("/api/v1/tenants/teh-manis/alert-rules/").json()["results"]
    assert {rule["name"] for rule in rules} == set(DEFAULT_RULES)
