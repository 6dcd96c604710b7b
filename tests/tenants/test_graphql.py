"""GraphQL: me, tenants, tenant(slug) with members; limits; snake_case; query counts."""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.conftest import error_codes, token_for
from tests.factories import MembershipFactory, TenantFactory, UserFactory


def test_me_and_tenants(gql: Any, tenant: Any, other_tenant: Any, members: dict[str, Any]) -> None:
    body = gql(
        "{ me { email full_name agency } tenants { slug time_zone default_language } }",
        user=members["analyst"],
    )
    assert body["data"]["me"] == {
        "email": "analyst@kopi.test",
        "full_name": members["analyst"].full_name,
        "agency": tenant.agency.slug,
    }
    assert body["data"]["tenants"] == [
        {"slug": "kopi-senja", "time_zone": "Asia/Jakarta", "default_language": "id"}
    ]


def test_tenant_with_members_matches_rest(
    gql: Any, api: Any, tenant: Any, members: dict[str, Any]
) -> None:
    query = (
        "query($slug: String!) { tenant(slug: $slug) { slug members { id role user { email } } } }"
    )
    body = gql(query, user=members["admin"], variables={"slug": tenant.slug})
    graph = sorted((m["user"]["email"], m["role"]) for m in body["data"]["tenant"]["members"])
    rest = api(members["admin"]).get(f"/api/v1/tenants/{tenant.slug}/members/").json()["results"]
    assert graph == sorted((m["user"]["email"], m["role"]) for m in rest)


def test_rest_and_graphql_field_names_match() -> None:
    from config.graphql import schema
    from tenants import fields

    types = schema._schema.type_map
    assert set(fields.TENANT) <= set(types["Tenant"].fields)
    assert set(fields.MEMBERSHIP) <= set(types["Membership"].fields)
    assert set(fields.USER) <= set(types["User"].fields)


def test_nested_members_are_one_prefetch_not_n_plus_one(client: Any, db: Any) -> None:
    agency_tenant = TenantFactory()
    boss = UserFactory(agency=agency_tenant.agency, is_agency_admin=True)
    for _ in range(4):
        tenant = TenantFactory(agency=agency_tenant.agency)
        for _ in range(3):
            MembershipFactory(tenant=tenant)
    query = '{"query": "{ tenants { slug members { role user { email } } } }"}'
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token_for(boss)}"}
    client.post("/graphql/", query, content_type="application/json", **auth)  # marks token used
    with CaptureQueriesContext(connection) as small:
        client.post("/graphql/", query, content_type="application/json", **auth)
    for _ in range(4):
        tenant = TenantFactory(agency=agency_tenant.agency)
        for _ in range(3):
            MembershipFactory(tenant=tenant)
    with CaptureQueriesContext(connection) as large:
        response = client.post("/graphql/", query, content_type="application/json", **auth)
    assert len(response.json()["data"]["tenants"]) == 9
    # token with its user, the rate-limit counter, memberships, agency tenants, tenants,
    # members+users: six, always.
    assert len(small) == len(large) == 6, "\n".join(q["sql"][:200] for q in large)


def test_depth_and_alias_limits(gql: Any, tenant: Any, members: dict[str, Any]) -> None:
    aliases = " ".join(f"a{i}: me {{ id }}" for i in range(20))
    body = gql("{ " + aliases + " }", user=members["admin"])
    assert "data" not in body or body.get("data") is None
    assert "alias" in body["errors"][0]["message"].lower()
    fragment = "fragment F on Query { " + aliases + " } { ...F }"
    body = gql(fragment, user=members["admin"])
    assert "alias" in body["errors"][0]["message"].lower()


def test_bad_bearer_token_is_unauthenticated(client: Any, db: Any) -> None:
    response = client.post(
        "/graphql/",
        '{"query": "{ me { id } }"}',
        content_type="application/json",
        HTTP_AUTHORIZATION="Bearer nope.nope",
    )
    assert error_codes(response.json()) == ["UNAUTHENTICATED"]


def test_session_callers_need_csrf(db: Any, members: dict[str, Any], tenant: Any) -> None:
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(members["admin"])
    response = client.post(
        "/graphql/", '{"query": "{ me { id } }"}', content_type="application/json"
    )
    assert response.status_code == 403


def test_graphiql_page_is_public(client: Any, db: Any) -> None:
    response = client.get("/graphql/", HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert b"graphiql" in response.content.lower()


def test_depth_and_token_limits(
    gql: Any, tenant: Any, members: dict[str, Any], settings: Any
) -> None:
    query = "query($slug: String!) { tenant(slug: $slug) { members { user { email } } } }"
    settings.GRAPHQL_MAX_DEPTH = 2
    body = gql(query, user=members["admin"], variables={"slug": tenant.slug})
    assert "exceeds maximum operation depth" in body["errors"][0]["message"]
    settings.GRAPHQL_MAX_DEPTH = 10
    settings.GRAPHQL_MAX_TOKENS = 10
    body = gql(query, user=members["admin"], variables={"slug": tenant.slug})
    assert "token" in body["errors"][0]["message"].lower()


def test_queries_over_get_are_refused(client: Any, tenant: Any, members: dict[str, Any]) -> None:
    """GET serves the GraphiQL page only; a query in the URL is not executed (it would leak into
    logs and proxies, and bypass the CSRF check that guards session callers)."""
    client.force_login(members["admin"])
    response = client.get("/graphql/", {"query": "{ me { email } }"})
    assert response.status_code == 400
    assert b"admin@kopi.test" not in response.content
