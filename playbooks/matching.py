"""Similarity of short texts by character n-gram TF-IDF (pure Python, no Django).

``rank(query, documents)`` scores every document against the query by the cosine of their
TF-IDF vectors over character 3- to 5-grams taken inside words (padded with a space, like
scikit-learn's ``char_wb``), the IDF computed over the documents given. Character n-grams match
slang spellings and affixes (``pengembalian``/``dikembalikan``, ``gimana``/``bagaimana`` share
most of their grams) without a dictionary; callers may normalise the texts first
(``normalise``), as incidents does with monitoring's slang tables. Scores are in [0, 1].
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Hashable, Sequence
from typing import TypeVar

K = TypeVar("K", bound=Hashable)
SIZES = (3, 4, 5)
_WORD = re.compile(r"[^\W_]+", re.UNICODE)


def grams(text: str) -> Counter[str]:
    out: Counter[str] = Counter()
    for word in _WORD.findall(text.lower()):
        padded = f" {word} "
        for size in SIZES:
            for start in range(max(1, len(padded) - size + 1)):
                out[padded[start : start + size]] += 1
    return out


def _vector(counts: Counter[str], idf: dict[str, float]) -> dict[str, float]:
    vector = {g: (1 + math.log(n)) * idf.get(g, 0.0) for g, n in counts.items()}
    norm = math.sqrt(sum(v * v for v in vector.values()))
    return {g: v / norm for g, v in vector.items()} if norm else {}


def rank(
    query: str,
    documents: Sequence[tuple[K, str]],
    *,
    limit: int = 3,
    normalise: Callable[[str], str] | None = None,
) -> list[tuple[K, float]]:
    """The ``limit`` documents most similar to ``query``, best first, with their scores
    (documents scoring 0 are left out)."""
    prepare = normalise or (lambda text: text)
    counted = [(key, grams(prepare(text))) for key, text in documents]
    if not counted:
        return []
    frequency: Counter[str] = Counter()
    for _, counts in counted:
        frequency.update(counts.keys())
    total = len(counted)
    idf = {g: math.log((1 + total) / (1 + n)) + 1 for g, n in frequency.items()}
    wanted = _vector(grams(prepare(query)), idf)
    scored = []
    for key, counts in counted:
        vector = _vector(counts, idf)
        score = sum(value * vector.get(g, 0.0) for g, value in wanted.items())
        if score > 0:
            scored.append((key, round(score, 4)))
    scored.sort(key=lambda pair: -pair[1])
    return scored[:limit]
