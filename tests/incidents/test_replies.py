"""Replies to mentions: draft → check → approval where the policy requires → sent, the mention
responded through the triage service, the commander's override at SEV1-SEV2 on the timeline;
the consistency-check endpoint; the resource on the shared test base.

The approved line comes from ``incidents.line.approved_line``: most flows here use texts the check
flags without one (promises, tone); ``test_a_reply_is_checked_against_the_real_approved_statement``
approves a statement through the statements API and checks replies against it."""

from __future__ import annotations

from typing import Any

import pytest

from incidents.choices import TimelineKind
from incidents.models import Reply, TimelineEntry
from incidents.replies import check_text
from monitoring.models import Mention
from playbooks.models import CannedAnswer
from tenants.models import Tenant
from tenants.roles import Cap
from tests.incidents.factories import IncidentFactory, IncidentLinkFactory, IncidentMemberFactory
from tests.monitoring.factories import MentionFactory
from tests.playbooks.factories import CannedAnswerFactory
from tests.resource_base import Ctx, GraphQLMutation, TenantResourceTests

FLAGGED = "Tenang kak, semua pelanggan dapet refund penuh besok"
CLEAN = "Mohon maaf atas kendalanya kak, tim kami sedang menangani dan akan update di akun resmi"


class TestReplies(TenantResourceTests):
    model = Reply
    basename = "reply"
    capabilities = {
        "list": Cap.VIEW_INCIDENT_INTERNALS,
        "retrieve": Cap.VIEW_INCIDENT_INTERNALS,
        "create": Cap.DRAFT_REPLIES,
        "partial_update": Cap.DRAFT_REPLIES,
        "destroy": Cap.DRAFT_REPLIES,
    }
    update_data = {"text": "Halo kak, kami cek dulu ya"}
    rest_list_queries = 5
    graphql_list = (
        "query($slug: String!) { replies(slug: $slug) { id findings { category } "
        "created_by { email } } }"
    )
    graphql_list_path = ("replies",)
    graphql_list_queries = 4
    graphql_mutations = (
        GraphQLMutation(
            "create",
            "mutation($slug: String!, $mention: ID!) { draft_reply(slug: $slug, "
            'mention: $mention, text: "Refund besok ya kak") { id flagged } }',
            Cap.DRAFT_REPLIES,
            variables=lambda ctx: {"mention": str(MentionFactory(tenant=ctx.tenant).pk)},
            expect=lambda ctx: {"flagged": True, "status": "draft"},
            foreign_variables=lambda ctx: {
                "mention": str(MentionFactory(tenant=ctx.other_tenant).pk)
            },
        ),
        GraphQLMutation(
            "update",
            "mutation($slug: String!, $id: ID!) { update_reply(slug: $slug, id: $id, "
            'text: "Halo kak") { id } }',
            Cap.DRAFT_REPLIES,
            expect=lambda ctx: {"text": "Halo kak", "flagged": False},
        ),
        GraphQLMutation(
            "update",
            "mutation($slug: String!, $id: ID!) { submit_reply(slug: $slug, id: $id) { id } }",
            Cap.DRAFT_REPLIES,
            expect=lambda ctx: {"status": "sent"},
        ),
    )

    def make(self, tenant: Tenant) -> Reply:
        return Reply.objects.create(
            tenant=tenant, mention=MentionFactory(tenant=tenant), text="Halo kak"
        )

    def create_payload(self, ctx: Ctx) -> dict[str, Any]:
        return {"mention": MentionFactory(tenant=ctx.tenant).pk, "text": FLAGGED}

    def expected_after_create(self, ctx: Ctx) -> dict[str, Any]:
        return {"text": FLAGGED, "status": "draft", "flagged": True}

    def foreign_body(self, ctx: Ctx) -> dict[str, Any]:
        return {
            "mention": MentionFactory(tenant=ctx.other_tenant).pk,
            "incident": IncidentFactory(tenant=ctx.other_tenant).pk,
            "canned_answer": CannedAnswerFactory(tenant=ctx.other_tenant).pk,
        }


