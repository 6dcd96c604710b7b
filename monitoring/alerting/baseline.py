"""A robust, incrementally updated baseline of one count series (mentions per bucket).

Each bucket costs O(1) work and a few hundred bytes of state (:meth:`CountBaseline.to_dict`),
so the live pipeline keeps one per (tenant, query) series and never re-reads history. What it
keeps:

* a **short level** (Huber-robust EWMA of the de-seasonalised counts, half-life 4 hours) and a
  **long level** (half-life 3 days): one bucket far above expectation moves either by at most
  ``HUBER_K`` standard deviations times the smoothing weight, so a spike barely contaminates the
  baseline it is judged against, while a lasting change of level is absorbed within hours;
* an **hour-of-day profile**: 24 multiplicative factors, learnt per hour from the counts over
  the long level (log-space EWMA, each step clipped, shrunk towards 1 for sparse hours), used
  once every hour of the day has been seen (one day of history), linearly interpolated between
  hour centres;
* per aggregation window (e.g. 5, 15 and 60 minutes), a **negative-binomial dispersion** ``phi``
  such that the variance of the window's count is ``E + phi * E**2``, learnt by robust stochastic
  approximation on absolute Pearson residuals (weighted by how much ``phi`` matters at that
  volume, clipped at 4 sigma, not updated while an alert episode is open);
* a ring of the last buckets' counts and one-step-ahead expectations, enough for the longest
  window.

The expectation of a window is ``max(short, long) x profile``, summed over its buckets, each
bucket's expectation computed *before* the bucket was seen. Taking the larger level keeps a
recovery after an outage or a quiet weekend from looking like a spike.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from typing import Any

HUBER_K = 2.0  # clip of a bucket's influence on the levels, in standard deviations
SHORT_HALF_LIFE_S = 4 * 3600.0
LONG_HALF_LIFE_S = 3 * 86400.0
SEASON_MIN_GAIN = 0.2  # weight of a new day's observation of an hour once 5 days are known
SEASON_STEP_CLIP = 1.0  # at most a factor e per update of one hour's factor
SEASON_PSEUDO = 1.0  # pseudo-count shrinking a sparse hour's factor towards 1
SEASON_FIRST_CLIP = math.log(8.0)  # an hour's first factor lies within 1/8 .. 8
EMPTY_HOUR_EXPECTED = 5.0  # an hour with no mention where this many were expected: outage
PHI_INIT = 0.1
PHI_MIN = 1e-4
PHI_MAX = 25.0
PHI_MEMORY_S = 86400.0  # the dispersions weigh about the last day
PHI_PRIOR = 10  # the initial PHI_INIT counts as this many samples
PHI_REJECT = 4.0  # residuals beyond this many sd do not teach the dispersion
PHI_STEP_CLIP = 0.25
PHI_REF = 0.05
MEAN_ABS_NORMAL = math.sqrt(2.0 / math.pi)  # E|Z| for a standard normal Z
LEVEL_FLOOR = 1e-3
EXPECT_FLOOR = 0.25  # variance floor: a window's expectation is never treated as below this
EMPTY_BUCKET_EXPECTED = 5.0  # an empty bucket where this many were expected: outage


@dataclass(frozen=True)
class WindowStat:
    """One aggregation window at the current bucket."""

    buckets: int
    observed: float
    expected: float
    sd: float  # standard deviation of the window's count under the baseline

    @property
    def shape_c(self) -> float:
        """``1 / (9k)`` of the gamma with this window's mean and variance (Wilson-Hilferty)."""
        base = max(self.expected, EXPECT_FLOOR)
        return (self.sd * self.sd) / (9.0 * base * base)

    def quantile(self, z: float) -> float:
        """The count ``z`` standard normal deviates up the window's skewed distribution: the
        Wilson-Hilferty cube-root approximation of a gamma with the window's mean and variance
        (a negative binomial's right tail is longer than a normal one)."""
        base = max(self.expected, EXPECT_FLOOR)
        c = self.shape_c
        return base * max(0.0, 1.0 - c + z * math.sqrt(c)) ** 3

    def z(self) -> float:
        """How many standard deviates ``observed`` lies above the expectation, on the same
        skew-corrected scale as :meth:`quantile`."""
        base = max(self.expected, EXPECT_FLOOR)
        c = self.shape_c
        return ((max(self.observed, 0.0) / base) ** (1.0 / 3.0) - 1.0 + c) / math.sqrt(c)


