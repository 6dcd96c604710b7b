"""Velocity: engagement accelerating on one mention or a hoax cluster, from snapshots.

Only sources that deliver an item again with new numbers (a crawler re-reading a post) give
snapshots; the live layer stores one each time the pipeline updates a mention's engagement.
The first snapshot is compared with the time since publication (the mention started at zero);
each later one with the snapshot before it. A snapshot fires when the engagement gained per hour
since the previous point reaches ``min_rate`` and at least ``ratio`` times the rate of the
interval before (so a mention that was always busy does not page: it must speed up).

:func:`judge_cluster` applies the same thresholds to the summed rates of a hoax cluster's
members (those with a recent snapshot), so members each speeding up a little can cross
together.
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


# A cluster member's speed counts in its cluster's sum while its newest snapshot is this recent.
CLUSTER_RECENT = timedelta(hours=1)
CLUSTER_NAMED = 10  # members named in a cluster alert's explanation


@dataclass(frozen=True)
class Member:
    """One member of a hoax cluster as the cluster's velocity sees it."""

    mention: MentionRef
    published_at: datetime
    points: list[Point]


@dataclass(frozen=True)
class _Speed:
    member: Member
    start: datetime  # the previous point: the current interval runs from here to the newest
    gained: float
    rate: float
    earlier: float


def _speed(member: Member, now: datetime) -> _Speed | None:
    """A member's engagement an hour over its newest interval and the one before (one
    snapshot only: the same rate for both, it shows no acceleration yet)."""
    series = [Point(member.published_at, 0.0), *member.points]
    if len(series) < 2 or series[-1].at < now - CLUSTER_RECENT:
        return None
    previous, current = series[-2], series[-1]
    if current.at - previous.at < MIN_INTERVAL:
        return None
    gained = max(current.engagement - previous.engagement, 0.0)
    rate = gained / ((current.at - previous.at).total_seconds() / 3600)
    earlier = rate
    if len(series) >= 3:
        before = series[-3]
        if previous.at - before.at < MIN_INTERVAL:
            return None
        hours = (previous.at - before.at).total_seconds() / 3600
        earlier = max(previous.engagement - before.engagement, 0.0) / hours
    return _Speed(member, previous.at, gained, rate, earlier)


def judge_cluster(
    config: VelocityConfig,
    *,
    cluster: str,
    members: list[Member],
    now: datetime,
    dedupe_key: str,
) -> Alert | None:
    """Judge a hoax cluster's summed engagement: the members' rates over their newest
    intervals (those with a snapshot in the last ``CLUSTER_RECENT``) added up, against the
    same members' rates over the interval before, with the thresholds of one mention. Several
    members each speeding up a little can cross together what none crosses alone."""
    speeds = [s for s in (_speed(m, now) for m in members) if s is not None]
    if len(speeds) < 2:
        return None  # one member alone is judged as a mention
    rate = sum(s.rate for s in speeds)
    earlier = sum(s.earlier for s in speeds)
    needed = max(config.rate_needed, config.ratio_needed * earlier)
    if rate < needed:
        return None
    speeds.sort(key=lambda s: (-s.rate, s.member.mention.external_id))
    start = min(s.start for s in speeds)
    end = max(s.member.points[-1].at for s in speeds)
    gained = sum(s.gained for s in speeds)
    total = sum(s.member.points[-1].engagement for s in speeds)
    score = score_from_ratio(rate, needed)
    speedup = f"{rate / earlier:.1f}x" if earlier > 0 else "up from nothing"
    named = ", ".join(
        f"{s.member.mention.platform}:{s.member.mention.external_id} ({s.rate:,.0f} an hour)"
        for s in speeds[:CLUSTER_NAMED]
    )
    more = f" and {len(speeds) - CLUSTER_NAMED} more" if len(speeds) > CLUSTER_NAMED else ""
    return Alert(
        rule=config.rule,
        at=end,
        window_start=start,
        window_end=end,
        observed=round(rate, 1),
        baseline=round(earlier, 1),
        threshold=round(needed, 1),
        score=score,
        severity=config.severity or ("sev2" if rate >= 10 * config.rate_needed else "sev3"),
        cooldown_until=end + config.cooldown,
        explanation=(
            f"Engagement on hoax cluster {cluster} ({len(speeds)} members: {named}{more}) grew "
            f"by {gained:,.0f} to {total:,.0f} between {iso(start)} and {iso(end)}: "
            f"{rate:,.0f} an hour together, {speedup} the {earlier:,.0f} an hour before; the "
            f"{config.sensitivity} sensitivity fires from {needed:,.0f} an hour."
        ),
        dedupe_key=dedupe_key,
        subject={
            "cluster": {
                "cluster_id": cluster,
                "members": [s.member.mention.to_dict() for s in speeds[:50]],
            }
        },
        mentions=[s.member.mention for s in speeds],
        details={
            "members": [
                {
                    "mention": s.member.mention.to_dict(),
                    "rate": round(s.rate, 1),
                    "earlier": round(s.earlier, 1),
                    "engagement": s.member.points[-1].engagement,
                }
                for s in speeds[:50]
            ]
        },
    )
