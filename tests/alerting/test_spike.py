"""The volume spike detector: fires on a real spike, once, explains itself, and keeps quiet
for small counts, during warm-up and in cooldown."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from monitoring.alerting.spike import SpikeConfig, SpikeDetector, window_buckets
from tests.alerting.helpers import T0, flat_series, with_step

FIVE = timedelta(minutes=5)


def run(series, config=None, bucket=FIVE):
    detector = SpikeDetector(config or SpikeConfig(), bucket, "s")
    return [(i, a) for i, (t, v) in enumerate(series) if (a := detector.observe(t, v))]


def test_a_step_fires_once_within_ten_minutes_and_explains_itself() -> None:
    base = flat_series(20, hours=48)
    onset = 40 * 12  # hour 40
    alerts = run(with_step(base, onset, 36, 80))  # +80 a bucket for 3 hours
    assert len(alerts) == 1
    fired, alert = alerts[0]
    assert onset <= fired <= onset + 1
    assert alert.rule == "spike"
    assert alert.observed >= alert.threshold > alert.baseline > 0
    assert alert.sigma is not None and alert.sigma >= 4
    assert 0.5 <= (alert.score or 0) <= 1
    assert alert.severity in {"sev2", "sev3", "sev4"}
    assert alert.window_end == base[fired][0] + FIVE
    assert alert.window_start < alert.window_end
    assert alert.cooldown_until == alert.window_end + timedelta(hours=2)
    assert "mentions in the 15 minutes" in alert.explanation
    assert "medium sensitivity fires at" in alert.explanation
    json.dumps(alert.to_dict())  # serialisable


def test_a_quiet_series_is_not_paged_for_three_to_nine_but_is_for_forty() -> None:
    quiet = flat_series(0.25, hours=48)  # ~3 an hour
    onset = 40 * 12
    assert run(with_step(quiet, onset, 3, 2)) == []  # ~9 in 15 minutes instead of ~1
    assert [i for i, _ in run(with_step(quiet, onset, 3, 14))] != []


def test_nothing_fires_during_warm_up() -> None:
    series = with_step(flat_series(20, hours=8), 3 * 12, 24, 200)  # a huge step at hour 3
    assert run(series) == []


def test_cooldown_and_dedupe() -> None:
    base = flat_series(20, hours=60)
    first, second, third = 30 * 12, 33 * 12, 40 * 12  # bursts of 30 minutes
    series = with_step(with_step(with_step(base, first, 6, 120), second, 6, 120), third, 6, 120)
    assert [i for i, _ in run(series)] == [first, second, third]  # 2 h cooldown: all three
    long = SpikeConfig(cooldown=timedelta(hours=6))
    assert [i for i, _ in run(series, long)] == [first, third]  # the second one is in cooldown


def test_a_long_spike_is_one_alert() -> None:
    series = with_step(flat_series(20, hours=72), 30 * 12, 12 * 12, 60)  # 12 hours elevated
    assert len(run(series)) == 1


def test_sensitivity_orders_the_thresholds() -> None:
    series = with_step(flat_series(30, hours=48), 40 * 12, 6, 45)  # 2.5x for 30 minutes
    fired = {s: len(run(series, SpikeConfig(sensitivity=s))) for s in ("low", "medium", "high")}
    assert fired["low"] <= fired["medium"] <= fired["high"]
    assert fired["high"] >= 1 and fired["low"] == 0


def test_missing_buckets_count_as_zero() -> None:
    series = with_step(flat_series(2, hours=48), 40 * 12, 6, 40)
    sparse = series[:1] + [(t, v) for t, v in series[1:] if v > 0]  # same first bucket
    dense = run(series)
    assert dense and [a.to_dict() for _, a in run(sparse)] == [a.to_dict() for _, a in dense]


def test_state_round_trips_through_json_mid_stream() -> None:
    """The live layer stores the state per series between buckets."""
    series = with_step(flat_series(15, hours=60), 50 * 12, 12, 90)
    whole = [a.to_dict() for _, a in run(series)]
    config = SpikeConfig()
    detector = SpikeDetector(config, FIVE, "s")
    got = []
    for i, (t, v) in enumerate(series):
        if i % 97 == 0:
            state = json.loads(json.dumps(detector.to_dict()))
            detector = SpikeDetector.from_dict(state, config, FIVE, "s")
        alert = detector.observe(t, v)
        if alert:
            got.append(alert.to_dict())
    assert got == whole and whole


def test_buckets_must_ascend_and_counts_be_numbers() -> None:
    detector = SpikeDetector(SpikeConfig(), FIVE)
    detector.observe(T0, 3)
    with pytest.raises(ValueError, match="not after"):
        detector.observe(T0, 4)
    with pytest.raises(ValueError, match="finite"):
        detector.observe(T0 + FIVE, float("nan"))
    with pytest.raises(ValueError, match="finite"):
        detector.observe(T0 + FIVE, -1)


def test_windows_by_bucket_size() -> None:
    assert window_buckets(timedelta(minutes=1), timedelta(hours=1)) == (15, 60)
    assert window_buckets(FIVE, timedelta(hours=1)) == (3, 12)
    assert window_buckets(timedelta(hours=1), timedelta(hours=1)) == (1,)


@pytest.mark.parametrize("field", ["window", "cooldown"])
def test_bad_config_is_refused(field: str) -> None:
    with pytest.raises(ValueError, match=field):
        SpikeConfig(**{field: timedelta(0)})
    with pytest.raises(ValueError, match="sensitivity"):
        SpikeConfig(sensitivity="extreme")


def test_peek_fires_on_the_bucket_still_filling_and_observe_does_not_repeat_it() -> None:
    series = with_step(flat_series(20, hours=48), 40 * 12, 24, 120)
    onset = 40 * 12
    detector = SpikeDetector(SpikeConfig(), FIVE, "s")
    for t, v in series[:onset]:
        assert detector.peek(t, v / 3) is None  # a third of a normal bucket: quiet
        detector.observe(t, v)
    start, final = series[onset]
    assert detector.peek(start, 15) is None  # not enough yet
    alert = detector.peek(start, final)  # the bucket has most of its mentions
    assert alert is not None and alert.at == start
    assert detector.observe(start, final) is None  # the same episode
    assert all(detector.observe(t, v) is None for t, v in series[onset + 1 : onset + 24])
