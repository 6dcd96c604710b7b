"""The evaluation's resources on the shared resource test base (tests/resource_base.py): CRUD,
refusals, other tenants' objects and pinned query counts on REST and GraphQL."""

from __future__ import annotations

from typing import Any

from incidents.evaluation.models import (
    ClientReport,
    ReportSubscription,
    Review,
    ReviewActionItem,
    ReviewFeedback,
    ReviewLesson,
)
from incidents.models import Incident
from tenants.models import Tenant
from tenants.roles import Cap
from tests.factories import UserFactory
from tests.incidents.evaluation_factories import (
    ClientReportFactory,
    ReportSubscriptionFactory,
    ReviewActionItemFactory,
    ReviewFactory,
    ReviewFeedbackFactory,
    ReviewLessonFactory,
)
from tests.incidents.factories import IncidentFactory
from tests.resource_base import Ctx, GraphQLMutation, TenantResourceTests, graphql

VIEW, INTERNAL, MANAGE = Cap.VIEW_INCIDENTS, Cap.VIEW_INCIDENT_INTERNALS, Cap.MANAGE_INCIDENTS
PARTS = {
    "list": VIEW,
    "retrieve": VIEW,
    "create": MANAGE,
    "partial_update": MANAGE,
    "destroy": MANAGE,
}
PAGED = 5


def resolved_incident(tenant: Tenant) -> Incident:
    incident = IncidentFactory(tenant=tenant)
    Incident.objects.for_tenant(tenant).filter(pk=incident.pk).update(status="resolved")
    return incident


class TestReviews(TenantResourceTests):
    model = Review
    basename = "review"
    capabilities = PARTS
    update_data = {"summary": "Krisis reda setelah klarifikasi."}
    rest_list_queries = PAGED
    graphql_list = "query($slug: String!) { incident_reviews(slug: $slug) { id status } }"
    graphql_list_path = ("incident_reviews",)
    graphql_list_queries = 6  # + the lessons and the action items, prefetched for the page

    def make(self, tenant: Tenant) -> Review:
        return ReviewFactory(tenant=tenant)

    def create_payload(self, ctx: Ctx) -> dict[str, Any]:
        return {"incident": resolved_incident(ctx.tenant).pk, "summary": "Ringkasan."}

    def expected_after_create(self, ctx: Ctx) -> dict[str, Any]:
        return {"status": "draft", "summary": "Ringkasan."}

    def foreign_body(self, ctx: Ctx) -> dict[str, Any]:
        return {"incident": resolved_incident(ctx.other_tenant).pk}


class TestReviewSignOff(TenantResourceTests):
    """The client's sign-off of a final review, in the portal (GraphQL only)."""

    model = Review
    basename = "review"
    capabilities = {"retrieve": VIEW}  # the mutation's result is read back over REST
    test_rest_undeclared_actions_are_refused = None  # covered by TestReviews
    rest_list_queries = 0
    graphql_mutations = (
        GraphQLMutation(
            action="update",
            document=(
                "mutation($slug: String!, $id: ID!) { sign_off_review(slug: $slug, id: $id) "
                "{ id signed_off_at } }"
            ),
            capability=Cap.SIGN_OFF_REVIEWS,
        ),
    )

    def make(self, tenant: Tenant) -> Review:
        return ReviewFactory(tenant=tenant, status="final")


class TestReviewLessons(TenantResourceTests):
    model = ReviewLesson
    basename = "review-lesson"
    capabilities = PARTS
    update_data = {"text": "Klarifikasi cepat berhasil.", "visible_to_client": False}
    rest_list_queries = PAGED
    graphql_list = "query($slug: String!) { incident_reviews(slug: $slug) { id lessons { id } } }"
    graphql_list_path = ("incident_reviews", "lessons")
    graphql_list_queries = 6  # + the lessons of the page's reviews (one prefetch)

    def graphql_ids(self, client: Any, slug: str) -> list[str]:
        body = graphql(client, self.graphql_list, {"slug": slug})  # type: ignore[arg-type]
        assert "errors" not in body, body
        return [str(row["id"]) for r in body["data"]["incident_reviews"] for row in r["lessons"]]

    def make(self, tenant: Tenant) -> ReviewLesson:
        return ReviewLessonFactory(review=ReviewFactory(tenant=tenant))

    def create_payload(self, ctx: Ctx) -> dict[str, Any]:
        return {
            "review": ReviewFactory(tenant=ctx.tenant).pk,
            "kind": "went_badly",
            "text": "Lambat.",
        }

    def expected_after_create(self, ctx: Ctx) -> dict[str, Any]:
        return {"kind": "went_badly", "text": "Lambat.", "visible_to_client": True}

    def foreign_body(self, ctx: Ctx) -> dict[str, Any]:
        return {"review": ReviewFactory(tenant=ctx.other_tenant).pk}


