"""Reads of the playbooks app, always given the tenant. The owner index
(``playbook_owner``: agency, tenant) serves ``Playbook.objects.for_tenant``.

Canned answers: ``approved_answers`` (index ``canned_answer_status``: tenant, status) feeds the
suggestions and the chat widget; ``suggest`` ranks them by similarity to a text
(``playbooks.matching``) and returns the best three with their scores.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from playbooks import matching as answer_matching
from playbooks import rules
from playbooks.choices import AnswerStatus
from playbooks.models import AnswerWidget, CannedAnswer, Playbook, PlaybookQuerySet, PlaybookVersion
from tenants.models import Tenant


def playbooks(*, tenant: Tenant) -> PlaybookQuerySet:
    """The tenant's own playbooks and its agency's, by name (index ``playbook_owner``)."""
    return Playbook.objects.for_tenant(tenant).prefetch_related("steps")


def matching(
    *, tenant: Tenant, trigger: str, severity: str, tags: Iterable[str] = ()
) -> list[Playbook]:
    """The active playbooks of the tenant (and its agency) whose conditions hold for an
    incident of ``trigger``, ``severity`` and ``tags`` (``playbooks.rules.matches``)."""
    tag_list = list(tags)
    return [
        playbook
        for playbook in Playbook.objects.for_tenant(tenant).filter(is_active=True).order_by("pk")
        if rules.matches(
            trigger_types=playbook.trigger_types,
            min_severity=playbook.min_severity,
            tags=playbook.tags,
            language=playbook.language,
            incident_trigger=trigger,
            incident_severity=severity,
            incident_tags=tag_list,
            tenant_language=tenant.default_language,
        )
    ]


def current_snapshot(playbook: Playbook) -> dict[str, Any]:
    """The snapshot of the playbook's current version (index ``playbook_version_once``)."""
    version = PlaybookVersion.objects.filter(playbook=playbook, number=playbook.version).first()
    if version is not None:
        return dict(version.snapshot)
    from playbooks.services import snapshot

    return snapshot(playbook)


# --- canned answers and the chat widget (issue 16) ---
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
    ranked = answer_matching.rank(text, documents, limit=limit, normalise=normalise)
    return [Suggestion(by_id[pk], score) for pk, score in ranked]


def widget_for_key(*, tenant: Tenant, key: str) -> AnswerWidget | None:
    """The tenant's enabled widget whose key is ``key`` (each compared in constant time)."""
    found = None
    for widget in AnswerWidget.objects.for_tenant(tenant).filter(is_enabled=True)[:50]:
        if hmac.compare_digest(widget.key.encode(), key.encode()):
            found = widget
    return found
