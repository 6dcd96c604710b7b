"""Deleting mentions is a tenant admin's action (``mentions.delete``) and always audited: over
REST and in the admin, one mention or a selection, through ``services.delete_mentions``."""

from __future__ import annotations

from typing import Any

import pytest
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.test import Client

from monitoring import retention
from monitoring.models import Mention
from tenants.roles import Cap, Role, roles_lacking
from tests.factories import AgencyFactory, UserFactory
from tests.monitoring.factories import MentionFactory


def deletions(*ids: int) -> list[LogEntry]:
    kind = ContentType.objects.get_for_model(Mention)
    return list(
        LogEntry.objects.filter(
            content_type=kind, object_id__in=ids, action=LogEntry.Action.DELETE
        ).order_by("object_id")
    )


def test_only_a_tenant_admin_deletes_over_rest_and_it_is_audited(
    api: Any, tenant: Any, members: dict[str, Any]
) -> None:
    assert roles_lacking(Cap.DELETE_MENTIONS) == [r for r in Role if r != Role.ADMIN]
    mention = MentionFactory(tenant=tenant, platform="x", external_id="1789")
    path = f"/api/v1/tenants/{tenant.slug}/mentions/{mention.pk}/"
    for role in ("analyst", "responder", "approver", "client"):
        response = api(members[role]).delete(path)
        assert response.status_code == 403, role
        assert response.json()["errors"][0]["code"] == "missing_capability"
    assert Mention.objects.filter(pk=mention.pk).exists()
    assert api(members["admin"]).delete(path).status_code == 204
    assert not Mention.objects.filter(pk=mention.pk).exists()
    (entry,) = deletions(mention.pk)
    assert entry.actor == members["admin"] and entry.object_repr == "x:1789"
    assert entry.additional_data == {"operation": "delete_mention", "tenant_id": tenant.pk}
    assert "Kopi" not in str(entry.changes) + str(entry.additional_data)  # no text kept
    assert api(members["admin"]).delete(path).status_code == 404


def test_another_tenants_mention_is_not_found(
    api: Any, tenant: Any, other_tenant: Any, members: dict[str, Any]
) -> None:
    theirs = MentionFactory(tenant=other_tenant)
    response = api(members["admin"]).delete(f"/api/v1/tenants/{tenant.slug}/mentions/{theirs.pk}/")
    assert response.status_code == 404
    assert Mention.objects.filter(pk=theirs.pk).exists() and deletions(theirs.pk) == []


@pytest.fixture
def agency_admin(tenant: Any) -> Client:
    user = UserFactory(agency=tenant.agency, is_agency_admin=True, is_staff=True)
    client = Client()
    client.force_login(user)
    client.user = user  # type: ignore[attr-defined]
    return client


def test_admin_bulk_delete_goes_through_the_audited_service(
    agency_admin: Client, tenant: Any
) -> None:
    doomed = [MentionFactory(tenant=tenant) for _ in range(3)]
    kept = MentionFactory(tenant=tenant)
    page = agency_admin.get("/admin/monitoring/mention/")
    assert b'value="delete_selected"' in page.content
    response = agency_admin.post(
        "/admin/monitoring/mention/",
        {
            "action": "delete_selected",
            "_selected_action": [m.pk for m in doomed],
            "post": "yes",
        },
    )
    assert response.status_code == 302
    assert list(Mention.objects.values_list("pk", flat=True)) == [kept.pk]
    entries = deletions(*(m.pk for m in doomed))
    assert [e.object_id for e in entries] == [m.pk for m in doomed]
    assert {e.actor for e in entries} == {agency_admin.user}  # type: ignore[attr-defined]
    one = MentionFactory(tenant=tenant)
    agency_admin.post(f"/admin/monitoring/mention/{one.pk}/delete/", {"post": "yes"})
    assert not Mention.objects.filter(pk=one.pk).exists() and len(deletions(one.pk)) == 1


def test_admin_offers_no_delete_to_who_may_not_delete(tenant: Any) -> None:
    """The superuser and tenant admins may delete; a staff user in the admin who holds no
    ``mentions.delete`` in a mention's tenant is offered neither the action nor the button."""
    from django.contrib.admin.sites import site
    from django.test import RequestFactory

    from monitoring.admin import MentionAdmin

    mention = MentionFactory(tenant=tenant)
    admin = MentionAdmin(Mention, site)
    request = RequestFactory().get("/admin/monitoring/mention/")
    # An agency admin of another agency: an admin user, with no capability in this tenant.
    stranger = UserFactory(agency=AgencyFactory(), is_agency_admin=True, is_staff=True)
    request.user = stranger
    assert admin.has_delete_permission(request, mention) is False
    assert "delete_selected" not in admin.get_actions(request)
    own = UserFactory(agency=tenant.agency, is_agency_admin=True, is_staff=True)
    request = RequestFactory().get("/admin/monitoring/mention/")
    request.user = own
    assert admin.has_delete_permission(request, mention) is True
    assert "delete_selected" in admin.get_actions(request)


def test_retention_still_deletes_without_audit_entries(tenant: Any) -> None:
    """Retention deletes in bulk for the tenant's policy: not a person's deletion, not logged
    per mention (the audit log would outgrow the data)."""
    from datetime import timedelta

    from django.utils import timezone

    tenant.mention_retention_days = 30
    tenant.save()
    old = MentionFactory(tenant=tenant, published_at=timezone.now() - timedelta(days=60))
    retention.apply_retention(tenant_id=tenant.pk)
    assert not Mention.objects.filter(pk=old.pk).exists()
    assert deletions(old.pk) == []
