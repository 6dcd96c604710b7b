"""Keeping the sentiment rollups in step when a stored mention changes or goes.

The pipeline adds each inserted mention to the 5-minute ``MetricBucket`` rows (every mention,
query 0, and each query it matched), the hourly ``MentionTally`` and the hourly ``TermBucket``
rows. A mention's sentiment can change afterwards (a team member's correction, a re-scoring with
the tenant's classifier) and a mention can be deleted; the callers run these functions in the
same transaction as that change:

* :func:`move_sentiment` moves a mention from its old sentiment's column to the new one
  (``MetricBucket`` and ``MentionTally``);
* :func:`remove` takes deleted mentions off ``MetricBucket`` (mentions, sentiment, reach and
  engagement, as the mention now stands: engagement grows after insertion, so a column never
  goes below 0) and ``TermBucket`` (``MentionTally`` and the author rollup are kept by
  ``services.delete_mentions`` already). Retention does not call it: the 5-minute and term
  rollups are meant to outlive the mentions (``monitoring.retention``).

Rows are updated in key order (one lock order for every writer); every statement names the
tenant.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from django.db import connection

from monitoring import counts

SENTIMENTS = ("positive", "neutral", "negative")

_ADJUST = """
    UPDATE monitoring_metricbucket AS b SET
        mentions = greatest(b.mentions + d.mentions, 0),
        positive = greatest(b.positive + d.positive, 0),
        neutral = greatest(b.neutral + d.neutral, 0),
        negative = greatest(b.negative + d.negative, 0),
        reach = greatest(b.reach + d.reach, 0),
        engagement = greatest(b.engagement + d.engagement, 0)
    FROM unnest(%(query)s::bigint[], %(bucket)s::timestamptz[], %(mentions)s::int[],
        %(positive)s::int[], %(neutral)s::int[], %(negative)s::int[], %(reach)s::bigint[],
        %(engagement)s::bigint[])
        AS d(query_id, bucket, mentions, positive, neutral, negative, reach, engagement)
    WHERE b.tenant_id = %(tenant)s AND b.query_id = d.query_id AND b.bucket = d.bucket
"""
_TERMS = """
    UPDATE monitoring_termbucket AS b SET mentions = greatest(b.mentions - d.mentions, 0)
    FROM unnest(%(query)s::bigint[], %(kind)s::text[], %(bucket)s::timestamptz[],
        %(text)s::text[], %(mentions)s::int[]) AS d(query_id, kind, bucket, text, mentions)
    WHERE b.tenant_id = %(tenant)s AND b.query_id = d.query_id AND b.kind = d.kind
        AND b.bucket = d.bucket AND b.text = d.text
"""


class Move(NamedTuple):
    """A mention whose sentiment changed from ``old`` to ``new``."""

    published_at: datetime
    matched_queries: Sequence[int]
    old: str
    new: str


class Gone(NamedTuple):
    """A deleted mention, as it stood."""

    published_at: datetime
    matched_queries: Sequence[int]
    sentiment: str
    followers: int
    engagement: int
    hashtags: Sequence[str]
    entities: Any  # the ``scores["entities"]`` list


BUCKET_SECONDS = 300  # the 5-minute ``MetricBucket`` (``monitoring.pipeline.BUCKET``)


def _bucket(moment: datetime) -> datetime:
    epoch = int(moment.timestamp())
    return datetime.fromtimestamp(epoch - epoch % BUCKET_SECONDS, tz=moment.tzinfo)


def _adjust(tenant_id: int, deltas: dict[tuple[int, datetime], Counter[str]]) -> None:
    keys = sorted(key for key, d in deltas.items() if any(d.values()))
    if not keys:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            _ADJUST,
            {
                "tenant": tenant_id,
                "query": [k[0] for k in keys],
                "bucket": [k[1] for k in keys],
                **{
                    name: [deltas[k][name] for k in keys]
                    for name in ("mentions", *SENTIMENTS, "reach", "engagement")
                },
            },
        )


def move_sentiment(tenant_id: int, moves: Iterable[Move]) -> None:
    """Move each mention from its old sentiment's counts to its new one's."""
    deltas: dict[tuple[int, datetime], Counter[str]] = defaultdict(Counter)
    tally: Counter[tuple[datetime, str]] = Counter()
    hour_of = counts.hour_of
    for m in moves:
        if m.old == m.new:
            continue
        bucket = _bucket(m.published_at)
        for query_id in (0, *m.matched_queries):
            d = deltas[(query_id, bucket)]
            if m.old in SENTIMENTS:
                d[m.old] -= 1
            if m.new in SENTIMENTS:
                d[m.new] += 1
        tally[(hour_of(m.published_at), m.old)] -= 1
        tally[(hour_of(m.published_at), m.new)] += 1
    _adjust(tenant_id, deltas)
    counts.apply(tenant_id, tally)


def remove(tenant_id: int, gone: Iterable[Gone]) -> None:
    """Take deleted mentions off the 5-minute and the hourly term rollups."""
    deltas: dict[tuple[int, datetime], Counter[str]] = defaultdict(Counter)
    terms: Counter[tuple[int, str, datetime, str]] = Counter()
    for g in gone:
        bucket = _bucket(g.published_at)
        hour = g.published_at.replace(minute=0, second=0, microsecond=0)
        entities = json.loads(g.entities) if isinstance(g.entities, str) else g.entities
        found = {("hashtag", tag[:200]) for tag in g.hashtags or ()}
        found |= {
            ("term", str(e.get("text", "")).lower()[:200])
            for e in entities or ()
            if isinstance(e, dict) and e.get("type") == "term" and e.get("text")
        }
        for query_id in (0, *g.matched_queries):
            d = deltas[(query_id, bucket)]
            d["mentions"] -= 1
            if g.sentiment in SENTIMENTS:
                d[g.sentiment] -= 1
            d["reach"] -= g.followers
            d["engagement"] -= g.engagement
            for kind, text in found:
                terms[(query_id, kind, hour, text)] += 1
    _adjust(tenant_id, deltas)
    keys = sorted(terms)
    if keys:
        with connection.cursor() as cursor:
            cursor.execute(
                _TERMS,
                {
                    "tenant": tenant_id,
                    "query": [k[0] for k in keys],
                    "kind": [k[1] for k in keys],
                    "bucket": [k[2] for k in keys],
                    "text": [k[3] for k in keys],
                    "mentions": [terms[k] for k in keys],
                },
            )
