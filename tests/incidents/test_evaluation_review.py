"""The post-crisis review end to end over HTTP: lessons, action items (due a week later by
default), feedback per participant, Draft → Final (figures frozen, the incident moves to
reviewed), the client's sign-off in the portal (GraphQL), what the client sees, the charts and
the exports read back (pypdf)."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from pypdf import PdfReader

from incidents.evaluation.models import Review
from incidents.models import Incident
from monitoring.models import MetricBucket
from tests.conftest import error_codes
from tests.incidents.factories import IncidentFactory
from tests.incidents.test_evaluation_figures import D, H, constructed  # noqa: F401
from tests.monitoring.factories import MentionFactory

QUOTED = "Kopinya basi, parah! é \u2019 — 😡 中文"
BASE = "/api/v1/tenants/{slug}/"


def url(tenant: Any, path: str) -> str:
    return BASE.format(slug=tenant.slug) + path


@pytest.fixture(autouse=True)
def english(tenant: Any) -> None:
    """Texts asserted in English; the tenant keeps Jakarta's zone (WIB)."""
    tenant.default_language = "en"
    tenant.save(update_fields=["default_language"])


@pytest.fixture
def reviewed(
    api: Any,
    tenant: Any,
    members: dict[str, Any],
    constructed: Incident,  # noqa: F811 - the fixture imported above
) -> dict[str, Any]:
    """A draft review with a visible and an internal lesson, an action item, one rating."""
    MentionFactory(
        tenant=tenant, text=QUOTED, published_at=D + H, risk=99, author_handle="pelanggan"
    )
    admin = api(members["admin"])
    created = admin.post(
        url(tenant, "incident-reviews/"),
        {"incident": constructed.pk, "summary": "Boikot reda dalam enam jam."},
        format="json",
    )
    assert created.status_code == 201, created.content
    review = created.json()["id"]
    for kind, text, visible in (
        ("went_well", "Holding statement within 30 minutes.", True),
        ("went_badly", "INTERNAL: legal was slow to answer.", False),
    ):
        answer = admin.post(
            url(tenant, "incident-review-lessons/"),
            {"review": review, "kind": kind, "text": text, "visible_to_client": visible},
            format="json",
        )
        assert answer.status_code == 201, answer.content
    action = admin.post(
        url(tenant, "incident-review-actions/"),
        {"review": review, "title": "Write the FAQ", "owner": members["responder"].pk},
        format="json",
    )
    assert action.status_code == 201, action.content
    rating = admin.post(
        url(tenant, "incident-review-feedback/"),
        {
            "review": review,
            "participant": members["responder"].pk,
            "rating": 4,
            "comment": "INTERNAL: tiring night",
        },
        format="json",
    )
    assert rating.status_code == 201, rating.content
    return {"id": review, "incident": constructed, "action": action.json()}


def test_action_items_are_due_a_week_later_by_default(reviewed: dict[str, Any]) -> None:
    due = timezone.datetime.fromisoformat(reviewed["action"]["due_at"])
    assert abs(due - (timezone.now() + timedelta(days=7))) < timedelta(minutes=5)


def test_final_review_freezes_figures_and_moves_the_incident(
    api: Any, tenant: Any, members: dict[str, Any], reviewed: dict[str, Any]
) -> None:
    admin, review = api(members["admin"]), reviewed["id"]
    live = admin.get(url(tenant, f"incident-reviews/{review}/figures/")).json()
    assert live["minutes_to_resolve"] == 360.0
    # the client cannot finalise; a member without the commander's powers neither
    assert (
        api(members["client"]).post(url(tenant, f"incident-reviews/{review}/finalise/")).status_code
        == 403
    )
    answer = admin.post(url(tenant, f"incident-reviews/{review}/finalise/"))
    assert answer.status_code == 200, answer.content
    assert answer.json()["status"] == "final"
    incident = Incident.objects.for_tenant(tenant).get(pk=reviewed["incident"].pk)
    assert incident.status == "reviewed" and incident.reviewed_at is not None
    # new data after the review changes nothing in its figures
    MetricBucket.objects.for_tenant(tenant).filter(query_id=0).update(mentions=1, negative=1)
    frozen = admin.get(url(tenant, f"incident-reviews/{review}/figures/")).json()
    assert frozen["volume"] == live["volume"]
    # a final review refuses changes, its parts too
    refused = admin.patch(
        url(tenant, f"incident-reviews/{review}/"), {"summary": "x"}, format="json"
    )
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["code"] == "final"
    lesson = admin.post(
        url(tenant, "incident-review-lessons/"),
        {"review": review, "kind": "went_well", "text": "late"},
        format="json",
    )
    assert lesson.status_code == 400 and lesson.json()["errors"][0]["attr"] == "review"


