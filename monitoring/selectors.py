"""Reads of the monitoring app, always given the tenant."""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.contrib.postgres.search import SearchQuery
from django.db.models import Count, F, Q, QuerySet, Sum
from django.db.models.functions import Trunc

from monitoring import authors, counts
from monitoring.choices import SourceStatus
from monitoring.models import (
    LexiconEntry,
    LowCredibilityDomain,
    Mention,
    MetricBucket,
    MonitoredQuery,
    Source,
    TermBucket,
    TrackedTerm,
)
from monitoring.scoring import TenantExtensions
from tenants.models import Tenant


def scoring_extensions(tenant_id: int) -> TenantExtensions:
    """The tenant's terms, lexicon additions and low-credibility domains for the scorer."""
    return TenantExtensions(
        terms=TrackedTerm.objects.for_tenant(tenant_id).values_list("text", "kind"),
        lexicon=[
            (label, phrase) if weight is None else (label, phrase, weight)
            for label, phrase, weight in LexiconEntry.objects.for_tenant(tenant_id).values_list(
                "label", "phrase", "weight"
            )
        ],
        low_credibility_domains=LowCredibilityDomain.objects.for_tenant(tenant_id).values_list(
            "domain", flat=True
        ),
    )


# --- mentions --------------------------------------------------------------------------------


def mention_list(queryset: QuerySet[Mention]) -> QuerySet[Mention]:
    """Mentions as lists show them: newest first (index ``mention_timeline``; the orderings by
    risk and reach walk ``mention_by_risk`` and ``mention_by_reach``), the assignee joined (no
    N+1), without the bulky columns lists never show."""
    return (
        queryset.select_related("assignee").defer("raw", "search").order_by("-published_at", "-id")
    )


def search_mentions(queryset: QuerySet[Mention], text: str) -> QuerySet[Mention]:
    """Mentions whose text matches ``text`` in web-search syntax (words, "phrases",
    -exclusions, OR), on the generated ``search`` tsvector (``simple`` configuration: no
    stemming, so Indonesian and English words match as written) through its GIN index
    ``mention_search``. The one full-text search: the REST and GraphQL ``q`` filter and the
    admin's search box both call it. Blank text filters nothing."""
    if not text.strip():
        return queryset
    return queryset.filter(search_condition(text))


def search_condition(text: str) -> Q:
    """The condition of ``search_mentions``, to combine with others in one filter (so the
    tenant filter stays at the top of the statement)."""
    return Q(search=SearchQuery(text, config="simple", search_type="websearch"))


def mentions(tenant_id: int) -> QuerySet[Mention]:
    """A tenant's mentions, newest first."""
    return mention_list(Mention.objects.for_tenant(tenant_id))


def mention_count(tenant_id: int, filterset: Any) -> int:
    """How many of the tenant's mentions a valid ``MentionFilterSet`` matches: from the hourly
    tally (index ``mention_tally_unique``) when it filters by sentiment and published time
    only, else a count of the mentions: ``monitoring.counts.count``."""
    return counts.count(tenant_id, filterset)


# --- metrics ---------------------------------------------------------------------------------

INTERVALS = {"5m": None, "1h": "hour", "1d": "day"}
SERIES_FIELDS = ("mentions", "positive", "neutral", "negative", "reach", "engagement")


def volume(
    tenant_id: int,
    *,
    since: datetime,
    until: datetime,
    interval: str,
    tz: str,
    query_id: int | None = None,
) -> list[dict[str, Any]]:
    """Mentions, sentiment, reach and engagement per bucket of ``interval`` (``5m``, ``1h``,
    ``1d``), with bucket boundaries in time zone ``tz``, from the 5-minute rollups.

    Buckets without mentions are left out. ``query_id`` None means every mention.
    """
    zone = zoneinfo.ZoneInfo(tz)
    rows = MetricBucket.objects.for_tenant(tenant_id).filter(
        query_id=query_id or 0, bucket__gte=since, bucket__lt=until
    )
    kind = INTERVALS[interval]
    start: Any = F("bucket") if kind is None else Trunc("bucket", kind, tzinfo=zone)
    grouped: Any = (  # rows of the ``values`` below, keyed by the series' names
        rows.annotate(start=start)
        .values("start")
        .annotate(**{name: Sum(name) for name in SERIES_FIELDS})
        .order_by("start")
    )
    return [
        {"bucket": row["start"].astimezone(zone), **{name: row[name] for name in SERIES_FIELDS}}
        for row in grouped
    ]


def share_of_voice(tenant_id: int, *, since: datetime, until: datetime) -> dict[str, Any]:
    """Each active query's mentions over the period and its share of all of them."""
    queries = dict(
        MonitoredQuery.objects.for_tenant(tenant_id)
        .filter(is_active=True)
        .values_list("pk", "name")
    )
    counts = dict(
        MetricBucket.objects.for_tenant(tenant_id)
        .filter(query_id__in=list(queries), bucket__gte=since, bucket__lt=until)
        .values("query_id")
        .annotate(total=Sum("mentions"))
        .values_list("query_id", "total")
    )
    total = sum(counts.values())
    results = [
        {
            "query": pk,
            "name": name,
            "mentions": counts.get(pk, 0),
            "share": round(counts.get(pk, 0) / total, 4) if total else 0.0,
        }
        for pk, name in queries.items()
    ]
    results.sort(key=lambda row: (-row["mentions"], row["name"]))
    return {"total": total, "results": results}


