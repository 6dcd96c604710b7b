"""Mention counts that do not scan mentions: the hourly tally (``MentionTally``).

What it guarantees:

* **In step with the mentions.** ``add`` counts the mentions a pipeline chunk inserted, in the
  chunk's transaction (``monitoring.pipeline``), per hour (UTC) and sentiment; ``subtract``
  takes deleted mentions off in the deleting transaction (``services.delete_mentions``,
  retention), and ``apply`` moves a mention whose sentiment was corrected or re-scored
  (``monitoring.rollups``), in that transaction too, so the tally is exact without recounting.
* **Exact answers.** ``count`` answers what ``COUNT(*)`` over the filtered mentions answers.
  When the filters are sentiment and published time only (what ``mentions/count/`` is mostly
  asked), the whole hours come from the tally (a few thousand rows for years of data) and the
  partial hours at the ends from the mentions (``mention_sentiment`` or ``mention_timeline``);
  any other filter counts the mentions themselves.

Every statement names the tenant.
"""

from __future__ import annotations

import operator
from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from functools import reduce
from typing import Any

from django.db import connection
from django.db.models import Q, Sum

from monitoring.authors import HOUR, hour_of
from monitoring.models import Mention, MentionTally

# Filters the tally can answer (``ordering`` changes no count).
TALLIED = frozenset({"sentiment", "published_after", "published_before", "ordering"})

_ADD = """
    INSERT INTO monitoring_mentiontally (tenant_id, bucket, sentiment, mentions)
    SELECT %(tenant)s, * FROM unnest(%(bucket)s::timestamptz[], %(sentiment)s::text[],
        %(mentions)s::bigint[])
    ON CONFLICT (tenant_id, bucket, sentiment) DO UPDATE SET
        mentions = monitoring_mentiontally.mentions + EXCLUDED.mentions
"""


def _upsert(tenant_id: int, totals: Counter[tuple[datetime, str]]) -> None:
    keys = sorted(key for key, n in totals.items() if n)  # one lock order for every worker
    if not keys:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            _ADD,
            {
                "tenant": tenant_id,
                "bucket": [key[0] for key in keys],
                "sentiment": [key[1] for key in keys],
                "mentions": [totals[key] for key in keys],
            },
        )


def add(tenant_id: int, rows: Iterable[tuple[datetime, str]]) -> None:
    """Count stored mentions, given as (published time, sentiment)."""
    _upsert(tenant_id, Counter((hour_of(at), sentiment) for at, sentiment in rows))


def subtract(tenant_id: int, rows: Iterable[tuple[datetime, str]]) -> None:
    """Take deleted mentions, given as (published time, sentiment), off the tally."""
    gone = Counter((hour_of(at), sentiment) for at, sentiment in rows)
    _upsert(tenant_id, Counter({key: -n for key, n in gone.items()}))


def apply(tenant_id: int, deltas: Counter[tuple[datetime, str]]) -> None:
    """Add signed counts per (hour, sentiment): a mention whose sentiment changed
    (``monitoring.rollups.move_sentiment``)."""
    _upsert(tenant_id, deltas)


def _ceil_hour(moment: datetime) -> datetime:
    floor = hour_of(moment)
    return floor if floor == moment else floor + HOUR


def count(tenant_id: int, filterset: Any) -> int:
    """How many mentions of the tenant a valid ``MentionFilterSet`` matches."""
    active = {
        name: value
        for name, value in filterset.form.cleaned_data.items()
        if value not in (None, "", [])
    }
    if not set(active) <= TALLIED:
        return int(filterset.qs.order_by().count())
    since: datetime | None = active.get("published_after")
    until: datetime | None = active.get("published_before")
    sentiment: str | None = active.get("sentiment")
    tally = MentionTally.objects.for_tenant(tenant_id)
    mentions = Mention.objects.for_tenant(tenant_id)
    if sentiment is not None:
        tally = tally.filter(sentiment=sentiment)
        mentions = mentions.filter(sentiment=sentiment)
    start = _ceil_hour(since) if since is not None else None
    end = hour_of(until) if until is not None else None
    if start is not None and end is not None and start >= end:  # within one hour or two
        return mentions.filter(published_at__gte=since, published_at__lt=until).count()
    edges = []  # the partial hours at the ends, counted from the mentions
    if start is not None:
        tally = tally.filter(bucket__gte=start)
        if start != since:
            edges.append(Q(published_at__gte=since, published_at__lt=start))
    if end is not None:
        tally = tally.filter(bucket__lt=end)
        if end != until:
            edges.append(Q(published_at__gte=end, published_at__lt=until))
    whole = tally.aggregate(n=Sum("mentions"))["n"] or 0
    partial = mentions.filter(reduce(operator.or_, edges)).count() if edges else 0
    return int(whole) + partial
