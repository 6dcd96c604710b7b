"""Every refusal docs/queries.md shows is the query language's answer, word for word, and
names the position once: the one the parser reports."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from monitoring.querylang import QuerySyntaxError, parse

DOC = Path(__file__).resolve().parents[2] / "docs" / "queries.md"


def refusals() -> list[tuple[str, str]]:
    text = DOC.read_text()
    section = text.split("## Queries that are refused", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `(.+?)` \| (.+?) \|$", section, re.MULTILINE)
    assert len(rows) >= 10, "the refusal table moved"
    return rows


@pytest.mark.parametrize(("query", "documented"), refusals())
def test_each_documented_refusal_is_the_parsers_and_names_its_position_once(
    query: str, documented: str
) -> None:
    with pytest.raises(QuerySyntaxError) as info:
        parse(query)
    positions = [int(found) for found in re.findall(r"\b(?:position|at) (\d+)\b", documented)]
    assert positions == [info.value.position], documented
    assert documented == str(info.value)
