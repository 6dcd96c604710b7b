"""Channels, the delivery log, the on-call rota, quiet hours and escalation policies on the
shared resource base (``tests/resource_base.py``): CRUD, refusals (admins only), other
tenants' objects and pinned query counts on REST and GraphQL. Secrets are write-only."""

from __future__ import annotations

from datetime import time, timedelta
from typing import Any

from django.utils import timezone

from monitoring.models import EscalationPolicy
from tenants.models import Channel, Delivery, OnCallShift, QuietHours, Tenant
from tenants.roles import Cap
from tests.factories import MembershipFactory, UserFactory
from tests.notify.factories import ChannelFactory, EscalationPolicyFactory
from tests.resource_base import Ctx, GraphQLMutation, TenantResourceTests

CHANNELS = {
    "list": Cap.MANAGE_CHANNELS,
    "retrieve": Cap.MANAGE_CHANNELS,
    "create": Cap.MANAGE_CHANNELS,
    "update": Cap.MANAGE_CHANNELS,
    "partial_update": Cap.MANAGE_CHANNELS,
    "destroy": Cap.MANAGE_CHANNELS,
}
ESCALATION = {action: Cap.MANAGE_ESCALATION for action in CHANNELS}
PAGED_LIST_QUERIES = 5
KEYSET_LIST_QUERIES = 4
GRAPHQL_LIST_QUERIES = 4


def _member(tenant: Tenant) -> Any:
    user = UserFactory(agency=tenant.agency)
    MembershipFactory(tenant=tenant, user=user, role="responder")
    return user


class TestChannels(TenantResourceTests):
    model = Channel
    basename = "channel"
    capabilities = CHANNELS
    create_data = {
        "name": "Slack tim krisis",
        "kind": "slack",
        "secret": "https://hooks.slack.com/services/T000/B000/XXXX",
    }
    create_expect = {"name": "Slack tim krisis", "kind": "slack", "has_secret": True}
    update_data = {"enabled": False}
    rest_list_queries = PAGED_LIST_QUERIES
    graphql_list = "query($slug: String!) { channels(slug: $slug) { id name has_secret } }"
    graphql_list_path = ("channels",)
    graphql_list_queries = GRAPHQL_LIST_QUERIES
    graphql_mutations = (
        GraphQLMutation(
            action="create",
            document=(
                'mutation($slug: String!) { create_channel(slug: $slug, name: "Surel", '
                'kind: "email", target: "krisis@kopi.test") { id name } }'
            ),
            capability=Cap.MANAGE_CHANNELS,
            expect=lambda ctx: {"name": "Surel", "kind": "email"},
        ),
        GraphQLMutation(
            action="update",
            document=(
                "mutation($slug: String!, $id: ID!) { update_channel(slug: $slug, id: $id, "
                'name: "Surel baru") { id name } }'
            ),
            capability=Cap.MANAGE_CHANNELS,
            expect=lambda ctx: {"name": "Surel baru"},
        ),
        GraphQLMutation(
            action="delete",
            document="mutation($slug: String!, $id: ID!) { delete_channel(slug: $slug, id: $id) }",
            capability=Cap.MANAGE_CHANNELS,
        ),
    )

    def make(self, tenant: Tenant) -> Channel:
        return ChannelFactory(tenant=tenant)

    def put_payload(self, ctx: Ctx, obj: Any) -> dict[str, Any]:
        return {"name": obj.name, "kind": obj.kind, "target": obj.target, "enabled": False}

    def test_secrets_are_never_shown(self, ctx: Ctx) -> None:
        admin = ctx.holder_of(Cap.MANAGE_CHANNELS)
        url = f"/api/v1/tenants/{ctx.tenant.slug}/channels/"
        created = ctx.client(admin).post(url, self.create_data, format="json")
        assert created.status_code == 201, created.content
        assert "secret" not in created.json() and "hooks.slack.com" not in created.content.decode()
        detail = ctx.client(admin).get(f"{url}{created.json()['id']}/")
        assert "hooks.slack.com" not in detail.content.decode()
        # An update without the secret keeps it.
        patched = ctx.client(admin).patch(
            f"{url}{created.json()['id']}/", {"name": "Slack"}, format="json"
        )
        assert patched.status_code == 200 and patched.json()["has_secret"] is True
        stored = Channel.objects.get(pk=created.json()["id"])
        assert stored.secret == self.create_data["secret"]

    def test_bad_channels_answer_400_naming_the_field(self, ctx: Ctx) -> None:
        admin = ctx.holder_of(Cap.MANAGE_CHANNELS)
        url = f"/api/v1/tenants/{ctx.tenant.slug}/channels/"
        internal = {"name": "x", "kind": "webhook", "secret": "http://10.0.0.5/hook"}
        answer = ctx.client(admin).post(url, internal, format="json")
        assert answer.status_code == 400
        attrs = {e["attr"] for e in answer.json()["errors"]}
        assert {"secret", "signing_secret"} <= attrs
        no_target = ctx.client(admin).post(url, {"name": "y", "kind": "email"}, format="json")
        assert no_target.status_code == 400
        assert no_target.json()["errors"][0]["attr"] == "target"


