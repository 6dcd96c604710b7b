"""Public fields of the evaluation, declared once (``tenants.fields.PublicFields``): the REST
serializers and the strawberry types come from here."""

from __future__ import annotations

from incidents.evaluation.models import (
    ClientReport,
    ReportSubscription,
    Review,
    ReviewActionItem,
    ReviewFeedback,
    ReviewLesson,
)
from tenants.fields import PublicFields

REVIEW = PublicFields(
    Review,
    (
        "id",
        "incident",
        "status",
        "summary",
        "created_by",
        "finalised_by",
        "finalised_at",
        "signed_off_by",
        "signed_off_at",
        "created_at",
        "updated_at",
    ),
    read_only=(
        "id",
        "status",
        "created_by",
        "finalised_by",
        "finalised_at",
        "signed_off_by",
        "signed_off_at",
        "created_at",
        "updated_at",
    ),
)
LESSON = PublicFields(
    ReviewLesson,
    ("id", "review", "kind", "text", "visible_to_client", "created_at"),
    read_only=("id", "created_at"),
    graphql_name="ReviewLesson",
)
ACTION_ITEM = PublicFields(
    ReviewActionItem,
    ("id", "review", "title", "owner", "due_at", "status", "visible_to_client", "created_at"),
    read_only=("id", "created_at"),
    graphql_name="ReviewActionItem",
)
FEEDBACK = PublicFields(
    ReviewFeedback,
    ("id", "review", "participant", "rating", "comment", "created_at"),
    read_only=("id", "created_at"),
    graphql_name="ReviewFeedback",
)
SUBSCRIPTION = PublicFields(
    ReportSubscription,
    ("id", "frequency", "recipients", "is_active", "last_period_start", "created_at", "updated_at"),
    read_only=("id", "last_period_start", "created_at", "updated_at"),
)
REPORT = PublicFields(
    ClientReport,
    ("id", "frequency", "period_start", "period_end", "data", "created_at", "emailed_at"),
    read_only=("id", "frequency", "period_start", "period_end", "data", "created_at", "emailed_at"),
)
