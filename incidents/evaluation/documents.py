"""The review and the client report as documents (``export.Document``), for Markdown, PDF and
e-mail alike. ``internal=False`` (the client) keeps only client-visible material: lessons and
action items marked ``visible_to_client``, no feedback ratings.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from incidents.evaluation import charts as review_charts
from incidents.evaluation import selectors
from incidents.evaluation.export import Chart, Document, Heading, Paragraph, Quote, Table
from incidents.evaluation.models import ClientReport, Review
from incidents.models import Incident
from monitoring import selectors as monitoring_selectors
from tenants import charts, i18n
from tenants.models import Tenant

QUOTED_POSTS = 5


def _at(value: Any, tenant: Tenant) -> str:
    if isinstance(value, str):
        value = parse_datetime(value)
    return i18n.local_time(value, tenant=tenant) if value else "—"


def _minutes(value: float | None) -> str:
    return "—" if value is None else _("%(n)s min") % {"n": f"{value:g}"}


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.1f}%"


def _zone_line(tenant: Tenant) -> str:
    zone = i18n.zone_for(tenant=tenant)
    return _("Times are in %(abbr)s (%(zone)s).") % {
        "abbr": i18n.zone_abbreviation(timezone.now(), zone),
        "zone": str(zone),
    }


def figure_rows(figures: dict[str, Any], tenant: Tenant) -> list[list[str]]:
    detection = figures["detection"]
    cadence = figures["update_cadence"]
    recovery = figures["sentiment_recovery"]
    voice = figures["share_of_voice"]
    replies = figures["reply_coverage"]
    approval = figures["approval_cycle"]
    band = recovery["band"]
    return [
        [_("First related mention"), _at(detection["first_related_mention_at"], tenant)],
        [_("First alert"), _at(detection["first_alert_at"], tenant)],
        [_("Incident detected"), _at(detection["detected_at"], tenant)],
        [_("Mention → alert"), _minutes(detection["minutes_mention_to_alert"])],
        [_("Alert → incident"), _minutes(detection["minutes_alert_to_incident"])],
        [_("Time to detect"), _minutes(detection["minutes_to_detect"])],
        [_("Time to acknowledge"), _minutes(figures["minutes_to_acknowledge"])],
        [_("Time to first public statement"), _minutes(figures["minutes_to_first_statement"])],
        [
            _("Update-cadence adherence"),
            "—"
            if not cadence
            else _("%(share)s (%(met)d of %(gaps)d gaps within %(target)d min)")
            % {
                "share": _percent(cadence["adherence"]),
                "met": cadence["met"],
                "gaps": cadence["gaps"],
                "target": cadence["target_minutes"],
            },
        ],
        [_("Time to mitigate"), _minutes(figures["minutes_to_mitigate"])],
        [_("Time to resolve"), _minutes(figures["minutes_to_resolve"])],
        [
            _("Negative-share baseline band"),
            "—"
            if not band
            else f"{_percent(band['low'])} - {_percent(band['high'])} "
            + _("(median %(m)s)") % {"m": _percent(band["median"])},
        ],
        [_("Sentiment back to baseline after"), _minutes(recovery["minutes_to_recover"])],
        [
            _("Share of voice"),
            _("%(share)s (%(mine)d of %(total)d mentions)")
            % {
                "share": _percent(voice["share"]),
                "mine": voice["mentions"],
                "total": voice["total"],
            },
        ],
        [
            _("Reply coverage of high-risk mentions"),
            _("%(share)s (%(responded)d of %(total)d)")
            % {
                "share": _percent(replies["coverage"]),
                "responded": replies["responded"],
                "total": replies["high_risk"],
            },
        ],
        [
            _("Approval cycle time (median)"),
            _minutes(approval["median_minutes"]) if approval["available"] else _("not available"),
        ],
    ]


def volume_rows(figures: dict[str, Any]) -> list[list[str]]:
    rows = []
    for key, label in (("before", _("Before")), ("during", _("During")), ("after", _("After"))):
        period = figures["volume"][key]
        if period is None:
            rows.append([label, "—", "—", "—"])
            continue
        rows.append(
            [
                label,
                str(period["mentions"]),
                _percent(period["negative_share"]),
                str(period["reach"]),
            ]
        )
    return rows


def review_document(review: Review, *, internal: bool, now: datetime | None = None) -> Document:
    incident = (
        Incident.objects.for_tenant(review.tenant_id)
        .select_related("tenant")
        .get(pk=review.incident_id)
    )
    tenant = incident.tenant
    figures = selectors.review_figures(review, now=now)
    doc = Document(title=_("Post-crisis review: %(title)s") % {"title": incident.title})
    doc.add(
        Paragraph(
            _("%(tenant)s · %(severity)s · %(trigger)s · incident %(status)s · review %(review)s")
            % {
                "tenant": tenant.name,
                "severity": incident.get_severity_display(),
                "trigger": incident.get_trigger_display(),
                "status": incident.get_status_display(),
                "review": review.get_status_display(),
            }
        ),
        Paragraph(_zone_line(tenant)),
    )
    if review.summary:
        doc.add(Heading(_("Summary")), Paragraph(review.summary))
    if figures is not None:
        doc.add(
            Heading(_("Figures")),
            Table([_("Figure"), _("Value")], figure_rows(figures, tenant)),
            Heading(_("Volume, negative share and reach"), level=2),
            Table(
                [_("Period"), _("Mentions"), _("Negative share"), _("Reach")], volume_rows(figures)
            ),
        )
        peak = figures["volume"]["peak"]
        if peak:
            doc.add(
                Paragraph(
                    _("Peak: %(n)d mentions in the hour from %(at)s.")
                    % {"n": peak["mentions"], "at": _at(peak["hour"], tenant)}
                )
            )
        for cluster in figures.get("hoax") or []:
            doc.add(
                Heading(_("Hoax cluster %(id)d") % {"id": cluster["cluster"]}, level=2),
                Quote(
                    cluster["text"],
                    _("first copy, %(at)s") % {"at": _at(cluster["first_at"], tenant)},
                ),
                Table(
                    [
                        _("Copies"),
                        _("Authors"),
                        _("Peak hour"),
                        _("Copies at peak"),
                        _("Half-life"),
                    ],
                    [
                        [
                            str(cluster["copies"]),
                            str(cluster["authors"]),
                            _at(cluster["peak_hour"], tenant),
                            str(cluster["peak_copies"]),
                            "—"
                            if cluster["half_life_hours"] is None
                            else _("%(n)d h") % {"n": cluster["half_life_hours"]},
                        ]
                    ],
                ),
            )
        doc.add(Heading(_("Charts")))
        for name, title in (
            ("timeline", _("Volume and sentiment per hour")),
            ("negative_share", _("Negative share against its baseline band")),
            ("share_of_voice", _("Share of voice")),
        ):
            png, _type = review_charts.render(name, incident, "png", now=now)
            doc.add(Chart(title, png))
        posts = quoted_posts(incident, now=now)
        if posts:
            doc.add(Heading(_("Posts quoted")))
            for post in posts:
                doc.add(
                    Quote(
                        post.text,
                        f"@{post.author_handle} ({post.get_platform_display()}), "
                        f"{_at(post.published_at, tenant)}",
                    )
                )
    lessons = selectors.lessons(review=review, internal=internal)
    doc.add(Heading(_("Lessons")))
    for kind, label in (("went_well", _("Went well")), ("went_badly", _("Did not go well"))):
        texts = [lesson.text for lesson in lessons if lesson.kind == kind]
        doc.add(Heading(label, level=2))
        doc.add(*([Paragraph(f"• {text}") for text in texts] or [Paragraph("—")]))
    items = selectors.action_items(review=review, internal=internal)
    doc.add(
        Heading(_("Action items")),
        Table(
            [_("Action"), _("Owner"), _("Due"), _("Status")],
            [
                [
                    item.title,
                    item.owner.email if item.owner else "—",
                    _at(item.due_at, tenant),
                    item.get_status_display(),
                ]
                for item in items
            ]
            or [["—", "—", "—", "—"]],
        ),
    )
    if internal:
        feedback = selectors.feedback(review=review)
        doc.add(
            Heading(_("Participants' feedback (internal)")),
            Table(
                [_("Participant"), _("Rating (1-5)"), _("Comment")],
                [[row.participant.email, str(row.rating), row.comment] for row in feedback]
                or [["—", "—", "—"]],
            ),
        )
    doc.add(Heading(_("Sign-off")))
    if review.signed_off_at is not None:
        doc.add(
            Paragraph(
                _("Signed off by %(who)s on %(at)s.")
                % {
                    "who": review.signed_off_by.email if review.signed_off_by else "—",
                    "at": _at(review.signed_off_at, tenant),
                }
            )
        )
    else:
        doc.add(Paragraph(_("Not signed off yet.")))
    return doc


def quoted_posts(incident: Incident, *, now: datetime | None = None) -> list[Any]:
    """The riskiest posts published while the incident ran."""
    from incidents.evaluation.figures import end_of

    return list(
        monitoring_selectors.riskiest_mentions(
            incident.tenant_id,
            since=incident.detected_at,
            until=end_of(incident, now or timezone.now()),
            limit=QUOTED_POSTS,
        )
    )


def report_document(report: ClientReport) -> Document:
    tenant = Tenant.objects.get(pk=report.tenant_id)
    data = report.data
    doc = Document(
        title=_("%(frequency)s report: %(tenant)s")
        % {"frequency": report.get_frequency_display(), "tenant": tenant.name}
    )
    totals = data["totals"]
    doc.add(
        Paragraph(
            _("From %(since)s to %(until)s.")
            % {"since": _at(data["since"], tenant), "until": _at(data["until"], tenant)}
        ),
        Paragraph(_zone_line(tenant)),
        Heading(_("Volume and sentiment")),
        Table(
            [
                _("Mentions"),
                _("Positive"),
                _("Neutral"),
                _("Negative"),
                _("Negative share"),
                _("Reach"),
            ],
            [
                [
                    str(totals["mentions"]),
                    str(totals["positive"]),
                    str(totals["neutral"]),
                    str(totals["negative"]),
                    _percent(totals["negative_share"]),
                    str(totals["reach"]),
                ]
            ],
        ),
    )
    days = data["daily"]
    if days:
        times = [parse_datetime(row["day"]) for row in days]
        doc.add(
            Chart(
                _("Mentions per day"),
                charts.time_series_png(
                    times=[t for t in times if t is not None],
                    series=[
                        charts.Series(
                            key=key,
                            label=label,
                            values=[row[key] for row in days],
                            colour=charts.COLOURS[key],
                            stacked=True,
                        )
                        for key, label in (
                            ("negative", _("Negative")),
                            ("neutral", _("Neutral")),
                            ("positive", _("Positive")),
                        )
                    ],
                    time_zone=i18n.zone_for(tenant=tenant),
                    title=_("Mentions per day by sentiment"),
                ),
            )
        )
    voice = data["share_of_voice"]
    doc.add(
        Heading(_("Share of voice")),
        Table(
            [_("Query"), _("Mentions"), _("Share")],
            [
                [row["name"], str(row["mentions"]), _percent(row["share"])]
                for row in voice["results"]
            ]
            or [["—", "—", "—"]],
        ),
        Heading(_("Top authors")),
        Table(
            [_("Author"), _("Platform"), _("Mentions"), _("Reach")],
            [
                [
                    f"@{row['author_handle']}",
                    row["platform"],
                    str(row["mentions"]),
                    str(row["reach"]),
                ]
                for row in data["top_authors"]
            ]
            or [["—", "—", "—", "—"]],
        ),
        Heading(_("Top hashtags")),
        Table(
            [_("Hashtag"), _("Mentions")],
            [[f"#{row['text']}", str(row["mentions"])] for row in data["top_hashtags"]]
            or [["—", "—"]],
        ),
    )
    alerts = data["alerts"]
    doc.add(
        Heading(_("Alerts")),
        Paragraph(_("%(n)d alerts in the period.") % {"n": alerts["count"]}),
        Table(
            [_("When"), _("Severity"), _("Kind"), _("Title"), _("Status")],
            [
                [
                    _at(row["created_at"], tenant),
                    row["severity"],
                    row["kind"],
                    row["title"],
                    row["status"],
                ]
                for row in alerts["items"]
            ]
            or [["—", "—", "—", "—", "—"]],
        ),
    )
    incidents = data["incidents"]
    doc.add(
        Heading(_("Incidents")),
        Paragraph(
            _("%(n)d incidents; median time to acknowledge %(ack)s, to resolve %(res)s.")
            % {
                "n": incidents["count"],
                "ack": _minutes(incidents["median_minutes_to_acknowledge"]),
                "res": _minutes(incidents["median_minutes_to_resolve"]),
            }
        ),
        Table(
            [_("Detected"), _("Title"), _("Severity"), _("Status"), _("Resolved")],
            [
                [
                    _at(row["detected_at"], tenant),
                    row["title"],
                    row["severity"],
                    row["status"],
                    _at(row["resolved_at"], tenant),
                ]
                for row in incidents["items"]
            ]
            or [["—", "—", "—", "—", "—"]],
        ),
    )
    return doc