class CountBaseline:
    """Baseline of one count series with buckets of ``bucket_seconds``.

    For each bucket in order (missing buckets as 0, by the caller): :meth:`expect_next`, then
    :meth:`append` (the window statistics to judge), then :meth:`learn`.
    """

    def __init__(self, bucket_seconds: float, window_buckets: tuple[int, ...]) -> None:
        self.bucket_seconds = float(bucket_seconds)
        self.window_buckets = tuple(sorted(set(window_buckets)))
        self.alpha_short = 1.0 - 0.5 ** (self.bucket_seconds / SHORT_HALF_LIFE_S)
        self.alpha_long = 1.0 - 0.5 ** (self.bucket_seconds / LONG_HALF_LIFE_S)
        self.n = 0
        self.level_short = 0.0
        self.level_long = 0.0
        self.season = [1.0] * 24
        self.season_seen = [0] * 24
        self.phi = [PHI_INIT] * len(self.window_buckets)
        self.ring: deque[tuple[float, float]] = deque(maxlen=max(self.window_buckets))
        # accumulators of the hour being observed for the profile
        self.acc_hour = -1
        self.acc_count = 0.0
        self.acc_level = 0.0

    # --- state --------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return {
            "bucket_seconds": self.bucket_seconds,
            "window_buckets": list(self.window_buckets),
            "n": self.n,
            "level_short": self.level_short,
            "level_long": self.level_long,
            "season": list(self.season),
            "season_seen": list(self.season_seen),
            "phi": list(self.phi),
            "ring": [list(item) for item in self.ring],
            "acc": [self.acc_hour, self.acc_count, self.acc_level],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CountBaseline:
        self = cls(data["bucket_seconds"], tuple(data["window_buckets"]))
        self.n = int(data["n"])
        self.level_short = float(data["level_short"])
        self.level_long = float(data["level_long"])
        self.season = [float(v) for v in data["season"]]
        self.season_seen = [int(v) for v in data["season_seen"]]
        self.phi = [float(v) for v in data["phi"]]
        self.ring.extend((float(a), float(b)) for a, b in data["ring"])
        self.acc_hour, self.acc_count, self.acc_level = (
            int(data["acc"][0]),
            float(data["acc"][1]),
            float(data["acc"][2]),
        )
        return self

    # --- the profile --------------------------------------------------------------------------

    @property
    def seasonal(self) -> bool:
        """Whether every hour of the day has been seen (the profile is in use)."""
        return min(self.season_seen) > 0

    def factor(self, second_of_day: float) -> float:
        """The hour-of-day factor for a bucket whose midpoint is ``second_of_day`` (UTC)."""
        if not self.seasonal:
            return 1.0
        position = second_of_day / 3600.0 - 0.5
        low = math.floor(position)
        frac = position - low
        return self.season[low % 24] * (1.0 - frac) + self.season[(low + 1) % 24] * frac

    def _learn_hour(self, hour: int, count: float, level: float) -> None:
        seen = self.season_seen[hour]
        expected = level * (self.season[hour] if seen else 1.0)
        if count == 0 and expected >= EMPTY_HOUR_EXPECTED:
            return  # an empty hour where many were expected is an outage, not a pattern
        ratio = (count + SEASON_PSEUDO) / (level + SEASON_PSEUDO)
        gain = max(1.0 / (seen + 1), SEASON_MIN_GAIN)
        step = math.log(ratio) - math.log(self.season[hour])
        clip = SEASON_STEP_CLIP if seen else SEASON_FIRST_CLIP
        step = max(-clip, min(clip, step))
        self.season[hour] = math.exp(math.log(self.season[hour]) + gain * step)
        self.season_seen[hour] = seen + 1
        seen_factors = [f for f, s in zip(self.season, self.season_seen, strict=True) if s]
        mean = sum(seen_factors) / len(seen_factors)
        if mean > 0:
            self.season = [
                f / mean if s else f for f, s in zip(self.season, self.season_seen, strict=True)
            ]

    # --- per bucket ---------------------------------------------------------------------------

    def expect_next(self, second_of_day: float) -> float:
        """One-step-ahead expectation of the next bucket (0 before any data)."""
        if self.n == 0:
            return 0.0
        return self.level_short * self.factor(second_of_day)

    def windows(self) -> list[WindowStat]:
        """Statistics of each window that the ring already covers, shortest first."""
        out: list[WindowStat] = []
        ring = self.ring
        size = len(ring)
        for index, width in enumerate(self.window_buckets):
            if width > size:
                break
            observed = 0.0
            expected = 0.0
            for k in range(size - width, size):
                count, expect = ring[k]
                observed += count
                expected += expect
            base = max(expected, EXPECT_FLOOR)
            sd = math.sqrt(base + self.phi[index] * base * base)
            out.append(WindowStat(width, observed, expected, sd))
        return out

    def peek(self, count: float, expected: float) -> list[WindowStat]:
        """The window statistics if a bucket with ``count`` (expected ``expected``) came next,
        without recording it: how the live rules judge the bucket still filling."""
        out: list[WindowStat] = []
        ring = self.ring
        size = len(ring)
        for index, width in enumerate(self.window_buckets):
            if width - 1 > size:
                break
            observed, expect = count, expected
            for k in range(size - width + 1, size):
                observed += ring[k][0]
                expect += ring[k][1]
            base = max(expect, EXPECT_FLOOR)
            sd = math.sqrt(base + self.phi[index] * base * base)
            out.append(WindowStat(width, observed, expect, sd))
        return out

    def append(self, count: float, expected: float) -> list[WindowStat]:
        """Add a bucket's ``count`` with the ``expected`` value :meth:`expect_next` gave for
        it; the window statistics now ending with it. Call :meth:`learn` next."""
        self.ring.append((count, expected))
        return self.windows()

    def learn(
        self, count: float, second_of_day: float, stats: list[WindowStat], dispersion: bool = True
    ) -> None:
        """Update levels, profile and (unless ``dispersion`` is false: an alert episode is
        open) the dispersions with the bucket just appended."""
        factor = self.factor(second_of_day)
        n = self.n
        self.n = n + 1
        expected = self.level_short * factor
        if n and count == 0 and expected >= EMPTY_BUCKET_EXPECTED:
            return  # nothing where this many were expected: an outage, not a new level
        if dispersion and n >= 2:
            for index, stat in enumerate(stats):
                self._learn_phi(index, stat)
        value = count / factor
        if n == 0:
            self.level_short = self.level_long = max(value, LEVEL_FLOOR)
        else:
            phi = self.phi[0]
            for name, alpha in (("level_short", self.alpha_short), ("level_long", self.alpha_long)):
                level = getattr(self, name)
                mean = level * factor
                sd = math.sqrt(max(mean, EXPECT_FLOOR) + phi * mean * mean) / factor
                gain = max(alpha, 1.0 / (n + 1))
                if n >= 6:
                    value_used = max(level - HUBER_K * sd, min(level + HUBER_K * sd, value))
                else:
                    value_used = value
                setattr(self, name, max(LEVEL_FLOOR, level + gain * (value_used - level)))
        # the hour-of-day profile, against the long level
        hour = int(second_of_day // 3600) % 24
        if hour != self.acc_hour:
            if self.acc_hour >= 0 and self.acc_level > 0:
                self._learn_hour(self.acc_hour, self.acc_count, self.acc_level)
            self.acc_hour, self.acc_count, self.acc_level = hour, 0.0, 0.0
        self.acc_count += count
        self.acc_level += self.level_long

    def _learn_phi(self, index: int, stat: WindowStat) -> None:
        base = max(stat.expected, EXPECT_FLOOR)
        residual = abs(stat.observed - stat.expected) / stat.sd
        if residual > PHI_REJECT:
            return  # an outlier (perhaps the start of a spike) says nothing about the noise
        phi = self.phi[index]
        # how much phi matters at this volume (at least as if phi were PHI_REF, so a phi that
        # has sunk low can still rise where volume is high)
        scale = max(phi, PHI_REF) * base
        weight = scale / (1.0 + scale)
        samples = self.n - stat.buckets + 1  # updates this window has had, this one included
        gain = max(self.bucket_seconds / PHI_MEMORY_S, 1.0 / (samples + PHI_PRIOR))
        step = gain * weight * (residual / MEAN_ABS_NORMAL - 1.0)
        step = max(-PHI_STEP_CLIP, min(PHI_STEP_CLIP, step))
        self.phi[index] = min(PHI_MAX, max(PHI_MIN, phi * math.exp(step)))
