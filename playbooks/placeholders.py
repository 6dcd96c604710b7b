"""Placeholders of holding-statement templates: ``{name}`` in a template's text, filled per
incident. A pure module (no Django): parsing, checking a template's declared placeholders
against its text, and filling.

Rules: a placeholder is ``{`` + a lower-case name (letters, digits, ``_``, starting with a
letter) + ``}``. Any other brace is an error, so a typo (``{Name}``, ``{ name }``, a lone ``{``)
never reaches a published statement. Every placeholder used must be declared and every declared
one used; filling needs a non-blank value for each, and nothing else.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

NAME = re.compile(r"[a-z][a-z0-9_]{0,39}")
_TOKEN = re.compile(r"\{([^{}]*)\}|[{}]")


class PlaceholderError(ValueError):
    """A problem with placeholders; ``names`` are the placeholders (or fragments) concerned."""

    def __init__(self, code: str, names: Iterable[str]) -> None:
        self.code = code
        self.names = tuple(names)
        super().__init__(f"{code}: {', '.join(self.names)}")


@dataclass(frozen=True)
class Parsed:
    names: tuple[str, ...]  # in order of first use
    malformed: tuple[str, ...]


def parse(text: str) -> Parsed:
    """The placeholder names ``text`` uses and the malformed brace fragments it holds."""
    names: list[str] = []
    malformed: list[str] = []
    for match in _TOKEN.finditer(text):
        inner = match.group(1)
        if inner is not None and NAME.fullmatch(inner):
            if inner not in names:
                names.append(inner)
        else:
            malformed.append(match.group(0))
    return Parsed(tuple(names), tuple(malformed))


def check(texts: Mapping[str, str], declared: Iterable[str]) -> dict[str, PlaceholderError]:
    """Problems by field: ``texts`` are the template's text fields, ``declared`` its list of
    placeholders. Keys are the text field names, or ``"placeholders"`` for the list."""
    declared = list(declared)
    problems: dict[str, PlaceholderError] = {}
    bad_names = [name for name in declared if not NAME.fullmatch(name)]
    duplicates = sorted({name for name in declared if declared.count(name) > 1})
    if bad_names:
        problems["placeholders"] = PlaceholderError("invalid_name", bad_names)
    elif duplicates:
        problems["placeholders"] = PlaceholderError("duplicate", duplicates)
    used: set[str] = set()
    for field, text in texts.items():
        parsed = parse(text)
        used.update(parsed.names)
        unknown = [name for name in parsed.names if name not in declared]
        if parsed.malformed:
            problems[field] = PlaceholderError("malformed", parsed.malformed)
        elif unknown:
            problems[field] = PlaceholderError("unknown", unknown)
    unused = [name for name in declared if name not in used and NAME.fullmatch(name)]
    if unused and "placeholders" not in problems:
        problems["placeholders"] = PlaceholderError("unused", unused)
    return problems


def fill(text: str, values: Mapping[str, str]) -> str:
    """``text`` with every placeholder replaced. ``PlaceholderError`` ``unfilled`` names the
    placeholders without a non-blank value."""
    parsed = parse(text)
    if parsed.malformed:
        raise PlaceholderError("malformed", parsed.malformed)
    missing = [name for name in parsed.names if not str(values.get(name) or "").strip()]
    if missing:
        raise PlaceholderError("unfilled", missing)
    return _TOKEN.sub(lambda m: str(values[m.group(1)]).strip(), text)
