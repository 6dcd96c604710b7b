"""The figures of one incident (``docs/evaluation.md`` defines each), read from the incident,
its timeline and links, and monitoring's rollups: the 5-minute ``MetricBucket`` (volume,
sentiment, reach, share of voice) rather than the mentions wherever a rollup exists. Mentions
are read only where no rollup answers: the first related mention (bounded to the 24 hours
before detection) and the reply coverage of high-risk mentions (index ``mention_by_risk``).

Drills have no figures (``DrillError``). ``incident_figures`` answers a JSON-ready dict (times
as ISO 8601 UTC strings), which a Final review freezes.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db.models import Min, Q, Sum
from django.utils import timezone

from incidents.choices import LinkKind, TimelineKind
from incidents.evaluation import calc
from incidents.models import Incident, IncidentLink, TimelineEntry
from incidents.services import targets_for
from monitoring import selectors as monitoring_selectors
from monitoring.choices import TriageStatus
from monitoring.models import Alert, HoaxCluster, Mention, MetricBucket

RELATED_LOOKBACK = timedelta(hours=24)
PERIOD = timedelta(hours=24)
BASELINE_DAYS = 14
HIGH_RISK = 50  # the lowest score of the "high" risk band (monitoring.scoring.risk)
RECOVERY_HORIZON = timedelta(days=7)


class DrillError(ValueError):
    """Drills are left out of every figure."""


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat() if moment is not None else None


def end_of(incident: Incident, now: datetime) -> datetime:
    """The end of the incident's "during" period: its resolution, else now."""
    return incident.resolved_at or now


def subjects(incident: Incident) -> dict[str, Any]:
    """What the incident is linked to: its alerts (with their queries and hoax clusters), its
    queries, its mentions and hoax clusters."""
    links = list(
        IncidentLink.objects.for_tenant(incident.tenant_id)
        .filter(incident_id=incident.pk)
        .values("kind", "alert_id", "query_id", "mention_id", "hoax_cluster_id")
    )
    alert_ids = [row["alert_id"] for row in links if row["alert_id"]]
    alerts = list(
        Alert.objects.for_tenant(incident.tenant_id)
        .filter(pk__in=alert_ids)
        .values("pk", "query_id", "cluster_id", "created_at", "first_evidence_at")
    )
    queries = {row["query_id"] for row in links if row["query_id"]}
    queries |= {row["query_id"] for row in alerts if row["query_id"]}
    clusters = {row["hoax_cluster_id"] for row in links if row["hoax_cluster_id"]}
    clusters |= {row["cluster_id"] for row in alerts if row["cluster_id"]}
    return {
        "alerts": alerts,
        "queries": sorted(queries),
        "alert_queries": sorted({row["query_id"] for row in alerts if row["query_id"]}),
        "mentions": sorted(
            row["mention_id"]
            for row in links
            if row["kind"] == LinkKind.MENTION and row["mention_id"]
        ),
        "clusters": sorted(clusters),
    }


def detection(incident: Incident, found: dict[str, Any]) -> dict[str, Any]:
    """First related mention → first alert → incident (minutes between each)."""
    detected = incident.detected_at
    related = Q(pk__in=found["mentions"]) if found["mentions"] else Q(pk__in=[])
    if found["alert_queries"]:
        related |= Q(
            matched_queries__overlap=found["alert_queries"],
            published_at__gte=detected - RELATED_LOOKBACK,
            published_at__lte=detected,
        )
    first_mention = (
        Mention.objects.for_tenant(incident.tenant_id)
        .filter(related)
        .aggregate(first=Min("published_at"))["first"]
    )
    first_alert = min((row["created_at"] for row in found["alerts"]), default=None)
    return {
        "first_related_mention_at": _iso(first_mention),
        "first_alert_at": _iso(first_alert),
        "detected_at": _iso(detected),
        "minutes_mention_to_alert": calc.minutes_between(first_mention, first_alert),
        "minutes_alert_to_incident": calc.minutes_between(first_alert, detected),
        "minutes_to_detect": calc.minutes_between(first_mention, detected),
    }


def _period(tenant_id: int, start: datetime, end: datetime) -> dict[str, Any]:
    totals = (
        MetricBucket.objects.for_tenant(tenant_id)
        .filter(query_id=0, bucket__gte=start, bucket__lt=end)
        .aggregate(mentions=Sum("mentions"), negative=Sum("negative"), reach=Sum("reach"))
    )
    mentions = int(totals["mentions"] or 0)
    negative = int(totals["negative"] or 0)
    return {
        "since": _iso(start),
        "until": _iso(end),
        "mentions": mentions,
        "negative": negative,
        "negative_share": calc.share(negative, mentions),
        "reach": int(totals["reach"] or 0),
    }