class TestRepliesAwaitingApproval(TenantResourceTests):
    """The approver's mutation, on replies waiting for approval."""

    model = Reply
    basename = "reply"
    capabilities = {"retrieve": Cap.VIEW_INCIDENT_INTERNALS}
    payload_variant = True
    rest_list_queries = 5
    graphql_mutations = (
        GraphQLMutation(
            "update",
            "mutation($slug: String!, $id: ID!) { approve_reply(slug: $slug, id: $id) { id } }",
            Cap.APPROVE_STATEMENTS,
            expect=lambda ctx: {"status": "sent"},
        ),
    )

    def make(self, tenant: Tenant) -> Reply:
        return Reply.objects.create(
            tenant=tenant,
            mention=MentionFactory(tenant=tenant),
            text="Halo kak",
            status="pending_approval",
        )


class TestFlaggedSev1Replies(TenantResourceTests):
    """The commander's override, on flagged drafts of SEV1 incidents."""

    model = Reply
    basename = "reply"
    capabilities = {"retrieve": Cap.VIEW_INCIDENT_INTERNALS}
    payload_variant = True
    rest_list_queries = 5
    graphql_mutations = (
        GraphQLMutation(
            "update",
            "mutation($slug: String!, $id: ID!) { override_reply_check(slug: $slug, id: $id, "
            'reason: "Disetujui klien") { id } }',
            Cap.MANAGE_INCIDENTS,
            expect=lambda ctx: {"override_reason": "Disetujui klien"},
        ),
    )

    def make(self, tenant: Tenant) -> Reply:
        return Reply.objects.create(
            tenant=tenant,
            mention=MentionFactory(tenant=tenant),
            incident=IncidentFactory(tenant=tenant, severity="sev1"),
            text=FLAGGED,
            flagged=True,
            findings=check_text(text=FLAGGED),
        )


# --- the flow ---------------------------------------------------------------------------------


def url(tenant: Tenant, *parts: Any) -> str:
    return "/api/v1/tenants/" + tenant.slug + "/" + "/".join(str(p) for p in parts) + "/"


@pytest.fixture
def responder(members: dict[str, Any]) -> Any:
    return members["responder"]