class TestDeliveries(TenantResourceTests):
    model = Delivery
    basename = "delivery"
    capabilities = {"list": Cap.MANAGE_CHANNELS, "retrieve": Cap.MANAGE_CHANNELS}
    rest_list_queries = KEYSET_LIST_QUERIES
    graphql_list = "query($slug: String!) { deliveries(slug: $slug) { id status channel } }"
    graphql_list_path = ("deliveries",)
    graphql_list_queries = GRAPHQL_LIST_QUERIES

    def make(self, tenant: Tenant) -> Delivery:
        channel = ChannelFactory(tenant=tenant)
        return Delivery.objects.create(
            tenant=tenant,
            key=f"k-{Delivery.objects.count()}-{channel.pk}",
            kind="email",
            channel=channel,
            recipient=channel.name,
            event_type="alert.escalation",
            title="[SEV2] x",
        )


class TestOnCallShifts(TenantResourceTests):
    model = OnCallShift
    basename = "on-call-shift"
    capabilities = ESCALATION
    update_data = {"note": "ganti jaga"}
    rest_list_queries = PAGED_LIST_QUERIES
    graphql_list = "query($slug: String!) { on_call_shifts(slug: $slug) { id user } }"
    graphql_list_path = ("on_call_shifts",)
    graphql_list_queries = GRAPHQL_LIST_QUERIES

    def create_payload(self, ctx: Ctx) -> dict[str, Any]:
        return {
            "user": ctx.members["responder"].pk,
            "starts_at": "2026-12-02T00:00:00Z",
            "ends_at": "2026-12-02T08:00:00Z",
        }

    def expected_after_create(self, ctx: Ctx) -> dict[str, Any]:
        return {"user": ctx.members["responder"].pk}

    def foreign_body(self, ctx: Ctx) -> dict[str, Any]:
        return {"user": _member(ctx.other_tenant).pk}

    def make(self, tenant: Tenant) -> OnCallShift:
        now = timezone.now()
        return OnCallShift.objects.create(
            tenant=tenant, user=_member(tenant), starts_at=now, ends_at=now + timedelta(hours=8)
        )

    def put_payload(self, ctx: Ctx, obj: Any) -> dict[str, Any]:
        return {
            "user": obj.user_id,
            "starts_at": obj.starts_at.isoformat(),
            "ends_at": obj.ends_at.isoformat(),
            "note": "ganti jaga",
        }


