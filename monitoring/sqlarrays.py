"""PostgreSQL array literals for the pipeline's bulk statements (issue 20 item 3).

The pipeline sends whole columns as arrays (``unnest(%(x)s::bigint[], ...)``) and stages rows
with COPY. psycopg adapts a Python list element by element in Python (its list dumper), which
cost the pipeline more CPU than its upserts; a literal built here is one string, sent as it is
and parsed by the server with the cast the statement already has. Every text element is quoted
and escaped, so any text (commas, braces, quotes, backslashes, spaces, the word ``NULL``)
arrives as the element it was; ``tests/monitoring/test_pipeline_bad_items.py`` round-trips them.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any


def ints(values: Iterable[int]) -> str:
    """``{1,2,3}`` (for ``bigint[]``/``int[]``)."""
    return "{" + ",".join(map(str, values)) + "}"


def texts(values: Iterable[str]) -> str:
    """``{"a","b"}`` with ``\\`` and ``"`` escaped (for ``text[]``)."""
    items = values if isinstance(values, list) else list(values)
    if not items:
        return "{}"
    # One join when no element holds a backslash or a quote (the separators hold two quotes
    # each): the same literal as quoting element by element, which the rest still does.
    body = '","'.join(items)
    if "\\" in body or body.count('"') != 2 * len(items) - 2:
        return "{" + ",".join(map(_quoted, items)) + "}"
    return '{"' + body + '"}'


def times(values: Iterable[datetime]) -> str:
    """ISO 8601 timestamps with their offsets (for ``timestamptz[]``)."""
    # Rollup keys repeat a few buckets many times, and isoformat() costs about 1 us: each
    # distinct value is written once. Equal datetimes with the same tzinfo and fold have the
    # same local fields and offset, so the same text.
    written: dict[tuple[datetime, Any, int], str] = {}
    texts = []
    for value in values:
        key = (value, value.tzinfo, value.fold)
        text = written.get(key)
        if text is None:
            text = written[key] = value.isoformat()
        texts.append(text)
    return '{"' + '","'.join(texts) + '"}' if texts else "{}"


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
