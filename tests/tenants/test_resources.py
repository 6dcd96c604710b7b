"""Members and machine keys on the shared resource base (``tests/resource_base.py``).

The rules of each (the last admin, who may be invited, keys shown once) are tested in
``test_members.py`` and ``test_api_keys.py``.
"""

from __future__ import annotations

import itertools
from typing import Any

from tenants.models import Invitation, Membership, Tenant, TenantApiKey
from tenants.roles import Cap, Role
from tests.factories import MembershipFactory, UserFactory
from tests.resource_base import Ctx, TenantResourceTests

INVITED = itertools.count(1)


class TestMembers(TenantResourceTests):
    model = Membership
    basename = "member"
    capabilities = {
        "list": Cap.VIEW_MEMBERS,
        "retrieve": Cap.VIEW_MEMBERS,
        "create": Cap.MANAGE_MEMBERS,
        "partial_update": Cap.MANAGE_MEMBERS,
        "destroy": Cap.MANAGE_MEMBERS,
    }
    create_data = {"email": "New@Kopi.test", "role": "analyst"}
    create_expect = {"role": "analyst"}
    update_data = {"role": "responder"}
    # Token, tenant with roles, rate-limit counter, COUNT, the page joined with the users.
    rest_list_queries = 5
    graphql_list = (
        "query($slug: String!) { tenant(slug: $slug) { members { id role user { email } } } }"
    )
    graphql_list_path = ("tenant", "members")
    # Token, rate-limit counter, tenant with roles and capabilities per tenant, the tenant row,
    # the members prefetched with their users.
    graphql_list_queries = 5

    def make(self, tenant: Tenant) -> Membership:
        user = UserFactory(agency=tenant.agency)
        return MembershipFactory(tenant=tenant, user=user, role=Role.ANALYST)

    def foreign_body(self, ctx: Ctx) -> dict[str, Any]:
        # No field names another row: an address is not one. Inviting another agency's
        # admin answers like any address and never makes a membership (test_invitations.py).
        return {}

    def test_rest_create(self, ctx: Ctx) -> None:
        """A POST invites: 202 with the pending invitation; the membership comes when the
        person follows the e-mailed link (test_invitations.py)."""
        before = Membership.objects.filter(tenant=ctx.tenant).count()
        client = ctx.client(ctx.holder_of(self.capabilities["create"]))
        response = client.post(
            self.list_url(ctx.tenant.slug), self.create_payload(ctx), format="json"
        )
        assert response.status_code == 202, response.content
        assert response.json()["role"] == "analyst" and response.json()["status"] == "pending"
        invitation = Invitation.objects.get(pk=response.json()["id"])
        assert invitation.tenant == ctx.tenant and invitation.email == "new@kopi.test"
        assert Membership.objects.filter(tenant=ctx.tenant).count() == before


class TestApiKeys(TenantResourceTests):
    model = TenantApiKey
    basename = "api-key"
    lookup_field = "prefix"
    lookup_url_kwarg = "id"
    capabilities = {
        "list": Cap.MANAGE_API_KEYS,
        "create": Cap.MANAGE_API_KEYS,
        "destroy": Cap.MANAGE_API_KEYS,
    }
    create_data = {"name": "crawler"}
    rest_list_queries = 5  # token, tenant with roles, rate-limit counter, COUNT, page

    def make(self, tenant: Tenant) -> TenantApiKey:
        key, _ = TenantApiKey.objects.create_key(tenant=tenant, name="crawler")
        return key


class TestInvitations(TenantResourceTests):
    """Listed and withdrawn by admins; made by ``POST .../members/`` (``TestMembers``) and used
    through the e-mailed link (``test_invitations.py``). No GraphQL side."""

    model = Invitation
    basename = "invitation"
    capabilities = {
        "list": Cap.MANAGE_MEMBERS,
        "destroy": Cap.MANAGE_MEMBERS,
    }
    # Token, tenant, roles, rate-limit counter, COUNT, the page.
    rest_list_queries = 5  # token, tenant with roles, rate-limit counter, COUNT, page

    def make(self, tenant: Tenant) -> Invitation:
        return Invitation.objects.create(
            tenant=tenant, email=f"{next(INVITED)}@invited.test", role=Role.ANALYST
        )
