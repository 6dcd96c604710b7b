"""JSON that Python and PostgreSQL can hold: one strict reader for every JSON body.

``loads`` parses like ``json.loads`` but never fails with anything other than ``JsonRefused``
(or ``json.JSONDecodeError`` for text that is not JSON at all), whatever the input:

- nesting deeper than ``MAX_DEPTH`` (arrays and objects) is refused, before Python's own
  recursion limit could turn it into a server error;
- ``NaN``, ``Infinity`` and ``-Infinity`` (not JSON, but Python accepts them), integers outside
  64 bits and floats that overflow to infinity are refused;
- strings and object keys holding a NUL character (PostgreSQL cannot store it in text or jsonb)
  or a lone UTF-16 surrogate (it cannot be encoded as UTF-8) are refused.

Each refusal names the place in the document as a dotted path (``author.name``,
``items.3.text``), the way the API's validation errors name fields. ``find_problem`` runs the
same value checks on data that is already parsed, so a caller that wants per-item refusals
(the ingest API) can parse leniently and check each item on its own.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from tenants.api.errors import NESTED_TOO_DEEPLY

MAX_DEPTH = 64
MAX_INT = 2**64  # integers must fit in a signed or unsigned 64-bit column
MAX_NUMBER_CHARS = 400  # a number literal longer than this is refused before conversion


@dataclass(frozen=True)
class BadNumber:
    """Stands in for a number literal that no column could hold, until the check names it."""

    literal: str
    reason: str


@dataclass(frozen=True)
class Problem:
    path: str | None  # dotted path of the bad value; None for the document as a whole
    code: str
    message: str


class JsonRefused(ValueError):
    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.message)
        self.problem = problem


def _parse_int(literal: str) -> int | BadNumber:
    if len(literal) > MAX_NUMBER_CHARS:
        return BadNumber(literal[:20], "too_large")
    value = int(literal)
    return value if -MAX_INT < value < MAX_INT else BadNumber(literal[:20], "too_large")


def _parse_float(literal: str) -> float | BadNumber:
    if len(literal) > MAX_NUMBER_CHARS:
        return BadNumber(literal[:20], "too_large")
    value = float(literal)
    if value in (float("inf"), float("-inf")):
        return BadNumber(literal[:20], "too_large")
    return value


def _parse_constant(literal: str) -> BadNumber:
    return BadNumber(literal, "not_a_number")


def parse(text: str | bytes) -> Any:
    """Parse leniently: bad numbers become ``BadNumber`` markers for ``find_problem``.

    Raises ``json.JSONDecodeError`` for text that is not JSON and ``JsonRefused`` for nesting
    too deep to parse.
    """
    try:
        return json.loads(
            text,
            parse_int=_parse_int,
            parse_float=_parse_float,
            parse_constant=_parse_constant,
        )
    except RecursionError:
        raise JsonRefused(too_deep(None)) from None


def too_deep(path: str | None) -> Problem:
    return Problem(
        path,
        NESTED_TOO_DEEPLY.code,
        _("JSON may nest arrays and objects at most %(depth)d levels deep.") % {"depth": MAX_DEPTH},
    )


def string_problem(value: str) -> tuple[str, str] | None:
    """``(code, message)`` when a string holds a NUL or a lone surrogate, else None."""
    if "\x00" in value:
        return "null_characters_not_allowed", _("Null characters are not allowed.")
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return (
                "surrogate_characters_not_allowed",
                _("Lone surrogate characters (invalid Unicode) are not allowed."),
            )
    return None


def _number_problem(path: str | None, bad: BadNumber) -> Problem:
    if bad.reason == "not_a_number":
        return Problem(
            path,
            "invalid_number",
            _("%(literal)s is not a JSON number.") % {"literal": bad.literal},
        )
    return Problem(
        path,
        "number_too_large",
        _("Numbers must fit in 64 bits (integers) or a double (floats)."),
    )


def _join(path: str | None, key: Any) -> str:
    return str(key) if path is None else f"{path}.{key}"


# Writes what ``json.dumps(..., ensure_ascii=False, allow_nan=False)`` writes.
_CHECK_ENCODER = json.JSONEncoder(ensure_ascii=False, allow_nan=False)


def plainly_clean(value: Any, *, depth: int = 0) -> bool:
    """True when ``find_problem(value, depth=depth)`` would find nothing, told from the value's
    JSON text (in C) instead of a walk in Python; False when it might find something (then
    the walk decides and names the place). Each problem shows in the text: a ``BadNumber``
    marker (or anything else not JSON) cannot be encoded (TypeError), NaN and the infinities
    are refused (ValueError), a NUL is written ``\\u0000``, a lone surrogate cannot be encoded
    as UTF-8, and nesting ``MAX_DEPTH`` deep from ``depth`` takes more than ``MAX_DEPTH -
    depth`` opening brackets (more in strings only make this say False more often)."""
    try:
        text = _CHECK_ENCODER.encode(value)
    except (TypeError, ValueError, RecursionError):
        return False
    if "\\u0000" in text:
        return False
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return False
    return text.count("{") + text.count("[") <= MAX_DEPTH - depth


def find_problem(value: Any, *, path: str | None = None, depth: int = 0) -> Problem | None:
    """The first value in a parsed document that no column could hold, or None.

    A value whose JSON text shows none (``plainly_clean``) is not walked; the others are walked
    without recursion, so any depth that ``parse`` accepted can be checked safely.
    """
    if plainly_clean(value, depth=depth):
        return None
    return walk_problem(value, path=path, depth=depth)


def walk_problem(value: Any, *, path: str | None = None, depth: int = 0) -> Problem | None:
    """``find_problem`` by walking every value (no shortcut)."""
    stack: list[tuple[Any, str | None, int]] = [(value, path, depth)]
    while stack:
        current, where, level = stack.pop()
        if isinstance(current, str):
            found = string_problem(current)
            if found:
                return Problem(where, *found)
        elif isinstance(current, BadNumber):
            return _number_problem(where, current)
        elif isinstance(current, dict):
            if level >= MAX_DEPTH:
                return too_deep(where)
            for key, item in reversed(current.items()):
                found = string_problem(key) if isinstance(key, str) else None
                if found:
                    return Problem(where, *found)
                stack.append((item, _join(where, key), level + 1))
        elif isinstance(current, list):
            if level >= MAX_DEPTH:
                return too_deep(where)
            stack.extend(
                (item, _join(where, index), level + 1)
                for index, item in reversed(list(enumerate(current)))
            )
        elif isinstance(current, float) and not math.isfinite(current):
            return _number_problem(where, BadNumber(str(current), "not_a_number"))
    return None


def loads(text: str | bytes) -> Any:
    """Parse strictly: ``JsonRefused`` naming the first value no column could hold."""
    data = parse(text)
    problem = find_problem(data)
    if problem is not None:
        raise JsonRefused(problem)
    return data