class TestReviewActionItems(TenantResourceTests):
    model = ReviewActionItem
    basename = "review-action"
    capabilities = PARTS
    update_data = {"status": "done"}
    rest_list_queries = PAGED
    graphql_list = (
        "query($slug: String!) { incident_reviews(slug: $slug) "
        "{ id action_items { id owner { email } } } }"
    )
    graphql_list_path = ("incident_reviews", "action_items")
    graphql_list_queries = 6  # + the action items of the page's reviews, owners joined

    def graphql_ids(self, client: Any, slug: str) -> list[str]:
        body = graphql(client, self.graphql_list, {"slug": slug})  # type: ignore[arg-type]
        assert "errors" not in body, body
        rows = body["data"]["incident_reviews"]
        return [str(item["id"]) for review in rows for item in review["action_items"]]

    def make(self, tenant: Tenant) -> ReviewActionItem:
        return ReviewActionItemFactory(review=ReviewFactory(tenant=tenant), owner=UserFactory())

    def create_payload(self, ctx: Ctx) -> dict[str, Any]:
        return {
            "review": ReviewFactory(tenant=ctx.tenant).pk,
            "title": "Tulis FAQ",
            "owner": ctx.members["responder"].pk,
        }

    def expected_after_create(self, ctx: Ctx) -> dict[str, Any]:
        return {"title": "Tulis FAQ", "owner": ctx.members["responder"].pk, "status": "open"}

    def foreign_body(self, ctx: Ctx) -> dict[str, Any]:
        return {"review": ReviewFactory(tenant=ctx.other_tenant).pk, "owner": ctx.outsider.pk}


class TestReviewFeedback(TenantResourceTests):
    model = ReviewFeedback
    basename = "review-feedback"
    capabilities = {**PARTS, "list": INTERNAL, "retrieve": INTERNAL}
    update_data = {"rating": 2, "comment": "Melelahkan."}
    rest_list_queries = PAGED

    def make(self, tenant: Tenant) -> ReviewFeedback:
        return ReviewFeedbackFactory(review=ReviewFactory(tenant=tenant), participant=UserFactory())

    def create_payload(self, ctx: Ctx) -> dict[str, Any]:
        return {
            "review": ReviewFactory(tenant=ctx.tenant).pk,
            "participant": ctx.members["analyst"].pk,
            "rating": 5,
        }

    def expected_after_create(self, ctx: Ctx) -> dict[str, Any]:
        return {"participant": ctx.members["analyst"].pk, "rating": 5}

    def foreign_body(self, ctx: Ctx) -> dict[str, Any]:
        return {"review": ReviewFactory(tenant=ctx.other_tenant).pk, "participant": ctx.outsider.pk}


class TestReportSubscriptions(TenantResourceTests):
    model = ReportSubscription
    basename = "report-subscription"
    capabilities = {
        "list": Cap.VIEW_MEMBERS,
        "retrieve": Cap.VIEW_MEMBERS,
        "create": Cap.MANAGE_TENANT,
        "update": Cap.MANAGE_TENANT,
        "partial_update": Cap.MANAGE_TENANT,
        "destroy": Cap.MANAGE_TENANT,
    }
    create_data = {"frequency": "monthly", "recipients": ["cmo@kopi.test"]}
    update_data = {"recipients": ["pr@kopi.test", "cmo@kopi.test"], "is_active": False}
    rest_list_queries = PAGED
    rows_per_count = 1  # one row per frequency: weekly is made, monthly is created

    def make(self, tenant: Tenant) -> ReportSubscription:
        taken = set(
            ReportSubscription.objects.for_tenant(tenant).values_list("frequency", flat=True)
        )
        # two frequencies only: a third call answers the weekly row again (query counts)
        frequency = next((f for f in ("weekly", "monthly") if f not in taken), "weekly")
        return ReportSubscriptionFactory(tenant=tenant, frequency=frequency)


class TestClientReports(TenantResourceTests):
    model = ClientReport
    basename = "client-report"
    capabilities = {
        "list": Cap.VIEW_MONITORING,
        "retrieve": Cap.VIEW_MONITORING,
        "create": Cap.MANAGE_MONITORING,
    }
    create_data = {"frequency": "monthly"}
    create_expect = {"frequency": "monthly"}
    rest_list_queries = PAGED
    graphql_list = "query($slug: String!) { client_reports(slug: $slug) { id period_start } }"
    graphql_list_path = ("client_reports",)
    graphql_list_queries = 4

    def make(self, tenant: Tenant) -> ClientReport:
        return ClientReportFactory(tenant=tenant)
