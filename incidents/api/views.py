"""REST endpoints of the incidents app under ``/api/v1/tenants/{tenant_slug}/``.

Incidents, their team, tasks, links and timeline are read with ``incidents.view`` (the team
and role policies with ``incidents.view_internal``) and written with ``incidents.manage``;
commander-only moves additionally need the commander's powers on the incident (checked by
the services: 403). The tenant's incident policies are written with ``incidents.command``.
Callers without ``incidents.view_internal`` (the client role) see no drills and only the
items marked ``visible_to_client``. Reads go through ``incidents.selectors``.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import mixins
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from incidents import selectors, services
from incidents.api.serializers import (
    FiguresSerializer,
    IncidentPlaybookSerializer,
    IncidentSerializer,
    IncidentTimersSerializer,
    LinkSerializer,
    ResponseAdviceSerializer,
    RolePolicySerializer,
    SeverityChangeSerializer,
    SeverityPolicySerializer,
    StatementSerializer,
    TaskSerializer,
    TeamMemberSerializer,
    TimelineEntrySerializer,
    TransitionSerializer,
)
from incidents.authority import Authority
from incidents.filtersets import (
    IncidentFilterSet,
    IncidentLinkFilterSet,
    IncidentMemberFilterSet,
    IncidentPlaybookFilterSet,
    IncidentTaskFilterSet,
    ResponseAdviceFilterSet,
    TimelineEntryFilterSet,
)
from incidents.models import (
    Incident,
    IncidentLink,
    IncidentMember,
    IncidentPlaybook,
    IncidentTask,
    ResponseAdvice,
    RolePolicy,
    SeverityPolicy,
    TimelineEntry,
)
from tenants.api.base import (
    TenantCrudViewSet,
    TenantScopedAPIView,
    TenantScopedViewSet,
    crud_capabilities,
)
from tenants.api.params import PeriodSerializer
from tenants.api.serializers import service_errors
from tenants.models import User
from tenants.roles import Cap

VIEW, INTERNAL, MANAGE, COMMAND = (
    Cap.VIEW_INCIDENTS,
    Cap.VIEW_INCIDENT_INTERNALS,
    Cap.MANAGE_INCIDENTS,
    Cap.COMMAND_INCIDENTS,
)


class IncidentScopedMixin:
    """The caller's authority and whether it may see internal items."""

    tenant_access: Any
    request: Any

    @property
    def internal(self) -> bool:
        return bool(self.tenant_access.can(INTERNAL))

    @property
    def authority(self) -> Authority:
        user = self.request.user
        return Authority(
            user=user if isinstance(user, User) else None,
            capabilities=self.tenant_access.capabilities,
        )

    def get_serializer_context(self) -> dict[str, Any]:
        context: dict[str, Any] = super().get_serializer_context()  # type: ignore[misc]
        if hasattr(self, "tenant_access"):
            context["authority"] = self.authority
        return context


class PatchMixin:
    """PATCH only (no PUT): the change goes through the serializer's service."""

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        instance = self.get_object()  # type: ignore[attr-defined]
        serializer = self.get_serializer(instance, data=request.data, partial=True)  # type: ignore[attr-defined]
        serializer.is_valid(raise_exception=True)
        serializer.save()
        return Response(serializer.data)


class CreateMixin(mixins.CreateModelMixin):
    def perform_create(self, serializer: Any) -> None:
        serializer.save(tenant=self.tenant)  # type: ignore[attr-defined]


class DestroyMixin(mixins.DestroyModelMixin):
    """Deletes through ``delete_service(instance=..., authority=...)``."""

    delete_service: Any = None

    def perform_destroy(self, instance: Any) -> None:
        with service_errors():
            type(self).delete_service(instance=instance, authority=self.authority)  # type: ignore[attr-defined]


