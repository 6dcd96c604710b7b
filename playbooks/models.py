"""Playbooks: an agency's crisis-communication plans as data.

A ``Playbook`` is owned by an agency (``tenant`` empty: shared by every tenant of the agency)
or by one tenant of it (``tenant`` set). It holds its conditions (trigger types, minimum
severity, tags), its do and don't guidance, its key messages and its ordered ``PlaybookStep``s
(incident role, due offset from the incident's start, checklist, the steps it depends on). Every
change made through ``playbooks.services`` bumps ``version`` and stores the whole playbook as a
``PlaybookVersion`` snapshot; incidents attach a snapshot, so editing a template never changes a
running incident.

These three are *agency tables* (``tenants.dbtables.AGENCY_MODELS``): ``agency_id`` and a
nullable ``tenant_id``, protected by their own row-level-security policy
(``tenants.rls.AGENCY_ROWS``). ``Playbook.objects.for_tenant(tenant)`` is the row filter: the
tenant's own playbooks and its agency's.

Guarantees kept here (every writer goes through ``playbooks.services``):

- a step's due offset is zero or more minutes (``MinValueValidator``); its checklist is a list of
  short texts; its key is unique within the playbook;
- the steps' dependencies name steps of the same playbook and never form a cycle
  (``playbooks.rules.dependency_errors``, checked by the services).
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from playbooks.agency_rows import AgencyOwned, AgencyRowManager, AgencyRowQuerySet, TenantArg
from tenants.choices import CrisisTrigger, IncidentRole, Severity
from tenants.models import Agency, Tenant

MAX_OFFSET_MINUTES = 60 * 24 * 30
step_key_validator = RegexValidator(
    r"^[a-z0-9](?:[a-z0-9_-]{0,38}[a-z0-9])?$",
    _("Use 1-40 lowercase letters, digits, inner hyphens or underscores."),
    code="invalid_key",
)


class Language(models.TextChoices):
    INDONESIAN = "id", _("Indonesian")
    ENGLISH = "en", _("English")


def _texts(value: Any, *, limit: int, length: int, field_label: str) -> None:
    if not isinstance(value, list) or len(value) > limit:
        raise ValidationError(
            _("Must be a list of at most %(limit)d texts.") % {"limit": limit}, code="invalid"
        )
    for index, item in enumerate(value):
        if not isinstance(item, str) or not 1 <= len(item.strip()) <= length:
            raise ValidationError(
                _("Item %(index)d must be a text of 1-%(length)d characters.")
                % {"index": index, "length": length},
                code="invalid",
            )


def validate_guidance(value: Any) -> None:
    """Guidance and key messages: a list of at most 30 texts of 1-500 characters."""
    _texts(value, limit=30, length=500, field_label="guidance")


def validate_step_checklist(value: Any) -> None:
    """A step's checklist: a list of at most 50 texts of 1-200 characters (an incident task's
    checklist items are made from them)."""
    _texts(value, limit=50, length=200, field_label="checklist")


def validate_tags(value: Any) -> None:
    if not isinstance(value, list) or len(value) > 20:
        raise ValidationError(_("At most 20 tags."), code="invalid")
    for item in value:
        if not isinstance(item, str) or not 1 <= len(item) <= 40 or item != item.strip().lower():
            raise ValidationError(
                _("Tags are 1-40 lowercase characters without surrounding spaces."),
                code="invalid",
            )


class PlaybookQuerySet(AgencyRowQuerySet["Playbook"]):
    """``for_tenant``: the playbooks a tenant sees, its own and its agency's."""


class PlaybookManager(AgencyRowManager["Playbook"]):
    def get_queryset(self) -> PlaybookQuerySet:
        return PlaybookQuerySet(self.model, using=self._db)

    def for_tenant(self, tenant: TenantArg) -> PlaybookQuerySet:
        return self.get_queryset().for_tenant(tenant)


