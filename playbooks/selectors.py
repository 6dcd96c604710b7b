"""Reads of the playbooks app, always given the tenant.

Canned answers: ``approved_answers`` (index ``canned_answer_status``: tenant, status) feeds the
suggestions and the chat widget; ``suggest`` ranks them by similarity to a text
(``playbooks.matching``) and returns the best three with their scores.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import QuerySet

from playbooks import matching
from playbooks.choices import AnswerStatus
from playbooks.models import AnswerWidget, CannedAnswer
from tenants.models import Tenant

MAX_LIBRARY = 2000  # answers compared per suggestion (the most used first)


@dataclass(frozen=True)
class Suggestion:
    answer: CannedAnswer
    score: float


def answers(*, tenant: Tenant | int) -> QuerySet[CannedAnswer]:
    return CannedAnswer.objects.for_tenant(tenant)


def approved_answers(
    *, tenant: Tenant | int, language: str | None = None
) -> QuerySet[CannedAnswer]:
    rows = CannedAnswer.objects.for_tenant(tenant).filter(status=AnswerStatus.APPROVED)
    return rows.filter(language=language) if language else rows


def suggest(
    *,
    tenant: Tenant | int,
    text: str,
    language: str | None = None,
    limit: int = 3,
    normalise: Callable[[str], str] | None = None,
) -> list[Suggestion]:
    """The ``limit`` approved answers closest to ``text`` (question and answer compared, the
    question counted twice), best first."""
    library = list(
        approved_answers(tenant=tenant, language=language).order_by("-usage_count", "id")[
            :MAX_LIBRARY
        ]
    )
    by_id = {answer.pk: answer for answer in library}
    documents = [
        (answer.pk, f"{answer.question} {answer.question} {answer.answer}") for answer in library
    ]
    ranked = matching.rank(text, documents, limit=limit, normalise=normalise)
    return [Suggestion(by_id[pk], score) for pk, score in ranked]


def widget_for_key(*, tenant: Tenant, key: str) -> AnswerWidget | None:
    """The tenant's enabled widget whose key is ``key`` (each compared in constant time)."""
    found = None
    for widget in AnswerWidget.objects.for_tenant(tenant).filter(is_enabled=True)[:50]:
        if hmac.compare_digest(widget.key.encode(), key.encode()):
            found = widget
    return found
