"""Enumerations of statements, crisis mode and stakeholders (stable API and database values)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class VersionStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Awaiting approval")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    WITHDRAWN = "withdrawn", _("Replaced by a newer version")


class StepMode(models.TextChoices):
    ANY = "any", _("Any one of its approvers")
    ALL = "all", _("All of its approvers")


class StepKind(models.TextChoices):
    AGENCY = "agency", _("Agency approvers (statements.approve)")
    CLIENT = "client", _("The incident's client approver")


class Decision(models.TextChoices):
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


class DecisionVia(models.TextChoices):
    API = "api", _("REST API")
    PORTAL = "portal", _("Client portal (GraphQL)")
    LINK = "link", _("E-mailed link")
    ADMIN = "admin", _("Admin")


class Channel(models.TextChoices):
    X = "x", _("X")
    INSTAGRAM = "instagram", _("Instagram")
    FACEBOOK = "facebook", _("Facebook")
    TIKTOK = "tiktok", _("TikTok")
    WEBSITE = "website", _("Website")
    PRESS_RELEASE = "press_release", _("Press release")


class StakeholderKind(models.TextChoices):
    JOURNALIST = "journalist", _("Journalist")
    OUTLET = "outlet", _("Media outlet")
    REGULATOR = "regulator", _("Regulator")
    KOL = "kol", _("Key opinion leader")
    PARTNER = "partner", _("Partner")
    EMPLOYEE = "employee", _("Employee")


class InteractionChannel(models.TextChoices):
    EMAIL = "email", _("E-mail")
    PHONE = "phone", _("Phone")
    MEETING = "meeting", _("Meeting")
    MESSAGE = "message", _("Chat or direct message")
    PRESS_CONFERENCE = "press_conference", _("Press conference")
    OTHER = "other", _("Other")


class CrisisEvent(models.TextChoices):
    STARTED = "crisis_mode.started", _("Crisis mode started")
    ENDED = "crisis_mode.ended", _("Crisis mode ended")
