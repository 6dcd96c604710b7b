"""The admin of the evaluation (imported by ``incidents.admin``): reviews read-only with their
figures, the incident's timeline chart (the project's chart module, as the overview pages use)
and their lessons, action items and feedback inline; report subscriptions written through the
services; client reports read-only. Reviews are written over the API and the portal, where the
commander's powers and the client's sign-off are checked."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from incidents.evaluation import charts, documents, selectors, services
from incidents.evaluation.figures import DrillError
from incidents.evaluation.models import (
    ClientReport,
    ReportSubscription,
    Review,
    ReviewActionItem,
    ReviewFeedback,
    ReviewLesson,
)
from incidents.models import Incident
from tenants.admin_mixins import (
    ReadOnlyMixin,
    ReadOnlyTenantInline,
    ScopedModelAdmin,
    ServiceModelAdmin,
    TenantFilter,
)


class LessonInline(ReadOnlyTenantInline):
    model = ReviewLesson
    fields = ("kind", "text", "visible_to_client")
    readonly_fields = fields


class ActionItemInline(ReadOnlyTenantInline):
    model = ReviewActionItem
    fields = ("title", "owner", "due_at", "status", "visible_to_client")
    readonly_fields = fields


class FeedbackInline(ReadOnlyTenantInline):
    model = ReviewFeedback
    fields = ("participant", "rating", "comment")
    readonly_fields = fields


@admin.register(Review)
class ReviewAdmin(ReadOnlyMixin, ScopedModelAdmin):
    list_display = ("incident", "tenant", "status", "finalised_at", "signed_off_at")
    list_filter = (TenantFilter, "status")
    list_select_related = ("tenant", "incident")
    fields = (
        "tenant",
        "incident_title",
        "status",
        "summary",
        "finalised_by",
        "finalised_at",
        "signed_off_by",
        "signed_off_at",
        "figure_table",
        "timeline_chart",
    )
    readonly_fields = fields
    inlines = (LessonInline, ActionItemInline, FeedbackInline)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description=_("incident"))
    def incident_title(self, obj: Review) -> str:
        # read pinned to the review's tenant (a plain foreign-key display would not be)
        return str(Incident.objects.for_tenant(obj.tenant_id).get(pk=obj.incident_id))

    @admin.display(description=_("Figures"))
    def figure_table(self, obj: Review) -> str:
        figures = selectors.review_figures(obj)
        if figures is None:
            return str(_("Drills are left out of every figure."))
        rows = documents.figure_rows(figures, obj.tenant)
        return format_html_join(
            "", "<div><strong>{}</strong>: {}</div>", ((label, value) for label, value in rows)
        )

    @admin.display(description=_("Volume and sentiment"))
    def timeline_chart(self, obj: Review) -> str:
        incident = (
            Incident.objects.for_tenant(obj.tenant_id)
            .select_related("tenant")
            .get(pk=obj.incident_id)
        )
        try:
            svg, _type = charts.render("timeline", incident, "svg")
        except DrillError:
            return "—"
        # matplotlib's own markup: every text in it is escaped by its SVG writer
        return mark_safe(svg.decode("utf-8"))  # noqa: S308


@admin.register(ReportSubscription)
class ReportSubscriptionAdmin(ServiceModelAdmin):
    list_display = ("tenant", "frequency", "is_active", "last_period_start")
    list_filter = (TenantFilter, "frequency")
    list_select_related = ("tenant",)
    fields = ("tenant", "frequency", "recipients", "is_active")
    create_service = staticmethod(services.create_subscription)
    update_service = staticmethod(services.update_subscription)
    delete_service = staticmethod(services.delete_subscription)


@admin.register(ClientReport)
class ClientReportAdmin(ReadOnlyMixin, ScopedModelAdmin):
    list_display = ("tenant", "frequency", "period_start", "period_end", "emailed_at")
    list_filter = (TenantFilter, "frequency")
    list_select_related = ("tenant",)
    fields = ("tenant", "frequency", "period_start", "period_end", "created_at", "emailed_at")
    readonly_fields = fields

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class _PartAdmin(ReadOnlyMixin, ScopedModelAdmin):
    """Lessons, action items and feedback: shown inline on their review; listed here."""

    list_select_related = ("tenant", "review")
    list_filter = (TenantFilter,)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ReviewLesson)
class ReviewLessonAdmin(_PartAdmin):
    list_display = ("review", "kind", "text", "visible_to_client")


@admin.register(ReviewActionItem)
class ReviewActionItemAdmin(_PartAdmin):
    list_display = ("title", "review", "owner", "due_at", "status", "visible_to_client")


@admin.register(ReviewFeedback)
class ReviewFeedbackAdmin(_PartAdmin):
    list_display = ("review", "participant", "rating")
