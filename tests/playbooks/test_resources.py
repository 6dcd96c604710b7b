"""The playbooks resources on the shared resource test base (tests/resource_base.py): CRUD,
refusals, other tenants' objects and pinned query counts on REST and GraphQL. Playbooks of the
tenant's own agency that other tenants share are tested in test_templates.py."""

from __future__ import annotations

from typing import Any

from incidents import services
from incidents.models import IncidentPlaybook, ResponseAdvice
from incidents.playbooks import attach_playbook
from playbooks import services as playbook_services
from playbooks.models import AnswerWidget, CannedAnswer, Playbook
from tenants.models import Tenant
from tenants.roles import Cap
from tests.incidents.factories import IncidentFactory
from tests.playbooks.factories import AnswerWidgetFactory, CannedAnswerFactory
from tests.resource_base import Ctx, GraphQLMutation, TenantResourceTests

STEPS = [
    {"key": "verify", "title": "Verify", "role": "analyst", "due_offset_minutes": 30},
    {"key": "reply", "title": "Reply", "role": "communications", "depends_on": ["verify"]},
]


def _playbook(tenant: Tenant, name: str = "Plan") -> Playbook:
    return playbook_services.create_playbook(
        tenant=tenant,
        name=f"{name} {Playbook.objects.count()}",
        trigger_types=["cyber_attack"],
        steps=STEPS,
    )


class TestPlaybooks(TenantResourceTests):
    model = Playbook
    basename = "playbook"
    capabilities = {
        "list": Cap.VIEW_PLAYBOOKS,
        "retrieve": Cap.VIEW_PLAYBOOKS,
        "create": Cap.MANAGE_PLAYBOOKS,
        "update": Cap.MANAGE_PLAYBOOKS,
        "partial_update": Cap.MANAGE_PLAYBOOKS,
        "destroy": Cap.MANAGE_PLAYBOOKS,
    }
    create_data = {
        "name": "Hoaks",
        "trigger_types": ["hoax"],
        "min_severity": "sev3",
        "key_messages": ["Tidak benar."],
        "steps": STEPS,
    }
    create_expect = {"name": "Hoaks", "owner": "tenant", "version": 1}
    update_data = {"name": "Hoaks produk", "do_guidance": ["Tetap tenang."]}
    update_expect = {"name": "Hoaks produk", "version": 2}
    rest_list_queries = 6
    graphql_list = "query($slug: String!) { playbooks(slug: $slug) { id name steps } }"
    graphql_list_path = ("playbooks",)
    graphql_list_queries = 5

    def make(self, tenant: Tenant) -> Playbook:
        return _playbook(tenant)


class TestIncidentPlaybooks(TenantResourceTests):
    model = IncidentPlaybook
    basename = "incident-playbook"
    capabilities = {
        "list": Cap.VIEW_INCIDENT_INTERNALS,
        "retrieve": Cap.VIEW_INCIDENT_INTERNALS,
        "create": Cap.MANAGE_INCIDENTS,
    }
    rest_list_queries = 5
    graphql_list = (
        "query($slug: String!) { incident_playbooks(slug: $slug) "
        "{ id name attached_by { email } } }"
    )
    graphql_list_path = ("incident_playbooks",)
    graphql_list_queries = 4
    graphql_mutations = (
        GraphQLMutation(
            action="create",
            document=(
                "mutation($slug: String!, $incident: ID!, $playbook: ID!) { "
                "attach_playbook(slug: $slug, incident: $incident, playbook: $playbook) "
                "{ id by_hand } }"
            ),
            capability=Cap.MANAGE_INCIDENTS,
            variables=lambda ctx: {
                "incident": str(IncidentFactory(tenant=ctx.tenant, trigger="hoax").pk),
                "playbook": str(_playbook(ctx.tenant, "Hand").pk),
            },
            expect=lambda ctx: {"by_hand": True, "version": 1},
            foreign_variables=lambda ctx: {
                "incident": str(IncidentFactory(tenant=ctx.other_tenant).pk),
                "playbook": str(_playbook(ctx.other_tenant, "Theirs").pk),
            },
        ),
    )

    def make(self, tenant: Tenant) -> IncidentPlaybook:
        incident = IncidentFactory(tenant=tenant, trigger="hoax")
        return attach_playbook(incident=incident, playbook=_playbook(tenant, f"P{incident.pk}"))

    def create_payload(self, ctx: Ctx) -> dict[str, Any]:
        incident = IncidentFactory(tenant=ctx.tenant, trigger="hoax")
        return {"incident": incident.pk, "playbook": _playbook(ctx.tenant, "Hand").pk}

    def expected_after_create(self, ctx: Ctx) -> dict[str, Any]:
        return {"version": 1, "by_hand": True}

    def foreign_body(self, ctx: Ctx) -> dict[str, Any]:
        return {
            "incident": IncidentFactory(tenant=ctx.other_tenant).pk,
            "playbook": _playbook(ctx.other_tenant, "Theirs").pk,
        }


