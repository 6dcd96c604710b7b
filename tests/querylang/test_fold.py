"""``normalize`` folds a non-ASCII text character by character (a table filled on first
sight); these tests hold it to the whole-text fold it replaced (``_fold_fixed``: casefold, NFKD,
combining marks dropped, repeated to the fixed point) on every code point and on mixes of
letters and combining marks."""

from __future__ import annotations

import random
import unicodedata

from monitoring.querylang.text import _fold_fixed, normalize


def _whole_text(text: str) -> str:
    return text.lower() if text.isascii() else _fold_fixed(text)


def test_every_code_point_folds_as_the_whole_text_fold() -> None:
    every = [chr(code) for code in range(0x110000)]
    assert [c for c in every if normalize(c) != _whole_text(c)] == []
    joined = "".join(every)
    assert normalize(joined) == _whole_text(joined)


def test_mixes_with_combining_marks_fold_as_the_whole_text_fold() -> None:
    rnd = random.Random(20)
    marks = [chr(c) for c in range(0x110000) if unicodedata.combining(chr(c))]
    letters = [chr(c) for c in range(0x3000)] + ["ß", "İ", "ﬃ", "Σ", "ς", "ᾼ", "ǅ", "한"]
    pool = letters + marks * 3
    for _ in range(20_000):
        text = "".join(rnd.choice(pool) for _ in range(rnd.randint(1, 12)))
        assert normalize(text) == _whole_text(text), ascii(text)


def test_known_folds() -> None:
    assert normalize("Café ÉLITE") == "cafe elite"
    assert normalize("STRASSE Straße") == "strasse strasse"
    assert normalize("ΟΔΟΣ") == "οδοσ"  # casefold: no final sigma
    assert normalize("ﬁ ①") == "fi 1"
