"""The figures of docs/evaluation.md on a constructed incident whose answers were worked out
by hand (the comments show the arithmetic), and the pure rules of ``incidents.evaluation.calc``.

The incident: detected at D = 2026-11-10 03:00 UTC (10:00 WIB), SEV2 (update every 60 min),
resolved at D + 6 h; the rollups are written as the pipeline would have written them.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from incidents.choices import IncidentStatus
from incidents.evaluation import calc
from incidents.evaluation.figures import DrillError, incident_figures
from incidents.models import Incident
from monitoring.models import Alert, MetricBucket
from tests.incidents.factories import IncidentFactory, IncidentLinkFactory, TimelineEntryFactory
from tests.monitoring.factories import (
    AlertFactory,
    HoaxClusterFactory,
    MentionFactory,
    MonitoredQueryFactory,
)

D = datetime(2026, 11, 10, 3, 0, tzinfo=UTC)
H = timedelta(hours=1)
M = timedelta(minutes=1)
NOW = D + timedelta(days=2)

# During the incident, hour by hour: (mentions, negative).
DURING = [(50, 30), (80, 60), (40, 20), (20, 3), (10, 1), (10, 2)]


def bucket(
    tenant: Any, at: datetime, mentions: int, negative: int, reach: int, query: int = 0
) -> MetricBucket:
    return MetricBucket(
        tenant=tenant,
        query_id=query,
        bucket=at,
        mentions=mentions,
        negative=negative,
        neutral=mentions - negative,
        reach=reach,
    )


@pytest.fixture
def constructed(tenant: Any) -> Incident:
    brand = MonitoredQueryFactory(tenant=tenant, name="Kopi Senja")
    rival = MonitoredQueryFactory(tenant=tenant, name="Kopi Lain")
    rows = []
    # 14 days before D: every hour 10 mentions, 1 or 2 negative in turn (shares 0.1 / 0.2),
    # reach 100 an hour. Baseline median 0.15, MAD 0.05: band 0.05 - 0.25.
    for index in range(14 * 24):
        rows.append(bucket(tenant, D - (index + 1) * H, 10, 1 if index % 2 else 2, 100))
    for index, (mentions, negative) in enumerate(DURING):
        rows.append(bucket(tenant, D + index * H, mentions, negative, 1000))
    # After resolution (D + 6 h): 10 mentions an hour, 1 negative, reach 100.
    for index in range(30):
        rows.append(bucket(tenant, D + 6 * H + index * H, 10, 1, 100))
    # Share of voice while it ran: the brand's query 150 mentions, the rival's 50.
    rows.append(bucket(tenant, D + 2 * H, 150, 0, 0, query=brand.pk))
    rows.append(bucket(tenant, D + 2 * H, 50, 0, 0, query=rival.pk))
    MetricBucket.objects.bulk_create(rows)

    incident = IncidentFactory(
        tenant=tenant, severity="sev2", trigger="negative_news", detected_at=D
    )
    Incident.objects.for_tenant(tenant).filter(pk=incident.pk).update(
        status=IncidentStatus.RESOLVED,
        acknowledged_at=D + 10 * M,
        first_statement_at=D + 30 * M,
        mitigated_at=D + 4 * H,
        resolved_at=D + 6 * H,
    )
    alert = AlertFactory(tenant=tenant, query=brand)
    Alert.objects.for_tenant(tenant).filter(pk=alert.pk).update(created_at=D - 20 * M)
    IncidentLinkFactory(incident=incident, kind="alert", alert=alert, url="")
    # Related mentions: the brand's at D - 2 h (the first), one at D - 30 h (outside the 24
    # hours before detection), one linked by hand at D - 1 h.
    MentionFactory(tenant=tenant, matched_queries=[brand.pk], published_at=D - 2 * H)
    MentionFactory(tenant=tenant, matched_queries=[brand.pk], published_at=D - 30 * H)
    linked = MentionFactory(tenant=tenant, published_at=D - H, risk=70, status="new")
    IncidentLinkFactory(incident=incident, kind="mention", mention=linked, url="")
    # High-risk mentions while it ran: four of the brand (three answered), one of the rival
    # only and one of low risk (neither counts).
    for risk, status in ((60, "responded"), (80, "responded"), (55, "new"), (90, "responded")):
        MentionFactory(
            tenant=tenant,
            matched_queries=[brand.pk],
            published_at=D + 2 * H,
            risk=risk,
            status=status,
        )
    MentionFactory(tenant=tenant, matched_queries=[rival.pk], published_at=D + H, risk=95)
    MentionFactory(tenant=tenant, matched_queries=[brand.pk], published_at=D + H, risk=30)
    # Statements: D+30m, D+1h20m (gap 50: met), D+2h40m (80: missed), D+3h30m (50: met);
    # to the resolution at D+6h: 150 (missed).
    for at in (D + 30 * M, D + 80 * M, D + 160 * M, D + 210 * M):
        TimelineEntryFactory(incident=incident, kind="statement", at=at, actor=None)
    return Incident.objects.for_tenant(tenant).get(pk=incident.pk)


def test_detection_and_response_times(constructed: Incident) -> None:
    figures = incident_figures(constructed, now=NOW)
    detection = figures["detection"]
    assert detection["first_related_mention_at"] == (D - 2 * H).isoformat()
    assert detection["first_alert_at"] == (D - 20 * M).isoformat()
    assert detection["minutes_mention_to_alert"] == 100.0  # 02:00 before → 00:20 before
    assert detection["minutes_alert_to_incident"] == 20.0
    assert detection["minutes_to_detect"] == 120.0
    assert figures["minutes_to_acknowledge"] == 10.0
    assert figures["minutes_to_first_statement"] == 30.0
    assert figures["minutes_to_mitigate"] == 240.0
    assert figures["minutes_to_resolve"] == 360.0
    assert figures["update_cadence"] == {
        "target_minutes": 60,
        "gaps": 4,
        "met": 2,
        "adherence": 0.5,
    }


def test_volume_before_during_after_and_the_peak(constructed: Incident) -> None:
    volume = incident_figures(constructed, now=NOW)["volume"]
    # Before: 24 hours x 10 mentions, 12 hours with 1 and 12 with 2 negative.
    assert volume["before"] | {"since": None, "until": None} == {
        "since": None,
        "until": None,
        "mentions": 240,
        "negative": 36,
        "negative_share": 0.15,
        "reach": 2400,
    }
    # During: 50+80+40+20+10+10 = 210 mentions, 30+60+20+3+1+2 = 116 negative (0.5524).
    assert (volume["during"]["mentions"], volume["during"]["negative"]) == (210, 116)
    assert volume["during"]["negative_share"] == 0.5524
    assert volume["during"]["reach"] == 6000
    # After: the 24 hours from the resolution, 10 an hour with 1 negative.
    assert (volume["after"]["mentions"], volume["after"]["negative_share"]) == (240, 0.1)
    assert volume["peak"] == {"hour": (D + H).isoformat(), "mentions": 80}


def test_sentiment_back_in_its_band(constructed: Incident) -> None:
    recovery = incident_figures(constructed, now=NOW)["sentiment_recovery"]
    assert recovery["band"] == {"median": 0.15, "mad": 0.05, "low": 0.05, "high": 0.25}
    assert recovery["baseline_hours"] == 14 * 24
    # Shares 0.6, 0.75 (the peak), 0.5, then 0.15, 0.1, 0.2: three hours inside from D + 3 h.
    assert recovery["recovered_at"] == (D + 3 * H).isoformat()
    assert recovery["minutes_to_recover"] == 180.0


def test_share_of_voice_and_reply_coverage(constructed: Incident) -> None:
    figures = incident_figures(constructed, now=NOW)
    voice = figures["share_of_voice"]
    assert (voice["mentions"], voice["total"], voice["share"]) == (150, 200, 0.75)
    # Four of the brand's high-risk mentions and the linked one; three responded.
    assert figures["reply_coverage"] == {"high_risk": 5, "responded": 3, "coverage": 0.6}
    assert figures["approval_cycle"]["median_minutes"] is None
    assert figures["hoax"] is None


def test_hoax_spread_and_half_life(tenant: Any) -> None:
    first = D - 3 * H
    cluster = HoaxClusterFactory(
        tenant=tenant,
        first_at=first,
        member_count=19,
        author_count=11,
        spread=[
            {"hour": (first + index * H).isoformat(), "mentions": n}
            for index, n in enumerate([2, 8, 6, 3])
        ],
    )
    incident = IncidentFactory(tenant=tenant, trigger="hoax", detected_at=D)
    IncidentLinkFactory(incident=incident, kind="hoax_cluster", hoax_cluster=cluster, url="")
    (found,) = incident_figures(incident, now=NOW)["hoax"]
    # Peak 8 copies at first + 1 h; 6 > 4, then 3 ≤ 4 two hours after the peak.
    assert (found["copies"], found["authors"], found["peak_copies"]) == (19, 11, 8)
    assert found["peak_hour"] == (first + H).isoformat()
    assert found["half_life_hours"] == 2


def test_drills_have_no_figures(tenant: Any) -> None:
    with pytest.raises(DrillError):
        incident_figures(IncidentFactory(tenant=tenant, is_drill=True), now=NOW)


# --- the pure rules ----------------------------------------------------------------------------


def test_band_needs_a_day_of_hours() -> None:
    assert calc.baseline_band([0.1] * 23) is None
    band = calc.baseline_band([0.1, 0.3] * 12)
    assert band is not None
    assert (band.median, band.mad, band.low, band.high) == pytest.approx((0.2, 0.1, 0.0, 0.4))


def test_recovery_needs_three_hours_in_a_row() -> None:
    band = calc.Band(median=0.1, mad=0.05)
    hours = [(D + i * H, v) for i, v in enumerate([0.5, 0.9, 0.1, 0.4, 0.1, 0.15, 0.2, 0.1])]
    assert calc.recovery_hour(hours, band, after=D) == D + 4 * H
    assert calc.recovery_hour(hours[:6], band, after=D) is None


def test_cadence_counts_the_last_gap_to_the_end() -> None:
    result = calc.cadence([D, D + 30 * M], D + 100 * M, 60)
    assert (result.gaps, result.met, result.adherence) == (2, 1, 0.5)
    assert calc.cadence([], D, 60).adherence is None


def test_half_life_counts_quiet_hours_as_zero() -> None:
    assert calc.half_life_hours([(D, 10), (D + 3 * H, 9)]) == 1
    assert calc.half_life_hours([(D, 1), (D + H, 10)]) == 1
    assert calc.half_life_hours([]) is None
