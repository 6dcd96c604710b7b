"""The monitoring admin: agency admins see only their agency's rows; mentions are read-mostly."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from monitoring.models import Mention, MonitoredQuery, TrackedTerm
from tests.factories import UserFactory
from tests.monitoring.factories import (
    IngestBatchFactory,
    LexiconEntryFactory,
    LowCredibilityDomainFactory,
    MentionFactory,
    MetricBucketFactory,
    MonitoredQueryFactory,
    PipelineEventFactory,
    SourceFactory,
    TrackedTermFactory,
)

SCREENS = (
    "monitoredquery",
    "source",
    "ingestbatch",
    "ingestchunk",
    "webhookdelivery",
    "mention",
    "metricbucket",
    "trackedterm",
    "lexiconentry",
    "lowcredibilitydomain",
    "pipelineevent",
)


@pytest.fixture
def agency_admin(tenant: Any) -> Client:
    user = UserFactory(agency=tenant.agency, is_agency_admin=True, is_staff=True)
    client = Client()
    client.force_login(user)
    return client


def test_agency_admin_sees_only_its_agencys_mentions(
    agency_admin: Client, tenant: Any, other_tenant: Any
) -> None:
    ours = MentionFactory(tenant=tenant, author_handle="pelanggan_kopi")
    theirs = MentionFactory(tenant=other_tenant, author_handle="nasabah_bank")
    page = agency_admin.get("/admin/monitoring/mention/")
    assert page.status_code == 200
    assert b"pelanggan_kopi" in page.content and b"nasabah_bank" not in page.content
    assert b"Bank Lestari" not in page.content  # not even in the tenant filter
    assert agency_admin.get(f"/admin/monitoring/mention/{ours.pk}/change/").status_code == 200
    assert agency_admin.get(f"/admin/monitoring/mention/{theirs.pk}/change/").status_code == 302
    assert agency_admin.get("/admin/monitoring/mention/add/").status_code == 403
    filtered = agency_admin.get(
        "/admin/monitoring/mention/", {"tenant": str(tenant.pk), "sentiment": "neutral"}
    )
    assert filtered.status_code == 200 and b"pelanggan_kopi" in filtered.content


def test_every_screen_lists_filters_and_searches(
    agency_admin: Client, tenant: Any, other_tenant: Any
) -> None:
    for owner in (tenant, other_tenant):
        MonitoredQueryFactory(tenant=owner)
        batch = IngestBatchFactory(tenant=owner, error="feed timed out")
        MentionFactory(tenant=owner)
        MetricBucketFactory(tenant=owner)
        TrackedTermFactory(tenant=owner)
        LexiconEntryFactory(tenant=owner)
        LowCredibilityDomainFactory(tenant=owner)
        PipelineEventFactory(tenant=owner, batch=batch)
    for screen in SCREENS:
        listed = agency_admin.get(f"/admin/monitoring/{screen}/")
        assert listed.status_code == 200, screen
        assert listed.context["cl"].result_count <= 1, screen
        searched = agency_admin.get(f"/admin/monitoring/{screen}/", {"q": "1"})
        assert searched.status_code == 200, screen


def test_mention_admin_allows_triage_only(
    agency_admin: Client, tenant: Any, members: dict[str, Any]
) -> None:
    mention = MentionFactory(tenant=tenant, text="Kopi basi")
    response = agency_admin.post(
        f"/admin/monitoring/mention/{mention.pk}/change/",
        {
            "status": "relevant",
            "tags": "viral,eskalasi",
            "assignee": members["analyst"].pk,
            "text": "rewritten",
        },
    )
    assert response.status_code == 302, response.content
    mention = Mention.objects.get(pk=mention.pk)
    assert mention.status == "relevant" and mention.tags == ["viral", "eskalasi"]
    assert mention.assignee == members["analyst"] and mention.text == "Kopi basi"


def test_query_admin_refuses_malformed_queries(agency_admin: Client, tenant: Any) -> None:
    response = agency_admin.post(
        "/admin/monitoring/monitoredquery/add/",
        {"tenant": tenant.pk, "name": "Rusak", "query": "kopi AND (basi", "is_active": "on"},
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "position 9" in errors["query"][0]
    good = agency_admin.post(
        "/admin/monitoring/monitoredquery/add/",
        {"tenant": tenant.pk, "name": "Baik", "query": "kopi AND basi", "is_active": "on"},
    )
    assert good.status_code == 302
    assert MonitoredQuery.objects.filter(tenant=tenant, name="Baik").exists()


def test_source_admin_shows_health(agency_admin: Client, tenant: Any) -> None:
    source = SourceFactory(
        tenant=tenant, status="failing", consecutive_failures=4, last_error="HTTP 503"
    )
    listed = agency_admin.get("/admin/monitoring/source/", {"status": "failing"})
    assert source.name.encode() in listed.content
    page = agency_admin.get(f"/admin/monitoring/source/{source.pk}/change/")
    assert b"HTTP 503" in page.content
    assert source.webhook_secret.encode() not in page.content


def test_admin_writes_go_through_the_services(agency_admin: Client, tenant: Any) -> None:
    added = agency_admin.post(
        "/admin/monitoring/trackedterm/add/",
        {"tenant": tenant.pk, "text": "  Kopi   Senja ", "kind": "brand"},
    )
    assert added.status_code == 302, added.content
    term = TrackedTerm.objects.for_tenant(tenant).get()
    assert term.text == "Kopi Senja"
    duplicate = agency_admin.post(
        "/admin/monitoring/trackedterm/add/",
        {"tenant": tenant.pk, "text": "Kopi Senja", "kind": "brand"},
    )
    assert duplicate.status_code == 200  # the form again, with the uniqueness error
    assert TrackedTerm.objects.for_tenant(tenant).count() == 1
    bulk = agency_admin.post(
        "/admin/monitoring/trackedterm/",
        {"action": "delete_selected", "_selected_action": [term.pk], "post": "yes"},
    )
    assert bulk.status_code == 302
    assert not TrackedTerm.objects.for_tenant(tenant).exists()


def test_source_admin_cannot_change_the_kind_or_the_tenant(
    agency_admin: Client, tenant: Any
) -> None:
    source = SourceFactory(tenant=tenant)
    page = agency_admin.get(f"/admin/monitoring/source/{source.pk}/change/")
    form = page.context["adminform"].form
    assert "kind" not in form.fields and "tenant" not in form.fields
