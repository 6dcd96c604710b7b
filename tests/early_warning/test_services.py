"""Alert rules and alerts through their services, on the real database."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_q.models import OrmQ

from monitoring import services as monitoring_services
from monitoring.alerting.types import Alert as Detected
from monitoring.choices import AlertStatus
from monitoring.early_warning import live, selectors, services
from monitoring.models import Alert, AlertEscalation, AlertEvent, AlertRule, HoaxCluster
from tenants import services as tenant_services
from tenants.models import Tenant
from tests.notify.factories import EscalationPolicyFactory

pytestmark = pytest.mark.django_db


def detected(at: datetime, observed: float = 50.0, key: str = "spike:q0:1") -> Detected:
    return Detected(
        rule="spike",
        at=at,
        window_start=at - timedelta(minutes=15),
        window_end=at + timedelta(minutes=5),
        observed=observed,
        baseline=10.0,
        threshold=30.0,
        explanation=f"{observed:g} mentions",
        severity="sev3",
        dedupe_key=key,
        sigma=6.0,
        score=0.8,
    )


def spike_rule(tenant: Tenant, **extra: Any) -> AlertRule:
    return services.create_rule(tenant=tenant, name="Spike test", kind="spike", **extra)


def test_new_tenant_gets_default_rules_once(tenant: Tenant) -> None:
    created = tenant_services.create_tenant(agency=tenant.agency, slug="fresh", name="Fresh")
    names = set(AlertRule.objects.for_tenant(created).values_list("name", flat=True))
    assert names == set(services.DEFAULT_RULES)
    assert services.ensure_default_rules(tenant=created) == 0


def test_rule_validation_names_the_field(tenant: Tenant, other_tenant: Tenant) -> None:
    with pytest.raises(ValidationError) as exc:
        spike_rule(tenant, window=timedelta(minutes=-5))
    assert "window" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        spike_rule(tenant, cooldown=timedelta(0))
    assert "cooldown" in exc.value.message_dict
    theirs = monitoring_services.create_query(tenant=other_tenant, name="q", query="kopi")
    with pytest.raises(ValidationError) as exc:
        spike_rule(tenant, query=theirs)
    assert "query" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        services.create_rule(tenant=tenant, name="k", kind="trigger-keywords", params={})
    assert "params" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        services.create_rule(tenant=tenant, name="k", kind="spike", params={"x": 1})
    assert "params" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        services.create_rule(tenant=tenant, name="k", kind="nope")
    assert "kind" in exc.value.message_dict
    rule = services.create_rule(
        tenant=tenant, name="k", kind="trigger-keywords", params={"keywords": [" basi ", "Basi"]}
    )
    assert rule.params == {"keywords": ["basi"]}
    with pytest.raises(ValidationError) as exc:
        services.update_rule(instance=rule, kind="spike")
    assert "kind" in exc.value.message_dict


def test_one_episode_is_one_alert_and_merges(tenant: Tenant) -> None:
    rule = spike_rule(tenant)
    at = datetime(2026, 3, 1, 10, tzinfo=UTC)
    first = services.fire_or_merge(rule=rule, detected=detected(at), mention_ids=[1, 2])
    assert first.created
    again = services.fire_or_merge(rule=rule, detected=detected(at), mention_ids=[1, 2])
    assert not again.created and not again.merged  # idempotent
    later = services.fire_or_merge(
        rule=rule, detected=detected(at + timedelta(minutes=5), 80.0), mention_ids=[3]
    )
    assert later.merged and later.alert.pk == first.alert.pk
    alert = Alert.objects.for_tenant(tenant).get()
    assert alert.observed == 80.0 and alert.evidence_count == 2
    assert alert.sample_mention_ids == [1, 2, 3]
    kinds = list(AlertEvent.objects.for_tenant(tenant).values_list("kind", flat=True))
    assert kinds == ["fired", "merged"]


def test_many_firings_merge_in_a_fixed_number_of_statements(tenant: Tenant) -> None:
    """A chunk's detections go in one call: each episode's later evidence merges into its own
    alert (with its history row) whatever the number of episodes, in the same statements; a new
    episode in the batch is created, and a second firing of it in the same batch merges."""
    rule = spike_rule(tenant)
    at = datetime(2026, 3, 1, 10, tzinfo=UTC)
    keys = [f"spike:q{k}:1" for k in range(12)]
    opened = services.fire_or_merge_many(
        [
            services.Firing(rule, detected(at, key=key), mention_ids=[k])
            for k, key in enumerate(keys)
        ]
    )
    assert all(f.created for f in opened)

    def later(count: int) -> list[services.Firing]:
        return [
            services.Firing(
                rule, detected(at + timedelta(minutes=5), 60.0 + k, key), mention_ids=[100 + k]
            )
            for k, key in enumerate(keys[:count])
        ]

    with CaptureQueriesContext(connection) as two:
        services.fire_or_merge_many(later(2))
    with CaptureQueriesContext(connection) as twelve:
        merged = services.fire_or_merge_many(later(12))
    assert len(twelve) == len(two)
    # the first two episodes had this evidence already (same time, same mentions): unchanged
    assert [f.merged for f in merged] == [False, False] + [True] * 10
    assert all(not f.created for f in merged)
    for k, key in enumerate(keys):
        alert = Alert.objects.for_tenant(tenant).get(dedupe_key=key)
        assert alert.evidence_count == 2 and alert.observed == 60.0 + k
        assert alert.sample_mention_ids == [k, 100 + k]
        kinds = list(
            AlertEvent.objects.for_tenant(tenant).filter(alert=alert).values_list("kind", flat=True)
        )
        assert sorted(kinds) == ["fired", "merged"]
    fresh = services.fire_or_merge_many(
        [
            services.Firing(rule, detected(at, key="spike:new:1"), mention_ids=[7]),
            services.Firing(
                rule, detected(at + timedelta(minutes=1), key="spike:new:1"), mention_ids=[8]
            ),
        ]
    )
    assert fresh[0].created and fresh[1].merged and fresh[1].alert.pk == fresh[0].alert.pk
    assert Alert.objects.for_tenant(tenant).get(dedupe_key="spike:new:1").sample_mention_ids == [
        7,
        8,
    ]


def test_alerts_opened_together_escalate_and_queue_the_incident_side(tenant: Tenant) -> None:
    """New alerts of one batch are inserted together (no ``post_save`` each): every one still
    starts its escalation when a policy covers its severity and queues the incident side, and a
    stored alert's merge writes every field the merge changed."""
    rule = spike_rule(tenant)
    EscalationPolicyFactory(tenant=tenant, severity="sev2", steps=[{"on_call": True}])
    at = datetime(2026, 3, 1, 10, tzinfo=UTC)
    stored = services.fire_or_merge(
        rule=rule, detected=detected(at, key="spike:old:1"), mention_ids=[1], authors=["ani"]
    ).alert
    stronger = replace(
        detected(at + timedelta(minutes=5), 90.0, "spike:old:1"),
        sigma=None,
        subject={"series": "q0", "why": 'a "quoted" {brace}'},
    )
    fired = services.fire_or_merge_many(
        [
            services.Firing(rule, replace(detected(at, key="spike:a:1"), severity="sev2")),
            services.Firing(rule, stronger, mention_ids=[3, 2], authors=["budi", "ani", "citra"]),
            services.Firing(rule, replace(detected(at, key="spike:b:1"), severity="sev3")),
        ]
    )
    assert [f.created for f in fired] == [True, False, True] and fired[1].merged
    new = [fired[0].alert, fired[2].alert]
    escalated = set(AlertEscalation.objects.for_tenant(tenant).values_list("alert_id", flat=True))
    assert escalated == {fired[0].alert.pk}  # the sev2 one: the only severity with a policy
    queued = [
        list(task.task.get("args", ()))
        for task in OrmQ.objects.all()
        if task.task.get("func") == "incidents.tasks.alert_opened"
    ]
    assert all([tenant.pk, alert.pk] in queued for alert in [stored, *new])
    stored.refresh_from_db()
    assert stored.evidence_count == 2 and stored.observed == 90.0 and stored.sigma is None
    assert stored.sample_mention_ids == [1, 3, 2]
    assert stored.sample_authors == ["ani", "budi", "citra"]
    assert stored.subject == {"series": "q0", "why": 'a "quoted" {brace}'}
    assert stored.explanation == "90 mentions"
    assert stored.last_evidence_at == at + timedelta(minutes=5)
    assert stored.window_end == at + timedelta(minutes=10)


