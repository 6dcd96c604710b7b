"""REST endpoints of the monitoring app under ``/api/v1/tenants/{tenant_slug}/``.

Queries, sources, terms, lexicon additions and low-credibility domains are managed with
``monitoring.manage``; ingest batches, mentions and metrics are read with ``monitoring.view``;
mentions are triaged with ``mentions.triage``. Reads go through ``monitoring.selectors``.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from monitoring import selectors, services
from monitoring.api.classifier import MentionCorrectionMixin
from monitoring.api.serializers import (
    BulkTriageResultSerializer,
    BulkTriageSerializer,
    IngestBatchSerializer,
    LexiconEntrySerializer,
    LowCredibilityDomainSerializer,
    MentionCountSerializer,
    MentionSerializer,
    MentionTriageSerializer,
    MonitoredQuerySerializer,
    ShareOfVoiceSerializer,
    SourceCreatedSerializer,
    SourceSecretSerializer,
    SourceSerializer,
    TopAuthorsSerializer,
    TopHashtagsSerializer,
    TopTermsSerializer,
    TrackedTermSerializer,
    VolumeSerializer,
)
from monitoring.filtersets import (
    MENTION_ORDERINGS,
    IngestBatchFilterSet,
    LexiconEntryFilterSet,
    LowCredibilityDomainFilterSet,
    MentionFilterSet,
    MonitoredQueryFilterSet,
    SourceFilterSet,
    TrackedTermFilterSet,
)
from monitoring.models import (
    IngestBatch,
    LexiconEntry,
    LowCredibilityDomain,
    Mention,
    MetricBucket,
    MonitoredQuery,
    Source,
    TrackedTerm,
)
from monitoring.params import (
    MetricsPeriodSerializer,
    ShareOfVoiceParamsSerializer,
    TopParamsSerializer,
    VolumeParamsSerializer,
)
from tenants.api.base import (
    TenantCrudViewSet,
    TenantScopedAPIView,
    TenantScopedViewSet,
    crud_capabilities,
)
from tenants.api.pagination import KeysetPagination
from tenants.api.params import PeriodSerializer
from tenants.api.serializers import service_errors
from tenants.roles import Cap

# --- pagination ------------------------------------------------------------------------------


class MentionCursorPagination(KeysetPagination):
    """Keyset pagination, newest first (``published_at``, then ``id``) or in another order of
    ``MENTION_ORDERINGS`` (``?ordering=-risk``), without any COUNT."""

    key_field = "published_at"
    orderings = MENTION_ORDERINGS


# --- management resources --------------------------------------------------------------------

_MANAGE = crud_capabilities(Cap.VIEW_MONITORING, Cap.MANAGE_MONITORING)


@extend_schema(tags=["monitoring"])
class MonitoredQueryViewSet(TenantCrudViewSet):
    """Monitored queries in the boolean query language (see docs/queries.md). A malformed query
    is refused with code ``invalid_query`` and the position of the error."""

    capabilities = _MANAGE
    delete_service = staticmethod(services.delete_query)
    queryset = MonitoredQuery.objects.all()
    serializer_class = MonitoredQuerySerializer
    filterset_class = MonitoredQueryFilterSet
    ordering_fields = ("name", "created_at", "updated_at")


@extend_schema_view(create=extend_schema(responses={201: SourceCreatedSerializer}))
@extend_schema(tags=["monitoring"])
class SourceViewSet(TenantCrudViewSet):
    """Where mentions come from, with their health. The webhook secret is shown once: in the
    answer to the creation and to ``rotate-secret``."""

    queryset = Source.objects.all()
    serializer_class = SourceSerializer
    filterset_class = SourceFilterSet
    ordering_fields = ("name", "kind", "status", "created_at", "last_success_at")
    capabilities = {**_MANAGE, "rotate_secret": Cap.MANAGE_MONITORING}
    delete_service = staticmethod(services.delete_source)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        source = serializer.save(tenant=self.tenant)
        return Response(SourceCreatedSerializer(source).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: SourceSecretSerializer})
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Replace the webhook secret; the old one stops working at once."""
        source = services.rotate_webhook_secret(instance=self.get_object())
        return Response(SourceSecretSerializer(source).data)


