"""GraphQL of replies to mentions and the consistency check (same rules and capabilities as
REST, ``incidents.api.replies``; the services are ``incidents.replies``)."""

from __future__ import annotations

from typing import Any

import strawberry
import strawberry_django
from django.core.exceptions import PermissionDenied

from incidents import fields, replies
from incidents.authority import Authority
from incidents.models import Incident, Reply
from tenants.api.pagination import DIGITS
from tenants.graphql.context import Info
from tenants.graphql.errors import bad_input, forbidden, service_errors
from tenants.graphql.permissions import AUTHENTICATED as _authenticated
from tenants.graphql.permissions import tenant_access, tenant_for
from tenants.graphql.types import TenantOwnedType, UserSummaryType, public_type
from tenants.models import Tenant, User
from tenants.roles import Cap

MAX_ROWS = 500


@strawberry.type(name="ConsistencyFinding")
class FindingType:
    category: str
    start: int
    end: int
    excerpt: str
    reason: str


@strawberry.type(name="ConsistencyCheck")
class CheckResultType:
    flagged: bool
    findings: list[FindingType]


@strawberry.type(name="AnswerSuggestion")
class SuggestionType:
    id: strawberry.ID
    question: str
    answer: str
    language: str
    score: float


def _findings(rows: list[dict[str, Any]]) -> list[FindingType]:
    return [
        FindingType(
            category=row["category"],
            start=row["start"],
            end=row["end"],
            excerpt=row["excerpt"],
            reason=row["reason"],
        )
        for row in rows
    ]


@public_type(fields.REPLY)
class ReplyType(TenantOwnedType):
    read_capability = Cap.VIEW_INCIDENT_INTERNALS
    overridden_by: UserSummaryType | None
    approved_by: UserSummaryType | None
    sent_by: UserSummaryType | None
    created_by: UserSummaryType | None

    @strawberry_django.field(only=["mention_id"])
    def mention(self, root: Reply) -> strawberry.ID | None:
        return strawberry.ID(str(root.mention_id)) if root.mention_id else None

    @strawberry_django.field(only=["incident_id"])
    def incident(self, root: Reply) -> strawberry.ID | None:
        return strawberry.ID(str(root.incident_id)) if root.incident_id else None

    @strawberry_django.field(only=["canned_answer_id"])
    def canned_answer(self, root: Reply) -> strawberry.ID | None:
        return strawberry.ID(str(root.canned_answer_id)) if root.canned_answer_id else None

    @strawberry_django.field(only=["findings"])
    def findings(self, root: Reply) -> list[FindingType]:
        return _findings(root.findings)


def _id(value: Any, field: str) -> int:
    if value is None or not DIGITS.fullmatch(str(value)):
        raise bad_input(f"{field}: an id.", field)
    return int(value)


def _authority(info: Info, slug: str) -> Authority:
    user = info.context.request.user
    return Authority(
        user=user if isinstance(user, User) else None,
        capabilities=tenant_access(info, slug).capabilities,
    )


def _reply(tenant: Tenant, value: Any) -> Reply:
    found = Reply.objects.for_tenant(tenant).filter(pk=_id(value, "id")).first()
    if found is None:
        raise bad_input("id: No such reply in this tenant.", "id")
    return found


def _fresh(tenant: Tenant, reply: Reply) -> ReplyType:
    rows = Reply.objects.for_tenant(tenant).select_related(
        "overridden_by", "approved_by", "sent_by", "created_by"
    )
    return rows.get(pk=reply.pk)  # type: ignore[return-value]


