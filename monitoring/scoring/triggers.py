"""Step 5, crisis triggers: each trigger label with its evidence spans, for one text.

Phrases of ``data/triggers.json`` and tenant lexicon entries matched on the normalised tokens
(a negated ``negative_perception`` phrase such as ``tidak mahal`` does not count); links to the
tenant's low-credibility domains raise ``hoax``; ``provocation`` is set, with the provocation
evidence, exactly when the provocation score reaches 0.5 (docs/scoring.md, "How it works" 6).
Labels appear in that order: phrase labels in text order, then ``hoax`` from links, then
``provocation``.
"""

from __future__ import annotations

from collections.abc import Sequence

from .entities import url_domain
from .lexicon import LexiconMatch
from .normalize import Token
from .provocation import Provocation
from .schema import Evidence

PROVOCATIVE = 0.5  # the provocation score from which the ``provocation`` trigger is set


def crisis_triggers(
    text: str,
    tokens: Sequence[Token],
    matches: Sequence[LexiconMatch],
    low_credibility_domains: Sequence[str],
    provocation: Provocation,
) -> dict[str, list[Evidence]]:
    triggers: dict[str, list[Evidence]] = {}
    seen: set[tuple[str, int, int]] = set()
    for phrase, s, e, negated in matches:
        if phrase.label == "provocation" or phrase.reason == "safe":
            continue
        key = (phrase.label, s, e)
        if key in seen:
            continue
        seen.add(key)
        if negated and phrase.label == "negative_perception":
            continue  # "tidak mahal", "tidak kecewa"
        triggers.setdefault(phrase.label, []).append(Evidence(s, e, text[s:e], phrase.reason))
    if low_credibility_domains:
        for t in tokens:
            if t.kind != "url":
                continue
            dom = url_domain(t.text)
            if dom and any(dom == d or dom.endswith("." + d) for d in low_credibility_domains):
                triggers.setdefault("hoax", []).append(
                    Evidence(t.start, t.end, t.text, "low_credibility_domain")
                )
    if provocation.score >= PROVOCATIVE:
        triggers["provocation"] = list(provocation.evidence)
    return triggers
