"""Incidents: the lifecycle of a crisis response, its team, tasks, links and timeline, and the
tenant's incident policies.

Guarantees kept by the models themselves (every writer goes through ``incidents.services``):

- ``Incident.status`` is a django-fsm-2 state field, ``protected``: it changes only through the
  transition methods below (one per target stage), whose sources, conditions and whether they
  need the commander's powers (``custom={"command": True}``) *are* the transition table of
  ``docs/incidents.md`` (``tests/incidents/test_transitions.py`` compares both);
- a ``TimelineEntry`` is append-only: saving an existing entry raises;
- a task's checklist is a JSON list of ``{"text", "done"}`` items (``validate_checklist``);
- every uniqueness rule includes the tenant; one commander per incident is a partial unique
  index (``incident_one_commander``).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import FSMField, FSMModelMixin, transition

from incidents.choices import IncidentStatus, LinkKind, ReplyStatus, TaskStatus, TimelineKind
from tenants.choices import CrisisTrigger, IncidentRole, Severity
from tenants.models import TenantOwnedModel

S = IncidentStatus

# A resolved incident may be reopened (a second wave) for this long after it was resolved.
REOPEN_WINDOW = timedelta(days=14)


def is_sev1(incident: Any) -> bool:
    """Only a SEV1 may skip triage (detected → responding)."""
    return incident.severity == Severity.SEV1


def within_reopen_window(incident: Any) -> bool:
    """A resolved incident reopens within 14 days of its resolution."""
    resolved = incident.resolved_at
    return resolved is not None and timezone.now() - resolved <= REOPEN_WINDOW


CONDITION_TEXT = {
    is_sev1: "severity is SEV1",
    within_reopen_window: "within 14 days of resolution",
}


class Incident(FSMModelMixin, TenantOwnedModel):  # type: ignore[misc]
    """A crisis being handled for a tenant (its brand)."""

    title = models.CharField(max_length=200)
    summary = models.TextField(blank=True, max_length=5000)
    trigger = models.CharField(max_length=32, choices=CrisisTrigger.choices)
    severity = models.CharField(max_length=8, choices=Severity.choices, default=Severity.SEV3)
    status = FSMField(
        max_length=16, choices=IncidentStatus.choices, default=S.DETECTED, protected=True
    )
    is_drill = models.BooleanField(
        default=False,
        help_text="An exercise: left out of every figure, never notifies anyone outside.",
    )
    detected_at = models.DateTimeField(default=timezone.now)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    first_statement_at = models.DateTimeField(null=True, blank=True)
    last_update_at = models.DateTimeField(
        null=True, blank=True, help_text="The last public statement (for the update cadence)."
    )
    mitigated_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    reopened_count = models.PositiveIntegerField(default=0)
    tags = ArrayField(
        models.CharField(max_length=40),
        default=list,
        blank=True,
        size=20,
        help_text="Short lowercase labels; playbooks may ask for one of them.",
    )
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-detected_at", "-id"]
        indexes = [
            models.Index(fields=["tenant", "status"], name="incident_status"),
            models.Index(fields=["tenant", "-detected_at"], name="incident_detected"),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.get_severity_display()}, {self.status})"

    def clean_fields(self, exclude: Any = None) -> None:
        # ``full_clean`` would assign every field again, which the protected status refuses;
        # its value is the transition methods' to keep.
        super().clean_fields(exclude={*(exclude or ()), "status"})

    # --- the transition table: one method per target stage ------------------------------
    # Each method sets the stage's timestamp; ``incidents.services.transition_incident`` runs
    # them (locking the row, checking commander powers, writing the timeline).

    @transition(field=status, source=S.DETECTED, target=S.TRIAGED)
    def triage(self, at: Any) -> None:
        self.acknowledged_at = at

    @transition(field=status, source=S.TRIAGED, target=S.RESPONDING)
    @transition(field=status, source=S.DETECTED, target=S.RESPONDING, conditions=[is_sev1])
    @transition(field=status, source=S.MONITORING, target=S.RESPONDING)
    @transition(
        field=status,
        source=S.RESOLVED,
        target=S.RESPONDING,
        conditions=[within_reopen_window],
        custom={"command": True},
    )
    def respond(self, at: Any) -> None:
        if self.status == S.DETECTED:
            self.acknowledged_at = at
        if self.status in (S.MONITORING, S.RESOLVED):  # a second wave
            self.mitigated_at = None
        if self.status == S.RESOLVED:
            self.resolved_at = None
            self.reopened_count += 1

    @transition(field=status, source=S.RESPONDING, target=S.MONITORING)
    def monitor(self, at: Any) -> None:
        self.mitigated_at = at

    @transition(field=status, source=S.MONITORING, target=S.RESOLVED, custom={"command": True})
    def resolve(self, at: Any) -> None:
        self.resolved_at = at

    @transition(field=status, source=S.RESOLVED, target=S.REVIEWED, custom={"command": True})
    def review(self, at: Any) -> None:
        self.reviewed_at = at

    @transition(
        field=status,
        source=[S.DETECTED, S.TRIAGED, S.RESPONDING, S.MONITORING],
        target=S.CLOSED,
        custom={"command": True},
    )
    def close(self, at: Any) -> None:
        self.closed_at = at

    @property
    def is_open(self) -> bool:
        return self.status in (S.DETECTED, S.TRIAGED, S.RESPONDING, S.MONITORING)


def validate_checklist(value: Any) -> None:
    """A checklist is a list of at most 50 ``{"text": "...", "done": false}`` items."""
    if not isinstance(value, list):
        raise ValidationError(_("Must be a list of items."), code="invalid_checklist")
    if len(value) > 50:
        raise ValidationError(_("At most 50 items."), code="invalid_checklist")
    for index, item in enumerate(value):
        if (
            not isinstance(item, dict)
            or set(item) - {"text", "done"}
            or not isinstance(item.get("text"), str)
            or not 1 <= len(item["text"].strip()) <= 200
            or not isinstance(item.get("done", False), bool)
        ):
            raise ValidationError(
                _('Item %(index)d must be {"text": 1-200 characters, "done": true or false}.')
                % {"index": index},
                code="invalid_checklist",
            )


class IncidentMember(TenantOwnedModel):
    """A role a member of the tenant holds in one incident's rapid-response team."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="team")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    role = models.CharField(max_length=20, choices=IncidentRole.choices)
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    by_policy = models.BooleanField(default=False, help_text="Given by a role policy.")
    assigned_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["incident_id", "role", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "incident", "user", "role"], name="incident_member_once"
            ),
            models.UniqueConstraint(
                fields=["tenant", "incident"],
                condition=models.Q(role="commander"),
                name="incident_one_commander",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} as {self.role}"