def hourly(tenant_id: int, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """Mentions, negative mentions and reach per UTC hour from the 5-minute rollup of every
    mention (query 0); hours without mentions are left out."""
    rows = (
        MetricBucket.objects.for_tenant(tenant_id)
        .filter(query_id=0, bucket__gte=start, bucket__lt=end)
        .values_list("bucket", "mentions", "negative", "reach")
    )
    hours: dict[datetime, list[int]] = defaultdict(lambda: [0, 0, 0])
    for bucket, mentions, negative, reach in rows:
        hour = bucket.replace(minute=0, second=0, microsecond=0)
        hours[hour][0] += mentions
        hours[hour][1] += negative
        hours[hour][2] += reach
    return [
        {"hour": hour, "mentions": m, "negative": n, "reach": r}
        for hour, (m, n, r) in sorted(hours.items())
        if m
    ]


def volume(incident: Incident, now: datetime) -> dict[str, Any]:
    """Before, during and after (24 hours each side), with the hour of most mentions."""
    start, end = incident.detected_at, end_of(incident, now)
    after_end = min(end + PERIOD, now) if incident.resolved_at else end
    during_hours = hourly(incident.tenant_id, start, end)
    peak = max(
        during_hours, key=lambda row: (row["mentions"], -row["hour"].timestamp()), default=None
    )
    return {
        "before": _period(incident.tenant_id, start - PERIOD, start),
        "during": _period(incident.tenant_id, start, end),
        "after": _period(incident.tenant_id, end, after_end) if incident.resolved_at else None,
        "peak": {"hour": _iso(peak["hour"]), "mentions": peak["mentions"]} if peak else None,
    }


def sentiment_recovery(incident: Incident, now: datetime) -> dict[str, Any]:
    """The pre-incident band of the hourly negative share (14 days: median ± 2 MAD) and the
    minutes from detection until the share is back inside it."""
    start = incident.detected_at
    before = hourly(incident.tenant_id, start - timedelta(days=BASELINE_DAYS), start)
    band = calc.baseline_band([row["negative"] / row["mentions"] for row in before])
    result: dict[str, Any] = {
        "baseline_hours": len(before),
        "band": None,
        "recovered_at": None,
        "minutes_to_recover": None,
    }
    if band is None:
        return result
    result["band"] = {
        "median": round(band.median, 4),
        "mad": round(band.mad, 4),
        "low": round(band.low, 4),
        "high": round(band.high, 4),
    }
    horizon = min(end_of(incident, now) + RECOVERY_HORIZON, now)
    after = hourly(incident.tenant_id, start, horizon)
    back = calc.recovery_hour(
        [(row["hour"], row["negative"] / row["mentions"]) for row in after],
        band,
        after=start.replace(minute=0, second=0, microsecond=0),
    )
    result["recovered_at"] = _iso(back)
    result["minutes_to_recover"] = calc.minutes_between(start, back)
    return result


def share_of_voice(incident: Incident, now: datetime, queries: list[int]) -> dict[str, Any]:
    """The incident's queries' share of the tenant's active queries' mentions while it ran."""
    found = monitoring_selectors.share_of_voice(
        incident.tenant_id, since=incident.detected_at, until=end_of(incident, now)
    )
    mine = sum(row["mentions"] for row in found["results"] if row["query"] in queries)
    return {
        "queries": queries,
        "mentions": mine,
        "total": found["total"],
        "share": calc.share(mine, found["total"]),
        "results": found["results"],
    }


def reply_coverage(incident: Incident, now: datetime, found: dict[str, Any]) -> dict[str, Any]:
    """High-risk mentions (risk ≥ 50) published while the incident ran, of its queries (every
    mention when it has none) or linked to it, and how many were triaged ``responded``."""
    window = Q(
        risk__gte=HIGH_RISK,
        published_at__gte=incident.detected_at,
        published_at__lt=end_of(incident, now),
    )
    if found["queries"]:
        window &= Q(matched_queries__overlap=found["queries"])
    linked = Q(pk__in=found["mentions"], risk__gte=HIGH_RISK)
    statuses = list(
        Mention.objects.for_tenant(incident.tenant_id)
        .filter(window | linked)
        .values_list("status", flat=True)
    )
    responded = sum(1 for status in statuses if status == TriageStatus.RESPONDED)
    return {
        "high_risk": len(statuses),
        "responded": responded,
        "coverage": calc.share(responded, len(statuses)),
    }


def approval_cycles(incident: Incident) -> dict[str, Any]:
    """Submitted → approved per approved statement version, in minutes, and their median
    (``incidents.statements.selectors.approval_cycle_times``)."""
    from incidents.statements.selectors import approval_cycle_times

    cycles = [round(t.total_seconds() / 60, 1) for t in approval_cycle_times(incident)]
    median = round(statistics.median(cycles), 1) if cycles else None
    return {"available": True, "minutes": cycles, "median_minutes": median}


def hoax_clusters(incident: Incident, clusters: list[int]) -> list[dict[str, Any]]:
    """For a hoax: each linked cluster's spread (copies, authors, copies per hour) and
    half-life (hours from the busiest hour to one with at most half as many copies)."""
    rows = HoaxCluster.objects.for_tenant(incident.tenant_id).filter(pk__in=clusters).order_by("pk")
    found = []
    for cluster in rows:
        spread = [
            (_spread_hour(cluster, row["hour"]), int(row["mentions"]))
            for row in cluster.spread or []
        ]
        peak = max(spread, key=lambda item: (item[1], -item[0].timestamp()), default=None)
        found.append(
            {
                "cluster": cluster.pk,
                "text": cluster.text[:300],
                "copies": cluster.member_count,
                "authors": cluster.author_count,
                "first_at": _iso(cluster.first_at),
                "last_at": _iso(cluster.last_at),
                "peak_hour": _iso(peak[0]) if peak else None,
                "peak_copies": peak[1] if peak else 0,
                "half_life_hours": calc.half_life_hours(spread),
                "spread": [{"hour": _iso(h), "copies": n} for h, n in spread],
            }
        )
    return found


def _spread_hour(cluster: HoaxCluster, value: Any) -> datetime:
    """An hour of a cluster's spread: an ISO time, or hours since the first copy's hour."""
    if isinstance(value, int | float):
        first = cluster.first_at.replace(minute=0, second=0, microsecond=0)
        return first + timedelta(hours=int(value))
    return datetime.fromisoformat(str(value))


def statements_of(incident: Incident) -> list[datetime]:
    return list(
        TimelineEntry.objects.for_tenant(incident.tenant_id)
        .filter(incident_id=incident.pk, kind=TimelineKind.STATEMENT)
        .order_by("at")
        .values_list("at", flat=True)
    )


def incident_figures(incident: Incident, now: datetime | None = None) -> dict[str, Any]:
    """Every figure of ``incident`` (``docs/evaluation.md``); ``DrillError`` for a drill."""
    if incident.is_drill:
        raise DrillError("Drills are left out of every figure.")
    now = now or timezone.now()
    found = subjects(incident)
    detected = incident.detected_at
    statements = statements_of(incident)
    targets = targets_for(incident.tenant_id, incident.severity)
    update = None
    if targets.update and incident.first_statement_at is not None:
        result = calc.cadence(statements, end_of(incident, now), targets.update)
        update = {
            "target_minutes": result.target_minutes,
            "gaps": result.gaps,
            "met": result.met,
            "adherence": result.adherence,
        }
    return {
        "incident": incident.pk,
        "computed_at": _iso(now),
        "severity": incident.severity,
        "trigger": incident.trigger,
        "detection": detection(incident, found),
        "minutes_to_acknowledge": calc.minutes_between(detected, incident.acknowledged_at),
        "minutes_to_first_statement": calc.minutes_between(detected, incident.first_statement_at),
        "statements": [_iso(t) for t in statements],
        "update_cadence": update,
        "minutes_to_mitigate": calc.minutes_between(detected, incident.mitigated_at),
        "minutes_to_resolve": calc.minutes_between(detected, incident.resolved_at),
        "volume": volume(incident, now),
        "sentiment_recovery": sentiment_recovery(incident, now),
        "share_of_voice": share_of_voice(incident, now, found["queries"]),
        "reply_coverage": reply_coverage(incident, now, found),
        "approval_cycle": approval_cycles(incident),
        "hoax": hoax_clusters(incident, found["clusters"]) if incident.trigger == "hoax" else None,
    }