def test_cooldown_merges_then_a_new_alert(tenant: Tenant) -> None:
    rule = spike_rule(tenant, cooldown=timedelta(hours=2))
    at = datetime(2026, 3, 1, 10, tzinfo=UTC)
    first = services.fire_or_merge(rule=rule, detected=detected(at)).alert
    services.resolve(alert=first, user=None)
    during = services.fire_or_merge(rule=rule, detected=detected(at + timedelta(hours=1)))
    assert not during.created and during.alert.pk == first.pk
    after = services.fire_or_merge(rule=rule, detected=detected(at + timedelta(hours=3)))
    assert after.created
    assert Alert.objects.for_tenant(tenant).count() == 2


def test_life_cycle_and_false_positive_rate(tenant: Tenant, members: dict[str, Any]) -> None:
    rule = spike_rule(tenant)
    user = members["analyst"] if "analyst" in members else next(iter(members.values()))
    at = timezone.now()
    one = services.fire_or_merge(rule=rule, detected=detected(at, key="a")).alert
    services.snooze(alert=one, user=user, until=at + timedelta(hours=1))
    assert one.status == AlertStatus.SNOOZED and one.acknowledged_by is None
    with pytest.raises(ValidationError) as exc:
        services.snooze(alert=one, user=user, until=at - timedelta(hours=1))
    assert "until" in exc.value.message_dict
    assert services.wake_snoozed(tenant_id=tenant.pk, now=at + timedelta(hours=2)) == 1
    one.refresh_from_db()
    assert one.status == AlertStatus.OPEN and one.acknowledged_at is None
    services.acknowledge(alert=one, user=user)
    services.resolve(alert=one, user=user)
    with pytest.raises(ValidationError) as exc:
        services.acknowledge(alert=one, user=user)
    assert "status" in exc.value.message_dict
    two = services.fire_or_merge(rule=rule, detected=detected(at, key="b")).alert
    with pytest.raises(ValidationError) as exc:
        services.dismiss(alert=two, user=user, reason=" ")
    assert "reason" in exc.value.message_dict
    services.dismiss(alert=two, user=user, reason="a planned campaign")
    rate = selectors.false_positive_rate(rule=rule)
    assert rate == {"alerts": 2, "dismissed": 1, "resolved": 1, "rate": 0.5}
    assert selectors.open_alerts(tenant=tenant) == []
    three = services.fire_or_merge(rule=rule, detected=detected(at, key="c")).alert
    assert [a.pk for a in selectors.open_alerts_for_tenants(tenant_ids=[tenant.pk])] == [three.pk]
    history = [(e.from_status, e.to_status) for e in selectors.alert_history(alert=one)]
    assert history == [
        ("", "open"),
        ("open", "snoozed"),
        ("snoozed", "open"),
        ("open", "acknowledged"),
        ("acknowledged", "resolved"),
    ]


