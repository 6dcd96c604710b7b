"""What openapi.yaml tells a newcomer about bringing mentions in holds: the ingest item's
documented schema is the one ``validate_item`` checks, its examples (JSON array and NDJSON) are
accepted as they are, and the documented upload mapping imports an export's rows."""

from __future__ import annotations

import json
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile

from monitoring import uploads
from monitoring.choices import Platform
from monitoring.ingest import (
    AUTHOR_FIELDS,
    ENGAGEMENT_FIELDS,
    ITEM_FIELDS,
    REQUIRED_FIELDS,
    IngestItem,
    validate_item,
)
from monitoring.models import IngestChunk, Source
from tenants import services as tenant_services
from tests.openapi_spec import openapi_spec


def spec() -> dict[str, Any]:
    return openapi_spec()


def ingest_operation() -> dict[str, Any]:
    return spec()["paths"]["/api/v1/tenants/{tenant_slug}/ingest/"]["post"]


def test_the_item_schema_is_the_one_validated() -> None:
    item = spec()["components"]["schemas"]["IngestItem"]
    assert set(item["properties"]) == ITEM_FIELDS == set(IngestItem.__annotations__)
    assert set(item["properties"]["author"]["properties"]) == AUTHOR_FIELDS
    assert tuple(item["properties"]["engagement"]["properties"]) == ENGAGEMENT_FIELDS
    assert item["properties"]["platform"]["enum"] == sorted(Platform.values)
    assert item["additionalProperties"] is False
    assert item["required"] == list(REQUIRED_FIELDS)
    # Each required field, left out, rejects the item naming it.
    example = ingest_operation()["requestBody"]["content"]["application/json"]["examples"]
    full = example["JSONArray"]["value"][0]
    for name in REQUIRED_FIELDS:
        try:
            validate_item({key: value for key, value in full.items() if key != name})
        except Exception as exc:  # noqa: BLE001 - validate_item's own refusal
            assert getattr(exc, "field", None) == name
        else:
            raise AssertionError(f"{name} is documented as required but was not")


def test_both_documented_bodies_are_accepted_as_they_are(client: Any, tenant: Any) -> None:
    _, key = tenant_services.create_api_key(tenant=tenant, name="crawler")
    content = ingest_operation()["requestBody"]["content"]
    for media_type in ("application/json", "application/x-ndjson"):
        (example,) = content[media_type]["examples"].values()
        value = example["value"]
        body = value if isinstance(value, str) else json.dumps(value)
        response = client.post(
            f"/api/v1/tenants/{tenant.slug}/ingest/",
            body,
            content_type=media_type,
            HTTP_AUTHORIZATION=f"Api-Key {key}",
        )
        assert response.status_code == 202, (media_type, response.content)
        assert response.json()["rejected"] == [], media_type
        assert response.json()["accepted"] == 2, media_type


def test_the_documented_upload_mapping_imports_the_rows(
    api: Any, tenant: Any, members: dict[str, Any]
) -> None:
    operation = spec()["paths"]["/api/v1/tenants/{tenant_slug}/sources/{source_id}/upload/"]
    assert json.dumps(uploads.EXAMPLE_MAPPING) in " ".join(operation["post"]["description"].split())
    source = Source.objects.create(tenant=tenant, kind="upload", name="Export")
    export = (
        "Content,Date,Author\n"
        "Kopi Senja mantap,2026-11-20 08:15:00,@budi\n"
        "Antrean panjang di Kemang,2026-11-20 08:16:00,ayu\n"
    )

    def upload() -> Any:
        return api(members["analyst"]).post(
            f"/api/v1/tenants/{tenant.slug}/sources/{source.pk}/upload/",
            {
                "file": SimpleUploadedFile("export.csv", export.encode()),
                "mapping": json.dumps(uploads.EXAMPLE_MAPPING),
            },
            format="multipart",
        )

    response = upload()
    assert response.status_code == 202, response.content
    assert response.json()["rejected"] == []
    assert response.json()["accepted"] == 2
    stored = IngestChunk.objects.for_tenant(tenant).get().items
    assert [row["text"] for row in stored] == ["Kopi Senja mantap", "Antrean panjang di Kemang"]
    assert [row["author"]["handle"] for row in stored] == ["budi", "ayu"]
    ids = [row["external_id"] for row in stored]
    assert len(set(ids)) == 2 and all(value.startswith("upload-") for value in ids)
    # The same export again: the same derived ids (nothing is imported twice).
    upload()
    again = IngestChunk.objects.for_tenant(tenant).order_by("-pk").first()
    assert again is not None and [row["external_id"] for row in again.items] == ids
