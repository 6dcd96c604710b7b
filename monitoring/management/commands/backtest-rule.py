"""``python manage.py backtest-rule``: replay a rule offline, as if the data arrived live.

A series rule (``--series S.csv``: ``spike``)::

    manage.py backtest-rule --series S.csv --rule spike [--sensitivity low|medium|high] \\
        --output A.jsonl

Mention rules (``--mentions stream.jsonl``, one ingest item per line: ``hoax-spread``,
``owned-account`` with ``--owned accounts.json``, ``influential-author``,
``provocation-burst``, ``negative-surge``, ``trigger-keywords`` with ``--keywords``)::

    manage.py backtest-rule --mentions stream.jsonl --rule hoax-spread --output A.jsonl \\
        [--clusters clusters.jsonl]

Each output line is one alert (docs/alerts.md). Bad input exits with status 2 and a message
naming the line; nothing fired means exit 0 and an empty output file. No database is used.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

from django.core.management.base import CommandError

from tenants.management.base import ScopedCommand

SERIES_RULES = ("spike",)
MENTION_RULES = (
    "hoax-spread",
    "owned-account",
    "influential-author",
    "provocation-burst",
    "negative-surge",
    "trigger-keywords",
)
BAD_INPUT = 2


def _progress(items: Iterable[Any], total: int, unit: str) -> Iterable[Any]:
    """A progress bar on stderr when it is a terminal; the items unchanged otherwise."""
    if not sys.stderr.isatty():
        return items
    from tqdm import tqdm

    return tqdm(items, total=total, unit=unit, file=sys.stderr, leave=False)


class Command(ScopedCommand):
    requires_secret_key = False  # reads and writes files; signs nothing (config/startup.py)
    help = (
        "Replay an alert rule over a CSV series (--series) or a mention stream (--mentions) as "
        "if it arrived live, and write the alerts it would have fired as JSON lines."
    )

    def add_arguments(self, parser: Any) -> None:
        source = parser.add_mutually_exclusive_group(required=True)
        source.add_argument("--series", help="CSV with a header timestamp,value (or count)")
        source.add_argument("--mentions", help="JSON lines, one ingest item per line")
        parser.add_argument(
            "--rule", required=True, choices=sorted(set(SERIES_RULES) | set(MENTION_RULES))
        )
        parser.add_argument("--sensitivity", choices=["low", "medium", "high"], default="medium")
        parser.add_argument("--output", required=True, help="output JSON-lines file, or -")
        parser.add_argument("--window", default=None, help="the rule's window (e.g. 1h, 15m)")
        parser.add_argument("--cooldown", default=None, help="the rule's cooldown (e.g. 2h)")
        parser.add_argument("--severity", choices=["sev1", "sev2", "sev3", "sev4"], default=None)
        parser.add_argument("--owned", help="owned-account: JSON [{platform, handle}, ...]")
        parser.add_argument("--clusters", help="hoax-spread: write every cluster here too")
        parser.add_argument(
            "--keywords", help="trigger-keywords: comma-separated, or @file with one a line"
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        rule = opts["rule"]
        if opts["series"] and rule not in SERIES_RULES:
            raise CommandError(
                f"--rule {rule} replays mentions: use --mentions (series rules: "
                f"{', '.join(SERIES_RULES)})",
                returncode=BAD_INPUT,
            )
        if opts["mentions"] and rule not in MENTION_RULES:
            raise CommandError(
                f"--rule {rule} replays a series: use --series", returncode=BAD_INPUT
            )
        lines = self._series(opts) if opts["series"] else self._mentions(opts)
        _write_lines(opts["output"], lines, self.stdout)

    # --- series -------------------------------------------------------------------------------

    def _series(self, opts: dict[str, Any]) -> list[dict[str, Any]]:
        from monitoring.alerting.rules import spike_config
        from monitoring.alerting.series import (
            SeriesError,
            alert_line,
            infer_bucket,
            read_series,
            replay_series,
        )

        path = opts["series"]
        try:
            config = spike_config(
                rule=opts["rule"],
                sensitivity=opts["sensitivity"],
                window=opts["window"],
                cooldown=opts["cooldown"],
                severity=opts["severity"],
            )
        except ValueError as exc:
            raise CommandError(str(exc), returncode=BAD_INPUT) from None
        try:
            with _open_text(path) as stream:
                rows = read_series(stream)
        except SeriesError as exc:
            raise CommandError(f"{path} {exc}", returncode=BAD_INPUT) from None
        except UnicodeDecodeError as exc:
            raise CommandError(f"{path} is not UTF-8 text: {exc}", returncode=BAD_INPUT) from None
        bucket = infer_bucket(rows)
        alerts = replay_series(
            rows, config, bucket, progress=lambda items: _progress(items, len(rows), "bucket")
        )
        return [alert_line(row, alert) for row, alert in alerts]

    # --- mentions -----------------------------------------------------------------------------

    def _mentions(self, opts: dict[str, Any]) -> list[dict[str, Any]]:
        from monitoring.alerting.stream import StreamError, replay_mentions

        try:
            result = replay_mentions(
                mentions_path=Path(opts["mentions"]),
                rule=opts["rule"],
                sensitivity=opts["sensitivity"],
                window=opts["window"],
                cooldown=opts["cooldown"],
                severity=opts["severity"],
                owned_path=Path(opts["owned"]) if opts["owned"] else None,
                keywords=opts["keywords"],
                progress=_progress,
            )
        except StreamError as exc:
            raise CommandError(str(exc), returncode=BAD_INPUT) from None
        if opts["clusters"]:
            if opts["rule"] != "hoax-spread":
                raise CommandError("--clusters goes with --rule hoax-spread", returncode=BAD_INPUT)
            _write_lines(opts["clusters"], result.clusters, self.stdout)
        return result.alerts


def _open_text(path: str) -> IO[str]:
    try:
        return open(path, encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise CommandError(f"cannot read {path}: {exc.strerror}", returncode=BAD_INPUT) from None


def _write_lines(path: str, lines: list[dict[str, Any]], stdout: Any) -> None:
    """Write the JSON lines at once (an empty file when there are none), atomically."""
    text = "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines)
    if path == "-":
        stdout.write(text, ending="")
        return
    target = Path(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=".backtest-", dir=target.parent or Path("."))
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, target)
    except OSError as exc:
        raise CommandError(f"cannot write {path}: {exc.strerror}", returncode=BAD_INPUT) from None
