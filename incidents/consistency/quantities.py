"""Numbers and dates in Indonesian and English text, whatever their spelling.

``2.000``, ``2,000``, ``2000``, ``2rb``, ``2 ribu``, ``dua ribu``, ``2k`` are all 2000; ``1,5
juta`` and ``1.5jt`` are 1 500 000; ``20%``, ``20 persen`` and ``dua puluh persen`` are 20 percent.
Each number gets a kind from the word after it (percent, money, duration, volume, count) so
"4 jam" is compared with other durations only. Dates are ``12 Maret 2026``, ``March 12, 2026``,
``12/03/2026`` (day first), ``12 Mar`` or a month alone (``akhir Mei``); years alone and weekdays
are neither dates nor numbers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MONTHS = {
    "januari": 1,
    "january": 1,
    "jan": 1,
    "februari": 2,
    "february": 2,
    "pebruari": 2,
    "feb": 2,
    "maret": 3,
    "march": 3,
    "mar": 3,
    "april": 4,
    "apr": 4,
    "mei": 5,
    "may": 5,
    "juni": 6,
    "june": 6,
    "jun": 6,
    "juli": 7,
    "july": 7,
    "jul": 7,
    "agustus": 8,
    "august": 8,
    "agu": 8,
    "agt": 8,
    "aug": 8,
    "september": 9,
    "sept": 9,
    "sep": 9,
    "oktober": 10,
    "october": 10,
    "okt": 10,
    "oct": 10,
    "november": 11,
    "nopember": 11,
    "nov": 11,
    "desember": 12,
    "december": 12,
    "des": 12,
    "dec": 12,
}
_MONTH = "|".join(sorted(MONTHS, key=len, reverse=True))
_YEAR = r"(?:19|20)\d{2}"

DATE_PATTERNS = (
    # 12 Maret 2026, 3 May, 12 Mar 2026
    re.compile(
        rf"(?<![\w.,/])(?P<day>\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<month>{_MONTH})\b\.?"
        rf"(?:,?\s+(?P<year>{_YEAR})\b)?",
        re.IGNORECASE,
    ),
    # March 12, 2026 / May 3rd 2025
    re.compile(
        rf"\b(?P<month>{_MONTH})\.?\s+(?P<day>\d{{1,2}})(?:st|nd|rd|th)?\b"
        rf"(?:,?\s+(?P<year>{_YEAR})\b)?",
        re.IGNORECASE,
    ),
    # 12/03/2026, 30-4-2026, 30/5
    re.compile(
        r"(?<![\w./,-])(?P<day>\d{1,2})[/-](?P<month>\d{1,2})(?:[/-](?P<year>\d{4}|\d{2}))?"
        r"(?![\w/-])"
    ),
    # a month alone: akhir Mei, end of March 2026
    re.compile(rf"\b(?P<month>{_MONTH})\b(?:\s+(?P<year>{_YEAR})\b)?", re.IGNORECASE),
)
YEAR_ALONE = re.compile(rf"(?<![\w.,])(?:{_YEAR})(?![\w.,]\d)")
WEEKDAY_OR_CODE = re.compile(r"\b[a-z]+\d[\w]*\b|\b\d+x\d+\b", re.IGNORECASE)  # B2403, 1x24

NUMBER = re.compile(
    r"(?<![\w.,])(?:rp\.?\s?)?"
    r"(?P<num>\d{1,3}(?:\.\d{3})+(?:,\d+)?|\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:[.,]\d+)?)"
    r"(?:,-)?"
    r"(?:\s?(?P<mult>rb|ribu|k|jt|juta|m|miliar|milyar|thousand|million|billion)\b)?"
    r"(?:an\b)?"
    r"(?:\s?(?P<unit>%|(?:persen|percent|per\s?cent|jam|hours?|hrs?|menit|minutes?|hari|days?"
    r"|minggu|weeks?|bulan|months?|tahun|years?|liter|litre|l|ml)\b))?",
    re.IGNORECASE,
)
MULTIPLIERS = {
    "rb": 1e3,
    "ribu": 1e3,
    "k": 1e3,
    "thousand": 1e3,
    "jt": 1e6,
    "juta": 1e6,
    "m": 1e6,
    "million": 1e6,
    "miliar": 1e9,
    "milyar": 1e9,
    "billion": 1e9,
}
UNIT_KINDS = {
    "%": "percent",
    "persen": "percent",
    "percent": "percent",
    "per cent": "percent",
    "percen": "percent",
    "jam": "duration",
    "hour": "duration",
    "hours": "duration",
    "hr": "duration",
    "hrs": "duration",
    "menit": "duration",
    "minute": "duration",
    "minutes": "duration",
    "hari": "duration",
    "day": "duration",
    "days": "duration",
    "minggu": "duration",
    "week": "duration",
    "weeks": "duration",
    "bulan": "duration",
    "month": "duration",
    "months": "duration",
    "tahun": "duration",
    "year": "duration",
    "years": "duration",
    "liter": "volume",
    "litre": "volume",
    "l": "volume",
    "ml": "volume",
}
VOLUME_SCALE = {"ml": 0.001}

UNITS_ID = {
    "nol": 0,
    "satu": 1,
    "se": 1,
    "dua": 2,
    "tiga": 3,
    "empat": 4,
    "lima": 5,
    "enam": 6,
    "tujuh": 7,
    "delapan": 8,
    "sembilan": 9,
    "sepuluh": 10,
    "sebelas": 11,
    "seratus": 100,
    "seribu": 1000,
    "sejuta": 1e6,
}
UNITS_EN = {
    "zero": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
}
SCALES: dict[str, float] = {
    "belas": 10,
    "puluh": 10,
    "ratus": 100,
    "hundred": 100,
    "ribu": 1e3,
    "thousand": 1e3,
    "juta": 1e6,
    "million": 1e6,
    "miliar": 1e9,
    "billion": 1e9,
}
WORD_NUMBER = re.compile(
    r"\b(?:(?:"
    + "|".join(sorted([*UNITS_ID, *UNITS_EN, *SCALES], key=len, reverse=True))
    + r")(?:[\s-]+|\b))+",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Quantity:
    value: float
    kind: str  # count | percent | duration | volume
    start: int
    end: int


@dataclass(frozen=True)
class Date:
    day: int | None
    month: int
    year: int | None
    start: int
    end: int

    def agrees(self, other: Date) -> bool:
        return (
            self.month == other.month
            and (self.day is None or other.day is None or self.day == other.day)
            and (self.year is None or other.year is None or self.year == other.year)
        )


def _mask(text: str, spans: list[tuple[int, int]]) -> str:
    chars = list(text)
    for start, end in spans:
        for i in range(start, end):
            chars[i] = " "
    return "".join(chars)


def dates(text: str) -> list[Date]:
    found: list[Date] = []
    taken: list[tuple[int, int]] = []
    for pattern in DATE_PATTERNS:
        for match in pattern.finditer(_mask(text, taken)):
            month_text = match.group("month")
            month = int(month_text) if month_text.isdigit() else MONTHS[month_text.lower()]
            if not 1 <= month <= 12:
                continue
            # "may" and short forms alone are words far more often than months
            if (
                pattern is DATE_PATTERNS[3]
                and month_text.lower() in ("mar", "may", "jun")
                and (month_text.lower() == "may" or not month_text[0].isupper())
            ):
                continue
            day_text = match.groupdict().get("day")
            day = int(day_text) if day_text else None
            if day is not None and not 1 <= day <= 31:
                continue
            year_text = match.group("year")
            year = int(year_text) if year_text else None
            if year is not None and year < 100:
                year += 2000
            found.append(Date(day, month, year, match.start(), match.end()))
            taken.append(match.span())
    return sorted(found, key=lambda d: d.start)


def _parse_number(num: str) -> float:
    if re.fullmatch(r"\d{1,3}(?:\.\d{3})+(?:,\d+)?", num):
        return float(num.replace(".", "").replace(",", "."))
    if re.fullmatch(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?", num):
        return float(num.replace(",", ""))
    return float(num.replace(",", "."))


def _word_value(words: list[str]) -> float | None:
    """The value of a run of number words (``seratus lima puluh ribu``), None if it is not one."""
    total = 0.0
    current = 0.0
    last = 0.0
    seen = False
    for word in words:
        word = word.lower()
        if word in UNITS_ID or word in UNITS_EN:
            value = float(UNITS_ID.get(word, UNITS_EN.get(word, 0)))
            if value >= 1000:
                total += value
                current = last = 0
            else:
                current += value
                last = value
            seen = True
        elif word in SCALES:
            scale = SCALES[word]
            if word == "belas":  # sebelas is a unit; dua belas = 2 + 10
                current += 10
            elif scale in (10, 100):
                current += (last or 1) * scale - last
            else:
                total += (current or 1) * scale
                current = 0
            last = 0
            seen = True
        else:
            return None
    return total + current if seen else None


def quantities(text: str) -> list[Quantity]:
    """Numbers of ``text`` outside its dates, years and codes."""
    masked = _mask(
        text,
        [(d.start, d.end) for d in dates(text)]
        + [m.span() for m in YEAR_ALONE.finditer(text)]
        + [m.span() for m in WEEKDAY_OR_CODE.finditer(text)],
    )
    found: list[Quantity] = []
    taken: list[tuple[int, int]] = []
    for match in NUMBER.finditer(masked):
        value = _parse_number(match.group("num"))
        mult = (match.group("mult") or "").lower()
        if mult == "m" and not match.group(0).lower().startswith("rp"):
            mult = ""  # "5 m" is rarely millions outside money
        value *= MULTIPLIERS.get(mult, 1)
        unit = (match.group("unit") or "").lower().replace(" ", "")
        kind = UNIT_KINDS.get(unit, "count")
        if kind == "volume":
            value *= VOLUME_SCALE.get(unit, 1)
        found.append(Quantity(value, kind, match.start(), match.end()))
        taken.append(match.span())
    for match in WORD_NUMBER.finditer(_mask(masked, taken)):
        run = match.group(0).strip()
        parts = [p for p in re.split(r"[\s-]+", run) if p]
        if all(p.lower() in SCALES for p in parts):
            continue
        spoken = _word_value(parts)
        if spoken is None or spoken == 1:
            continue  # "salah satu", "one of": not a quantity
        end = match.start() + len(match.group(0).rstrip())
        after = masked[end : end + 12].lower().lstrip()
        kind = "count"
        for unit, unit_kind in UNIT_KINDS.items():
            if re.match(rf"{re.escape(unit)}\b", after):
                kind = unit_kind
                break
        found.append(Quantity(spoken, kind, match.start(), end))
    return sorted(found, key=lambda q: q.start)
