"""Step 4, provocation: a 0-1 score with evidence spans, for one text.

Score = noisy-OR of the matched phrase weights ``1 - prod(1 - w)`` (a repeated phrase counts once,
its evidence is still reported; negated incitement such as ``jangan boikot`` and phrases inside a
``safe`` phrase are ignored; some emoji add weight). When an insult, profanity or slur is present,
the remaining mass is multiplied by 0.75 if the post addresses someone, by 0.8 if it names a
group (reported as ``targets_group`` evidence on the token that names it), by 0.9 if shouted;
finally by ``1 - 0.15 * P(negative)`` (docs/scoring.md, "How it works" 5).

Negative-context rule: inside a clearly negative post (P(negative) >= ``NEGATIVE_CONTEXT``) a weak
hit (weight in [``WEAK_MIN``, ``CONTEXT_WEIGHT``)) of an abusive, dehumanising or threatening phrase
counts with weight ``CONTEXT_WEIGHT``, enough to flag the post on its own; incitement words are
left out (``lawan``, ``tangkap``, ``turunkan`` are common in ordinary complaints).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import NamedTuple

from .lexicon import LexiconMatch
from .normalize import NormToken, Token
from .schema import Evidence

SECOND_PERSON = frozenset(
    {
        "kamu",
        "kau",
        "engkau",
        "kalian",
        "anda",
        "lo",
        "lu",
        "elu",
        "you",
        "your",
        "dia",
        "mereka",
        "lho",
    }
)
GROUP_TARGETS = frozenset(
    {
        "cina",
        "china",
        "tionghoa",
        "arab",
        "yahudi",
        "kristen",
        "katolik",
        "islam",
        "muslim",
        "hindu",
        "buddha",
        "jawa",
        "batak",
        "madura",
        "papua",
        "ambon",
        "pribumi",
        "keturunan",
        "syiah",
        "ahmadiyah",
        "lgbt",
        "homo",
        "gay",
        "perempuan",
        "wanita",
        "cewek",
        "jews",
        "jewish",
        "muslims",
        "blacks",
        "immigrants",
        "women",
        "christians",
        "chinese",
        "asians",
        "mexicans",
        "gays",
    }
)
ABUSIVE_REASONS = frozenset({"insult", "profanity", "slur", "dehumanisation"})
CONTEXT_REASONS = ABUSIVE_REASONS | {"threat"}
NEGATIVE_CONTEXT = 0.7  # P(negative) from which a post counts as clearly negative
WEAK_MIN = 0.3  # weaker hits (anjay, hell, ...) never count on context alone
CONTEXT_WEIGHT = 0.55


class Provocation(NamedTuple):
    score: float  # 0-1, rounded to 4 places
    evidence: list[Evidence]  # sorted by (start, end)


class _Weighted(NamedTuple):
    evidence: Evidence
    weight: float


def score_provocation(
    text: str,
    tokens: Sequence[Token],
    toks: Sequence[NormToken],
    matches: Sequence[LexiconMatch],
    emoji_weights: Mapping[str, float],
    p_negative: float,
) -> Provocation:
    """``tokens`` are the text's tokens, ``toks`` its normalised tokens and ``matches`` the
    lexicon matches on them (shared with the trigger step)."""
    found = _phrase_evidence(text, matches)
    if p_negative >= NEGATIVE_CONTEXT:
        found = [
            _Weighted(ev, CONTEXT_WEIGHT)
            if ev.reason in CONTEXT_REASONS and WEAK_MIN <= w < CONTEXT_WEIGHT
            else _Weighted(ev, w)
            for ev, w in found
        ]
    for t in tokens:
        if t.kind == "emoji":
            emoji_weight = emoji_weights.get(t.text)
            if emoji_weight:
                found.append(_Weighted(Evidence(t.start, t.end, t.text, "emoji"), emoji_weight))
    score = 0.0
    if found:
        keep = 1.0
        for _, w in found:
            keep *= 1.0 - w
        if any(ev.reason in ABUSIVE_REASONS for ev, _ in found):
            keep = _damp_abusive(keep, text, toks, found)
        keep *= 1.0 - 0.15 * p_negative
        score = 1.0 - keep
    return Provocation(
        float(round(min(1.0, score), 4)),
        sorted((ev for ev, _ in found), key=lambda e: (e.start, e.end)),
    )


def _phrase_evidence(text: str, matches: Sequence[LexiconMatch]) -> list[_Weighted]:
    """Evidence and weight of each provocation phrase match, in match order."""
    found: list[_Weighted] = []
    seen: set[tuple[int, int]] = set()
    safe = [(m.start, m.end) for m in matches if m.phrase.reason == "safe"]
    weights: dict[tuple[str, ...], float] = {}
    for phrase, s, e, negated in matches:
        if phrase.label != "provocation" or phrase.reason == "safe":
            continue
        if safe and any(a <= s and e <= b for a, b in safe):
            continue
        if (s, e) in seen:
            continue
        seen.add((s, e))
        if negated and phrase.reason == "incitement":
            continue  # "jangan boikot"
        # a repeated phrase counts once (its evidence is still reported)
        w = 0.0 if phrase.tokens in weights else phrase.weight
        weights[phrase.tokens] = phrase.weight
        found.append(_Weighted(Evidence(s, e, text[s:e], phrase.reason), w))
    return found


def _damp_abusive(
    keep: float, text: str, toks: Sequence[NormToken], found: list[_Weighted]
) -> float:
    """The remaining mass ``keep`` of an abusive post after its address, group and shouting
    factors; appends ``targets_group`` evidence (weight 0) on the first token naming a group."""
    for nt in toks:
        if nt.norm in SECOND_PERSON:
            keep *= 0.75
            break
    for nt in toks:
        if nt.norm in GROUP_TARGETS:
            keep *= 0.8
            found.append(
                _Weighted(Evidence(nt.start, nt.end, text[nt.start : nt.end], "targets_group"), 0.0)
            )
            break
    letters = [c for c in text if c.isalpha()]
    if len(letters) >= 10 and sum(c.isupper() for c in letters) / len(letters) > 0.6:
        keep *= 0.9
    return keep
