"""Reads of early warning, always given the tenant (or tenants)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet

from monitoring.choices import ACTIVE_ALERT_STATUSES, AlertStatus
from monitoring.models import (
    Alert,
    AlertEvent,
    AlertRule,
    HoaxCluster,
    MonitoredQuery,
    OwnedAccount,
)


def _with_related(rows: QuerySet[Alert], tenant: Any) -> QuerySet[Alert]:
    """Rules and queries fetched in one pinned query each (a join on a nullable key would name
    the id alone), the acknowledging user joined."""
    related: QuerySet[Alert] = rows.select_related("acknowledged_by")
    return related.prefetch_related(  # type: ignore[type-var]
        Prefetch("rule", queryset=AlertRule.objects.for_tenant(tenant)),
        Prefetch("query", queryset=MonitoredQuery.objects.for_tenant(tenant)),
    )


def alerts(*, tenant: Any) -> QuerySet[Alert]:
    """A tenant's alerts, newest first (index ``alert_by_status`` when filtered by status),
    rule and query prefetched (two more queries)."""
    return _with_related(Alert.objects.for_tenant(tenant), tenant).order_by("-created_at", "-id")


def open_alerts(*, tenant: Any, limit: int = 20) -> list[Alert]:
    """The tenant's active alerts (open, acknowledged, snoozed), newest first, at most
    ``limit`` (index ``alert_by_status``: tenant, status, created)."""
    return list(alerts(tenant=tenant).filter(status__in=ACTIVE_ALERT_STATUSES)[:limit])


def open_alerts_for_tenants(*, tenant_ids: Iterable[int], limit: int = 20) -> list[Alert]:
    """Active alerts across several tenants (an agency's start page), newest first, at most
    ``limit`` in all; the caller's scope must cover the tenants (index ``alert_by_status``)."""
    ids = sorted({int(t) for t in tenant_ids})
    if not ids:
        return []
    rows = Alert.objects.for_tenant(ids).filter(status__in=ACTIVE_ALERT_STATUSES)
    return list(
        _with_related(rows, ids).select_related("tenant").order_by("-created_at", "-id")[:limit]
    )


def alert_history(*, alert: Alert) -> QuerySet[AlertEvent]:
    """An alert's events in order (index ``alert_event_by_alert``), actors joined."""
    return (
        AlertEvent.objects.for_tenant(alert.tenant_id)
        .filter(alert=alert)
        .select_related("actor")  # users are shared rows, joined on their key
        .order_by("at", "id")
    )


def rules(*, tenant: Any) -> QuerySet[AlertRule]:
    """A tenant's rules by name (unique index ``alert_rule_unique_name``), queries prefetched."""
    return (
        AlertRule.objects.for_tenant(tenant)
        .prefetch_related(Prefetch("query", queryset=MonitoredQuery.objects.for_tenant(tenant)))
        .order_by("name")
    )


def false_positive_rates(*, tenant: Any) -> dict[int, dict[str, Any]]:
    """Per rule id: ``alerts`` (all), ``dismissed`` (false positives), ``resolved`` and
    ``rate``, dismissed / (dismissed + resolved), the alerts someone decided on (None before
    any decision). One aggregate over index ``alert_episode`` (tenant, rule, …)."""
    rows = (
        Alert.objects.for_tenant(tenant)
        .filter(rule__isnull=False)
        .values("rule_id")
        .annotate(
            total=Count("id"),
            dismissed=Count("id", filter=Q(status=AlertStatus.DISMISSED)),
            resolved=Count("id", filter=Q(status=AlertStatus.RESOLVED)),
        )
        .order_by()
    )
    out: dict[int, dict[str, Any]] = {}
    for row in rows:
        decided = row["dismissed"] + row["resolved"]
        out[row["rule_id"]] = {
            "alerts": row["total"],
            "dismissed": row["dismissed"],
            "resolved": row["resolved"],
            "rate": round(row["dismissed"] / decided, 4) if decided else None,
        }
    return out


def false_positive_rate(*, rule: AlertRule) -> dict[str, Any]:
    """``false_positive_rates`` of one rule."""
    empty = {"alerts": 0, "dismissed": 0, "resolved": 0, "rate": None}
    return false_positive_rates(tenant=rule.tenant_id).get(rule.pk, empty)


def clusters(*, tenant: Any) -> QuerySet[HoaxCluster]:
    """A tenant's hoax clusters, most recently active first (index ``hoax_cluster_recent``)."""
    return HoaxCluster.objects.for_tenant(tenant).order_by("-last_at", "-id")


def owned_accounts(*, tenant: Any) -> QuerySet[OwnedAccount]:
    """A tenant's owned accounts (unique index ``owned_account_unique``)."""
    return OwnedAccount.objects.for_tenant(tenant).order_by("platform", "handle")