@strawberry.type
class RepliesQuery:
    @strawberry_django.field(extensions=_authenticated)
    def replies(
        self,
        info: Info,
        slug: str,
        incident: strawberry.ID | None = None,
        mention: strawberry.ID | None = None,
        status: list[str] | None = None,
        offset: int = 0,
        limit: int = 100,
    ) -> list[ReplyType]:
        """Replies to mentions, newest first (``limit`` at most 500)."""
        tenant = tenant_for(info, slug, Cap.VIEW_INCIDENT_INTERNALS)
        rows = Reply.objects.for_tenant(tenant)
        if incident is not None:
            rows = rows.filter(incident_id=_id(incident, "incident"))
        if mention is not None:
            rows = rows.filter(mention_id=_id(mention, "mention"))
        if status:
            rows = rows.filter(status__in=status)
        if not 1 <= limit <= MAX_ROWS:
            raise bad_input(f"limit: between 1 and {MAX_ROWS}.", "limit")
        if not 0 <= offset <= 100_000:
            raise bad_input("offset: between 0 and 100000.", "offset")
        return list(rows[offset : offset + limit])  # type: ignore[arg-type]

    @strawberry_django.field(extensions=_authenticated)
    def consistency_check(
        self, info: Info, slug: str, text: str, incident: strawberry.ID | None = None
    ) -> CheckResultType:
        """Check any outgoing text against an incident's approved line (writes nothing)."""
        tenant = tenant_for(info, slug, Cap.VIEW_INCIDENT_INTERNALS)
        chosen: Incident | None = None
        if incident is not None:
            incidents = Incident.objects.for_tenant(tenant)
            chosen = incidents.filter(pk=_id(incident, "incident")).first()
            if chosen is None:
                raise bad_input("incident: No such incident in this tenant.", "incident")
        with service_errors():
            found = replies.check_text(text=text, incident=chosen)
        return CheckResultType(flagged=bool(found), findings=_findings(found))

    @strawberry_django.field(extensions=_authenticated)
    def answer_suggestions(
        self, info: Info, slug: str, mention: strawberry.ID
    ) -> list[SuggestionType]:
        """The three approved canned answers closest to a mention, with their scores."""
        tenant = tenant_for(info, slug, Cap.VIEW_INCIDENT_INTERNALS)
        with service_errors():
            found = replies.suggest_answers(tenant=tenant, mention=_id(mention, "mention"))
        return [
            SuggestionType(
                id=strawberry.ID(str(s.answer.pk)),
                question=s.answer.question,
                answer=s.answer.answer,
                language=s.answer.language,
                score=s.score,
            )
            for s in found
        ]


@strawberry.type
class RepliesMutation:
    @strawberry_django.mutation(extensions=_authenticated)
    def draft_reply(
        self,
        info: Info,
        slug: str,
        mention: strawberry.ID,
        text: str,
        incident: strawberry.ID | None = None,
        canned_answer: strawberry.ID | None = None,
    ) -> ReplyType:
        """Draft a reply to a mention; it is checked at once."""
        tenant = tenant_for(info, slug, Cap.DRAFT_REPLIES)
        with service_errors():
            reply = replies.draft_reply(
                tenant=tenant,
                mention=str(mention),
                text=text,
                incident=None if incident is None else str(incident),
                canned_answer=None if canned_answer is None else str(canned_answer),
                authority=_authority(info, slug),
            )
        return _fresh(tenant, reply)

    @strawberry_django.mutation(extensions=_authenticated)
    def update_reply(self, info: Info, slug: str, id: strawberry.ID, text: str) -> ReplyType:
        """Change a draft's text (checked again; an override no longer applies)."""
        tenant = tenant_for(info, slug, Cap.DRAFT_REPLIES)
        with service_errors():
            reply = replies.update_reply(
                instance=_reply(tenant, id), text=text, authority=_authority(info, slug)
            )
        return _fresh(tenant, reply)

    @strawberry_django.mutation(extensions=_authenticated)
    def submit_reply(self, info: Info, slug: str, id: strawberry.ID) -> ReplyType:
        """Send a draft, or leave it waiting for approval where the policy requires."""
        tenant = tenant_for(info, slug, Cap.DRAFT_REPLIES)
        with service_errors():
            reply = replies.submit_reply(
                instance=_reply(tenant, id), authority=_authority(info, slug)
            )
        return _fresh(tenant, reply)

    @strawberry_django.mutation(extensions=_authenticated)
    def approve_reply(self, info: Info, slug: str, id: strawberry.ID) -> ReplyType:
        """Approve a reply waiting for approval: it is recorded as sent."""
        tenant = tenant_for(info, slug, Cap.APPROVE_STATEMENTS)
        with service_errors():
            reply = replies.approve_reply(
                instance=_reply(tenant, id), authority=_authority(info, slug)
            )
        return _fresh(tenant, reply)

    @strawberry_django.mutation(extensions=_authenticated)
    def override_reply_check(
        self, info: Info, slug: str, id: strawberry.ID, reason: str
    ) -> ReplyType:
        """The commander's override of a flagged reply at SEV1-SEV2, with a reason."""
        tenant = tenant_for(info, slug, Cap.MANAGE_INCIDENTS)
        try:
            with service_errors():
                reply = replies.override_check(
                    instance=_reply(tenant, id), reason=reason, authority=_authority(info, slug)
                )
        except PermissionDenied as exc:
            raise forbidden(str(exc)) from None
        return _fresh(tenant, reply)