@extend_schema(tags=["incidents"])
class IncidentViewSet(
    IncidentScopedMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    CreateMixin,
    PatchMixin,
    TenantScopedViewSet,
):
    """Incidents, newest first. Move them with ``transition`` (the table is in
    docs/incidents.md); a changed ``severity`` needs the commander's powers. Incidents are never
    deleted: close a false alarm instead."""

    queryset = Incident.objects.all()
    serializer_class = IncidentSerializer
    filterset_class = IncidentFilterSet
    ordering_fields = ("detected_at", "severity", "status", "updated_at")
    capabilities = {
        "list": VIEW,
        "retrieve": VIEW,
        "create": MANAGE,
        "partial_update": MANAGE,
        "transition": MANAGE,
        "severity": MANAGE,
        "statement": MANAGE,
        "timers": VIEW,
    }

    def scope_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return selectors.incidents(tenant=self.tenant, internal=self.internal)

    def _answer(self, incident: Incident) -> Response:
        fresh = Incident.objects.for_tenant(self.tenant).get(pk=incident.pk)
        return Response(IncidentSerializer(fresh, context=self.get_serializer_context()).data)

    @extend_schema(request=TransitionSerializer, responses={200: IncidentSerializer})
    @action(detail=True, methods=["post"])
    def transition(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Move the incident to another stage. A move the table does not allow answers 400 on
        ``to``, naming the stages allowed now; a commander-only move without the commander's
        powers answers 403."""
        incident = self.get_object()
        params = TransitionSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        with service_errors():
            incident = services.transition_incident(
                incident=incident, authority=self.authority, **params.validated_data
            )
        return self._answer(incident)

    @extend_schema(request=SeverityChangeSerializer, responses={200: IncidentSerializer})
    @action(detail=True, methods=["post"])
    def severity(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Change the severity (a commander's power), with a reason for the timeline."""
        incident = self.get_object()
        params = SeverityChangeSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        with service_errors():
            services.change_severity(
                incident=incident, authority=self.authority, **params.validated_data
            )
        return self._answer(incident)

    @extend_schema(request=StatementSerializer, responses={201: TimelineEntrySerializer})
    @action(detail=True, methods=["post"])
    def statement(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Record a published public statement or update (stamps the first statement, restarts
        the update cadence; visible to the client)."""
        incident = self.get_object()
        params = StatementSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        with service_errors():
            entry = services.record_statement(
                incident=incident, authority=self.authority, **params.validated_data
            )
        return Response(
            TimelineEntrySerializer(entry, context=self.get_serializer_context()).data, status=201
        )

    @extend_schema(responses={200: IncidentTimersSerializer})
    @action(detail=True, methods=["get"])
    def timers(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The response-time timers of the incident now, and the stages it may move to."""
        incident = self.get_object()
        body = {
            "id": incident.pk,
            "is_drill": incident.is_drill,
            "allowed_transitions": services.allowed_targets(incident),
            "timers": [timer.as_dict() for timer in services.incident_timers(incident)],
        }
        return Response(IncidentTimersSerializer(body).data)


class _ReadViewSet(
    IncidentScopedMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantScopedViewSet
):
    pass


@extend_schema(tags=["incidents"])
class IncidentMemberViewSet(CreateMixin, DestroyMixin, _ReadViewSet):
    """The rapid-response team: roles held by members of the tenant in one incident. One
    commander at a time; naming or removing the commander is a commander's power."""

    queryset = IncidentMember.objects.all()
    serializer_class = TeamMemberSerializer
    filterset_class = IncidentMemberFilterSet
    ordering_fields = ("assigned_at", "role")
    capabilities = {
        "list": INTERNAL,
        "retrieve": INTERNAL,
        "create": MANAGE,
        "destroy": MANAGE,
    }
    delete_service = staticmethod(services.unassign_role)

    def scope_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.select_related("user")


@extend_schema(tags=["incidents"])
class IncidentTaskViewSet(CreateMixin, PatchMixin, DestroyMixin, _ReadViewSet):
    """Tasks of incidents: an owner among the members, a due time (reminders before it;
    ``?overdue=true``), a checklist and the tasks it depends on (same incident, no cycles)."""

    queryset = IncidentTask.objects.all()
    serializer_class = TaskSerializer
    filterset_class = IncidentTaskFilterSet
    ordering_fields = ("due_at", "created_at", "status")
    capabilities = {
        "list": VIEW,
        "retrieve": VIEW,
        "create": MANAGE,
        "partial_update": MANAGE,
        "destroy": MANAGE,
    }
    delete_service = staticmethod(services.delete_task)

    def scope_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return selectors.tasks(tenant=self.tenant, internal=self.internal)


@extend_schema(tags=["incidents"])
class IncidentLinkViewSet(CreateMixin, DestroyMixin, _ReadViewSet):
    """What incidents are about: alerts, mentions, queries, web addresses. The other side:
    ``incidents/?query=``, ``?mention=``."""

    queryset = IncidentLink.objects.all()
    serializer_class = LinkSerializer
    filterset_class = IncidentLinkFilterSet
    ordering_fields = ("created_at",)
    capabilities = {"list": VIEW, "retrieve": VIEW, "create": MANAGE, "destroy": MANAGE}
    delete_service = staticmethod(services.delete_link)

    def scope_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return selectors.links(tenant=self.tenant, internal=self.internal)


@extend_schema(tags=["incidents"])
class TimelineEntryViewSet(CreateMixin, _ReadViewSet):
    """The append-only timeline of every incident (``?incident=``), newest first. Written by
    the services for every change; people add notes, legal reviews and pinned mentions.
    Entries are never changed or deleted."""

    queryset = TimelineEntry.objects.all()
    serializer_class = TimelineEntrySerializer
    filterset_class = TimelineEntryFilterSet
    ordering_fields = ("at",)
    capabilities = {"list": VIEW, "retrieve": VIEW, "create": MANAGE}

    def scope_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return selectors.timeline(tenant=self.tenant, internal=self.internal)


@extend_schema(tags=["incidents"])
class IncidentPlaybookViewSet(CreateMixin, _ReadViewSet):
    """Playbooks attached to incidents (``?incident=``): matching playbooks attach by
    themselves when an incident opens or its severity, trigger or tags change; ``POST`` attaches
    one by hand. An attachment is never removed (so a playbook runs once per incident); cancel
    its tasks instead."""

    queryset = IncidentPlaybook.objects.all()
    serializer_class = IncidentPlaybookSerializer
    filterset_class = IncidentPlaybookFilterSet
    ordering_fields = ("attached_at",)
    capabilities = {"list": INTERNAL, "retrieve": INTERNAL, "create": MANAGE}

    def scope_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.order_by("incident_id", "attached_at", "pk")


@extend_schema(tags=["incidents"])
class ResponseAdviceViewSet(PatchMixin, _ReadViewSet):
    """The response advice of each incident (``?incident=``): its crisis-responsibility
    cluster, recommended posture and reasoning. Changing it is a commander's power."""

    queryset = ResponseAdvice.objects.all()
    serializer_class = ResponseAdviceSerializer
    filterset_class = ResponseAdviceFilterSet
    ordering_fields = ("updated_at",)
    capabilities = {"list": INTERNAL, "retrieve": INTERNAL, "partial_update": MANAGE}


@extend_schema(tags=["incidents"])
class SeverityPolicyViewSet(TenantCrudViewSet):
    """Per severity: the response-time targets (minutes) and whether an alert of that
    severity opens an incident by itself. A severity without a row uses the defaults of
    docs/incidents.md."""

    queryset = SeverityPolicy.objects.all()
    serializer_class = SeverityPolicySerializer
    ordering_fields = ("severity",)
    capabilities = crud_capabilities(VIEW, COMMAND)
    delete_service = staticmethod(services.delete_severity_policy)


@extend_schema(tags=["incidents"])
class RolePolicyViewSet(TenantCrudViewSet):
    """Who gets which team role when an incident of a trigger and severity opens (empty:
    any)."""

    queryset = RolePolicy.objects.all()
    serializer_class = RolePolicySerializer
    ordering_fields = ("role", "created_at")
    capabilities = crud_capabilities(INTERNAL, COMMAND)
    delete_service = staticmethod(services.delete_role_policy)

    def scope_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.select_related("user")


@extend_schema(tags=["incidents"], parameters=[PeriodSerializer], responses=FiguresSerializer)
class IncidentFiguresView(TenantScopedAPIView):
    """Figures of the incidents detected in a period (default: the last 7 days), drills left
    out: counts, median minutes to acknowledge, to the first statement and to resolve, targets
    missed."""

    capabilities = {"get": VIEW}

    def get(self, request: Request, tenant_slug: str) -> Response:
        params = PeriodSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        body = selectors.figures(
            tenant=self.tenant,
            since=params.validated_data["since"],
            until=params.validated_data.get("until") or timezone.now(),
        )
        return Response(FiguresSerializer(body).data)
