"""The evaluation's charts, drawn by the project's one chart module (``tenants.charts``):

- ``timeline``: mentions per hour (negative ones apart) from 24 hours before detection to 24
  hours after resolution, with the incident's milestones marked (alerts, acknowledged,
  statements, mitigated, resolved);
- ``negative_share``: the hourly negative share against its pre-incident baseline band
  (median ± 2 MAD of the 14 days before);
- ``share_of_voice``: each active query's mentions while the incident ran, its own queries
  highlighted.

``render(name, incident, fmt)`` answers ``(bytes, content type)`` for ``svg`` or ``png``.
Drills have no charts (``figures.DrillError``).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from incidents.evaluation import figures as figures_module
from incidents.evaluation.figures import DrillError
from incidents.models import Incident
from tenants import charts, i18n

CHARTS = ("timeline", "negative_share", "share_of_voice")
FORMATS = {"svg": "image/svg+xml", "png": "image/png"}
HOUR = timedelta(hours=1)


def _hours(start: datetime, end: datetime) -> list[datetime]:
    first = start.replace(minute=0, second=0, microsecond=0)
    found: list[datetime] = []
    hour = first
    while hour < end and len(found) < 24 * 60:
        found.append(hour)
        hour += HOUR
    return found or [first]


def _span(incident: Incident, now: datetime) -> tuple[datetime, datetime]:
    end = figures_module.end_of(incident, now)
    return incident.detected_at - figures_module.PERIOD, min(end + figures_module.PERIOD, now)


def milestones(incident: Incident) -> list[charts.Marker]:
    found = figures_module.subjects(incident)
    marks: list[charts.Marker] = []
    for alert in found["alerts"]:
        marks.append(charts.Marker(at=alert["created_at"], label=_("alert"), colour="#ef6c00"))
    for label, at in (
        (_("detected"), incident.detected_at),
        (_("acknowledged"), incident.acknowledged_at),
        (_("mitigated"), incident.mitigated_at),
        (_("resolved"), incident.resolved_at),
    ):
        if at is not None:
            marks.append(charts.Marker(at=at, label=label))
    for at in figures_module.statements_of(incident):
        marks.append(charts.Marker(at=at, label=_("statement"), colour="#2e7d32"))
    return sorted(marks, key=lambda mark: mark.at)


def _series(incident: Incident, now: datetime) -> tuple[list[datetime], dict[datetime, Any]]:
    start, end = _span(incident, now)
    rows = {row["hour"]: row for row in figures_module.hourly(incident.tenant_id, start, end)}
    return _hours(start, end), rows


def render(
    name: str, incident: Incident, fmt: str, now: datetime | None = None
) -> tuple[bytes, str]:
    if incident.is_drill:
        raise DrillError("Drills are left out of every figure.")
    if name not in CHARTS:
        raise ValueError(name)
    now = now or timezone.now()
    zone = i18n.zone_for(tenant=incident.tenant)
    if name == "share_of_voice":
        found = figures_module.subjects(incident)
        voice = figures_module.share_of_voice(incident, now, found["queries"])
        rows = voice["results"][:12] or [{"name": _("(no queries)"), "mentions": 0, "query": 0}]
        bars: dict[str, Any] = {
            "labels": [row["name"] for row in rows],
            "values": [row["mentions"] for row in rows],
            "highlight": [row["query"] in found["queries"] for row in rows],
            "title": _("Share of voice while the incident ran"),
        }
        if fmt == "svg":
            return charts.bar_chart_svg(**bars).encode("utf-8"), FORMATS[fmt]
        return charts.bar_chart_png(**bars), FORMATS[fmt]
    times, rows = _series(incident, now)
    options: dict[str, Any] = {"times": times, "time_zone": zone}
    if name == "timeline":
        options |= {
            "series": [
                charts.Series(
                    key="mentions",
                    label=_("Mentions"),
                    values=[rows[h]["mentions"] if h in rows else 0 for h in times],
                ),
                charts.Series(
                    key="negative",
                    label=_("Negative"),
                    values=[rows[h]["negative"] if h in rows else 0 for h in times],
                    colour=charts.COLOURS["negative"],
                ),
            ],
            "title": _("Volume and sentiment per hour"),
            "y_label": _("mentions"),
            "markers": milestones(incident),
        }
    else:
        recovery = figures_module.sentiment_recovery(incident, now)
        shares = [
            round(100 * rows[h]["negative"] / rows[h]["mentions"], 1) if h in rows else 0.0
            for h in times
        ]
        band = recovery["band"]
        options |= {
            "series": [
                charts.Series(
                    key="negative-share",
                    label=_("Negative share (%)"),
                    values=shares,
                    colour=charts.COLOURS["negative"],
                )
            ],
            "title": _("Negative share against its baseline band"),
            "y_label": "%",
            "y_max": 100,
            "band": charts.BandArea(
                low=[100 * band["low"]] * len(times),
                high=[100 * band["high"]] * len(times),
                label=_("Baseline (median ± 2 MAD)"),
            )
            if band
            else None,
            "markers": [
                mark
                for mark in milestones(incident)
                if mark.label in (_("detected"), _("resolved"))
            ],
        }
    if fmt == "svg":
        return charts.time_series_svg(**options).encode("utf-8"), FORMATS[fmt]
    return charts.time_series_png(**options), FORMATS[fmt]
