"""Influential author: a mention with wide reach that is negative or provocative.

Reach is the author's follower count. A mention fires when its author has at least
``min_followers`` (by sensitivity, or the rule's own figure) and the mention is negative
(P(negative) at least ``min_negative``) or provocative. One alert per author per cooldown;
the baseline reported is the geometric mean reach of the authors seen so far.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from .mentions import MentionEvent
from .types import Alert, check_sensitivity, check_severity, iso, score_from_ratio

FOLLOWER_PRESETS = {"low": 500_000, "medium": 100_000, "high": 20_000}
NEGATIVE_PRESETS = {"low": 0.8, "medium": 0.65, "high": 0.5}


@dataclass(frozen=True)
class AuthorConfig:
    sensitivity: str = "medium"
    cooldown: timedelta = timedelta(hours=6)
    severity: str | None = None
    min_followers: int | None = None
    rule: str = "influential-author"

    def __post_init__(self) -> None:
        check_sensitivity(self.sensitivity)
        check_severity(self.severity)
        if self.cooldown <= timedelta(0):
            raise ValueError("cooldown must be a positive duration")
        if self.min_followers is not None and self.min_followers < 0:
            raise ValueError("min_followers must not be negative")

    @property
    def followers_needed(self) -> int:
        if self.min_followers is not None:
            return self.min_followers
        return FOLLOWER_PRESETS[self.sensitivity]


class InfluentialAuthor:
    def __init__(self, config: AuthorConfig) -> None:
        self.config = config
        self.quiet_until: dict[str, datetime] = {}
        self.log_reach = 0.0
        self.seen = 0

    def observe(self, event: MentionEvent) -> Alert | None:
        config = self.config
        reach = max(event.followers, 0)
        usual = math.exp(self.log_reach / self.seen) - 1 if self.seen else 0.0
        self.log_reach += math.log1p(reach)
        self.seen += 1
        needed = config.followers_needed
        negative = event.negative >= NEGATIVE_PRESETS[config.sensitivity]
        if reach < needed or not (negative or event.provocative):
            return None
        key = event.author_key
        now = event.published_at
        if key in self.quiet_until and now < self.quiet_until[key]:
            return None
        until = now + config.cooldown
        self.quiet_until[key] = until
        why = []
        if negative:
            why.append(f"negative (P={event.negative:.2f})")
        if event.provocative:
            why.append(f"provocative ({event.provocation:.2f})")
        score = score_from_ratio(math.log10(max(reach, 1)), math.log10(max(needed, 10)))
        severity = config.severity or ("sev2" if reach >= 10 * needed else "sev3")
        return Alert(
            rule=config.rule,
            at=now,
            window_start=now,
            window_end=now,
            observed=float(reach),
            baseline=round(usual, 1),
            threshold=float(needed),
            score=score,
            severity=severity,
            cooldown_until=until,
            explanation=(
                f"{event.author or 'An author'} ({reach:,} followers; the rule fires from "
                f"{needed:,}, the usual author here has {usual:,.0f}) posted a mention that is "
                f"{' and '.join(why)} at {iso(now)}."
            ),
            dedupe_key=f"{config.rule}:{key}:{iso(now)}",
            subject={"author": {"platform": event.platform, "handle": event.author}},
            mentions=[event.ref],
        )
