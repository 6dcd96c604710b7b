"""Every monitoring resource on the shared base (``tests/resource_base.py``): CRUD, refusals,
other tenants' objects and pinned query counts on REST and GraphQL.

Behaviour particular to one resource (query syntax errors, source configs, secrets, cursor
pagination, triage rules...) is tested next to it, in ``test_api_*.py`` and ``test_graphql.py``.
"""

from __future__ import annotations

from typing import Any

from monitoring.models import (
    IngestBatch,
    LexiconEntry,
    LowCredibilityDomain,
    Mention,
    MonitoredQuery,
    Source,
    TrackedTerm,
)
from tenants.models import Tenant
from tenants.roles import Cap
from tests.factories import MembershipFactory, UserFactory
from tests.monitoring.factories import (
    IngestBatchFactory,
    LexiconEntryFactory,
    LowCredibilityDomainFactory,
    MentionFactory,
    MonitoredQueryFactory,
    SourceFactory,
    TrackedTermFactory,
)
from tests.resource_base import Ctx, GraphQLMutation, TenantResourceTests

MANAGED = {
    "list": Cap.VIEW_MONITORING,
    "retrieve": Cap.VIEW_MONITORING,
    "create": Cap.MANAGE_MONITORING,
    "update": Cap.MANAGE_MONITORING,
    "partial_update": Cap.MANAGE_MONITORING,
    "destroy": Cap.MANAGE_MONITORING,
}
# REST: the token with its user, the tenant with the caller's roles, the rate-limit counter,
# the COUNT and the page: five for every paged list.
PAGED_LIST_QUERIES = 5
# GraphQL: the token, the rate-limit counter, the tenant with the caller's roles and
# capabilities per tenant (read by TenantOwnedType.get_queryset) and the rows.
SCOPED_GRAPHQL_LIST_QUERIES = 4


class TestMonitoredQueries(TenantResourceTests):
    model = MonitoredQuery
    basename = "query"
    capabilities = MANAGED
    create_data = {"name": "Boikot", "query": "boikot* OR #boikotkopi", "languages": ["id", "id"]}
    create_expect = {
        "name": "Boikot",
        "query": "boikot* OR #boikotkopi",
        "languages": ["id"],
        "platforms": [],
        "is_active": True,
    }
    update_data = {"is_active": False, "platforms": ["x"]}
    rest_list_queries = PAGED_LIST_QUERIES
    graphql_list = "query($slug: String!) { monitored_queries(slug: $slug) { id name } }"
    graphql_list_path = ("monitored_queries",)
    graphql_list_queries = SCOPED_GRAPHQL_LIST_QUERIES

    def make(self, tenant: Tenant) -> MonitoredQuery:
        return MonitoredQueryFactory(tenant=tenant)


class SourceTests(TenantResourceTests):
    """One class per source kind: the payloads differ, the rules do not."""

    model = Source
    basename = "source"
    capabilities = MANAGED
    kind = "rss"
    config: dict[str, Any] = {"url": "https://berita.example/rss"}
    update_data = {"status": "paused", "poll_interval_s": 600}
    rest_list_queries = PAGED_LIST_QUERIES
    graphql_list = "query($slug: String!) { sources(slug: $slug) { id name kind config } }"
    graphql_list_path = ("sources",)
    graphql_list_queries = SCOPED_GRAPHQL_LIST_QUERIES

    def create_payload(self, ctx: Ctx) -> dict[str, Any]:
        return {"name": f"Sumber {self.kind}", "kind": self.kind, "config": self.config}

    def make(self, tenant: Tenant) -> Source:
        return SourceFactory(tenant=tenant, kind=self.kind, config=self.config)


class TestRssSources(SourceTests):
    kind = "rss"
    config = {"url": "https://berita.example/rss"}


class TestMastodonSources(SourceTests):
    payload_variant = True  # refusals, counts and delete run once, on TestRssSources
    kind = "mastodon"
    config = {"base_url": "https://mastodon.example", "hashtag": "KopiSenja"}

    def create_payload(self, ctx: Ctx) -> dict[str, Any]:
        # A leading '#' is accepted and dropped.
        return {**super().create_payload(ctx), "config": {**self.config, "hashtag": "#KopiSenja"}}

    def expected_after_create(self, ctx: Ctx) -> dict[str, Any]:
        return {**super().create_payload(ctx), "config": self.config}


class TestWebhookSources(SourceTests):
    payload_variant = True
    kind = "webhook"
    config: dict[str, Any] = {}


class TestApiSources(SourceTests):
    payload_variant = True
    kind = "api"
    config = {"mapping": {"text": "body"}}


class TestUploadSources(SourceTests):
    payload_variant = True
    kind = "upload"
    config = {"mapping": {"text": "isi", "published_at": "tanggal"}}


class TestTrackedTerms(TenantResourceTests):
    model = TrackedTerm
    basename = "term"
    capabilities = MANAGED
    create_data = {"text": "  Kopi   Senja ", "kind": "product"}
    create_expect = {"text": "Kopi Senja", "kind": "product"}
    update_data = {"kind": "competitor"}
    rest_list_queries = PAGED_LIST_QUERIES
    graphql_list = "query($slug: String!) { tracked_terms(slug: $slug) { id text } }"
    graphql_list_path = ("tracked_terms",)
    graphql_list_queries = SCOPED_GRAPHQL_LIST_QUERIES

    def make(self, tenant: Tenant) -> TrackedTerm:
        return TrackedTermFactory(tenant=tenant)


