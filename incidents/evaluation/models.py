"""Post-crisis reviews and client reports (``docs/evaluation.md``).

- ``Review``: one per incident; lessons, action items and feedback hang from it. Draft → Final
  (``status``); a Final review keeps its figures frozen (``figures``) and refuses changes, and
  the client signs it off (``signed_off_by``/``signed_off_at``).
- ``ReviewLesson``: what went well or did not, each ``visible_to_client`` or internal.
- ``ReviewActionItem``: an action with an owner and a due time (default a week after it was
  written), ``visible_to_client`` or internal.
- ``ReviewFeedback``: one rating (1-5) per participant, always internal.
- ``ReportSubscription``: a tenant's periodic client report (weekly or monthly) and who gets it.
- ``ClientReport``: one generated report: its period and its figures, frozen when made.

Every uniqueness rule includes the tenant.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tenants.models import TenantOwnedModel

ACTION_DUE_DEFAULT = timedelta(days=7)


class ReviewStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    FINAL = "final", _("Final")


class LessonKind(models.TextChoices):
    WENT_WELL = "went_well", _("Went well")
    WENT_BADLY = "went_badly", _("Did not go well")


class ActionStatus(models.TextChoices):
    OPEN = "open", _("Open")
    DONE = "done", _("Done")
    DROPPED = "dropped", _("Dropped")


class ReportFrequency(models.TextChoices):
    WEEKLY = "weekly", _("Weekly")
    MONTHLY = "monthly", _("Monthly")


def default_action_due() -> Any:
    return timezone.now() + ACTION_DUE_DEFAULT


class Review(TenantOwnedModel):
    """The post-crisis review of one incident."""

    incident = models.ForeignKey(
        "incidents.Incident", on_delete=models.CASCADE, related_name="reviews"
    )
    status = models.CharField(
        max_length=8, choices=ReviewStatus.choices, default=ReviewStatus.DRAFT
    )
    summary = models.TextField(
        blank=True, max_length=10000, help_text=_("What happened, for the client.")
    )
    figures = models.JSONField(
        null=True, blank=True, editable=False, help_text=_("Frozen when the review is final.")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    finalised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    finalised_at = models.DateTimeField(null=True, blank=True)
    signed_off_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    signed_off_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "incident"], name="review_once_per_incident")
        ]

    def __str__(self) -> str:
        return f"Review of incident {self.incident_id} ({self.status})"

    @property
    def is_final(self) -> bool:
        return self.status == ReviewStatus.FINAL


class _ReviewPart(TenantOwnedModel):
    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True


class ReviewLesson(_ReviewPart):
    """A lesson: something that went well or did not."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="lessons")
    kind = models.CharField(max_length=12, choices=LessonKind.choices)
    text = models.TextField(max_length=2000)
    visible_to_client = models.BooleanField(default=True)

    class Meta:
        ordering = ["review_id", "kind", "id"]

    def __str__(self) -> str:
        return self.text[:60]


class ReviewActionItem(_ReviewPart):
    """Something to do after the crisis: an owner among the members, a due time."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="action_items")
    title = models.CharField(max_length=200)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    due_at = models.DateTimeField(default=default_action_due)
    status = models.CharField(max_length=8, choices=ActionStatus.choices, default=ActionStatus.OPEN)
    visible_to_client = models.BooleanField(default=True)

    class Meta:
        ordering = ["review_id", "due_at", "id"]

    def __str__(self) -> str:
        return self.title


class ReviewFeedback(_ReviewPart):
    """How one participant of the response rated it (1 to 5), with a comment. Internal."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="feedback")
    participant = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    rating = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    comment = models.TextField(blank=True, max_length=2000)

    class Meta:
        ordering = ["review_id", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "review", "participant"], name="review_feedback_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.participant_id}: {self.rating}"


class ReportSubscription(TenantOwnedModel):
    """A tenant's periodic client report: how often, and to whom it is e-mailed."""

    frequency = models.CharField(max_length=8, choices=ReportFrequency.choices)
    recipients = ArrayField(
        models.EmailField(max_length=254),
        default=list,
        blank=True,
        size=50,
        help_text=_("E-mail addresses the report is sent to."),
    )
    is_active = models.BooleanField(default=True)
    last_period_start = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["frequency", "id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "frequency"], name="report_subscription_once")
        ]

    def __str__(self) -> str:
        return f"{self.frequency} report"


class ClientReport(TenantOwnedModel):
    """A client report of one period, its figures frozen when it was made."""

    frequency = models.CharField(max_length=8, choices=ReportFrequency.choices)
    period_start = models.DateTimeField()
    period_end = models.DateTimeField()
    data = models.JSONField(default=dict, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    emailed_at = models.DateTimeField(null=True, blank=True)
    emailed_to = ArrayField(models.EmailField(max_length=254), default=list, blank=True)

    class Meta:
        ordering = ["-period_start", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "frequency", "period_start"], name="client_report_once"
            )
        ]
        indexes = [models.Index(fields=["tenant", "-period_start"], name="client_report_recent")]

    def __str__(self) -> str:
        return f"{self.frequency} report from {self.period_start:%Y-%m-%d}"
