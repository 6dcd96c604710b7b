"""Rate limits that hold: the client IP cannot be chosen by the client, GraphQL is throttled like
REST, and parallel requests never overshoot a limit."""

from __future__ import annotations

import json
import logging
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from axes.models import AccessAttempt
from django.test import RequestFactory

from tenants import ratelimit
from tenants.network import client_ip
from tenants.throttling import AtomicRateThrottle
from tests.conftest import token_for

SIGN_IN = "/api/v1/auth/tokens/"


@pytest.fixture
def rates(monkeypatch: Any) -> Any:
    """``rates(anonymous="3/min", ...)``: lower limits for one test."""

    def set_rates(**values: str) -> None:
        for scope, rate in values.items():
            monkeypatch.setitem(AtomicRateThrottle.THROTTLE_RATES, scope, rate)

    return set_rates


def sign_in(client: Any, forwarded_for: str | None = None, **body: str) -> Any:
    extra = {"HTTP_X_FORWARDED_FOR": forwarded_for} if forwarded_for else {}
    return client.post(SIGN_IN, json.dumps(body), content_type="application/json", **extra)


# --- the client IP --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("remote", "forwarded", "trusted", "expected"),
    [
        ("198.51.100.7", "203.0.113.1", [], "198.51.100.7"),  # nobody trusted: the peer
        ("198.51.100.7", "203.0.113.1", ["10.0.0.0/8"], "198.51.100.7"),  # peer not trusted
        ("10.0.0.2", "203.0.113.1", ["10.0.0.0/8"], "203.0.113.1"),
        ("10.0.0.2", "6.6.6.6, 203.0.113.1", ["10.0.0.0/8"], "203.0.113.1"),  # spoof skipped
        ("10.0.0.2", "6.6.6.6, 203.0.113.1, 10.0.0.9", ["10.0.0.0/8"], "203.0.113.1"),
        ("10.0.0.2", "10.0.0.8, 10.0.0.9", ["10.0.0.0/8"], "10.0.0.8"),  # all proxies
        ("10.0.0.2", "", ["10.0.0.0/8"], "10.0.0.2"),
        ("10.0.0.2", "garbage, 10.0.0.9", ["10.0.0.0/8"], "10.0.0.9"),  # garbage ends the walk
        ("10.0.0.2", "203.0.113.1:4711", ["10.0.0.0/8"], "203.0.113.1"),
        ("::1", "[2001:db8::5]:443", ["::1"], "2001:db8::5"),
        ("::ffff:10.0.0.2", "::ffff:203.0.113.1", ["10.0.0.0/8"], "203.0.113.1"),
    ],
)
def test_client_ip_walks_forwarded_for_only_through_trusted_proxies(
    settings: Any, remote: str, forwarded: str, trusted: list[str], expected: str
) -> None:
    settings.SIGAP_TRUSTED_PROXIES = trusted
    request = RequestFactory().get("/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == expected


def test_a_spoofed_forwarded_for_does_not_escape_the_anonymous_limit(
    client: Any, db: Any, rates: Any
) -> None:
    rates(anonymous="3/min")
    responses = [sign_in(client, f"203.0.113.{n}") for n in range(5)]
    assert [r.status_code for r in responses] == [400, 400, 400, 429, 429]
    assert responses[-1].json()["errors"][0]["code"] == "throttled"
    assert 0 < int(responses[-1]["Retry-After"]) <= 60


def test_behind_a_trusted_proxy_each_client_has_its_own_limit(
    client: Any, db: Any, rates: Any, settings: Any
) -> None:
    settings.SIGAP_TRUSTED_PROXIES = ["127.0.0.1/32"]
    rates(anonymous="3/min")
    # The client prepends made-up addresses; the proxy appends the one it saw.
    first = [sign_in(client, f"6.6.6.{n}, 198.51.100.7").status_code for n in range(4)]
    assert first == [400, 400, 400, 429]
    assert sign_in(client, "198.51.100.8").status_code == 400


def test_sign_in_lockout_and_request_log_use_the_same_client_ip(
    client: Any, db: Any, settings: Any, caplog: Any
) -> None:
    settings.SIGAP_TRUSTED_PROXIES = ["127.0.0.1/32"]
    with caplog.at_level(logging.INFO, logger="sigap.request"):
        response = sign_in(client, "6.6.6.6, 198.51.100.7", email="a@b.test", password="wrong")
    assert response.status_code == 401
    assert list(AccessAttempt.objects.values_list("ip_address", flat=True)) == ["198.51.100.7"]
    record = next(r for r in caplog.records if r.name == "sigap.request")
    assert record.client_ip == "198.51.100.7"


def test_without_trusted_proxies_the_lockout_ignores_forwarded_for(
    client: Any, db: Any, settings: Any
) -> None:
    for n in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, f"203.0.113.{n}", email="a@b.test", password="wrong")
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"127.0.0.1"}
    locked = sign_in(client, "203.0.113.200", email="a@b.test", password="wrong")
    assert locked.status_code == 429


