"""The faster scorer (issue 20, item 4) gives exactly the previous scorer's outputs.

Both versions score the fixed sample of ``benchmarks/scoring_sample.py`` (1,500 of the
benchmark's mixed posts with hints, authors and engagement, the hand-written hateful posts and
edge cases, without and with tenant extensions) in child processes; every field of every result
must be equal, floats bit for bit. The previous version is this repository's commit ``BASELINE``
(the last one before the rewrite), extracted with ``git archive``.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BASELINE = "12d1efd284b18122fc3e5c5f4bd4870d69511635"  # the scorer before issue 20 item 4
SAMPLE = ROOT / "benchmarks" / "scoring_sample.py"


def outputs(root: Path) -> list[dict]:
    out = subprocess.run(
        [sys.executable, str(SAMPLE), str(root)], check=True, capture_output=True, text=True
    ).stdout
    return [json.loads(line) for line in out.splitlines()]


def baseline(into: Path) -> Path:
    try:
        data = subprocess.run(
            ["git", "-C", str(ROOT), "archive", BASELINE, "monitoring/__init__.py",
             "monitoring/scoring"],
            check=True, capture_output=True,
        ).stdout  # fmt: skip
    except (OSError, subprocess.CalledProcessError) as exc:
        pytest.skip(f"the baseline commit is not in this clone ({exc}); fetch the full history")
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        tar.extractall(into, filter="data")
    return into


def test_outputs_identical_to_the_previous_scorer(tmp_path):
    old = outputs(baseline(tmp_path / "old"))
    new = outputs(ROOT)
    assert len(old) == len(new) > 3000
    assert sum(1 for r in old if r["error"]) >= 6  # the unusable inputs are in the sample
    assert sum(1 for r in old if any(e["type"] == "term" for e in r["entities"])) > 100
    assert sum(1 for r in old if r["provocation"] >= 0.5) > 50
    different = [(a, b) for a, b in zip(old, new, strict=True) if a != b]
    assert not different, f"{len(different)} results differ; first: {different[0]}"
