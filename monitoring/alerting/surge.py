"""Rate rules over a mention stream: negative surge and provocation burst.

Both count mentions per 5-minute bucket as they arrive (:class:`~.rate.EventRate`) and judge the
15-minute and the rule's window ending now, the bucket still filling included, so the mention
that tips a rule fires it.

* **Negative surge** fires on either of two tests: the *count* of negative mentions against
  its own baseline (the spike thresholds of :mod:`.spike`), or the *share* of negative mentions
  against the series' usual share (a volume-weighted average over about a day): at least
  ``min_count`` negatives, the share at least ``share_delta`` above the usual one, and a binomial
  z (variance doubled for overdispersion) of at least ``z``.
* **Provocation burst**: the count of provocative mentions (scorer provocation >= 0.5)
  against its own baseline, from at least ``min_authors`` distinct authors.

After an alert the rule stays quiet for its cooldown (one burst, one alert).
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta

from .mentions import MentionEvent
from .rate import EventRate
from .spike import SPIKE_PRESETS, SpikeThresholds, strongest
from .types import (
    Alert,
    check_sensitivity,
    check_severity,
    iso,
    score_from_ratio,
    severity_from_score,
)

BUCKET = timedelta(minutes=5)
SHORT = timedelta(minutes=15)
WARMUP = timedelta(hours=6)
SHARE_HALF_LIFE = timedelta(hours=24)
# (share above the usual, binomial z) per sensitivity
SHARE_PRESETS = {"low": (0.3, 5.0), "medium": (0.2, 4.0), "high": (0.12, 3.0)}
# provocation bursts are rarer than mentions: smaller counts already matter
BURST_PRESETS = {
    "low": SpikeThresholds(z=5.0, ratio=3.0, min_count=10, min_excess=8),
    "medium": SpikeThresholds(z=4.0, ratio=2.5, min_count=6, min_excess=5),
    "high": SpikeThresholds(z=3.0, ratio=2.0, min_count=4, min_excess=3),
}
SAMPLES = 10


@dataclass(frozen=True)
class RateConfig:
    rule: str
    sensitivity: str = "medium"
    window: timedelta = timedelta(hours=1)
    cooldown: timedelta = timedelta(hours=2)
    severity: str | None = None
    min_authors: int = 3

    def __post_init__(self) -> None:
        check_sensitivity(self.sensitivity)
        check_severity(self.severity)
        for name in ("window", "cooldown"):
            if getattr(self, name) <= timedelta(0):
                raise ValueError(f"{name} must be a positive duration")


class _Recent:
    """The flagged mentions inside the window, for authors and samples."""

    def __init__(self, window: timedelta) -> None:
        self.window = window
        self.items: deque[MentionEvent] = deque()

    def add(self, event: MentionEvent) -> None:
        self.items.append(event)

    def prune(self, now: datetime) -> None:
        while self.items and self.items[0].published_at < now - self.window:
            self.items.popleft()

    def since(self, start: datetime) -> list[MentionEvent]:
        return [m for m in self.items if m.published_at >= start]


class _RateRule:
    def __init__(self, config: RateConfig) -> None:
        self.config = config
        self.cooldown_until: datetime | None = None
        self.episode = 0

    def _ready(self, now: datetime, rate: EventRate) -> bool:
        return rate.history >= WARMUP and (
            self.cooldown_until is None or now >= self.cooldown_until
        )

    def _fire(self, now: datetime) -> tuple[datetime, str]:
        self.episode += 1
        self.cooldown_until = now + self.config.cooldown
        return self.cooldown_until, f"{self.config.rule}:{self.episode}"


class ProvocationBurst(_RateRule):
    def __init__(self, config: RateConfig) -> None:
        super().__init__(config)
        self.rate = EventRate(BUCKET, (SHORT, config.window))
        self.recent = _Recent(max(config.window, SHORT))

    def observe(self, event: MentionEvent) -> Alert | None:
        now = event.published_at
        self.rate.advance(now)
        self.recent.prune(now)
        if not event.provocative:
            return None
        self.rate.add(now)
        self.recent.add(event)
        if not self._ready(now, self.rate):
            return None
        decision = strongest(self.rate.stats(), BURST_PRESETS[self.config.sensitivity])
        if decision is None or decision.exceedance < 1.0:
            return None
        stat = decision.stat
        start = _window_start(now, stat.buckets)
        members = self.recent.since(start)
        authors = {m.author_key for m in members}
        if len(authors) < self.config.min_authors:
            return None
        cooldown_until, key = self._fire(now)
        score = score_from_ratio(stat.observed - stat.expected, decision.threshold - stat.expected)
        explanation = (
            f"{stat.observed:g} provocative mentions from {len(authors)} authors since "
            f"{iso(start)}, against {stat.expected:.1f} expected ({decision.sigma:.1f} sigma); "
            f"the {self.config.sensitivity} sensitivity fires at {decision.threshold:.1f}."
        )
        return Alert(
            rule=self.config.rule,
            at=now,
            window_start=start,
            window_end=now,
            observed=stat.observed,
            baseline=stat.expected,
            threshold=decision.threshold,
            sigma=decision.sigma,
            score=score,
            severity=self.config.severity or severity_from_score(score),
            cooldown_until=cooldown_until,
            explanation=explanation,
            dedupe_key=key,
            mentions=[m.ref for m in _top(members)],
            subject={"authors": sorted({m.author for m in members})[:SAMPLES]},
        )


class NegativeSurge(_RateRule):
    def __init__(self, config: RateConfig) -> None:
        super().__init__(config)
        windows = (SHORT, config.window)
        self.negative = EventRate(BUCKET, windows)
        self.total = EventRate(BUCKET, windows)
        self.recent = _Recent(max(config.window, SHORT))
        self.usual_negative = 0.0  # volume-weighted averages over about a day
        self.usual_total = 0.0
        self.closed_index: int | None = None

    def _learn_share(self) -> None:
        """Fold the buckets the total rate has closed into the usual share."""
        index = self.total.index
        if index is None:
            return
        if self.closed_index is None:
            self.closed_index = index
            return
        ring_total = self.total.baseline.ring
        ring_negative = self.negative.baseline.ring
        closed = index - self.closed_index
        if closed <= 0:
            return
        decay = 0.5 ** (BUCKET / SHARE_HALF_LIFE)
        steps = min(closed, len(ring_total), len(ring_negative))
        for k in range(steps, 0, -1):
            self.usual_total = self.usual_total * decay + ring_total[-k][0]
            self.usual_negative = self.usual_negative * decay + ring_negative[-k][0]
        self.closed_index = index

    def observe(self, event: MentionEvent) -> Alert | None:
        now = event.published_at
        self.total.advance(now)
        self.negative.advance(now)
        self._learn_share()
        self.recent.prune(now)
        self.total.add(now)
        if event.is_negative:
            self.negative.add(now)
            self.recent.add(event)
        if not event.is_negative or not self._ready(now, self.total):
            return None
        limits = SPIKE_PRESETS[self.config.sensitivity]
        count = strongest(self.negative.stats(), limits)
        if count is not None and count.exceedance >= 1.0:
            stat = count.stat
            start = _window_start(now, stat.buckets)
            explanation = (
                f"{stat.observed:g} negative mentions since {iso(start)}, "
                f"{_times(stat.observed, stat.expected)} the expected {stat.expected:.1f} "
                f"({count.sigma:.1f} sigma); the {self.config.sensitivity} sensitivity fires "
                f"at {count.threshold:.1f}."
            )
            score = score_from_ratio(stat.observed - stat.expected, count.threshold - stat.expected)
            return self._alert(
                now,
                start,
                stat.observed,
                stat.expected,
                count.threshold,
                count.sigma,
                score,
                explanation,
                "count",
            )
        return self._share_test(now, limits)

    def _share_test(self, now: datetime, limits: SpikeThresholds) -> Alert | None:
        if self.usual_total < 20:
            return None
        usual = min(max(self.usual_negative / self.usual_total, 0.01), 0.99)
        delta, z_needed = SHARE_PRESETS[self.config.sensitivity]
        best: tuple[float, int, float, float, float] | None = None
        for negative, total in zip(self.negative.stats(), self.total.stats(), strict=False):
            n, t = negative.observed, total.observed
            if t <= 0 or n < limits.min_count:
                continue
            share = n / t
            z = (n - t * usual) / math.sqrt(2.0 * t * usual * (1.0 - usual) + 1.0)
            needed = max(
                usual + delta,
                (t * usual + z_needed * math.sqrt(2.0 * t * usual * (1.0 - usual) + 1.0)) / t,
            )
            if share >= needed and (best is None or z > best[0]):
                best = (z, negative.buckets, share, needed, n)
        if best is None:
            return None
        z, buckets, share, needed, n = best
        start = _window_start(now, buckets)
        explanation = (
            f"{share:.0%} of mentions since {iso(start)} are negative ({n:g} of them) against "
            f"the usual {usual:.0%} ({z:.1f} sigma); the {self.config.sensitivity} sensitivity "
            f"fires at {needed:.0%}."
        )
        score = score_from_ratio(share - usual, needed - usual)
        return self._alert(now, start, share, usual, needed, z, score, explanation, "share")

    def _alert(
        self,
        now: datetime,
        start: datetime,
        observed: float,
        baseline: float,
        threshold: float,
        sigma: float,
        score: float,
        explanation: str,
        test: str,
    ) -> Alert:
        cooldown_until, key = self._fire(now)
        members = self.recent.since(start)
        return Alert(
            rule=self.config.rule,
            at=now,
            window_start=start,
            window_end=now,
            observed=observed,
            baseline=baseline,
            threshold=threshold,
            sigma=sigma,
            score=score,
            severity=self.config.severity or severity_from_score(score),
            cooldown_until=cooldown_until,
            explanation=explanation,
            dedupe_key=key,
            mentions=[m.ref for m in _top(members)],
            details={"test": test},
        )


def _window_start(now: datetime, buckets: int) -> datetime:
    """The start of a window of ``buckets`` buckets ending with the bucket holding ``now``."""
    epoch = datetime(1970, 1, 1, tzinfo=now.tzinfo)
    index = math.floor((now - epoch) / BUCKET)
    return epoch + (index - buckets + 1) * BUCKET


def _times(observed: float, expected: float) -> str:
    return f"{observed / expected:.1f}x" if expected > 0 else "far above"


def _top(members: list[MentionEvent]) -> list[MentionEvent]:
    """Sample mentions: the widest reach first."""
    return sorted(members, key=lambda m: (-m.followers, m.published_at))[:SAMPLES]
