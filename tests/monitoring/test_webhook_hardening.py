"""Signed webhooks under attack: one answer for whatever does not exist, replays refused (also in
parallel), and rate limits keyed on the source and the signature's validity."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from monitoring.api.ingest import expected_signature
from monitoring.models import IngestBatch, Source, WebhookDelivery, WebhookSignature
from tenants.throttling import AtomicRateThrottle
from tests.monitoring.test_pipeline import item
from tests.webhooks import signed_headers
from tests.webhooks import webhook_url as url


@pytest.fixture
def hook(tenant: Any) -> Source:
    return Source.objects.create(tenant=tenant, kind="webhook", name="Brand24 export")


def post(client: Any, path: str, body: bytes, headers: dict, ip: str = "127.0.0.1") -> Any:
    return client.post(path, body, content_type="application/json", REMOTE_ADDR=ip, **headers)


def body_of(n: int) -> bytes:
    return json.dumps([item(n)]).encode()


# --- one answer for unknown tenants, unknown sources, other tenants' sources, bad signatures -
def test_unknown_foreign_and_badly_signed_get_the_same_answer(
    client: Any, hook: Source, other_tenant: Any
) -> None:
    foreign = Source.objects.create(tenant=other_tenant, kind="webhook", name="theirs")
    body = body_of(1)
    answers = {
        "unknown tenant": post(
            client,
            url("no-such-agency-client", hook.pk),
            body,
            signed_headers(hook.webhook_secret, body, delivery="a"),
        ),
        "unknown source": post(
            client,
            url(hook.tenant.slug, 999_999),
            body,
            signed_headers(hook.webhook_secret, body, delivery="b"),
        ),
        "other tenant's source": post(
            client,
            url(hook.tenant.slug, foreign.pk),
            body,
            signed_headers(foreign.webhook_secret, body, delivery="c"),
        ),
        "bad signature": post(
            client,
            url(hook.tenant.slug, hook.pk),
            body,
            signed_headers("not-the-secret", body, delivery="d"),
        ),
    }
    shapes = {
        name: (r.status_code, r.content, r.headers.get("WWW-Authenticate"))
        for name, r in answers.items()
    }
    assert len(set(shapes.values())) == 1, shapes
    status, content, _ = shapes["bad signature"]
    assert status == 401
    assert json.loads(content)["errors"][0]["code"] == "authentication_failed"
    assert not WebhookDelivery.objects.exists() and not IngestBatch.objects.exists()


def test_missing_headers_get_the_same_answer_for_unknown_and_known_sources(
    client: Any, hook: Source
) -> None:
    known = client.post(url(hook.tenant.slug, hook.pk), b"[]", content_type="application/json")
    unknown = client.post(url("nobody", 424242), b"[]", content_type="application/json")
    assert known.status_code == unknown.status_code == 401
    assert known.content == unknown.content


# --- replays --------------------------------------------------------------------------------
def test_the_documented_signing_format_is_accepted(client: Any, hook: Source) -> None:
    body = body_of(1)
    stamp = str(int(time.time()))
    digest = hmac.new(hook.webhook_secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256)
    response = post(
        client,
        url(hook.tenant.slug, hook.pk),
        body,
        {
            "HTTP_X_SIGAP_TIMESTAMP": stamp,
            "HTTP_X_SIGAP_DELIVERY": "readme",
            "HTTP_X_SIGAP_SIGNATURE": f"sha256={digest.hexdigest()}",
        },
    )
    assert response.status_code == 202, response.content


def test_a_captured_delivery_resent_with_a_new_delivery_id_is_refused(
    client: Any, hook: Source
) -> None:
    body = body_of(1)
    captured = signed_headers(hook.webhook_secret, body, delivery="d-1")
    path = url(hook.tenant.slug, hook.pk)
    assert post(client, path, body, captured).status_code == 202
    replay = post(client, path, body, {**captured, "HTTP_X_SIGAP_DELIVERY": "d-2"})
    assert replay.status_code == 409
    assert replay.json()["errors"][0]["code"] == "replayed_signature"
    assert IngestBatch.objects.count() == 1 and WebhookDelivery.objects.count() == 1
    # The sender's own retry of d-1 (same signature) is still the harmless repeat it was.
    retry = post(client, path, body, captured)
    assert retry.status_code == 200 and retry.json()["duplicate"] is True


def test_a_re_signed_retry_cannot_be_replayed_as_a_new_delivery(client: Any, hook: Source) -> None:
    body = body_of(1)
    path = url(hook.tenant.slug, hook.pk)
    now = int(time.time())
    assert (
        post(
            client,
            path,
            body,
            signed_headers(hook.webhook_secret, body, delivery="d-1", ts=now - 5),
        ).status_code
        == 202
    )
    retry = signed_headers(hook.webhook_secret, body, delivery="d-1", ts=now)
    assert post(client, path, body, retry).status_code == 200
    replay = post(client, path, body, {**retry, "HTTP_X_SIGAP_DELIVERY": "d-9"})
    assert replay.status_code == 409
    assert IngestBatch.objects.count() == 1


def test_different_deliveries_signed_in_the_same_second_are_both_stored(
    client: Any, hook: Source
) -> None:
    path = url(hook.tenant.slug, hook.pk)
    now = int(time.time())
    for n in (1, 2):
        body = body_of(n)
        headers = signed_headers(hook.webhook_secret, body, delivery=f"d-{n}", ts=now)
        assert post(client, path, body, headers).status_code == 202
    assert WebhookDelivery.objects.count() == 2


def send(base: str, path: str, body: bytes, headers: dict[str, str]) -> int:
    request = urllib.request.Request(base + path, data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_parallel_replays_store_the_delivery_once(live_server: Any, hook: Source) -> None:
    body = body_of(1)
    stamp = str(int(time.time()))
    signature = expected_signature(hook.webhook_secret, stamp, body)
    path = url(hook.tenant.slug, hook.pk)

    def one(n: int) -> int:
        headers = {
            "Content-Type": "application/json",
            "X-Sigap-Timestamp": stamp,
            "X-Sigap-Delivery": f"parallel-{n}",
            "X-Sigap-Signature": signature,
        }
        return send(live_server.url, path, body, headers)

    with ThreadPoolExecutor(max_workers=12) as pool:
        statuses = list(pool.map(one, range(12)))
    assert sorted(statuses) == [202] + [409] * 11, statuses
    assert WebhookDelivery.objects.count() == 1 and IngestBatch.objects.count() == 1
    assert WebhookSignature.objects.count() == 1


def test_signatures_are_kept_while_their_timestamp_is_accepted_then_pruned(
    client: Any, hook: Source
) -> None:
    from datetime import UTC, datetime, timedelta

    from monitoring.tasks import prune_webhook_signatures

    path = url(hook.tenant.slug, hook.pk)
    signed_at = int(time.time()) - 100
    for n in (1, 2):
        body = body_of(n)
        headers = signed_headers(hook.webhook_secret, body, delivery=f"d-{n}", ts=signed_at)
        assert post(client, path, body, headers).status_code == 202
    until = datetime.fromtimestamp(signed_at, tz=UTC) + timedelta(seconds=300)
    assert set(WebhookSignature.objects.values_list("expires_at", flat=True)) == {until}
    assert prune_webhook_signatures() == 0
    WebhookSignature.objects.filter(delivery_id="d-1").update(
        expires_at=datetime.now(tz=UTC) - timedelta(seconds=1)
    )
    assert prune_webhook_signatures() == 1
    assert list(WebhookSignature.objects.values_list("delivery_id", flat=True)) == ["d-2"]


# --- rate limits keyed on the source and the signature's validity ---------------------------
@pytest.fixture
def low_limits(monkeypatch: Any) -> None:
    rates = AtomicRateThrottle.THROTTLE_RATES
    monkeypatch.setitem(rates, "anonymous", "3/min")
    monkeypatch.setitem(rates, "webhook_invalid", "3/min")
    monkeypatch.setitem(rates, "webhook", "5/min")


@pytest.mark.usefixtures("low_limits")
def test_junk_from_the_senders_own_address_does_not_lock_the_sender_out(
    client: Any, hook: Source
) -> None:
    path = url(hook.tenant.slug, hook.pk)
    junk = body_of(99)
    statuses = [
        post(client, path, junk, signed_headers("guess", junk, delivery=f"j-{n}")).status_code
        for n in range(6)
    ]
    assert statuses == [401, 401, 401, 429, 429, 429]
    for n in range(3):  # the real sender, through the same NAT or proxy address
        body = body_of(n)
        headers = signed_headers(hook.webhook_secret, body, delivery=f"real-{n}")
        assert post(client, path, body, headers).status_code == 202


@pytest.mark.usefixtures("low_limits")
def test_replays_of_a_captured_delivery_count_against_the_replayer(
    client: Any, hook: Source
) -> None:
    path = url(hook.tenant.slug, hook.pk)
    body = body_of(1)
    captured = signed_headers(hook.webhook_secret, body, delivery="d-1")
    assert post(client, path, body, captured, ip="192.0.2.1").status_code == 202
    replays = [
        post(client, path, body, {**captured, "HTTP_X_SIGAP_DELIVERY": f"r-{n}"}, ip="198.51.100.9")
        for n in range(8)
    ]
    assert [r.status_code for r in replays] == [409] * 3 + [429] * 5
    assert int(replays[-1]["Retry-After"]) > 0
    for n in range(2, 6):  # the sender's budget (5/min) is untouched by the replays
        fresh = body_of(n)
        headers = signed_headers(hook.webhook_secret, fresh, delivery=f"d-{n}")
        assert post(client, path, fresh, headers, ip="192.0.2.1").status_code == 202


@pytest.mark.usefixtures("low_limits")
def test_valid_deliveries_are_limited_per_source(client: Any, hook: Source, tenant: Any) -> None:
    other = Source.objects.create(tenant=tenant, kind="webhook", name="Second feed")
    statuses = []
    for n in range(6):
        body = body_of(n)
        headers = signed_headers(hook.webhook_secret, body, delivery=f"d-{n}")
        statuses.append(post(client, url(tenant.slug, hook.pk), body, headers).status_code)
    assert statuses == [202] * 5 + [429]
    body = body_of(7)
    headers = signed_headers(other.webhook_secret, body, delivery="d-7")
    assert post(client, url(tenant.slug, other.pk), body, headers).status_code == 202