class Playbook(AgencyOwned, models.Model):
    """A crisis plan: conditions, ordered steps, do and don't guidance, key messages."""

    agency = models.ForeignKey(
        Agency, on_delete=models.CASCADE, related_name="playbooks", verbose_name=_("agency")
    )
    tenant = models.ForeignKey(
        Tenant,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="playbooks",
        verbose_name=_("tenant"),
        help_text=_("Empty: owned by the agency and shared by all its tenants."),
    )
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True, max_length=2000)
    language = models.CharField(
        _("language"),
        max_length=2,
        choices=Language.choices,
        blank=True,
        help_text=_(
            "Attaches only to incidents of tenants with this default language (empty: any)."
        ),
    )
    trigger_types = ArrayField(
        models.CharField(max_length=32, choices=CrisisTrigger.choices),
        default=list,
        blank=True,
        size=6,
        verbose_name=_("trigger types"),
        help_text=_("Attaches to incidents of these crisis triggers (empty: any)."),
    )
    min_severity = models.CharField(
        _("minimum severity"),
        max_length=8,
        choices=Severity.choices,
        default=Severity.SEV4,
        help_text=_("Attaches to incidents at least this severe (SEV1 is the worst)."),
    )
    tags = ArrayField(
        models.CharField(max_length=40),
        default=list,
        blank=True,
        validators=[validate_tags],
        verbose_name=_("tags"),
        help_text=_("Attaches only to incidents with one of these tags (empty: any)."),
    )
    do_guidance = models.JSONField(
        _("do"), default=list, blank=True, validators=[validate_guidance]
    )
    dont_guidance = models.JSONField(
        _("don't"), default=list, blank=True, validators=[validate_guidance]
    )
    key_messages = models.JSONField(
        _("key messages"), default=list, blank=True, validators=[validate_guidance]
    )
    is_active = models.BooleanField(
        _("active"), default=True, help_text=_("Only active playbooks attach by themselves.")
    )
    starter_key = models.CharField(
        max_length=40,
        blank=True,
        editable=False,
        help_text=_("The starter playbook this one was loaded from (empty: written here)."),
    )
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects: ClassVar[PlaybookManager] = PlaybookManager()

    class Meta:
        verbose_name = _("playbook")
        verbose_name_plural = _("playbooks")
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "tenant", "language", "name"],
                name="playbook_name_once",
                nulls_distinct=False,
                violation_error_message=_("A playbook with this name and language exists."),
            )
        ]
        indexes = [models.Index(fields=["agency", "tenant"], name="playbook_owner")]

    def __str__(self) -> str:
        return f"{self.name} ({self.language or '*'})"

    def clean(self) -> None:
        super().clean()
        if len(set(self.trigger_types)) != len(self.trigger_types):
            raise ValidationError({"trigger_types": _("A trigger type is listed twice.")})


class PlaybookStep(models.Model):
    """One step of a playbook: becomes an incident task owned by whoever holds ``role`` in the
    incident, due ``due_offset_minutes`` after the incident's start."""

    playbook = models.ForeignKey(Playbook, on_delete=models.CASCADE, related_name="steps")
    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="+")
    tenant = models.ForeignKey(
        Tenant, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    key = models.CharField(
        _("key"),
        max_length=40,
        validators=[step_key_validator],
        help_text=_("Short name of the step, unique in the playbook; dependencies use it."),
    )
    position = models.PositiveIntegerField(_("position"), default=0)
    title = models.CharField(_("title"), max_length=200)
    role = models.CharField(
        _("incident role"),
        max_length=20,
        choices=IncidentRole.choices,
        help_text=_("Who owns the task: the member holding this role in the incident."),
    )
    due_offset_minutes = models.IntegerField(
        _("due offset (minutes)"),
        default=60,
        validators=[MinValueValidator(0), MaxValueValidator(MAX_OFFSET_MINUTES)],
        help_text=_("Minutes after the incident's start when the task is due."),
    )
    checklist = models.JSONField(
        _("checklist"), default=list, blank=True, validators=[validate_step_checklist]
    )
    depends_on = ArrayField(
        models.CharField(max_length=40),
        default=list,
        blank=True,
        size=50,
        verbose_name=_("depends on"),
        help_text=_("Keys of steps of this playbook that must be finished first."),
    )
    visible_to_client = models.BooleanField(_("visible to the client"), default=True)

    class Meta:
        verbose_name = _("playbook step")
        verbose_name_plural = _("playbook steps")
        ordering = ["playbook_id", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["playbook", "key"], name="playbook_step_key_once")
        ]

    def __str__(self) -> str:
        return f"{self.position}. {self.title}"


class PlaybookVersion(models.Model):
    """A playbook as it was at one version: what incidents attach (``snapshot``)."""

    playbook = models.ForeignKey(Playbook, on_delete=models.CASCADE, related_name="versions")
    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="+")
    tenant = models.ForeignKey(
        Tenant, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    number = models.PositiveIntegerField()
    snapshot = models.JSONField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("playbook version")
        verbose_name_plural = _("playbook versions")
        ordering = ["playbook_id", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["playbook", "number"], name="playbook_version_once")
        ]

    def __str__(self) -> str:
        return f"{self.playbook_id} v{self.number}"


# Holding-statement templates (issue 15) are models of this app too.
# Canned answers and chat widgets (issue 16) are models of this app too.
from playbooks.answers import (  # noqa: E402, F401
    AnswerWidget,
    CannedAnswer,
    new_widget_key,
    validate_origins,
)
from playbooks.statement_templates import (  # noqa: E402, F401
    HoldingStatementFields,
    MustNotCategory,
    StatementLanguage,
    StatementTemplate,
    validate_must_not,
)
