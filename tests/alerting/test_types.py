from datetime import timedelta

import pytest

from monitoring.alerting.types import SEVERITIES, parse_duration, score_from_ratio
from tenants.choices import Severity


def test_severities_are_the_shared_scale() -> None:
    assert tuple(Severity.values) == SEVERITIES


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("15m", timedelta(minutes=15)),
        ("2h", timedelta(hours=2)),
        ("1d", timedelta(days=1)),
        ("90s", timedelta(seconds=90)),
        ("90", timedelta(seconds=90)),
        ("PT15M", timedelta(minutes=15)),
        ("P1DT2H", timedelta(days=1, hours=2)),
        (300, timedelta(minutes=5)),
    ],
)
def test_durations(text: object, expected: timedelta) -> None:
    assert parse_duration(text) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize("text", ["", "soon", "-5m", "0", "P", "1y", float("nan")])
def test_bad_durations_are_refused(text: object) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)  # type: ignore[arg-type]


def test_score_is_half_at_the_threshold_and_bounded() -> None:
    assert score_from_ratio(10, 10) == 0.5
    assert 0.5 < score_from_ratio(30, 10) < 1.0
    assert score_from_ratio(0, 10) == 0.0