class IncidentTask(TenantOwnedModel):
    """A piece of work in an incident, owned by a member, with a due time and a checklist."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="tasks")
    title = models.CharField(max_length=200)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    due_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=TaskStatus.choices, default=TaskStatus.OPEN)
    checklist = models.JSONField(default=list, blank=True, validators=[validate_checklist])
    depends_on = ArrayField(
        models.BigIntegerField(),
        default=list,
        blank=True,
        size=50,
        help_text="Ids of tasks of the same incident that must be finished first.",
    )
    visible_to_client = models.BooleanField(default=True)
    reminder_sent_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["due_at", "id"]
        indexes = [models.Index(fields=["tenant", "status", "due_at"], name="incident_task_due")]

    def __str__(self) -> str:
        return self.title

    def clean_fields(self, exclude: Any = None) -> None:
        # The incident is resolved within the tenant by the services and never changes; its
        # generic foreign-key check would read it without naming the tenant.
        super().clean_fields(exclude={*(exclude or ()), "incident"})

    @property
    def is_overdue(self) -> bool:
        return (
            self.due_at is not None
            and self.status not in (TaskStatus.DONE, TaskStatus.CANCELLED)
            and self.due_at < timezone.now()
        )


class IncidentLink(TenantOwnedModel):
    """What an incident is about: an alert, a mention, a query, a hoax cluster, an owned
    account or a web address. Seen from the other side with ``?alert=``, ``?query=`` … on the
    incident list (and ``alert.incident_links`` for monitoring's own code)."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="links")
    kind = models.CharField(max_length=16, choices=LinkKind.choices)
    alert = models.ForeignKey(
        "monitoring.Alert",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="incident_links",
    )
    hoax_cluster = models.ForeignKey(
        "monitoring.HoaxCluster",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="incident_links",
    )
    owned_account = models.ForeignKey(
        "monitoring.OwnedAccount",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="incident_links",
    )
    mention = models.ForeignKey(
        "monitoring.Mention", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    query = models.ForeignKey(
        "monitoring.MonitoredQuery",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    url = models.URLField(blank=True, max_length=500)
    note = models.CharField(max_length=500, blank=True)
    visible_to_client = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["incident_id", "id"]
        indexes = [
            models.Index(fields=["tenant", "alert"], name="incident_link_alert"),
            models.Index(fields=["tenant", "created_at"], name="incident_link_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} link of incident {self.incident_id}"

    @property
    def target_id(self) -> object:
        target = self.TARGETS[self.kind]  # type: ignore[index]
        return self.url if target == "url" else getattr(self, f"{target}_id")

    # The column each kind points with (``url`` for web addresses).
    TARGETS = {
        LinkKind.ALERT: "alert",
        LinkKind.HOAX_CLUSTER: "hoax_cluster",
        LinkKind.OWNED_ACCOUNT: "owned_account",
        LinkKind.MENTION: "mention",
        LinkKind.QUERY: "query",
        LinkKind.URL: "url",
    }

    def clean(self) -> None:
        super().clean()
        target = self.TARGETS.get(self.kind)  # type: ignore[call-overload]
        if target is None:
            raise ValidationError({"kind": _("Links of this kind are not available yet.")})
        if not getattr(self, f"{target}_id" if target != "url" else "url", None):
            raise ValidationError({target: _("A %(kind)s link needs it.") % {"kind": self.kind}})
        for other in set(self.TARGETS.values()) - {target}:
            if getattr(self, f"{other}_id" if other != "url" else "url", None):
                raise ValidationError(
                    {other: _("Not used by a %(kind)s link.") % {"kind": self.kind}}
                )


class TimelineEntry(TenantOwnedModel):
    """One line of an incident's timeline. Append-only: written by the services for every
    change, or by hand (notes, legal review, pinned mentions); never changed or removed."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="timeline")
    kind = models.CharField(max_length=16, choices=TimelineKind.choices)
    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    text = models.TextField(max_length=5000)
    data = models.JSONField(default=dict, blank=True)
    mention = models.ForeignKey(
        "monitoring.Mention", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    visible_to_client = models.BooleanField(default=False)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name_plural = "timeline entries"
        indexes = [models.Index(fields=["tenant", "incident", "-at"], name="timeline_incident")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.kind}: {self.text[:60]}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise ValidationError(_("The timeline is append-only."), code="append_only")
        super().save(*args, **kwargs)


def _minutes(help_text: str, *, null: bool = True) -> models.PositiveIntegerField[Any, Any]:
    return models.PositiveIntegerField(
        null=null,
        blank=null,
        validators=[MinValueValidator(1), MaxValueValidator(60 * 24 * 90)],
        help_text=help_text,
    )


class SeverityPolicy(TenantOwnedModel):
    """A tenant's rules for one severity: response-time targets and whether an alert of that
    severity opens an incident by itself. Without a row, ``incidents.targets.DEFAULTS`` apply."""

    severity = models.CharField(max_length=8, choices=Severity.choices)
    auto_open_from_alert = models.BooleanField(default=False)
    acknowledge_minutes = _minutes("Minutes from detection to triage.", null=False)
    first_statement_minutes = _minutes("Minutes to the first public statement (empty: none).")
    update_every_minutes = _minutes("Minutes between public updates while responding.")
    resolve_minutes = _minutes("Minutes from detection to resolution (empty: none).")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["severity"]
        verbose_name_plural = "severity policies"
        constraints = [
            models.UniqueConstraint(fields=["tenant", "severity"], name="severity_policy_once")
        ]

    def __str__(self) -> str:
        return f"{self.severity} policy"


class RolePolicy(TenantOwnedModel):
    """Give ``role`` to ``user`` when an incident of this trigger and severity opens (an empty
    trigger or severity matches any). The most specific commander policy wins."""

    trigger = models.CharField(max_length=32, choices=CrisisTrigger.choices, blank=True)
    severity = models.CharField(max_length=8, choices=Severity.choices, blank=True)
    role = models.CharField(max_length=20, choices=IncidentRole.choices)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["role", "id"]
        verbose_name_plural = "role policies"
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "trigger", "severity", "role", "user"], name="role_policy_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.role} → {self.user} ({self.trigger or 'any'}, {self.severity or 'any'})"

    def matches(self, incident: Incident) -> bool:
        return (not self.trigger or self.trigger == incident.trigger) and (
            not self.severity or self.severity == incident.severity
        )

    @property
    def specificity(self) -> int:
        return (2 if self.trigger else 0) + (1 if self.severity else 0)


class Reply(TenantOwnedModel):
    """A reply to a mention, checked against the approved line of its incident before it goes
    out (``incidents.replies``): drafted, approved where the policy requires, recorded as sent.
    ``findings`` is the last check's result (category, span, reason per finding)."""

    mention = models.ForeignKey(
        "monitoring.Mention", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    incident = models.ForeignKey(
        Incident, null=True, blank=True, on_delete=models.CASCADE, related_name="replies"
    )
    canned_answer = models.ForeignKey(
        "playbooks.CannedAnswer",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    text = models.TextField(max_length=2000)
    status = models.CharField(max_length=20, choices=ReplyStatus.choices, default=ReplyStatus.DRAFT)
    flagged = models.BooleanField(default=False)
    findings = models.JSONField(default=list, blank=True)
    checked_at = models.DateTimeField(null=True, blank=True)
    statement_version_id = models.BigIntegerField(
        null=True, blank=True, help_text="The approved statement version it was checked against."
    )
    override_reason = models.TextField(blank=True, max_length=1000)
    overridden_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    overridden_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    sent_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "replies"
        indexes = [
            models.Index(fields=["tenant", "status", "-created_at"], name="reply_status"),
            models.Index(fields=["tenant", "mention"], name="reply_mention"),
            models.Index(fields=["tenant", "incident"], name="reply_incident"),
        ]

    def __str__(self) -> str:
        return f"reply {self.pk} to mention {self.mention_id} ({self.status})"

    def clean_fields(self, exclude: Any = None) -> None:
        # Related rows are resolved within the tenant by the services.
        super().clean_fields(exclude={*(exclude or ()), "mention", "incident", "canned_answer"})


class IncidentPlaybook(TenantOwnedModel):
    """A playbook attached to an incident: the snapshot of the playbook's version at that time
    (later edits of the template never change it) and the tasks made from its steps
    (``task_ids``: step key -> task id). Attached once per incident and playbook."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="playbooks")
    # The template it came from, by id only: a deleted template leaves the id (and the
    # snapshot) untouched, as no single tenant could name the rows a cascade would change.
    playbook = models.ForeignKey(
        "playbooks.Playbook",
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
        help_text="The template's id (the template may have been deleted since).",
    )
    name = models.CharField(max_length=200)
    version = models.PositiveIntegerField()
    snapshot = models.JSONField()
    task_ids = models.JSONField(default=dict, blank=True)
    by_hand = models.BooleanField(default=False, help_text="Attached by a person, not by rule.")
    attached_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    attached_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["incident_id", "attached_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "incident", "playbook"], name="incident_playbook_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.version} on incident {self.incident_id}"

    def clean_fields(self, exclude: Any = None) -> None:
        super().clean_fields(exclude={*(exclude or ()), "incident", "playbook"})


class ResponseAdvice(TenantOwnedModel):
    """The recommended response of one incident after Situational Crisis Communication Theory:
    the crisis-responsibility cluster, the posture and the reasoning, derived from the trigger
    and the tenant's crisis history (``playbooks.advice``) until the commander edits it."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="advice")
    cluster = models.CharField(max_length=16)
    posture = models.CharField(max_length=32)
    reasoning = models.TextField(max_length=5000)
    similar_incidents = models.PositiveIntegerField(default=0)
    derived_from = models.CharField(
        max_length=32, blank=True, help_text="The trigger the advice was derived from."
    )
    edited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    edited_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["incident_id"]
        verbose_name_plural = "response advice"
        constraints = [
            models.UniqueConstraint(fields=["tenant", "incident"], name="response_advice_once")
        ]

    def __str__(self) -> str:
        return f"{self.cluster} / {self.posture}"

    @property
    def is_edited(self) -> bool:
        return self.edited_at is not None

    def clean_fields(self, exclude: Any = None) -> None:
        super().clean_fields(exclude={*(exclude or ()), "incident"})


# Statements, crisis mode and stakeholders (``incidents/statements/``) are models of this app.
# The evaluation's models (post-crisis reviews, client reports) live in their own module.
from incidents.evaluation.models import (  # noqa: E402, F401
    ClientReport,
    ReportSubscription,
    Review,
    ReviewActionItem,
    ReviewFeedback,
    ReviewLesson,
)
from incidents.statements.models import (  # noqa: E402, F401
    ApprovalStep,
    ApprovalWorkflow,
    CrisisMode,
    CrisisModeEvent,
    PublishRecord,
    RightOfReply,
    Stakeholder,
    StakeholderInteraction,
    Statement,
    StatementApproval,
    StatementVersion,
)
