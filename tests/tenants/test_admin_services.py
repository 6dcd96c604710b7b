"""The tenants admin writes through ``tenants.services``: the services' rules hold there too
(issue 8 item 2), refused writes are form errors or messages, never 500s."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from tenants import services
from tenants.models import Membership, PersonalToken, Tenant, TenantApiKey, User
from tenants.roles import Role
from tests.factories import UserFactory

LAST_ADMIN = b"A tenant must keep at least one admin."


@pytest.fixture
def agency_admin(tenant: Any) -> User:
    # The messages below are asserted in English (Indonesian: tests/tenants/test_i18n.py).
    return UserFactory(  # type: ignore[no-any-return]
        email="boss@kopi.test",
        agency=tenant.agency,
        is_agency_admin=True,
        is_staff=True,
        language="en",
    )


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def form_data(page: Any) -> dict[str, Any]:
    """The POST body of an admin change page as it was rendered (main form and inlines)."""
    forms = [page.context["adminform"].form]
    for inline in page.context["inline_admin_formsets"]:
        forms += [inline.formset.management_form, *inline.formset.forms]
    data: dict[str, Any] = {}
    for form in forms:
        for name in form.fields:
            value = form[name].value()
            if value is None or value is False:
                continue
            data[form.add_prefix(name)] = "on" if value is True else value
    return data


def inline_prefix(data: dict[str, Any], membership: Membership) -> str:
    key = next(k for k, v in data.items() if k.endswith("-id") and str(v) == str(membership.pk))
    return key.removesuffix("-id")


def membership(tenant: Tenant, user: User) -> Membership:
    return Membership.objects.get(tenant=tenant, user=user)


def test_last_admin_cannot_be_demoted_or_removed_in_the_membership_admin(
    agency_admin: User, tenant: Tenant, members: dict[str, User]
) -> None:
    client = signed_in(agency_admin)
    only_admin = membership(tenant, members["admin"])
    url = f"/admin/tenants/membership/{only_admin.pk}/"

    demoted = client.post(f"{url}change/", {"role": Role.ANALYST})
    assert demoted.status_code == 200
    assert LAST_ADMIN in demoted.content
    assert demoted.context["adminform"].form.errors

    removed = client.post(f"{url}delete/", {"post": "yes"}, follow=True)
    assert removed.status_code == 200
    assert any("at least one admin" in str(m) for m in removed.context["messages"])

    bulk = client.post(
        "/admin/tenants/membership/",
        {"action": "delete_selected", "_selected_action": [only_admin.pk], "post": "yes"},
        follow=True,
    )
    assert bulk.status_code == 200
    assert any("at least one admin" in str(m) for m in bulk.context["messages"])

    only_admin.refresh_from_db()
    assert only_admin.role == Role.ADMIN


def test_bulk_delete_is_all_or_nothing(
    agency_admin: User, tenant: Tenant, members: dict[str, User]
) -> None:
    rows = Membership.objects.for_tenant(tenant)
    client = signed_in(agency_admin)
    client.post(
        "/admin/tenants/membership/",
        {"action": "delete_selected", "_selected_action": [m.pk for m in rows], "post": "yes"},
    )
    assert rows.count() == len(Role)
    analyst = membership(tenant, members["analyst"])
    client.post(
        "/admin/tenants/membership/",
        {"action": "delete_selected", "_selected_action": [analyst.pk], "post": "yes"},
    )
    assert not rows.filter(pk=analyst.pk).exists()


def test_last_admin_cannot_be_demoted_or_removed_on_the_tenant_page(
    agency_admin: User, tenant: Tenant, members: dict[str, User]
) -> None:
    client = signed_in(agency_admin)
    url = f"/admin/tenants/tenant/{tenant.pk}/change/"
    only_admin = membership(tenant, members["admin"])
    data = form_data(client.get(url))
    prefix = inline_prefix(data, only_admin)

    demoted = client.post(url, {**data, f"{prefix}-role": Role.CLIENT})
    assert demoted.status_code == 200
    assert LAST_ADMIN in demoted.content
    removed = client.post(url, {**data, f"{prefix}-DELETE": "on", "name": "Renamed"})
    assert removed.status_code == 200
    assert LAST_ADMIN in removed.content
    only_admin.refresh_from_db()
    tenant.refresh_from_db()
    assert only_admin.role == Role.ADMIN and tenant.name == "Kopi Senja"  # nothing saved

    # Handing the role over in one save works: the promotion goes first.
    analyst = membership(tenant, members["analyst"])
    handed = client.post(
        url,
        {
            **data,
            f"{prefix}-role": Role.ANALYST,
            f"{inline_prefix(data, analyst)}-role": Role.ADMIN,
        },
    )
    assert handed.status_code == 302
    only_admin.refresh_from_db()
    analyst.refresh_from_db()
    assert (only_admin.role, analyst.role) == (Role.ANALYST, Role.ADMIN)


def test_accounts_that_may_not_be_invited_are_refused_in_the_admin(
    tenant: Tenant, members: dict[str, User]
) -> None:
    """The invitation rule (``invitable``): platform staff never join a tenant, whoever adds
    them and wherever (the membership admin or the tenant page)."""
    root = UserFactory(is_superuser=True, is_staff=True, language="en")
    platform_staff = UserFactory(email="ops@sigap.test", is_staff=True)
    client = signed_in(root)

    added = client.post(
        "/admin/tenants/membership/add/",
        {"tenant": tenant.pk, "user": platform_staff.pk, "role": Role.CLIENT},
    )
    assert added.status_code == 200
    assert "user" in added.context["adminform"].form.errors

    url = f"/admin/tenants/tenant/{tenant.pk}/change/"
    data = form_data(client.get(url))
    total = int(data["memberships-TOTAL_FORMS"])
    data.update(
        {
            "memberships-TOTAL_FORMS": total + 1,
            f"memberships-{total}-user": platform_staff.pk,
            f"memberships-{total}-role": Role.CLIENT,
            f"memberships-{total}-tenant": tenant.pk,
        }
    )
    inline = client.post(url, data)
    assert inline.status_code == 200
    assert b"cannot be invited" in inline.content
    assert not platform_staff.memberships.exists()


def test_members_added_in_the_admin_go_through_the_invitation(
    agency_admin: User, tenant: Tenant, mailoutbox: list[Any]
) -> None:
    colleague = UserFactory(email="new@kopi.test", agency=tenant.agency)
    response = signed_in(agency_admin).post(
        "/admin/tenants/membership/add/",
        {"tenant": tenant.pk, "user": colleague.pk, "role": Role.ANALYST},
    )
    assert response.status_code == 302
    assert membership(tenant, colleague).role == Role.ANALYST
    assert [m.to for m in mailoutbox] == [["new@kopi.test"]]


def test_a_revoked_key_stays_revoked_and_keys_are_not_deleted(
    agency_admin: User, tenant: Tenant
) -> None:
    key, _ = services.create_api_key(tenant=tenant, name="crawler")
    client = signed_in(agency_admin)
    url = f"/admin/tenants/tenantapikey/{key.pk}/"

    past = (timezone.now() - timedelta(days=1)).strftime("%Y-%m-%d")
    expired = client.post(
        f"{url}change/", {"name": "crawler", "expiry_date_0": past, "expiry_date_1": "00:00:00"}
    )
    assert expired.status_code == 200
    assert "expiry_date" in expired.context["adminform"].form.errors

    revoked = client.post(f"{url}change/", {"name": "crawler", "revoked": "on"})
    assert revoked.status_code == 302
    key.refresh_from_db()
    assert key.revoked

    client.post(f"{url}change/", {"name": "crawler"})  # "revoked" unticked
    key.refresh_from_db()
    assert key.revoked
    assert client.post(f"{url}delete/", {"post": "yes"}).status_code == 403
    assert TenantApiKey.objects.filter(pk=key.pk).exists()


def test_personal_tokens_are_revoked_in_the_admin_and_stay_revoked(
    agency_admin: User, members: dict[str, User]
) -> None:
    token, _ = services.issue_token(user=members["analyst"])
    client = signed_in(agency_admin)
    url = f"/admin/tenants/personaltoken/{token.pk}/"
    assert client.post(f"{url}change/", {"revoked": "on"}).status_code == 302
    token.refresh_from_db()
    assert token.revoked
    client.post(f"{url}change/", {})
    token.refresh_from_db()
    assert token.revoked
    assert client.post(f"{url}delete/", {"post": "yes"}).status_code == 403
    assert PersonalToken.objects.filter(pk=token.pk).exists()


def test_tenants_are_created_and_changed_by_their_services(tenant: Tenant) -> None:
    root = UserFactory(is_superuser=True, is_staff=True, language="en")
    client = signed_in(root)
    created = client.post(
        "/admin/tenants/tenant/add/",
        {
            "agency": tenant.agency_id,
            "slug": "teh-pagi",
            "name": "Teh Pagi",
            "time_zone": "Asia/Makassar",
            "default_language": "id",
            "status": Tenant.Status.ACTIVE,
            "mention_retention_days": 30,
            "raw_payload_retention_days": 7,
            "memberships-TOTAL_FORMS": 0,
            "memberships-INITIAL_FORMS": 0,
        },
    )
    assert created.status_code == 302, created.context["adminform"].form.errors
    new = Tenant.objects.get(slug="teh-pagi")
    assert new.mention_retention_days == 30

    url = f"/admin/tenants/tenant/{new.pk}/change/"
    data = form_data(client.get(url))
    assert "slug" not in data and "agency" not in data  # set once, never changed
    bad = client.post(url, {**data, "time_zone": "Mars/Olympus"})
    assert bad.status_code == 200
    assert "time_zone" in bad.context["adminform"].form.errors
    assert client.post(url, {**data, "name": "Teh Sore"}).status_code == 302
    new.refresh_from_db()
    assert new.name == "Teh Sore"
