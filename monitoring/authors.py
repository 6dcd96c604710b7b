"""The author rollups (``AuthorBucket`` per hour, ``AuthorSlot`` per 5 minutes) and the
top-authors read they serve.

What they guarantee:

* **In step with the mentions.** ``add`` counts the mentions a pipeline chunk inserted, in the
  chunk's transaction (``monitoring.pipeline``): per hour and per 5 minutes (UTC), author
  (platform, handle) and query (0: every mention), the number of mentions, the largest follower
  count (``reach``) and the largest display name. ``refresh`` recomputes given author-hours
  (the hour's row and its twelve 5-minute rows) from the mentions left; it runs wherever
  mentions go (``services.delete_mentions``, retention) or their follower counts change (the
  pipeline's update of re-delivered items), so the rollups never keep a person whose mentions
  are gone. A refresh reads one author's hour through ``mention_author`` (tenant, handle,
  published time).
* **Exact answers.** ``top_authors`` answers what a scan of the period's mentions would: the
  authors with the largest reach over ``[since, until)``, then most mentions, then handle. The
  whole hours inside the period come from ``AuthorBucket`` (walked from the largest reach down,
  index ``author_bucket_by_reach``, until ``limit`` authors are found and the next row has less
  reach); the whole 5-minute slots of the partial hours at either end from ``AuthorSlot``; only
  the minutes before the first 5-minute boundary and after the last one (under 5 minutes at
  each end) from the mentions, through an index. Its cost follows the number of authors, hours
  and slots, not the number of mentions.

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
from monitoring.models import AuthorBucket, AuthorSlot, Mention

HOUR = timedelta(hours=1)
SLOT = timedelta(minutes=5)  # the grain of ``AuthorSlot`` (and of ``MetricBucket``)

_ADD = """
    INSERT INTO {table} (tenant_id, query_id, bucket, platform, author_handle, author_name,
        mentions, reach)
    SELECT %(tenant)s, * FROM unnest(%(query)s::bigint[], %(bucket)s::timestamptz[],
        %(platform)s::text[], %(handle)s::text[], %(name)s::text[], %(mentions)s::int[],
        %(reach)s::bigint[])
    ON CONFLICT (tenant_id, platform, author_handle, bucket, query_id) DO UPDATE SET
        mentions = {table}.mentions + EXCLUDED.mentions,
        reach = greatest({table}.reach, EXCLUDED.reach),
        author_name = greatest({table}.author_name, EXCLUDED.author_name)
"""
_KEYS = """(SELECT DISTINCT * FROM unnest(%(platform)s::text[], %(handle)s::text[],
        %(bucket)s::timestamptz[])) AS k(platform, handle, bucket)"""
# The rows of the given author-hours: the hour's own (``AuthorBucket``), its twelve slots'
# (``AuthorSlot``).
_FORGET = f"""
    DELETE FROM {{table}} AS a USING {_KEYS}
    WHERE a.tenant_id = %(tenant)s AND a.author_handle = k.handle AND a.platform = k.platform
        AND a.bucket >= k.bucket AND a.bucket < k.bucket + interval '1 hour'
"""  # noqa: S608 - constant text
_RECOUNT = f"""
    INSERT INTO {{table}} (tenant_id, query_id, bucket, platform, author_handle, author_name,
        mentions, reach)
    SELECT %(tenant)s, q.query_id, {{grain}} AS slot, k.platform, k.handle, max(m.author_name),
        count(*), max(m.author_followers)
    FROM {_KEYS}
    JOIN monitoring_mention AS m ON m.tenant_id = %(tenant)s AND m.author_handle = k.handle
        AND m.published_at >= k.bucket AND m.published_at < k.bucket + interval '1 hour'
        AND m.platform = k.platform
    CROSS JOIN LATERAL unnest(array_prepend(0::bigint, m.matched_queries)) AS q(query_id)
    GROUP BY q.query_id, slot, k.platform, k.handle
    ORDER BY k.platform, k.handle, slot, q.query_id
    ON CONFLICT (tenant_id, platform, author_handle, bucket, query_id) DO UPDATE SET
        mentions = EXCLUDED.mentions, reach = EXCLUDED.reach, author_name = EXCLUDED.author_name
