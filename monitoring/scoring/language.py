"""Step 2, language: ``id``, ``en`` or ``other`` with a confidence, for a batch of texts.

A character/word model gives P(id) against P(en); rules then decide (docs/scoring.md, "How it
works" 3): mostly non-Latin letters or no letters give ``other``; function words of Spanish,
French, German, Portuguese or Tagalog dominating give ``other``; a post with both Indonesian and
English function words is ``id`` unless more than two thirds of them are English. A valid hint
(``id``/``en``) wins over the model, not over ``other``. For a code-mixed Indonesian post the
share of English function words is kept: the sentiment step blends the English model by it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import NamedTuple

from .linear import LinearModel
from .normalize import Form

_ASCII_LETTER = re.compile("[A-Za-z]")
_OTHER_LANGUAGES = ("es", "fr", "de", "pt", "tl")


class LanguageGuess(NamedTuple):
    code: str  # "id", "en" or "other"
    confidence: float
    english_share: float  # English share of function words in an ``id`` post, else 0.0


class RuleVerdict(NamedTuple):
    code: str
    confidence: float
    id_words: int  # Indonesian-only function words
    en_words: int  # English-only function words


def language_rules(
    text: str, raw: Sequence[Form], p_id: float, stopwords: Mapping[str, frozenset[str]]
) -> RuleVerdict:
    """The rules on top of the model's ``p_id`` (see the module docstring)."""
    letters = 0
    non_latin = 0
    if text.isascii():
        letters = 1 if _ASCII_LETTER.search(text) else 0
    else:
        for c in text:
            if c.isalpha():
                letters += 1
                if ord(c) > 0x24F:
                    non_latin += 1
    if letters == 0:
        return RuleVerdict("other", 0.5, 0, 0)
    if non_latin / letters > 0.5:
        return RuleVerdict("other", round(min(1.0, 0.5 + non_latin / letters / 2), 3), 0, 0)
    ids = stopwords["id"]
    ens = stopwords["en"]
    n_id = n_en = n_other = n_words = 0
    for w, _s, _e, kind in raw:
        if kind != "word":
            continue
        n_words += 1
        in_id = w in ids
        in_en = w in ens
        if in_id and not in_en:
            n_id += 1
        elif in_en and not in_id:
            n_en += 1
        elif not in_id and not in_en:
            for code in _OTHER_LANGUAGES:
                if w in stopwords[code]:
                    n_other += 1
                    break
    if n_other >= 2 and n_other > 1.5 * (n_id + n_en):
        confidence = round(min(0.95, 0.5 + n_other / max(1, n_words)), 3)
        return RuleVerdict("other", confidence, n_id, n_en)
    if n_id and n_en:  # code-mixed: Indonesian unless mostly English
        share_en = n_en / (n_id + n_en)
        if share_en <= 0.66:
            return RuleVerdict("id", round(max(p_id, 1 - share_en), 3), n_id, n_en)
        return RuleVerdict("en", round(max(1 - p_id, share_en), 3), n_id, n_en)
    if p_id >= 0.5:
        return RuleVerdict("id", round(p_id, 3), n_id, n_en)
    return RuleVerdict("en", round(1 - p_id, 3), n_id, n_en)


def detect_languages(
    model: LinearModel,
    stopwords: Mapping[str, frozenset[str]],
    texts: Sequence[str],
    raw: Sequence[Sequence[Form]],
    hints: Sequence[str | None],
) -> list[LanguageGuess]:
    """One :class:`LanguageGuess` per text; ``raw`` are the texts' forms, ``hints`` the inputs'
    ``lang`` (or None)."""
    word_ids = model._word_ids
    lang_ids = [
        [i for f in fs if f[3] == "word" or f[3] == "hashtag" for i in word_ids(f[0])] for fs in raw
    ]
    p_lang = model.predict_ids(lang_ids)
    id_col = model.labels.index("id")
    out: list[LanguageGuess] = []
    for k, text in enumerate(texts):
        code, conf, n_id, n_en = language_rules(text, raw[k], float(p_lang[k, id_col]), stopwords)
        hint = (hints[k] or "").lower()[:2]
        if hint in ("id", "en") and code != "other":
            code, conf = hint, 1.0
        english_share = n_en / (n_id + n_en) if code == "id" and n_en else 0.0
        out.append(LanguageGuess(code, conf, english_share))
    return out
