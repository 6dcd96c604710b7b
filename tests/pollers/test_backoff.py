"""Back-off between polls."""

from __future__ import annotations

from typing import Any

import pytest

from monitoring.pollers import next_poll_delay
from monitoring.pollers.backoff import DEFAULT_MAX_SECONDS


def test_healthy_source_polls_at_base_interval() -> None:
    assert next_poll_delay(0, 300) == 300


def test_delay_doubles_with_each_failure() -> None:
    assert [next_poll_delay(n, 60) for n in range(5)] == [60, 120, 240, 480, 960]


def test_delay_is_capped_at_six_hours_by_default() -> None:
    assert DEFAULT_MAX_SECONDS == 6 * 3600
    assert next_poll_delay(20, 300) == 6 * 3600
    assert next_poll_delay(10_000, 300) == 6 * 3600  # no overflow
    assert next_poll_delay(3, 60, max_seconds=100) == 100


def test_growth_is_monotonic_until_the_cap() -> None:
    delays = [next_poll_delay(n, 45) for n in range(30)]
    assert delays == sorted(delays)
    assert delays[-1] == DEFAULT_MAX_SECONDS


def test_deterministic_jitter() -> None:
    a = [next_poll_delay(n, 60, jitter=0.5, key="feed-42") for n in range(1, 8)]
    b = [next_poll_delay(n, 60, jitter=0.5, key="feed-42") for n in range(1, 8)]
    c = [next_poll_delay(n, 60, jitter=0.5, key="feed-43") for n in range(1, 8)]
    assert a == b
    assert a != c
    for n, delay in enumerate(a, start=1):
        full = 60 * 2**n
        assert full * 0.5 <= delay <= full


def test_no_jitter_on_success() -> None:
    assert next_poll_delay(0, 300, jitter=0.5, key="x") == 300


def test_random_jitter_stays_in_range() -> None:
    for _ in range(50):
        assert 240 * 0.75 <= next_poll_delay(2, 60, jitter=0.25) <= 240


def test_retry_after_is_honoured_but_capped() -> None:
    assert next_poll_delay(1, 60, retry_after=600) == 600
    assert next_poll_delay(1, 60, retry_after=10) == 120
    assert next_poll_delay(1, 60, max_seconds=300, retry_after=10_000) == 300


@pytest.mark.parametrize(
    "kwargs",
    [
        {"base_seconds": 0},
        {"base_seconds": 60, "max_seconds": 0},
        {"base_seconds": 60, "jitter": 1.0},
        {"base_seconds": 60, "factor": 0.5},
    ],
)
def test_invalid_arguments(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        next_poll_delay(1, **kwargs)
