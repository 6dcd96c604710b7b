"""Alert rules, alerts, hoax clusters and owned accounts on the shared base
(``tests/resource_base.py``): CRUD, refusals, other tenants' objects and pinned query counts on
REST and GraphQL. Behaviour particular to them (actions, backtest, false-positive rate, field
errors) is in ``test_api.py``."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone
from rest_framework.test import APIClient

from monitoring.models import Alert, AlertEvent, AlertRule, HoaxCluster, OwnedAccount
from tenants.models import Tenant
from tenants.roles import Cap
from tests.monitoring.factories import (
    AlertFactory,
    AlertRuleFactory,
    HoaxClusterFactory,
    MonitoredQueryFactory,
    OwnedAccountFactory,
)
from tests.resource_base import Ctx, GraphQLMutation, TenantResourceTests, graphql

MANAGED = {
    "list": Cap.VIEW_ALERTS,
    "retrieve": Cap.VIEW_ALERTS,
    "create": Cap.MANAGE_ALERTS,
    "update": Cap.MANAGE_ALERTS,
    "partial_update": Cap.MANAGE_ALERTS,
    "destroy": Cap.MANAGE_ALERTS,
}
READ = {"list": Cap.VIEW_ALERTS, "retrieve": Cap.VIEW_ALERTS}
# REST: the token with its user, the tenant with the caller's roles (one query,
# tenants.access.resolve), the rate-limit counter, the COUNT and the page.
PAGED_LIST_QUERIES = 5
# GraphQL: the token, the rate-limit counter, the tenant with the caller's roles and
# capabilities per tenant (read by TenantOwnedType.get_queryset) and the rows.
GRAPHQL_LIST_QUERIES = 4


class TestAlertRules(TenantResourceTests):
    model = AlertRule
    basename = "alert-rule"
    capabilities = MANAGED
    create_data = {
        "name": "Lonjakan kopi",
        "kind": "spike",
        "sensitivity": "high",
        "window": "PT30M",
        "cooldown": "03:00:00",
    }
    create_expect = {
        "name": "Lonjakan kopi",
        "kind": "spike",
        "sensitivity": "high",
        "window": "00:30:00",
        "cooldown": "03:00:00",
        "severity": "",
        "enabled": True,
        "params": {},
        "query": None,
        "false_positive_rate": {"alerts": 0, "dismissed": 0, "resolved": 0, "rate": None},
    }
    update_data = {"sensitivity": "low", "enabled": False, "severity": "sev2"}
    # + the false-positive rates of the page (one aggregate)
    rest_list_queries = PAGED_LIST_QUERIES + 1
    graphql_list = (
        "query($slug: String!) { alert_rules(slug: $slug) "
        "{ id name window query false_positive_rate { rate alerts } } }"
    )
    graphql_list_path = ("alert_rules",)
    graphql_list_queries = GRAPHQL_LIST_QUERIES + 1
    graphql_mutations = (
        GraphQLMutation(
            "create",
            "mutation($slug: String!, $query: ID) { create_alert_rule(slug: $slug, "
            'name: "Lonjakan GraphQL", kind: "spike", sensitivity: "high", window: "PT30M", '
            'cooldown: "03:00:00", query: $query) { id window false_positive_rate { rate } } }',
            Cap.MANAGE_ALERTS,
            variables=lambda ctx: {"query": None},
            expect=lambda ctx: {"name": "Lonjakan GraphQL", "window": "00:30:00", "query": None},
            foreign_variables=lambda ctx: {
                "query": str(MonitoredQueryFactory(tenant=ctx.other_tenant).pk)
            },
        ),
        GraphQLMutation(
            "update",
            "mutation($slug: String!, $id: ID!, $query: ID) { update_alert_rule(slug: $slug, "
            'id: $id, sensitivity: "low", enabled: false, query: $query) { id } }',
            Cap.MANAGE_ALERTS,
            variables=lambda ctx: {"query": None},
            expect=lambda ctx: {"sensitivity": "low", "enabled": False, "query": None},
            foreign_variables=lambda ctx: {
                "query": str(MonitoredQueryFactory(tenant=ctx.other_tenant).pk)
            },
        ),
        GraphQLMutation(
            "delete",
            "mutation($slug: String!, $id: ID!) { delete_alert_rule(slug: $slug, id: $id) }",
            Cap.MANAGE_ALERTS,
        ),
    )

    def make(self, tenant: Tenant) -> AlertRule:
        return AlertRuleFactory(tenant=tenant, query=MonitoredQueryFactory(tenant=tenant))

    def put_payload(self, ctx: Ctx, obj: Any) -> dict[str, Any]:
        return {**self.create_payload(ctx), **self.update_payload(ctx, obj), "kind": obj.kind}

    def foreign_body(self, ctx: Ctx) -> dict[str, Any]:
        return {"query": MonitoredQueryFactory(tenant=ctx.other_tenant).pk}

    def foreign_filters(self, ctx: Ctx, theirs: Any) -> dict[str, Any]:
        return {"query": theirs.query_id}


class TestAlerts(TenantResourceTests):
    model = Alert
    basename = "alert"
    capabilities = READ
    rest_list_queries = 4  # no COUNT: cursor pages
    graphql_list = (
        "query($slug: String!) { alerts(slug: $slug) { id explanation rule "
        "acknowledged_by { email } history { kind note actor { email } } } }"
    )
    graphql_list_path = ("alerts",)
    graphql_list_queries = GRAPHQL_LIST_QUERIES + 1  # + the histories of the page
    graphql_mutations = (
        GraphQLMutation(
            "update",
            "mutation($slug: String!, $id: ID!) { acknowledge_alert(slug: $slug, id: $id, "
            'note: "Sedang ditangani") { id status history { kind note } } }',
            Cap.ACK_ALERTS,
            expect=lambda ctx: {"status": "acknowledged"},
        ),
        GraphQLMutation(
            "update",
            "mutation($slug: String!, $id: ID!, $until: DateTime!) { snooze_alert(slug: $slug, "
            "id: $id, until: $until) { id status } }",
            Cap.ACK_ALERTS,
            variables=lambda ctx: {"until": (timezone.now() + timedelta(hours=2)).isoformat()},
            expect=lambda ctx: {"status": "snoozed", "acknowledged_at": None},
        ),
        GraphQLMutation(
            "update",
            "mutation($slug: String!, $id: ID!) { resolve_alert(slug: $slug, id: $id) { id } }",
            Cap.ACK_ALERTS,
            expect=lambda ctx: {"status": "resolved"},
        ),
        GraphQLMutation(
            "update",
            "mutation($slug: String!, $id: ID!) { dismiss_alert(slug: $slug, id: $id, "
            'reason: "Promo terjadwal") { id } }',
            Cap.ACK_ALERTS,
            expect=lambda ctx: {"status": "dismissed", "dismissed_reason": "Promo terjadwal"},
        ),
    )

    def make(self, tenant: Tenant) -> Alert:
        return AlertFactory(tenant=tenant)

    def foreign_filters(self, ctx: Ctx, theirs: Any) -> dict[str, Any]:
        return {"rule": theirs.rule_id}


class TestAlertEvents(TenantResourceTests):
    """An alert's history: no REST route of its own (the alert's detail lists it); on GraphQL,
    nested in every alert (``alerts { history }``), scoped by ``AlertEventType``."""

    model = AlertEvent
    basename = "alert-event"
    capabilities: dict[str, Cap] = {}
    test_rest_undeclared_actions_are_refused = None  # no route: read through the alert
    rest_list_queries = 0
    graphql_list = (
        "query($slug: String!) { alerts(slug: $slug) "
        "{ id history { id kind note actor { email } } } }"
    )
    graphql_list_path = ("alerts", "history")
    graphql_list_capability = Cap.VIEW_ALERTS
    graphql_list_queries = GRAPHQL_LIST_QUERIES + 1  # + the histories of the page

    def make(self, tenant: Tenant) -> AlertEvent:
        alert = AlertFactory(tenant=tenant)
        return AlertEvent.objects.create(
            tenant=tenant,
            alert=alert,
            kind="status",
            at=timezone.now(),
            from_status="open",
            to_status="acknowledged",
            note="Sedang ditangani",
        )

    def graphql_ids(self, client: APIClient, slug: str) -> list[str]:
        body = graphql(client, self.graphql_list, {"slug": slug})  # type: ignore[arg-type]
        assert "errors" not in body, body
        return [str(event["id"]) for alert in body["data"]["alerts"] for event in alert["history"]]


class TestHoaxClusters(TenantResourceTests):
    model = HoaxCluster
    basename = "hoax-cluster"
    capabilities = READ
    rest_list_queries = PAGED_LIST_QUERIES
    graphql_list = (
        "query($slug: String!) { hoax_clusters(slug: $slug) "
        "{ id first_poster authors spread low_credibility_links first_mention } }"
    )
    graphql_list_path = ("hoax_clusters",)
    graphql_list_queries = GRAPHQL_LIST_QUERIES

    def make(self, tenant: Tenant) -> HoaxCluster:
        return HoaxClusterFactory(tenant=tenant)


class TestOwnedAccounts(TenantResourceTests):
    model = OwnedAccount
    basename = "owned-account"
    capabilities = MANAGED
    create_data = {"platform": "x", "handle": "@KopiSenjaID", "label": "Akun resmi"}
    create_expect = {"platform": "x", "handle": "kopisenjaid", "label": "Akun resmi"}
    update_data = {"label": "Akun promo"}
    rest_list_queries = PAGED_LIST_QUERIES
    graphql_list = "query($slug: String!) { owned_accounts(slug: $slug) { id handle } }"
    graphql_list_path = ("owned_accounts",)
    graphql_list_queries = GRAPHQL_LIST_QUERIES
    graphql_mutations = (
        GraphQLMutation(
            "create",
            'mutation($slug: String!) { create_owned_account(slug: $slug, platform: "x", '
            'handle: "@KopiSenjaGQL", label: "Akun resmi") { id handle } }',
            Cap.MANAGE_ALERTS,
            expect=lambda ctx: {"handle": "kopisenjagql", "label": "Akun resmi"},
        ),
        GraphQLMutation(
            "update",
            "mutation($slug: String!, $id: ID!) { update_owned_account(slug: $slug, id: $id, "
            'label: "Akun promo") { id } }',
            Cap.MANAGE_ALERTS,
            expect=lambda ctx: {"label": "Akun promo"},
        ),
        GraphQLMutation(
            "delete",
            "mutation($slug: String!, $id: ID!) { delete_owned_account(slug: $slug, id: $id) }",
            Cap.MANAGE_ALERTS,
        ),
    )

    def make(self, tenant: Tenant) -> OwnedAccount:
        return OwnedAccountFactory(tenant=tenant)

    def put_payload(self, ctx: Ctx, obj: Any) -> dict[str, Any]:
        return {"platform": obj.platform, "handle": f"@{obj.handle}", "label": "Akun promo"}