# --- GraphQL --------------------------------------------------------------------------------
def graphql(client: Any, token: str | None = None) -> Any:
    extra = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    return client.post(
        "/graphql/",
        json.dumps({"query": "{ me { email } }"}),
        content_type="application/json",
        **extra,
    )


def test_anonymous_graphql_is_throttled_per_ip(client: Any, db: Any, rates: Any) -> None:
    rates(anonymous="3/min")
    responses = [graphql(client) for _ in range(4)]
    assert [r.status_code for r in responses] == [200, 200, 200, 429]
    refused = responses[-1]
    assert refused.json()["errors"][0]["extensions"]["code"] == "THROTTLED"
    assert refused.json()["data"] is None
    assert 0 < int(refused["Retry-After"]) <= 60


def test_graphql_is_throttled_per_user_sharing_the_rest_budget(
    client: Any, tenant: Any, members: dict[str, Any], rates: Any
) -> None:
    rates(principal="3/min")
    analyst, viewer = token_for(members["analyst"]), token_for(members["client"])
    rest = client.get(f"/api/v1/tenants/{tenant.slug}/", HTTP_AUTHORIZATION=f"Bearer {analyst}")
    assert rest.status_code == 200
    assert [graphql(client, analyst).status_code for _ in range(3)] == [200, 200, 429]
    body = graphql(client, analyst).json()
    assert body["errors"][0]["extensions"]["code"] == "THROTTLED"
    assert graphql(client, viewer).status_code == 200  # another user, another bucket


# --- atomic counting ------------------------------------------------------------------------
def get(url: str, token: str) -> int:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_fifty_parallel_requests_at_a_limit_of_ten_let_exactly_ten_through(
    live_server: Any, tenant: Any, members: dict[str, Any], rates: Any
) -> None:
    rates(principal="10/min")
    token = token_for(members["analyst"])
    target = f"{live_server.url}/api/v1/tenants/{tenant.slug}/"
    with ThreadPoolExecutor(max_workers=50) as pool:
        statuses = Counter(pool.map(lambda _: get(target, token), range(50)))
    assert statuses == {200: 10, 429: 40}


def test_a_window_restarts_after_its_period(db: Any) -> None:
    hits = [ratelimit.hit(key="t:restart", limit=1, period_s=1) for _ in range(2)]
    assert [h.allowed for h in hits] == [True, False]
    assert hits[1].retry_after_s == 1
    time.sleep(1.1)
    assert ratelimit.hit(key="t:restart", limit=1, period_s=1).allowed
    assert ratelimit.prune() == 0  # the restarted window is still running


def test_long_keys_are_hashed_not_truncated(db: Any) -> None:
    long_a, long_b = "a" * 300, "a" * 299 + "b"
    assert ratelimit.hit(key=long_a, limit=1, period_s=60).allowed
    assert ratelimit.hit(key=long_b, limit=1, period_s=60).allowed
    assert not ratelimit.hit(key=long_a, limit=1, period_s=60).allowed


@pytest.fixture
def redis_cache(settings: Any) -> Any:
    """A throwaway redis-server on 127.0.0.1 as the default cache (skipped without one)."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.05)
        settings.CACHES = {
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": f"redis://127.0.0.1:{port}/0",
            }
        }
        yield
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_redis_counts_fifty_parallel_hits_exactly(redis_cache: Any) -> None:
    def one(_: int) -> bool:
        return ratelimit.hit(key="t:redis", limit=10, period_s=60).allowed

    with ThreadPoolExecutor(max_workers=50) as pool:
        allowed = list(pool.map(one, range(50)))
    assert allowed.count(True) == 10
    refused = ratelimit.hit(key="t:redis", limit=10, period_s=60)
    assert refused.count == 51 and 0 < refused.retry_after_s <= 60
