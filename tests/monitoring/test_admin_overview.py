"""monitoring.admin_overview: the start page's window and negative share, as documented."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from monitoring.admin_overview import hourly, negative_share, window


def rows(per_period: list[tuple[int, int]]) -> list[dict[str, Any]]:
    """Hourly rows, oldest period first: (negative, classified) in the first hour of each."""
    start = datetime(2026, 11, 13, 9, tzinfo=UTC)
    result = []
    for period, (negative, classified) in enumerate(per_period):
        for hour in range(24):
            first = hour == 0
            result.append(
                {
                    "bucket": start + timedelta(hours=24 * period + hour),
                    "mentions": classified + 2 if first else 0,  # 2 without a sentiment
                    "negative": negative if first else 0,
                    "positive": classified - negative if first else 0,
                    "neutral": 0,
                }
            )
    return result


def test_window_is_the_168_whole_hours_to_the_end_of_the_current_hour_in_the_zone() -> None:
    since, until = window(now=datetime(2026, 11, 20, 8, 20, tzinfo=UTC), time_zone="Asia/Jakarta")
    assert until == datetime(2026, 11, 20, 9, tzinfo=UTC) and until - since == timedelta(days=7)
    # A zone half an hour off UTC: the hours are the zone's.
    since, until = window(now=datetime(2026, 11, 20, 8, 20, tzinfo=UTC), time_zone="Asia/Kolkata")
    assert until == datetime(2026, 11, 20, 8, 30, tzinfo=UTC)


def test_hourly_fills_empty_hours() -> None:
    since = datetime(2026, 11, 20, tzinfo=UTC)
    filled = hourly(
        [
            {
                "bucket": since + timedelta(hours=2),
                "mentions": 5,
                "positive": 0,
                "neutral": 5,
                "negative": 0,
                "reach": 0,
                "engagement": 0,
            }
        ],
        since=since,
        until=since + timedelta(hours=4),
    )
    assert [row["mentions"] for row in filled] == [0, 0, 5, 0]
    assert filled[3]["bucket"] == since + timedelta(hours=3)


def test_negative_share_against_the_median_of_the_earlier_days() -> None:
    # Six earlier days: 10 %, 20 %, none, 30 %, 40 %, 90 % -> median of five: 30 %.
    share = negative_share(rows([(1, 10), (2, 10), (0, 0), (3, 10), (4, 10), (9, 10), (5, 10)]))
    assert share.current == 0.5 and share.negative == 5 and share.classified == 10
    assert share.baseline == 0.3 and share.periods == 5
    assert share.current_percent == 50.0 and share.baseline_percent == 30.0
    assert share.delta_points == 20.0


def test_negative_share_without_data() -> None:
    share = negative_share(rows([(0, 0)] * 7))
    assert share.current is None and share.baseline is None and share.delta_points is None
    only_today = negative_share(rows([(0, 0)] * 6 + [(1, 4)]))
    assert only_today.current == 0.25 and only_today.baseline is None
