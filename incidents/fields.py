"""Public fields of the incidents app, declared once (``tenants.fields.PublicFields``): the REST
serializers, the strawberry types and the services' writable lists come from here."""

from __future__ import annotations

from incidents.models import (
    Incident,
    IncidentLink,
    IncidentMember,
    IncidentPlaybook,
    IncidentTask,
    Reply,
    ResponseAdvice,
    RolePolicy,
    SeverityPolicy,
    TimelineEntry,
)
from tenants.fields import PublicFields

STAGE_TIMES = (
    "detected_at",
    "acknowledged_at",
    "first_statement_at",
    "last_update_at",
    "mitigated_at",
    "resolved_at",
    "reviewed_at",
    "closed_at",
)
INCIDENT = PublicFields(
    Incident,
    (
        "id",
        "title",
        "summary",
        "trigger",
        "severity",
        "status",
        "is_drill",
        *STAGE_TIMES,
        "reopened_count",
        "tags",
        "created_at",
        "updated_at",
    ),
    read_only=("id", "status", *STAGE_TIMES[1:], "reopened_count", "created_at", "updated_at"),
)
TEAM_MEMBER = PublicFields(
    IncidentMember,
    ("id", "incident", "user", "role", "by_policy", "assigned_at"),
    read_only=("id", "by_policy", "assigned_at"),
    graphql_name="IncidentMember",
)
TASK = PublicFields(
    IncidentTask,
    (
        "id",
        "incident",
        "title",
        "owner",
        "due_at",
        "status",
        "checklist",
        "depends_on",
        "visible_to_client",
        "is_overdue",
        "completed_at",
        "created_at",
        "updated_at",
    ),
    read_only=("id", "is_overdue", "completed_at", "created_at", "updated_at"),
)
LINK = PublicFields(
    IncidentLink,
    (
        "id",
        "incident",
        "kind",
        "alert",
        "hoax_cluster",
        "owned_account",
        "mention",
        "query",
        "url",
        "note",
        "visible_to_client",
        "created_at",
    ),
    read_only=("id", "created_at"),
)
TIMELINE_ENTRY = PublicFields(
    TimelineEntry,
    ("id", "incident", "kind", "at", "actor", "text", "data", "mention", "visible_to_client"),
    read_only=("id", "at", "actor", "data"),
)
SEVERITY_POLICY = PublicFields(
    SeverityPolicy,
    (
        "id",
        "severity",
        "auto_open_from_alert",
        "acknowledge_minutes",
        "first_statement_minutes",
        "update_every_minutes",
        "resolve_minutes",
        "created_at",
        "updated_at",
    ),
    read_only=("id", "created_at", "updated_at"),
)
ROLE_POLICY = PublicFields(
    RolePolicy,
    ("id", "trigger", "severity", "role", "user", "created_at"),
    read_only=("id", "created_at"),
)

REPLY_STAMPS = (
    "checked_at",
    "statement_version_id",
    "override_reason",
    "overridden_by",
    "overridden_at",
    "approved_by",
    "approved_at",
    "sent_by",
    "sent_at",
    "created_by",
    "created_at",
    "updated_at",
)
REPLY = PublicFields(
    Reply,
    (
        "id",
        "mention",
        "incident",
        "canned_answer",
        "text",
        "status",
        "flagged",
        "findings",
        *REPLY_STAMPS,
    ),
    read_only=("id", "status", "flagged", "findings", *REPLY_STAMPS),
)
INCIDENT_PLAYBOOK = PublicFields(
    IncidentPlaybook,
    (
        "id",
        "incident",
        "playbook",
        "name",
        "version",
        "snapshot",
        "task_ids",
        "by_hand",
        "attached_by",
        "attached_at",
    ),
    read_only=(
        "id",
        "name",
        "version",
        "snapshot",
        "task_ids",
        "by_hand",
        "attached_by",
        "attached_at",
    ),
)
RESPONSE_ADVICE = PublicFields(
    ResponseAdvice,
    (
        "id",
        "incident",
        "cluster",
        "posture",
        "reasoning",
        "similar_incidents",
        "derived_from",
        "is_edited",
        "edited_by",
        "edited_at",
        "updated_at",
    ),
    read_only=(
        "id",
        "incident",
        "similar_incidents",
        "derived_from",
        "is_edited",
        "edited_by",
        "edited_at",
        "updated_at",
    ),
)
