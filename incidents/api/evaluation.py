"""REST endpoints of the post-crisis evaluation and the client reports, under
``/api/v1/tenants/{tenant_slug}/`` (``docs/evaluation.md``).

Reviews, their lessons and action items are read with ``incidents.view`` (the client role:
no drills, only items marked ``visible_to_client``) and written with ``incidents.manage``;
finalising also needs the commander's powers on the incident (403 from the service); feedback
ratings are internal (``incidents.view_internal``); signing off needs ``reviews.sign_off``.
Client reports are read with ``monitoring.view`` and made on demand with ``monitoring.manage``;
report subscriptions (who gets them) are read with ``members.view``, written with
``tenant.manage``. Every write goes through ``incidents.evaluation.services``.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError as DrfValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from incidents.api.serializers import MemberIdField, TenantRowField
from incidents.api.views import CreateMixin, DestroyMixin, IncidentScopedMixin, PatchMixin
from incidents.evaluation import charts, documents, export, selectors, services
from incidents.evaluation import fields as public_fields
from incidents.evaluation.figures import DrillError
from incidents.evaluation.models import (
    ClientReport,
    ReportFrequency,
    ReportSubscription,
    Review,
    ReviewActionItem,
    ReviewFeedback,
    ReviewLesson,
)
from incidents.models import Incident
from tenants.api.base import TenantCrudViewSet, TenantScopedViewSet, crud_capabilities
from tenants.api.serializers import ServiceModelSerializer, StrictSerializerMixin, service_errors
from tenants.roles import Cap

VIEW, INTERNAL, MANAGE = Cap.VIEW_INCIDENTS, Cap.VIEW_INCIDENT_INTERNALS, Cap.MANAGE_INCIDENTS


def _authority(serializer: Any) -> Any:
    return serializer.context["authority"]


# --- serializers ------------------------------------------------------------------------------


class ReviewSerializer(StrictSerializerMixin, serializers.ModelSerializer):  # type: ignore[type-arg]
    incident = TenantRowField(Incident)
    created_by = serializers.PrimaryKeyRelatedField(read_only=True)  # type: ignore[var-annotated]
    finalised_by = serializers.PrimaryKeyRelatedField(read_only=True)  # type: ignore[var-annotated]
    signed_off_by = serializers.PrimaryKeyRelatedField(read_only=True)  # type: ignore[var-annotated]

    class Meta:
        model = Review
        fields: tuple[str, ...] = public_fields.REVIEW.names
        read_only_fields: tuple[str, ...] = public_fields.REVIEW.read_only

    def validate(self, attrs: Any) -> Any:
        attrs = super().validate(attrs)
        if self.instance is not None and "incident" in attrs:
            if attrs["incident"] != self.instance.incident:
                raise serializers.ValidationError(
                    {"incident": "A review never moves to another incident."}, code="read_only"
                )
            attrs.pop("incident")
        return attrs

    def create(self, validated_data: dict[str, Any]) -> Review:
        with service_errors():
            return services.create_review(authority=_authority(self), **validated_data)

    def update(self, instance: Review, validated_data: dict[str, Any]) -> Review:
        with service_errors():
            return services.update_review(
                instance=instance, authority=_authority(self), **validated_data
            )


class SignOffSerializer(StrictSerializerMixin, serializers.Serializer):  # type: ignore[type-arg]
    comment = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")


class _ReviewPartSerializer(StrictSerializerMixin, serializers.ModelSerializer):  # type: ignore[type-arg]
    review = TenantRowField(Review)
    create_service: Any
    update_service: Any

    def validate(self, attrs: Any) -> Any:
        attrs = super().validate(attrs)
        if self.instance is not None and "review" in attrs:
            if attrs["review"] != self.instance.review:
                raise serializers.ValidationError(
                    {"review": "It never moves to another review."}, code="read_only"
                )
            attrs.pop("review")
        return attrs

    def create(self, validated_data: dict[str, Any]) -> Any:
        validated_data.pop("tenant", None)
        with service_errors():
            return type(self).create_service(**validated_data)

    def update(self, instance: Any, validated_data: dict[str, Any]) -> Any:
        with service_errors():
            return type(self).update_service(instance=instance, **validated_data)


class LessonSerializer(_ReviewPartSerializer):
    create_service = staticmethod(services.create_lesson)
    update_service = staticmethod(services.update_lesson)

    class Meta:
        model = ReviewLesson
        fields: tuple[str, ...] = public_fields.LESSON.names
        read_only_fields: tuple[str, ...] = public_fields.LESSON.read_only


class ActionItemSerializer(_ReviewPartSerializer):
    create_service = staticmethod(services.create_action_item)
    update_service = staticmethod(services.update_action_item)
    owner = MemberIdField(required=False, allow_null=True)
    due_at = serializers.DateTimeField(required=False, help_text="Default: a week from now.")

    class Meta:
        model = ReviewActionItem
        fields: tuple[str, ...] = public_fields.ACTION_ITEM.names
        read_only_fields: tuple[str, ...] = public_fields.ACTION_ITEM.read_only


class FeedbackSerializer(_ReviewPartSerializer):
    create_service = staticmethod(services.create_feedback)
    update_service = staticmethod(services.update_feedback)
    participant = MemberIdField()

    class Meta:
        model = ReviewFeedback
        fields: tuple[str, ...] = public_fields.FEEDBACK.names
        read_only_fields: tuple[str, ...] = public_fields.FEEDBACK.read_only

    def validate(self, attrs: Any) -> Any:
        attrs = super().validate(attrs)
        if self.instance is not None and "participant" in attrs:
            if attrs["participant"] != self.instance.participant_id:
                raise serializers.ValidationError(
                    {"participant": "Give another participant's rating separately."},
                    code="read_only",
                )
            attrs.pop("participant")
        return attrs


class SubscriptionSerializer(ServiceModelSerializer):
    create_service = staticmethod(services.create_subscription)
    update_service = staticmethod(services.update_subscription)
    recipients = serializers.ListField(
        child=serializers.EmailField(max_length=254),
        max_length=50,
        required=False,
        help_text="E-mail addresses the report is sent to (at most 50).",
    )

    class Meta:
        model = ReportSubscription
        fields: tuple[str, ...] = public_fields.SUBSCRIPTION.names
        read_only_fields: tuple[str, ...] = public_fields.SUBSCRIPTION.read_only


class ReportSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    class Meta:
        model = ClientReport
        fields: tuple[str, ...] = public_fields.REPORT.names
        read_only_fields: tuple[str, ...] = public_fields.REPORT.read_only


class GenerateReportSerializer(StrictSerializerMixin, serializers.Serializer):  # type: ignore[type-arg]
    frequency = serializers.ChoiceField(choices=ReportFrequency.choices)
    at = serializers.DateTimeField(
        required=False,
        help_text="The report covers the last complete period before it (default: now).",
    )


class ChartParams(StrictSerializerMixin, serializers.Serializer):  # type: ignore[type-arg]
    name = serializers.ChoiceField(choices=charts.CHARTS, default="timeline")
    output = serializers.ChoiceField(choices=tuple(charts.FORMATS), default="svg")


class ExportParams(StrictSerializerMixin, serializers.Serializer):  # type: ignore[type-arg]
    output = serializers.ChoiceField(choices=("pdf", "md"), default="pdf")


def _params(serializer_class: type[serializers.Serializer], request: Request) -> dict[str, Any]:  # type: ignore[type-arg]
    params = serializer_class(data=request.query_params)
    params.is_valid(raise_exception=True)
    return dict(params.validated_data)


def _file(document: export.Document, fmt: str, stem: str) -> HttpResponse:
    if fmt == "md":
        response = HttpResponse(
            export.to_markdown(document), content_type="text/markdown; charset=utf-8"
        )
        response["Content-Disposition"] = f'attachment; filename="{stem}.md"'
    else:
        response = HttpResponse(export.to_pdf(document), content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{stem}.pdf"'
    return response


def _drill_refused() -> DrfValidationError:
    return DrfValidationError(
        {"incident": [_("Drills are left out of every figure.")]}, code="drill"
    )


FILE_RESPONSE = OpenApiResponse(response=OpenApiTypes.BINARY, description="The file.")
CHART_PARAMS = [
    OpenApiParameter("name", str, enum=list(charts.CHARTS), description="Which chart."),
    OpenApiParameter("output", str, enum=list(charts.FORMATS), description="svg or png."),
]
EXPORT_PARAMS = [OpenApiParameter("output", str, enum=["pdf", "md"], description="pdf or md.")]


# --- views ------------------------------------------------------------------------------------


@extend_schema(tags=["evaluation"])
class ReviewViewSet(
    IncidentScopedMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    CreateMixin,
    PatchMixin,
    DestroyMixin,
    TenantScopedViewSet,
):
    """Post-crisis reviews, one per incident: Draft → Final (``finalise``: the incident must be
    resolved; its figures freeze and it moves to ``reviewed``), then signed off by the client
    (``sign-off``). ``figures``, ``chart`` (SVG/PNG) and ``export`` (PDF/Markdown) show it."""

    queryset = Review.objects.all()
    serializer_class = ReviewSerializer
    ordering_fields = ("created_at",)
    capabilities = {
        "list": VIEW,
        "retrieve": VIEW,
        "create": MANAGE,
        "partial_update": MANAGE,
        "destroy": MANAGE,
        "finalise": MANAGE,
        "sign_off": Cap.SIGN_OFF_REVIEWS,
        "figures": VIEW,
        "chart": VIEW,
        "export": VIEW,
    }
    delete_service = staticmethod(services.delete_review)

    def scope_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return selectors.reviews(tenant=self.tenant, internal=self.internal)

    def _answer(self, review: Review) -> Response:
        fresh = Review.objects.for_tenant(self.tenant).get(pk=review.pk)
        return Response(ReviewSerializer(fresh, context=self.get_serializer_context()).data)

    @extend_schema(request=None, responses={200: ReviewSerializer})
    @action(detail=True, methods=["post"])
    def finalise(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Draft → Final: freezes the figures and moves the incident to ``reviewed`` (needs the
        commander's powers: 403 otherwise; 400 on ``status`` while the incident is not
        resolved)."""
        review = self.get_object()
        with service_errors():
            review = services.finalise_review(review=review, authority=self.authority)
        return self._answer(review)

    @extend_schema(request=SignOffSerializer, responses={200: ReviewSerializer})
    @action(detail=True, methods=["post"], url_path="sign-off")
    def sign_off(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The client's sign-off of a final review (once)."""
        review = self.get_object()
        params = SignOffSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        with service_errors():
            review = services.sign_off_review(
                review=review,
                user=request.user,  # type: ignore[arg-type]  # authenticated: a User
                **params.validated_data,
            )
        return self._answer(review)

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    @action(detail=True, methods=["get"])
    def figures(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Every figure of docs/evaluation.md (frozen once the review is final); 400 for a
        drill."""
        review = self.get_object()
        found = selectors.review_figures(review)
        if found is None:
            raise _drill_refused()
        return Response(found)

    @extend_schema(parameters=CHART_PARAMS, responses={200: FILE_RESPONSE})
    @action(detail=True, methods=["get"])
    def chart(self, request: Request, *args: Any, **kwargs: Any) -> HttpResponse:
        """A chart of the incident: ``timeline`` (volume and sentiment with the milestones),
        ``negative_share`` (against its baseline band) or ``share_of_voice``; SVG or PNG."""
        review = self.get_object()
        params = _params(ChartParams, request)
        incident = (
            Incident.objects.for_tenant(self.tenant)
            .select_related("tenant")
            .get(pk=review.incident_id)
        )
        try:
            body, content_type = charts.render(params["name"], incident, params["output"])
        except DrillError:
            raise _drill_refused() from None
        return HttpResponse(body, content_type=content_type)

    @extend_schema(parameters=EXPORT_PARAMS, responses={200: FILE_RESPONSE})
    @action(detail=True, methods=["get"])
    def export(self, request: Request, *args: Any, **kwargs: Any) -> HttpResponse:
        """The review as PDF or Markdown: text, tables, charts and quoted posts; the client's
        copy holds only client-visible material."""
        review = self.get_object()
        params = _params(ExportParams, request)
        document = documents.review_document(review, internal=self.internal)
        return _file(document, params["output"], f"review-{review.incident_id}")


@extend_schema(tags=["evaluation"])
class LessonViewSet(
    IncidentScopedMixin,
    CreateMixin,
    PatchMixin,
    DestroyMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    TenantScopedViewSet,
):
    """Lessons of reviews: what went well and what did not (``?review=``)."""

    queryset = ReviewLesson.objects.all()
    serializer_class = LessonSerializer
    ordering_fields = ("created_at",)
    capabilities = {
        "list": VIEW,
        "retrieve": VIEW,
        "create": MANAGE,
        "partial_update": MANAGE,
        "destroy": MANAGE,
    }
    delete_service = staticmethod(services.delete_lesson)

    def scope_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return _of_review(self, selectors.lesson_rows(tenant=self.tenant, internal=self.internal))


@extend_schema(tags=["evaluation"])
class ActionItemViewSet(
    IncidentScopedMixin,
    CreateMixin,
    PatchMixin,
    DestroyMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    TenantScopedViewSet,
):
    """Action items of reviews: an owner among the members and a due time (default a week)."""

    queryset = ReviewActionItem.objects.all()
    serializer_class = ActionItemSerializer
    ordering_fields = ("due_at", "created_at")
    capabilities = {
        "list": VIEW,
        "retrieve": VIEW,
        "create": MANAGE,
        "partial_update": MANAGE,
        "destroy": MANAGE,
    }
    delete_service = staticmethod(services.delete_action_item)

    def scope_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return _of_review(
            self, selectors.action_item_rows(tenant=self.tenant, internal=self.internal)
        )


@extend_schema(tags=["evaluation"])
class FeedbackViewSet(
    IncidentScopedMixin,
    CreateMixin,
    PatchMixin,
    DestroyMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    TenantScopedViewSet,
):
    """Participants' ratings (1-5) of a response, one each per review: internal."""

    queryset = ReviewFeedback.objects.all()
    serializer_class = FeedbackSerializer
    ordering_fields = ("created_at",)
    capabilities = {
        "list": INTERNAL,
        "retrieve": INTERNAL,
        "create": MANAGE,
        "partial_update": MANAGE,
        "destroy": MANAGE,
    }
    delete_service = staticmethod(services.delete_feedback)

    def scope_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return _of_review(self, selectors.feedback_rows(tenant=self.tenant))


def _of_review(view: Any, rows: QuerySet[Any]) -> QuerySet[Any]:
    value = view.request.query_params.get("review")
    if value is None or view.action != "list":
        return rows
    if not value.isascii() or not value.isdigit() or len(value) > 18:
        raise DrfValidationError({"review": [_("A review id.")]}, code="invalid")
    return rows.filter(review_id=int(value))


@extend_schema(tags=["evaluation"])
class SubscriptionViewSet(TenantCrudViewSet):
    """The tenant's periodic client reports (weekly, monthly) and their recipients."""

    queryset = ReportSubscription.objects.all()
    serializer_class = SubscriptionSerializer
    ordering_fields = ("frequency",)
    capabilities = crud_capabilities(Cap.VIEW_MEMBERS, Cap.MANAGE_TENANT)
    delete_service = staticmethod(services.delete_subscription)


@extend_schema(tags=["evaluation"])
class ClientReportViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantScopedViewSet):
    """Client reports, newest period first: volume, sentiment, share of voice, top authors and
    hashtags, alerts and incidents of a week or month. ``POST`` makes the report of the last
    complete period (once per period); ``download`` gives it as PDF or Markdown."""

    queryset = ClientReport.objects.all()
    serializer_class = ReportSerializer
    ordering_fields = ("period_start",)
    capabilities = {
        "list": Cap.VIEW_MONITORING,
        "retrieve": Cap.VIEW_MONITORING,
        "create": Cap.MANAGE_MONITORING,
        "download": Cap.VIEW_MONITORING,
    }

    def scope_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return selectors.reports(tenant=self.tenant)

    @extend_schema(request=GenerateReportSerializer, responses={201: ReportSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        params = GenerateReportSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        with service_errors():
            report = services.generate_report(
                tenant=self.tenant,
                frequency=params.validated_data["frequency"],
                moment=params.validated_data.get("at"),
            )
        return Response(ReportSerializer(report).data, status=201)

    @extend_schema(parameters=EXPORT_PARAMS, responses={200: FILE_RESPONSE})
    @action(detail=True, methods=["get"])
    def download(self, request: Request, *args: Any, **kwargs: Any) -> HttpResponse:
        """The report as PDF or Markdown."""
        report = self.get_object()
        params = _params(ExportParams, request)
        stem = f"report-{report.frequency}-{report.period_start:%Y-%m-%d}"
        return _file(documents.report_document(report), params["output"], stem)
