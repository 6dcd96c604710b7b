"""Trigger keywords: a tenant's list of words or phrases that must never go unseen.

A keyword matches whole words in the text, ignoring case, emoji and punctuation, and inside
hashtags (``#kopibasi`` matches ``kopi basi``). A keyword fires when it has appeared in at least
``min_mentions`` mentions (by sensitivity) from as many distinct authors within the window;
then it is quiet for the cooldown (per keyword).
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from .mentions import MentionEvent
from .types import Alert, as_utc, check_sensitivity, check_severity, iso, score_from_ratio

MIN_MENTIONS = {"low": 5, "medium": 2, "high": 1}
_NON_WORD = re.compile(r"[^\w]+", re.UNICODE)


def _words(text: str) -> str:
    return " " + " ".join(_NON_WORD.sub(" ", text.lower()).split()) + " "


@dataclass(frozen=True)
class KeywordConfig:
    keywords: tuple[str, ...]
    sensitivity: str = "medium"
    window: timedelta = timedelta(hours=1)
    cooldown: timedelta = timedelta(hours=6)
    severity: str | None = None
    rule: str = "trigger-keywords"

    def __post_init__(self) -> None:
        check_sensitivity(self.sensitivity)
        check_severity(self.severity)
        if not any(k.strip() for k in self.keywords):
            raise ValueError("keywords: give at least one keyword")
        for name in ("window", "cooldown"):
            if getattr(self, name) <= timedelta(0):
                raise ValueError(f"{name} must be a positive duration")


class TriggerKeywords:
    def __init__(self, config: KeywordConfig) -> None:
        self.config = config
        self.needles = {k.strip(): _words(k) for k in config.keywords if _words(k).strip()}
        # each keyword's two spellings among the words of a text: as written, and as one hashtag
        self.forms = {
            keyword: (needle, " " + needle.replace(" ", "") + " ")
            for keyword, needle in self.needles.items()
        }
        # any spelling of any keyword, in one scan of the text (most texts have none)
        self.any = re.compile(
            "|".join(re.escape(form) for forms in self.forms.values() for form in forms)
        )
        self.hits: dict[str, deque[MentionEvent]] = {k: deque() for k in self.needles}
        self.quiet_until: dict[str, datetime] = {}

    def to_dict(self) -> dict[str, Any]:
        """The hits inside the window and the cooldowns, as JSON (the live layer's state)."""
        return {
            "hits": {
                keyword: [[iso(m.published_at), m.platform, m.external_id, m.author] for m in hits]
                for keyword, hits in self.hits.items()
                if hits
            },
            "quiet_until": {k: iso(v) for k, v in self.quiet_until.items()},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], config: KeywordConfig) -> TriggerKeywords:
        self = cls(config)
        for keyword, hits in (data.get("hits") or {}).items():
            if keyword not in self.hits:
                continue  # a keyword taken off the list
            self.hits[keyword].extend(
                MentionEvent(
                    platform=platform,
                    external_id=external_id,
                    published_at=as_utc(datetime.fromisoformat(at)),
                    text="",
                    author=author,
                )
                for at, platform, external_id, author in hits
            )
        self.quiet_until = {
            k: as_utc(datetime.fromisoformat(v))
            for k, v in (data.get("quiet_until") or {}).items()
            if k in self.hits
        }
        return self

    def observe(self, event: MentionEvent) -> Alert | None:
        text = _words(event.text)
        now = event.published_at
        cutoff = now - self.config.window
        matched = self.any.search(text) is not None  # most texts hold no keyword at all
        for keyword, (needle, joined) in self.forms.items():
            hits = self.hits[keyword]
            while hits and hits[0].published_at < cutoff:
                hits.popleft()
            if not matched or (needle not in text and joined not in text):
                continue
            hits.append(event)
            alert = self._judge(keyword, hits, now)
            if alert is not None:
                return alert
        return None

    def _judge(self, keyword: str, hits: deque[MentionEvent], now: datetime) -> Alert | None:
        config = self.config
        needed = MIN_MENTIONS[config.sensitivity]
        authors = {m.author_key for m in hits}
        if len(hits) < needed or len(authors) < needed:
            return None
        if keyword in self.quiet_until and now < self.quiet_until[keyword]:
            return None
        until = now + config.cooldown
        self.quiet_until[keyword] = until
        count = len(hits)
        score = score_from_ratio(count, needed)
        return Alert(
            rule=config.rule,
            at=now,
            window_start=hits[0].published_at,
            window_end=now,
            observed=float(count),
            baseline=0.0,
            threshold=float(needed),
            score=score,
            severity=config.severity or "sev3",
            cooldown_until=until,
            explanation=(
                f"The trigger keyword '{keyword}' appeared in {count} mentions from "
                f"{len(authors)} authors since {iso(hits[0].published_at)}; the "
                f"{config.sensitivity} sensitivity fires at {needed}."
            ),
            dedupe_key=f"{config.rule}:{keyword}:{iso(now)}",
            subject={"keyword": keyword},
            mentions=[m.ref for m in hits],
        )