def top_authors(
    tenant_id: int, *, since: datetime, until: datetime, limit: int, query_id: int | None = None
) -> list[dict[str, Any]]:
    """Authors with the largest reach (their largest follower count seen), then most mentions,
    from the hourly author rollup (index ``author_bucket_by_reach``; the partial hours at the
    ends of the period from the mentions): ``monitoring.authors.top_authors``."""
    return authors.top_authors(tenant_id, since=since, until=until, limit=limit, query_id=query_id)


def _top_terms(
    tenant_id: int, kind: str, since: datetime, until: datetime, limit: int, query_id: int | None
) -> list[dict[str, Any]]:
    """Most frequent hashtags or tracked terms from the hourly rollups (hours overlapping the
    period count whole)."""
    rows = (
        TermBucket.objects.for_tenant(tenant_id)
        .filter(
            query_id=query_id or 0,
            kind=kind,
            bucket__gte=since.replace(minute=0, second=0, microsecond=0),
            bucket__lt=until,
        )
        .values("text")
        .annotate(mentions=Sum("mentions"))
        .order_by("-mentions", "text")[:limit]
    )
    return [{"text": row["text"], "mentions": row["mentions"]} for row in rows]


def top_hashtags(
    tenant_id: int, *, since: datetime, until: datetime, limit: int, query_id: int | None = None
) -> list[dict[str, Any]]:
    """The most used hashtags (stored lower-case by the pipeline) over the period."""
    return _top_terms(tenant_id, TermBucket.Kind.HASHTAG, since, until, limit, query_id)


def top_terms(
    tenant_id: int, *, since: datetime, until: datetime, limit: int, query_id: int | None = None
) -> list[dict[str, Any]]:
    """The tracked terms (``term`` entities the scorer found) mentioned most over the period."""
    return _top_terms(tenant_id, TermBucket.Kind.TERM, since, until, limit, query_id)


# --- the admin's start page ------------------------------------------------------------------


def riskiest_mentions(
    tenant_id: int, *, since: datetime, until: datetime, limit: int
) -> QuerySet[Mention]:
    """The ``limit`` mentions of highest risk published in the period, the newest first among
    equals: walks index ``mention_by_risk`` (tenant, risk, published time, id) backwards from the
    highest risk and stops at the ``limit``-th row of the period. Without the bulky columns."""
    return (
        Mention.objects.for_tenant(tenant_id)
        .filter(published_at__gte=since, published_at__lt=until)
        .order_by("-risk", "-published_at", "-id")
        .only(
            "id",
            "tenant_id",
            "platform",
            "author_handle",
            "text",
            "published_at",
            "risk",
            "status",
            "sentiment",
        )[:limit]
    )


def sources_in_error(tenant_id: int, *, limit: int) -> QuerySet[Source]:
    """The tenant's sources whose last poll or delivery failed (``consecutive_failures`` above
    0) or that are marked failing, the most recent error first. A tenant has few sources: the
    primary key's index (tenant, id) bounds the read to the tenant's rows."""
    return (
        Source.objects.for_tenant(tenant_id)
        .filter(Q(consecutive_failures__gt=0) | Q(status=SourceStatus.FAILING))
        .order_by(F("last_error_at").desc(nulls_last=True), "name")
        .only(
            "id",
            "tenant_id",
            "name",
            "kind",
            "status",
            "consecutive_failures",
            "last_error",
            "last_error_at",
            "last_success_at",
        )[:limit]
    )


def period_totals(
    tenants: Iterable[Tenant | int], *, since: datetime, until: datetime
) -> dict[int, dict[str, int]]:
    """Mentions and their sentiments per tenant over the period, for several tenants at once,
    from the 5-minute rollups of every mention (query 0): index ``bucket_unique`` (tenant,
    query, bucket), one range per tenant. Tenants without mentions are left out."""
    names = ("mentions", "positive", "neutral", "negative")
    rows: Any = (  # rows of the ``values`` below
        MetricBucket.objects.for_tenant(tenants)
        .filter(query_id=0, bucket__gte=since, bucket__lt=until)
        .values("tenant_id")
        .annotate(**{name: Sum(name) for name in names})
        .order_by()
    )
    return {row["tenant_id"]: {name: row[name] for name in names} for row in rows}


def sources_in_error_counts(tenants: Iterable[Tenant | int]) -> dict[int, int]:
    """How many sources are in error (as ``sources_in_error``) per tenant, for several tenants
    at once; tenants without any are left out."""
    rows = (
        Source.objects.for_tenant(tenants)
        .filter(Q(consecutive_failures__gt=0) | Q(status=SourceStatus.FAILING))
        .values("tenant_id")
        .annotate(count=Count("id"))
        .order_by()
    )
    return {row["tenant_id"]: row["count"] for row in rows}
