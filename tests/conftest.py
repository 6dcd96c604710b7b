"""Shared fixtures: two tenants of different agencies, a member per role, API and GraphQL
clients that authenticate with real personal tokens.

The suite runs with row-level security on, as production does: the test database is created,
migrated and dropped by the tables' owner, and everything else (test bodies, requests through
the test client and live servers, worker processes the tests start) connects as the application
role (``django_db_modify_db_settings`` and ``django_db_setup`` below; ``tenants.rls``). Test
bodies build fixtures for several tenants, so each runs in an explicit cross-tenant scope
(``cross_tenant_test_body``); every entry point a test calls (a request, a task, a command)
drops it and sets its own (``tenants.dbscope``).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from rest_framework.test import APIClient

from tenants import dbscope, services
from tenants.models import Tenant, User
from tenants.roles import Role
from tests.factories import AgencyFactory, MembershipFactory, TenantFactory, UserFactory

# Every SQL statement the suite sends on a tenant table must pin tenant_id (tests/sqlpin.py).
pytest_plugins = ["tests.sqlpin"]

PASSWORD = "correct-horse-battery"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """With ``make test``'s workers (pytest-xdist, a file per worker, ``--no-loadscope-reorder``),
    the files holding a ``slow`` test (real workers, servers, subprocesses) go first, then the
    others by their number of tests, so the longest files start early and the short ones fill
    the gaps, rather than one long file running alone at the end. The order within a file is
    kept; one process keeps the collection order."""
    if not hasattr(config, "workerinput"):
        return
    slow_files = {item.path for item in items if item.get_closest_marker("slow")}
    sizes = Counter(item.path for item in items)
    items.sort(key=lambda item: (item.path not in slow_files, -sizes[item.path]))


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix: None) -> None:
    """The test database is created and migrated by the tables' owner."""
    from tenants import rls

    rls.use_role("owner")


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: None) -> Iterator[None]:
    """Once migrated, the suite connects as the application role; the owner drops the database."""
    from tenants import rls

    rls.use_role("application")
    yield
    rls.use_role("owner")


@pytest.fixture(scope="session", autouse=True)
def cross_tenant_test_body() -> Iterator[None]:
    """Test bodies and fixtures (class-scoped ones too) see every tenant (tests only)."""
    with dbscope.all_tenants("test bodies and fixtures"):
        yield


@pytest.fixture
def tenant(db: Any) -> Tenant:
    return TenantFactory(slug="kopi-senja", name="Kopi Senja")


@pytest.fixture
def other_tenant(db: Any) -> Tenant:
    return TenantFactory(slug="bank-lestari", name="Bank Lestari", agency=AgencyFactory())


@pytest.fixture
def members(tenant: Tenant) -> dict[str, User]:
    """One user per role in ``tenant``."""
    result = {}
    for role in Role:
        agency = None if role == Role.CLIENT else tenant.agency
        user = UserFactory(email=f"{role}@kopi.test", agency=agency)
        MembershipFactory(tenant=tenant, user=user, role=role)
        result[str(role)] = user
    return result


@pytest.fixture
def outsider(other_tenant: Tenant) -> User:
    """An admin of another tenant (of another agency)."""
    user = UserFactory(email="admin@bank.test", agency=other_tenant.agency)
    MembershipFactory(tenant=other_tenant, user=user, role=Role.ADMIN)
    return user


def token_for(user: User) -> str:
    _, secret = services.issue_token(user=user, name="test")
    return secret


@pytest.fixture
def api() -> Callable[[User | None], APIClient]:
    """``api(user)``: a REST client signed in with a real bearer token (anonymous for None)."""

    def make(user: User | None = None) -> APIClient:
        client = APIClient()
        if user is not None:
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_for(user)}")
        return client

    return make


@pytest.fixture
def gql(client: Any) -> Callable[..., dict[str, Any]]:
    """``gql(query, user=None, variables=None)``: POST to /graphql/ and return the JSON body."""

    def run(query: str, user: User | None = None, variables: dict[str, Any] | None = None) -> Any:
        headers = {}
        if user is not None:
            headers["HTTP_AUTHORIZATION"] = f"Bearer {token_for(user)}"
        response = client.post(
            "/graphql/",
            data=json.dumps({"query": query, "variables": variables or {}}),
            content_type="application/json",
            **headers,
        )
        assert response.status_code == 200, response.content
        return response.json()

    return run


def error_codes(body: dict[str, Any]) -> list[str]:
    return [e.get("extensions", {}).get("code") for e in body.get("errors") or []]


@pytest.fixture(autouse=True)
def fresh_readiness_probe() -> None:
    """``/readyz`` keeps its answer and its probe counts per process, the principal limit its
    refused credentials: each test starts without."""
    from config import health
    from tenants.throttling import probe_windows, refused_credentials

    health.readiness.clear()
    probe_windows.clear()
    refused_credentials.clear()
