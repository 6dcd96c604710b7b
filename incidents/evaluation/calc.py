"""The arithmetic of the evaluation figures: pure functions (no Django, no database), so each
rule of ``docs/evaluation.md`` is written once and tested on numbers worked out by hand.

Times are aware datetimes; durations are answered in minutes (one decimal) or hours.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from statistics import median

HOUR = timedelta(hours=1)
# Hours of negative share inside the baseline band, in a row, that count as "back to normal".
RECOVERY_RUN = 3
# The baseline band needs at least this many hours with mentions in the 14 days before.
MIN_BASELINE_HOURS = 24


def minutes_between(start: datetime | None, end: datetime | None) -> float | None:
    """Minutes from ``start`` to ``end`` (one decimal), None when either is missing."""
    if start is None or end is None:
        return None
    return round((end - start).total_seconds() / 60, 1)


@dataclass(frozen=True)
class Band:
    """The baseline band of a series: its median and median absolute deviation (MAD);
    ``low``/``high`` are median ∓ 2 MAD (never below 0)."""

    median: float
    mad: float

    @property
    def low(self) -> float:
        return max(0.0, self.median - 2 * self.mad)

    @property
    def high(self) -> float:
        return self.median + 2 * self.mad

    def contains(self, value: float) -> bool:
        return self.low <= value <= self.high


def baseline_band(values: Sequence[float]) -> Band | None:
    """Median ± 2 MAD of ``values`` (None with fewer than ``MIN_BASELINE_HOURS`` values)."""
    if len(values) < MIN_BASELINE_HOURS:
        return None
    middle = median(values)
    return Band(median=middle, mad=median(abs(v - middle) for v in values))


def recovery_hour(
    hours: Sequence[tuple[datetime, float]], band: Band, *, after: datetime
) -> datetime | None:
    """The start of the first hour, after the hour of highest value at or after ``after``,
    that begins ``RECOVERY_RUN`` hours in a row (hours with mentions, in order) inside
    ``band``; None when the series has not come back yet."""
    rows = [(hour, value) for hour, value in sorted(hours) if hour >= after]
    if not rows:
        return None
    peak = max(range(len(rows)), key=lambda i: (rows[i][1], -i))
    for index in range(peak + 1, len(rows) - RECOVERY_RUN + 1):
        if all(band.contains(value) for _, value in rows[index : index + RECOVERY_RUN]):
            return rows[index][0]
    return None


@dataclass(frozen=True)
class Cadence:
    """Update-cadence adherence: of the gaps between public statements (and from the last one
    to the end of the cadence), how many stayed within the target."""

    target_minutes: int
    gaps: int
    met: int

    @property
    def adherence(self) -> float | None:
        return round(self.met / self.gaps, 4) if self.gaps else None


def cadence(statements: Sequence[datetime], end: datetime, target_minutes: int) -> Cadence:
    """Gaps from each statement to the next, and from the last one to ``end`` (resolution,
    or now while unresolved); a gap meets the cadence when it is at most ``target_minutes``."""
    times = sorted(t for t in statements if t <= end)
    if not times:
        return Cadence(target_minutes=target_minutes, gaps=0, met=0)
    bounds = [*times, end]
    gaps = [b - a for a, b in itertools.pairwise(bounds)]
    limit = timedelta(minutes=target_minutes)
    return Cadence(
        target_minutes=target_minutes, gaps=len(gaps), met=sum(1 for gap in gaps if gap <= limit)
    )


def half_life_hours(spread: Sequence[tuple[datetime, int]]) -> int | None:
    """Hours from the hour with most new copies to the first later hour with at most half as
    many (hours without copies count as 0); None while it has not halved yet."""
    counts = dict(spread)
    if not counts:
        return None
    peak_hour = min(counts, key=lambda hour: (-counts[hour], hour))
    half = counts[peak_hour] / 2
    last = max(counts)
    hour, steps = peak_hour + HOUR, 1
    while hour <= last + HOUR:
        if counts.get(hour, 0) <= half:
            return steps
        hour, steps = hour + HOUR, steps + 1
    return None


def share(part: int, whole: int) -> float | None:
    """``part / whole`` to four decimals, None for an empty whole."""
    return round(part / whole, 4) if whole else None
