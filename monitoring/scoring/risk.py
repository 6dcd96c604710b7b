"""The 0-100 mention risk score and its bands (formula and bands documented in docs/scoring.md).

This module is the one place of both: the formula (``risk_score``) and the band thresholds
(``RISK_BANDS``); the APIs, filters and the admin read the bands through ``risk_band`` and
``band_range``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

# How much each crisis trigger contributes to content severity.
TRIGGER_WEIGHTS: dict[str, float] = {
    "cyber_attack": 0.5,
    "unexpected_event": 0.5,
    "hoax": 0.4,
    "provocation": 0.35,
    "negative_news": 0.35,
    "negative_perception": 0.25,
}
# Engagement counts are weighted by how much they spread a post.
ENGAGEMENT_WEIGHTS: dict[str, float] = {
    "shares": 2.0,
    "retweets": 2.0,
    "reposts": 2.0,
    "quotes": 2.0,
    "comments": 1.0,
    "replies": 1.0,
    "likes": 0.5,
    "reactions": 0.5,
    "favorites": 0.5,
    "views": 0.01,
}


def _clip(x: float) -> float:
    return 0.0 if x < 0 else 1.0 if x > 1 else x


def reach_factor(followers: int | None) -> float:
    """0 for no followers, 1 at 1,000,000 followers (log scale); 0.5 when unknown."""
    if followers is None:
        return 0.5
    return _clip(math.log10(1 + max(0, followers)) / 6.0)


def engagement_factor(engagement: Mapping[str, float] | None) -> float:
    """0 for no interaction, 1 at 10,000 weighted interactions (log scale); 0.25 when unknown."""
    if not engagement:
        return 0.25
    total = 0.0
    for key, value in engagement.items():
        try:
            total += ENGAGEMENT_WEIGHTS.get(key.lower(), 0.0) * max(0.0, float(value))
        except (TypeError, ValueError):
            continue
    return _clip(math.log10(1 + total) / 4.0)


def risk_score(
    negative: float,
    provocation: float,
    triggers: Iterable[str] = (),
    followers: int | None = None,
    engagement: Mapping[str, float] | None = None,
    verified: bool | None = None,
) -> int:
    """Risk of a mention, 0-100.

    severity = 1 - (1 - 0.45*negative) * (1 - 0.6*provocation) * prod(1 - w_t for t in triggers)
    amplification = min(1, 0.5 + 0.35*reach + 0.15*engagement + (0.05 if verified else 0))
    risk = round(100 * severity * amplification)
    """
    keep = 1.0 - 0.45 * _clip(negative)
    keep *= 1.0 - 0.6 * _clip(provocation)
    for t in set(triggers):
        keep *= 1.0 - TRIGGER_WEIGHTS.get(t, 0.0)
    severity = 1.0 - keep
    amp = 0.5 + 0.35 * reach_factor(followers) + 0.15 * engagement_factor(engagement)
    if verified:
        amp += 0.05
    return round(100 * severity * min(1.0, amp))


# Bands of the risk score, lowest first: (name, the lowest score in the band). A band reaches up
# to the next band's lowest score (exclusive); the last one up to 100.
RISK_BANDS: tuple[tuple[str, int], ...] = (
    ("low", 0),
    ("elevated", 25),
    ("high", 50),
    ("critical", 75),
)
RISK_MAX = 100


def risk_band(score: int) -> str:
    """The band of a 0-100 risk score (scores outside 0-100 fall in the nearest band)."""
    found = RISK_BANDS[0][0]
    for name, lowest in RISK_BANDS:
        if score >= lowest:
            found = name
    return found


def band_range(band: str) -> tuple[int, int]:
    """The scores of a band as ``(lowest, highest)``, both inclusive; ``KeyError`` for an unknown
    band."""
    names = [name for name, _ in RISK_BANDS]
    index = names.index(band) if band in names else -1
    if index < 0:
        raise KeyError(band)
    lowest = RISK_BANDS[index][1]
    highest = RISK_BANDS[index + 1][1] - 1 if index + 1 < len(RISK_BANDS) else RISK_MAX
    return lowest, highest


def describe_bands() -> str:
    """The bands as text: ``low (0-24), elevated (25-49), high (50-74), critical (75-100)``."""
    parts = []
    for name, _lowest in RISK_BANDS:
        lowest, highest = band_range(name)
        parts.append(f"{name} ({lowest}-{highest})")
    return ", ".join(parts)
