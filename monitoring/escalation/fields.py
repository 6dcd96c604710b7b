"""Public fields of escalation policies (``tenants.fields.PublicFields``)."""

from __future__ import annotations

from monitoring.escalation.models import EscalationPolicy
from tenants.fields import PublicFields

ESCALATION_POLICY = PublicFields(
    EscalationPolicy,
    ("id", "name", "severity", "steps", "repeat", "enabled", "created_at", "updated_at"),
    read_only=("id", "created_at", "updated_at"),
)
