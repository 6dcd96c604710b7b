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
from datetime import UTC, datetime, timedelta
from typing import Any

from .mentions import MentionEvent
from .rate import EventRate
from .spike import SPIKE_PRESETS, SpikeThresholds, strongest
from .types import (
    Alert,
    MentionRef,
    as_utc,
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
SHARE_DECAY = 0.5 ** (BUCKET / SHARE_HALF_LIFE)
MAX_GAP = int(timedelta(days=2) / BUCKET)  # empty buckets folded at most after a silence
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
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


class UsualShare:
    """A series' usual negative share and its last closed buckets, shared by the offline
    replay (:class:`NegativeSurge`) and the live layer (``early_warning.live.advance``).

    ``close(start, negative, total)`` folds one closed bucket (buckets skipped since the last
    one count as empty, at most two days of them) into volume-weighted averages with a
    half-life of a day, and keeps the last ``keep`` buckets' counts for the windows. Its state
    is plain JSON (:meth:`to_dict`)."""

    def __init__(self, keep: int) -> None:
        self.keep = max(1, keep)
        self.negative = 0.0
        self.total = 0.0
        self.ring: deque[tuple[float, float]] = deque(maxlen=self.keep)
        self.last: datetime | None = None  # start of the last closed bucket

    def to_dict(self) -> dict[str, Any]:
        return {
            "keep": self.keep,
            "negative": self.negative,
            "total": self.total,
            "ring": [list(pair) for pair in self.ring],
            "last": iso(self.last) if self.last else None,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], keep: int) -> UsualShare:
        self = cls(keep)
        self.negative = float(data.get("negative", 0.0))
        self.total = float(data.get("total", 0.0))
        self.ring.extend((float(n), float(t)) for n, t in data.get("ring", []))
        last = data.get("last")
        self.last = as_utc(datetime.fromisoformat(last)) if last else None
        return self

    def copy(self) -> UsualShare:
        return UsualShare.from_dict(self.to_dict(), self.keep)

    def close(self, start: datetime, negative: float, total: float) -> None:
        if self.last is not None:
            if start <= self.last:
                return  # already folded
            skipped = min(round((start - self.last) / BUCKET) - 1, MAX_GAP)
            for _ in range(max(skipped, 0)):
                self._fold(0.0, 0.0)
        self._fold(float(negative), float(total))
        self.last = start

    def _fold(self, negative: float, total: float) -> None:
        self.total = self.total * SHARE_DECAY + total
        self.negative = self.negative * SHARE_DECAY + negative
        self.ring.append((negative, total))

    def windows(
        self, widths: tuple[int, ...], negative: float, total: float
    ) -> list[tuple[int, float, float]]:
        """``(buckets, negatives, total)`` of each window ending with the bucket still filling
        (``negative`` and ``total`` so far); the closed buckets before it from the ring."""
        ring = list(self.ring)
        out = []
        for width in widths:
            earlier = ring[len(ring) - (width - 1) :] if width > 1 else []
            out.append(
                (
                    width,
                    negative + sum(n for n, _ in earlier),
                    total + sum(t for _, t in earlier),
                )
            )
        return out


@dataclass(frozen=True)
class ShareDecision:
    """The window whose negative share lies furthest above the usual one."""

    z: float
    buckets: int
    share: float
    usual: float
    needed: float
    negative: float


def share_widths(window: timedelta) -> tuple[int, ...]:
    """The share test's windows, in buckets: 15 minutes and the rule's window."""
    return tuple(sorted({max(1, round(w / BUCKET)) for w in (SHORT, window)}))


def judge_share(
    usual: UsualShare, windows: list[tuple[int, float, float]], sensitivity: str
) -> ShareDecision | None:
    """The share test (see the module docstring): ``None`` unless a window's share reaches
    what the sensitivity needs over the usual share."""
    if usual.total < 20:
        return None
    rate = min(max(usual.negative / usual.total, 0.01), 0.99)
    delta, z_needed = SHARE_PRESETS[sensitivity]
    min_count = SPIKE_PRESETS[sensitivity].min_count
    best: ShareDecision | None = None
    for buckets, n, t in windows:
        if t <= 0 or n < min_count:
            continue
        share = n / t
        spread = math.sqrt(2.0 * t * rate * (1.0 - rate) + 1.0)
        z = (n - t * rate) / spread
        needed = max(rate + delta, (t * rate + z_needed * spread) / t)
        if share >= needed and (best is None or z > best.z):
            best = ShareDecision(z, buckets, share, rate, needed, n)
    return best


def share_alert(
    decision: ShareDecision,
    *,
    rule: str,
    sensitivity: str,
    severity: str | None,
    now: datetime,
    cooldown_until: datetime,
    dedupe_key: str,
    mentions: list[MentionRef] | None = None,
) -> Alert:
    """The alert of a share decision, worded the same offline and live."""
    start = _window_start(now, decision.buckets)
    explanation = (
        f"{decision.share:.0%} of mentions since {iso(start)} are negative "
        f"({decision.negative:g} of them) against the usual {decision.usual:.0%} "
        f"({decision.z:.1f} sigma); the {sensitivity} sensitivity fires at "
        f"{decision.needed:.0%}."
    )
    score = score_from_ratio(decision.share - decision.usual, decision.needed - decision.usual)
    return Alert(
        rule=rule,
        at=now,
        window_start=start,
        window_end=now,
        observed=decision.share,
        baseline=decision.usual,
        threshold=decision.needed,
        sigma=decision.z,
        score=score,
        severity=severity or severity_from_score(score),
        cooldown_until=cooldown_until,
        explanation=explanation,
        dedupe_key=dedupe_key,
        mentions=mentions or [],
        details={"test": "share"},
    )


class NegativeSurge(_RateRule):
    def __init__(self, config: RateConfig) -> None:
        super().__init__(config)
        windows = (SHORT, config.window)
        self.negative = EventRate(BUCKET, windows)
        self.total = EventRate(BUCKET, windows)
        self.recent = _Recent(max(config.window, SHORT))
        self.widths = share_widths(config.window)
        self.usual = UsualShare(max(self.widths))
        self.closed_index: int | None = None

    def _learn_share(self) -> None:
        """Fold the buckets the total rate has closed into the usual share."""
        index = self.total.index
        if index is None:
            return
        if self.closed_index is None:
            self.closed_index = index
            return
        closed = index - self.closed_index
        if closed <= 0:
            return
        ring_total = self.total.baseline.ring
        ring_negative = self.negative.baseline.ring
        steps = min(closed, len(ring_total), len(ring_negative))
        for k in range(steps, 0, -1):
            start = EPOCH + (index - k) * BUCKET
            self.usual.close(start, ring_negative[-k][0], ring_total[-k][0])
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
        return self._share_test(now)

    def _share_test(self, now: datetime) -> Alert | None:
        windows = self.usual.windows(self.widths, self.negative.count, self.total.count)
        decision = judge_share(self.usual, windows, self.config.sensitivity)
        if decision is None:
            return None
        cooldown_until, key = self._fire(now)
        members = self.recent.since(_window_start(now, decision.buckets))
        return share_alert(
            decision,
            rule=self.config.rule,
            sensitivity=self.config.sensitivity,
            severity=self.config.severity,
            now=now,
            cooldown_until=cooldown_until,
            dedupe_key=key,
            mentions=[m.ref for m in _top(members)],
        )

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
