"""Typed inputs and outputs of the scoring engine."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

SCORER_VERSION = "2026.2"  # 2026.2: block-feature sentiment models, bigger provocation lexicon

TRIGGER_LABELS = (
    "negative_news",
    "provocation",
    "hoax",
    "cyber_attack",
    "unexpected_event",
    "negative_perception",
)
SENTIMENT_LABELS = ("negative", "neutral", "positive")
ENTITY_TYPES = ("hashtag", "mention", "url", "domain", "emoji", "term")


@dataclass(frozen=True)
class ScoreInput:
    """One text to score. Only ``text`` is required."""

    text: Any
    lang: str | None = None  # optional hint: "id", "en" or "other"
    platform: str | None = None
    author_followers: int | None = None
    author_verified: bool | None = None
    engagement: Mapping[str, float] | None = None  # likes, shares, comments, views, ...
    id: Any = None


@dataclass(frozen=True)
class TenantExtensions:
    """Tenant-specific additions.

    ``terms``: (text, kind) pairs such as ("Kopi Kenangan", "brand") reported as ``term`` entities.
    ``lexicon``: (label, phrase) or (label, phrase, weight); label is a trigger label or
    ``provocation`` (weight defaults to 0.6 for provocation).
    ``low_credibility_domains``: links to these domains (or their subdomains) raise ``hoax``.
    """

    terms: tuple[tuple[str, str], ...] = ()
    lexicon: tuple[tuple[Any, ...], ...] = ()
    low_credibility_domains: tuple[str, ...] = ()

    def __init__(
        self,
        terms: Any = (),
        lexicon: Any = (),
        low_credibility_domains: Any = (),
    ) -> None:
        object.__setattr__(self, "terms", tuple((str(t), str(k)) for t, k in terms))
        object.__setattr__(self, "lexicon", tuple(tuple(e) for e in lexicon))
        object.__setattr__(
            self,
            "low_credibility_domains",
            tuple(d.lower().strip().lstrip(".") for d in low_credibility_domains if d.strip()),
        )
        for entry in self.lexicon:
            if len(entry) not in (2, 3):
                raise ValueError(f"lexicon entry must be (label, phrase[, weight]): {entry!r}")
            if entry[0] not in TRIGGER_LABELS:
                raise ValueError(f"unknown lexicon label {entry[0]!r}")


@dataclass
class Evidence:
    start: int
    end: int
    text: str
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"start": self.start, "end": self.end, "text": self.text, "reason": self.reason}


@dataclass
class Entity:
    type: str
    text: str
    start: int
    end: int
    kind: str | None = None

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "type": self.type,
            "text": self.text,
            "start": self.start,
            "end": self.end,
        }
        if self.kind is not None:
            d["kind"] = self.kind
        return d


@dataclass
class ScoreResult:
    id: Any = None
    language: str = "other"
    language_confidence: float = 0.0
    sentiment: str = "neutral"
    probabilities: dict[str, float] = field(
        default_factory=lambda: {"negative": 0.0, "neutral": 1.0, "positive": 0.0}
    )
    provocation: float = 0.0
    provocation_evidence: list[Evidence] = field(default_factory=list)
    triggers: dict[str, list[Evidence]] = field(default_factory=dict)
    entities: list[Entity] = field(default_factory=list)
    risk: int = 0
    error: dict[str, str] | None = None
    scorer_version: str = SCORER_VERSION

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def is_provocative(self) -> bool:
        return self.provocation >= 0.5 or "provocation" in self.triggers

    def to_dict(self) -> dict[str, Any]:
        if self.error is not None:
            return {"id": self.id, "error": dict(self.error), "scorer_version": self.scorer_version}
        return {
            "id": self.id,
            "language": {"code": self.language, "confidence": round(self.language_confidence, 3)},
            "sentiment": {
                "label": self.sentiment,
                "probabilities": {k: round(v, 4) for k, v in self.probabilities.items()},
            },
            **self._evidence(),
            "risk": self.risk,
            "scorer_version": self.scorer_version,
        }

    def stored_scores(self) -> dict[str, Any]:
        """What a stored mention keeps in its ``scores`` column: the provocation, triggers and
        entities of ``to_dict``, or the error of a failed result (``monitoring.pipeline``)."""
        if self.error is not None:
            return {"error": dict(self.error)}
        return self._evidence()

    def _evidence(self) -> dict[str, Any]:
        return {
            "provocation": {
                "score": round(self.provocation, 3),
                "evidence": [e.to_dict() for e in self.provocation_evidence],
            },
            "triggers": [
                {"label": label, "evidence": [e.to_dict() for e in ev]}
                for label, ev in self.triggers.items()
            ],
            "entities": [e.to_dict() for e in self.entities],
        }
