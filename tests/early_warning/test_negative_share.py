"""Live negative surge judges the share as the offline replay does: the same stream through
both paths (the live one on the real database: rollups as history, stored mentions judged chunk
by chunk by ``live.evaluate``), the same alert, or none in either."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone

from monitoring.alerting.mentions import MentionEvent
from monitoring.alerting.surge import NegativeSurge, RateConfig
from monitoring.early_warning import live, services
from monitoring.models import Alert, AlertRule, DetectorState, Mention, MetricBucket, PipelineEvent

pytestmark = pytest.mark.django_db

HISTORY = 108  # 9 hours of 5-minute buckets: past the 6-hour warm-up


def bucket(start: datetime, per: int, negative_tenths: int, prefix: str) -> list[MentionEvent]:
    """``per`` mentions spread over the bucket, ``negative_tenths`` of every ten negative."""
    return [
        MentionEvent(
            "x",
            f"{prefix}{k}",
            start + timedelta(seconds=300 * k / per),
            f"Kopi Senja {prefix}{k}",
            author=f"user{prefix}{k}",
            sentiment="negative" if k % 10 < negative_tenths else "neutral",
        )
        for k in range(per)
    ]


def offline(history: list[MentionEvent], recent: list[MentionEvent]) -> list[Any]:
    rule = NegativeSurge(RateConfig(rule="negative-surge"))
    return [a for a in (rule.observe(e) for e in [*history, *recent]) if a is not None]


def live_path(
    tenant: Any, base: datetime, per: int, recent: list[MentionEvent], chunk: int = 1
) -> list[Alert]:
    """History as the stored rollups (30% negative), then the recent mentions stored and
    judged ``chunk`` at a time, at the time of a chunk's last mention (one by one: exactly
    where the offline replay judges)."""
    services.ensure_default_rules(tenant=tenant)
    AlertRule.objects.for_tenant(tenant).exclude(kind="negative-surge").update(enabled=False)
    first = recent[0]
    MetricBucket.objects.bulk_create(
        [
            MetricBucket(
                tenant=tenant,
                query_id=0,
                bucket=base - live.BUCKET * k,
                mentions=per,
                negative=per * 3 // 10,
                neutral=per - per * 3 // 10,
            )
            for k in range(1, HISTORY + 1)
        ]
        # the series starts with the first chunk: the rollups hold it already
        + [
            MetricBucket(
                tenant=tenant,
                query_id=0,
                bucket=live.floor_bucket(first.published_at),
                mentions=1,
                negative=int(first.is_negative),
                neutral=int(not first.is_negative),
            )
        ]
    )
    for start in range(0, len(recent), chunk):
        events = recent[start : start + chunk]
        ids = [
            Mention.objects.create(
                tenant=tenant,
                platform=event.platform,
                external_id=event.external_id,
                text=event.text,
                author_handle=event.author,
                published_at=event.published_at,
                sentiment=event.sentiment,
            ).pk
            for event in events
        ]
        committed = PipelineEvent(tenant=tenant, inserted_ids=ids, updated_ids=[])
        live.evaluate(events=[committed], now=events[-1].published_at)
    return list(Alert.objects.for_tenant(tenant).order_by("id"))


def history(base: datetime, per: int) -> list[MentionEvent]:
    return [
        e for k in range(HISTORY, 0, -1) for e in bucket(base - live.BUCKET * k, per, 3, f"h{k}_")
    ]


def test_a_share_jump_at_flat_volume_fires_live_exactly_as_offline(tenant: Any) -> None:
    base = live.floor_bucket(timezone.now()) - timedelta(minutes=15)
    # the same 100 mentions a bucket, but 70% negative instead of 30%
    recent = [e for j in range(2) for e in bucket(base + live.BUCKET * j, 100, 7, f"j{j}_")]
    expected = offline(history(base, 100), recent)
    assert len(expected) == 1 and expected[0].details == {"test": "share"}
    found = live_path(tenant, base, 100, recent)
    assert len(found) == 1
    alert, want = found[0], expected[0]
    assert alert.kind == "negative-surge" and alert.details["test"] == "share"
    assert alert.first_evidence_at == want.at  # the same mention tipped it
    assert (alert.window_start, alert.window_end) == (want.window_start, want.window_end)
    for name in ("observed", "baseline", "threshold", "sigma"):
        assert getattr(alert, name) == pytest.approx(getattr(want, name)), name
    assert alert.explanation == want.explanation
    assert "are negative" in alert.explanation and "against the usual 30%" in alert.explanation
    state = DetectorState.objects.for_tenant(tenant).get(rule__kind="negative-surge")
    assert state.state["share"]["total"] > 0 and "totals" in state.state


def test_a_count_rising_with_volume_alone_fires_neither_path(tenant: Any) -> None:
    base = live.floor_bucket(timezone.now()) - timedelta(minutes=15)
    # twice the volume, the same 30% negative: twice the negatives, the share flat
    recent = [e for j in range(3) for e in bucket(base + live.BUCKET * j, 200, 3, f"v{j}_")]
    assert offline(history(base, 100), recent) == []
    assert live_path(tenant, base, 100, recent, chunk=10) == []
    state = DetectorState.objects.for_tenant(tenant).get(rule__kind="negative-surge")
    usual = state.state["share"]
    assert usual["negative"] / usual["total"] == pytest.approx(0.3, abs=0.01)


def test_the_backtest_of_stored_rollups_judges_the_share_as_live(tenant: Any) -> None:
    from monitoring.early_warning.backtest import backtest_rule

    services.ensure_default_rules(tenant=tenant)
    rule = AlertRule.objects.for_tenant(tenant).get(kind="negative-surge")
    base = live.floor_bucket(timezone.now()) - timedelta(hours=2)

    def rollups(negative_of: Any) -> None:
        MetricBucket.objects.for_tenant(tenant).delete()
        MetricBucket.objects.bulk_create(
            [
                MetricBucket(
                    tenant=tenant,
                    query_id=0,
                    bucket=base + live.BUCKET * k,
                    mentions=100,
                    negative=negative_of(k),
                    neutral=100 - negative_of(k),
                )
                for k in range(-HISTORY, 3)
            ]
        )

    rollups(lambda k: 70 if k >= 0 else 30)  # the share jumps at flat volume
    [line] = backtest_rule(rule=rule, days=1)
    assert line["details"]["test"] == "share" and "are negative" in line["explanation"]
    assert line["observed"] >= line["threshold"] > line["baseline"] == pytest.approx(0.3, abs=0.01)
    rollups(lambda k: 30)  # nothing changes
    assert backtest_rule(rule=rule, days=1) == []
