"""REST endpoints of early warning under ``/api/v1/tenants/{tenant_slug}/`` (docs/alerts.md).

* ``alert-rules/``: CRUD with ``alerts.manage`` (read with ``alerts.view``), each rule with its
  false-positive rate; ``alert-rules/{id}/backtest/`` replays the rule over the tenant's stored
  rollups (``monitoring.early_warning.backtest``, ``alerts.manage``, nothing is written);
* ``alerts/``: read with ``alerts.view`` (filters, ordering, cursor pages; the detail adds the
  history and the sample mentions); ``acknowledge``, ``snooze``, ``resolve`` and ``dismiss``
  with ``alerts.ack``, through ``monitoring.early_warning.services``;
* ``hoax-clusters/``: read with ``alerts.view``;
* ``owned-accounts/``: CRUD with ``alerts.manage`` (read with ``alerts.view``).

Reads go through ``monitoring.early_warning.selectors``.
"""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from monitoring.api.alert_serializers import (
    AlertDetailSerializer,
    AlertDismissSerializer,
    AlertNoteSerializer,
    AlertRuleSerializer,
    AlertSerializer,
    AlertSnoozeSerializer,
    BacktestRequestSerializer,
    BacktestResultSerializer,
    HoaxClusterSerializer,
    OwnedAccountSerializer,
    backtest_body,
)
from monitoring.early_warning import backtest as backtests
from monitoring.early_warning import selectors, services
from monitoring.filtersets import (
    ALERT_ORDERINGS,
    AlertFilterSet,
    AlertRuleFilterSet,
    HoaxClusterFilterSet,
    OwnedAccountFilterSet,
)
from monitoring.models import Alert, AlertRule, HoaxCluster, OwnedAccount
from tenants.api.base import TenantCrudViewSet, TenantScopedViewSet, crud_capabilities
from tenants.api.pagination import KeysetPagination
from tenants.api.serializers import service_errors
from tenants.roles import Cap

_MANAGE = crud_capabilities(Cap.VIEW_ALERTS, Cap.MANAGE_ALERTS)


