"""Periodic client reports: the period in the tenant's zone, the figures from the rollups, the
slow-queue schedule, the e-mail through a real SMTP server (PDF read back), the on-demand REST
download and the command's progress bar."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django_q.models import OrmQ
from pypdf import PdfReader

from incidents import tasks
from incidents.evaluation import reports, services
from incidents.evaluation.models import ClientReport, ReportSubscription
from incidents.models import Incident
from monitoring.models import MetricBucket, TermBucket
from tenants.queues import SLOW_CLUSTER
from tests.incidents.factories import IncidentFactory
from tests.mail import Inbox, smtp_server
from tests.monitoring.factories import AlertFactory, MonitoredQueryFactory

# Wednesday 18 November 2026, 10:00 WIB: the last complete week is Monday 9 to Monday 16
# November (WIB), the last complete month October.
AT = datetime(2026, 11, 18, 3, 0, tzinfo=UTC)
WEEK_START = datetime(2026, 11, 8, 17, 0, tzinfo=UTC)  # 9 Nov 00:00 WIB
WEEK_END = datetime(2026, 11, 15, 17, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def english(tenant: Any) -> None:
    tenant.default_language = "en"
    tenant.save(update_fields=["default_language"])


@pytest.fixture
def smtp() -> Iterator[Inbox]:
    with smtp_server() as inbox:
        yield inbox


@pytest.fixture
def week(tenant: Any) -> None:
    """A week of data: 3 days of rollups, a hashtag, an alert, an incident and a drill."""
    query = MonitoredQueryFactory(tenant=tenant, name="Kopi Senja")
    rows = []
    for day in range(3):
        at = WEEK_START + timedelta(days=day, hours=5)
        rows.append(
            MetricBucket(
                tenant=tenant,
                query_id=0,
                bucket=at,
                mentions=100,
                positive=50,
                neutral=30,
                negative=20,
                reach=1000,
            )
        )
        rows.append(MetricBucket(tenant=tenant, query_id=query.pk, bucket=at, mentions=60))
    # outside the week: not counted
    rows.append(
        MetricBucket(tenant=tenant, query_id=0, bucket=WEEK_END + timedelta(hours=1), mentions=999)
    )
    MetricBucket.objects.bulk_create(rows)
    TermBucket.objects.create(
        tenant=tenant,
        kind="hashtag",
        text="boikotkopisenja",
        bucket=WEEK_START + timedelta(hours=5),
        mentions=42,
    )
    AlertFactory(tenant=tenant, title="Lonjakan negatif é \u2019 — 😡 中文", severity="sev2")
    from monitoring.models import Alert

    Alert.objects.for_tenant(tenant).update(created_at=WEEK_START + timedelta(days=1))
    IncidentFactory(tenant=tenant, title="Boikot", detected_at=WEEK_START + timedelta(days=2))
    IncidentFactory(
        tenant=tenant, title="Latihan", is_drill=True, detected_at=WEEK_START + timedelta(days=2)
    )


def test_periods_are_whole_weeks_and_months_in_the_tenant_zone(tenant: Any) -> None:
    assert reports.period_for(tenant, "weekly", AT) == (WEEK_START, WEEK_END)
    since, until = reports.period_for(tenant, "monthly", AT)
    assert (since, until) == (
        datetime(2026, 9, 30, 17, 0, tzinfo=UTC),
        datetime(2026, 10, 31, 17, 0, tzinfo=UTC),
    )


def test_report_figures_come_from_the_rollups(tenant: Any, week: None) -> None:
    report = services.generate_report(tenant=tenant, frequency="weekly", moment=AT)
    data = report.data
    assert data["totals"] | {"negative_share": None} == {
        "mentions": 300,
        "positive": 150,
        "neutral": 90,
        "negative": 60,
        "reach": 3000,
        "negative_share": None,
    }
    assert data["totals"]["negative_share"] == 0.2
    assert [row["mentions"] for row in data["daily"]] == [100, 100, 100]
    assert data["share_of_voice"]["results"][0]["mentions"] == 180
    assert data["top_hashtags"] == [{"text": "boikotkopisenja", "mentions": 42}]
    assert data["alerts"]["count"] == 1 and data["alerts"]["by_severity"] == {"sev2": 1}
    assert [row["title"] for row in data["incidents"]["items"]] == ["Boikot"]  # no drill
    # made once per period
    assert services.generate_report(tenant=tenant, frequency="weekly", moment=AT).pk == report.pk


def test_scheduled_report_goes_by_the_slow_queue_and_mail(
    tenant: Any, week: None, smtp: Inbox
) -> None:
    subscription = services.create_subscription(
        tenant=tenant, frequency="weekly", recipients=["Brand.Manager@Kopi.test", "pr@kopi.test"]
    )
    assert tasks.schedule_client_reports() == 1
    (queued,) = OrmQ.objects.filter(key=SLOW_CLUSTER)
    assert queued.task["func"] == tasks.CLIENT_REPORT_TASK
    assert queued.task["args"] == (tenant.pk, subscription.pk)
    result = services.send_subscription(subscription=subscription, moment=AT)
    assert result["sent"] == 2
    (message,) = smtp.to("brand.manager@kopi.test")
    assert message["Subject"] == "Weekly report: Kopi Senja"
    assert (
        "Mentions: 300 (negative 60), alerts: 1, incidents: 1."
        in message.get_body(("plain",)).get_content()
    )
    attachments = {part.get_filename(): part for part in message.iter_attachments()}
    pdf = attachments["sigap-kopi-senja-weekly-2026-11-09.pdf"].get_content()
    text = " ".join(
        " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages).split()
    )  # table cells wrap their lines
    assert "Lonjakan negatif é \u2019 — 😡 中文" in text
    assert "#boikotkopisenja" in text and "Boikot" in text and "Latihan" not in text
    assert "WIB" in text
    assert (
        "text/markdown" in attachments["sigap-kopi-senja-weekly-2026-11-09.md"].get_content_type()
    )
    # the same period is sent once
    again = services.send_subscription(subscription=subscription, moment=AT)
    assert again == {"report": result["report"], "sent": 0, "already_sent": True}
    assert len(smtp.to("pr@kopi.test")) == 1
    assert ReportSubscription.objects.for_tenant(tenant).get().last_period_start == WEEK_START


def test_reports_on_demand_over_rest(
    api: Any, tenant: Any, members: dict[str, Any], week: None
) -> None:
    base = f"/api/v1/tenants/{tenant.slug}/client-reports/"
    assert (
        api(members["client"]).post(base, {"frequency": "weekly"}, format="json").status_code == 403
    )
    made = api(members["analyst"]).post(
        base, {"frequency": "weekly", "at": AT.isoformat()}, format="json"
    )
    assert made.status_code == 201, made.content
    assert made.json()["period_start"] == "2026-11-08T17:00:00Z"
    bad = api(members["analyst"]).post(base, {"frequency": "daily"}, format="json")
    assert bad.status_code == 400 and bad.json()["errors"][0]["attr"] == "frequency"
    client = api(members["client"])
    listed = client.get(base).json()["results"]
    assert [row["id"] for row in listed] == [made.json()["id"]]
    pdf = client.get(f"{base}{made.json()['id']}/download/?output=pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    markdown = client.get(f"{base}{made.json()['id']}/download/?output=md").content.decode()
    assert (
        markdown.startswith("# Weekly report: Kopi Senja")
        and "| #boikotkopisenja | 42 |" in markdown
    )


def test_subscription_recipients_are_checked(
    api: Any, tenant: Any, members: dict[str, Any]
) -> None:
    base = f"/api/v1/tenants/{tenant.slug}/report-subscriptions/"
    bad = api(members["admin"]).post(
        base, {"frequency": "weekly", "recipients": ["not-an-address"]}, format="json"
    )
    assert bad.status_code == 400 and bad.json()["errors"][0]["attr"].startswith("recipients")
    good = api(members["admin"]).post(
        base, {"frequency": "monthly", "recipients": ["a@kopi.test"]}, format="json"
    )
    assert good.status_code == 201, good.content
    assert (
        api(members["analyst"]).post(base, {"frequency": "weekly"}, format="json").status_code
        == 403
    )


def test_command_makes_files_with_a_progress_bar(tenant: Any, week: None, tmp_path: Path) -> None:
    out, err = io.StringIO(), io.StringIO()
    import sys

    real = sys.stderr
    sys.stderr = err
    try:
        call_command(
            "client_report",
            "--tenant",
            tenant.slug,
            "--at",
            AT.isoformat(),
            "--output",
            str(tmp_path),
            "--progress",
            stdout=out,
        )
    finally:
        sys.stderr = real
    assert "kopi-senja: report" in out.getvalue()
    assert "1/1" in err.getvalue() and "tenant" in err.getvalue()
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == ["kopi-senja-weekly-2026-11-09.md", "kopi-senja-weekly-2026-11-09.pdf"]
    assert ClientReport.objects.for_tenant(tenant).count() == 1
    assert Incident.objects.for_tenant(tenant).count() == 2
