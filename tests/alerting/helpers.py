"""Small series and mention streams for the alerting tests."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from monitoring.alerting.mentions import MentionEvent

T0 = datetime(2026, 3, 2, tzinfo=UTC)


def poisson(rng: random.Random, mean: float) -> int:
    """A Poisson draw (Knuth for small means, a rounded normal for large ones)."""
    if mean > 50:
        return max(0, round(rng.gauss(mean, mean**0.5)))
    limit, k, product = pow(2.718281828459045, -mean), 0, rng.random()
    while product > limit:
        k += 1
        product *= rng.random()
    return k


def flat_series(
    mean: float, hours: float, bucket: timedelta = timedelta(minutes=5), seed: int = 1
) -> list[tuple[datetime, int]]:
    rng = random.Random(seed)
    count = int(timedelta(hours=hours) / bucket)
    return [(T0 + i * bucket, poisson(rng, mean)) for i in range(count)]


def with_step(
    series: list[tuple[datetime, int]], at: int, length: int, extra: int
) -> list[tuple[datetime, int]]:
    return [(t, v + extra if at <= i < at + length else v) for i, (t, v) in enumerate(series)]


def to_csv(series: list[tuple[datetime, int]], header: str = "timestamp,value") -> str:
    lines = [header] + [f"{t.strftime('%Y-%m-%dT%H:%M:%SZ')},{v}" for t, v in series]
    return "\n".join(lines) + "\n"


def mention(
    external_id: str,
    at: datetime,
    text: str = "biasa saja hari ini",
    author: str = "someone",
    **fields: object,
) -> MentionEvent:
    return MentionEvent("x", external_id, at, text, author=author, **fields)  # type: ignore[arg-type]
