"""One mention as the mention-level rules see it: who, when, what, and the scorer's verdicts.

The live pipeline builds a :class:`MentionEvent` from a stored mention; the offline replay
(:mod:`.stream`) from an ingest item scored by :mod:`monitoring.scoring`. The rules never
score or parse anything themselves.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from .types import MentionRef

PROVOCATIVE = 0.5  # the scorer's own line (docs/scoring.md): score >= 0.5 is provocative


@dataclass(frozen=True)
class MentionEvent:
    platform: str
    external_id: str
    published_at: datetime  # aware, UTC
    text: str
    author: str = ""  # handle, as given
    followers: int = 0
    verified: bool = False
    engagement: int = 0
    language: str = ""
    sentiment: str = "neutral"
    negative: float = 0.0  # P(negative)
    provocation: float = 0.0
    triggers: tuple[str, ...] = ()
    domains: tuple[str, ...] = ()  # domains of the links in the text, without www.
    low_credibility: tuple[str, ...] = ()  # those the tenant lists as low-credibility
    queries: tuple[int, ...] = field(default=())

    @property
    def ref(self) -> MentionRef:
        return MentionRef(self.platform, self.external_id, self.author)

    @property
    def author_key(self) -> str:
        """The author as one identity across spellings: platform and lower-cased handle."""
        return f"{self.platform}:{self.author.strip().lstrip('@').lower()}"

    @property
    def provocative(self) -> bool:
        return self.provocation >= PROVOCATIVE or "provocation" in self.triggers

    @property
    def is_negative(self) -> bool:
        return self.sentiment == "negative"
