"""Tenant machine keys: created by admins, shown once, ingest-only, revocable."""

from __future__ import annotations

from typing import Any

from tenants.models import TenantApiKey


def test_admin_creates_lists_and_revokes_keys(
    api: Any, client: Any, tenant: Any, members: dict[str, Any]
) -> None:
    admin = api(members["admin"])
    url = f"/api/v1/tenants/{tenant.slug}/api-keys/"
    created = admin.post(url, {"name": "crawler"}, format="json")
    assert created.status_code == 201
    body = created.json()
    assert set(body) == {"id", "key", "name", "created_at", "expires_at"}
    stored = TenantApiKey.objects.get(prefix=body["id"])
    assert stored.tenant == tenant and stored.created_by == members["admin"]
    assert body["key"].split(".", 1)[1] not in stored.hashed_key
    listed = admin.get(url).json()["results"]
    assert [k["id"] for k in listed] == [body["id"]] and "key" not in listed[0]
    # A key reaches nothing but ingestion: the members list is refused.
    as_key = client.get(
        f"/api/v1/tenants/{tenant.slug}/members/", HTTP_AUTHORIZATION=f"Api-Key {body['key']}"
    )
    assert as_key.status_code == 403
    assert admin.delete(f"{url}{body['id']}/").status_code == 204
    revoked = client.get(
        f"/api/v1/tenants/{tenant.slug}/", HTTP_AUTHORIZATION=f"Api-Key {body['key']}"
    )
    assert revoked.status_code == 401


def test_key_name_is_required(api: Any, tenant: Any, members: dict[str, Any]) -> None:
    response = api(members["admin"]).post(
        f"/api/v1/tenants/{tenant.slug}/api-keys/", {}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "name"
