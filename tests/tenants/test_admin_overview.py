"""The Sigap admin: branding, the index's sections, the tenant start page and the agency page
(tenants.admin_site, tenants.overview, monitoring.admin_overview)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from monitoring.choices import SourceStatus
from tenants import overview
from tenants.models import Tenant
from tests.factories import TenantFactory, UserFactory
from tests.monitoring.factories import MentionFactory, MetricBucketFactory, SourceFactory

# 15:20 in Jakarta (WIB): the window is the 168 hours up to 16:00 WIB.
NOW = datetime(2026, 11, 20, 8, 20, tzinfo=UTC)
WINDOW_END = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def agency_admin(tenant: Tenant) -> Any:
    # The assertions read English labels: this user chose English (the default is Indonesian).

    return UserFactory(agency=tenant.agency, is_agency_admin=True, is_staff=True, language="en")


@pytest.fixture
def browser(agency_admin: Any) -> Client:
    client = Client()
    client.force_login(agency_admin)
    return client


@pytest.fixture
def data(tenant: Tenant) -> dict[str, Any]:
    """Rollups over the window, a few mentions and a failing source."""
    for hours_back in range(1, 7 * 24 + 1):
        # One 5-minute bucket an hour: 4 mentions, 1 negative; 3 of 4 negative in the last day.
        negative = 3 if hours_back <= 24 else 1
        MetricBucketFactory(
            tenant=tenant,
            bucket=WINDOW_END - timedelta(hours=hours_back) + timedelta(minutes=5),
            mentions=4,
            negative=negative,
            positive=4 - negative,
        )
    # Explicit times: the factory's default depends on how many mentions the run made before.
    risky = MentionFactory(
        tenant=tenant, risk=88, text="Kopi basi, boikot!", published_at=NOW - timedelta(minutes=10)
    )
    MentionFactory(tenant=tenant, risk=10, text="Enak", published_at=NOW - timedelta(hours=3))
    MentionFactory(tenant=tenant, risk=99, published_at=NOW - timedelta(days=9), text="old news")
    failing = SourceFactory(
        tenant=tenant,
        name="Broken feed",
        status=SourceStatus.FAILING,
        consecutive_failures=4,
        last_error="HTTP 500 from the feed",
        last_error_at=NOW - timedelta(minutes=30),
    )
    SourceFactory(tenant=tenant, name="Healthy feed")
    return {"risky": risky, "failing": failing}


def start_page(tenant: Tenant) -> str:
    return reverse("admin:tenants_tenant_overview", args=[tenant.pk])


def agency_page(tenant: Tenant) -> str:
    return reverse("admin:tenants_agency_overview", args=[tenant.agency_id])


def test_the_admin_is_branded_and_the_internals_sit_apart(browser: Client, tenant: Tenant) -> None:
    page = browser.get("/admin/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "<title>Overview | Sigap admin</title>" in html
    assert ">Sigap</a>" in html and "Django administration" not in html
    everyday, internals = html.split('id="sigap-internals"')
    for name in ("Mentions", "Sources", "Monitored queries", "Tenants", "Memberships"):
        assert f">{name}</a>" in everyday, name
    for name in ("Webhook deliveries", "Ingest chunks", "Metric buckets", "Pipeline events"):
        assert f">{name}</a>" in internals and f">{name}</a>" not in everyday, name
    assert "deliverys" not in html
    # The overview pages of what the user may see are linked from the index.
    assert start_page(tenant) in everyday and agency_page(tenant) in everyday


def test_superuser_index_lists_queue_tables_under_internals(tenant: Tenant) -> None:
    client = Client()
    client.force_login(UserFactory(is_superuser=True, is_staff=True, language="en"))
    html = client.get("/admin/").content.decode()
    everyday, internals = html.split('id="sigap-internals"')
    assert "/admin/django_q/" in internals and "/admin/django_q/" not in everyday
    assert "/admin/auditlog/" in internals
    # One app's own page still lists all of its models.
    monitoring = client.get("/admin/monitoring/").content.decode()
    assert "Webhook deliveries" in monitoring and "Mentions" in monitoring


def test_start_page(browser: Client, tenant: Tenant, data: dict[str, Any]) -> None:
    page = browser.get(start_page(tenant))
    assert page.status_code == 200
    html = page.content.decode()
    # The chart: inline SVG, one point per hour of the 7 days, for the mentions line.
    chart = re.search(r'<g id="series-mentions">.*?<path d="([^"]*)"', html, re.DOTALL)
    assert chart and len(re.findall(r"[ML] ", chart.group(1))) == 168
    assert "<script" not in html.split('id="sigap-volume"')[1].split("</div>")[0]
    # The negative share: 72 of 96 in the last 24 hours against 25 % on each earlier day.
    share = html.split('id="sigap-negative-share"')[1]
    assert "75.0&thinsp;%" in share and "72 of 96" in share
    assert "Baseline 25.0 %" in share and "+50.0 points" in share
    # The riskiest mentions of the window, with their band's colour; the old one is left out.
    risky = html.split('id="sigap-risky"')[1].split("</table>")[0]
    assert "sigap-risk--critical" in risky and "88 · Critical" in risky
    assert "Kopi basi, boikot!" in risky and "old news" not in risky
    assert risky.index("Kopi basi") < risky.index("Enak")
    assert "2026-11-20 15:10 WIB" in risky  # in the tenant's zone, named
    # Sources in error: the failing one only.
    sources = html.split('id="sigap-sources-in-error"')[1].split("</table>")[0]
    assert "Broken feed" in sources and "HTTP 500" in sources and "Healthy feed" not in sources
    # Early warning and incidents report their open items; none is open: the page says so.
    assert 'id="sigap-items-empty"' in html


def test_start_page_linked_from_the_tenant_change_page(browser: Client, tenant: Tenant) -> None:
    page = browser.get(reverse("admin:tenants_tenant_change", args=[tenant.pk]))
    assert start_page(tenant) in page.content.decode()


def test_start_page_of_an_empty_tenant(browser: Client, tenant: Tenant) -> None:
    html = browser.get(start_page(tenant)).content.decode()
    assert 'id="sigap-risky-empty"' in html and 'id="sigap-sources-ok"' in html
    assert "No mention with a sentiment in the last 24 hours." in html
    assert '<g id="series-mentions">' in html  # a flat chart, still 168 hours


def test_start_page_query_count_is_pinned(
    browser: Client, tenant: Tenant, data: dict[str, Any]
) -> None:
    browser.get(start_page(tenant))  # warm caches (content types, templates)
    with CaptureQueriesContext(connection) as queries:
        assert browser.get(start_page(tenant)).status_code == 200
    first = len(queries)
    MentionFactory.create_batch(30, tenant=tenant, risk=60)
    SourceFactory.create_batch(3, tenant=tenant, consecutive_failures=2)
    with CaptureQueriesContext(connection) as queries:
        assert browser.get(start_page(tenant)).status_code == 200
    sent = "\n".join(query["sql"][:100] for query in queries)
    assert len(queries) == first == EXPECTED_START_PAGE_QUERIES, sent


# Session and user (2), the admin's scope (1), the staff's default language (1), the tenant (1),
# one per monitoring panel: rollups, riskiest mentions, sources in error (3); open alerts (1),
# running crisis mode (1) and open incidents (1); the navigation sidebar's permission checks (4).
EXPECTED_START_PAGE_QUERIES = 15


def test_other_agencies_pages_answer_404(
    browser: Client, tenant: Tenant, other_tenant: Tenant
) -> None:
    assert browser.get(start_page(other_tenant)).status_code == 404
    assert browser.get(agency_page(other_tenant)).status_code == 404
    assert browser.get("/admin/tenants/tenant/junk/overview/").status_code == 404
    assert browser.get(start_page(tenant)).status_code == 200


def test_staff_without_agency_admin_and_clients_see_no_overview(
    tenant: Tenant, members: dict[str, Any]
) -> None:
    staff = Client()
    staff.force_login(UserFactory(agency=tenant.agency, is_staff=True))
    assert staff.get(start_page(tenant)).status_code in (403, 404)
    assert staff.get(agency_page(tenant)).status_code in (403, 404)
    client = Client()
    client.force_login(members["client"])
    assert client.get(start_page(tenant)).status_code == 302  # to the sign-in page
    anonymous = Client().get(agency_page(tenant))
    assert anonymous.status_code == 302 and "/admin/login/" in anonymous["Location"]


def test_superuser_opens_any_agency(tenant: Tenant, other_tenant: Tenant) -> None:
    client = Client()
    client.force_login(UserFactory(is_superuser=True, is_staff=True, language="en"))
    assert client.get(agency_page(other_tenant)).status_code == 200
    assert client.get(start_page(other_tenant)).status_code == 200


def test_agency_page_with_nothing_open(browser: Client, tenant: Tenant) -> None:
    TenantFactory(agency=tenant.agency, name="Teh Pagi", slug="teh-pagi")
    html = browser.get(agency_page(tenant)).content.decode()
    assert 'id="sigap-items-empty"' in html
    assert "Kopi Senja" in html and "Teh Pagi" in html


def test_agency_page_tenant_table(browser: Client, tenant: Tenant, data: dict[str, Any]) -> None:
    TenantFactory(agency=tenant.agency, name="Teh Pagi", slug="teh-pagi")
    html = browser.get(agency_page(tenant)).content.decode()
    table = html.split('id="sigap-tenants"')[1].split("</table>")[0]
    assert "Mentions, last 24 h" in table and "Sources in error" in table
    kopi, teh = table.split("Kopi Senja")[1], table.split("Teh Pagi")[1].split("</tr>")[0]
    # 24 rollups of 4 mentions in the last 24 hours, 3 of each 4 negative; one failing source.
    cells = re.findall(r"<td>(.*?)</td>", kopi.split("</tr>")[0])
    assert cells[-3:] == ["96", "75.0 %", '<span class="sigap-level sigap-level--high">1</span>']
    assert re.findall(r"<td>(.*?)</td>", teh)[-3:] == ["0", "", "0"]


def test_agency_page_query_count_is_pinned(
    browser: Client, tenant: Tenant, data: dict[str, Any]
) -> None:
    browser.get(agency_page(tenant))
    with CaptureQueriesContext(connection) as queries:
        assert browser.get(agency_page(tenant)).status_code == 200
    first = len(queries)
    for n in range(3):
        sister = TenantFactory(agency=tenant.agency, slug=f"sister-{n}")
        SourceFactory(tenant=sister, consecutive_failures=1)
        MetricBucketFactory(tenant=sister, bucket=NOW - timedelta(hours=1), mentions=3)
    with CaptureQueriesContext(connection) as queries:
        assert browser.get(agency_page(tenant)).status_code == 200
    sent = "\n".join(query["sql"][:100] for query in queries)
    assert len(queries) == first == EXPECTED_AGENCY_PAGE_QUERIES, sent


# Session and user (2), the admin's scope (1), the staff's default language (1), the agency (1),
# its tenants (1), the monitoring columns: rollups and sources in error (2); open alerts (1),
# running crisis modes (1) and open incidents (1); the sidebar's permission checks (4).
EXPECTED_AGENCY_PAGE_QUERIES = 15


@pytest.fixture
def alerts(tenant: Tenant, other_tenant: Tenant) -> Iterator[list[Tenant]]:
    """An item source as early warning will register one: given tenants, their open items.
    It is handed only the tenants the viewer may see; it also returns another agency's item,
    which the page must drop anyway."""
    seen: list[Tenant] = []
    sister = TenantFactory(agency=tenant.agency, name="Teh Pagi", slug="teh-pagi")

    def provider(*, tenants: Any, now: datetime) -> list[overview.Item]:
        seen.extend(tenants)
        rows = [
            (tenant, 1, "Spike of mentions", timedelta(hours=5)),
            (tenant, 3, "Boycott call trending", timedelta(minutes=30)),
            (sister, 3, "Hoax about a recall", timedelta(hours=2)),
            (other_tenant, 3, "Another agency's alert", timedelta(hours=9)),
        ]
        return [
            overview.Item(
                tenant_id=owner.pk,
                kind="alert",
                title=title,
                severity=severity,
                severity_label=overview.SEVERITY_LEVELS[severity],
                opened_at=now - age,
                url=f"/alerts/{index}/",
            )
            for index, (owner, severity, title, age) in enumerate(rows)
        ]

    overview.register_items("test.alerts", provider=provider)
    try:
        yield seen
    finally:
        overview.unregister("test.alerts")


def test_agency_page_lists_open_items_by_severity_then_age(
    browser: Client, tenant: Tenant, other_tenant: Tenant, alerts: list[Tenant]
) -> None:
    html = browser.get(agency_page(tenant)).content.decode()
    table = html.split('id="sigap-items"')[1].split("</table>")[0]
    order = [table.index(title) for title in ("Hoax", "Boycott", "Spike")]
    assert order == sorted(order)  # critical: the older first; then high
    assert "Another agency" not in html
    assert other_tenant not in alerts and tenant in alerts
    assert "sigap-level--critical" in table and "sigap-level--elevated" in table
    assert "WIB" in table and "2\xa0hours" in table


def test_start_page_lists_its_tenants_open_items(
    browser: Client, tenant: Tenant, alerts: list[Tenant]
) -> None:
    html = browser.get(start_page(tenant)).content.decode()
    table = html.split('id="sigap-items"')[1].split("</table>")[0]
    assert "Boycott" in table and "Spike" in table and "Hoax" not in table
    assert alerts == [tenant]


def test_open_alerts_and_incidents_are_listed_by_the_apps(browser: Client, tenant: Tenant) -> None:
    """The real providers (monitoring.admin_overview, incidents.admin_overview): an active alert
    and an open incident of the tenant appear on its start page, linked to their admin pages."""
    from incidents.models import Incident
    from tests.monitoring.factories import AlertFactory

    alert = AlertFactory(tenant=tenant, title="Lonjakan keluhan", severity="sev2")
    incident = Incident.objects.create(tenant=tenant, title="Isu kopi basi", severity="sev1")
    html = browser.get(start_page(tenant)).content.decode()
    table = html.split('id="sigap-items"')[1].split("</table>")[0]
    assert "Lonjakan keluhan" in table and "Isu kopi basi" in table
    assert table.index("Isu kopi basi") < table.index("Lonjakan keluhan")  # SEV1 first
    assert reverse("admin:monitoring_alert_change", args=[alert.pk]) in table
    assert reverse("admin:incidents_incident_change", args=[incident.pk]) in table
