"""Writes of the playbooks app, shared by REST, GraphQL and the admin.

Canned answers: keyword-only services, each in a transaction, raising ``ValidationError`` keyed
by field. Rules: the question is unique per tenant and language; approving records who and
when; changing the question, answer or language of an approved answer sends it back to draft
(it must be approved again before it is suggested or served); uses are counted atomically.
A chat widget's key is made with it and can be rotated.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from playbooks.choices import AnswerStatus
from playbooks.models import AnswerWidget, CannedAnswer, new_widget_key
from tenants.models import Tenant, User
from tenants.writes import create_row, delete_row, update_row

ANSWER_WRITABLE = ("question", "answer", "language", "status")
_CONTENT = ("question", "answer", "language")


def _status(value: Any) -> str:
    if value not in AnswerStatus.values:
        raise ValidationError(
            {
                "status": ValidationError(
                    _("Write one of: %(values)s.") % {"values": ", ".join(AnswerStatus.values)},
                    code="invalid_choice",
                )
            }
        )
    return str(value)


@transaction.atomic
def create_answer(
    *, tenant: Tenant, actor: User | None = None, status: str = AnswerStatus.DRAFT, **values: Any
) -> CannedAnswer:
    status = _status(status)
    extra: dict[str, Any] = {}
    if status == AnswerStatus.APPROVED:
        extra = {"approved_by": actor, "approved_at": timezone.now()}
    return create_row(
        CannedAnswer, tenant=tenant, created_by=actor, status=status, **values, **extra
    )


@transaction.atomic
def update_answer(
    *, instance: CannedAnswer, actor: User | None = None, **changes: Any
) -> CannedAnswer:
    """Change an answer. Approving (``status="approved"``) records ``actor``; changing the text
    of an approved answer without approving it again in the same call makes it a draft."""
    stored = CannedAnswer.objects.for_tenant(instance.tenant_id).get(pk=instance.pk)
    if "status" in changes:
        changes["status"] = _status(changes["status"])
    content_changed = any(
        name in changes and changes[name] != getattr(stored, name) for name in _CONTENT
    )
    becomes = changes.get("status", stored.status)
    if content_changed and stored.status == AnswerStatus.APPROVED and "status" not in changes:
        becomes = changes["status"] = AnswerStatus.DRAFT
    extra: dict[str, Any] = {}
    if becomes == AnswerStatus.APPROVED and (
        stored.status != AnswerStatus.APPROVED or content_changed
    ):
        extra = {"approved_by": actor, "approved_at": timezone.now()}
    elif becomes != AnswerStatus.APPROVED:
        extra = {"approved_by": None, "approved_at": None}
    return update_row(instance, writable=(*ANSWER_WRITABLE, *extra), **changes, **extra)


def approve_answer(*, instance: CannedAnswer, actor: User | None = None) -> CannedAnswer:
    return update_answer(instance=instance, actor=actor, status=AnswerStatus.APPROVED)


def delete_answer(*, instance: CannedAnswer) -> None:
    delete_row(instance)


def record_use(*, answer: CannedAnswer) -> None:
    """Count one use of ``answer`` (one atomic ``UPDATE``; concurrent uses all count)."""
    CannedAnswer.objects.for_tenant(answer.tenant_id).filter(pk=answer.pk).update(
        usage_count=F("usage_count") + 1
    )


# --- the chat widget ------------------------------------------------------------------------------


def rotate_widget_key(*, instance: AnswerWidget) -> AnswerWidget:
    """A new key for the widget; the old one stops working at once."""
    return update_row(instance, writable=("key",), key=new_widget_key())


def update_widget(*, instance: AnswerWidget, **changes: Any) -> AnswerWidget:
    return update_row(instance, writable=("name", "allowed_origins", "is_enabled"), **changes)


def create_widget(*, tenant: Tenant, **values: Any) -> AnswerWidget:
    return create_row(AnswerWidget, tenant=tenant, **values)


def delete_widget(*, instance: AnswerWidget) -> None:
    delete_row(instance)
