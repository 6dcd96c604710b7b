"""The periodic client report of one tenant and period (``docs/evaluation.md``): volume and
sentiment per day, share of voice, top authors and hashtags, alerts and incidents of the
period (drills left out). Read from monitoring's rollups through its selectors; frozen as
JSON in a ``ClientReport`` when made.

Periods are whole weeks (Monday to Monday) or months in the tenant's zone: ``period_for``
gives the last complete one before a moment.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Sum

from incidents import selectors as incident_selectors
from incidents.evaluation.models import ReportFrequency
from monitoring import selectors as monitoring_selectors
from monitoring.models import Alert, MetricBucket
from tenants import i18n
from tenants.models import Tenant

TOP = 10


def period_for(tenant: Tenant, frequency: str, moment: datetime) -> tuple[datetime, datetime]:
    """The last complete week (Monday 00:00 to Monday 00:00) or month before ``moment``, in
    the tenant's zone."""
    zone = i18n.zone_for(tenant=tenant)
    local = moment.astimezone(zone)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    if frequency == ReportFrequency.WEEKLY:
        end = midnight - timedelta(days=midnight.weekday())
        start = (end.replace(tzinfo=None) - timedelta(days=7)).replace(tzinfo=zone)
    elif frequency == ReportFrequency.MONTHLY:
        end = midnight.replace(day=1)
        previous = (end.replace(tzinfo=None) - timedelta(days=1)).replace(day=1)
        start = previous.replace(tzinfo=zone)
    else:
        raise ValueError(frequency)
    return start, end.replace(tzinfo=None).replace(tzinfo=zone)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def report_data(tenant: Tenant, since: datetime, until: datetime) -> dict[str, Any]:
    """Everything the report shows, JSON-ready."""
    zone = i18n.zone_for(tenant=tenant)
    totals = (
        MetricBucket.objects.for_tenant(tenant)
        .filter(query_id=0, bucket__gte=since, bucket__lt=until)
        .aggregate(
            mentions=Sum("mentions"),
            positive=Sum("positive"),
            neutral=Sum("neutral"),
            negative=Sum("negative"),
            reach=Sum("reach"),
        )
    )
    totals = {name: int(value or 0) for name, value in totals.items()}
    totals["negative_share"] = (
        round(totals["negative"] / totals["mentions"], 4) if totals["mentions"] else None
    )
    daily = monitoring_selectors.volume(
        tenant.pk, since=since, until=until, interval="1d", tz=str(zone)
    )
    alerts = list(
        Alert.objects.for_tenant(tenant)
        .filter(created_at__gte=since, created_at__lt=until)
        .order_by("created_at", "pk")
        .values("pk", "kind", "severity", "status", "title", "created_at")
    )
    incidents = list(
        incident_selectors.incidents(tenant=tenant, internal=False)
        .filter(detected_at__gte=since, detected_at__lt=until)
        .order_by("detected_at", "pk")
        .values(
            "pk",
            "title",
            "severity",
            "trigger",
            "status",
            "detected_at",
            "acknowledged_at",
            "resolved_at",
        )
    )
    summary = incident_selectors.figures(tenant=tenant, since=since, until=until)
    return {
        "tenant": tenant.slug,
        "since": _iso(since),
        "until": _iso(until),
        "time_zone": str(zone),
        "totals": totals,
        "daily": [
            {
                "day": _iso(row["bucket"]),
                **{
                    k: int(row[k]) for k in ("mentions", "positive", "neutral", "negative", "reach")
                },
            }
            for row in daily
        ],
        "share_of_voice": monitoring_selectors.share_of_voice(tenant.pk, since=since, until=until),
        "top_authors": [
            {k: row[k] for k in ("platform", "author_handle", "author_name", "mentions", "reach")}
            for row in monitoring_selectors.top_authors(
                tenant.pk, since=since, until=until, limit=TOP
            )
        ],
        "top_hashtags": monitoring_selectors.top_hashtags(
            tenant.pk, since=since, until=until, limit=TOP
        ),
        "alerts": {
            "count": len(alerts),
            "by_severity": dict(sorted(Counter(row["severity"] for row in alerts).items())),
            "by_kind": dict(sorted(Counter(row["kind"] for row in alerts).items())),
            "items": [
                {
                    "id": row["pk"],
                    "kind": row["kind"],
                    "severity": row["severity"],
                    "status": row["status"],
                    "title": row["title"],
                    "created_at": _iso(row["created_at"]),
                }
                for row in alerts[:50]
            ],
        },
        "incidents": {
            "count": len(incidents),
            "median_minutes_to_acknowledge": summary["median_minutes_to_acknowledge"],
            "median_minutes_to_resolve": summary["median_minutes_to_resolve"],
            "items": [
                {
                    "id": row["pk"],
                    "title": row["title"],
                    "severity": row["severity"],
                    "trigger": row["trigger"],
                    "status": row["status"],
                    "detected_at": _iso(row["detected_at"]),
                    "resolved_at": _iso(row["resolved_at"]),
                }
                for row in incidents
            ],
        },
    }
