"""Enumerations of the incidents app. Values are stable API and database values; labels are
translatable. Shared crisis words (``CrisisTrigger``, ``Severity``, ``IncidentRole``) live in
``tenants.choices``."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class IncidentStatus(models.TextChoices):
    """The stages of an incident; the allowed moves are the transitions of
    ``incidents.models.Incident`` (table in ``docs/incidents.md``)."""

    DETECTED = "detected", _("Detected")
    TRIAGED = "triaged", _("Triaged")
    RESPONDING = "responding", _("Responding")
    MONITORING = "monitoring", _("Monitoring")
    RESOLVED = "resolved", _("Resolved")
    REVIEWED = "reviewed", _("Reviewed")
    CLOSED = "closed", _("Closed as a false alarm")


# Stages in which an incident is still being handled (timers run, alerts may attach).
OPEN_STATUSES = (
    IncidentStatus.DETECTED,
    IncidentStatus.TRIAGED,
    IncidentStatus.RESPONDING,
    IncidentStatus.MONITORING,
)


class TimelineKind(models.TextChoices):
    CREATED = "created", _("Incident opened")
    STATUS = "status", _("Status changed")
    SEVERITY = "severity", _("Severity changed")
    DETAILS = "details", _("Details changed")
    TEAM = "team", _("Team changed")
    LINK = "link", _("Link added or removed")
    TASK = "task", _("Task changed")
    NOTE = "note", _("Note")
    LEGAL_REVIEW = "legal_review", _("Legal review")
    MENTION = "mention", _("Pinned mention")
    STATEMENT = "statement", _("Public statement")
    BREACH = "breach", _("Response-time target missed")
    REMINDER = "reminder", _("Task reminder")
    OVERRIDE = "override", _("Commander powers used by someone else")
    REPLY = "reply", _("Reply to a mention sent")
    CHECK_OVERRIDE = "check_override", _("Consistency check overridden")
    APPROVAL = "approval", _("Statement drafted, submitted or decided")
    CRISIS_MODE = "crisis_mode", _("Crisis mode started or ended")
    STAKEHOLDER = "stakeholder", _("Stakeholder interaction")
    RIGHT_OF_REPLY = "right_of_reply", _("Right of reply")


# Whether an entry the services write is shown to the client role unless the writer says
# otherwise (docs/incidents.md, "Timeline"). Notes, legal review and overrides are internal.
VISIBLE_BY_DEFAULT: dict[str, bool] = {
    TimelineKind.CREATED: True,
    TimelineKind.STATUS: True,
    TimelineKind.SEVERITY: True,
    TimelineKind.DETAILS: True,
    TimelineKind.TEAM: False,
    TimelineKind.LINK: False,
    TimelineKind.TASK: True,
    TimelineKind.NOTE: False,
    TimelineKind.LEGAL_REVIEW: False,
    TimelineKind.MENTION: False,
    TimelineKind.STATEMENT: True,
    TimelineKind.BREACH: False,
    TimelineKind.REMINDER: False,
    TimelineKind.OVERRIDE: False,
    TimelineKind.REPLY: False,
    TimelineKind.CHECK_OVERRIDE: False,
    TimelineKind.APPROVAL: False,
    TimelineKind.CRISIS_MODE: True,
    TimelineKind.STAKEHOLDER: False,
    TimelineKind.RIGHT_OF_REPLY: False,
}

# The kinds a person may write by hand (the others are written by the services).
MANUAL_KINDS = (TimelineKind.NOTE, TimelineKind.LEGAL_REVIEW, TimelineKind.MENTION)


class TaskStatus(models.TextChoices):
    OPEN = "open", _("Open")
    IN_PROGRESS = "in_progress", _("In progress")
    BLOCKED = "blocked", _("Blocked")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


FINISHED_TASK_STATUSES = (TaskStatus.DONE, TaskStatus.CANCELLED)


class LinkKind(models.TextChoices):
    ALERT = "alert", _("Alert")
    MENTION = "mention", _("Mention")
    QUERY = "query", _("Monitored query")
    HOAX_CLUSTER = "hoax_cluster", _("Hoax cluster")
    OWNED_ACCOUNT = "owned_account", _("Owned account")
    URL = "url", _("Web address")


class ResponseTarget(models.TextChoices):
    """The response-time targets of a severity (``SeverityPolicy``)."""

    ACKNOWLEDGE = "acknowledge", _("Acknowledge")
    FIRST_STATEMENT = "first_statement", _("First public statement")
    UPDATE = "update", _("Update cadence")
    RESOLVE = "resolve", _("Resolve")


class ReplyStatus(models.TextChoices):
    """A reply to a mention: drafted, waiting for approval where the policy requires it, sent
    (``incidents.replies``)."""

    DRAFT = "draft", _("Draft")
    PENDING_APPROVAL = "pending_approval", _("Waiting for approval")
    SENT = "sent", _("Sent")