class TestLexiconEntries(TenantResourceTests):
    model = LexiconEntry
    basename = "lexicon-entry"
    capabilities = MANAGED
    create_data = {"label": "hoax", "phrase": "Vaksin  Chip", "weight": 0.8}
    create_expect = {"label": "hoax", "phrase": "vaksin chip", "weight": 0.8}
    update_data = {"weight": 0.5}
    rest_list_queries = PAGED_LIST_QUERIES

    def make(self, tenant: Tenant) -> LexiconEntry:
        return LexiconEntryFactory(tenant=tenant)


class TestLowCredibilityDomains(TenantResourceTests):
    model = LowCredibilityDomain
    basename = "low-credibility-domain"
    capabilities = MANAGED
    create_data = {"domain": " .Hoaks.Example "}
    create_expect = {"domain": "hoaks.example"}
    update_data = {"domain": "kabar-bohong.example"}
    rest_list_queries = PAGED_LIST_QUERIES

    def make(self, tenant: Tenant) -> LowCredibilityDomain:
        return LowCredibilityDomainFactory(tenant=tenant)


class TestIngestBatches(TenantResourceTests):
    """Read-only: batches are written by ingestion (see test_ingest_api.py)."""

    model = IngestBatch
    basename = "batch"
    capabilities = {"list": Cap.VIEW_MONITORING, "retrieve": Cap.VIEW_MONITORING}
    rest_list_queries = PAGED_LIST_QUERIES

    def make(self, tenant: Tenant) -> IngestBatch:
        return IngestBatchFactory(tenant=tenant)

    def foreign_filters(self, ctx: Ctx, theirs: Any) -> dict[str, Any]:
        return {"source": theirs.source_id}


def triage(ctx: Ctx) -> dict[str, Any]:
    return {
        "status": "relevant",
        "tags": ["Viral", "viral "],
        "assignee": ctx.members["analyst"].pk,
    }


def triaged(ctx: Ctx) -> dict[str, Any]:
    analyst = ctx.members["analyst"]
    summary = {"id": analyst.pk, "email": analyst.email, "full_name": analyst.full_name}
    return {"status": "relevant", "tags": ["viral"], "assignee": summary}


class TestMentions(TenantResourceTests):
    """Read, triaged (PATCH) and deleted by tenant admins; written by the pipeline only."""

    model = Mention
    basename = "mention"
    capabilities = {
        "list": Cap.VIEW_MONITORING,
        "retrieve": Cap.VIEW_MONITORING,
        "partial_update": Cap.TRIAGE_MENTIONS,
        "destroy": Cap.DELETE_MENTIONS,
    }
    # Token, tenant with roles, rate-limit counter, one page of mentions joined with their
    # assignees (cursor pagination: no COUNT).
    rest_list_queries = 4
    graphql_list = "query($slug: String!) { mentions(slug: $slug) { id assignee { email } } }"
    graphql_list_path = ("mentions",)
    # Token, rate-limit counter, tenant with roles, the page joined with the assignees.
    graphql_list_queries = 4
    graphql_mutations = (
        GraphQLMutation(
            action="update",
            document="""mutation($slug: String!, $id: ID!, $assignee_id: ID) {
              update_mention_triage(
                slug: $slug, id: $id, status: "relevant", tags: ["Viral"], assignee_id: $assignee_id
              ) { id }
            }""",
            capability=Cap.TRIAGE_MENTIONS,
            variables=lambda ctx: {"assignee_id": ctx.members["analyst"].pk},
            expect=triaged,
            foreign_variables=lambda ctx: {"assignee_id": ctx.outsider.pk},
        ),
        GraphQLMutation(
            action="bulk",
            document="""mutation($slug: String!, $id: ID!, $assignee_id: ID) {
              bulk_triage_mentions(
                slug: $slug, ids: [$id], status: "relevant", add_tags: ["Viral"],
                assignee_id: $assignee_id
              ) { updated errors { id code } }
            }""",
            capability=Cap.TRIAGE_MENTIONS,
            variables=lambda ctx: {"assignee_id": ctx.members["analyst"].pk},
            expect=triaged,
            foreign_variables=lambda ctx: {"assignee_id": ctx.outsider.pk},
        ),
        GraphQLMutation(
            action="update",
            document="""mutation($slug: String!, $id: ID!) {
              correct_mention(slug: $slug, id: $id, sentiment: "negative", language: "en") { id }
            }""",
            capability=Cap.CORRECT_SCORES,
            expect=lambda ctx: {"sentiment": "negative", "language": "en"},
        ),
    )

    def make(self, tenant: Tenant) -> Mention:
        assignee = UserFactory(agency=tenant.agency)
        MembershipFactory(tenant=tenant, user=assignee)
        return MentionFactory(tenant=tenant, assignee=assignee)

    def update_payload(self, ctx: Ctx, obj: Any) -> dict[str, Any]:
        return triage(ctx)

    def expected_after_update(self, ctx: Ctx, obj: Any) -> dict[str, Any]:
        return triaged(ctx)

    def foreign_body(self, ctx: Ctx) -> dict[str, Any]:
        # The admin of another tenant: not a member here, so not a possible assignee.
        return {"assignee": ctx.outsider.pk}

    def foreign_filters(self, ctx: Ctx, theirs: Any) -> dict[str, Any]:
        query = MonitoredQueryFactory(tenant=theirs.tenant)
        Mention.objects.filter(pk=theirs.pk).update(matched_queries=[query.pk])
        return {"query": query.pk}