"""  # noqa: S608 - constant text
# Each rollup's table and the bucket of a mention ``m`` of the hour ``k.bucket``.
_GRAINS = (
    (AuthorBucket._meta.db_table, "k.bucket"),
    (AuthorSlot._meta.db_table, "date_bin('5 minutes', m.published_at, k.bucket)"),
)


def hour_of(moment: datetime) -> datetime:
    """The start of ``moment``'s hour, in UTC (the bucket of ``AuthorBucket``)."""
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def slot_of(moment: datetime, hour: datetime | None = None) -> datetime:
    """The start of ``moment``'s 5 minutes, in UTC (the bucket of ``AuthorSlot``); ``hour``:
    its hour when known already."""
    hour = hour_of(moment) if hour is None else hour
    return hour + (moment - hour) // SLOT * SLOT


@dataclass(slots=True)
class _Hour:
    """One author's mentions in one hour or slot for one query (a row to add)."""

    mentions: int = 0
    reach: int = 0
    name: str = ""


def _upsert(
    table: str, tenant_id: int, totals: dict[tuple[str, str, datetime, int], _Hour]
) -> None:
    keys = sorted(totals)
    rows = [totals[key] for key in keys]
    platforms, handles, buckets, queries = zip(*keys, strict=True)
    with connection.cursor() as cursor:
        cursor.execute(
            _ADD.format(table=table),
            {
                "tenant": tenant_id,
                "query": sqlarrays.ints(queries),
                "bucket": sqlarrays.times(buckets),
                "platform": sqlarrays.texts(platforms),
                "handle": sqlarrays.texts(handles),
                "name": sqlarrays.texts([row.name for row in rows]),
                "mentions": sqlarrays.ints(row.mentions for row in rows),
                "reach": sqlarrays.ints(row.reach for row in rows),
            },
        )


def add(tenant_id: int, rows: Iterable[Any]) -> None:
    """Count newly stored mentions (objects with ``published_at``, ``matched_queries``,
    ``platform``, ``author_handle``, ``author_name`` and ``author_followers``) per hour and per
    5 minutes, in one upsert per rollup whose keys are sorted (one lock order for every
    worker)."""
    hours: dict[tuple[str, str, datetime, int], _Hour] = {}
    slots: dict[tuple[str, str, datetime, int], _Hour] = {}
    for row in rows:
        handle = row.author_handle
        if not handle:
            continue
        platform, followers, name = row.platform, row.author_followers, row.author_name
        at = row.published_at.astimezone(UTC)
        # hour_of(at) and slot_of(at): the same instants, in UTC
        hour = at.replace(minute=0, second=0, microsecond=0)
        slot = at.replace(minute=at.minute - at.minute % 5, second=0, microsecond=0)
        for query_id in (0, *row.matched_queries):
            for totals, bucket in ((hours, hour), (slots, slot)):
                key = (platform, handle, bucket, query_id)
                counts = totals.get(key)
                if counts is None:
                    totals[key] = _Hour(1, max(0, followers), name)
                    continue
                counts.mentions += 1
                if followers > counts.reach:
                    counts.reach = followers
                if name > counts.name:
                    counts.name = name
    if hours:
        _upsert(AuthorBucket._meta.db_table, tenant_id, hours)
        _upsert(AuthorSlot._meta.db_table, tenant_id, slots)


def refresh(tenant_id: int, authors: Iterable[tuple[str, str, datetime]]) -> None:
    """Recompute the hours of these (platform, handle, published time), and their slots, from
    the mentions stored now: call it after deleting mentions or changing their follower
    counts, in the same transaction. Hours and slots left without mentions lose their rows."""
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
        for table, grain in _GRAINS:
            cursor.execute(_FORGET.format(table=table), params)
            cursor.execute(_RECOUNT.format(table=table, grain=grain), params)


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


def _ceil(moment: datetime, grain: timedelta) -> datetime:
    """The first boundary of ``grain`` (an hour or a slot, in UTC) at or after ``moment``."""
    floor = hour_of(moment) if grain == HOUR else slot_of(moment)
    return floor if floor == moment else floor + grain


@dataclass(slots=True)
class _Parts:
    """A period cut into what each source answers: whole hours ``[hours_from, hours_to)``
    (``AuthorBucket``; empty if equal), whole 5-minute ``slots`` outside them
    (``AuthorSlot``), and at most two ``edges`` under 5 minutes long (the mentions)."""

    hours_from: datetime
    hours_to: datetime
    slots: list[datetime]
    edges: list[tuple[datetime, datetime]]