@extend_schema(tags=["monitoring"])
class TrackedTermViewSet(TenantCrudViewSet):
    """Brand, product and spokesperson names the scorer reports as ``term`` entities."""

    queryset = TrackedTerm.objects.all()
    serializer_class = TrackedTermSerializer
    capabilities = _MANAGE
    delete_service = staticmethod(services.delete_tracked_term)
    filterset_class = TrackedTermFilterSet
    ordering_fields = ("text", "kind")


@extend_schema(tags=["monitoring"])
class LexiconEntryViewSet(TenantCrudViewSet):
    """The tenant's additions to the trigger lexicons."""

    queryset = LexiconEntry.objects.all()
    serializer_class = LexiconEntrySerializer
    capabilities = _MANAGE
    delete_service = staticmethod(services.delete_lexicon_entry)
    filterset_class = LexiconEntryFilterSet
    ordering_fields = ("label", "phrase")


@extend_schema(tags=["monitoring"])
class LowCredibilityDomainViewSet(TenantCrudViewSet):
    """Domains whose links raise the ``hoax`` trigger."""

    queryset = LowCredibilityDomain.objects.all()
    serializer_class = LowCredibilityDomainSerializer
    capabilities = _MANAGE
    delete_service = staticmethod(services.delete_low_credibility_domain)
    filterset_class = LowCredibilityDomainFilterSet
    ordering_fields = ("domain",)


@extend_schema(tags=["monitoring"])
class IngestBatchViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantScopedViewSet):
    """Ingest batches with their progress, counts, refused items and error."""

    queryset = IngestBatch.objects.all()
    serializer_class = IngestBatchSerializer
    filterset_class = IngestBatchFilterSet
    ordering_fields = ("received_at", "finished_at", "item_count")
    capabilities = {"list": Cap.VIEW_MONITORING, "retrieve": Cap.VIEW_MONITORING}

    def scope_queryset(self, queryset: QuerySet[IngestBatch]) -> QuerySet[IngestBatch]:
        return queryset.order_by("-received_at", "-id")


