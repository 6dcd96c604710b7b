"""Score corrections and classifier versions on the shared base (``tests/resource_base.py``):
list and detail, refusals, other tenants' rows and pinned query counts on REST and GraphQL.
Behaviour (correcting, training, rollback, suggestions) is in ``test_classifier.py``."""

from __future__ import annotations

from monitoring.models import ScoreCorrection, ScoringModel
from tenants.models import Tenant
from tenants.roles import Cap
from tests.monitoring.factories import MentionFactory
from tests.resource_base import GraphQLMutation, TenantResourceTests

# REST: the token with its user, the tenant with the caller's roles (one query), the
# rate-limit counter, the COUNT and the page.
PAGED_LIST_QUERIES = 5
# GraphQL: the token, the rate-limit counter, the tenant with the caller's roles and
# capabilities per tenant (read by TenantOwnedType.get_queryset) and the rows.
GRAPHQL_LIST_QUERIES = 4


class TestScoreCorrections(TenantResourceTests):
    model = ScoreCorrection
    basename = "score-correction"
    capabilities = {"list": Cap.CORRECT_SCORES, "retrieve": Cap.CORRECT_SCORES}
    rest_list_queries = PAGED_LIST_QUERIES
    graphql_list = (
        "query($slug: String!) { score_corrections(slug: $slug) "
        "{ id mention field old_value new_value corrected_by { email } } }"
    )
    graphql_list_path = ("score_corrections",)
    graphql_list_queries = GRAPHQL_LIST_QUERIES

    def make(self, tenant: Tenant) -> ScoreCorrection:
        mention = MentionFactory(tenant=tenant)
        return ScoreCorrection.objects.create(
            tenant=tenant,
            mention=mention,
            field="sentiment",
            old_value="positive",
            new_value="negative",
        )


class TestScoringModels(TenantResourceTests):
    model = ScoringModel
    basename = "scoring-model"
    capabilities = {"list": Cap.VIEW_MONITORING, "retrieve": Cap.VIEW_MONITORING}
    rest_list_queries = PAGED_LIST_QUERIES
    graphql_list = (
        "query($slug: String!) { classifier_versions(slug: $slug) "
        "{ id version status metrics live_since } }"
    )
    graphql_list_path = ("classifier_versions",)
    graphql_list_queries = GRAPHQL_LIST_QUERIES
    graphql_mutations = (
        GraphQLMutation(
            action="update",
            document="""mutation($slug: String!, $id: ID!) {
              activate_classifier(slug: $slug, id: $id) { id status }
            }""",
            capability=Cap.CORRECT_SCORES,
            expect=lambda ctx: {"status": "live"},
        ),
    )

    def make(self, tenant: Tenant) -> ScoringModel:
        version = (ScoringModel.objects.for_tenant(tenant).count() or 0) + 1
        return ScoringModel.objects.create(
            tenant=tenant,
            version=version,
            status=ScoringModel.Status.READY,
            weights=b"",
            base="test",
            metrics={"sentiment": {"examples": 0}},
        )
