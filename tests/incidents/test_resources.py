"""Every incidents resource on the shared resource test base (tests/resource_base.py): CRUD,
refusals, other tenants' objects and pinned query counts on REST and GraphQL."""

from __future__ import annotations

from typing import Any

from incidents.models import (
    Incident,
    IncidentLink,
    IncidentMember,
    IncidentTask,
    RolePolicy,
    SeverityPolicy,
    TimelineEntry,
)
from tenants.models import Tenant
from tenants.roles import Cap
from tests.factories import UserFactory
from tests.incidents.factories import (
    IncidentFactory,
    IncidentLinkFactory,
    IncidentMemberFactory,
    IncidentTaskFactory,
    RolePolicyFactory,
    TimelineEntryFactory,
)
from tests.monitoring.factories import MentionFactory, MonitoredQueryFactory
from tests.resource_base import Ctx, TenantResourceTests

VIEW, INTERNAL, MANAGE, COMMAND = (
    Cap.VIEW_INCIDENTS,
    Cap.VIEW_INCIDENT_INTERNALS,
    Cap.MANAGE_INCIDENTS,
    Cap.COMMAND_INCIDENTS,
)
# Token with its user, tenant with the caller's roles (one query, tenants.access.resolve),
# rate-limit counter, the page, its COUNT.
PAGED = 5


class TestIncidents(TenantResourceTests):
    model = Incident
    basename = "incident"
    capabilities = {"list": VIEW, "retrieve": VIEW, "create": MANAGE, "partial_update": MANAGE}
    create_data = {"title": "Boikot Kopi Senja", "trigger": "provocation", "severity": "sev2"}
    create_expect = {**create_data, "status": "detected", "is_drill": False}
    update_data = {"title": "Boikot meluas", "summary": "Tagar naik di X."}
    rest_list_queries = PAGED
    graphql_list = "query($slug: String!) { incidents(slug: $slug) { id status } }"
    graphql_list_path = ("incidents",)
    graphql_list_queries = 4

    def make(self, tenant: Tenant) -> Incident:
        return IncidentFactory(tenant=tenant)


class TestTimeline(TenantResourceTests):
    model = TimelineEntry
    basename = "timeline-entry"
    capabilities = {"list": VIEW, "retrieve": VIEW, "create": MANAGE}
    rest_list_queries = PAGED
    graphql_list = (
        "query($slug: String!) { incident_timeline(slug: $slug) { id kind actor { email } } }"
    )
    graphql_list_path = ("incident_timeline",)
    graphql_list_queries = 4

    def make(self, tenant: Tenant) -> TimelineEntry:
        return TimelineEntryFactory(incident=IncidentFactory(tenant=tenant))

    def create_payload(self, ctx: Ctx) -> dict[str, Any]:
        incident = IncidentFactory(tenant=ctx.tenant)
        return {"incident": incident.pk, "kind": "note", "text": "Cek ulang sumber berita."}

    def expected_after_create(self, ctx: Ctx) -> dict[str, Any]:
        return {"kind": "note", "text": "Cek ulang sumber berita.", "visible_to_client": False}

    def foreign_body(self, ctx: Ctx) -> dict[str, Any]:
        return {
            "incident": IncidentFactory(tenant=ctx.other_tenant).pk,
            "mention": MentionFactory(tenant=ctx.other_tenant).pk,
        }


class TestTasks(TenantResourceTests):
    model = IncidentTask
    basename = "incident-task"
    capabilities = {
        "list": VIEW,
        "retrieve": VIEW,
        "create": MANAGE,
        "partial_update": MANAGE,
        "destroy": MANAGE,
    }
    update_data = {"status": "in_progress", "checklist": [{"text": "Draf", "done": True}]}
    rest_list_queries = PAGED
    graphql_list = (
        "query($slug: String!) { incident_tasks(slug: $slug) { id is_overdue owner { email } } }"
    )
    graphql_list_path = ("incident_tasks",)
    graphql_list_queries = 4

    def make(self, tenant: Tenant) -> IncidentTask:
        return IncidentTaskFactory(incident=IncidentFactory(tenant=tenant))

    def create_payload(self, ctx: Ctx) -> dict[str, Any]:
        return {
            "incident": IncidentFactory(tenant=ctx.tenant).pk,
            "title": "Siapkan pernyataan",
            "owner": ctx.members["responder"].pk,
            "checklist": [{"text": "Draf", "done": False}],
        }

    def expected_after_create(self, ctx: Ctx) -> dict[str, Any]:
        return {"title": "Siapkan pernyataan", "owner": ctx.members["responder"].pk}

    def foreign_body(self, ctx: Ctx) -> dict[str, Any]:
        return {"incident": IncidentFactory(tenant=ctx.other_tenant).pk, "owner": ctx.outsider.pk}


