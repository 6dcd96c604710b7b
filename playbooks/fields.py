"""Public fields of the playbooks app, declared once (``tenants.fields.PublicFields``)."""

from __future__ import annotations

from playbooks.models import AnswerWidget, CannedAnswer, Playbook
from tenants.fields import PublicFields

PLAYBOOK = PublicFields(
    Playbook,
    (
        "id",
        "owner",
        "name",
        "description",
        "language",
        "trigger_types",
        "min_severity",
        "tags",
        "do_guidance",
        "dont_guidance",
        "key_messages",
        "is_active",
        "steps",
        "version",
        "starter_key",
        "created_at",
        "updated_at",
    ),
    read_only=("id", "version", "starter_key", "created_at", "updated_at"),
)


# --- canned answers and the chat widget (issue 16) ---
CANNED_ANSWER = PublicFields(
    CannedAnswer,
    (
        "id",
        "question",
        "answer",
        "language",
        "status",
        "usage_count",
        "approved_by",
        "approved_at",
        "created_at",
        "updated_at",
    ),
    read_only=("id", "usage_count", "approved_by", "approved_at", "created_at", "updated_at"),
)
# What the public chat widget shows of an answer (never who approved it or how often it is used).
WIDGET_ANSWER = ("id", "question", "answer", "language")
ANSWER_WIDGET = PublicFields(
    AnswerWidget,
    ("id", "name", "key", "allowed_origins", "is_enabled", "created_at", "updated_at"),
    read_only=("id", "key", "created_at", "updated_at"),
)