def test_only_a_resolved_incident_gets_a_final_review(
    api: Any, tenant: Any, members: dict[str, Any]
) -> None:
    incident = IncidentFactory(tenant=tenant)
    Incident.objects.for_tenant(tenant).filter(pk=incident.pk).update(status="monitoring")
    admin = api(members["admin"])
    review = admin.post(
        url(tenant, "incident-reviews/"), {"incident": incident.pk}, format="json"
    ).json()
    answer = admin.post(url(tenant, f"incident-reviews/{review['id']}/finalise/"))
    assert answer.status_code == 400
    assert answer.json()["errors"][0] | {"detail": ""} == {
        "code": "not_resolved",
        "attr": "status",
        "detail": "",
    }
    opened = IncidentFactory(tenant=tenant)
    refused = admin.post(url(tenant, "incident-reviews/"), {"incident": opened.pk}, format="json")
    assert refused.status_code == 400 and refused.json()["errors"][0]["attr"] == "incident"


SIGN_OFF = (
    "mutation($slug: String!, $id: ID!) { sign_off_review(slug: $slug, id: $id, "
    'comment: "OK") { status signed_off_at signed_off_by { email } } }'
)


def test_the_client_signs_off_in_the_portal_once(
    api: Any, gql: Any, tenant: Any, members: dict[str, Any], reviewed: dict[str, Any]
) -> None:
    variables = {"slug": tenant.slug, "id": str(reviewed["id"])}
    early = gql(SIGN_OFF, user=members["client"], variables=variables)
    assert error_codes(early) == ["BAD_USER_INPUT"]  # still a draft
    api(members["admin"]).post(url(tenant, f"incident-reviews/{reviewed['id']}/finalise/"))
    assert error_codes(gql(SIGN_OFF, user=members["admin"], variables=variables)) == ["FORBIDDEN"]
    body = gql(SIGN_OFF, user=members["client"], variables=variables)
    assert "errors" not in body, body
    assert body["data"]["sign_off_review"]["signed_off_by"]["email"] == members["client"].email
    assert error_codes(gql(SIGN_OFF, user=members["client"], variables=variables)) == [
        "BAD_USER_INPUT"
    ]
    assert Review.objects.for_tenant(tenant).get(pk=reviewed["id"]).signed_off_at is not None
    # REST: the admin lacks reviews.sign_off
    assert (
        api(members["admin"])
        .post(url(tenant, f"incident-reviews/{reviewed['id']}/sign-off/"))
        .status_code
        == 403
    )


PORTAL = (
    "query($slug: String!) { incident_reviews(slug: $slug) "
    "{ id lessons { text } action_items { title } figures } }"
)


