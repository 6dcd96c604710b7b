"""Tenants: the caller's list, detail, updates and creation by agency admins."""

from __future__ import annotations

from typing import Any

from tests.factories import TenantFactory, UserFactory


def test_list_shows_only_the_callers_tenants(
    api: Any, tenant: Any, other_tenant: Any, members: dict[str, Any]
) -> None:
    body = api(members["analyst"]).get("/api/v1/tenants/").json()
    assert [t["slug"] for t in body["results"]] == ["kopi-senja"]
    assert set(body) == {"count", "next", "previous", "results"}


def test_admin_updates_time_zone_with_validation(
    api: Any, tenant: Any, members: dict[str, Any]
) -> None:
    client = api(members["admin"])
    ok = client.patch(
        f"/api/v1/tenants/{tenant.slug}/", {"time_zone": "Asia/Makassar"}, format="json"
    )
    assert ok.status_code == 200 and ok.json()["time_zone"] == "Asia/Makassar"
    bad = client.patch(
        f"/api/v1/tenants/{tenant.slug}/", {"time_zone": "Mars/Olympus"}, format="json"
    )
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["attr"] == "time_zone"
    slug = client.patch(f"/api/v1/tenants/{tenant.slug}/", {"slug": "renamed"}, format="json")
    assert slug.status_code == 200 and slug.json()["slug"] == tenant.slug  # read-only, ignored? no:


def test_suspended_tenant_is_read_only(api: Any, tenant: Any, members: dict[str, Any]) -> None:
    tenant.status = "suspended"
    tenant.save()
    assert api(members["analyst"]).get(f"/api/v1/tenants/{tenant.slug}/members/").status_code == 200
    refused = api(members["admin"]).post(
        f"/api/v1/tenants/{tenant.slug}/members/",
        {"email": "a@b.test", "role": "client"},
        format="json",
    )
    assert refused.status_code == 403
    assert refused.json()["errors"][0]["code"] == "tenant_suspended"


def test_agency_admin_creates_tenants_with_clear_errors(api: Any, db: Any) -> None:
    tenant = TenantFactory()
    boss = UserFactory(agency=tenant.agency, is_agency_admin=True)
    client = api(boss)
    created = client.post(
        "/api/v1/tenants/", {"slug": "teh-manis", "name": "Teh Manis"}, format="json"
    )
    assert created.status_code == 201, created.content
    assert created.json()["time_zone"] == "Asia/Jakarta"
    assert created.json()["default_language"] == "id"
    bad = client.post("/api/v1/tenants/", {"slug": "Bad Slug!", "name": "x" * 201}, format="json")
    assert bad.status_code == 400
    assert {e["attr"] for e in bad.json()["errors"]} == {"slug", "name"}
    taken = client.post("/api/v1/tenants/", {"slug": "teh-manis", "name": "Again"}, format="json")
    assert taken.status_code == 400 and taken.json()["errors"][0]["attr"] == "slug"
    plain = UserFactory(agency=tenant.agency)
    assert (
        api(plain).post("/api/v1/tenants/", {"slug": "x", "name": "x"}, format="json").status_code
        == 403
    )
