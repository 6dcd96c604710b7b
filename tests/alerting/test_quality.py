"""Quality of the default rules on generated data (a benchmark run as a test, not a timing):
the spike rule on generated series with injected crises (``benchmarks/alerts_synth.py``) and
hoax spread on generated campaigns (``benchmarks/alerts_hoax.py``'s edits). The full runs and
the figures per sensitivity are in docs/alerts.md."""

from __future__ import annotations

import random
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))

import alerts_hoax  # noqa: E402
import alerts_synth  # noqa: E402

from monitoring.alerting.hoax import HoaxConfig, HoaxSpread  # noqa: E402
from monitoring.alerting.mentions import MentionEvent  # noqa: E402
from monitoring.alerting.spike import SpikeConfig  # noqa: E402


def test_default_spike_rule_meets_the_targets_on_generated_series() -> None:
    series = alerts_synth.generate(15, seed=11)
    summary = alerts_synth.evaluate(series, SpikeConfig())
    assert summary["catch_rate"] >= 0.8, summary
    assert summary["median_delay_min"] <= 15, summary
    assert summary["false_per_series_week"] <= 1.0, summary


def test_replays_cut_short_agree_on_generated_series() -> None:
    for series in alerts_synth.generate(3, seed=5):
        full = alerts_synth.replay(series, SpikeConfig())
        cut = len(series.starts) * 2 // 3
        short = alerts_synth.Series(
            series.name,
            series.bucket,
            series.starts[:cut],
            series.counts[:cut],
            series.present[:cut],
        )
        assert alerts_synth.replay(short, SpikeConfig()) == [
            t for t in full if t < series.starts[cut]
        ]


def test_hoax_clusters_are_precise_and_complete_per_edit_type() -> None:
    rng = random.Random(3)
    background = alerts_hoax.generated_background(rng, 3000)
    slang = alerts_hoax.invert_slang()
    start = datetime(2026, 3, 2, tzinfo=UTC)
    posts = [
        (start + timedelta(hours=72 * rng.random()), f"u{i}", t, -1)
        for i, t in enumerate(background)
    ]
    claims = alerts_hoax.WRITTEN_CLAIMS
    for index, claim in enumerate(claims):
        kind = alerts_hoax.EDITS[index % len(alerts_hoax.EDITS)]
        onset = start + timedelta(hours=6 * index)
        for copy in range(8):
            text = claim if copy == 0 else alerts_hoax.edit(claim, kind, rng, slang)
            posts.append((onset + timedelta(minutes=20 * copy), f"c{index}-{copy}", text, index))
    posts.sort(key=lambda p: p[0])
    rule = HoaxSpread(HoaxConfig())
    campaign = {}
    for number, (at, author, text, label) in enumerate(posts):
        campaign[f"p{number}"] = label
        rule.observe(MentionEvent("x", f"p{number}", at, text, author=author))
    members = right = 0
    for cluster in rule.reported_clusters():
        labels = [campaign[m.external_id] for m in cluster.members]
        best = max(set(labels), key=labels.count)
        members += len(labels)
        right += labels.count(best) if best >= 0 else 0
    assert members and right / members >= 0.9
    assert right / (8 * len(claims)) >= 0.8
