"""Root GraphQL fields of the playbooks app: the playbooks a tenant sees (its own and its
agency's), with ``slug`` and access checked like REST.

The canned-answer library (``CannedAnswersQuery``, ``CannedAnswersMutation``: read with
``incidents.view_internal``, written with ``answers.manage``, like REST's ``canned-answers/``);
the chat widget's key is REST and admin only.
"""

from __future__ import annotations

from typing import Any

import strawberry
import strawberry_django

from playbooks import fields, selectors, services
from playbooks.graphql.types import PlaybookType
from playbooks.models import CannedAnswer
from tenants.api.pagination import DIGITS
from tenants.graphql.context import Info
from tenants.graphql.errors import bad_input, service_errors
from tenants.graphql.permissions import AUTHENTICATED as _authenticated
from tenants.graphql.permissions import tenant_for
from tenants.graphql.types import TenantOwnedType, UserSummaryType, public_type
from tenants.models import Tenant, User
from tenants.roles import Cap


@strawberry.type
class PlaybooksQuery:
    @strawberry_django.field(extensions=_authenticated)
    def playbooks(
        self, info: Info, slug: str, trigger: str | None = None, limit: int = 100
    ) -> list[PlaybookType]:
        """The tenant's playbooks and its agency's, by name (of one trigger when given;
        ``limit`` at most 500)."""
        tenant = tenant_for(info, slug, Cap.VIEW_PLAYBOOKS)
        if not 1 <= limit <= 500:
            raise bad_input("limit: between 1 and 500.", "limit")
        rows = selectors.playbooks(tenant=tenant)
        if trigger is not None:
            rows = rows.filter(trigger_types__contains=[trigger]) | rows.filter(trigger_types=[])
        return list(rows[:limit])  # type: ignore[arg-type]


# --- canned answers (issue 16) ---


@public_type(fields.CANNED_ANSWER)
class CannedAnswerType(TenantOwnedType):
    read_capability = Cap.VIEW_INCIDENT_INTERNALS
    approved_by: UserSummaryType | None


def _actor(info: Info) -> User | None:
    user = info.context.request.user
    return user if isinstance(user, User) else None


def _answer(tenant: Tenant, value: Any) -> CannedAnswer:
    found = None
    if DIGITS.fullmatch(str(value)):
        found = selectors.answers(tenant=tenant).filter(pk=int(value)).first()
    if found is None:
        raise bad_input("id: No such canned answer in this tenant.", "id")
    return found


def _fresh(tenant: Tenant, answer: CannedAnswer) -> CannedAnswerType:
    rows = selectors.answers(tenant=tenant).select_related("approved_by")
    return rows.get(pk=answer.pk)  # type: ignore[return-value]


@strawberry.type
class CannedAnswersQuery:
    @strawberry_django.field(extensions=_authenticated)
    def canned_answers(
        self,
        info: Info,
        slug: str,
        status: str | None = None,
        language: str | None = None,
    ) -> list[CannedAnswerType]:
        """The tenant's canned answers by language and question."""
        tenant = tenant_for(info, slug, Cap.VIEW_INCIDENT_INTERNALS)
        rows = selectors.answers(tenant=tenant)
        if status is not None:
            rows = rows.filter(status=status)
        if language is not None:
            rows = rows.filter(language=language)
        return rows  # type: ignore[return-value]


@strawberry.type
class CannedAnswersMutation:
    @strawberry_django.mutation(extensions=_authenticated)
    def create_canned_answer(
        self,
        info: Info,
        slug: str,
        question: str,
        answer: str,
        language: str = "id",
        status: str = "draft",
    ) -> CannedAnswerType:
        """Add an answer to the library (``status: "approved"`` approves it at once)."""
        tenant = tenant_for(info, slug, Cap.MANAGE_ANSWERS)
        with service_errors():
            row = services.create_answer(
                tenant=tenant,
                actor=_actor(info),
                question=question,
                answer=answer,
                language=language,
                status=status,
            )
        return _fresh(tenant, row)

    @strawberry_django.mutation(extensions=_authenticated)
    def update_canned_answer(
        self,
        info: Info,
        slug: str,
        id: strawberry.ID,
        question: str | None = None,
        answer: str | None = None,
        language: str | None = None,
        status: str | None = None,
    ) -> CannedAnswerType:
        """Change or approve an answer; changing an approved answer's text makes it a draft."""
        tenant = tenant_for(info, slug, Cap.MANAGE_ANSWERS)
        row = _answer(tenant, id)
        changes = {
            name: value
            for name, value in (
                ("question", question),
                ("answer", answer),
                ("language", language),
                ("status", status),
            )
            if value is not None
        }
        with service_errors():
            services.update_answer(instance=row, actor=_actor(info), **changes)
        return _fresh(tenant, row)
