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
_BEYOND_LATIN = re.compile("[\u0250-\U0010ffff]")  # code points above U+024F
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
    n_id = n_en = n_other = n_words = 0
    for w, _s, _e, kind in raw:
        if kind != "word":
            continue
        n_words += 1
        group = _stopword_group(w, stopwords)
        if group == _ID:
            n_id += 1
        elif group == _EN:
            n_en += 1
        elif group == _OTHER:
            n_other += 1
    return _verdict(text, p_id, n_id, n_en, n_other, n_words)


# A word's function-word group: Indonesian only, English only, another language's, or none (also
# for a word that is both Indonesian and English).
_NONE, _ID, _EN, _OTHER = 0, 1, 2, 3


def _stopword_group(w: str, stopwords: Mapping[str, frozenset[str]]) -> int:
    in_id = w in stopwords["id"]
    in_en = w in stopwords["en"]
    if in_id and not in_en:
        return _ID
    if in_en and not in_id:
        return _EN
    if not in_id and not in_en:
        for code in _OTHER_LANGUAGES:
            if w in stopwords[code]:
                return _OTHER
    return _NONE


def _verdict(
    text: str, p_id: float, n_id: int, n_en: int, n_other: int, n_words: int
) -> RuleVerdict:
    non_latin = 0
    if text.isascii():
        letters = 1 if _ASCII_LETTER.search(text) else 0
    else:  # letters, and letters beyond Latin Extended-B (counted in C, not char by char)
        letters = sum(map(str.isalpha, text))
        beyond = _BEYOND_LATIN.findall(text)
        if beyond:
            non_latin = sum(map(str.isalpha, beyond))
    if letters == 0:
        return RuleVerdict("other", 0.5, 0, 0)
    if non_latin / letters > 0.5:
        return RuleVerdict("other", round(min(1.0, 0.5 + non_latin / letters / 2), 3), 0, 0)
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


class LanguageDetector:
    """The model and the rules in one pass over each text's forms: a word's model feature ids
    and its function-word group are looked up once per distinct word (cached)."""

    def __init__(self, model: LinearModel, stopwords: Mapping[str, frozenset[str]]) -> None:
        self.model = model
        self.stopwords = stopwords
        self.id_col = model.labels.index("id")
        self._words: dict[str, tuple[tuple[int, ...], int]] = {}

    def _word(self, w: str) -> tuple[tuple[int, ...], int]:
        got = (self.model._word_ids(w), _stopword_group(w, self.stopwords))
        if len(self._words) < 500_000:
            self._words[w] = got
        return got

    def detect(
        self, texts: Sequence[str], raw: Sequence[Sequence[Form]], hints: Sequence[str | None]
    ) -> list[LanguageGuess]:
        """One :class:`LanguageGuess` per text; ``raw`` are the texts' forms, ``hints`` the
        inputs' ``lang`` (or None)."""
        words = self._words
        lookup = self._word
        lang_ids: list[list[int]] = []
        counts: list[tuple[int, int, int, int]] = []
        for fs in raw:
            ids: list[int] = []
            ext = ids.extend
            n_id = n_en = n_other = n_words = 0
            for w, _s, _e, kind in fs:
                if kind == "word":
                    entry = words.get(w) or lookup(w)
                    ext(entry[0])
                    n_words += 1
                    group = entry[1]
                    if group:
                        if group == _ID:
                            n_id += 1
                        elif group == _EN:
                            n_en += 1
                        else:
                            n_other += 1
                elif kind == "hashtag":
                    ext((words.get(w) or lookup(w))[0])
            lang_ids.append(ids)
            counts.append((n_id, n_en, n_other, n_words))
        p_id = self.model.predict_ids(lang_ids)[:, self.id_col].tolist()
        out: list[LanguageGuess] = []
        for k, text in enumerate(texts):
            code, conf, n_id, n_en = _verdict(text, p_id[k], *counts[k])
            hint = (hints[k] or "").lower()[:2]
            if hint in ("id", "en") and code != "other":
                code, conf = hint, 1.0
            english_share = n_en / (n_id + n_en) if code == "id" and n_en else 0.0
            out.append(LanguageGuess(code, conf, english_share))
        return out


def detect_languages(
    model: LinearModel,
    stopwords: Mapping[str, frozenset[str]],
    texts: Sequence[str],
    raw: Sequence[Sequence[Form]],
    hints: Sequence[str | None],
) -> list[LanguageGuess]:
    """One :class:`LanguageGuess` per text (a :class:`LanguageDetector` for one call)."""
    return LanguageDetector(model, stopwords).detect(texts, raw, hints)
