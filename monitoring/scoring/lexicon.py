"""Phrase lexicons matched on normalised tokens, reporting spans in the original text.

A post's word matches a phrase word when either its normalised form or, for a word the slang
dictionary rewrote, its form as written (``NormToken.literal``) equals it. Lexicon phrases are never
rewritten word by word into ordinary words: a one-word phrase is matched only as written
(``lemot`` must not become ``lambat``, ``tahi`` not ``kotoran``), and a longer phrase also gets
its slang-normalised variant only when at least one of its words stays as written (``mati aja`` ->
``mati saja``), so the variant is anchored by a word that is not slang.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from .normalize import NormToken, Resources, normalise, tokenize

_MATCHABLE = ("word", "hashtag")
_new = tuple.__new__  # builds a named tuple at C speed


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
        # most tokens start no phrase: find the few that may (by their form or as written) first
        starts = [i for i, t in enumerate(toks) if t[0] in by_first or t[5] in by_first]
        for i in starts:
            t = toks[i]
            kind = t[3]
            if kind != "word" and kind != "hashtag":  # _MATCHABLE
                continue
            cands = by_first.get(t[0])
            literal = t[5]
            if literal:
                more = by_first.get(literal)
                if more:
                    cands = more + cands if cands else more
            if not cands:
                continue
            seen_labels: set[str] = set()
            for p in cands:
                words = p.tokens
                k = len(words)
                if i + k > n or p.label in seen_labels:
                    continue
                if k > 1:
                    for j in range(1, k):
                        other = toks[i + j]
                        if other[0] != words[j] and other[5] != words[j]:
                            break
                    else:
                        seen_labels.add(p.label)
                        out.append(_new(LexiconMatch, (p, t[1], toks[i + k - 1][2], t[4])))
                    continue
                seen_labels.add(p.label)
                out.append(_new(LexiconMatch, (p, t[1], t[2], t[4])))
        return out


def phrase_tokens(phrase: str, res: Resources) -> tuple[str, ...]:
    """Normalise a lexicon phrase the same way as post text (slang mapped)."""
    toks = normalise(tokenize(phrase), res, "id")
    return tuple(t.norm for t in toks if t.kind in _MATCHABLE)


def phrase_variants(phrase: str, res: Resources) -> set[tuple[str, ...]]:
    """The token sequences a lexicon phrase matches: as written (cleaned, no slang mapping) and,
    for a phrase of two or more words of which at least one is not rewritten, slang-normalised."""
    toks = normalise(tokenize(phrase), res, "raw")
    written = tuple(t.norm for t in toks if t.kind in _MATCHABLE)
    if not written:
        return set()
    out = {written}
    if len(written) > 1:
        mapped = normalise(tokenize(phrase), res, "id")
        kept = [t.norm for t in mapped if t.kind in _MATCHABLE and not t.literal]
        if kept:
            out.add(tuple(t.norm for t in mapped if t.kind in _MATCHABLE))
    return out


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
            for toks in phrase_variants(text, res):
                out.append(Phrase(toks, "provocation", reason, w))
    for label, phrases in res.triggers.items():
        for text in phrases:
            for toks in phrase_variants(text, res):
                out.append(Phrase(toks, label, "keyword", 1.0))
    return out


def tenant_phrases(entries: Iterable[tuple], res: Resources) -> list[Phrase]:
    out = []
    for entry in entries:
        label, text = entry[0], entry[1]
        weight = float(entry[2]) if len(entry) > 2 else (0.6 if label == "provocation" else 1.0)
        reason = "tenant_term" if label == "provocation" else "tenant_keyword"
        for toks in phrase_variants(text, res):
            out.append(Phrase(toks, label, reason, weight))
    return out
