"""The author rollup (``AuthorBucket``) and the top-authors read it serves.

What it guarantees:

* **In step with the mentions.** ``add`` counts the mentions a pipeline chunk inserted, in the
  chunk's transaction (``monitoring.pipeline``): per hour (UTC), author (platform, handle) and
  query (0: every mention), the number of mentions, the largest follower count (``reach``) and
  the largest display name. ``refresh`` recomputes given author-hours from the mentions left;
  it runs wherever mentions go (``services.delete_mentions``, retention) or their follower
  counts change (the pipeline's update of re-delivered items), so the rollup never keeps a
  person whose mentions are gone. A refresh reads one author's hour through ``mention_author``
  (tenant, handle, published time).
* **Exact answers.** ``top_authors`` answers what a scan of the period's mentions would: the
  authors with the largest reach over ``[since, until)``, then most mentions, then handle. The
  whole hours inside the period come from the rollup (walked from the largest reach down,
  index ``author_bucket_by_reach``, until ``limit`` authors are found and the next row has less
  reach); the partial hours at either end come from the mentions themselves, through an index.
  Its cost follows the number of authors and hours, not the number of mentions.

Every statement names the tenant. Handles are never empty here: mentions without an author
are not counted (top authors leaves them out).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import connection
from django.db.models import Count, Max, Q, QuerySet, Sum

from monitoring import sqlarrays
from monitoring.models import AuthorBucket, Mention

HOUR = timedelta(hours=1)

_ADD = """
    INSERT INTO monitoring_authorbucket (tenant_id, query_id, bucket, platform, author_handle,
        author_name, mentions, reach)
    SELECT %(tenant)s, * FROM unnest(%(query)s::bigint[], %(bucket)s::timestamptz[],
        %(platform)s::text[], %(handle)s::text[], %(name)s::text[], %(mentions)s::int[],
        %(reach)s::bigint[])
    ON CONFLICT (tenant_id, platform, author_handle, bucket, query_id) DO UPDATE SET
        mentions = monitoring_authorbucket.mentions + EXCLUDED.mentions,
        reach = greatest(monitoring_authorbucket.reach, EXCLUDED.reach),
        author_name = greatest(monitoring_authorbucket.author_name, EXCLUDED.author_name)
"""
_KEYS = """(SELECT DISTINCT * FROM unnest(%(platform)s::text[], %(handle)s::text[],
        %(bucket)s::timestamptz[])) AS k(platform, handle, bucket)"""
_FORGET = f"""
    DELETE FROM monitoring_authorbucket AS a USING {_KEYS}
    WHERE a.tenant_id = %(tenant)s AND a.platform = k.platform AND a.author_handle = k.handle
        AND a.bucket = k.bucket
"""  # noqa: S608 - constant text
_RECOUNT = f"""
    INSERT INTO monitoring_authorbucket (tenant_id, query_id, bucket, platform, author_handle,
        author_name, mentions, reach)
    SELECT %(tenant)s, q.query_id, k.bucket, k.platform, k.handle, max(m.author_name),
        count(*), max(m.author_followers)
    FROM {_KEYS}
    JOIN monitoring_mention AS m ON m.tenant_id = %(tenant)s AND m.author_handle = k.handle
        AND m.published_at >= k.bucket AND m.published_at < k.bucket + interval '1 hour'
        AND m.platform = k.platform
    CROSS JOIN LATERAL unnest(array_prepend(0::bigint, m.matched_queries)) AS q(query_id)
    GROUP BY q.query_id, k.bucket, k.platform, k.handle
    ORDER BY k.platform, k.handle, k.bucket, q.query_id
    ON CONFLICT (tenant_id, platform, author_handle, bucket, query_id) DO UPDATE SET
        mentions = EXCLUDED.mentions, reach = EXCLUDED.reach, author_name = EXCLUDED.author_name
"""  # noqa: S608 - constant text


def hour_of(moment: datetime) -> datetime:
    """The start of ``moment``'s hour, in UTC (the rollup's bucket)."""
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


@dataclass(slots=True)
class _Hour:
    """One author's mentions in one hour for one query (an ``AuthorBucket`` row to add)."""

    mentions: int = 0
    reach: int = 0
    name: str = ""


def add(tenant_id: int, rows: Iterable[Any]) -> None:
    """Count newly stored mentions (objects with ``published_at``, ``matched_queries``,
    ``platform``, ``author_handle``, ``author_name`` and ``author_followers``), in one
    upsert whose keys are sorted (one lock order for every worker)."""
    totals: dict[tuple[str, str, datetime, int], _Hour] = {}
    for row in rows:
        if not row.author_handle:
            continue
        hour = hour_of(row.published_at)
        for query_id in (0, *row.matched_queries):
            key = (row.platform, row.author_handle, hour, query_id)
            counts = totals.get(key)
            if counts is None:
                counts = totals[key] = _Hour()
            counts.mentions += 1
            counts.reach = max(counts.reach, row.author_followers)
            counts.name = max(counts.name, row.author_name)
    if not totals:
        return
    keys = sorted(totals)
    with connection.cursor() as cursor:
        cursor.execute(
            _ADD,
            {
                "tenant": tenant_id,
                "query": sqlarrays.ints(key[3] for key in keys),
                "bucket": sqlarrays.times(key[2] for key in keys),
                "platform": sqlarrays.texts(key[0] for key in keys),
                "handle": sqlarrays.texts(key[1] for key in keys),
                "name": sqlarrays.texts(totals[key].name for key in keys),
                "mentions": sqlarrays.ints(totals[key].mentions for key in keys),
                "reach": sqlarrays.ints(totals[key].reach for key in keys),
            },
        )


