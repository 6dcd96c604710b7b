"""Models of official statements, crisis mode and stakeholders (rows of one tenant each).

Guarantees kept by the models themselves (every writer goes through
``incidents.statements.services``):

- a ``StatementVersion``'s text never changes once it is submitted, and an approved version
  never changes at all (``save`` refuses); a change is a new version;
- version numbers are unique per statement; one running crisis mode per tenant; crisis-mode
  event sequence numbers are unique per tenant;
- an approval workflow's steps are ordered (unique ``position`` per workflow).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext as _

from incidents.models import Incident
from incidents.statements.choices import (
    Channel,
    CrisisEvent,
    Decision,
    DecisionVia,
    InteractionChannel,
    StakeholderKind,
    StepKind,
    StepMode,
    VersionStatus,
)
from playbooks.models import StatementLanguage, StatementTemplate
from tenants.choices import Severity
from tenants.models import TenantOwnedModel

USER = settings.AUTH_USER_MODEL


# --- approval workflows ----------------------------------------------------------------------


class ApprovalWorkflow(TenantOwnedModel):
    """How statements of incidents of one severity are approved: ordered steps. A severity
    without a workflow uses one step: any one holder of ``statements.approve``, 60 minutes."""

    severity = models.CharField(max_length=8, choices=Severity.choices)
    name = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["severity"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "severity"], name="approval_workflow_once")
        ]

    def __str__(self) -> str:
        return self.name or f"{self.severity} approval"


class ApprovalStep(TenantOwnedModel):
    """One step of a workflow: who approves (named agency approvers, every holder of
    ``statements.approve`` when none is named, or the incident's client approver), whether
    any one or all of them must, how long they have, and the backup asked when that expires."""

    workflow = models.ForeignKey(ApprovalWorkflow, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField(validators=[MinValueValidator(1)])
    kind = models.CharField(max_length=8, choices=StepKind.choices, default=StepKind.AGENCY)
    mode = models.CharField(max_length=3, choices=StepMode.choices, default=StepMode.ANY)
    approvers = ArrayField(
        models.BigIntegerField(),
        default=list,
        blank=True,
        size=20,
        help_text="User ids (agency steps); empty: every holder of statements.approve.",
    )
    time_box_minutes = models.PositiveIntegerField(
        default=60, validators=[MinValueValidator(1), MaxValueValidator(60 * 24 * 7)]
    )
    backup = models.ForeignKey(
        USER,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Asked when the step's time is up.",
    )

    class Meta:
        ordering = ["workflow_id", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "workflow", "position"], name="approval_step_position_once"
            )
        ]

    def __str__(self) -> str:
        return f"step {self.position} ({self.kind}, {self.mode})"

    def clean_fields(self, exclude: Any = None) -> None:
        super().clean_fields(exclude={*(exclude or ()), "workflow"})

    def snapshot(self) -> dict[str, Any]:
        return {
            "position": self.position,
            "kind": self.kind,
            "mode": self.mode,
            "approvers": list(self.approvers),
            "time_box_minutes": self.time_box_minutes,
            "backup": self.backup_id,
        }


# --- statements ------------------------------------------------------------------------------


class Statement(TenantOwnedModel):
    """An official statement of an incident; its wording lives in its versions."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="statements")
    title = models.CharField(max_length=200)
    language = models.CharField(
        max_length=2, choices=StatementLanguage.choices, default=StatementLanguage.INDONESIAN
    )
    # The template it was drafted from (the tenant's own or its agency's), by id only: a deleted
    # template leaves the id untouched, as no single tenant could name the rows a cascade over
    # the agency's template would change (its must-not rules were copied below).
    template = models.ForeignKey(
        StatementTemplate,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
        help_text="The template's id (the template may have been deleted since).",
    )
    must_not = ArrayField(
        models.CharField(max_length=200),
        default=list,
        blank=True,
        help_text="The must-not phrases of its template, copied when drafted.",
    )
    created_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["tenant", "incident"], name="statement_incident")]

    def __str__(self) -> str:
        return self.title


