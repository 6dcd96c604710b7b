"""Enumerations of the playbooks app (stable API and database values, translatable labels)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class AnswerLanguage(models.TextChoices):
    INDONESIAN = "id", _("Indonesian")
    ENGLISH = "en", _("English")


class AnswerStatus(models.TextChoices):
    """Only approved answers are suggested and served by the chat widget."""

    DRAFT = "draft", _("Draft")
    APPROVED = "approved", _("Approved")
    RETIRED = "retired", _("Retired")
