"""Reading a count series from CSV for a replay, and replaying it through a spike rule.

The file has a header naming a ``timestamp`` column and a ``value`` (or ``count``) column
(other columns are ignored); each row is the start of its bucket in ISO 8601 (naive means
UTC) and the bucket's count. Rows must ascend strictly; a bucket without a row counts as 0.
Anything else is a :class:`SeriesError` naming the line (1 is the header).

The bucket size is inferred from the whole file: the greatest common divisor of the gaps
between rows (so missing buckets do not matter), or, if the rows are not on one grid, the
smallest gap.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import reduce
from itertools import pairwise
from typing import Any

from .spike import SpikeConfig, SpikeDetector
from .types import Alert, as_utc, iso

DEFAULT_BUCKET = timedelta(minutes=5)  # only when a file has a single row
VALUE_COLUMNS = ("value", "count")


class SeriesError(ValueError):
    """Bad input, with the line it is on (0: the file as a whole)."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"line {line}: {message}" if line else message)
        self.line = line
        self.message = message


@dataclass(frozen=True)
class Row:
    line: int
    text: str  # the timestamp exactly as the file has it
    start: datetime  # in UTC
    value: float


def parse_timestamp(text: str) -> datetime:
    """ISO 8601 (``2026-03-01T08:00:00Z``, ``+07:00`` offsets, a space instead of ``T``, a
    date alone); naive means UTC. ``ValueError`` otherwise."""
    cleaned = text.strip()
    if not cleaned:
        raise ValueError("empty timestamp")
    if cleaned.endswith(("z", "Z")):
        cleaned = cleaned[:-1] + "+00:00"
    return as_utc(datetime.fromisoformat(cleaned))


def parse_value(text: str) -> float:
    cleaned = text.strip()
    value = float(cleaned)  # ValueError for anything that is not a number
    if not math.isfinite(value):
        raise ValueError("not finite")
    return value


def read_series(stream: Iterable[str]) -> list[Row]:
    """The rows of a CSV series, checked (see the module docstring)."""
    reader = csv.reader(stream)
    try:
        header = next(reader)
    except StopIteration:
        raise SeriesError(1, "the file is empty; expected a header timestamp,value") from None
    except csv.Error as exc:
        raise SeriesError(1, f"not CSV: {exc}") from None
    names = [name.strip().lstrip("\ufeff").strip().lower() for name in header]
    if "timestamp" not in names:
        raise SeriesError(1, "the header must name a 'timestamp' column (timestamp,value)")
    value_name = next((name for name in VALUE_COLUMNS if name in names), None)
    if value_name is None:
        raise SeriesError(1, "the header must name a 'value' (or 'count') column")
    at_index, value_index = names.index("timestamp"), names.index(value_name)
    rows: list[Row] = []
    line = 1
    try:
        for record in reader:
            line = reader.line_num
            if not record or all(not cell.strip() for cell in record):
                continue  # a blank line
            if len(record) <= max(at_index, value_index):
                raise SeriesError(line, f"expected {len(header)} columns, found {len(record)}")
            text = record[at_index].strip()
            try:
                start = parse_timestamp(text)
            except ValueError:
                raise SeriesError(line, f"not an ISO 8601 timestamp: {text!r}") from None
            raw = record[value_index]
            try:
                value = parse_value(raw)
            except ValueError:
                raise SeriesError(line, f"{value_name} is not a number: {raw.strip()!r}") from None
            if value < 0:
                raise SeriesError(line, f"{value_name} must not be negative: {raw.strip()!r}")
            if rows:
                previous = rows[-1]
                if start == previous.start:
                    raise SeriesError(
                        line,
                        f"duplicate timestamp {text!r} (the same bucket as line {previous.line})",
                    )
                if start < previous.start:
                    raise SeriesError(
                        line,
                        f"timestamps must ascend: {text!r} comes before {previous.text!r} "
                        f"on line {previous.line}",
                    )
            rows.append(Row(line, text, start, value))
    except csv.Error as exc:
        raise SeriesError(reader.line_num or line, f"not CSV: {exc}") from None
    return rows


def infer_bucket(rows: list[Row]) -> timedelta:
    """The bucket size of a series (see the module docstring)."""
    gaps = [(b.start - a.start) // timedelta(microseconds=1) for a, b in pairwise(rows)]
    if not gaps:
        return DEFAULT_BUCKET
    common = reduce(math.gcd, gaps)
    smallest = min(gaps)
    if common * 10 < smallest:  # not one grid (jittered times): the smallest gap
        common = smallest
    return timedelta(microseconds=common)


def replay_series(
    rows: list[Row],
    config: SpikeConfig,
    bucket: timedelta | None = None,
    progress: Callable[[Iterable[Row]], Iterable[Row]] | None = None,
) -> Iterator[tuple[Row, Alert]]:
    """Each alert with the row that fired it, as if the rows had arrived live one by one."""
    size = bucket or infer_bucket(rows)
    detector = SpikeDetector(config, size, series="series")
    for row in progress(rows) if progress else rows:
        alert = detector.observe(row.start, row.value)
        if alert is not None:
            yield row, alert


def alert_line(row: Row, alert: Alert) -> dict[str, Any]:
    """One output line of ``backtest-rule --series``."""
    out: dict[str, Any] = {"timestamp": row.text}
    data = alert.to_dict()
    data.pop("at", None)
    out.update(data)
    return out


def read_series_text(text: str) -> list[Row]:
    """:func:`read_series` of a string (tests, the live backtest of stored rollups)."""
    return read_series(io.StringIO(text))


__all__ = [
    "Row",
    "SeriesError",
    "alert_line",
    "infer_bucket",
    "iso",
    "parse_timestamp",
    "read_series",
    "read_series_text",
    "replay_series",
]
