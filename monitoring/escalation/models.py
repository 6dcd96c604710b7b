"""Escalation policies and the escalation state of each alert (imported by
``monitoring.models``)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from tenants.choices import Severity
from tenants.models import TenantOwnedModel

MAX_STEPS = 10
MAX_REPEAT = 10
MAX_WAIT_MINUTES = 24 * 60
STEP_KEYS = frozenset({"wait_minutes", "users", "channels", "on_call"})


def _positive_ids(value: Any) -> bool:
    return isinstance(value, list) and all(
        isinstance(item, int) and not isinstance(item, bool) and 0 < item < 2**63 for item in value
    )


def validate_steps(value: Any) -> None:
    """The shape of a policy's steps: a list (1 to 10) of objects with ``users`` and
    ``channels`` (lists of ids), ``on_call`` (true/false) and ``wait_minutes`` (0 to 1440, how
    long to wait after this step before the next); every step reaches someone."""
    if not isinstance(value, list) or not 1 <= len(value) <= MAX_STEPS:
        raise ValidationError(
            _("Give between 1 and %(max)s steps.") % {"max": MAX_STEPS}, code="invalid"
        )
    for number, step in enumerate(value, start=1):
        if not isinstance(step, dict) or not set(step) <= STEP_KEYS:
            raise ValidationError(
                _("Step %(n)s: an object with wait_minutes, users, channels and on_call.")
                % {"n": number},
                code="invalid",
            )
        wait = step.get("wait_minutes", 0)
        if not isinstance(wait, int) or isinstance(wait, bool) or not 0 <= wait <= MAX_WAIT_MINUTES:
            raise ValidationError(
                _("Step %(n)s: wait_minutes must be a whole number from 0 to %(max)s.")
                % {"n": number, "max": MAX_WAIT_MINUTES},
                code="invalid",
            )
        users, channels = step.get("users", []), step.get("channels", [])
        if not _positive_ids(users) or not _positive_ids(channels):
            raise ValidationError(
                _("Step %(n)s: users and channels must be lists of ids.") % {"n": number},
                code="invalid",
            )
        if not isinstance(step.get("on_call", False), bool):
            raise ValidationError(
                _("Step %(n)s: on_call must be true or false.") % {"n": number}, code="invalid"
            )
        if not users and not channels and not step.get("on_call"):
            raise ValidationError(
                _("Step %(n)s reaches nobody: name users, channels or on_call.") % {"n": number},
                code="invalid",
            )


class EscalationPolicy(TenantOwnedModel):
    """What happens when an alert of one severity opens in this tenant: the ``steps`` in
    order, then, while nobody has acknowledged, the whole list again up to ``repeat`` times.
    One enabled policy per severity (disabled ones may wait as drafts)."""

    name = models.CharField(_("name"), max_length=120)
    severity = models.CharField(_("severity"), max_length=8, choices=Severity.choices)
    steps = models.JSONField(_("steps"), default=list, validators=[validate_steps])
    repeat = models.PositiveSmallIntegerField(
        _("repeat"),
        default=0,
        validators=[MaxValueValidator(MAX_REPEAT)],
        help_text=_("How many more times to run the steps while nobody acknowledges."),
    )
    enabled = models.BooleanField(_("enabled"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("escalation policy")
        verbose_name_plural = _("escalation policies")
        ordering = ["severity", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "severity"],
                condition=models.Q(enabled=True),
                name="escalation_one_policy_per_severity",
            )
        ]

    def __str__(self) -> str:
        return self.name


class EscalationState(models.TextChoices):
    ACTIVE = "active", _("Active")
    STOPPED = "stopped", _("Stopped (acknowledged or closed)")
    DONE = "done", _("Done (every step and repeat ran)")


class AlertEscalation(TenantOwnedModel):
    """Where one alert's escalation stands: the next step to run (``step``, in ``round``) and
    when (``next_at``). Started when the alert opens; the step task advances it."""

    alert = models.ForeignKey(
        "monitoring.Alert", on_delete=models.CASCADE, related_name="escalations"
    )
    policy = models.ForeignKey(
        EscalationPolicy, null=True, on_delete=models.SET_NULL, related_name="escalations"
    )
    step = models.PositiveSmallIntegerField(default=0)
    round = models.PositiveSmallIntegerField(default=0)
    next_at = models.DateTimeField(null=True, blank=True)
    state = models.CharField(
        max_length=16, choices=EscalationState.choices, default=EscalationState.ACTIVE
    )
    stopped_reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("alert escalation")
        verbose_name_plural = _("alert escalations")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "alert"], name="escalation_one_per_alert")
        ]
        indexes = [
            models.Index(
                fields=["next_at"], condition=models.Q(state="active"), name="escalation_due"
            )
        ]

    def __str__(self) -> str:
        return f"escalation of alert {self.alert_id}"