def _parts(since: datetime, until: datetime) -> _Parts:
    first, last = _ceil(since, SLOT), slot_of(until)
    if first >= last:  # no whole slot inside: the period is all edge
        return _Parts(since, since, [], [(since, until)])
    hours_from, hours_to = _ceil(since, HOUR), hour_of(until)
    if hours_from >= hours_to:
        hours_from = hours_to = first
    slots, slot = [], first
    while slot < last:
        if not hours_from <= slot < hours_to:
            slots.append(slot)
        slot += SLOT
    edges = [(a, b) for a, b in ((since, first), (last, until)) if a < b]
    return _Parts(hours_from, hours_to, slots, edges)


def top_authors(
    tenant_id: int, *, since: datetime, until: datetime, limit: int, query_id: int | None = None
) -> list[dict[str, Any]]:
    """Authors with the largest reach (their largest follower count in the period), then most
    mentions, then handle and platform; each with the largest name seen in the period.

    Whole hours from ``AuthorBucket`` (walked along ``author_bucket_by_reach``, then the
    candidates' sums along ``author_bucket_unique``), the whole slots of the partial hours from
    ``AuthorSlot`` (``author_slot_by_reach`` for the authors that could rank,
    ``author_slot_unique`` for the candidates' sums), the minutes left at the ends from the
    mentions (``mention_timeline`` or ``mention_by_reach``, then ``mention_author``), one
    statement per end so that each reads one short range of the index."""
    parts = _parts(since, until)
    whole_hours = parts.hours_from < parts.hours_to
    query = query_id or 0
    hours = AuthorBucket.objects.for_tenant(tenant_id).filter(
        query_id=query, bucket__gte=parts.hours_from, bucket__lt=parts.hours_to
    )
    slots = AuthorSlot.objects.for_tenant(tenant_id).filter(query_id=query, bucket__in=parts.slots)
    edges: list[QuerySet[Mention]] = []
    for start, end in parts.edges:
        edge: QuerySet[Mention] = Mention.objects.for_tenant(tenant_id).filter(
            Q(published_at__gte=start, published_at__lt=end), ~Q(author_handle="")
        )
        if query_id:
            edge = edge.filter(matched_queries__contains=[query_id])
        edges.append(edge)

    # 1. The whole hours' authors by reach, down to the limit-th (ties included).
    found: dict[tuple[str, str], int] = {}
    if whole_hours:
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
    # 2. Authors of the slots and edges who could rank: as much reach as the limit-th found.
    threshold = min(found.values()) if len(found) >= limit else 0
    candidates = set(found)
    if parts.slots:
        candidates.update(
            slots.filter(reach__gte=threshold)
            .order_by()
            .values_list("platform", "author_handle")
            .distinct()
        )
    for rows in edges:
        candidates.update(
            rows.filter(author_followers__gte=threshold)
            .order_by()
            .values_list("platform", "author_handle")
            .distinct()
        )
    if not candidates:
        return []
    # 3. The candidates' exact figures: whole hours, slots and edges. The hours' rows are found
    # author by author (platform and handle: the leading columns of ``author_bucket_unique``):
    # with lists of handles and platforms the planner may walk ``author_bucket_by_reach`` over
    # the whole period instead (at 10 M mentions, 0.3 s instead of a few ms for a week).
    handles = sorted({handle for _, handle in candidates})
    authors: dict[tuple[str, str], _Author] = {key: _Author() for key in candidates}
    sums: list[QuerySet[Any]] = []
    if whole_hours:
        each = Q()
        for platform, handle in sorted(candidates):
            each |= Q(platform=platform, author_handle=handle)
        sums.append(hours.filter(each))
    if parts.slots:
        sums.append(slots.filter(author_handle__in=handles))
    for rollup in sums:
        for platform, handle, reach, mentions, name in (
            rollup.order_by()
            .values_list("platform", "author_handle")
            .annotate(Max("reach"), Sum("mentions"), Max("author_name"))
        ):
            if (platform, handle) in authors:
                authors[(platform, handle)].merge(reach, mentions, name)
    for rows in edges:
        for platform, handle, reach, mentions, name in (
            rows.filter(author_handle__in=handles)
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
