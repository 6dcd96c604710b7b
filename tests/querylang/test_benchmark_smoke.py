"""The benchmark script runs and ends with its JSON summary line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_benchmark_smoke() -> None:
    out = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "querylang.py"), "--mentions", "300"],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    summary = json.loads(out.strip().splitlines()[-1])
    assert summary["queries"] == 500
    assert summary["mentions"] == 300
    assert summary["mentions_per_s"] > 0
    assert summary["matched_mentions"] > 0
