"""The detectors are an engine: importable and runnable without Django; the documented presets
are the code's."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from monitoring.alerting.spike import SPIKE_PRESETS

ROOT = Path(__file__).resolve().parents[2]


def test_the_detectors_import_without_django() -> None:
    code = (
        "import sys\n"
        "import monitoring.alerting.rules, monitoring.alerting.series, monitoring.alerting.stream\n"
        "loaded = [m for m in sys.modules if m == 'django' or m.startswith('django.')]\n"
        "assert not loaded, loaded\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr


def test_the_documented_spike_presets_are_the_code() -> None:
    text = (ROOT / "docs" / "alerts.md").read_text(encoding="utf-8")
    rows = re.findall(
        r"^\| (low|medium \(default\)|high) \| ([\d.]+) \| ([\d.]+) \| (\d+) \| (\d+) \|$",
        text,
        re.M,
    )
    documented = {name.split()[0]: tuple(float(x) for x in rest) for name, *rest in rows}
    code = {
        name: (p.z, p.ratio, float(p.min_count), float(p.min_excess))
        for name, p in SPIKE_PRESETS.items()
    }
    assert documented == code
