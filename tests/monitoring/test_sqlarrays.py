"""``monitoring.sqlarrays`` writes the literal element-by-element quoting writes, through its
shortcuts (one join when nothing needs escaping; each distinct timestamp written once)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from monitoring import sqlarrays


def _texts(values: list[str]) -> str:
    return (
        "{"
        + ",".join('"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values)
        + "}"
    )


def _times(values: list[datetime]) -> str:
    return "{" + ",".join('"' + value.isoformat() + '"' for value in values) + "}"


def test_texts_as_quoted_element_by_element() -> None:
    rnd = random.Random(8)
    alphabet = ["a", '"', "\\", ",", "{", "}", " ", "é", "NULL", ""]
    for _ in range(20_000):
        values = [
            "".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 4)))
            for _ in range(rnd.randint(0, 5))
        ]
        assert sqlarrays.texts(values) == _texts(values)
        assert sqlarrays.texts(iter(values)) == _texts(values)


def test_times_as_written_one_by_one() -> None:
    rnd = random.Random(9)
    zones = [
        UTC,
        timezone(timedelta(0)),
        timezone(timedelta(hours=7)),
        timezone(timedelta(hours=5, minutes=45)),
        ZoneInfo("America/New_York"),  # 2026-11-01 01:00-02:00 happens twice (fold)
        ZoneInfo("Asia/Jakarta"),
    ]
    start = datetime(2026, 11, 1, 4, 0, tzinfo=UTC)
    for _ in range(5_000):
        values = []
        for _ in range(rnd.randint(0, 30)):
            moment = start + timedelta(
                minutes=30 * rnd.randint(-4, 4), microseconds=rnd.choice([0, 5])
            )
            moment = moment.astimezone(rnd.choice(zones))
            if rnd.random() < 0.2:
                moment = moment.replace(fold=1 - moment.fold)
            values.append(moment)
        assert sqlarrays.times(values) == _times(values)
        assert sqlarrays.times(iter(values)) == _times(values)