# --- mentions --------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter(
                "page_size", int, description="Mentions per page (default 50, at most 200)."
            )
        ]
    ),
    partial_update=extend_schema(request=MentionTriageSerializer, responses=MentionSerializer),
)
@extend_schema(tags=["mentions"])
class MentionViewSet(
    MentionCorrectionMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    TenantScopedViewSet,
):
    """Mentions, newest first (or by ``ordering``: risk, published time, reach), with cursor
    pagination (``next``/``previous`` links, no count; ``count/`` counts). Triage (status,
    tags, assignee) is a PATCH, or ``bulk-triage/`` for up to 500, with ``mentions.triage``;
    ``correct/`` corrects its scores (``scores.correct``, ``monitoring.api.classifier``);
    deleting one is a tenant admin's action (``mentions.delete``), recorded in the audit log."""

    queryset = Mention.objects.all()
    serializer_class = MentionSerializer
    filterset_class = MentionFilterSet
    # The filter set orders (``ordering``); the pagination pages by the same key.
    filter_backends = [DjangoFilterBackend]
    pagination_class = MentionCursorPagination
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    capabilities = {
        "list": Cap.VIEW_MONITORING,
        "retrieve": Cap.VIEW_MONITORING,
        "count": Cap.VIEW_MONITORING,
        "partial_update": Cap.TRIAGE_MENTIONS,
        "bulk_triage": Cap.TRIAGE_MENTIONS,
        "correct": Cap.CORRECT_SCORES,
        "destroy": Cap.DELETE_MENTIONS,
    }

    def scope_queryset(self, queryset: QuerySet[Mention]) -> QuerySet[Mention]:
        return selectors.mention_list(queryset)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        mention = self.get_object()
        payload = MentionTriageSerializer(
            mention, data=request.data, partial=True, context=self.get_serializer_context()
        )
        payload.is_valid(raise_exception=True)
        payload.save()  # services.triage_mention
        return Response(MentionSerializer(mention).data)

    def perform_destroy(self, instance: Mention) -> None:
        services.delete_mention(instance=instance)

    @extend_schema(filters=True, responses=MentionCountSerializer)
    @action(detail=False, methods=["get"], pagination_class=None)
    def count(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """How many mentions match the filters (the list's filters; ``ordering`` is ignored).
        An exact count; filtered by sentiment and published time only, it reads the hourly
        tally instead of the mentions (``monitoring.counts``)."""
        queryset = self.get_queryset()
        self.filter_queryset(queryset)  # a bad filter answers 400 naming it
        filterset = DjangoFilterBackend().get_filterset(request, queryset, self)
        filterset.is_valid()
        total = selectors.mention_count(self.tenant.pk, filterset)
        return Response(MentionCountSerializer({"count": total}).data)

    @extend_schema(
        request=BulkTriageSerializer, responses={200: BulkTriageResultSerializer}, filters=False
    )
    @action(detail=False, methods=["post"], url_path="bulk-triage", pagination_class=None)
    def bulk_triage(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Triage up to 500 mentions at once, in one transaction: set the status and the
        assignee, add and remove tags. Ids that name no mention of this tenant are listed in
        ``errors`` (``not_found``) and the others triaged; a bad value (status, tag, an
        assignee who is not a member) refuses the whole request with a 400 naming it."""
        payload = BulkTriageSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        with service_errors():
            result = services.triage_mentions(tenant=self.tenant, **payload.validated_data)
        return Response(BulkTriageResultSerializer(result).data)


# --- metrics ---------------------------------------------------------------------------------


class MetricsView(TenantScopedAPIView):
    queryset = MetricBucket.objects.all()
    capabilities = {"get": Cap.VIEW_MONITORING}
    params_class: type[PeriodSerializer] = MetricsPeriodSerializer

    def params(self, request: Request) -> dict[str, Any]:
        params = self.params_class(data=request.query_params, context={"tenant": self.tenant})
        params.is_valid(raise_exception=True)
        return dict(params.validated_data)


@extend_schema(tags=["metrics"], parameters=[VolumeParamsSerializer], responses=VolumeSerializer)
class VolumeView(MetricsView):
    """Mentions, sentiment, reach and engagement per bucket (5m, 1h or 1d) with boundaries in
    a time zone (default: the tenant's), over a period (default: the last 7 days)."""

    params_class = VolumeParamsSerializer

    def get(self, request: Request, tenant_slug: str) -> Response:
        params = self.params(request)
        tz = params.get("tz") or self.tenant.time_zone
        series = selectors.volume(
            self.tenant.pk,
            since=params["since"],
            until=params["until"],
            interval=params["interval"],
            tz=tz,
            query_id=params.get("query"),
        )
        body = {
            "interval": params["interval"],
            "tz": tz,
            "query": params.get("query"),
            "since": params["since"],
            "until": params["until"],
            "series": series,
        }
        return Response(VolumeSerializer(body).data)


@extend_schema(
    tags=["metrics"], parameters=[ShareOfVoiceParamsSerializer], responses=ShareOfVoiceSerializer
)
class ShareOfVoiceView(MetricsView):
    """Each active query's mentions over the period and its share of them all."""

    params_class = ShareOfVoiceParamsSerializer

    def get(self, request: Request, tenant_slug: str) -> Response:
        params = self.params(request)
        result = selectors.share_of_voice(
            self.tenant.pk, since=params["since"], until=params["until"]
        )
        body = {"since": params["since"], "until": params["until"], **result}
        return Response(ShareOfVoiceSerializer(body).data)


class TopView(MetricsView):
    params_class = TopParamsSerializer
    selector: Any = None
    output: Any = None

    def get(self, request: Request, tenant_slug: str) -> Response:
        params = self.params(request)
        results = type(self).selector(
            self.tenant.pk,
            since=params["since"],
            until=params["until"],
            limit=params["limit"],
            query_id=params.get("query"),
        )
        body = {"since": params["since"], "until": params["until"], "results": results}
        return Response(self.output(body).data)


@extend_schema(tags=["metrics"], parameters=[TopParamsSerializer], responses=TopAuthorsSerializer)
class TopAuthorsView(TopView):
    """Authors with the largest reach (largest follower count seen), then most mentions."""

    selector = staticmethod(selectors.top_authors)
    output = TopAuthorsSerializer


@extend_schema(tags=["metrics"], parameters=[TopParamsSerializer], responses=TopHashtagsSerializer)
class TopHashtagsView(TopView):
    """The most used hashtags over the period."""

    selector = staticmethod(selectors.top_hashtags)
    output = TopHashtagsSerializer


@extend_schema(tags=["metrics"], parameters=[TopParamsSerializer], responses=TopTermsSerializer)
class TopTermsView(TopView):
    """The tracked terms mentioned most over the period."""

    selector = staticmethod(selectors.top_terms)
    output = TopTermsSerializer
