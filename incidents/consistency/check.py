"""The consistency check: does an outgoing text say only what the approved line says?

``check(text, line)`` compares a reply (or a channel variant of a statement) with the incident's
``ApprovedLine`` (``incidents.line``: the approved statement, key messages and must-not phrases)
and returns every finding with its category, the span of ``text`` it is about and a reason:

- ``number``: a number the approved line does not give, compared by kind (counts and amounts,
  percentages, durations, volumes) whatever the spelling (``2.000``, ``2,000``, ``dua ribu``,
  ``2rb``); only kinds the approved line states are compared;
- ``date``: a date (day, month, year as far as given) that no approved date agrees with;
- ``negation``: a word the approved line says with the opposite polarity (``tidak bocor`` vs
  ``bocor``; ``belum keluar`` vs ``sudah keluar``), negators ``tidak/tak/gak/nggak/enggak/bukan/
  belum/jangan/not/no/never/n't``; ``belum`` is not contradicted by a future (``akan keluar``);
- ``promise``: a refund, compensation, freebie, guarantee, deadline or extension the approved
  line does not make (a negated promise is none);
- ``must_not``: a must-not phrase, spelt any way the normaliser maps (``hekker`` = ``hacker``),
  one extra word allowed between its words;
- ``tone``: insults from monitoring's provocation lexicon, arguing phrases (``baca dulu``,
  ``udah dibilang``, ``did you even read``), laughing at the customer, shouting in capitals.

A text that shares no words with the statement but contradicts nothing passes. Pure Python: no
Django; the reasons are English templates with ``code`` and ``params`` so adapters can translate.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from typing import Any

from incidents.consistency import quantities as q
from incidents.consistency.text import NEGATORS, Word, find_phrase, words
from incidents.line import ApprovedLine

CATEGORIES = ("number", "date", "negation", "promise", "must_not", "tone")

REASONS = {
    "number": "States {found}, which the approved line does not give (it gives {approved}).",
    "date": "Gives the date {found}; the approved line gives {approved}.",
    "negation": "Says the opposite of the approved line about '{word}' (approved: '{approved}').",
    "promise": "Promises {promise}, which the approved line does not.",
    "must_not": "Uses the must-not phrase '{phrase}'.",
    "tone": "Hostile or arguing tone: '{phrase}'.",
}


@dataclass(frozen=True)
class Finding:
    category: str
    start: int
    end: int
    excerpt: str
    code: str
    params: dict[str, str] = field(default_factory=dict)

    @property
    def reason(self) -> str:
        return REASONS[self.code].format(**self.params)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["reason"] = self.reason
        return out


@dataclass(frozen=True)
class Result:
    findings: tuple[Finding, ...]

    @property
    def flagged(self) -> bool:
        return bool(self.findings)

    @property
    def categories(self) -> frozenset[str]:
        return frozenset(f.category for f in self.findings)


# --- promises ---------------------------------------------------------------------------------

PROMISES: dict[str, tuple[str, ...]] = {
    "a refund": (
        "refund",
        "pengembalian dana",
        "uang kembali",
        "kembalikan uang",
        "uang kembalikan",
        "dana kembalikan",
        "saldo kembalikan",
        "kembalikan saldo",
        "money back",
        "reimburse",
        "kembali uang",
    ),
    "compensation": (
        "ganti rugi",
        "kompensasi",
        "kompen",
        "santunan",
        "compensation",
        "compensate",
    ),
    "something free": (
        "gratis",
        "free",
        "cashback",
        "voucher",
        "diskon",
        "discount",
        "potongan harga",
        "hadiah",
    ),
    "a guarantee": ("dijamin", "jaminan", "guarantee", "guaranteed", "pasti selesai", "100% aman"),
    "a deadline": (
        "besok",
        "lusa",
        "hari ini",
        "minggu ini",
        "minggu depan",
        "bulan depan",
        "akhir tahun",
        "nanti malam",
        "malam ini",
        "paling lambat",
        "selambat-lambatnya",
        "tomorrow",
        "tonight",
        "next week",
        "this week",
        "by monday",
        "within",
        "jam lagi",
        "hari lagi",
    ),
    "an extension": ("diperpanjang", "perpanjang", "extended", "extend"),
}
# Durations promised with "dalam N jam/hari" / "1x24 jam" count as deadlines too.
_DEADLINE_DURATION = ("dalam", "within", "maksimal", "max")
# "berlaku sampai 30 April": a date after these is a deadline.
_UNTIL = ("sampai", "sampe", "hingga", "until", "by", "s.d.", "sd", "telat", "lambat", "before")


@lru_cache(maxsize=8192)
def _phrase_words(phrase: str) -> tuple[Word, ...]:
    return tuple(words(phrase))


def _contains(items: list[Word], phrase: str, gap: int = 0) -> tuple[int, int] | None:
    return find_phrase(items, list(_phrase_words(phrase)), gap=gap)


def _promises_in(items: list[Word], text: str) -> list[tuple[str, int, int]]:
    found: list[tuple[str, int, int]] = []
    for promise, phrases in PROMISES.items():
        for phrase in phrases:
            at = _contains(items, phrase, gap=2 if " " in phrase else 0)
            if at is None:
                continue
            first, last = items[at[0]], items[at[1]]
            if first.negated or _negated_before(items, at[0]):
                continue
            found.append((promise, first.start, last.end))
            break
    lowered = text.lower()
    import re

    for date in q.dates(text):
        preceding = lowered[max(0, date.start - 16) : date.start].split()
        if any(w in _UNTIL for w in preceding[-3:]):
            found.append(("a deadline", date.start, date.end))
    for match in re.finditer(r"\b\d+\s?x\s?24\s?jam\b", lowered):
        found.append(("a deadline", match.start(), match.end()))
    for quantity in q.quantities(text):
        before = lowered[max(0, quantity.start - 12) : quantity.start]
        if quantity.kind == "duration" and any(w in before.split() for w in _DEADLINE_DURATION):
            found.append(("a deadline", quantity.start, quantity.end))
    return found


def _negated_before(items: list[Word], index: int) -> bool:
    """A negator within the three words before (``tidak ada refund``, ``no free``)."""
    return any(
        w.norm in NEGATORS or w.norm.endswith("n't") for w in items[max(0, index - 3) : index]
    )


# --- tone -------------------------------------------------------------------------------------

ARGUING = (
    "baca dulu",
    "baca dong",
    "makanya",
    "jangan asal",
    "asal komen",
    "sudah dibilang",
    "dibilangin",
    "masih saja",
    "masih aja",
    "ngeyel",
    "terserah",
    "situ",
    "tidak mengerti",
    "tidak usah berlebihan",
    "sok tahu",
    "sok tau",
    "fitnah",
    "tukang hoaks",
    "diam saja",
    "diam aja",
    "memangnya",
    "emangnya",
    "salah paham",
    "kakak salah",
    "kamu salah",
    "anda salah",
    "lucu deh",
    "haha",
    "did you even read",
    "read our",
    "stop spreading",
    "calm down",
    "whatever",
    "not our problem",
    "clearly didn't",
    "you're not happy",
    "lol",
    "nonsense",
    "your fault",
    "you're wrong",
    "salah sendiri",
    "norak",
    "lebay",
)
HOSTILE_REASONS = ("insult", "profanity", "slur", "threat")


@lru_cache(maxsize=1)
def _hostile_phrases() -> tuple[str, ...]:
    from incidents.consistency.text import resources

    provocation = resources().provocation
    out: list[str] = []
    for reason in HOSTILE_REASONS:
        for entry in provocation.get(reason, {}).get("phrases", []):
            phrase = entry[0] if isinstance(entry, list) else entry
            out.append(str(phrase))
    return tuple(out)


def _shouting(text: str) -> tuple[int, int] | None:
    import re

    runs = list(re.finditer(r"\b[A-Z]{3,}(?:[\s,!.]+[A-Z]{2,}){2,}\b", text))
    if runs:
        return runs[0].span()
    return None


@lru_cache(maxsize=1)
def _tone_index() -> dict[str, list[tuple[str, ...]]]:
    """Tone phrases as normalised word tuples, by their first word (read once)."""
    index: dict[str, list[tuple[str, ...]]] = {}
    for phrase in (*_hostile_phrases(), *ARGUING):
        target = tuple(w.norm for w in words(phrase))
        if target:
            index.setdefault(target[0], []).append(target)
    return index


def _tone(items: list[Word], text: str) -> list[Finding]:
    out: list[Finding] = []
    index = _tone_index()
    norms = [w.norm for w in items]
    for i, norm in enumerate(norms):
        hit = next((t for t in index.get(norm, ()) if tuple(norms[i : i + len(t)]) == t), None)
        if hit is not None:
            start, end = items[i].start, items[i + len(hit) - 1].end
            out.append(_finding("tone", text, start, end, phrase=text[start:end]))
            break
    shout = _shouting(text)
    if shout is not None and not out:
        out.append(_finding("tone", text, *shout, phrase=text[shout[0] : shout[1]]))
    return out


# --- negation ---------------------------------------------------------------------------------

FUTURE = frozenset({"akan", "nanti", "segera", "will", "soon", "besok", "depan"})


def _negations(items: list[Word], approved: list[Word], text: str) -> list[Finding]:
    polarity: dict[str, set[bool]] = {}
    shown: dict[str, Word] = {}
    for word in approved:
        if not word.content:
            continue
        for stem in word.stems:
            polarity.setdefault(stem, set()).add(word.negated)
            shown.setdefault(stem, word)
    future_clauses = {w.clause for w in items if w.norm in FUTURE}
    out: list[Finding] = []
    seen: set[int] = set()
    for word in items:
        if not word.content or word.start in seen or word.negator == "hoaks":
            continue  # what a clause calls false is never affirmed by it
        for stem in word.stems:
            said = polarity.get(stem)
            if not said or word.negated in said:
                continue
            other = shown[stem]
            if other.negator == "belum" and word.clause in future_clauses:
                continue
            seen.add(word.start)
            start = word.start
            out.append(
                _finding(
                    "negation",
                    text,
                    start,
                    word.end,
                    word=text[start : word.end],
                    approved=("not " if other.negated else "") + other.norm,
                )
            )
            break
    return out


# --- the check --------------------------------------------------------------------------------


def _finding(category: str, text: str, start: int, end: int, **params: str) -> Finding:
    return Finding(category, start, end, text[start:end], category, dict(params))


def _approved_texts(line: ApprovedLine) -> list[str]:
    return [t for t in (line.statement, *line.key_messages) if t]


def _fmt_date(date: q.Date) -> str:
    parts = [str(date.day) if date.day else "", str(date.month), str(date.year or "")]
    return "/".join(p for p in parts if p)


def _fmt_value(value: float) -> str:
    return f"{value:,.0f}" if value == int(value) else f"{value:,}"


@dataclass(frozen=True)
class _Approved:
    quantities: tuple[q.Quantity, ...]
    dates: tuple[q.Date, ...]
    words: tuple[Word, ...]
    promises: frozenset[str]


@lru_cache(maxsize=256)
def _analyse(line: ApprovedLine) -> _Approved:
    """What the approved line states, read once per line (replies of an incident share it)."""
    texts = _approved_texts(line)
    return _Approved(
        quantities=tuple(x for t in texts for x in q.quantities(t)),
        dates=tuple(d for t in texts for d in q.dates(t)),
        words=tuple(w for t in texts for w in words(t)),
        promises=frozenset(p for t in texts for p, _, _ in _promises_in(words(t), t)),
    )


def check(text: str, line: ApprovedLine) -> Result:
    """Every finding of ``text`` against ``line`` (see the module docstring), in text order."""
    items = words(text)
    approved = _analyse(line)
    findings: list[Finding] = []

    approved_quantities = approved.quantities
    kinds = {x.kind for x in approved_quantities}
    for quantity in q.quantities(text):
        if quantity.kind not in kinds:
            continue
        same = [x.value for x in approved_quantities if x.kind == quantity.kind]
        if not any(abs(quantity.value - value) < 1e-9 for value in same):
            findings.append(
                _finding(
                    "number",
                    text,
                    quantity.start,
                    quantity.end,
                    found=text[quantity.start : quantity.end],
                    approved=", ".join(_fmt_value(v) for v in same),
                )
            )

    approved_dates = approved.dates
    if approved_dates:
        for date in q.dates(text):
            if not any(date.agrees(other) for other in approved_dates):
                findings.append(
                    _finding(
                        "date",
                        text,
                        date.start,
                        date.end,
                        found=text[date.start : date.end],
                        approved=", ".join(_fmt_date(d) for d in approved_dates),
                    )
                )

    findings.extend(_negations(items, list(approved.words), text))

    for promise, start, end in _promises_in(items, text):
        if promise not in approved.promises:
            findings.append(_finding("promise", text, start, end, promise=promise))

    for phrase in line.must_not:
        at = _contains(items, phrase, gap=1)
        if at is not None:
            start, end = items[at[0]].start, items[at[1]].end
            findings.append(_finding("must_not", text, start, end, phrase=phrase))

    findings.extend(_tone(items, text))
    return Result(tuple(sorted(_dedupe(findings), key=lambda f: (f.start, f.category))))


def _dedupe(findings: Iterable[Finding]) -> list[Finding]:
    seen: set[tuple[str, int, int]] = set()
    out: list[Finding] = []
    for finding in findings:
        key = (finding.category, finding.start, finding.end)
        if key not in seen:
            seen.add(key)
            out.append(finding)
    return out
