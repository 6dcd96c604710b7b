"""Public fields of statements, crisis mode, stakeholders and holding-statement templates,
declared once (``tenants.fields.PublicFields``) for the REST serializers and GraphQL types."""

from __future__ import annotations

from incidents.statements.models import (
    ApprovalStep,
    ApprovalWorkflow,
    CrisisMode,
    PublishRecord,
    RightOfReply,
    Stakeholder,
    StakeholderInteraction,
    Statement,
    StatementApproval,
    StatementVersion,
)
from playbooks.models import StatementTemplate
from tenants.fields import PublicFields

_TEMPLATE_NAMES = (
    "id",
    "name",
    "language",
    "part_confirmed",
    "part_actions",
    "part_empathy",
    "part_next_update",
    "placeholders",
    "must_not",
    "created_at",
    "updated_at",
)
# ``owner``: "tenant" (the tenant's own, written over REST) or "agency" (its agency's, read-only
# here: kept by the agency's admins in the admin).
STATEMENT_TEMPLATE = PublicFields(
    StatementTemplate,
    (*_TEMPLATE_NAMES, "owner"),
    read_only=("id", "owner", "created_at", "updated_at"),
)
AGENCY_STATEMENT_TEMPLATE = PublicFields(
    StatementTemplate, _TEMPLATE_NAMES, read_only=_TEMPLATE_NAMES
)
APPROVAL_WORKFLOW = PublicFields(
    ApprovalWorkflow,
    ("id", "severity", "name", "created_at", "updated_at"),
    read_only=("id", "created_at", "updated_at"),
)
APPROVAL_STEP = PublicFields(
    ApprovalStep,
    ("id", "workflow", "position", "kind", "mode", "approvers", "time_box_minutes", "backup"),
)
STATEMENT = PublicFields(
    Statement,
    (
        "id",
        "incident",
        "title",
        "language",
        "template",
        "must_not",
        "created_by",
        "created_at",
        "updated_at",
    ),
    read_only=("id", "must_not", "created_by", "created_at", "updated_at"),
)
STATEMENT_VERSION = PublicFields(
    StatementVersion,
    (
        "id",
        "statement",
        "incident",
        "number",
        "text",
        "status",
        "author",
        "steps",
        "current_step",
        "step_started_at",
        "step_escalated_at",
        "submitted_at",
        "approved_at",
        "rejected_at",
        "created_at",
    ),
    read_only=(
        "id",
        "statement",
        "incident",
        "number",
        "status",
        "author",
        "steps",
        "current_step",
        "step_started_at",
        "step_escalated_at",
        "submitted_at",
        "approved_at",
        "rejected_at",
        "created_at",
    ),
)
STATEMENT_APPROVAL = PublicFields(
    StatementApproval,
    ("id", "version", "step", "user", "decision", "comment", "as_backup", "via", "at"),
    read_only=("id", "version", "step", "user", "decision", "comment", "as_backup", "via", "at"),
)
PUBLISH_RECORD = PublicFields(
    PublishRecord,
    ("id", "version", "incident", "channel", "published_at", "url", "recorded_by", "created_at"),
    read_only=("id", "incident", "recorded_by", "created_at"),
)
CRISIS_MODE = PublicFields(
    CrisisMode,
    (
        "id",
        "incident",
        "reason",
        "is_drill",
        "started_at",
        "ends_at",
        "ended_at",
        "end_reason",
        "is_active",
    ),
    read_only=("id", "is_drill", "started_at", "ended_at", "end_reason", "is_active"),
)
STAKEHOLDER = PublicFields(
    Stakeholder,
    (
        "id",
        "name",
        "kind",
        "organisation",
        "email",
        "phone",
        "handle",
        "tags",
        "notes",
        "created_at",
        "updated_at",
    ),
    read_only=("id", "created_at", "updated_at"),
)
INTERACTION = PublicFields(
    StakeholderInteraction,
    (
        "id",
        "incident",
        "stakeholder",
        "at",
        "channel",
        "summary",
        "promised",
        "follow_up_due",
        "visible_to_client",
        "by",
        "created_at",
    ),
    read_only=("id", "by", "created_at"),
)
RIGHT_OF_REPLY = PublicFields(
    RightOfReply,
    (
        "id",
        "incident",
        "outlet",
        "article_url",
        "request_sent_at",
        "answer_due_at",
        "published",
        "published_at",
        "published_url",
        "notes",
        "created_at",
        "updated_at",
    ),
    read_only=("id", "created_at", "updated_at"),
)
