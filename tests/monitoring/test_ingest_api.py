"""The ingest API, signed webhooks and file uploads over HTTP."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from monitoring.api.ingest import expected_signature
from monitoring.models import IngestBatch, IngestChunk, Source, WebhookDelivery
from tenants import services as tenant_services
from tests.monitoring.test_pipeline import item
from tests.webhooks import post_hook


def ingest_url(tenant: Any) -> str:
    return f"/api/v1/tenants/{tenant.slug}/ingest/"


def test_machine_key_ingests_json_array(client: Any, tenant: Any) -> None:
    _, key = tenant_services.create_api_key(tenant=tenant, name="crawler")
    body = [item(1), item(2, published_at="not a date"), item(3)]
    response = client.post(
        ingest_url(tenant),
        json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Api-Key {key}",
    )
    assert response.status_code == 202, response.content
    data = response.json()
    assert data["accepted"] == 2
    assert data["rejected"] == [
        {
            "index": 1,
            "field": "published_at",
            "message": "'not a date' is not an ISO-8601 date-time.",
        }
    ]
    batch = IngestBatch.objects.get(pk=data["batch_id"])
    assert batch.tenant == tenant and IngestChunk.objects.filter(batch=batch).count() == 1


def test_ndjson_with_a_broken_line_keeps_the_rest(
    api: Any, tenant: Any, members: dict[str, Any]
) -> None:
    lines = "\n".join([json.dumps(item(1)), "{broken", json.dumps(item(2))])
    response = api(members["analyst"]).post(
        ingest_url(tenant), lines, content_type="application/x-ndjson"
    )
    assert response.status_code == 202
    assert response.json()["accepted"] == 2
    assert response.json()["rejected"][0]["index"] == 1


@pytest.mark.parametrize(
    ("body", "code"),
    [("{not json", "parse_error"), ('"a string"', "parse_error"), ("", "parse_error")],
)
def test_unreadable_bodies_are_400(
    api: Any, tenant: Any, members: dict[str, Any], body: str, code: str
) -> None:
    response = api(members["analyst"]).post(
        ingest_url(tenant), body, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == code
    assert not IngestBatch.objects.exists()


def test_too_many_items_and_too_many_bytes(api: Any, tenant: Any, members: dict[str, Any]) -> None:
    client = api(members["analyst"])
    many = client.post(
        ingest_url(tenant), json.dumps([{}] * 10_001), content_type="application/json"
    )
    assert many.status_code == 400 and many.json()["errors"][0]["code"] == "too_many_items"
    huge = client.post(
        ingest_url(tenant), b"[" + b" " * (10 * 1024 * 1024) + b"]", content_type="application/json"
    )
    assert huge.status_code == 413


def test_a_key_of_another_tenant_is_404(client: Any, tenant: Any, other_tenant: Any) -> None:
    _, key = tenant_services.create_api_key(tenant=other_tenant, name="theirs")
    response = client.post(
        ingest_url(tenant),
        json.dumps([item(1)]),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Api-Key {key}",
    )
    assert response.status_code == 404
    assert not IngestBatch.objects.exists()


# --- signed webhooks ------------------------------------------------------------------------
@pytest.fixture
def hook(tenant: Any) -> Source:
    return Source.objects.create(tenant=tenant, kind="webhook", name="Brand24 export")


def test_signed_webhook_is_accepted_once(client: Any, hook: Source) -> None:
    body = json.dumps([item(1), item(2)]).encode()
    first = post_hook(client, hook, body)
    assert first.status_code == 202 and first.json()["accepted"] == 2
    again = post_hook(client, hook, body)
    assert again.status_code == 200 and again.json()["duplicate"] is True
    assert again.json()["batch_id"] == first.json()["batch_id"]
    assert IngestBatch.objects.count() == 1 and WebhookDelivery.objects.count() == 1
    hook.refresh_from_db()
    assert (hook.received_count, hook.accepted_count) == (2, 2)


@pytest.mark.parametrize(
    "tamper",
    ["secret", "body", "old", "future"],
)
def test_bad_signatures_and_stale_timestamps_are_401_and_store_nothing(
    client: Any, hook: Source, tamper: str
) -> None:
    body = json.dumps([item(1)]).encode()
    if tamper == "secret":
        response = post_hook(client, hook, body, secret="wrong")
    elif tamper == "body":
        stamp = str(int(time.time()))
        response = client.post(
            f"/api/v1/tenants/{hook.tenant.slug}/sources/{hook.pk}/webhook/",
            body + b" ",
            content_type="application/json",
            HTTP_X_SIGAP_TIMESTAMP=stamp,
            HTTP_X_SIGAP_DELIVERY="x",
            HTTP_X_SIGAP_SIGNATURE=expected_signature(hook.webhook_secret, stamp, body),
        )
    else:
        # A future stamp needs a margin: the clock moves on between signing and checking (a
        # loaded machine took over a second), which shrinks the distance of a future stamp.
        offset = -301 if tamper == "old" else 360
        response = post_hook(client, hook, body, ts=int(time.time()) + offset)
    assert response.status_code == 401
    assert not IngestBatch.objects.exists() and not WebhookDelivery.objects.exists()


# Unknown and foreign sources: tests/monitoring/test_webhook_hardening.py (one answer for all).


# --- file uploads ---------------------------------------------------------------------------
def test_csv_export_with_a_column_mapping(api: Any, tenant: Any, members: dict[str, Any]) -> None:
    source = Source.objects.create(tenant=tenant, kind="upload", name="Export")
    csv_text = (
        "Id,Content,Date,Author,Followers\n"
        'a1,Kopi Senja mantap,2026-11-20 08:15:00,budi,"1,200"\n'
        "a2,,2026-11-20 08:16:00,ayu,10\n"
    )
    mapping = {
        "external_id": "Id",
        "text": "Content",
        "published_at": "Date",
        "author.handle": "Author",
        "author.followers": "Followers",
        "platform": "=x",
    }
    response = api(members["analyst"]).post(
        f"/api/v1/tenants/{tenant.slug}/sources/{source.pk}/upload/",
        {
            "file": SimpleUploadedFile("export.csv", csv_text.encode()),
            "mapping": json.dumps(mapping),
        },
        format="multipart",
    )
    assert response.status_code == 202, response.content
    assert response.json()["accepted"] == 1
    assert response.json()["rejected"] == [
        {
            "index": 1,
            "field": "text",
            "message": "This field is required and must be a non-empty string.",
        }
    ]
    stored = IngestChunk.objects.get().items[0]
    assert stored["author"]["followers"] == 1200
    assert stored["published_at"] == "2026-11-20T01:15:00+00:00"  # Asia/Jakarta local time


def test_upload_mapping_errors_name_the_field(
    api: Any, tenant: Any, members: dict[str, Any]
) -> None:
    source = Source.objects.create(tenant=tenant, kind="upload", name="Export")
    response = api(members["analyst"]).post(
        f"/api/v1/tenants/{tenant.slug}/sources/{source.pk}/upload/",
        {"file": SimpleUploadedFile("e.csv", b"Id,Text\n1,x\n"), "mapping": '{"text": "Content"}'},
        format="multipart",
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "mapping"
