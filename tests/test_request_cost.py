"""The fixed cost of an authenticated tenant request, in SQL statements, on REST and GraphQL.

Counted as production runs them (no test transaction around the request: ``transaction=True``),
every statement the server receives: the queries Django sends (``CaptureQueriesContext``) and
the ones the database scope sends on the raw connection (``tenants.dbscope``: ``BEGIN``,
``set_config`` and ``COMMIT`` around a statement on a tenant table, pipelined with it in one
round trip). The fixed part, whatever the endpoint, is at most four statements:

1. the personal token with its user (``tenants.authentication``);
2. the tenant with its agency and the caller's roles in it (``tenants.access.resolve``);
3. the rate-limit counter, one atomic upsert (``tenants.ratelimit``), or none in the
   database when the default cache is Redis (``REDIS_URL``);
4. the scope's ``set_config``, sent with the endpoint's first statement (with ``BEGIN`` and
   ``COMMIT``, in the same round trip).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tenants import ratelimit
from tests.conftest import token_for
from tests.monitoring.factories import MentionFactory

# A statement naming this table (the first of them found) -> what it is.
OVERHEAD = {  # looked for in this order
    "tenants_personaltoken": "token and user",
    "tenants_ratecounter": "rate-limit counter",
    "tenants_tenant": "tenant, agency and roles",
}
FIXED_LIMIT = 4


@contextmanager
def statements() -> Iterator[dict[str, list[str]]]:
    """Every statement sent while the block runs: ``django`` (named by their first table) and
    ``scope`` (sent by the database scope on the raw connection)."""
    sent: dict[str, list[str]] = {"django": [], "scope": []}
    raw = connection.connection
    original = raw.execute

    def execute(query: Any, *args: Any, **kwargs: Any) -> Any:
        text = query.as_string(raw) if hasattr(query, "as_string") else str(query)
        sent["scope"].append("set_config" if "set_config" in text else text.strip().upper())
        return original(query, *args, **kwargs)

    raw.execute = execute
    try:
        with CaptureQueriesContext(connection) as captured:
            yield sent
    finally:
        del raw.execute  # the class's method again
    for query in captured.captured_queries:
        table = re.search(r'(?:FROM|INTO|UPDATE)\s+"?(\w+)"?', query["sql"])
        first = table.group(1) if table else query["sql"][:40]
        named = [name for name in OVERHEAD if f"{name}" in query["sql"]]
        sent["django"].append(named[0] if named and first.startswith("tenants_") else first)


def fixed_cost(sent: dict[str, list[str]], endpoint_tables: tuple[str, ...]) -> list[str]:
    """The statements that are not the endpoint's own work, by name."""
    names = [OVERHEAD.get(table, table) for table in sent["django"]]
    own = [name for name in names if name.startswith(endpoint_tables)]
    assert own, sent  # the endpoint did its work
    rest = [name for name in names if not name.startswith(endpoint_tables)]
    scope = [name for name in sent["scope"] if name not in ("BEGIN", "COMMIT")]
    return rest + scope


@pytest.fixture(params=["database", "redis"])
def counter_store(request: Any, settings: Any) -> str:
    """Where rate-limit counters live: the database (the default), or Redis when ``REDIS_URL``
    names a server (skipped otherwise: the suite needs none)."""
    if request.param == "redis":
        url = os.environ.get("REDIS_URL")
        if not url:
            pytest.skip("REDIS_URL is not set")
        default = {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}
    else:  # as without REDIS_URL, even when the run has one
        default = {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "sigap_cache",
        }
    settings.CACHES = {**settings.CACHES, "default": default}
    return str(request.param)


def expected(store: str) -> list[str]:
    names = ["token and user", "tenant, agency and roles", "rate-limit counter", "set_config"]
    return [name for name in names if store == "database" or name != "rate-limit counter"]


@pytest.mark.django_db(transaction=True)
def test_rest_list_fixed_cost(
    tenant: Any, members: dict[str, Any], counter_store: str, capsys: Any
) -> None:
    MentionFactory.create_batch(3, tenant=tenant)
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token_for(members['analyst'])}")
    url = f"/api/v1/tenants/{tenant.slug}/mentions/"
    assert client.get(url).status_code == 200  # the token's first use is recorded once
    with statements() as sent:
        response = client.get(url, {"sentiment": "neutral"})
    assert response.status_code == 200 and len(response.json()["results"]) == 3
    cost = fixed_cost(sent, ("monitoring_",))
    assert cost == expected(counter_store), sent
    assert len(cost) <= FIXED_LIMIT
    assert sent["scope"].count("BEGIN") == sent["scope"].count("COMMIT") == 1  # one round trip
    with capsys.disabled():
        print(f"\nREST list fixed cost ({counter_store}): {cost}")


@pytest.mark.django_db(transaction=True)
def test_graphql_query_fixed_cost(
    tenant: Any, members: dict[str, Any], counter_store: str, capsys: Any
) -> None:
    MentionFactory.create_batch(3, tenant=tenant)
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token_for(members['analyst'])}")
    body = json.dumps(
        {
            "query": "query($slug: String!) { mentions(slug: $slug) { id assignee { email } } }",
            "variables": {"slug": tenant.slug},
        }
    )

    def post() -> Any:
        response = client.post("/graphql/", data=body, content_type="application/json")
        assert response.status_code == 200 and "errors" not in response.json(), response.content
        return response.json()

    post()  # the token's first use is recorded once
    with statements() as sent:
        answer = post()
    assert len(answer["data"]["mentions"]) == 3
    cost = fixed_cost(sent, ("monitoring_",))
    assert sorted(cost) == sorted(expected(counter_store)), sent
    assert len(cost) <= FIXED_LIMIT
    with capsys.disabled():
        print(f"\nGraphQL query fixed cost ({counter_store}): {cost}")


@pytest.mark.django_db
def test_counters_use_redis_when_it_is_the_cache(counter_store: str) -> None:
    """With Redis as the cache, a hit sends nothing to the database."""
    if counter_store != "redis":
        pytest.skip("the database path is counted above")
    with CaptureQueriesContext(connection) as captured:
        assert ratelimit.hit(key="cost:redis", limit=5, period_s=60).allowed
    assert captured.captured_queries == []
