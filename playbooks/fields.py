"""Public fields of the playbooks app, declared once (``tenants.fields.PublicFields``)."""

from __future__ import annotations

from playbooks.models import Playbook
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
