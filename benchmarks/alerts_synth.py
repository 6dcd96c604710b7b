"""Generated mention-volume series with injected crises, and the spike rule's quality on them.

No public labelled anomaly or mention-volume benchmark is used anywhere: every series here is
drawn from a model of how brand mention volume behaves, with crises injected at known times.

A series (``generate_series``) has:

* a bucket size of 1 minute, 5 minutes or 1 hour, and a length of one to eight weeks;
* a base volume from 1 to 3,000 mentions an hour (log-uniform: quiet and busy series);
* an hour-of-day profile (two harmonics, peak-to-trough 1.5-10x, random phase), a weekend
  factor (0.55-1.1), a trend (-40% to +60% over the series) and a slow random drift;
* noise: a gamma-Poisson (negative binomial) draw per bucket (dispersion 0.01-0.3) on top of an
  autocorrelated log-rate wobble (AR(1), half-hour memory);
* nuisances that are *not* crises: organic bursts (1.3-2.5x for 5-30 minutes, a few a week),
  busier news days (1.3-1.8x for a day) and, in some series, an outage of 1-8 hours (no rows,
  so the buckets count as 0) after which volume returns as before;
* 1-3 crises (``crisis`` windows), each a **step** (x3-15, held 1-8 hours, then decaying), a
  **ramp** (rising to x3-12 over 30-60 minutes, then held and decaying) or a **burst**
  (x5-20 for 15-45 minutes); the extra volume is at least 15-60 mentions an hour, so a quiet
  series' crisis is one a person would see. A window runs from the onset (a bucket start) until
  the extra volume has decayed to 10% of its peak.

``evaluate`` replays each series bucket by bucket through ``SpikeDetector`` as
``manage.py backtest-rule`` does and scores it the way the issue states: a window is caught by
an alert inside it (delay = first such alert's bucket start minus onset; later alerts in a
caught window count neither way), every alert outside all windows is a false alert.

    python benchmarks/alerts_synth.py [--series 120] [--seed 11] [--sensitivity all]
    python benchmarks/alerts_synth.py --stress          # burstier, noisier series
    python benchmarks/alerts_synth.py --write-csv DIR   # the series as backtest-rule CSVs

The last line printed is one JSON object with the figures per sensitivity.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import statistics
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from scipy.signal import lfilter

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from monitoring.alerting.spike import SpikeConfig, SpikeDetector
from monitoring.alerting.types import SENSITIVITIES

START = datetime(2026, 3, 2, tzinfo=UTC)  # a Monday
BUCKETS = {
    "1m": (timedelta(minutes=1), (5, 9)),  # (size, weeks as (min, max) days)
    "5m": (timedelta(minutes=5), (10, 28)),
    "1h": (timedelta(hours=1), (21, 56)),
}
SHAPES = ("step", "ramp", "burst")


@dataclass
class Crisis:
    shape: str
    onset: datetime
    end: datetime
    magnitude: float


@dataclass
class Series:
    name: str
    bucket: timedelta
    starts: list[datetime]
    counts: list[int]
    present: list[bool]  # False: no row for this bucket (outage, or an empty quiet bucket)
    crises: list[Crisis] = field(default_factory=list)
    base_per_hour: float = 0.0
    nuisances: list[tuple[str, datetime, datetime]] = field(default_factory=list)

    @property
    def weeks(self) -> float:
        return len(self.counts) * self.bucket / timedelta(days=7)


def generate_series(
    rng: np.random.Generator, name: str, bucket_kind: str | None = None, stress: bool = False
) -> Series:
    """One series: simulated minute by minute, then summed into its buckets. ``stress``: twice
    the organic bursts, blips up to 5x four times as often, noisier (dispersion up to 1)."""
    kind = bucket_kind or str(rng.choice(list(BUCKETS), p=[0.25, 0.5, 0.25]))
    bucket, (days_min, days_max) = BUCKETS[kind]
    days = int(rng.integers(days_min, days_max + 1))
    per_bucket = int(bucket / timedelta(minutes=1))
    n_min = days * 1440
    minutes = np.arange(n_min)
    mid = (minutes + 0.5) / 60.0  # hours since START
    base = float(math.exp(rng.uniform(math.log(1.0), math.log(3000.0))))  # mentions an hour
    # hour-of-day profile: two harmonics, random phase (time zone), scaled to a peak/trough ratio
    phase1, phase2 = rng.uniform(0, 24), rng.uniform(0, 24)
    weight2 = rng.uniform(0.0, 0.5)
    shape = np.cos(2 * np.pi * (mid - phase1) / 24) + weight2 * np.cos(
        4 * np.pi * (mid - phase2) / 24
    )
    shape = (shape - shape.min()) / (shape.max() - shape.min()) - 0.5  # in [-0.5, 0.5]
    log_rate = shape * math.log(rng.uniform(1.5, 10.0))
    # weekend
    weekday = (mid // 24).astype(int) % 7
    log_rate += np.where(weekday >= 5, math.log(rng.uniform(0.55, 1.1)), 0.0)
    # trend and slow drift (random walk in log space, ~0.1 a day)
    log_rate += np.linspace(0.0, math.log(rng.uniform(0.6, 1.6)), n_min)
    drift = np.cumsum(rng.normal(0.0, 0.1 * math.sqrt(1 / 1440), n_min))
    log_rate += drift - drift.mean()
    # wobble: AR(1) in log space with 10-40 minutes of memory
    rho = 0.5 ** (1.0 / rng.uniform(10, 40))
    wobble_sd = rng.uniform(0.05, 0.25)
    shocks = rng.normal(0.0, wobble_sd * math.sqrt(1 - rho * rho), n_min)
    log_rate += lfilter([1.0], [1.0, -rho], shocks)
    rate = base / 60.0 * np.exp(log_rate)  # expected mentions a minute
    # nuisances (not crises): organic bursts, a rarer viral blip, news days
    nuisances: list[tuple[str, datetime, datetime]] = []

    def nuisance(kind: str, at: int, length: int, factor: float) -> None:
        rate[at : at + length] *= factor
        minute = timedelta(minutes=1)
        nuisances.append((kind, START + at * minute, START + (at + length) * minute))

    for _ in range(rng.poisson(rng.uniform(1.0, 6.0) * days / 7)):
        nuisance(
            "burst", int(rng.integers(0, n_min)), int(rng.integers(5, 31)), rng.uniform(1.3, 2.5)
        )
    for _ in range(rng.poisson(0.5 * days / 7)):
        nuisance(
            "blip", int(rng.integers(0, n_min)), int(rng.integers(5, 16)), rng.uniform(2.5, 4.0)
        )
    for _ in range(rng.poisson(days / 10)):
        nuisance("news-day", int(rng.integers(0, n_min)), 1440, rng.uniform(1.3, 1.8))
    # crises, their onsets on bucket starts
    crises: list[Crisis] = []
    extra = np.zeros(n_min)
    earliest, latest = 12 * 60 // per_bucket, (n_min - 8 * 60) // per_bucket
    taken: list[int] = []
    for _ in range(int(rng.integers(1, 4))):
        for _attempt in range(20):
            onset = int(rng.integers(earliest, latest)) * per_bucket
            if all(abs(onset - t) > 48 * 60 for t in taken):
                break
        else:
            continue
        taken.append(onset)
        shape_name = str(rng.choice(SHAPES))
        local = float(np.median(rate[max(0, onset - 6 * 60) : onset + 1]))
        if shape_name == "step":
            magnitude = rng.uniform(3, 15)
            rise_h, hold_h, half_h = 0.0, rng.uniform(1, 8), rng.uniform(1, 3)
        elif shape_name == "ramp":
            magnitude = rng.uniform(3, 12)
            rise_h, hold_h, half_h = rng.uniform(0.5, 1.0), rng.uniform(1, 6), rng.uniform(1, 3)
        else:
            magnitude = rng.uniform(5, 20)
            rise_h, hold_h, half_h = 0.0, rng.uniform(0.25, 0.75), rng.uniform(0.15, 0.35)
        peak = max((magnitude - 1) * local, rng.uniform(15, 60) / 60.0)
        t = (minutes - onset) / 60.0  # hours since onset
        profile = np.where(t < 0, 0.0, 1.0)
        if rise_h > 0:
            profile = np.where((t >= 0) & (t < rise_h), (t + 1 / 60) / rise_h, profile)
        decay = t - rise_h - hold_h
        with np.errstate(over="ignore"):
            profile = np.where(decay > 0, 0.5 ** (np.maximum(decay, 0) / half_h), profile)
        extra += peak * np.clip(profile, 0.0, 1.0)
        onset_at = START + timedelta(minutes=onset)
        end_h = rise_h + hold_h + half_h * math.log2(10)
        crises.append(
            Crisis(
                shape_name, onset_at, onset_at + timedelta(hours=end_h), round(peak / local + 1, 2)
            )
        )
    rate = rate + extra
    # noise: a gamma-Poisson (negative binomial) draw per minute
    phi = rng.uniform(0.05, 1.0 if stress else 0.5)
    lam = rng.gamma(1.0 / phi, rate * phi)
    per_minute = rng.poisson(lam)
    counts = per_minute.reshape(-1, per_bucket).sum(axis=1)
    n = len(counts)
    present = np.ones(n, dtype=bool)
    if rng.random() < 0.3:  # an outage: no rows at all
        at = int(rng.integers(0, n))
        length = max(1, round(rng.uniform(1, 8) * 60 / per_bucket))
        present[at : at + length] = False
        counts[at : at + length] = 0
        nuisances.append(("outage", START + at * bucket, START + (at + length) * bucket))
    present &= counts > 0  # quiet buckets have no row either: a missing bucket counts as 0
    starts = [START + i * bucket for i in range(n)]
    crises.sort(key=lambda c: c.onset)
    return Series(name, bucket, starts, counts.tolist(), present.tolist(), crises, base, nuisances)


def generate(count: int, seed: int, stress: bool = False) -> list[Series]:
    rng = np.random.default_rng(seed)
    kinds = list(BUCKETS)
    return [generate_series(rng, f"s{i:03d}", kinds[i % 3], stress) for i in range(count)]


def replay(series: Series, config: SpikeConfig) -> list[datetime]:
    """The buckets at which the detector fires, fed only the rows that exist."""
    detector = SpikeDetector(config, series.bucket, series.name)
    fired = []
    for start, value, present in zip(series.starts, series.counts, series.present, strict=True):
        if present and detector.observe(start, value) is not None:
            fired.append(start)
    return fired


@dataclass
class Score:
    windows: int = 0
    caught: int = 0
    delays_min: list[float] = field(default_factory=list)
    false_alerts: int = 0
    weeks: float = 0.0
    by_shape: dict[str, list[int]] = field(default_factory=dict)
    by_bucket: dict[str, list[float]] = field(default_factory=dict)

    def add(self, series: Series, fired: list[datetime]) -> None:
        self.weeks += series.weeks
        inside = [False] * len(fired)
        key = f"{int(series.bucket.total_seconds() // 60)}m"
        caught_here = false_here = 0
        for crisis in series.crises:
            hits = [i for i, at in enumerate(fired) if crisis.onset <= at < crisis.end]
            for i in hits:
                inside[i] = True
            stats = self.by_shape.setdefault(crisis.shape, [0, 0])
            stats[0] += 1
            self.windows += 1
            if hits:
                self.caught += 1
                caught_here += 1
                stats[1] += 1
                self.delays_min.append((fired[hits[0]] - crisis.onset).total_seconds() / 60)
        false_here = inside.count(False)
        self.false_alerts += false_here
        bucket = self.by_bucket.setdefault(key, [0, 0, 0, 0.0])
        bucket[0] += len(series.crises)
        bucket[1] += caught_here
        bucket[2] += false_here
        bucket[3] += series.weeks

    def summary(self) -> dict[str, object]:
        return {
            "windows": self.windows,
            "catch_rate": round(self.caught / self.windows, 3) if self.windows else None,
            "median_delay_min": round(statistics.median(self.delays_min), 1)
            if self.delays_min
            else None,
            "p90_delay_min": round(float(np.percentile(self.delays_min, 90)), 1)
            if self.delays_min
            else None,
            "false_per_series_week": round(self.false_alerts / self.weeks, 3)
            if self.weeks
            else None,
            "catch_by_shape": {
                k: round(v[1] / v[0], 3) for k, v in sorted(self.by_shape.items()) if v[0]
            },
            "by_bucket": {
                k: {
                    "catch_rate": round(v[1] / v[0], 3) if v[0] else None,
                    "false_per_week": round(v[2] / v[3], 3) if v[3] else None,
                }
                for k, v in sorted(self.by_bucket.items())
            },
        }


def evaluate(series_list: list[Series], config: SpikeConfig) -> dict[str, object]:
    score = Score()
    for series in series_list:
        score.add(series, replay(series, config))
    return score.summary()


def write_csv(series: Series, path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["timestamp", "value"])
        for start, value, present in zip(series.starts, series.counts, series.present, strict=True):
            if present:
                writer.writerow([start.strftime("%Y-%m-%dT%H:%M:%SZ"), value])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--series", type=int, default=120)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--sensitivity", default="all", choices=["all", *SENSITIVITIES])
    parser.add_argument("--write-csv", type=Path, default=None, help="write the series here")
    parser.add_argument("--stress", action="store_true", help="burstier, noisier series")
    args = parser.parse_args()
    started = time.perf_counter()
    series_list = generate(args.series, args.seed, args.stress)
    if args.write_csv is not None:
        args.write_csv.mkdir(parents=True, exist_ok=True)
        labels = []
        for series in series_list:
            write_csv(series, args.write_csv / f"{series.name}.csv")
            labels += [
                {
                    "series": series.name,
                    "shape": c.shape,
                    "onset": c.onset.isoformat(),
                    "end": c.end.isoformat(),
                    "magnitude": c.magnitude,
                }
                for c in series.crises
            ]
        (args.write_csv / "labels.json").write_text(json.dumps(labels, indent=1))
    levels = SENSITIVITIES if args.sensitivity == "all" else (args.sensitivity,)
    result: dict[str, object] = {
        "series": len(series_list),
        "series_weeks": round(sum(s.weeks for s in series_list), 1),
        "seed": args.seed,
        "stress": args.stress,
    }
    for level in levels:
        summary = evaluate(series_list, SpikeConfig(sensitivity=level))
        result[level] = summary
        print(f"{level:>6}: {json.dumps(summary)}", file=sys.stderr)
    result["seconds"] = round(time.perf_counter() - started, 1)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
