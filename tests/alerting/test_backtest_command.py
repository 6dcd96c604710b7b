"""``manage.py backtest-rule``: input checks (exit 2 naming the line), bucket sizes, empty output,
determinism and replays cut short. No database is used."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from monitoring.alerting.series import infer_bucket, read_series_text
from tests.alerting.helpers import flat_series, to_csv, with_step

ROOT = Path(__file__).resolve().parents[2]


def backtest(tmp_path: Path, csv_text: str, *extra: str) -> list[dict]:
    src = tmp_path / "s.csv"
    out = tmp_path / "a.jsonl"
    src.write_text(csv_text, encoding="utf-8")
    call_command(
        "backtest-rule", "--series", str(src), "--rule", "spike", "--output", str(out), *extra
    )
    return [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]


def refused(tmp_path: Path, csv_text: str) -> str:
    with pytest.raises(CommandError) as info:
        backtest(tmp_path, csv_text)
    assert info.value.returncode == 2
    return str(info.value)


SPIKY = to_csv(with_step(flat_series(20, hours=48), 40 * 12, 24, 120))


def test_alert_lines_have_the_documented_fields(tmp_path: Path) -> None:
    lines = backtest(tmp_path, SPIKY)
    assert len(lines) == 1
    line = lines[0]
    assert {
        "timestamp",
        "rule",
        "observed",
        "baseline",
        "threshold",
        "window",
        "explanation",
    } <= set(line)
    assert line["rule"] == "spike"
    assert set(line["window"]) == {"start", "end"}
    assert 0 <= line["score"] <= 1
    assert line["severity"] in {"sev1", "sev2", "sev3", "sev4"}
    assert line["cooldown_until"] > line["window"]["end"]
    assert line["timestamp"] in {row.split(",")[0] for row in SPIKY.splitlines()}


def test_the_timestamp_is_the_input_text_verbatim(tmp_path: Path) -> None:
    series = with_step(flat_series(20, hours=48), 40 * 12, 24, 120)
    rows = ["timestamp,count"] + [
        f"{(t + timedelta(hours=7)).strftime('%Y-%m-%d %H:%M:%S')}+07:00,{v}" for t, v in series
    ]
    lines = backtest(tmp_path, "\n".join(rows) + "\n")
    assert len(lines) == 1
    assert lines[0]["timestamp"].endswith("+07:00") and " " in lines[0]["timestamp"]
    assert lines[0]["timestamp"] in {row.split(",")[0] for row in rows}


def test_naive_timestamps_are_utc(tmp_path: Path) -> None:
    naive = SPIKY.replace("Z,", ",")
    a, b = backtest(tmp_path, naive), backtest(tmp_path, SPIKY)
    assert [x["window"] for x in a] == [x["window"] for x in b]


@pytest.mark.parametrize(
    ("bucket", "hours"),
    [(timedelta(minutes=1), 30), (timedelta(minutes=5), 48), (timedelta(hours=1), 24 * 10)],
)
def test_bucket_size_is_inferred(tmp_path: Path, bucket: timedelta, hours: int) -> None:
    per_hour = 60.0 if bucket == timedelta(hours=1) else 2.0 * bucket / timedelta(minutes=1)
    series = flat_series(per_hour, hours=hours, bucket=bucket, seed=4)
    onset = len(series) - int(timedelta(hours=4) / bucket)
    spiky = with_step(
        series, onset, max(1, int(timedelta(hours=1) / bucket)), int(per_hour * 6) + 20
    )
    sparse = [row for i, row in enumerate(spiky) if i % 7 != 3]  # some buckets missing
    text = to_csv(sparse)
    assert infer_bucket(read_series_text(text)) == bucket
    lines = backtest(tmp_path, text)
    assert len(lines) == 1
    window = lines[0]["window"]
    assert lines[0]["timestamp"] >= spiky[onset][0].strftime("%Y-%m-%dT%H:%M:%SZ")
    start, end = (
        __import__("datetime").datetime.fromisoformat(window[k].replace("Z", "+00:00"))
        for k in ("start", "end")
    )
    assert (end - start) % bucket == timedelta(0)


def test_nothing_fires_exit_0_and_an_empty_file(tmp_path: Path) -> None:
    assert backtest(tmp_path, to_csv(flat_series(20, hours=48))) == []
    assert (tmp_path / "a.jsonl").read_text() == ""
    assert backtest(tmp_path, "timestamp,value\n") == []  # a header alone


def test_unsorted_rows_exit_2_naming_the_line(tmp_path: Path) -> None:
    text = (
        "timestamp,value\n2026-03-02T00:00:00Z,1\n2026-03-02T00:10:00Z,2\n2026-03-02T00:05:00Z,3\n"
    )
    message = refused(tmp_path, text)
    assert "line 4" in message and "ascend" in message
    assert not (tmp_path / "a.jsonl").exists()


def test_duplicate_rows_exit_2_naming_the_line(tmp_path: Path) -> None:
    text = (
        "timestamp,value\n2026-03-02T00:00:00Z,1\n2026-03-02T00:05:00Z,2\n2026-03-02T00:05:00Z,3\n"
    )
    message = refused(tmp_path, text)
    assert "line 4" in message and "duplicate" in message and "line 3" in message


@pytest.mark.parametrize("value", ["abc", "", "nan", "1e999", "-3"])
def test_a_non_number_exits_2_naming_the_line(tmp_path: Path, value: str) -> None:
    text = f"timestamp,value\n2026-03-02T00:00:00Z,1\n2026-03-02T00:05:00Z,{value}\n"
    message = refused(tmp_path, text)
    assert "line 3" in message


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("time,value\n2026-03-02T00:00:00Z,1\n", "line 1"),
        ("timestamp,amount\n2026-03-02T00:00:00Z,1\n", "line 1"),
        ("", "line 1"),
        ("timestamp,value\n2026-03-02T00:00:00Z,1\nyesterday,2\n", "line 3"),
        ("timestamp,value\n2026-03-02T00:00:00Z,1\n2026-03-02T00:05:00Z\n", "line 3"),
    ],
)
def test_bad_files_exit_2_naming_the_line(tmp_path: Path, text: str, where: str) -> None:
    assert where in refused(tmp_path, text)


def test_deterministic(tmp_path: Path) -> None:
    text = to_csv(with_step(flat_series(8, hours=72, seed=9), 50 * 12, 12, 60))
    first = backtest(tmp_path, text)
    second = backtest(tmp_path, text)
    assert first and first == second


def test_a_replay_cut_short_gives_the_same_alerts_up_to_the_cut(tmp_path: Path) -> None:
    series = flat_series(15, hours=96, seed=3)
    for hour in (30, 55, 80):
        series = with_step(series, hour * 12, 18, 70)
    full = backtest(tmp_path, to_csv(series))
    assert len(full) == 3
    for cut in (30 * 12 + 1, 55 * 12 + 5, 70 * 12, len(series) - 1):
        rows = series[:cut]
        last = rows[-1][0].strftime("%Y-%m-%dT%H:%M:%SZ")
        expected = [line for line in full if line["timestamp"] <= last]
        assert backtest(tmp_path, to_csv(rows)) == expected


def test_sensitivity_and_durations_are_passed_on(tmp_path: Path) -> None:
    low = backtest(tmp_path, SPIKY, "--sensitivity", "low")
    assert all("low sensitivity" in line["explanation"] for line in low)
    longer = backtest(tmp_path, SPIKY, "--cooldown", "6h", "--severity", "sev2")
    assert longer[0]["severity"] == "sev2"
    with pytest.raises(CommandError) as info:
        backtest(tmp_path, SPIKY, "--window", "0m")
    assert info.value.returncode == 2 and "--window" in str(info.value)


def test_the_real_command_line_exits_2_with_the_line_on_stderr(tmp_path: Path) -> None:
    src = tmp_path / "s.csv"
    src.write_text("timestamp,value\n2026-03-02T00:05:00Z,1\n2026-03-02T00:00:00Z,2\n")
    dropped = {"SECRET_KEY", "DEBUG", "DJANGO_SETTINGS_MODULE"}  # DEBUG off, no key: not needed
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    done = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "backtest-rule",
            "--series",
            str(src),
            "--rule",
            "spike",
            "--output",
            str(tmp_path / "a.jsonl"),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    assert "line 3" in done.stderr
    assert done.stdout == ""


def test_a_progress_bar_only_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib

    command = importlib.import_module("monitoring.management.commands.backtest-rule")
    items = [1, 2, 3]
    monkeypatch.setattr(sys.stderr, "isatty", lambda: False, raising=False)
    assert command._progress(items, 3, "row") is items
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    bar = command._progress(items, 3, "row")
    assert type(bar).__name__ == "tqdm" and list(bar) == items
