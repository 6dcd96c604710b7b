"""Volume spike: a series' count in a recent window far above its own robust baseline.

:class:`SpikeDetector` consumes one bucket at a time (``observe(start, count)``) and returns an
:class:`~monitoring.alerting.types.Alert` or ``None``. Each decision uses only that bucket and
earlier ones, so a replay cut short gives the same alerts up to the cut, and the state
(:meth:`SpikeDetector.to_dict`) is all the live pipeline keeps per series.

A bucket fires when, for one of the aggregation windows ending with it (15 minutes and the
rule's ``window``, each at least one bucket), the observed count reaches the threshold

    max(E + z * sd, ratio * E, E + min_excess, min_count)

where ``E`` is the window's expected count (:mod:`.baseline`) and ``sd`` its negative-binomial
standard deviation; ``z``, ``ratio``, ``min_excess`` and ``min_count`` come from the
sensitivity (:data:`SPIKE_PRESETS`). ``min_count`` and ``min_excess`` keep a quiet series from
paging for 3 → 9. Before the baseline has seen ``warmup`` of history nothing fires; until every
hour of the day has been seen (no profile yet) the thresholds are stricter (``NO_PROFILE``).

**One spike is one alert.** An alert opens an episode; it stays open while any window is still
at least halfway from its expectation to its threshold, and closes after ``calm`` without
that. A new alert needs the episode closed and the cooldown over. The baseline keeps learning
during an episode (the levels only by clipped steps), so a lasting new level is absorbed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from .baseline import CountBaseline, WindowStat
from .types import (
    Alert,
    as_utc,
    check_sensitivity,
    check_severity,
    iso,
    score_from_ratio,
    severity_from_score,
)

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class SpikeThresholds:
    """What a window must reach to fire (see the module docstring)."""

    z: float
    ratio: float
    min_count: float
    min_excess: float


# Tuned on generated series (benchmarks/alerts_synth.py, docs/alerts.md), never on labelled
# public data.
SPIKE_PRESETS: dict[str, SpikeThresholds] = {
    "low": SpikeThresholds(z=5.0, ratio=3.5, min_count=20, min_excess=15),
    "medium": SpikeThresholds(z=4.0, ratio=2.5, min_count=12, min_excess=8),
    "high": SpikeThresholds(z=3.0, ratio=1.8, min_count=8, min_excess=5),
}
# Multipliers of z and ratio while there is no hour-of-day profile yet (first day).
NO_PROFILE = 1.5
# Windows tried besides the rule's own (one hour by default, which catches ramps): 15 minutes
# reacts to a sudden jump within a bucket or two, yet a blip of a few minutes must be large to
# fill it (a 5-minute window added false alerts on generated series and caught no more).
SUB_WINDOWS = (timedelta(minutes=15),)


@dataclass(frozen=True)
class SpikeConfig:
    """A spike rule as the detector needs it (the live rule row maps onto this)."""

    sensitivity: str = "medium"
    window: timedelta = timedelta(hours=1)
    cooldown: timedelta = timedelta(hours=2)
    severity: str | None = None  # None: from the score (types.severity_from_score)
    warmup: timedelta = timedelta(hours=6)
    calm: timedelta = timedelta(minutes=30)
    rule: str = "spike"
    thresholds: SpikeThresholds | None = None  # None: SPIKE_PRESETS[sensitivity]
    unit: str = "mentions"

    def __post_init__(self) -> None:
        check_sensitivity(self.sensitivity)
        check_severity(self.severity)
        for name in ("window", "cooldown", "warmup", "calm"):
            if getattr(self, name) <= timedelta(0):
                raise ValueError(f"{name} must be a positive duration")

    @property
    def limits(self) -> SpikeThresholds:
        return self.thresholds or SPIKE_PRESETS[self.sensitivity]


def window_buckets(bucket: timedelta, window: timedelta) -> tuple[int, ...]:
    """The aggregation windows, in buckets, for a series of ``bucket``-sized buckets."""
    widths = {max(1, round(d / bucket)) for d in (*SUB_WINDOWS, window) if d <= window}
    widths.add(max(1, round(window / bucket)))
    return tuple(sorted(widths))


@dataclass(frozen=True)
class Decision:
    """The strongest window at one bucket: what it saw against what it needed."""

    stat: WindowStat
    threshold: float
    sigma: float

    @property
    def exceedance(self) -> float:
        """How far towards the threshold the window got: 1.0 at the threshold."""
        span = self.threshold - self.stat.expected
        return (self.stat.observed - self.stat.expected) / span if span > 0 else 0.0


def threshold(stat: WindowStat, limits: SpikeThresholds) -> float:
    """What ``stat.observed`` must reach to fire (see the module docstring)."""
    expected = stat.expected
    return max(
        stat.quantile(limits.z),
        limits.ratio * expected,
        expected + limits.min_excess,
        limits.min_count,
    )


def strongest(stats: list[WindowStat], limits: SpikeThresholds) -> Decision | None:
    """The window that got furthest towards its threshold."""
    best: Decision | None = None
    for stat in stats:
        decision = Decision(stat, threshold(stat, limits), stat.z())
        if best is None or decision.exceedance > best.exceedance:
            best = decision
    return best


class SpikeDetector:
    """Volume spike detector of one series (see the module docstring)."""

    def __init__(self, config: SpikeConfig, bucket: timedelta, series: str = "") -> None:
        if bucket <= timedelta(0):
            raise ValueError("bucket must be a positive duration")
        self.config = config
        self.bucket = bucket
        self.series = series
        self.baseline = CountBaseline(bucket.total_seconds(), window_buckets(bucket, config.window))
        self.origin: datetime | None = None
        self.last_index = -1
        self.episode_open = False
        self.calm_buckets = 0
        self.cooldown_until: datetime | None = None
        self.episode = 0

    # --- state --------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return {
            "baseline": self.baseline.to_dict(),
            "origin": iso(self.origin) if self.origin else None,
            "last_index": self.last_index,
            "episode_open": self.episode_open,
            "calm_buckets": self.calm_buckets,
            "cooldown_until": iso(self.cooldown_until) if self.cooldown_until else None,
            "episode": self.episode,
        }

    @classmethod
    def from_dict(
        cls, data: dict[str, Any], config: SpikeConfig, bucket: timedelta, series: str = ""
    ) -> SpikeDetector:
        self = cls(config, bucket, series)
        self.baseline = CountBaseline.from_dict(data["baseline"])
        self.origin = _parse(data["origin"])
        self.last_index = int(data["last_index"])
        self.episode_open = bool(data["episode_open"])
        self.calm_buckets = int(data["calm_buckets"])
        self.cooldown_until = _parse(data["cooldown_until"])
        self.episode = int(data["episode"])
        return self

    # --- per bucket ---------------------------------------------------------------------------

    def observe(self, start: datetime, count: float, judge: bool = True) -> Alert | None:
        """Judge the bucket starting at ``start`` holding ``count``; buckets must come in
        ascending order, a skipped bucket counts as 0. Returns the alert it fires, if any.
        ``judge=False`` only learns (the live layer's backfilled buckets never fire)."""
        if not math.isfinite(count) or count < 0:
            raise ValueError(f"a count must be a finite number >= 0: {count!r}")
        start = as_utc(start)
        if self.origin is None:
            self.origin = start
        index = math.floor((start - self.origin) / self.bucket)
        if index <= self.last_index:
            raise ValueError(f"bucket {iso(start)} is not after the previous one")
        for missing in range(self.last_index + 1, index):
            self._step(self.origin + missing * self.bucket, 0.0, judge=False)
        self.last_index = index
        return self._step(start, float(count), judge=judge)

    def peek(self, start: datetime, count: float) -> Alert | None:
        """Judge the bucket starting at ``start`` while it is still filling (``count`` so far),
        so the live pipeline can fire within seconds of the mention that tips it. Nothing is
        learnt: :meth:`observe` gives the bucket's final count later, and does not fire again
        for an episode a peek opened."""
        if not math.isfinite(count) or count < 0:
            raise ValueError(f"a count must be a finite number >= 0: {count!r}")
        start = as_utc(start)
        if self.origin is None:
            return None  # no history at all
        index = math.floor((start - self.origin) / self.bucket)
        if index <= self.last_index:
            raise ValueError(f"bucket {iso(start)} is not after the previous one")
        for missing in range(self.last_index + 1, index):
            self._step(self.origin + missing * self.bucket, 0.0, judge=False)
        self.last_index = index - 1
        baseline = self.baseline
        if (
            self.episode_open
            or baseline.n * self.bucket < self.config.warmup
            or (self.cooldown_until is not None and start < self.cooldown_until)
        ):
            return None
        midpoint = start + self.bucket / 2
        second_of_day = (midpoint - EPOCH).total_seconds() % 86400.0
        expected = baseline.expect_next(second_of_day)
        decision = self._decide(baseline.peek(float(count), expected))
        if decision is None or decision.exceedance < 1.0:
            return None
        return self._alert(start, decision)

    def _step(self, start: datetime, count: float, judge: bool) -> Alert | None:
        baseline = self.baseline
        midpoint = start + self.bucket / 2
        second_of_day = (midpoint - EPOCH).total_seconds() % 86400.0
        expected = baseline.expect_next(second_of_day)
        stats = baseline.append(count, expected)
        alert: Alert | None = None
        decision = self._decide(stats)
        if self.episode_open:
            if decision is not None and decision.exceedance >= 0.5:
                self.calm_buckets = 0
            else:
                self.calm_buckets += 1
                if self.calm_buckets * self.bucket >= self.config.calm:
                    self.episode_open = False
        elif (
            judge
            and decision is not None
            and decision.exceedance >= 1.0
            and baseline.n * self.bucket >= self.config.warmup
            and (self.cooldown_until is None or start >= self.cooldown_until)
        ):
            alert = self._alert(start, decision)
        baseline.learn(count, second_of_day, stats, dispersion=not self.episode_open)
        return alert

    def _decide(self, stats: list[WindowStat]) -> Decision | None:
        """The window that got furthest towards its threshold."""
        if not stats or self.baseline.n < 2:
            return None
        limits = self.config.limits
        if not self.baseline.seasonal:
            limits = replace(
                limits, z=limits.z * NO_PROFILE, ratio=1.0 + (limits.ratio - 1.0) * NO_PROFILE
            )
        return strongest(stats, limits)

    def _alert(self, start: datetime, decision: Decision) -> Alert:
        config = self.config
        stat = decision.stat
        end = start + self.bucket
        window_start = end - stat.buckets * self.bucket
        self.episode += 1
        self.episode_open = True
        self.calm_buckets = 0
        self.cooldown_until = end + config.cooldown
        score = score_from_ratio(stat.observed - stat.expected, decision.threshold - stat.expected)
        minutes = round(stat.buckets * self.bucket.total_seconds() / 60)
        span = f"{minutes} minutes" if minutes < 120 else f"{minutes / 60:g} hours"
        ratio = stat.observed / stat.expected if stat.expected > 0 else math.inf
        times = f"{ratio:.1f}x" if math.isfinite(ratio) else "far above"
        explanation = (
            f"{stat.observed:g} {config.unit} in the {span} to {iso(end)}, {times} the expected "
            f"{stat.expected:.1f} ({decision.sigma:.1f} sigma above the baseline); the "
            f"{config.sensitivity} sensitivity fires at {decision.threshold:.1f}."
        )
        return Alert(
            rule=config.rule,
            at=start,
            window_start=window_start,
            window_end=end,
            observed=stat.observed,
            baseline=stat.expected,
            threshold=decision.threshold,
            sigma=decision.sigma,
            score=score,
            severity=config.severity or severity_from_score(score),
            cooldown_until=self.cooldown_until,
            explanation=explanation,
            dedupe_key=f"{config.rule}:{self.series}:{self.episode}",
        )


def _parse(value: str | None) -> datetime | None:
    return None if value is None else as_utc(datetime.fromisoformat(value))
