"""Words of an outgoing text, normalised the way monitoring reads mentions, with negation.

``words(text)`` gives every word with its offsets in the original text, its normalised form
(slang mapped through monitoring's tables: ``gak`` -> ``tidak``, ``udh`` -> ``sudah``), a set of
stems (a light Indonesian/English affix stripper, so ``dinonaktifkan`` and ``nonaktif`` meet) and
whether a negator governs it. Negation is scoped like monitoring's (the next content words, up to
punctuation or a conjunction), with two additions for replies: a clause that calls something
``hoaks``/``tidak benar``/``not true`` negates what it reports, and English ``n't`` negates.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from monitoring.scoring.normalize import Resources, forms, tokenize

NEGATORS = frozenset(
    {"tidak", "tak", "bukan", "belum", "jangan", "tanpa", "not", "no", "never", "nothing"}
)
# Words inside a negation scope that do not use it up ("tidak ada kebocoran", "gak perlu").
SCOPE_SKIP = frozenset(
    {
        "ada",
        "akan",
        "bisa",
        "dapat",
        "perlu",
        "pernah",
        "lagi",
        "yang",
        "yg",
        "pun",
        "sih",
        "juga",
        "mau",
        "boleh",
        "usah",
        "sama",
        "sekali",
        "begitu",
        "terlalu",
        "be",
        "been",
        "was",
        "were",
        "is",
        "are",
        "any",
        "a",
        "an",
        "the",
        "do",
        "does",
        "did",
        "have",
        "has",
        "had",
        "will",
        "can",
        "could",
        "should",
        "would",
        "ever",
        "kak",
        "kakak",
        "ya",
        "kok",
        "kami",
        "kita",
        "saya",
        "aku",
        "we",
        "i",
        "they",
        "mereka",
    }
)
SCOPE_STOP = frozenset({"dan", "tetapi", "tapi", "namun", "serta", "and", "but", "karena", "krn"})
# Calling a report false negates what the clause reports ("info harga naik itu hoaks").
DEBUNK = (("hoaks",), ("hoax",), ("tidak", "benar"), ("bohong",), ("not", "true"), ("fake",))
SCOPE_LENGTH = 1
# A negator of a noun ("no customer data was lost", "tanpa data yang hilang") governs the
# predicate after the copula or auxiliary that follows in its clause, when there is one.
NOMINAL_NEGATORS = frozenset({"no", "nothing", "tanpa"})
COPULAS = frozenset({"was", "were", "is", "are", "been", "got", "yang"})

# Spellings common in replies that monitoring's tables do not map (or map elsewhere).
EXTRA_SLANG = {
    "udh": "sudah",
    "sdh": "sudah",
    "tsb": "tersebut",
    "bakal": "akan",
    "bakalan": "akan",
    "dapet": "dapat",
    "tuker": "tukar",
    "dituker": "ditukar",
    "nuker": "menukar",
    "dinonaktifin": "dinonaktifkan",
    "emang": "memang",
    "ngga": "tidak",
    "nggak": "tidak",
    "gk": "tidak",
    "ga": "tidak",
    "gak": "tidak",
    "enggak": "tidak",
    "engga": "tidak",
    "tak": "tidak",
    "benerin": "memperbaiki",
    "sampe": "sampai",
    "hekker": "hacker",
    "heker": "hacker",
    "hekel": "hacker",
    "diem": "diam",
    "telat": "lambat",
    "dikembaliin": "dikembalikan",
    "balikin": "kembalikan",
    "dibalikin": "dikembalikan",
    "gratisan": "gratis",
    "gausah": "tidak usah",
    "ngerti": "mengerti",
    "dipecat": "dipecat",
    "dinonaktifkan": "dinonaktifkan",
}
STOPWORDS = frozenset(
    {
        "kak",
        "kakak",
        "ya",
        "kok",
        "sih",
        "deh",
        "dong",
        "nih",
        "lah",
        "yang",
        "dan",
        "di",
        "ke",
        "dari",
        "untuk",
        "buat",
        "itu",
        "ini",
        "kami",
        "kita",
        "kamu",
        "anda",
        "yg",
        "the",
        "a",
        "an",
        "of",
        "to",
        "in",
        "on",
        "for",
        "and",
        "is",
        "was",
        "our",
        "your",
        "we",
        "you",
        "it",
        "be",
        "are",
        "were",
        "with",
        "that",
        "this",
        "adalah",
        "akan",
        "dengan",
        "pada",
        "sudah",
        "sedang",
        "lagi",
        "juga",
        "atau",
        "tersebut",
        "ada",
        "para",
        "will",
        "has",
        "have",
        "been",
        "by",
        "at",
        "as",
        "sekitar",
        "about",
        "per",
        "oleh",
        "hai",
        "halo",
        "hi",
        "mohon",
        "maaf",
        "sorry",
        "terima",
        "kasih",
        "makasih",
        "tim",
    }
)


@dataclass(frozen=True)
class Word:
    norm: str
    start: int
    end: int
    negated: bool
    negator: str = ""  # the negator that governs it ("" when none)
    clause: int = 0  # index of the clause (split at punctuation)

    @property
    def stems(self) -> frozenset[str]:
        return stems(self.norm)

    @property
    def content(self) -> bool:
        return (
            self.norm not in STOPWORDS
            and self.norm not in NEGATORS
            and any(ch.isalpha() for ch in self.norm)
        )


@lru_cache(maxsize=1)
def resources() -> Resources:
    return Resources()


@lru_cache(maxsize=4096)
def _slang(form: str) -> tuple[str, ...]:
    if form in EXTRA_SLANG:
        return tuple(EXTRA_SLANG[form].split())
    res = resources()
    mapped = res.id_slang_t.get(form) or res.en_slang_t.get(form)
    return mapped if mapped else (form,)


_PREFIXES = (
    "meng",
    "meny",
    "mem",
    "men",
    "me",
    "peng",
    "peny",
    "pem",
    "pen",
    "pe",
    "di",
    "ter",
    "ber",
    "be",
    "ke",
    "se",
)
_SUFFIXES = ("nya", "lah", "kah", "pun", "kan", "an", "in", "i")


@lru_cache(maxsize=20000)
def stems(word: str) -> frozenset[str]:
    """Candidate stems of ``word`` (the word itself included); two words share a stem when any
    candidate matches. Over-generates on purpose: the checks compare, they do not parse."""
    word = word.lower().strip("'")
    if word.endswith("'s"):
        word = word[:-2]
    out = {word}
    if word.endswith("n't"):
        out.add(word[:-3])
    for suffix in ("ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            out.add(word[: -len(suffix)])
    frontier = {word}
    for _ in range(2):
        grown: set[str] = set()
        for form in frontier:
            for suffix in _SUFFIXES:
                if form.endswith(suffix) and len(form) - len(suffix) >= 4:
                    grown.add(form[: -len(suffix)])
            for prefix in _PREFIXES:
                if form.startswith(prefix) and len(form) - len(prefix) >= 4:
                    rest = form[len(prefix) :]
                    grown.add(rest)
                    if rest[0] in "aeiou":  # meN- ate the first consonant
                        if prefix in ("men", "pen"):
                            grown.add("t" + rest)
                        elif prefix in ("mem", "pem"):
                            grown.add("p" + rest)
                        elif prefix in ("meng", "peng"):
                            grown.add("k" + rest)
                        elif prefix in ("meny", "peny"):
                            grown.add("s" + rest)
        out |= grown
        frontier = grown
    return frozenset(out)


def _is_negator(norm: str) -> bool:
    return norm in NEGATORS or norm.endswith("n't")


def words(text: str) -> list[Word]:
    """The words of ``text`` in order (see the module docstring)."""
    res = resources()
    raw: list[tuple[str, int, int, str]] = []
    for form, start, end, kind in forms(tokenize(text), res):
        if kind in ("word", "hashtag"):
            for part in _slang(form):
                raw.append((part, start, end, "word"))
        elif kind == "punct":
            raw.append((form, start, end, "punct"))
    out: list[Word] = []
    clause = 0
    scope = 0
    negator = ""
    for norm, start, end, kind in raw:
        if kind == "punct":
            scope, negator = 0, ""
            clause += 1
            continue
        if norm in SCOPE_STOP:
            scope, negator = 0, ""
            out.append(Word(norm, start, end, False, "", clause))
            continue
        if _is_negator(norm):
            out.append(Word(norm, start, end, False, "", clause))
            scope, negator = SCOPE_LENGTH, norm
            continue
        if negator in NOMINAL_NEGATORS and norm in COPULAS:
            scope = SCOPE_LENGTH  # the predicate after the copula carries the negation
            for index in range(len(out) - 1, -1, -1):
                if out[index].norm == negator or out[index].clause != clause:
                    break
                if out[index].negated:
                    old = out[index]
                    out[index] = Word(old.norm, old.start, old.end, False, "", old.clause)
            out.append(Word(norm, start, end, False, "", clause))
            continue
        negated = scope > 0
        out.append(Word(norm, start, end, negated, negator if negated else "", clause))
        if scope and norm not in SCOPE_SKIP:
            scope -= 1
            if not scope and negator not in NOMINAL_NEGATORS:
                negator = ""
    return _debunked(out)


def _debunked(items: list[Word]) -> list[Word]:
    """Flip the polarity of what a clause reports when the clause calls it false."""
    out = list(items)
    by_clause: dict[int, list[int]] = {}
    for index, word in enumerate(items):
        by_clause.setdefault(word.clause, []).append(index)
    for indexes in by_clause.values():
        norms = [items[i].norm for i in indexes]
        for marker in DEBUNK:
            at = _find(norms, marker)
            if at is None:
                continue
            if at > 0 and _is_negator(norms[at - 1]) and marker[0] not in NEGATORS:
                continue  # "bukan hoaks": the report stands
            for position in indexes[:at]:
                word = items[position]
                out[position] = Word(
                    word.norm, word.start, word.end, not word.negated, "hoaks", word.clause
                )
            break
    return out


def _find(seq: list[str], needle: tuple[str, ...]) -> int | None:
    for i in range(len(seq) - len(needle) + 1):
        if tuple(seq[i : i + len(needle)]) == needle:
            return i
    return None


def find_phrase(items: list[Word], phrase: list[Word], *, gap: int = 1) -> tuple[int, int] | None:
    """The first place ``phrase`` occurs in ``items`` (stems compared, at most ``gap`` extra
    words between two of its words), as item indexes (first, last); None when it does not."""
    if not phrase:
        return None
    for first in range(len(items)):
        if not (items[first].stems & phrase[0].stems):
            continue
        at = first
        ok = True
        for part in phrase[1:]:
            for step in range(1, gap + 2):
                if at + step < len(items) and items[at + step].stems & part.stems:
                    at += step
                    break
            else:
                ok = False
                break
        if ok:
            return first, at
    return None
