"""Canned answers: suggestions for a mention (approved answers only, top three with scores,
slang paraphrases), the approval rule, and the public chat widget (publishable key, approved
answers only, CORS limited to the listed origins, rate limit per client IP)."""

from __future__ import annotations

from typing import Any

import pytest

from playbooks import services
from playbooks.api.views import WidgetRateThrottle
from playbooks.models import CannedAnswer
from tenants.models import Tenant
from tests.monitoring.factories import MentionFactory
from tests.playbooks.factories import AnswerWidgetFactory, CannedAnswerFactory

LIBRARY = {
    "refund": (
        "Bagaimana cara mengajukan refund (pengembalian dana)?",
        "Refund diajukan lewat menu Bantuan > Pengembalian Dana di aplikasi.",
    ),
    "delivery": (
        "Kenapa pesanan saya belum sampai?",
        "Mohon maaf pesanan terlambat; cek status pengiriman di menu Pesanan Saya.",
    ),
    "password": (
        "Bagaimana cara mengganti kata sandi akun?",
        "Ganti kata sandi di menu Profil > Keamanan > Ubah Kata Sandi.",
    ),
    "halal": (
        "Apakah produk sudah bersertifikat halal?",
        "Semua produk kami bersertifikat halal MUI; nomornya ada di kemasan.",
    ),
    "promo": (
        "Sampai kapan promo diskon berlaku?",
        "Masa berlaku promo tercantum di halaman promo pada aplikasi.",
    ),
    "store_hours": (
        "Jam berapa toko buka?",
        "Toko kami buka setiap hari pukul 08.00 sampai 22.00.",
    ),
    "password_en": (
        "How do I change my account password?",
        "Go to Profile > Security > Change password in the app.",
    ),
}
# Slang and code-mixed questions as people write them, and the answer each needs.
PARAPHRASES = [
    ("min gmn caranya refund duit gw??", "refund"),
    ("udh seminggu paketnya blm nyampe jg nih, kemana ya", "delivery"),
    ("lupa pw akun, gimana gantinya kak", "password"),
    ("ini produknya halal gak sih min", "halal"),
    ("promo diskonnya sampe kapan ya min", "promo"),
    ("tokonya buka jam brp kak?", "store_hours"),
    ("kak how to change my password pls", "password_en"),
]


@pytest.fixture
def library(tenant: Tenant) -> dict[str, CannedAnswer]:
    rows = {
        key: CannedAnswerFactory(
            tenant=tenant,
            question=q,
            answer=a,
            status="approved",
            language="en" if key.endswith("_en") else "id",
        )
        for key, (q, a) in LIBRARY.items()
    }
    # A draft that matches the refund question better than the approved one: never suggested.
    rows["draft"] = CannedAnswerFactory(
        tenant=tenant,
        question="Gimana caranya refund duit?",
        answer="Refund duit lewat DM ya kak.",
        status="draft",
    )
    return rows


def suggestions(api: Any, tenant: Tenant, user: Any, mention: Any) -> list[dict[str, Any]]:
    response = api(user).get(
        f"/api/v1/tenants/{tenant.slug}/reply-suggestions/", {"mention": mention.pk}
    )
    assert response.status_code == 200, response.content
    return response.json()


@pytest.mark.parametrize(("text", "expected"), PARAPHRASES)
def test_the_best_suggestion_for_a_slang_question_is_the_right_answer(
    api: Any,
    tenant: Tenant,
    members: dict[str, Any],
    library: dict[str, CannedAnswer],
    text: str,
    expected: str,
) -> None:
    mention = MentionFactory(tenant=tenant, text=text, language="id")
    found = suggestions(api, tenant, members["responder"], mention)
    assert 1 <= len(found) <= 3
    assert found[0]["id"] == library[expected].pk, [f["question"] for f in found]
    scores = [f["score"] for f in found]
    assert scores == sorted(scores, reverse=True) and all(0 < s <= 1 for s in scores)
    assert library["draft"].pk not in {f["id"] for f in found}


def test_suggestions_over_graphql_match_rest(
    api: Any, gql: Any, tenant: Tenant, members: dict[str, Any], library: dict[str, CannedAnswer]
) -> None:
    mention = MentionFactory(tenant=tenant, text="min gmn caranya refund duit gw??")
    rest = suggestions(api, tenant, members["analyst"], mention)
    body = gql(
        "query($slug: String!, $m: ID!) { answer_suggestions(slug: $slug, mention: $m) "
        "{ id score } }",
        user=members["analyst"],
        variables={"slug": tenant.slug, "m": str(mention.pk)},
    )
    assert [int(s["id"]) for s in body["data"]["answer_suggestions"]] == [r["id"] for r in rest]