def draft(api: Any, tenant: Tenant, user: Any, **body: Any) -> dict[str, Any]:
    response = api(user).post(url(tenant, "replies"), body, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def test_a_clean_reply_at_sev3_is_sent_and_the_mention_becomes_responded(
    api: Any, tenant: Tenant, responder: Any
) -> None:
    incident = IncidentFactory(tenant=tenant, severity="sev3")
    mention = MentionFactory(tenant=tenant, status="relevant")
    body = draft(api, tenant, responder, mention=mention.pk, incident=incident.pk, text=CLEAN)
    assert (body["status"], body["flagged"], body["findings"]) == ("draft", False, [])
    assert body["checked_at"]

    sent = api(responder).post(url(tenant, "replies", body["id"], "submit"))
    assert sent.status_code == 200, sent.content
    assert sent.json()["status"] == "sent"
    assert sent.json()["sent_by"] == responder.pk
    assert Mention.objects.for_tenant(tenant).get(pk=mention.pk).status == "responded"
    entry = TimelineEntry.objects.for_tenant(tenant).get(incident=incident, kind=TimelineKind.REPLY)
    assert entry.mention_id == mention.pk and entry.data["reply"] == body["id"]
    assert not entry.visible_to_client


def test_at_sev2_an_approver_approves_and_only_then_it_is_sent(
    api: Any, tenant: Tenant, members: dict[str, Any], responder: Any
) -> None:
    incident = IncidentFactory(tenant=tenant, severity="sev2")
    mention = MentionFactory(tenant=tenant)
    body = draft(api, tenant, responder, mention=mention.pk, incident=incident.pk, text=CLEAN)
    waiting = api(responder).post(url(tenant, "replies", body["id"], "submit")).json()
    assert waiting["status"] == "pending_approval"
    assert Mention.objects.for_tenant(tenant).get(pk=mention.pk).status == "new"

    refused = api(responder).post(url(tenant, "replies", body["id"], "approve"))
    assert refused.status_code == 403
    approved = api(members["approver"]).post(url(tenant, "replies", body["id"], "approve"))
    assert approved.status_code == 200, approved.content
    assert approved.json()["status"] == "sent"
    assert approved.json()["approved_by"] == members["approver"].pk
    assert Mention.objects.for_tenant(tenant).get(pk=mention.pk).status == "responded"


def test_a_flagged_reply_at_sev1_needs_the_commanders_override_with_a_reason(
    api: Any, tenant: Tenant, members: dict[str, Any], responder: Any
) -> None:
    incident = IncidentFactory(tenant=tenant, severity="sev1")
    commander = members["admin"]
    IncidentMemberFactory(incident=incident, user=commander, role="commander")
    mention = MentionFactory(tenant=tenant)
    body = draft(api, tenant, responder, mention=mention.pk, incident=incident.pk, text=FLAGGED)
    assert body["flagged"] is True
    promise = [f for f in body["findings"] if f["category"] == "promise"]
    assert promise and FLAGGED[promise[0]["start"] : promise[0]["end"]] == promise[0]["excerpt"]
    assert promise[0]["reason"]

    blocked = api(responder).post(url(tenant, "replies", body["id"], "submit"))
    assert blocked.status_code == 400
    assert blocked.json()["errors"][0]["attr"] == "text"
    assert blocked.json()["errors"][0]["code"] == "flagged"

    # The responder holds incidents.manage but is not the commander (there is one): 403.
    not_commander = api(responder).post(
        url(tenant, "replies", body["id"], "override"), {"reason": "ok"}, format="json"
    )
    assert not_commander.status_code == 403
    no_reason = api(commander).post(
        url(tenant, "replies", body["id"], "override"), {"reason": " "}, format="json"
    )
    assert no_reason.status_code == 400
    assert no_reason.json()["errors"][0]["attr"] == "reason"

    reason = "Refund sudah disetujui klien lewat telepon, pernyataan menyusul"
    overridden = api(commander).post(
        url(tenant, "replies", body["id"], "override"), {"reason": reason}, format="json"
    )
    assert overridden.status_code == 200, overridden.content
    assert overridden.json()["override_reason"] == reason
    entry = TimelineEntry.objects.for_tenant(tenant).get(
        incident=incident, kind=TimelineKind.CHECK_OVERRIDE
    )
    assert reason in entry.text and entry.actor_id == commander.pk
    assert entry.data["categories"] == ["promise"] and not entry.visible_to_client

    waiting = api(responder).post(url(tenant, "replies", body["id"], "submit"))
    assert waiting.json()["status"] == "pending_approval"
    sent = api(members["approver"]).post(url(tenant, "replies", body["id"], "approve"))
    assert sent.json()["status"] == "sent"


def test_editing_after_an_override_checks_again_and_drops_it(
    api: Any, tenant: Tenant, members: dict[str, Any], responder: Any
) -> None:
    incident = IncidentFactory(tenant=tenant, severity="sev2")
    mention = MentionFactory(tenant=tenant)
    body = draft(api, tenant, responder, mention=mention.pk, incident=incident.pk, text=FLAGGED)
    api(members["admin"]).post(
        url(tenant, "replies", body["id"], "override"), {"reason": "disetujui"}, format="json"
    )
    changed = api(responder).patch(
        url(tenant, "replies", body["id"]), {"text": "Ganti rugi besok kak"}, format="json"
    )
    assert changed.status_code == 200
    assert changed.json()["override_reason"] == "" and changed.json()["flagged"] is True
    blocked = api(responder).post(url(tenant, "replies", body["id"], "submit"))
    assert blocked.status_code == 400


def test_a_flagged_reply_below_sev2_waits_for_approval_and_needs_no_override(
    api: Any, tenant: Tenant, members: dict[str, Any], responder: Any
) -> None:
    mention = MentionFactory(tenant=tenant)
    body = draft(api, tenant, responder, mention=mention.pk, text="Baca dulu dong kak!!")
    assert body["incident"] is None and [f["category"] for f in body["findings"]] == ["tone"]
    refused = api(members["admin"]).post(
        url(tenant, "replies", body["id"], "override"), {"reason": "x"}, format="json"
    )
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["code"] == "not_needed"
    waiting = api(responder).post(url(tenant, "replies", body["id"], "submit")).json()
    assert waiting["status"] == "pending_approval"
    back = api(members["approver"]).post(url(tenant, "replies", body["id"], "return"))
    assert back.json()["status"] == "draft"


def test_the_mentions_open_incident_is_the_default(
    api: Any, tenant: Tenant, responder: Any
) -> None:
    incident = IncidentFactory(tenant=tenant, severity="sev3")
    mention = MentionFactory(tenant=tenant)
    IncidentLinkFactory(incident=incident, kind="mention", mention=mention)
    body = draft(api, tenant, responder, mention=mention.pk, text=CLEAN)
    assert body["incident"] == incident.pk


def test_sent_replies_and_drafts_waiting_cannot_change_or_go(
    api: Any, tenant: Tenant, responder: Any
) -> None:
    body = draft(api, tenant, responder, mention=MentionFactory(tenant=tenant).pk, text=CLEAN)
    assert api(responder).post(url(tenant, "replies", body["id"], "submit")).json()["status"] == (
        "sent"
    )
    changed = api(responder).patch(url(tenant, "replies", body["id"]), {"text": "x"}, format="json")
    assert changed.status_code == 400 and changed.json()["errors"][0]["attr"] == "status"
    assert api(responder).delete(url(tenant, "replies", body["id"])).status_code == 400
    assert Reply.objects.for_tenant(tenant).filter(pk=body["id"]).exists()


def test_a_canned_answer_must_be_approved_and_its_use_is_counted(
    api: Any, tenant: Tenant, responder: Any
) -> None:
    approved = CannedAnswerFactory(tenant=tenant, status="approved")
    drafted = CannedAnswerFactory(tenant=tenant, status="draft")
    mention = MentionFactory(tenant=tenant)
    refused = api(responder).post(
        url(tenant, "replies"),
        {"mention": mention.pk, "text": drafted.answer, "canned_answer": drafted.pk},
        format="json",
    )
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["attr"] == "canned_answer"
    for _ in range(2):
        draft(
            api,
            tenant,
            responder,
            mention=mention.pk,
            text=approved.answer,
            canned_answer=approved.pk,
        )
    assert CannedAnswer.objects.for_tenant(tenant).get(pk=approved.pk).usage_count == 2
    assert CannedAnswer.objects.for_tenant(tenant).get(pk=drafted.pk).usage_count == 0


def test_bad_input_names_the_field(api: Any, tenant: Tenant, responder: Any) -> None:
    mention = MentionFactory(tenant=tenant)
    for body, field in (
        ({"mention": mention.pk, "text": "  "}, "text"),
        ({"mention": mention.pk, "text": "x" * 2001}, "text"),
        ({"mention": "abc", "text": "Halo"}, "mention"),
        ({"text": "Halo"}, "mention"),
    ):
        response = api(responder).post(url(tenant, "replies"), body, format="json")
        assert response.status_code == 400, (body, response.content)
        assert response.json()["errors"][0]["attr"] == field


def test_the_consistency_check_endpoint_checks_any_text_and_writes_nothing(
    api: Any, tenant: Tenant, members: dict[str, Any], other_tenant: Tenant
) -> None:
    incident = IncidentFactory(tenant=tenant)
    response = api(members["approver"]).post(
        url(tenant, "consistency-check"),
        {"text": "Kami kasih ganti rugi besok", "incident": incident.pk},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["flagged"] is True
    assert {f["category"] for f in response.json()["findings"]} == {"promise"}
    clean = api(members["approver"]).post(
        url(tenant, "consistency-check"), {"text": CLEAN}, format="json"
    )
    assert clean.json() == {"flagged": False, "findings": []}
    theirs = api(members["approver"]).post(
        url(tenant, "consistency-check"),
        {"text": CLEAN, "incident": IncidentFactory(tenant=other_tenant).pk},
        format="json",
    )
    assert theirs.status_code == 400 and theirs.json()["errors"][0]["attr"] == "incident"
    assert not Reply.objects.for_tenant(tenant).exists()


def test_the_flow_over_graphql(gql: Any, tenant: Tenant, members: dict[str, Any]) -> None:
    incident = IncidentFactory(tenant=tenant, severity="sev1")
    mention = MentionFactory(tenant=tenant)
    drafted = gql(
        "mutation($slug: String!, $m: ID!, $i: ID!) { draft_reply(slug: $slug, mention: $m, "
        'incident: $i, text: "Refund penuh besok kak") { id flagged findings { category '
        "excerpt reason } } }",
        user=members["responder"],
        variables={"slug": tenant.slug, "m": str(mention.pk), "i": str(incident.pk)},
    )["data"]["draft_reply"]
    assert drafted["flagged"] and drafted["findings"][0]["category"] == "promise"
    blocked = gql(
        "mutation($slug: String!, $id: ID!) { submit_reply(slug: $slug, id: $id) { status } }",
        user=members["responder"],
        variables={"slug": tenant.slug, "id": drafted["id"]},
    )
    assert blocked["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "text"}
    overridden = gql(
        "mutation($slug: String!, $id: ID!) { override_reply_check(slug: $slug, id: $id, "
        'reason: "Klien setuju") { override_reason } }',
        user=members["admin"],
        variables={"slug": tenant.slug, "id": drafted["id"]},
    )
    assert overridden["data"]["override_reply_check"]["override_reason"] == "Klien setuju"
    for user, name, status in (
        (members["responder"], "submit_reply", "pending_approval"),
        (members["approver"], "approve_reply", "sent"),
    ):
        body = gql(
            f"mutation($slug: String!, $id: ID!) {{ {name}(slug: $slug, id: $id) {{ status }} }}",
            user=user,
            variables={"slug": tenant.slug, "id": drafted["id"]},
        )
        assert body["data"][name]["status"] == status, body
    assert Mention.objects.for_tenant(tenant).get(pk=mention.pk).status == "responded"


APPROVED_STATEMENT = (
    "Gangguan pembayaran sejak pagi ini berdampak pada sekitar 2.000 pelanggan. Data kartu "
    "pelanggan tidak bocor dan tetap aman. Tim kami sedang memulihkan layanan."
)


def test_a_reply_is_checked_against_the_real_approved_statement(
    api: Any, tenant: Tenant, members: dict[str, Any], responder: Any
) -> None:
    from incidents.line import approved_line
    from incidents.statements.models import StatementVersion

    incident = IncidentFactory(tenant=tenant, severity="sev3")
    mention = MentionFactory(tenant=tenant)
    # The statement: drafted by the responder, submitted, approved by the approver (the default
    # workflow: one agency step), all through the statements API.
    drafted = api(responder).post(
        url(tenant, "statements"),
        {"incident": incident.pk, "title": "Gangguan", "text": APPROVED_STATEMENT},
        format="json",
    )
    assert drafted.status_code == 201, drafted.content
    version = StatementVersion.objects.for_tenant(tenant).get(statement_id=drafted.json()["id"])
    submitted = api(responder).post(url(tenant, "statement-versions", version.pk, "submit"))
    assert submitted.status_code == 200, submitted.content
    approved = api(members["approver"]).post(
        url(tenant, "statement-versions", version.pk, "approve"),
        {"decision": "approved"},
        format="json",
    )
    assert approved.status_code == 200, approved.content
    assert approved.json()["status"] == "approved"
    line = approved_line(incident)
    assert (line.statement, line.statement_version_id) == (APPROVED_STATEMENT, version.pk)

    # A reply that changes the approved number (2.000 -> 20rb) is flagged on that number.
    wrong = draft(
        api,
        tenant,
        responder,
        mention=mention.pk,
        incident=incident.pk,
        text="Halo kak, gangguan pembayaran ini berdampak ke sekitar 20rb pelanggan ya",
    )
    assert wrong["flagged"] is True
    assert [f["category"] for f in wrong["findings"]] == ["number"]
    finding = wrong["findings"][0]
    assert finding["excerpt"] == "20rb"
    assert wrong["text"][finding["start"] : finding["end"]] == "20rb"
    assert wrong["statement_version_id"] == version.pk
    # Below SEV2 a flagged reply waits for an approver instead of going out.
    waiting = api(responder).post(url(tenant, "replies", wrong["id"], "submit"))
    assert waiting.status_code == 200 and waiting.json()["status"] == "pending_approval"

    # A faithful paraphrase (another spelling of the number, slang, no shared sentence) passes
    # and, at SEV3, is sent on submission.
    faithful = draft(
        api,
        tenant,
        responder,
        mention=mention.pk,
        incident=incident.pk,
        text="Maaf ya kak, yg kena kurleb 2rb pelanggan, data kartu ga bocor kok, tim lg benerin",
    )
    assert (faithful["flagged"], faithful["findings"]) == (False, [])
    assert faithful["statement_version_id"] == version.pk
    sent = api(responder).post(url(tenant, "replies", faithful["id"], "submit"))
    assert sent.status_code == 200 and sent.json()["status"] == "sent"
