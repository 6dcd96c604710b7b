"""GraphQL of the evaluation, what the client portal reads and does: its reviews (with the
lessons and action items it may see, and the figures), its client reports, and the sign-off of
a final review (``sign_off_review``, capability ``reviews.sign_off``). Callers without
``incidents.view_internal`` (the client role) see no drill's review and only items marked
``visible_to_client``; feedback ratings are never served here."""

from __future__ import annotations

from typing import Any

import strawberry
import strawberry_django
from django.db.models import Prefetch, Q, QuerySet
from strawberry.scalars import JSON

from incidents.evaluation import fields, selectors, services
from incidents.evaluation.models import ClientReport, Review, ReviewActionItem, ReviewLesson
from incidents.models import Incident
from tenants.api.pagination import DIGITS
from tenants.graphql.context import Info
from tenants.graphql.errors import bad_input, service_errors
from tenants.graphql.permissions import AUTHENTICATED as _authenticated
from tenants.graphql.permissions import current_user, tenant_access, tenant_for
from tenants.graphql.types import TenantOwnedType, UserSummaryType, public_type, tenant_ids_with
from tenants.roles import Cap

MAX_ROWS = 500


class _ClientVisible(TenantOwnedType):
    """Rows of tenants where the caller lacks ``incidents.view_internal`` (the client role):
    only those marked ``visible_to_client``, on every path that reaches them."""

    read_capability = Cap.VIEW_INCIDENTS

    @classmethod
    def get_queryset(cls, queryset: QuerySet[Any], info: Info, **kwargs: Any) -> QuerySet[Any]:
        queryset = super().get_queryset(queryset, info, **kwargs)
        internal = tenant_ids_with(info, Cap.VIEW_INCIDENT_INTERNALS)
        return queryset.filter(Q(tenant_id__in=internal) | Q(visible_to_client=True))


@public_type(fields.LESSON)
class ReviewLessonType(_ClientVisible):
    @strawberry_django.field(only=["review_id"])
    def review(self, root: ReviewLesson) -> strawberry.ID:
        return strawberry.ID(str(root.review_id))


@public_type(fields.ACTION_ITEM)
class ReviewActionItemType(_ClientVisible):
    owner: UserSummaryType | None

    @strawberry_django.field(only=["review_id"])
    def review(self, root: ReviewActionItem) -> strawberry.ID:
        return strawberry.ID(str(root.review_id))


@public_type(fields.REVIEW)
class ReviewType(TenantOwnedType):
    read_capability = Cap.VIEW_INCIDENTS
    created_by: UserSummaryType | None
    finalised_by: UserSummaryType | None
    signed_off_by: UserSummaryType | None

    @strawberry_django.field
    def lessons(self, root: Review) -> list[ReviewLessonType]:
        """What went well and what did not (the client: those marked visible; prefetched by
        the root field, in the review's tenant)."""
        return list(root.lessons.all())  # type: ignore[arg-type]

    @strawberry_django.field
    def action_items(self, root: Review) -> list[ReviewActionItemType]:
        """Action items with owners and due times (the client: those marked visible;
        prefetched by the root field)."""
        return list(root.action_items.all())  # type: ignore[arg-type]

    @classmethod
    def get_queryset(cls, queryset: QuerySet[Any], info: Info, **kwargs: Any) -> QuerySet[Any]:
        queryset = super().get_queryset(queryset, info, **kwargs)
        internal = tenant_ids_with(info, Cap.VIEW_INCIDENT_INTERNALS)
        drills = Incident.objects.for_tenant(tenant_ids_with(info, Cap.VIEW_INCIDENTS)).filter(
            is_drill=True
        )
        return queryset.exclude(incident_id__in=drills.exclude(tenant_id__in=internal).values("pk"))

    @strawberry_django.field(only=["incident_id"])
    def incident(self, root: Review) -> strawberry.ID:
        return strawberry.ID(str(root.incident_id))

    @strawberry_django.field(only=["tenant_id", "incident_id", "status", "figures"])
    def figures(self, root: Review) -> JSON | None:
        """The figures of docs/evaluation.md (frozen once final; none for a drill)."""
        return selectors.review_figures(root)  # type: ignore[return-value]


@public_type(fields.REPORT)
class ClientReportType(TenantOwnedType):
    read_capability = Cap.VIEW_MONITORING


def _page(rows: QuerySet[Any], offset: int, limit: int) -> list[Any]:
    if not 1 <= limit <= MAX_ROWS:
        raise bad_input(f"limit: between 1 and {MAX_ROWS}.", "limit")
    if not 0 <= offset <= 100_000:
        raise bad_input("offset: between 0 and 100000.", "offset")
    return list(rows[offset : offset + limit])


@strawberry.type
class EvaluationQuery:
    @strawberry_django.field(extensions=_authenticated)
    def incident_reviews(
        self,
        info: Info,
        slug: str,
        incident: strawberry.ID | None = None,
        offset: int = 0,
        limit: int = 100,
    ) -> list[ReviewType]:
        """Post-crisis reviews, newest first (of one incident when given)."""
        tenant = tenant_for(info, slug, Cap.VIEW_INCIDENTS)
        internal = tenant_access(info, slug).can(Cap.VIEW_INCIDENT_INTERNALS)
        rows = selectors.reviews(tenant=tenant, internal=internal).select_related(
            "created_by", "finalised_by", "signed_off_by"
        )
        rows = rows.prefetch_related(
            Prefetch("lessons", selectors.lesson_rows(tenant=tenant, internal=internal)),
            Prefetch("action_items", selectors.action_item_rows(tenant=tenant, internal=internal)),
        )
        if incident is not None:
            if not DIGITS.fullmatch(str(incident)):
                raise bad_input("incident: an incident id.", "incident")
            rows = rows.filter(incident_id=int(incident))
        return _page(rows, offset, limit)

    @strawberry_django.field(extensions=_authenticated)
    def client_reports(
        self, info: Info, slug: str, offset: int = 0, limit: int = 100
    ) -> list[ClientReportType]:
        """Client reports (weekly, monthly), newest period first."""
        tenant = tenant_for(info, slug, Cap.VIEW_MONITORING)
        return _page(selectors.reports(tenant=tenant), offset, limit)


@strawberry.type
class EvaluationMutation:
    @strawberry_django.mutation(extensions=_authenticated)
    def sign_off_review(
        self, info: Info, slug: str, id: strawberry.ID, comment: str = ""
    ) -> ReviewType:
        """The client signs off a final post-crisis review (once)."""
        tenant = tenant_for(info, slug, Cap.SIGN_OFF_REVIEWS)
        internal = tenant_access(info, slug).can(Cap.VIEW_INCIDENT_INTERNALS)
        review = (
            selectors.reviews(tenant=tenant, internal=internal).filter(pk=int(id)).first()
            if DIGITS.fullmatch(str(id))
            else None
        )
        if review is None:
            raise bad_input("No such review in this tenant.", "id")
        if len(comment) > 1000:
            raise bad_input("comment: at most 1000 characters.", "comment")
        with service_errors():
            services.sign_off_review(review=review, user=current_user(info), comment=comment)
        stored = Review.objects.for_tenant(tenant).select_related(
            "created_by", "finalised_by", "signed_off_by"
        )
        return stored.get(pk=review.pk)  # type: ignore[return-value]


__all__ = ["ClientReport", "EvaluationMutation", "EvaluationQuery"]
