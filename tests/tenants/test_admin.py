"""The admin: agency admins see and edit only their agency's tenants and members."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tenants.models import Membership
from tests.factories import MembershipFactory, TenantFactory, UserFactory


@pytest.fixture
def agency_admin(tenant: Any) -> Any:
    # The messages below are asserted in English (Indonesian: tests/tenants/test_i18n.py).
    return UserFactory(agency=tenant.agency, is_agency_admin=True, is_staff=True, language="en")


def test_agency_admin_sees_only_its_tenants(
    agency_admin: Any, tenant: Any, other_tenant: Any
) -> None:
    client = Client()
    client.force_login(agency_admin)
    page = client.get("/admin/tenants/tenant/")
    assert page.status_code == 200
    assert b"kopi-senja" in page.content and b"bank-lestari" not in page.content
    assert client.get(f"/admin/tenants/tenant/{other_tenant.pk}/change/").status_code == 302


def test_agency_admin_sees_only_its_members_and_picks_only_its_tenants(
    agency_admin: Any, tenant: Any, other_tenant: Any, members: dict[str, Any], outsider: Any
) -> None:
    client = Client()
    client.force_login(agency_admin)
    page = client.get("/admin/tenants/membership/")
    assert b"analyst@kopi.test" in page.content and outsider.email.encode() not in page.content
    form = client.get("/admin/tenants/membership/add/")
    tenant_choices = form.context["adminform"].form.fields["tenant"].queryset
    assert list(tenant_choices) == [tenant]
    foreign = Membership.objects.get(user=outsider)
    assert client.get(f"/admin/tenants/membership/{foreign.pk}/change/").status_code == 302


def test_superuser_sees_everything(tenant: Any, other_tenant: Any) -> None:
    root = UserFactory(is_superuser=True, is_staff=True)
    client = Client()
    client.force_login(root)
    page = client.get("/admin/tenants/tenant/")
    assert b"kopi-senja" in page.content and b"bank-lestari" in page.content
    assert client.get("/admin/django_q/failure/").status_code == 200
    assert client.get("/admin/auditlog/logentry/").status_code == 200


def test_staff_without_agency_admin_sees_no_tenant_data(tenant: Any) -> None:
    staff = UserFactory(agency=tenant.agency, is_staff=True)
    client = Client()
    client.force_login(staff)
    assert client.get("/admin/tenants/tenant/").status_code == 403


def test_admin_creates_a_key_and_shows_it_once(agency_admin: Any, tenant: Any) -> None:
    client = Client()
    client.force_login(agency_admin)
    response = client.post(
        "/admin/tenants/tenantapikey/add/", {"name": "crawler", "tenant": tenant.pk}, follow=True
    )
    assert response.status_code == 200
    messages = [str(m) for m in response.context["messages"]]
    assert any("The API key for crawler is" in m for m in messages)
    other = TenantFactory()
    refused = client.post("/admin/tenants/tenantapikey/add/", {"name": "x", "tenant": other.pk})
    assert refused.status_code == 200  # the form is shown again with an error
    assert b"Select a valid choice" in refused.content
    MembershipFactory(tenant=tenant)


def test_list_filters_do_not_name_other_agencies_tenants(
    agency_admin: Any, tenant: Any, other_tenant: Any
) -> None:
    client = Client()
    client.force_login(agency_admin)
    for url in (
        "/admin/tenants/membership/",
        "/admin/tenants/tenantapikey/",
        "/admin/tenants/tenant/",
        "/admin/tenants/user/",
    ):
        page = client.get(url)
        assert page.status_code == 200
        assert other_tenant.name.encode() not in page.content, url
        assert other_tenant.agency.name.encode() not in page.content, url