class TestQuietHours(TenantResourceTests):
    model = QuietHours
    basename = "quiet-hours"
    capabilities = ESCALATION
    update_data = {"starts": "21:00:00"}
    rest_list_queries = PAGED_LIST_QUERIES
    graphql_list = "query($slug: String!) { quiet_hours(slug: $slug) { id user starts } }"
    graphql_list_path = ("quiet_hours",)
    graphql_list_queries = GRAPHQL_LIST_QUERIES

    def create_payload(self, ctx: Ctx) -> dict[str, Any]:
        return {"user": ctx.members["analyst"].pk, "starts": "22:00", "ends": "06:00"}

    def expected_after_create(self, ctx: Ctx) -> dict[str, Any]:
        return {"user": ctx.members["analyst"].pk, "starts": "22:00:00", "ends": "06:00:00"}

    def foreign_body(self, ctx: Ctx) -> dict[str, Any]:
        return {"user": _member(ctx.other_tenant).pk}

    def make(self, tenant: Tenant) -> QuietHours:
        return QuietHours.objects.create(
            tenant=tenant, user=_member(tenant), starts=time(22), ends=time(6)
        )

    def put_payload(self, ctx: Ctx, obj: Any) -> dict[str, Any]:
        return {"user": obj.user_id, "starts": "21:00:00", "ends": "06:00:00"}


class TestEscalationPolicies(TenantResourceTests):
    model = EscalationPolicy
    basename = "escalation-policy"
    capabilities = ESCALATION
    update_data = {"repeat": 3}
    rest_list_queries = PAGED_LIST_QUERIES
    graphql_list = "query($slug: String!) { escalation_policies(slug: $slug) { id steps } }"
    graphql_list_path = ("escalation_policies",)
    graphql_list_queries = GRAPHQL_LIST_QUERIES
    graphql_mutations = (
        GraphQLMutation(
            action="create",
            document=(
                "mutation($slug: String!, $steps: JSON!) { create_escalation_policy(slug: $slug,"
                ' name: "SEV1", severity: "sev1", steps: $steps) { id } }'
            ),
            capability=Cap.MANAGE_ESCALATION,
            variables=lambda ctx: {"steps": [{"on_call": True, "wait_minutes": 5}]},
            expect=lambda ctx: {"severity": "sev1"},
        ),
        GraphQLMutation(
            action="update",
            document=(
                "mutation($slug: String!, $id: ID!) { update_escalation_policy(slug: $slug, "
                "id: $id, repeat: 2) { id } }"
            ),
            capability=Cap.MANAGE_ESCALATION,
            expect=lambda ctx: {"repeat": 2},
        ),
        GraphQLMutation(
            action="delete",
            document=(
                "mutation($slug: String!, $id: ID!) { delete_escalation_policy(slug: $slug, "
                "id: $id) }"
            ),
            capability=Cap.MANAGE_ESCALATION,
        ),
    )

    def create_payload(self, ctx: Ctx) -> dict[str, Any]:
        return {
            "name": "SEV1 semua",
            "severity": "sev1",
            "steps": [
                {"users": [ctx.members["admin"].pk], "wait_minutes": 5},
                {"on_call": True, "wait_minutes": 10},
            ],
            "repeat": 2,
        }

    def foreign_body(self, ctx: Ctx) -> dict[str, Any]:
        return {"steps": [{"users": [_member(ctx.other_tenant).pk]}]}

    def make(self, tenant: Tenant) -> EscalationPolicy:
        enabled = EscalationPolicy.objects.for_tenant(tenant).filter(enabled=True)
        used = set(enabled.values_list("severity", flat=True))
        free = [s for s in ("sev2", "sev3", "sev4") if s not in used]
        if free:
            return EscalationPolicyFactory(tenant=tenant, severity=free[0])
        return EscalationPolicyFactory(tenant=tenant, severity="sev4", enabled=False)

    def put_payload(self, ctx: Ctx, obj: Any) -> dict[str, Any]:
        return {"name": obj.name, "severity": obj.severity, "steps": obj.steps, "repeat": 3}

    def test_bad_steps_answer_400(self, ctx: Ctx) -> None:
        admin = ctx.holder_of(Cap.MANAGE_ESCALATION)
        url = f"/api/v1/tenants/{ctx.tenant.slug}/escalation-policies/"
        for steps in ([], [{"wait_minutes": 5}], [{"users": ["x"]}], [{"on_call": 1}], "x"):
            body = {"name": "x", "severity": "sev4", "steps": steps}
            answer = ctx.client(admin).post(url, body, format="json")
            assert answer.status_code == 400, (steps, answer.content)
            assert answer.json()["errors"][0]["attr"] == "steps"