class TestResponseAdvice(TenantResourceTests):
    model = ResponseAdvice
    basename = "response-advice"
    capabilities = {
        "list": Cap.VIEW_INCIDENT_INTERNALS,
        "retrieve": Cap.VIEW_INCIDENT_INTERNALS,
        "partial_update": Cap.MANAGE_INCIDENTS,
    }
    update_data = {"posture": "rebuild", "reasoning": "Kesalahan kami sendiri."}
    rest_list_queries = 5
    graphql_list = (
        "query($slug: String!) { incident_advice(slug: $slug) { id cluster edited_by { email } } }"
    )
    graphql_list_path = ("incident_advice",)
    graphql_list_queries = 4
    graphql_mutations = (
        GraphQLMutation(
            action="update",
            document=(
                "mutation($slug: String!, $id: ID!) { update_incident_advice(slug: $slug, "
                'id: $id, posture: "rebuild", cluster: "preventable") { id is_edited } }'
            ),
            capability=Cap.MANAGE_INCIDENTS,
            expect=lambda ctx: {"posture": "rebuild", "cluster": "preventable", "is_edited": True},
        ),
    )

    def make(self, tenant: Tenant) -> ResponseAdvice:
        incident = services.open_incident(tenant=tenant, title="Hoaks", trigger="hoax")
        return ResponseAdvice.objects.get(incident=incident)


# --- canned answers and the chat widget (issue 16) ---
PAGED = 5


class TestCannedAnswers(TenantResourceTests):
    model = CannedAnswer
    basename = "canned-answer"
    capabilities = {
        "list": Cap.VIEW_INCIDENT_INTERNALS,
        "retrieve": Cap.VIEW_INCIDENT_INTERNALS,
        "create": Cap.MANAGE_ANSWERS,
        "update": Cap.MANAGE_ANSWERS,
        "partial_update": Cap.MANAGE_ANSWERS,
        "destroy": Cap.MANAGE_ANSWERS,
    }
    create_data = {
        "question": "  Kapan   refund diproses? ",
        "answer": "Refund diproses sesuai pernyataan resmi kami ya kak.",
        "language": "id",
    }
    create_expect = {
        "question": "Kapan refund diproses?",
        "answer": "Refund diproses sesuai pernyataan resmi kami ya kak.",
        "status": "draft",
        "usage_count": 0,
    }
    update_data = {"status": "approved"}
    rest_list_queries = PAGED
    graphql_list = (
        "query($slug: String!) { canned_answers(slug: $slug) { id approved_by { email } } }"
    )
    graphql_list_path = ("canned_answers",)
    graphql_list_queries = 4
    graphql_mutations = (
        GraphQLMutation(
            "create",
            'mutation($slug: String!) { create_canned_answer(slug: $slug, question: "Ada promo?", '
            'answer: "Cek akun resmi kami ya kak.", language: "id") { id status } }',
            Cap.MANAGE_ANSWERS,
            expect=lambda ctx: {"question": "Ada promo?", "status": "draft"},
        ),
        GraphQLMutation(
            "update",
            "mutation($slug: String!, $id: ID!) { update_canned_answer(slug: $slug, id: $id, "
            'status: "retired") { id } }',
            Cap.MANAGE_ANSWERS,
            expect=lambda ctx: {"status": "retired"},
        ),
    )

    def make(self, tenant: Tenant) -> CannedAnswer:
        return CannedAnswerFactory(tenant=tenant)


class TestAnswerWidget(TenantResourceTests):
    model = AnswerWidget
    basename = "answer-widget"
    capabilities = {
        "list": Cap.MANAGE_ANSWERS,
        "retrieve": Cap.MANAGE_ANSWERS,
        "create": Cap.MANAGE_ANSWERS,
        "update": Cap.MANAGE_ANSWERS,
        "partial_update": Cap.MANAGE_ANSWERS,
        "destroy": Cap.MANAGE_ANSWERS,
    }
    create_data = {"name": "Situs utama", "allowed_origins": ["https://www.kopisenja.co.id"]}
    create_expect = {**create_data, "is_enabled": True}
    update_data = {"allowed_origins": ["https://shop.kopisenja.co.id", "http://localhost:3000"]}
    rest_list_queries = PAGED

    def make(self, tenant: Tenant) -> AnswerWidget:
        return AnswerWidgetFactory(tenant=tenant)
