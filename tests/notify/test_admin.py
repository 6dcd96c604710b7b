"""The notification admin screens: scoped to the agency's tenants, channels written through
the services with their secrets write-only (never rendered, kept when left empty), the
delivery log read-only."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tenants.models import Channel, Delivery
from tests.factories import UserFactory
from tests.notify.factories import ChannelFactory, EscalationPolicyFactory

pytestmark = pytest.mark.django_db
SECRET = "https://hooks.slack.com/services/T000/B000/RAHASIA"


@pytest.fixture
def agency_admin(tenant: Any) -> Client:
    user = UserFactory(agency=tenant.agency, is_agency_admin=True, is_staff=True, language="en")
    client = Client()
    client.force_login(user)
    return client


def test_screens_show_only_the_agencys_rows(
    agency_admin: Client, tenant: Any, other_tenant: Any
) -> None:
    for owner in (tenant, other_tenant):
        ChannelFactory(tenant=owner, name=f"Saluran {owner.slug}")
        EscalationPolicyFactory(tenant=owner, name=f"Eskalasi {owner.slug}")
    for path in (
        "/admin/tenants/channel/",
        "/admin/tenants/delivery/",
        "/admin/tenants/oncallshift/",
        "/admin/tenants/quiethours/",
        "/admin/monitoring/escalationpolicy/",
        "/admin/monitoring/alertescalation/",
    ):
        listed = agency_admin.get(path)
        assert listed.status_code == 200, path
        assert b"bank-lestari" not in listed.content, path
    assert b"Saluran kopi-senja" in agency_admin.get("/admin/tenants/channel/").content
    assert agency_admin.get("/admin/tenants/delivery/add/").status_code == 403


def test_channel_secrets_are_write_only_in_the_admin(agency_admin: Client, tenant: Any) -> None:
    added = agency_admin.post(
        "/admin/tenants/channel/add/",
        {
            "tenant": tenant.pk,
            "name": "Slack krisis",
            "kind": "slack",
            "enabled": "on",
            "target": "",
            "secret": SECRET,
            "signing_secret": "",
            "options": "{}",
        },
    )
    assert added.status_code == 302, added.content.decode()[-2000:]
    channel = Channel.objects.get(tenant=tenant, name="Slack krisis")
    assert channel.secret == SECRET
    page = agency_admin.get(f"/admin/tenants/channel/{channel.pk}/change/")
    assert page.status_code == 200 and b"RAHASIA" not in page.content
    changed = agency_admin.post(
        f"/admin/tenants/channel/{channel.pk}/change/",
        {
            "name": "Slack tim",
            "enabled": "on",
            "target": "",
            "secret": "",
            "signing_secret": "",
            "options": "{}",
        },
    )
    assert changed.status_code == 302, changed.content.decode()[-2000:]
    channel.refresh_from_db()
    assert channel.name == "Slack tim" and channel.secret == SECRET  # kept
    assert not Delivery.objects.exists()
