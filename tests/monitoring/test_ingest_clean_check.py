"""``jsonguard.find_problem`` walks only values whose JSON text could hide a problem
(``jsonguard.plainly_clean``); an item (``validate_item`` checks it at depth 1) that the text
check passes must be one the walk finds nothing in, whatever it holds."""

from __future__ import annotations

import random
from typing import Any

from tenants import jsonguard

STRINGS = ["a", "\x00", "x\x00y", "\ud800", "\udfff", "😀", "é", "\\u0000", "{", "[", "\x01", ""]
SCALARS: list[Any] = [
    1,
    -3,
    2.5,
    10**30,
    True,
    None,
    float("nan"),
    float("inf"),
    float("-inf"),
    jsonguard.BadNumber("1e999", "too_large"),
    jsonguard.BadNumber("NaN", "not_a_number"),
]


def _plainly_clean(item: Any) -> bool:
    return jsonguard.plainly_clean(item, depth=1)


def _value(rnd: random.Random, depth: int) -> Any:
    roll = rnd.random()
    if depth > 70 or roll < 0.35:
        return rnd.choice(STRINGS + SCALARS)
    if roll < 0.65:
        return {rnd.choice(STRINGS): _value(rnd, depth + 1) for _ in range(rnd.randint(0, 3))}
    if roll < 0.7:  # a chain around the depth limit
        value = _value(rnd, depth + 1)
        for _ in range(rnd.randint(55, 70)):
            value = [value] if rnd.random() < 0.5 else {"k": value}
        return value
    return [_value(rnd, depth + 1) for _ in range(rnd.randint(0, 3))]


def test_an_item_the_text_check_passes_has_no_problem() -> None:
    rnd = random.Random(41)
    passed = 0
    for _ in range(20_000):
        item = {rnd.choice(STRINGS): _value(rnd, 2) for _ in range(rnd.randint(0, 4))}
        if _plainly_clean(item):
            passed += 1
            assert jsonguard.walk_problem(item, depth=1) is None, ascii(item)
    assert passed > 1000  # the check does pass clean items


def test_each_kind_of_problem_fails_the_text_check() -> None:
    deep: Any = "x"
    for _ in range(63):
        deep = [deep]
    for item in (
        {"text": "a\x00b"},
        {"text": "\ud800"},
        {"a\x00": 1},
        {"engagement": {"likes": float("nan")}},
        {"engagement": {"views": jsonguard.BadNumber("9" * 30, "too_large")}},
        {"raw": deep},
    ):
        assert jsonguard.walk_problem(item, depth=1) is not None
        assert not _plainly_clean(item)
    assert _plainly_clean({"text": "kopi 😀 é", "raw": {"a": [1, 2.5, None, True]}})