@extend_schema(tags=["alerts"])
class AlertRuleViewSet(TenantCrudViewSet):
    """Early-warning rules of the tenant, optionally narrowed to one of its queries. Invalid
    rules are refused naming the field: a window or cooldown that is not a positive duration
    of at most 30 days, a query that is not the tenant's, params that do not fit the kind, a
    change of kind. Each rule shows its false-positive rate (dismissed among decided alerts).
    New tenants start with the default rules (docs/alerts.md)."""

    queryset = AlertRule.objects.all()
    serializer_class = AlertRuleSerializer
    filterset_class = AlertRuleFilterSet
    ordering_fields = ("name", "kind", "created_at", "updated_at")
    capabilities = {**_MANAGE, "backtest": Cap.MANAGE_ALERTS}
    delete_service = staticmethod(services.delete_rule)

    def scope_queryset(self, queryset: QuerySet[AlertRule]) -> QuerySet[AlertRule]:
        return queryset.order_by("name", "id")

    def get_serializer_context(self) -> dict[str, Any]:
        context = super().get_serializer_context()
        if hasattr(self, "tenant_access") and self.action in ("list", "retrieve"):
            # One aggregate for the whole page (selectors.false_positive_rates).
            context["false_positive_rates"] = selectors.false_positive_rates(tenant=self.tenant)
        return context

    @extend_schema(
        request=BacktestRequestSerializer,
        responses={200: BacktestResultSerializer},
        filters=False,
    )
    @action(detail=True, methods=["post"], pagination_class=None, filter_backends=[])
    def backtest(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """This rule would have fired these alerts in the last ``days`` days (default 30):
        series rules (spike, negative surge) replay the tenant's own 5-minute rollups, mention
        rules its stored mentions (the newest 20,000 at most), through the live detectors with
        the rule's settings, warm-up, dedupe and cooldown (``early_warning.backtest``).
        Velocity has no history to replay (an empty list). Nothing is stored."""
        rule = self.get_object()
        payload = BacktestRequestSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        days: int = payload.validated_data["days"]
        sensitivity = payload.validated_data.get("sensitivity") or rule.sensitivity
        tried = copy.copy(rule)  # a try with another sensitivity changes nothing stored
        tried.sensitivity = sensitivity
        now = timezone.now()
        lines = backtests.backtest_rule(rule=tried, days=days, now=now)
        body = backtest_body(
            rule=rule,
            sensitivity=sensitivity,
            days=days,
            since=now - timedelta(days=days),
            until=now,
            lines=lines,
        )
        return Response(BacktestResultSerializer(body).data)


class AlertCursorPagination(KeysetPagination):
    """Keyset pages, newest first (``created_at``, then ``id``) or in another order of
    ``ALERT_ORDERINGS``, without any COUNT."""

    key_field = "created_at"
    orderings = ALERT_ORDERINGS


_NOTE = extend_schema(request=AlertNoteSerializer, responses={200: AlertDetailSerializer})


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter(
                "page_size", int, description="Alerts per page (default 50, at most 200)."
            )
        ]
    ),
    retrieve=extend_schema(responses=AlertDetailSerializer),
)
@extend_schema(tags=["alerts"])
class AlertViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantScopedViewSet):
    """Alerts, newest first (or by ``ordering``), with cursor pages. Each explains itself
    (rule, query, window, observed value, baseline, threshold, sigma where it applies, sample
    mentions and authors); the detail adds the history. One episode is one alert: later
    evidence merges into it. ``acknowledge``, ``snooze`` (never counts as acknowledging),
    ``resolve`` and ``dismiss`` (as a false positive, with a reason) need ``alerts.ack``."""

    queryset = Alert.objects.all()
    serializer_class = AlertSerializer
    filterset_class = AlertFilterSet
    filter_backends = [DjangoFilterBackend]
    pagination_class = AlertCursorPagination
    capabilities = {
        "list": Cap.VIEW_ALERTS,
        "retrieve": Cap.VIEW_ALERTS,
        "acknowledge": Cap.ACK_ALERTS,
        "snooze": Cap.ACK_ALERTS,
        "resolve": Cap.ACK_ALERTS,
        "dismiss": Cap.ACK_ALERTS,
    }

    def scope_queryset(self, queryset: QuerySet[Alert]) -> QuerySet[Alert]:
        return queryset.select_related("acknowledged_by").order_by("-created_at", "-id")

    def get_serializer_class(self) -> Any:
        if self.action == "list":
            return AlertSerializer
        return AlertDetailSerializer

    def _act(self, request: Request, payload_class: Any, service: Any) -> Response:
        alert = self.get_object()
        payload = payload_class(data=request.data)
        payload.is_valid(raise_exception=True)
        with service_errors():
            service(alert=alert, user=request.user, **payload.validated_data)
        alert = self.get_queryset().get(pk=alert.pk)
        return Response(AlertDetailSerializer(alert, context=self.get_serializer_context()).data)

    @_NOTE
    @action(detail=True, methods=["post"], pagination_class=None, filter_backends=[])
    def acknowledge(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Someone is on it (from open or snoozed; ends a snooze). Recorded with who and when."""
        return self._act(request, AlertNoteSerializer, services.acknowledge)

    @extend_schema(request=AlertSnoozeSerializer, responses={200: AlertDetailSerializer})
    @action(detail=True, methods=["post"], pagination_class=None, filter_backends=[])
    def snooze(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Quiet until ``until`` (at most 30 days ahead); then back to open, or acknowledged if
        someone had acknowledged it. Snoozing is never acknowledging."""
        return self._act(request, AlertSnoozeSerializer, services.snooze)

    @_NOTE
    @action(detail=True, methods=["post"], pagination_class=None, filter_backends=[])
    def resolve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """It was real and it is over."""
        return self._act(request, AlertNoteSerializer, services.resolve)

    @extend_schema(request=AlertDismissSerializer, responses={200: AlertDetailSerializer})
    @action(detail=True, methods=["post"], pagination_class=None, filter_backends=[])
    def dismiss(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """A false positive, with the reason (counts in the rule's false-positive rate)."""
        return self._act(request, AlertDismissSerializer, services.dismiss)


@extend_schema(tags=["alerts"])
class HoaxClusterViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantScopedViewSet):
    """Hoax clusters: near-duplicate copies of one claim, most recently active first, with the
    first poster, the authors, the spread per hour and the low-credibility links."""

    queryset = HoaxCluster.objects.all()
    serializer_class = HoaxClusterSerializer
    filterset_class = HoaxClusterFilterSet
    ordering_fields = ("last_at", "first_at", "author_count", "member_count")
    capabilities = {"list": Cap.VIEW_ALERTS, "retrieve": Cap.VIEW_ALERTS}

    def scope_queryset(self, queryset: QuerySet[HoaxCluster]) -> QuerySet[HoaxCluster]:
        return queryset.order_by("-last_at", "-id")


@extend_schema(tags=["alerts"])
class OwnedAccountViewSet(TenantCrudViewSet):
    """The client's own accounts per platform, watched for posts unlike their history."""

    queryset = OwnedAccount.objects.all()
    serializer_class = OwnedAccountSerializer
    filterset_class = OwnedAccountFilterSet
    ordering_fields = ("platform", "handle", "created_at")
    capabilities = _MANAGE
    delete_service = staticmethod(services.delete_owned_account)

    def scope_queryset(self, queryset: QuerySet[OwnedAccount]) -> QuerySet[OwnedAccount]:
        return queryset.order_by("platform", "handle", "id")
