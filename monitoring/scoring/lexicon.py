"""Phrase lexicons matched on normalised tokens, reporting spans in the original text."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from .normalize import NormToken, Resources, normalise, tokenize

_MATCHABLE = ("word", "hashtag")


@dataclass(frozen=True)
class Phrase:
    tokens: tuple[str, ...]
    label: str  # trigger label, or "provocation"
    reason: str  # provocation category (insult, ...) or "keyword" / "tenant_keyword"
    weight: float


class LexiconMatch(NamedTuple):
    phrase: Phrase
    start: int  # code-point offsets into the original text
    end: int
    negated: bool  # the first token is in a negation's scope


class PhraseIndex:
    """First-token index of multi-word phrases; longest match wins at each position."""

    def __init__(self, phrases: Iterable[Phrase]) -> None:
        self.by_first: dict[str, list[Phrase]] = {}
        for p in phrases:
            if p.tokens:
                self.by_first.setdefault(p.tokens[0], []).append(p)
        for lst in self.by_first.values():
            lst.sort(key=lambda p: -len(p.tokens))

    def match(self, toks: Sequence[NormToken]) -> list[LexiconMatch]:
        """Every match, in token order (longest phrase first at one position)."""
        out: list[LexiconMatch] = []
        by_first = self.by_first
        n = len(toks)
        for i, t in enumerate(toks):
            cands = by_first.get(t.norm)
            if not cands or t.kind not in _MATCHABLE:
                continue
            seen_labels: set[str] = set()
            for p in cands:
                k = len(p.tokens)
                if i + k > n or p.label in seen_labels:
                    continue
                if k > 1 and any(toks[i + j].norm != p.tokens[j] for j in range(1, k)):
                    continue
                seen_labels.add(p.label)
                out.append(LexiconMatch(p, t.start, toks[i + k - 1].end, t.negated))
        return out


def phrase_tokens(phrase: str, res: Resources) -> tuple[str, ...]:
    """Normalise a lexicon phrase the same way as post text (so slang entries still match)."""
    toks = normalise(tokenize(phrase), res, "id")
    return tuple(t.norm for t in toks if t.kind in _MATCHABLE)


def builtin_phrases(res: Resources) -> list[Phrase]:
    out: list[Phrase] = []
    for reason, spec in res.provocation.items():
        default = float(spec["weight"])
        weights: dict[str, float] = {}
        for p in spec["phrases"]:
            if isinstance(p, list):
                weights[p[0]] = float(p[1])
            else:
                weights.setdefault(p, default)
        for text, w in weights.items():
            for toks in {phrase_tokens(text, res), tuple(text.split())}:
                out.append(Phrase(toks, "provocation", reason, w))
    for label, phrases in res.triggers.items():
        for text in phrases:
            for toks in {phrase_tokens(text, res), tuple(text.split())}:
                out.append(Phrase(toks, label, "keyword", 1.0))
    return out


def tenant_phrases(entries: Iterable[tuple], res: Resources) -> list[Phrase]:
    out = []
    for entry in entries:
        label, text = entry[0], entry[1]
        weight = float(entry[2]) if len(entry) > 2 else (0.6 if label == "provocation" else 1.0)
        reason = "tenant_term" if label == "provocation" else "tenant_keyword"
        for toks in {phrase_tokens(text, res), tuple(text.lower().split())}:
            out.append(Phrase(toks, label, reason, weight))
    return out
