"""The monitoring app's panels on the tenant start page (``tenants.overview``, docs/admin.md).

Registered by ``MonitoringConfig.ready``; each reads through ``monitoring.selectors`` with the
tenant pinned, one query per panel:

- **Volume and sentiment, last 7 days**: hourly mentions (line) over positive, neutral and
  negative mentions (stacked areas), from the 5-minute rollups (``selectors.volume``), as a
  server-rendered SVG chart (``tenants.charts``). The window is the 168 whole hours that end at
  the end of the current hour in the tenant's zone.
- **Negative share against its baseline** (``negative_share``): the share of negative mentions
  among those with a sentiment (positive, neutral or negative) over the last 24 hours of the
  window, against the baseline: the median of the same share over each of the six 24-hour
  periods before it (periods without a mention with sentiment are left out). The difference is
  in percentage points. Same rollups as the chart: no extra query.
- **Riskiest mentions**: the 10 mentions of highest risk published in the window
  (``selectors.riskiest_mentions``, index ``mention_by_risk``), with their risk band's colour.
- **Sources in error**: sources whose last poll or delivery failed (``selectors.sources_in_error``).

On the agency page's tenant table, for all the agency's tenants at once (one query each): the
mentions and the negative share of the last 24 whole hours (``selectors.period_totals``)
and the number of sources in error (``selectors.sources_in_error_counts``).
"""

from __future__ import annotations

import statistics
import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from monitoring import selectors
from monitoring.choices import RiskBand
from tenants import overview
from tenants.charts import COLOURS, Series, time_series_svg
from tenants.models import Tenant

WINDOW_HOURS = 7 * 24
PERIOD_HOURS = 24
RISKY_LIMIT = 10
SOURCES_LIMIT = 20


def window(*, now: datetime, time_zone: str) -> tuple[datetime, datetime]:
    """(since, until): the 168 whole hours ending at the end of ``now``'s hour in the zone."""
    local = now.astimezone(zoneinfo.ZoneInfo(time_zone))
    until = local.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    return until - timedelta(hours=WINDOW_HOURS), until


def hourly(
    rows: Sequence[dict[str, Any]], *, since: datetime, until: datetime
) -> list[dict[str, Any]]:
    """One row per hour of the window (hours without mentions as zeros), oldest first."""
    by_start = {row["bucket"].timestamp(): row for row in rows}
    hours = int((until - since) / timedelta(hours=1))
    filled = []
    for index in range(hours):
        start = since + timedelta(hours=index)
        row = by_start.get(start.timestamp())
        filled.append(
            {
                "bucket": start,
                **{name: (row[name] if row else 0) for name in selectors.SERIES_FIELDS},
            }
        )
    return filled


@dataclass(frozen=True, kw_only=True)
class NegativeShare:
    """The last 24 hours' negative share against the median of the six periods before."""

    current: float | None
    baseline: float | None
    negative: int
    classified: int
    periods: int

    @property
    def current_percent(self) -> float | None:
        return None if self.current is None else round(100 * self.current, 1)

    @property
    def baseline_percent(self) -> float | None:
        return None if self.baseline is None else round(100 * self.baseline, 1)

    @property
    def delta_points(self) -> float | None:
        if self.current is None or self.baseline is None:
            return None
        return round(100 * (self.current - self.baseline), 1)


