"""Canned answers and the chat widget's settings on the shared resource test base."""

from __future__ import annotations

from playbooks.models import AnswerWidget, CannedAnswer
from tenants.models import Tenant
from tenants.roles import Cap
from tests.playbooks.factories import AnswerWidgetFactory, CannedAnswerFactory
from tests.resource_base import GraphQLMutation, TenantResourceTests

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
