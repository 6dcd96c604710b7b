"""Canned answers (issue 16): ``CannedAnswer`` and ``AnswerWidget``, models of the playbooks app
(re-exported by ``playbooks.models``). Depends on ``tenants`` only.

- a canned answer is a tenant's approved answer to a common question, per language; only
  ``approved`` answers are suggested for mentions and served by the chat widget; editing the
  question or the answer of an approved one sends it back to draft (``playbooks.services``);
- ``usage_count`` counts the replies that used it;
- a chat widget (one per website of the tenant) is a publishable key (read-only: it can only
  read approved answers) and the web origins allowed to call it (CORS).
"""

from __future__ import annotations

import re
import secrets
from typing import Any

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext as _

from playbooks.choices import AnswerLanguage, AnswerStatus
from tenants.models import TenantOwnedModel


class CannedAnswer(TenantOwnedModel):
    """An answer to a common question, in one language, that replies and the chat widget use."""

    question = models.CharField(max_length=300)
    answer = models.TextField(max_length=2000)
    language = models.CharField(
        max_length=8, choices=AnswerLanguage.choices, default=AnswerLanguage.INDONESIAN
    )
    status = models.CharField(
        max_length=16, choices=AnswerStatus.choices, default=AnswerStatus.DRAFT
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    usage_count = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["language", "question", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "language", "question"], name="canned_answer_once"
            )
        ]
        indexes = [models.Index(fields=["tenant", "status"], name="canned_answer_status")]

    def __str__(self) -> str:
        return f"{self.question} ({self.language})"

    def clean(self) -> None:
        super().clean()
        self.question = " ".join((self.question or "").split())
        if not self.question:
            raise ValidationError({"question": _("This field may not be blank.")})
        if not (self.answer or "").strip():
            raise ValidationError({"answer": _("This field may not be blank.")})
        self.answer = self.answer.strip()


def new_widget_key() -> str:
    """A publishable widget key: ``wk_`` and 32 random URL-safe characters."""
    return "wk_" + secrets.token_urlsafe(24)


ORIGIN = re.compile(
    r"^(https://[a-z0-9.-]+(:\d{1,5})?|http://(localhost|127\.0\.0\.1)(:\d{1,5})?)$"
)


def validate_origins(value: Any) -> None:
    """Each origin is ``https://host[:port]`` (``http://`` for localhost only), no path."""
    if not isinstance(value, list) or len(value) > 20:
        raise ValidationError(_("A list of at most 20 origins."), code="invalid_origins")
    for origin in value:
        if not isinstance(origin, str) or not ORIGIN.match(origin):
            raise ValidationError(
                _("'%(origin)s' is not an origin like https://www.example.co.id.")
                % {"origin": origin},
                code="invalid_origins",
            )


class AnswerWidget(TenantOwnedModel):
    """A chat widget of the tenant (one per website): its publishable key and the origins
    allowed to call it."""

    name = models.CharField(max_length=100, help_text="Where it runs, e.g. the main website.")
    key = models.CharField(max_length=64, default=new_widget_key, editable=False)
    allowed_origins = ArrayField(
        models.CharField(max_length=200),
        default=list,
        blank=True,
        size=20,
        validators=[validate_origins],
        help_text="Web origins (https://host) whose pages may call the widget endpoint.",
    )
    is_enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "name"], name="answer_widget_name_once"),
            models.UniqueConstraint(fields=["tenant", "key"], name="answer_widget_key_once"),
        ]

    def __str__(self) -> str:
        return self.name
