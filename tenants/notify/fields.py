"""Public fields of notifications (``tenants.fields.PublicFields``): REST serializers, GraphQL
types and the services' writable lists come from here. Secrets (``secret``,
``signing_secret``) are never among them: REST and the admin take them write-only, GraphQL
never shows them."""

from __future__ import annotations

from tenants.fields import PublicFields
from tenants.models import Channel, Delivery, OnCallShift, QuietHours

CHANNEL = PublicFields(
    Channel,
    (
        "id",
        "name",
        "kind",
        "enabled",
        "target",
        "options",
        "has_secret",
        "last_success_at",
        "last_error",
        "last_error_at",
        "created_at",
        "updated_at",
    ),
    read_only=(
        "id",
        "has_secret",
        "last_success_at",
        "last_error",
        "last_error_at",
        "created_at",
        "updated_at",
    ),
)
CHANNEL_SECRETS = ("secret", "signing_secret")

_DELIVERY_NAMES = (
    "id",
    "key",
    "kind",
    "channel",
    "user",
    "recipient",
    "event_type",
    "subject_ref",
    "title",
    "status",
    "attempts",
    "next_attempt_at",
    "last_error",
    "response_status",
    "created_at",
    "sent_at",
)
DELIVERY = PublicFields(Delivery, _DELIVERY_NAMES, read_only=_DELIVERY_NAMES)

ON_CALL_SHIFT = PublicFields(
    OnCallShift,
    ("id", "user", "starts_at", "ends_at", "note", "created_at"),
    read_only=("id", "created_at"),
)

QUIET_HOURS = PublicFields(
    QuietHours, ("id", "user", "starts", "ends", "created_at"), read_only=("id", "created_at")
)
