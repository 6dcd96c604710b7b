"""The demo holds a resolved incident with a finished, signed-off review (no PDF made while
seeding); the admin shows reviews with their figures and chart, and subscriptions go through
the services."""

from __future__ import annotations

from typing import Any

from django.test import Client

from incidents.evaluation.demo import TITLE, seed_review
from incidents.evaluation.models import ReportSubscription, Review
from incidents.models import Incident
from tenants.demo import DEMO_SEEDERS
from tests.factories import UserFactory


def test_demo_has_a_finished_review(tenant: Any, members: Any, monkeypatch: Any) -> None:
    from incidents.evaluation import export

    def no_pdf(*args: Any, **kwargs: Any) -> bytes:
        raise AssertionError("no PDF while seeding")

    monkeypatch.setattr(export, "to_pdf", no_pdf)
    assert DEMO_SEEDERS["evaluation"] is seed_review
    assert "(final)" in seed_review(tenant)
    incident = Incident.objects.for_tenant(tenant).get(title=TITLE)
    assert incident.status == "reviewed"
    review = Review.objects.for_tenant(tenant).get(incident=incident)
    assert review.status == "final" and review.signed_off_by == members["client"]
    assert review.figures is not None and review.figures["minutes_to_resolve"] == 540.0
    assert review.figures["minutes_to_first_statement"] == 40.0
    assert "kept" in seed_review(tenant)


def staff_client(tenant: Any) -> Client:
    # The pages are read in English here (Indonesian is the default).
    user = UserFactory(
        email="staff@kopi.test",
        agency=tenant.agency,
        is_agency_admin=True,
        is_staff=True,
        language="en",
    )
    client = Client()
    client.force_login(user)
    return client


def test_admin_shows_the_review_with_figures_and_chart(tenant: Any, members: Any) -> None:
    seed_review(tenant)
    review = Review.objects.for_tenant(tenant).get()
    page = staff_client(tenant).get(f"/admin/incidents/review/{review.pk}/change/")
    assert page.status_code == 200
    body = page.content.decode()
    assert 'class="sigap-chart"' in body and 'id="marker-' in body
    assert "540 min" in body


def test_admin_subscription_goes_through_the_service(tenant: Any) -> None:
    client = staff_client(tenant)
    answer = client.post(
        "/admin/incidents/reportsubscription/add/",
        {
            "tenant": tenant.pk,
            "frequency": "weekly",
            "recipients": "A@Kopi.test,b@kopi.test",
            "is_active": "on",
        },
    )
    assert answer.status_code == 302, answer.content.decode()[:2000]
    assert ReportSubscription.objects.for_tenant(tenant).get().recipients == [
        "a@kopi.test",
        "b@kopi.test",
    ]
