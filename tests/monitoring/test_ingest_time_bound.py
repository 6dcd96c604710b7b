"""The ingest's latest accepted publication time holds on every day of the year."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from monitoring.ingest import _Reject, latest_accepted, parse_time


def test_a_year_ahead_of_29_february_is_a_time() -> None:
    # ``now.replace(year=now.year + 1)`` raised ValueError on 29 February: every ingest failed
    leap_day = datetime(2028, 2, 29, 12, 0, tzinfo=UTC)
    assert latest_accepted(leap_day) == datetime(2029, 3, 1, 12, 0, tzinfo=UTC)


def test_published_at_more_than_a_year_ahead_is_refused_naming_the_field() -> None:
    now = datetime.now(UTC)
    assert parse_time((now + timedelta(days=300)).isoformat()) > now
    with pytest.raises(_Reject) as refused:
        parse_time((now + timedelta(days=400)).isoformat())
    assert refused.value.field == "published_at"
    assert "a year ahead" in refused.value.message