def test_the_migration_defaults_are_the_services() -> None:
    import importlib

    migration = importlib.import_module("monitoring.migrations.0013_default_alert_rules")
    changed = importlib.import_module(
        "monitoring.migrations.0016_default_alert_rule_severities"
    ).CHANGED
    assert set(migration.DEFAULTS) == set(services.DEFAULT_RULES)
    for name, settings in services.DEFAULT_RULES.items():
        copied = dict(migration.DEFAULTS[name])
        if name in changed:  # the severities a later migration changed
            kind, old, new = changed[name]
            assert (kind, copied.get("severity", "")) == (copied["kind"], old), name
            copied["severity"] = new
        assert copied["kind"] == settings["kind"], name
        assert copied.get("window", migration.HOUR) == settings.get("window", migration.HOUR)
        assert copied.get("cooldown", 2 * migration.HOUR) == settings.get(
            "cooldown", AlertRule._meta.get_field("cooldown").default
        ), name
        assert copied.get("severity", "") == settings.get("severity", ""), name


def test_a_weaker_merge_keeps_the_explanation_the_alert_has(tenant: Tenant) -> None:
    """Evidence weaker than the alert's adds to its count and samples only: the explanation
    columns (not read by the merge) stay as they were; the merged alert comes back with the
    rest of its row loaded when read."""
    rule = spike_rule(tenant)
    at = datetime(2026, 3, 1, 10, tzinfo=UTC)
    strong = replace(detected(at, 90.0), subject={"series": "q0"})
    first = services.fire_or_merge(rule=rule, detected=strong, mention_ids=[1]).alert
    weaker = replace(
        detected(at + timedelta(minutes=5), 40.0), sigma=None, subject={"series": "other"}
    )
    later = services.fire_or_merge(rule=rule, detected=weaker, mention_ids=[2], authors=["ani"])
    assert later.merged and later.alert.pk == first.pk
    stored = Alert.objects.for_tenant(tenant).get(pk=first.pk)
    assert (stored.evidence_count, stored.sample_mention_ids, stored.sample_authors) == (
        2,
        [1, 2],
        ["ani"],
    )
    assert (stored.observed, stored.explanation, stored.sigma, stored.subject) == (
        90.0,
        "90 mentions",
        6.0,
        {"series": "q0"},
    )
    # ``fire_or_merge`` hands back the whole alert (``fire_or_merge_many`` the columns it read)
    assert not later.alert.get_deferred_fields()
    assert later.alert.title == stored.title and later.alert.details == stored.details


def test_the_raw_reads_name_the_models_columns_in_field_order() -> None:
    """``Model.from_db`` takes the values in the model's field order: the reads of a merge's
    episodes and of the grown hoax clusters select their columns in that order."""

    def selected(sql: str) -> list[str]:
        return [c.strip() for c in sql.split("SELECT", 1)[1].split("FROM", 1)[0].split(",")]

    def in_model_order(model: Any, names: tuple[str, ...]) -> list[str]:
        return [f.attname for f in model._meta.concrete_fields if f.attname in names]

    episode = services._EPISODE_FIELDS
    assert selected(services._EPISODES) == list(episode) == in_model_order(Alert, episode)
    cluster = live._CLUSTER_FIELDS
    assert selected(live._CLUSTER_LOCK) == list(cluster)
    assert list(cluster) == [f.attname for f in HoaxCluster._meta.concrete_fields]