def refresh(tenant_id: int, authors: Iterable[tuple[str, str, datetime]]) -> None:
    """Recompute the hours of these (platform, handle, published time) from the mentions
    stored now: call it after deleting mentions or changing their follower counts, in the same
    transaction. Hours left without mentions lose their rows."""
    keys = sorted({(platform, handle, hour_of(at)) for platform, handle, at in authors if handle})
    if not keys:
        return
    params: dict[str, Any] = {
        "tenant": tenant_id,
        "platform": [key[0] for key in keys],
        "handle": [key[1] for key in keys],
        "bucket": [key[2] for key in keys],
    }
    with connection.cursor() as cursor:
        cursor.execute(_FORGET, params)
        cursor.execute(_RECOUNT, params)


# --- reading ---------------------------------------------------------------------------------


@dataclass(slots=True)
class _Author:
    reach: int = 0
    mentions: int = 0
    name: str = ""

    def merge(self, reach: int, mentions: int, name: str) -> None:
        self.reach = max(self.reach, reach)
        self.mentions += mentions
        self.name = max(self.name, name or "")


def _ceil_hour(moment: datetime) -> datetime:
    floor = hour_of(moment)
    return floor if floor == moment else floor + HOUR


def top_authors(
    tenant_id: int, *, since: datetime, until: datetime, limit: int, query_id: int | None = None
) -> list[dict[str, Any]]:
    """Authors with the largest reach (their largest follower count in the period), then most
    mentions, then handle and platform; each with the largest name seen in the period.

    Whole hours from ``AuthorBucket`` (walked along ``author_bucket_by_reach``, then the
    candidates' sums along ``author_bucket_unique``), the partial hours at the ends from the
    mentions (``mention_timeline`` or ``mention_by_reach`` for the authors that could rank,
    ``mention_author`` for the candidates' counts)."""
    start, end = _ceil_hour(since), hour_of(until)
    if start >= end:  # no whole hour inside: the period is all edge
        start = end = since
        edges = Q(published_at__gte=since, published_at__lt=until)
    else:
        edges = Q(published_at__gte=since, published_at__lt=start) | Q(
            published_at__gte=end, published_at__lt=until
        )
    query = query_id or 0
    hours = AuthorBucket.objects.for_tenant(tenant_id).filter(
        query_id=query, bucket__gte=start, bucket__lt=end
    )
    edge_rows: QuerySet[Mention] = (
        Mention.objects.for_tenant(tenant_id).filter(edges).exclude(author_handle="")
    )
    if query_id:
        edge_rows = edge_rows.filter(matched_queries__contains=[query_id])

    # 1. The whole hours' authors by reach, down to the limit-th (ties included).
    found: dict[tuple[str, str], int] = {}
    if start < end:
        window, offset = max(200, limit * 10), 0
        while True:
            page = list(
                hours.order_by("-reach", "-bucket", "platform", "author_handle").values_list(
                    "platform", "author_handle", "reach"
                )[offset : offset + window]
            )
            for platform, handle, reach in page:
                if (platform, handle) in found:
                    continue
                if len(found) >= limit and reach < min(found.values()):
                    page = []  # every remaining author has less reach than the ones found
                    break
                found[(platform, handle)] = reach
            else:
                if len(page) == window:
                    offset += window
                    window *= 4
                    continue
            break
    # 2. Authors of the partial hours who could rank: as much reach as the limit-th found.
    threshold = min(found.values()) if len(found) >= limit else 0
    candidates = set(found)
    candidates.update(
        edge_rows.filter(author_followers__gte=threshold)
        .order_by()
        .values_list("platform", "author_handle")
        .distinct()
    )
    if not candidates:
        return []
    # 3. The candidates' exact figures: whole hours plus partial hours.
    handles = sorted({handle for _, handle in candidates})
    authors: dict[tuple[str, str], _Author] = {key: _Author() for key in candidates}
    if start < end:
        for platform, handle, reach, mentions, name in (
            hours.filter(author_handle__in=handles)
            .order_by()
            .values_list("platform", "author_handle")
            .annotate(Max("reach"), Sum("mentions"), Max("author_name"))
        ):
            if (platform, handle) in authors:
                authors[(platform, handle)].merge(reach, mentions, name)
    for platform, handle, reach, mentions, name in (
        edge_rows.filter(author_handle__in=handles)
        .order_by()
        .values_list("platform", "author_handle")
        .annotate(Max("author_followers"), Count("id"), Max("author_name"))
    ):
        if (platform, handle) in authors:
            authors[(platform, handle)].merge(reach, mentions, name)
    ranked = sorted(
        authors.items(),
        key=lambda item: (-item[1].reach, -item[1].mentions, item[0][1], item[0][0]),
    )
    return [
        {
            "platform": platform,
            "author_handle": handle,
            "author_name": author.name,
            "mentions": author.mentions,
            "reach": author.reach,
        }
        for (platform, handle), author in ranked[:limit]
    ]
