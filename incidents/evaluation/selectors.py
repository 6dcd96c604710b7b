"""Reads of the evaluation: keyword-only, given the tenant and whether the caller sees
internal material (``incidents.view_internal``). Without it (the client role) a caller sees no
review of a drill, only lessons and action items marked ``visible_to_client``, and no feedback.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import QuerySet

from incidents.evaluation.figures import DrillError, incident_figures
from incidents.evaluation.models import (
    ClientReport,
    ReportSubscription,
    Review,
    ReviewActionItem,
    ReviewFeedback,
    ReviewLesson,
)
from incidents.models import Incident
from tenants.models import Tenant


def reviews(*, tenant: Tenant | int, internal: bool) -> QuerySet[Review]:
    """Reviews, newest first; no drills' reviews without internal access."""
    rows = Review.objects.for_tenant(tenant)
    if internal:
        return rows
    drills = Incident.objects.for_tenant(tenant).filter(is_drill=True).values("pk")
    return rows.exclude(incident_id__in=drills)


def lessons(*, review: Review, internal: bool) -> list[ReviewLesson]:
    rows = ReviewLesson.objects.for_tenant(review.tenant_id).filter(review_id=review.pk)
    return list(rows if internal else rows.filter(visible_to_client=True))


def action_items(*, review: Review, internal: bool) -> list[ReviewActionItem]:
    rows = (
        ReviewActionItem.objects.for_tenant(review.tenant_id)
        .filter(review_id=review.pk)
        .select_related("owner")
    )
    return list(rows if internal else rows.filter(visible_to_client=True))


def feedback(*, review: Review) -> list[ReviewFeedback]:
    return list(
        ReviewFeedback.objects.for_tenant(review.tenant_id)
        .filter(review_id=review.pk)
        .select_related("participant")
    )


def lesson_rows(*, tenant: Tenant | int, internal: bool) -> QuerySet[ReviewLesson]:
    rows = ReviewLesson.objects.for_tenant(tenant)
    return rows if internal else rows.filter(visible_to_client=True)


def action_item_rows(*, tenant: Tenant | int, internal: bool) -> QuerySet[ReviewActionItem]:
    rows = ReviewActionItem.objects.for_tenant(tenant).select_related("owner")
    return rows if internal else rows.filter(visible_to_client=True)


def feedback_rows(*, tenant: Tenant | int) -> QuerySet[ReviewFeedback]:
    return ReviewFeedback.objects.for_tenant(tenant).select_related("participant")


def review_figures(review: Review, *, now: datetime | None = None) -> dict[str, Any] | None:
    """The frozen figures of a Final review, else the incident's figures now (None for a
    drill)."""
    if review.is_final:
        return review.figures
    incident = Incident.objects.for_tenant(review.tenant_id).get(pk=review.incident_id)
    try:
        return incident_figures(incident, now=now)
    except DrillError:
        return None


def reports(*, tenant: Tenant | int) -> QuerySet[ClientReport]:
    """Client reports, newest period first (index ``client_report_recent``)."""
    return ClientReport.objects.for_tenant(tenant)


def subscriptions(*, tenant: Tenant | int) -> QuerySet[ReportSubscription]:
    return ReportSubscription.objects.for_tenant(tenant)