def test_another_tenants_mention_gets_no_suggestions(
    api: Any, tenant: Tenant, other_tenant: Tenant, members: dict[str, Any]
) -> None:
    theirs = MentionFactory(tenant=other_tenant, text="refund dong")
    response = api(members["responder"]).get(
        f"/api/v1/tenants/{tenant.slug}/reply-suggestions/", {"mention": theirs.pk}
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "mention"


def test_changing_an_approved_answer_makes_it_a_draft_again(tenant: Tenant) -> None:
    answer = CannedAnswerFactory(tenant=tenant, status="approved")
    services.update_answer(instance=answer, answer="Teks baru")
    assert CannedAnswer.objects.for_tenant(tenant).get(pk=answer.pk).status == "draft"
    services.approve_answer(instance=answer)
    assert CannedAnswer.objects.for_tenant(tenant).get(pk=answer.pk).status == "approved"


# --- the chat widget --------------------------------------------------------------------------

ORIGIN = "https://www.kopisenja.co.id"


def widget_url(tenant: Tenant) -> str:
    return f"/api/v1/tenants/{tenant.slug}/widget/answers/"


def test_the_widget_reads_approved_answers_with_its_key_only(
    client: Any, tenant: Tenant, library: dict[str, CannedAnswer]
) -> None:
    widget = AnswerWidgetFactory(tenant=tenant, allowed_origins=[ORIGIN])
    listed = client.get(widget_url(tenant), HTTP_X_WIDGET_KEY=widget.key)
    assert listed.status_code == 200, listed.content
    ids = {row["id"] for row in listed.json()}
    assert ids == {a.pk for k, a in library.items() if k != "draft"}
    assert set(listed.json()[0]) == {"id", "question", "answer", "language"}

    asked = client.get(widget_url(tenant), {"key": widget.key, "q": "tokonya buka jam brp?"})
    assert asked.json()[0]["id"] == library["store_hours"].pk and asked.json()[0]["score"] > 0

    for headers in ({}, {"HTTP_X_WIDGET_KEY": "wk_wrong"}):
        refused = client.get(widget_url(tenant), **headers)
        assert refused.status_code == 401, refused.content


def test_another_tenants_key_or_a_disabled_widget_reads_nothing(
    client: Any, tenant: Tenant, other_tenant: Tenant, library: dict[str, CannedAnswer]
) -> None:
    theirs = AnswerWidgetFactory(tenant=other_tenant)
    assert client.get(widget_url(tenant), HTTP_X_WIDGET_KEY=theirs.key).status_code == 401
    off = AnswerWidgetFactory(tenant=tenant, is_enabled=False)
    assert client.get(widget_url(tenant), HTTP_X_WIDGET_KEY=off.key).status_code == 401
    assert client.post(widget_url(tenant), HTTP_X_WIDGET_KEY=off.key).status_code in (401, 405)


def test_cors_only_for_the_listed_origins(client: Any, tenant: Tenant) -> None:
    widget = AnswerWidgetFactory(tenant=tenant, allowed_origins=[ORIGIN])
    allowed = client.get(widget_url(tenant), HTTP_X_WIDGET_KEY=widget.key, HTTP_ORIGIN=ORIGIN)
    assert allowed.status_code == 200
    assert allowed["Access-Control-Allow-Origin"] == ORIGIN
    assert "Origin" in allowed["Vary"]
    other = client.get(
        widget_url(tenant), HTTP_X_WIDGET_KEY=widget.key, HTTP_ORIGIN="https://evil.example"
    )
    assert other.status_code == 403 and "Access-Control-Allow-Origin" not in other
    preflight = client.options(
        widget_url(tenant),
        HTTP_ORIGIN=ORIGIN,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="x-widget-key",
    )
    assert preflight.status_code == 204
    assert preflight["Access-Control-Allow-Origin"] == ORIGIN
    assert "X-Widget-Key" in preflight["Access-Control-Allow-Headers"]
    refused = client.options(widget_url(tenant), HTTP_ORIGIN="https://evil.example")
    assert refused.status_code == 403


def test_the_widget_is_rate_limited_per_client_ip(
    client: Any, tenant: Tenant, monkeypatch: Any
) -> None:
    monkeypatch.setattr(WidgetRateThrottle, "THROTTLE_RATES", {"widget": "3/min"})
    widget = AnswerWidgetFactory(tenant=tenant)
    codes = [
        client.get(widget_url(tenant), HTTP_X_WIDGET_KEY=widget.key).status_code for _ in range(4)
    ]
    assert codes == [200, 200, 200, 429]
    other_ip = client.get(widget_url(tenant), HTTP_X_WIDGET_KEY=widget.key, REMOTE_ADDR="10.1.2.3")
    assert other_ip.status_code == 200


def test_the_widget_refuses_bad_parameters_naming_them(client: Any, tenant: Tenant) -> None:
    widget = AnswerWidgetFactory(tenant=tenant)
    for params, field in (({"language": "fr"}, "language"), ({"q": "x" * 501}, "q")):
        response = client.get(widget_url(tenant), params, HTTP_X_WIDGET_KEY=widget.key)
        assert response.status_code == 400
        assert response.json()["errors"][0]["attr"] == field
