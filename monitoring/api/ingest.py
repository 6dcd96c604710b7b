"""Endpoints that bring mentions in: the ingest API, signed webhooks and file uploads.

Each only validates and stores the batch durably (``monitoring.services.accept_items``) and
answers 202 with the batch id and per-item rejections; workers do the rest.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    extend_schema,
    inline_serializer,
)
from rest_framework import exceptions, permissions, serializers, status
from rest_framework.parsers import BaseParser, FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from monitoring import services, uploads
from monitoring.api import webhooks
from monitoring.choices import SourceKind, SourceStatus
from monitoring.ingest import (
    EXAMPLE_ITEMS,
    MAX_BYTES,
    MAX_ITEMS,
    REQUIRED_FIELDS,
    BodyError,
    item_schema,
    parse_body,
)
from monitoring.models import IngestBatch, Source, WebhookDelivery
from tenants import dbscope
from tenants.api import errors
from tenants.api.base import TenantScopedAPIView
from tenants.models import Tenant
from tenants.roles import Cap

SIGNATURE_TOLERANCE_S = 300
UNIX_SECONDS = re.compile(r"[0-9]{1,12}")

BatchAccepted = inline_serializer(
    "BatchAccepted",
    {
        "batch_id": serializers.IntegerField(),
        "accepted": serializers.IntegerField(),
        "rejected": serializers.ListField(
            child=inline_serializer(
                "RejectedItem",
                {
                    "index": serializers.IntegerField(),
                    "field": serializers.CharField(),
                    "message": serializers.CharField(),
                },
            )
        ),
    },
)


def document_ingest_item(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """Postprocessing hook: the ``IngestItem`` component the ingest bodies refer to."""
    result.setdefault("components", {}).setdefault("schemas", {})["IngestItem"] = item_schema()
    return result


class RawBodyParser(BaseParser):
    """Leaves the body to the view, which reads JSON arrays and NDJSON itself."""

    media_type = "*/*"

    def parse(self, stream: Any, media_type: Any = None, parser_context: Any = None) -> Any:
        return None


def accepted(batch: IngestBatch) -> Response:
    return Response(
        {"batch_id": batch.pk, "accepted": batch.item_count, "rejected": batch.rejected},
        status=status.HTTP_202_ACCEPTED,
    )


# What ``read_items`` may refuse (``monitoring.ingest.BodyError``).
BODY_ERRORS = (errors.BODY_UNREADABLE, errors.TOO_MANY_ITEMS, errors.NESTED_TOO_DEEPLY)


def read_items(request: Request) -> list[Any]:
    try:
        return parse_body(request.body, request.content_type or "")
    except BodyError as exc:
        raise exceptions.ParseError(exc.message, code=exc.code) from None


# The request body of the ingest API and of webhooks: items (the ``IngestItem`` component,
# ``monitoring.ingest.item_schema``) as a JSON array (or one item alone), or NDJSON, one item
# per line.
ITEM_REF = {"$ref": "#/components/schemas/IngestItem"}
ITEMS_BODY = {
    "application/json": {
        "oneOf": [{"type": "array", "items": ITEM_REF, "maxItems": MAX_ITEMS}, ITEM_REF]
    },
    "application/x-ndjson": {
        "type": "string",
        "description": "One item (the JSON object above) per line.",
    },
}
ITEMS_EXAMPLES = [
    OpenApiExample(
        "JSON array",
        value=EXAMPLE_ITEMS,
        media_type="application/json",
        request_only=True,
    ),
    OpenApiExample(
        "NDJSON",
        value="".join(json.dumps(item) + "\n" for item in EXAMPLE_ITEMS),
        media_type="application/x-ndjson",
        request_only=True,
    ),
]


@extend_schema(
    tags=["ingest"],
    request=ITEMS_BODY,
    examples=ITEMS_EXAMPLES,
    responses={202: BatchAccepted},
    description=(
        f"Send up to {MAX_ITEMS:,} mentions (10 MB) as a JSON array or NDJSON (one item per "
        f"line). Required in each item: {', '.join(REQUIRED_FIELDS)}. Authenticate with the "
        "tenant's machine key (`Authorization: Api-Key <key>`) or a personal token. Answers 202 "
        "with the batch id; rejected items name their index, field and reason."
    ),
)
class IngestView(TenantScopedAPIView):
    parser_classes = [RawBodyParser]
    guards_own_json = True  # parse_body refuses bad values item by item
    capabilities = {"post": Cap.INGEST}
    error_codes = {"post": BODY_ERRORS}
    max_request_bytes = MAX_BYTES

    def post(self, request: Request, tenant_slug: str) -> Response:
        return accepted(services.accept_items(tenant=self.tenant, objects=read_items(request)))


def expected_signature(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


@extend_schema(
    tags=["ingest"],
    auth=[],
    request={"application/json": ITEMS_BODY["application/json"]},
    parameters=[
        OpenApiParameter("X-Sigap-Timestamp", str, OpenApiParameter.HEADER, required=True),
        OpenApiParameter("X-Sigap-Delivery", str, OpenApiParameter.HEADER, required=True),
        OpenApiParameter(
            "X-Sigap-Signature",
            str,
            OpenApiParameter.HEADER,
            required=True,
            description='"sha256=" + hex HMAC-SHA256(secret, timestamp + "." + raw body)',
        ),
    ],
    responses={
        202: BatchAccepted,
        200: BatchAccepted,
    },
    description=(
        "A signed webhook: no credentials, the signature proves the sender. Timestamps more than "
        "300 s off are refused; a repeated delivery id answers 200 and stores nothing again; a "
        "signature already used with another delivery id answers 409 `replayed_signature`. "
        "An unknown source and a bad signature get the same 401. Rate limits: per source for "
        "valid deliveries, per source and client IP for refused ones (429 with Retry-After)."
    ),
)
class WebhookView(APIView):
    authentication_classes: list[Any] = []
    permission_classes = [permissions.AllowAny]
    error_codes = {"post": (*BODY_ERRORS, errors.SOURCE_PAUSED, errors.REPLAYED_SIGNATURE)}
    # Declared for the schema (429); they count only when ``post`` hands them the key, which
    # depends on the signature's validity (monitoring.api.webhooks).
    throttle_classes = [webhooks.ValidWebhookThrottle, webhooks.InvalidWebhookThrottle]
    parser_classes = [RawBodyParser]
    guards_own_json = True  # parse_body refuses bad values item by item
    max_request_bytes = MAX_BYTES

    def post(self, request: Request, tenant_slug: str, source_id: int) -> Response:
        source = self.find_source(tenant_slug, source_id)
        body = request.body
        try:
            self.verify(request, source, body)
        except exceptions.AuthenticationFailed:
            webhooks.count_refusal(request, tenant_slug, source_id)
            raise
        if source is None:  # verify already refused it; this keeps the type checker informed
            raise exceptions.AuthenticationFailed("Bad signature.")
        delivery = request.headers["X-Sigap-Delivery"]
        if webhooks.admit(request, source, tenant_slug, delivery):
            return self.repeat(source, delivery)
        if source.status == SourceStatus.PAUSED or not source.tenant.is_active:
            raise exceptions.PermissionDenied(
                gettext(errors.SOURCE_PAUSED.detail), code=errors.SOURCE_PAUSED.code
            )
        deliveries = WebhookDelivery.objects.for_tenant(source.tenant_id)
        if deliveries.filter(source=source, delivery_id=delivery).exists():
            webhooks.claim(request, source, delivery, SIGNATURE_TOLERANCE_S)  # re-signed retry
            return self.repeat(source, delivery)
        objects = read_items(request)
        try:
            with transaction.atomic():
                if not webhooks.claim(request, source, delivery, SIGNATURE_TOLERANCE_S):
                    raise webhooks.ReplayedSignature()
                record = WebhookDelivery.objects.create(
                    tenant=source.tenant, source=source, delivery_id=delivery
                )
                batch = services.accept_items(tenant=source.tenant, objects=objects, source=source)
                record.batch = batch
                record.save(update_fields=["batch"])
        except IntegrityError:  # the same delivery arrived twice at once; the other one won
            return self.repeat(source, delivery)
        return accepted(batch)

    @staticmethod
    def find_source(tenant_slug: str, source_id: int) -> Source | None:
        """The URL's webhook source. The delivery is unauthenticated until its signature is
        checked against this source's secret: the database scope is the URL's tenant, the only
        one whose rows the request may touch (and it answers alike whether that exists)."""
        tenant = Tenant.objects.filter(slug=tenant_slug).first()
        if tenant is None:
            return None
        dbscope.set_entry_scope(dbscope.tenants([tenant.pk]))
        source = (
            Source.objects.for_tenant(tenant).filter(pk=source_id, kind=SourceKind.WEBHOOK).first()
        )
        if source is not None:
            source.tenant = tenant
        return source

    @staticmethod
    def repeat(source: Source, delivery: str) -> Response:
        previous = (
            WebhookDelivery.objects.for_tenant(source.tenant_id)
            .filter(source=source, delivery_id=delivery)
            .first()
        )
        batch = (
            IngestBatch.objects.for_tenant(source.tenant_id).filter(pk=previous.batch_id).first()
            if previous is not None and previous.batch_id is not None
            else None
        )
        body: dict[str, Any] = {
            "batch_id": batch.pk if batch else None,
            "accepted": 0,
            "rejected": [],
        }
        return Response({**body, "duplicate": True}, status=status.HTTP_200_OK)

    @staticmethod
    def verify(request: Request, source: Source | None, body: bytes) -> None:
        timestamp = request.headers.get("X-Sigap-Timestamp", "")
        signature = request.headers.get("X-Sigap-Signature", "")
        delivery = request.headers.get("X-Sigap-Delivery", "")
        # ASCII digits only: str.isdigit() and int() also take other scripts' digits.
        if not UNIX_SECONDS.fullmatch(timestamp):
            raise exceptions.AuthenticationFailed("X-Sigap-Timestamp must be Unix seconds.")
        if abs(time.time() - int(timestamp)) > SIGNATURE_TOLERANCE_S:
            raise exceptions.AuthenticationFailed("X-Sigap-Timestamp is more than 300 s off.")
        if not delivery or len(delivery) > 200:
            raise exceptions.AuthenticationFailed("X-Sigap-Delivery must be 1-200 characters.")
        secret = source.webhook_secret if source is not None else webhooks.UNKNOWN_SOURCE_SECRET
        expected = expected_signature(secret, timestamp, body)
        if not hmac.compare_digest(expected.encode(), signature.encode()) or source is None:
            raise exceptions.AuthenticationFailed("Bad signature.")

    def get_authenticate_header(self, request: Request) -> str:
        return 'Signature realm="webhook"'


@extend_schema(
    tags=["ingest"],
    request={
        "multipart/form-data": inline_serializer(
            "Upload",
            {
                "file": serializers.FileField(),
                "format": serializers.ChoiceField(choices=uploads.FORMATS, required=False),
                "mapping": serializers.JSONField(required=False),
            },
        )
    },
    responses={202: BatchAccepted},
    description=(
        "Upload a CSV, JSON or NDJSON export from another listening tool (10 MB). `mapping` maps "
        f'item fields to columns, e.g. {json.dumps(uploads.EXAMPLE_MAPPING)} ("=" gives a '
        "constant); it defaults to the source's configured mapping. Without an `external_id` "
        "column each row gets an id derived from its values, so uploading the same file again "
        "adds nothing twice."
    ),
)
class UploadView(TenantScopedAPIView):
    parser_classes = [MultiPartParser, FormParser]
    capabilities = {"post": Cap.INGEST}
    error_codes = {"post": (errors.UPLOAD_FILE, errors.UPLOAD_FORMAT, errors.UPLOAD_MAPPING)}
    max_request_bytes = MAX_BYTES + 64 * 1024

    def post(self, request: Request, tenant_slug: str, source_id: int) -> Response:
        source = Source.objects.for_tenant(self.tenant).filter(pk=source_id).first()
        if source is None:
            raise exceptions.NotFound("No such source.")
        upload = request.FILES.get("file")
        if upload is None:
            raise exceptions.ValidationError({"file": "Attach the export as 'file'."})
        form: Any = request.data
        mapping = form.get("mapping") or source.config.get("mapping") or {}
        try:
            objects = uploads.read_export(
                upload.read(),
                name=upload.name or "",
                format=form.get("format") or None,
                mapping=mapping,
                time_zone=self.tenant.time_zone,
            )
        except uploads.UploadError as exc:
            raise exceptions.ValidationError({exc.field: exc.message}) from None
        return accepted(services.accept_items(tenant=self.tenant, objects=objects, source=source))
