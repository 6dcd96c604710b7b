"""Velocity: engagement accelerating on one mention, from snapshots of its engagement.

Only sources that deliver an item again with new numbers (a crawler re-reading a post) give
snapshots; the live layer stores one each time the pipeline updates a mention's engagement.
The first snapshot is compared with the time since publication (the mention started at zero);
each later one with the snapshot before it. A snapshot fires when the engagement gained per hour
since the previous point reaches ``min_rate`` and at least ``ratio`` times the rate of the
interval before (so a mention that was always busy does not page: it must speed up).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from .types import (
    Alert,
    MentionRef,
    check_sensitivity,
    check_severity,
    iso,
    score_from_ratio,
)

# (engagements an hour, times the earlier rate) per sensitivity
VELOCITY_PRESETS: dict[str, tuple[float, float]] = {
    "low": (2000.0, 3.0),
    "medium": (500.0, 2.0),
    "high": (150.0, 1.5),
}
MIN_INTERVAL = timedelta(seconds=1)  # shorter intervals are noise


@dataclass(frozen=True)
class VelocityConfig:
    sensitivity: str = "medium"
    cooldown: timedelta = timedelta(hours=6)
    severity: str | None = None
    min_rate: float | None = None
    ratio: float | None = None
    rule: str = "velocity"

    def __post_init__(self) -> None:
        check_sensitivity(self.sensitivity)
        check_severity(self.severity)
        if self.cooldown <= timedelta(0):
            raise ValueError("cooldown must be a positive duration")

    @property
    def rate_needed(self) -> float:
        return self.min_rate if self.min_rate is not None else VELOCITY_PRESETS[self.sensitivity][0]

    @property
    def ratio_needed(self) -> float:
        return self.ratio if self.ratio is not None else VELOCITY_PRESETS[self.sensitivity][1]


@dataclass(frozen=True)
class Point:
    at: datetime
    engagement: float


def judge(
    config: VelocityConfig,
    *,
    mention: MentionRef,
    published_at: datetime,
    points: list[Point],
) -> Alert | None:
    """Judge the newest of ``points`` (ascending snapshots of one mention) against the interval
    before it; the publication (engagement 0) is the first point."""
    series = [Point(published_at, 0.0), *points]
    if len(series) < 3:
        return None  # an acceleration needs two intervals
    before, previous, current = series[-3], series[-2], series[-1]
    if current.at - previous.at < MIN_INTERVAL or previous.at - before.at < MIN_INTERVAL:
        return None
    hours_now = (current.at - previous.at).total_seconds() / 3600
    hours_before = (previous.at - before.at).total_seconds() / 3600
    rate = max(current.engagement - previous.engagement, 0.0) / hours_now
    earlier = max(previous.engagement - before.engagement, 0.0) / hours_before
    needed = max(config.rate_needed, config.ratio_needed * earlier)
    if rate < needed:
        return None
    score = score_from_ratio(rate, needed)
    speedup = f"{rate / earlier:.1f}x" if earlier > 0 else "up from nothing"
    return Alert(
        rule=config.rule,
        at=current.at,
        window_start=previous.at,
        window_end=current.at,
        observed=round(rate, 1),
        baseline=round(earlier, 1),
        threshold=round(needed, 1),
        score=score,
        severity=config.severity or ("sev2" if rate >= 10 * config.rate_needed else "sev3"),
        cooldown_until=current.at + config.cooldown,
        explanation=(
            f"Engagement on {mention.platform}:{mention.external_id} grew by "
            f"{current.engagement - previous.engagement:,.0f} to {current.engagement:,.0f} "
            f"between {iso(previous.at)} and {iso(current.at)}: {rate:,.0f} an hour, "
            f"{speedup} the {earlier:,.0f} an hour before; the {config.sensitivity} "
            f"sensitivity fires from {needed:,.0f} an hour."
        ),
        dedupe_key=f"{config.rule}:{mention.platform}:{mention.external_id}",
        subject={"mention": mention.to_dict()},
        mentions=[mention],
        details={"points": [{"at": iso(p.at), "engagement": p.engagement} for p in series[-3:]]},
    )