def negative_share(rows: Sequence[dict[str, Any]]) -> NegativeShare:
    """From the window's hourly rows (``hourly``): see the module's docstring."""
    negative = [0] * (len(rows) // PERIOD_HOURS + 1)
    classified = [0] * len(negative)
    for index, row in enumerate(reversed(rows)):
        period = index // PERIOD_HOURS
        negative[period] += row["negative"]
        classified[period] += row["positive"] + row["neutral"] + row["negative"]
    shares = [
        negative[period] / classified[period] if classified[period] else None
        for period in range(len(negative))
        if period * PERIOD_HOURS < len(rows)
    ]
    previous = [share for share in shares[1:] if share is not None]
    return NegativeShare(
        current=shares[0] if shares else None,
        baseline=statistics.median(previous) if previous else None,
        negative=negative[0],
        classified=classified[0],
        periods=len(previous),
    )


def _series(tenant: Tenant, now: datetime) -> list[dict[str, Any]]:
    since, until = window(now=now, time_zone=tenant.time_zone)
    rows = selectors.volume(tenant.pk, since=since, until=until, interval="1h", tz=tenant.time_zone)
    return hourly(rows, since=since, until=until)


def volume_panel(*, tenant: Tenant, now: datetime) -> overview.Panel:
    rows = _series(tenant, now)
    share = negative_share(rows)
    zone = zoneinfo.ZoneInfo(tenant.time_zone)
    chart = time_series_svg(
        times=[row["bucket"] for row in rows],
        series=[
            Series(
                key=name,
                label=str(label),
                values=[row[name] for row in rows],
                colour=COLOURS[name],
                stacked=True,
            )
            for name, label in (
                ("negative", _("Negative")),
                ("neutral", _("Neutral")),
                ("positive", _("Positive")),
            )
        ]
        + [
            Series(
                key="mentions",
                label=str(_("Mentions")),
                values=[row["mentions"] for row in rows],
                colour=COLOURS["total"],
            )
        ],
        time_zone=zone,
        title=str(_("Mentions per hour, last 7 days")),
    )
    totals = {name: sum(row[name] for row in rows) for name in selectors.SERIES_FIELDS}
    return overview.Panel(
        title=str(_("Volume and sentiment, last 7 days")),
        template="monitoring/admin/overview/volume.html",
        context={"chart": chart, "totals": totals, "share": share, "hours": len(rows)},
        wide=True,
    )


def risky_panel(*, tenant: Tenant, now: datetime) -> overview.Panel:
    since, until = window(now=now, time_zone=tenant.time_zone)
    rows = [
        {
            "mention": mention,
            "band": RiskBand(mention.risk_band),
            "url": reverse("admin:monitoring_mention_change", args=[mention.pk]),
        }
        for mention in selectors.riskiest_mentions(
            tenant.pk, since=since, until=until, limit=RISKY_LIMIT
        )
    ]
    return overview.Panel(
        title=str(_("Riskiest mentions, last 7 days")),
        template="monitoring/admin/overview/risky_mentions.html",
        context={"rows": rows, "list_url": reverse("admin:monitoring_mention_changelist")},
        css=("monitoring/admin/risk.css",),
        wide=True,
    )


def sources_panel(*, tenant: Tenant, now: datetime) -> overview.Panel:
    rows = [
        {"source": source, "url": reverse("admin:monitoring_source_change", args=[source.pk])}
        for source in selectors.sources_in_error(tenant.pk, limit=SOURCES_LIMIT)
    ]
    return overview.Panel(
        title=str(_("Sources in error")),
        template="monitoring/admin/overview/sources.html",
        context={"rows": rows},
        wide=True,
    )


def activity_columns(*, tenants: Sequence[Tenant], now: datetime) -> list[overview.Column]:
    """Mentions and negative share of the last 24 hours, per tenant."""
    # The start page's last 24 hours: whole hours to the end of the current one (in UTC's
    # hours, the same as the tenants' for every zone a whole number of hours off UTC).
    until = window(now=now, time_zone="UTC")[1]
    totals = selectors.period_totals(
        tenants, since=until - timedelta(hours=PERIOD_HOURS), until=until
    )
    shares: dict[int, str] = {}
    for tenant_id, row in totals.items():
        classified = row["positive"] + row["neutral"] + row["negative"]
        if classified:
            shares[tenant_id] = f"{100 * row['negative'] / classified:.1f} %"
    return [
        overview.Column(
            title=str(_("Mentions, last 24 h")),
            cells={tenant.pk: totals.get(tenant.pk, {}).get("mentions", 0) for tenant in tenants},
        ),
        overview.Column(title=str(_("Negative share, last 24 h")), cells=shares),
    ]


def sources_columns(*, tenants: Sequence[Tenant], now: datetime) -> list[overview.Column]:
    """Sources in error, per tenant."""
    counts = selectors.sources_in_error_counts(tenants)
    return [
        overview.Column(
            title=str(_("Sources in error")),
            cells={tenant.pk: counts.get(tenant.pk, 0) for tenant in tenants},
            css={tenant_id: "sigap-level sigap-level--high" for tenant_id in counts},
        )
    ]


def open_alerts(*, tenants: Sequence[Tenant], now: datetime) -> list[overview.Item]:
    """The active alerts (open, acknowledged, snoozed) of these tenants, newest first, at most
    50 (``early_warning.selectors.open_alerts_for_tenants``, index ``alert_by_status``)."""
    from monitoring.early_warning.selectors import open_alerts_for_tenants

    rows = open_alerts_for_tenants(tenant_ids=[tenant.pk for tenant in tenants], limit=50)
    return [
        overview.Item(
            tenant_id=alert.tenant_id,
            kind=str(_("Alert")),
            title=alert.title or alert.get_kind_display(),
            severity=overview.severity_level(alert.severity),
            severity_label=alert.severity.upper(),
            opened_at=alert.created_at,
            url=reverse("admin:monitoring_alert_change", args=[alert.pk]),
        )
        for alert in rows
    ]


def register() -> None:
    """Put the monitoring panels on the tenant start page and its columns on the agency page."""
    overview.register_items("monitoring.alerts", provider=open_alerts, order=10)
    overview.register_panel("monitoring.volume", order=10, provider=volume_panel)
    overview.register_panel("monitoring.risky", order=20, provider=risky_panel)
    overview.register_panel("monitoring.sources", order=30, provider=sources_panel)
    overview.register_columns("monitoring.activity", order=10, provider=activity_columns)
    overview.register_columns("monitoring.sources", order=20, provider=sources_columns)