def test_the_client_sees_only_client_visible_material(
    api: Any, gql: Any, tenant: Any, members: dict[str, Any], reviewed: dict[str, Any]
) -> None:
    client = api(members["client"])
    lessons = client.get(url(tenant, "incident-review-lessons/")).json()["results"]
    assert [row["text"] for row in lessons] == ["Holding statement within 30 minutes."]
    assert client.get(url(tenant, "incident-review-feedback/")).status_code == 403
    staff = api(members["analyst"]).get(url(tenant, "incident-review-lessons/")).json()["results"]
    assert len(staff) == 2
    body = gql(PORTAL, user=members["client"], variables={"slug": tenant.slug})
    (review,) = body["data"]["incident_reviews"]
    assert [row["text"] for row in review["lessons"]] == ["Holding statement within 30 minutes."]
    assert review["figures"]["detection"]["minutes_to_detect"] == 120.0
    # a drill's review is not the client's to see
    drill = IncidentFactory(tenant=tenant, is_drill=True)
    Incident.objects.for_tenant(tenant).filter(pk=drill.pk).update(status="resolved")
    made = api(members["admin"]).post(
        url(tenant, "incident-reviews/"), {"incident": drill.pk}, format="json"
    )
    assert made.status_code == 201
    assert (
        len(
            gql(PORTAL, user=members["client"], variables={"slug": tenant.slug})["data"][
                "incident_reviews"
            ]
        )
        == 1
    )
    assert len(client.get(url(tenant, "incident-reviews/")).json()["results"]) == 1
    figures = api(members["admin"]).get(
        url(tenant, f"incident-reviews/{made.json()['id']}/figures/")
    )
    assert figures.status_code == 400 and figures.json()["errors"][0]["code"] == "drill"


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def test_pdf_export_reads_back_with_figures_and_the_quoted_post(
    api: Any, tenant: Any, members: dict[str, Any], reviewed: dict[str, Any]
) -> None:
    answer = api(members["client"]).get(
        url(tenant, f"incident-reviews/{reviewed['id']}/export/?output=pdf")
    )
    assert answer.status_code == 200 and answer["Content-Type"] == "application/pdf"
    text = pdf_text(answer.content)
    assert QUOTED in text
    for figure in (
        "Time to detect",
        "120 min",
        "360 min",
        "50.0% (2 of 4 gaps within 60 min)",
        "75.0% (150 of 200 mentions)",
        "60.0% (3 of 5)",
    ):
        assert figure in text, figure
    assert "WIB" in text and "Asia/Jakarta" in text
    assert "Nov. 10, 2026, 10 a.m. WIB" in text  # detected 03:00 UTC is 10:00 WIB
    assert "INTERNAL" not in text  # neither the internal lesson nor the feedback
    internal = pdf_text(
        api(members["admin"])
        .get(url(tenant, f"incident-reviews/{reviewed['id']}/export/?output=pdf"))
        .content
    )
    assert (
        "INTERNAL: legal was slow to answer." in internal and "INTERNAL: tiring night" in internal
    )


def test_markdown_export(
    api: Any, tenant: Any, members: dict[str, Any], reviewed: dict[str, Any]
) -> None:
    answer = api(members["client"]).get(
        url(tenant, f"incident-reviews/{reviewed['id']}/export/?output=md")
    )
    assert answer.status_code == 200
    text = answer.content.decode()
    assert text.startswith("# Post-crisis review: ")
    assert f"> {QUOTED}" in text
    assert "| Time to acknowledge | 10 min |" in text
    assert text.count("](data:image/png;base64,") == 3
    assert "INTERNAL" not in text
    assert (
        api(members["client"])
        .get(url(tenant, f"incident-reviews/{reviewed['id']}/export/?output=doc"))
        .status_code
        == 400
    )


def test_charts_are_served_as_svg_and_png(
    api: Any, tenant: Any, members: dict[str, Any], reviewed: dict[str, Any]
) -> None:
    client = api(members["client"])
    base = url(tenant, f"incident-reviews/{reviewed['id']}/chart/")
    timeline = client.get(base + "?name=timeline&output=svg")
    assert timeline.status_code == 200 and timeline["Content-Type"] == "image/svg+xml"
    svg = timeline.content.decode()
    # milestones: the alert, detected, acknowledged, four statements, mitigated, resolved
    assert svg.count('id="marker-') == 9
    assert 'id="series-mentions"' in svg and 'id="series-negative"' in svg
    band = client.get(base + "?name=negative_share&output=svg").content.decode()
    assert 'id="band"' in band
    voice = client.get(base + "?name=share_of_voice&output=png")
    assert voice["Content-Type"] == "image/png" and voice.content.startswith(b"\x89PNG")
    assert client.get(base + "?name=pie").status_code == 400
