"""Text normalisation and tokenisation shared by queries and mentions.

Both sides of a match go through the same two steps, so that a query term and
the text it should find always agree:

1. :func:`normalize` folds case (``str.casefold``) and strips accents (Unicode
   NFKD, combining marks dropped), so ``Café`` and ``CAFE`` both become ``cafe``.
2. :func:`tokenize` cuts the normalised text into *positions*. A word is a run
   of letters or digits; anything else (spaces, punctuation, ``_``, ``-``) is a
   word boundary. ``#hashtags`` and ``@handles`` are kept whole as one position
   that also carries the bare words inside them.

Each position holds one or more *forms*:

* a plain word: ``("boikot",)``
* a hashtag: ``("#boikot_produk", "boikot", "produk")``
* a handle: ``("@budi@mastodon.social", "@budi", "budi")``

so the term ``boikot`` finds the word inside ``#boikot_produk``, while the term
``#boikot`` only finds the hashtag ``#boikot`` itself. The first form of a
position is its *primary* form, the most specific one.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left
from dataclasses import dataclass, field

__all__ = [
    "PreparedText",
    "normalize",
    "prepare",
    "tokenize",
]

# A hashtag: '#' not glued to a preceding word, then word characters with at
# least one letter or digit. A handle: '@' not glued to a preceding word or
# '@' (so e-mail addresses are plain words), a local part that may contain
# dots, and for Mastodon-style handles an optional '@domain'.
_TOKEN_RE = re.compile(
    r"(?P<hashtag>(?<!\w)\#\w*[^\W_]\w*)"
    r"|(?P<handle>(?<![\w@])@\w+(?:\.\w+)*(?:@\w[\w-]*(?:\.\w[\w-]*)+)?)"
    r"|(?P<word>[^\W_]+)"
)
_WORD_RE = re.compile(r"[^\W_]+")


def _fold_once(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _fold_fixed(text: str) -> str:
    """:func:`_fold_once` repeated to its fixed point (at most four rounds)."""
    folded = _fold_once(text)
    # Case folding can produce characters that NFKD decomposes again (and the
    # reverse); a couple of rounds reach the fixed point for real text.
    for _ in range(3):
        again = _fold_once(folded)
        if again == folded:
            break
        folded = again
    return folded


FOLD_TABLE_MAX = 65_536  # code points kept (real text uses a few thousand)


class _FoldTable(dict[int, str]):
    """Code point -> its folded text, filled on first sight (``str.translate``'s table).

    Folding works character by character: ``casefold`` maps each code point on its own (no
    context, unlike ``lower``'s final sigma), NFKD decomposes each code point on its own and
    then only reorders combining marks (canonical combining class above 0), which are exactly
    the characters dropped. So folding a text is folding each of its characters and joining
    the results, and so is every further round; a text reaches its fixed point in as many
    rounds as its slowest character (at most four). ``tests/querylang`` checks every code
    point against :func:`_fold_fixed`.
    """

    __slots__ = ()

    def __missing__(self, code: int) -> str:
        folded = _fold_fixed(chr(code))
        if len(self) < FOLD_TABLE_MAX:  # a text of every code point must not grow it further
            self[code] = folded
        return folded


_FOLD = _FoldTable()


def normalize(text: str) -> str:
    """Fold case and strip accents: ``"Café ÉLITE"`` -> ``"cafe elite"``.

    The result is a fixed point: ``normalize(normalize(s)) == normalize(s)``.
    """
    if text.isascii():
        return text.lower()
    return text.translate(_FOLD)


def _forms(kind: str | None, token: str) -> tuple[str, ...]:
    if kind == "word":
        return (token,)
    if kind == "hashtag":
        return (token, *dict.fromkeys(_WORD_RE.findall(token)))
    # handle: the full handle, the handle without its domain, and the words of
    # the local part (not of the domain: "social" in "@x@mastodon.social" is noise)
    local = token.split("@")[1]
    forms = [token]
    if "@" in token[1:]:
        forms.append("@" + local)
    forms.extend(dict.fromkeys(_WORD_RE.findall(local)))
    return tuple(forms)


def tokenize(text: str) -> list[tuple[str, ...]]:
    """Normalise ``text`` and return its positions, each a tuple of forms."""
    return [_forms(m.lastgroup, m.group()) for m in _TOKEN_RE.finditer(normalize(text))]


def tokenize_normalized(text: str) -> list[tuple[str, ...]]:
    """Like :func:`tokenize` for text that is already normalised."""
    return [_forms(m.lastgroup, m.group()) for m in _TOKEN_RE.finditer(text)]


def token_spans(normalized: str) -> list[tuple[int, int, str]]:
    """``(start, end, primary form)`` of each position of normalised text."""
    return [(m.start(), m.end(), m.group()) for m in _TOKEN_RE.finditer(normalized)]


@dataclass(slots=True)
class PreparedText:
    """A mention prepared once for matching against many queries.

    ``slots[i]`` holds the forms at position ``i``; ``positions`` maps every
    form to the sorted positions where it occurs.
    """

    slots: list[tuple[str, ...]]
    positions: dict[str, list[int]]
    _sorted_forms: list[str] | None = field(default=None, repr=False)

    def has(self, form: str) -> bool:
        return form in self.positions

    def has_prefix(self, prefix: str) -> bool:
        """Whether any form starts with ``prefix``."""
        forms = self._sorted_forms
        if forms is None:
            forms = self._sorted_forms = sorted(self.positions)
        i = bisect_left(forms, prefix)
        return i < len(forms) and forms[i].startswith(prefix)

    def prefix_positions(self, prefix: str) -> list[int]:
        """Sorted positions of all forms starting with ``prefix``."""
        found: set[int] = set()
        for form, where in self.positions.items():
            if form.startswith(prefix):
                found.update(where)
        return sorted(found)


def prepare(text: str) -> PreparedText:
    """Normalise and tokenise a mention's text once."""
    normalized = normalize(text)
    positions: dict[str, list[int]] = {}
    if "#" not in normalized and "@" not in normalized:
        # Fast path: only plain words, one form per position.
        words = _WORD_RE.findall(normalized)
        for i, word in enumerate(words):
            where = positions.get(word)
            if where is None:
                positions[word] = [i]
            else:
                where.append(i)
        return PreparedText([(w,) for w in words], positions)
    # findall: one (hashtag, handle, word) tuple per position, exactly one of them non-empty;
    # the positions tokenize_normalized gives, without a match object per position.
    slots = [
        (word,) if word else _forms("hashtag", hashtag) if hashtag else _forms("handle", handle)
        for hashtag, handle, word in _TOKEN_RE.findall(normalized)
    ]
    for i, forms in enumerate(slots):
        for form in forms:
            where = positions.get(form)
            if where is None:
                positions[form] = [i]
            else:
                where.append(i)
    return PreparedText(slots, positions)