class TestLinks(TenantResourceTests):
    model = IncidentLink
    basename = "incident-link"
    capabilities = {"list": VIEW, "retrieve": VIEW, "create": MANAGE, "destroy": MANAGE}
    rest_list_queries = PAGED

    def make(self, tenant: Tenant) -> IncidentLink:
        return IncidentLinkFactory(incident=IncidentFactory(tenant=tenant))

    def create_payload(self, ctx: Ctx) -> dict[str, Any]:
        return {
            "incident": IncidentFactory(tenant=ctx.tenant).pk,
            "kind": "query",
            "query": MonitoredQueryFactory(tenant=ctx.tenant).pk,
        }

    def expected_after_create(self, ctx: Ctx) -> dict[str, Any]:
        return {"kind": "query", "visible_to_client": False}

    def foreign_body(self, ctx: Ctx) -> dict[str, Any]:
        return {
            "incident": IncidentFactory(tenant=ctx.other_tenant).pk,
            "query": MonitoredQueryFactory(tenant=ctx.other_tenant).pk,
        }

    def foreign_filters(self, ctx: Ctx, theirs: Any) -> dict[str, Any]:
        return {"incident": theirs.incident_id}


class TestTeam(TenantResourceTests):
    model = IncidentMember
    basename = "incident-member"
    capabilities = {"list": INTERNAL, "retrieve": INTERNAL, "create": MANAGE, "destroy": MANAGE}
    rest_list_queries = PAGED

    def make(self, tenant: Tenant) -> IncidentMember:
        return IncidentMemberFactory(incident=IncidentFactory(tenant=tenant), user=UserFactory())

    def create_payload(self, ctx: Ctx) -> dict[str, Any]:
        return {
            "incident": IncidentFactory(tenant=ctx.tenant).pk,
            "user": ctx.members["analyst"].pk,
            "role": "analyst",
        }

    def expected_after_create(self, ctx: Ctx) -> dict[str, Any]:
        return {"user": ctx.members["analyst"].pk, "role": "analyst", "by_policy": False}

    def foreign_body(self, ctx: Ctx) -> dict[str, Any]:
        return {"incident": IncidentFactory(tenant=ctx.other_tenant).pk, "user": ctx.outsider.pk}


class TestSeverityPolicies(TenantResourceTests):
    model = SeverityPolicy
    basename = "severity-policy"
    capabilities = {
        "list": VIEW,
        "retrieve": VIEW,
        "create": COMMAND,
        "update": COMMAND,
        "partial_update": COMMAND,
        "destroy": COMMAND,
    }
    create_data = {"severity": "sev1", "acknowledge_minutes": 5, "auto_open_from_alert": True}
    update_data = {"acknowledge_minutes": 7, "update_every_minutes": 15}
    rest_list_queries = PAGED
    rows_per_count = 1  # one row per severity: sev2-sev4 are made, sev1 is created

    def make(self, tenant: Tenant) -> SeverityPolicy:
        taken = set(SeverityPolicy.objects.for_tenant(tenant).values_list("severity", flat=True))
        severity = next(s for s in ("sev2", "sev3", "sev4", "sev1") if s not in taken)
        return SeverityPolicy.objects.create(
            tenant=tenant, severity=severity, acknowledge_minutes=20
        )


class TestRolePolicies(TenantResourceTests):
    model = RolePolicy
    basename = "role-policy"
    capabilities = {
        "list": INTERNAL,
        "retrieve": INTERNAL,
        "create": COMMAND,
        "update": COMMAND,
        "partial_update": COMMAND,
        "destroy": COMMAND,
    }
    update_data = {"severity": "sev1"}
    rest_list_queries = PAGED

    def make(self, tenant: Tenant) -> RolePolicy:
        return RolePolicyFactory(tenant=tenant, user=UserFactory())

    def create_payload(self, ctx: Ctx) -> dict[str, Any]:
        return {"role": "analyst", "user": ctx.members["analyst"].pk, "trigger": "hoax"}

    def foreign_body(self, ctx: Ctx) -> dict[str, Any]:
        return {"user": ctx.outsider.pk}
