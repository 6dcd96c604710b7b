"""Members: invite, change role, remove, and the last-admin rule."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.core.exceptions import ValidationError

from tenants import services
from tenants.models import Invitation, Membership, User
from tenants.roles import Role
from tests.factories import MembershipFactory, TenantFactory, UserFactory


def url(tenant: Any, pk: Any = None) -> str:
    base = f"/api/v1/tenants/{tenant.slug}/members/"
    return f"{base}{pk}/" if pk else base


def test_admin_lists_members_with_filters(api: Any, tenant: Any, members: dict[str, Any]) -> None:
    client = api(members["admin"])
    body = client.get(url(tenant)).json()
    assert body["count"] == len(Role)
    assert {m["role"] for m in body["results"]} == {str(r) for r in Role}
    only = client.get(url(tenant), {"role": "approver"}).json()
    assert [m["user"]["email"] for m in only["results"]] == ["approver@kopi.test"]


def accept(invitation_id: int) -> None:
    invitation = Invitation.objects.get(pk=invitation_id)
    services.accept_invitation(invitation=invitation, password="a-long-enough-passphrase")


def test_invite_creates_agency_staff_or_client_when_accepted(
    api: Any, tenant: Any, members: dict[str, Any]
) -> None:
    client = api(members["admin"])
    staff = client.post(url(tenant), {"email": "New@Kopi.test", "role": "analyst"}, format="json")
    assert staff.status_code == 202, staff.content
    assert staff.json()["email"] == "new@kopi.test"
    guest = client.post(url(tenant), {"email": "boss@brand.test", "role": "client"}, format="json")
    assert guest.status_code == 202
    assert len(mail.outbox) == 2
    assert not User.objects.filter(email__in=["new@kopi.test", "boss@brand.test"]).exists()
    accept(staff.json()["id"])
    accept(guest.json()["id"])
    assert User.objects.get(email="new@kopi.test").agency == tenant.agency
    assert User.objects.get(email="boss@brand.test").agency is None
    roles = {m["user"]["email"]: m["role"] for m in client.get(url(tenant)).json()["results"]}
    assert roles["new@kopi.test"] == "analyst" and roles["boss@brand.test"] == "client"


def test_invite_rejects_duplicates_and_bad_roles(
    api: Any, tenant: Any, members: dict[str, Any]
) -> None:
    client = api(members["admin"])
    again = client.post(
        url(tenant), {"email": "analyst@kopi.test", "role": "analyst"}, format="json"
    )
    assert again.status_code == 400
    assert again.json()["errors"][0]["attr"] == "email"
    bad = client.post(url(tenant), {"email": "x@kopi.test", "role": "owner"}, format="json")
    assert bad.status_code == 400 and bad.json()["errors"][0]["attr"] == "role"
    unknown = client.post(
        url(tenant), {"email": "x@kopi.test", "role": "client", "admin": True}, format="json"
    )
    assert unknown.status_code == 400 and unknown.json()["errors"][0]["attr"] == "admin"


def test_client_users_join_one_tenant_only(api: Any, tenant: Any, members: dict[str, Any]) -> None:
    second = TenantFactory(agency=tenant.agency)
    MembershipFactory(tenant=second, user=members["admin"], role=Role.ADMIN)
    response = api(members["admin"]).post(
        url(second), {"email": "client@kopi.test", "role": "client"}, format="json"
    )
    # The uniform answer of an invitation (see test_hardening_accounts.py); it cannot be used.
    assert response.status_code == 202
    with pytest.raises(ValidationError):
        accept(response.json()["id"])
    assert not Membership.objects.filter(tenant=second, user=members["client"]).exists()


def test_staff_of_another_agency_cannot_be_invited(
    api: Any, tenant: Any, members: dict[str, Any], outsider: Any
) -> None:
    response = api(members["admin"]).post(
        url(tenant), {"email": outsider.email, "role": "analyst"}, format="json"
    )
    assert response.status_code == 202
    with pytest.raises(ValidationError):
        accept(response.json()["id"])
    assert not Membership.objects.filter(tenant=tenant, user=outsider).exists()


def test_change_role_and_remove(api: Any, tenant: Any, members: dict[str, Any]) -> None:
    client = api(members["admin"])
    target = Membership.objects.get(tenant=tenant, user=members["analyst"])
    changed = client.patch(url(tenant, target.pk), {"role": "responder"}, format="json")
    assert changed.status_code == 200 and changed.json()["role"] == "responder"
    assert client.delete(url(tenant, target.pk)).status_code == 204
    assert not Membership.objects.filter(pk=target.pk).exists()


def test_patch_without_a_role_changes_nothing(
    api: Any, tenant: Any, members: dict[str, Any]
) -> None:
    """The schema marks every field of a PATCH optional; an empty PATCH used to answer 400
    (found by the Schemathesis run: the operation never answered 2xx)."""
    client = api(members["admin"])
    target = Membership.objects.get(tenant=tenant, user=members["analyst"])
    response = client.patch(url(tenant, target.pk), {}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["role"] == "analyst"
    target.refresh_from_db()
    assert target.role == "analyst"
    unknown = client.patch(url(tenant, target.pk), {"rol": "admin"}, format="json")
    assert unknown.status_code == 400


def test_a_tenant_never_loses_its_last_admin(
    api: Any, tenant: Any, members: dict[str, Any]
) -> None:
    client = api(members["admin"])
    admin = Membership.objects.get(tenant=tenant, user=members["admin"])
    demote = client.patch(url(tenant, admin.pk), {"role": "analyst"}, format="json")
    assert demote.status_code == 400
    (error,) = demote.json()["errors"]
    assert error["attr"] == "role"
    assert error["detail"] == "Tenant harus tetap memiliki setidaknya satu admin."  # Indonesian
    assert client.delete(url(tenant, admin.pk)).status_code == 400
    second = UserFactory(agency=tenant.agency)
    MembershipFactory(tenant=tenant, user=second, role=Role.ADMIN)
    assert client.delete(url(tenant, admin.pk)).status_code == 204


def test_agency_admin_administers_every_tenant_of_its_agency(
    api: Any, tenant: Any, members: dict[str, Any]
) -> None:
    boss = UserFactory(agency=tenant.agency, is_agency_admin=True)
    response = api(boss).post(
        url(tenant), {"email": "p@kopi.test", "role": "approver"}, format="json"
    )
    assert response.status_code == 202
    foreign_boss = UserFactory(agency=TenantFactory().agency, is_agency_admin=True)
    assert api(foreign_boss).get(url(tenant)).status_code == 404