class StatementVersion(TenantOwnedModel):
    """One wording of a statement. Drafts change; once submitted the text is fixed, and an
    approved version never changes. ``steps`` is the workflow as it was when submitted."""

    statement = models.ForeignKey(Statement, on_delete=models.CASCADE, related_name="versions")
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="+")
    number = models.PositiveIntegerField()
    text = models.TextField(max_length=10000)
    status = models.CharField(
        max_length=10, choices=VersionStatus.choices, default=VersionStatus.DRAFT
    )
    author = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    steps = models.JSONField(default=list, blank=True)
    current_step = models.PositiveSmallIntegerField(default=0)
    step_started_at = models.DateTimeField(null=True, blank=True)
    step_escalated_at = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    rejected_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["statement_id", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "statement", "number"], name="statement_version_once"
            )
        ]
        indexes = [
            models.Index(fields=["tenant", "status", "step_started_at"], name="version_pending"),
            models.Index(fields=["tenant", "incident", "status"], name="version_incident"),
        ]

    def __str__(self) -> str:
        return f"v{self.number} of statement {self.statement_id} ({self.status})"

    _stored: dict[str, Any] | None = None

    @classmethod
    def from_db(  # type: ignore[override]
        cls, db: Any, field_names: Any, values: Any, **kwargs: Any
    ) -> StatementVersion:
        row = super().from_db(db, field_names, values, **kwargs)
        row._stored = {"text": row.__dict__.get("text"), "status": row.__dict__.get("status")}
        return row

    def save(self, *args: Any, **kwargs: Any) -> None:
        stored = self._stored
        if (
            stored is not None
            and stored["text"] is not None
            and stored["text"] != self.text
            and stored["status"] != VersionStatus.DRAFT
        ):
            raise ValidationError(
                {
                    "text": ValidationError(
                        _("Only a draft's text changes; make a new version."),
                        code="immutable",
                    )
                }
            )
        if (
            stored is not None
            and stored["status"] == VersionStatus.APPROVED
            and self.status != VersionStatus.APPROVED
        ):
            raise ValidationError(
                {"status": ValidationError(_("An approved version never changes."), "immutable")}
            )
        super().save(*args, **kwargs)
        self._stored = {"text": self.text, "status": self.status}


class StatementApproval(TenantOwnedModel):
    """One decision on one step of a version."""

    version = models.ForeignKey(
        StatementVersion, on_delete=models.CASCADE, related_name="approvals"
    )
    step = models.PositiveSmallIntegerField()
    user = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")
    decision = models.CharField(max_length=8, choices=Decision.choices)
    comment = models.TextField(max_length=2000, blank=True)
    as_backup = models.BooleanField(default=False)
    via = models.CharField(max_length=8, choices=DecisionVia.choices, default=DecisionVia.API)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["version_id", "step", "at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "version", "step", "user"], name="statement_approval_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.decision} of version {self.version_id} (step {self.step})"


class PublishRecord(TenantOwnedModel):
    """Where and when an approved version was published. Sigap does not post: people publish
    and record it here; the records export as CSV."""

    version = models.ForeignKey(
        StatementVersion, on_delete=models.PROTECT, related_name="publications"
    )
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="+")
    channel = models.CharField(max_length=16, choices=Channel.choices)
    published_at = models.DateTimeField(default=timezone.now)
    url = models.URLField(blank=True, max_length=500)
    recorded_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-published_at", "-id"]
        indexes = [models.Index(fields=["tenant", "incident"], name="publish_record_incident")]

    def __str__(self) -> str:
        return f"{self.channel} at {self.published_at:%Y-%m-%d %H:%M}"


# --- crisis mode -----------------------------------------------------------------------------


