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
        # Hits leave the window lazily, with the same result as dropping every keyword's old
        # hits at each mention: a keyword's hits are cut when it matches and in ``to_dict``, at
        # the latest cut-off (a mention's time less the window) that applied to it
        # (``_drop_old``). ``passed``: the latest of the mentions that reached every keyword;
        # ``reached``: a firing mention's, for the keywords up to the one that fired (the others
        # never saw it). A mention older than a cut-off kept here applies them all first
        # (``_settle``), so none drops a hit that came after it.
        self.passed: datetime | None = None
        self.reached: dict[str, datetime] = {}
        self.latest: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        """The hits inside the window and the cooldowns, as JSON (the live layer's state)."""
        self._settle()
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
        if self.latest is not None and now < self.latest:
            self._settle()
        if self.any.search(text) is not None:
            for keyword, (needle, joined) in self.forms.items():
                if needle not in text and joined not in text:
                    continue
                hits = self.hits[keyword]
                self._drop_old(keyword, hits, cutoff)
                hits.append(event)
                alert = self._judge(keyword, hits, now)
                if alert is not None:
                    for reached in self.forms:
                        if reached not in self.reached or self.reached[reached] < cutoff:
                            self.reached[reached] = cutoff
                        if reached == keyword:
                            break
                    self._cut(cutoff)
                    return alert
        if self.passed is None or self.passed < cutoff:
            self.passed = cutoff
        self._cut(cutoff)
        return None

    def _cut(self, cutoff: datetime) -> None:
        if self.latest is None or self.latest < cutoff:
            self.latest = cutoff

    def _settle(self) -> None:
        """Apply every cut-off kept so far to the hits (see ``__init__``)."""
        for keyword, hits in self.hits.items():
            self._drop_old(keyword, hits, None)
        self.passed, self.reached, self.latest = None, {}, None

    def _drop_old(self, keyword: str, hits: deque[MentionEvent], cutoff: datetime | None) -> None:
        """Drop the hits before the latest cut-off that applies to ``keyword`` (``cutoff``: the
        mention being judged)."""
        latest = max(
            (c for c in (cutoff, self.passed, self.reached.get(keyword)) if c is not None),
            default=None,
        )
        if latest is None:
            return
        while hits and hits[0].published_at < latest:
            hits.popleft()

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
