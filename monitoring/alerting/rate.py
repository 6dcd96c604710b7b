"""Counting events per bucket as they arrive, for the rules that judge a rate of mentions.

:class:`EventRate` cuts a stream of timestamps into buckets (5 minutes by default). A bucket
that has closed teaches a :class:`~.baseline.CountBaseline`; the bucket still filling is judged
at once with :meth:`CountBaseline.peek`, so a rule can fire on the mention that tips it rather
than when its bucket closes. Timestamps must not go back by more than a bucket (a later bucket
closes the earlier ones; an event for a closed bucket counts in the current one).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from .baseline import CountBaseline, WindowStat
from .types import as_utc

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class EventRate:
    def __init__(self, bucket: timedelta, windows: tuple[timedelta, ...]) -> None:
        self.bucket = bucket
        widths = tuple(sorted({max(1, round(w / bucket)) for w in windows}))
        self.baseline = CountBaseline(bucket.total_seconds(), widths)
        self.index: int | None = None  # of the bucket filling, counted from the epoch
        self.count = 0.0

    def _second_of_day(self, index: int) -> float:
        seconds = (index + 0.5) * self.bucket.total_seconds()
        return seconds % 86400.0

    def advance(self, at: datetime) -> None:
        """Close every bucket before the one holding ``at`` (empty ones count as 0)."""
        index = math.floor((as_utc(at) - EPOCH) / self.bucket)
        if self.index is None:
            self.index = index
            return
        # at most two days of empty buckets are replayed; a longer silence starts afresh
        if index - self.index > int(timedelta(days=2) / self.bucket):
            self.index = index - int(timedelta(days=2) / self.bucket)
            self.count = 0.0
        while self.index < index:
            second = self._second_of_day(self.index)
            expected = self.baseline.expect_next(second)
            stats = self.baseline.append(self.count, expected)
            self.baseline.learn(self.count, second, stats)
            self.index += 1
            self.count = 0.0

    def add(self, at: datetime, amount: float = 1.0) -> None:
        self.advance(at)
        self.count += amount

    def stats(self) -> list[WindowStat]:
        """The windows ending with the bucket filling now, its count as it stands."""
        if self.index is None:
            return []
        expected = self.baseline.expect_next(self._second_of_day(self.index))
        return self.baseline.peek(self.count, expected)

    @property
    def history(self) -> timedelta:
        return self.baseline.n * self.bucket