class CrisisMode(TenantOwnedModel):
    """A period in which the tenant is in crisis mode, tied to one open incident. It ends at
    ``ends_at``, when the incident resolves, or by hand. One running at a time per tenant."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="crisis_modes")
    reason = models.CharField(max_length=500, blank=True)
    is_drill = models.BooleanField(default=False)
    started_at = models.DateTimeField(default=timezone.now)
    ends_at = models.DateTimeField(null=True, blank=True, help_text="Ends by itself then.")
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=200, blank=True)
    started_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    ended_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant"],
                condition=models.Q(ended_at__isnull=True),
                name="crisis_mode_one_running",
            )
        ]

    def __str__(self) -> str:
        return f"crisis mode for incident {self.incident_id}"

    @property
    def is_active(self) -> bool:
        return self.ended_at is None


class CrisisModeEvent(TenantOwnedModel):
    """What was sent to the tenant's outbound webhooks, with its per-tenant sequence number
    (increasing: a receiver keeps the highest it has seen, so a late retry changes nothing).
    Drills have none."""

    crisis_mode = models.ForeignKey(CrisisMode, on_delete=models.CASCADE, related_name="events")
    sequence = models.PositiveBigIntegerField()
    event_type = models.CharField(max_length=32, choices=CrisisEvent.choices)
    payload = models.JSONField()
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-sequence"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "sequence"], name="crisis_event_sequence")
        ]

    def __str__(self) -> str:
        return f"#{self.sequence} {self.event_type}"


# --- stakeholders ----------------------------------------------------------------------------


class Stakeholder(TenantOwnedModel):
    """A contact of the tenant: journalists and outlets, regulators, key opinion leaders,
    partners, employees."""

    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=StakeholderKind.choices)
    organisation = models.CharField(max_length=200, blank=True)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    handle = models.CharField(max_length=100, blank=True)
    tags = ArrayField(models.CharField(max_length=50), default=list, blank=True, size=20)
    notes = models.TextField(max_length=2000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["tenant", "kind"], name="stakeholder_kind")]

    def __str__(self) -> str:
        return f"{self.name} ({self.kind})"


class StakeholderInteraction(TenantOwnedModel):
    """One contact with a stakeholder during an incident: who, when, by what channel, what was
    said or promised, and when to follow up. Also written on the timeline (internal unless
    ``visible_to_client``)."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="+")
    stakeholder = models.ForeignKey(
        Stakeholder, on_delete=models.PROTECT, related_name="interactions"
    )
    at = models.DateTimeField(default=timezone.now)
    channel = models.CharField(max_length=16, choices=InteractionChannel.choices)
    summary = models.TextField(max_length=4000, help_text="What was said.")
    promised = models.TextField(max_length=2000, blank=True, help_text="What was promised.")
    follow_up_due = models.DateTimeField(null=True, blank=True)
    visible_to_client = models.BooleanField(default=False)
    by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["tenant", "incident", "-at"], name="interaction_incident")]

    def __str__(self) -> str:
        return f"{self.channel} with {self.stakeholder_id} at {self.at:%Y-%m-%d %H:%M}"


class RightOfReply(TenantOwnedModel):
    """A right-of-reply (hak jawab) request to a press outlet about an article."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="+")
    outlet = models.ForeignKey(Stakeholder, on_delete=models.PROTECT, related_name="+")
    article_url = models.URLField(max_length=500)
    request_sent_at = models.DateTimeField(null=True, blank=True)
    answer_due_at = models.DateTimeField(null=True, blank=True)
    published = models.BooleanField(default=False)
    published_at = models.DateTimeField(null=True, blank=True)
    published_url = models.URLField(blank=True, max_length=500)
    notes = models.TextField(max_length=2000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["answer_due_at", "id"]
        verbose_name_plural = "rights of reply"

    def __str__(self) -> str:
        return f"right of reply at {self.outlet_id}: {self.article_url}"

    def clean(self) -> None:
        super().clean()
        if self.published_at is not None and not self.published:
            raise ValidationError({"published": _("Set it when giving the publication time.")})
