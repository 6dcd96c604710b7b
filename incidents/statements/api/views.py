"""REST endpoints of statements, crisis mode, stakeholders and holding-statement templates
under ``/api/v1/tenants/{tenant_slug}/`` (``docs/statements.md``).

Drafting, revising, submitting and recording publications need ``statements.draft``;
approving ``statements.approve``; the client's decision ``statements.client_approve`` (and
being the incident's client approver, checked by the service). Crisis mode is started and
ended with ``incidents.manage`` at the door and, in the service, ``crisis_mode.manage`` or
being the incident's commander. Stakeholders, the engagement log and the right-of-reply
tracker are written with ``stakeholders.manage``. Callers without ``incidents.view_internal``
(the client role) see no drafts, no drills and only interactions marked visible.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from django.db.models import QuerySet
from django.http import HttpResponse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from incidents.api.views import (
    CreateMixin,
    DestroyMixin,
    IncidentScopedMixin,
    PatchMixin,
)
from incidents.statements import selectors, services
from incidents.statements.api.serializers import (
    AgencyStatementTemplateSerializer,
    ApprovalStepSerializer,
    ApprovalWorkflowSerializer,
    CrisisEndSerializer,
    CrisisModeSerializer,
    CrisisStateSerializer,
    DecisionSerializer,
    DiffParamsSerializer,
    DiffSerializer,
    InteractionSerializer,
    PublishRecordSerializer,
    ReviseSerializer,
    RightOfReplySerializer,
    StakeholderSerializer,
    StatementApprovalSerializer,
    StatementCreateSerializer,
    StatementSerializer,
    StatementTemplateSerializer,
    StatementVersionSerializer,
)
from incidents.statements.choices import DecisionVia
from incidents.statements.models import (
    ApprovalStep,
    ApprovalWorkflow,
    CrisisMode,
    PublishRecord,
    RightOfReply,
    Stakeholder,
    StakeholderInteraction,
    Statement,
    StatementApproval,
    StatementVersion,
)
from playbooks import services as playbook_services
from playbooks.models import StatementTemplate
from tenants.api.base import (
    TenantCrudViewSet,
    TenantScopedAPIView,
    TenantScopedViewSet,
    crud_capabilities,
)
from tenants.api.pagination import DIGITS
from tenants.api.serializers import service_errors
from tenants.roles import Cap

VIEW, INTERNAL, MANAGE = Cap.VIEW_INCIDENTS, Cap.VIEW_INCIDENT_INTERNALS, Cap.MANAGE_INCIDENTS
DRAFT, APPROVE = Cap.DRAFT_STATEMENTS, Cap.APPROVE_STATEMENTS
CLIENT_APPROVE, STAKEHOLDERS = Cap.CLIENT_APPROVE_STATEMENTS, Cap.MANAGE_STAKEHOLDERS


def _id_param(request: Request, name: str) -> int | None:
    value = request.query_params.get(name)
    if value in (None, ""):
        return None
    if not DIGITS.fullmatch(str(value)):
        raise serializers.ValidationError({name: "An id."}, code="invalid")
    return int(str(value))


class _ByIncident:
    """``?incident=`` narrows the list to one incident."""

    request: Any

    def by_incident(self, rows: QuerySet[Any]) -> QuerySet[Any]:
        incident = _id_param(self.request, "incident")
        return rows if incident is None else rows.filter(incident_id=incident)


@extend_schema(tags=["statements"])
class StatementTemplateViewSet(TenantCrudViewSet):
    """The holding-statement templates the tenant may draft from: its own and its agency's
    (``owner``). Four required parts, ``{name}`` placeholders declared in ``placeholders`` (an
    unknown, malformed or unused one is refused on that field) and must-not rules. New ones are
    the tenant's; the agency's are read-only here (403: its admins keep them in the admin)."""

    queryset = StatementTemplate.objects.all()
    serializer_class = StatementTemplateSerializer
    ordering_fields = ("name", "created_at")
    capabilities = crud_capabilities(INTERNAL, MANAGE)

    def perform_update(self, serializer: Any) -> None:
        with service_errors():
            serializer.save()

    def perform_destroy(self, instance: Any) -> None:
        with service_errors():
            playbook_services.delete_statement_template(instance=instance)


@extend_schema(tags=["statements"], responses=AgencyStatementTemplateSerializer(many=True))
class AgencyStatementTemplateListView(TenantScopedAPIView):
    """The holding-statement templates of the tenant's agency (kept in the admin)."""

    capabilities = {"get": INTERNAL}

    def get(self, request: Request, tenant_slug: str) -> Response:
        rows = StatementTemplate.objects.filter(agency_id=self.tenant.agency_id, tenant=None)
        return Response(AgencyStatementTemplateSerializer(rows, many=True).data)


@extend_schema(tags=["statements"])
class ApprovalWorkflowViewSet(TenantCrudViewSet):
    """Approval workflows by severity; a severity without one uses a single step (any holder
    of ``statements.approve``, 60 minutes)."""

    queryset = ApprovalWorkflow.objects.all()
    serializer_class = ApprovalWorkflowSerializer
    ordering_fields = ("severity",)
    capabilities = crud_capabilities(INTERNAL, Cap.COMMAND_INCIDENTS)
    delete_service = staticmethod(services.delete_workflow)


@extend_schema(tags=["statements"])
class ApprovalStepViewSet(TenantCrudViewSet):
    """The ordered steps of approval workflows (``?workflow=``): agency approvers or the
    incident's client approver, any one or all, a time box and a backup."""

    queryset = ApprovalStep.objects.all()
    serializer_class = ApprovalStepSerializer
    ordering_fields = ("position",)
    capabilities = crud_capabilities(INTERNAL, Cap.COMMAND_INCIDENTS)
    delete_service = staticmethod(services.delete_step)

    def scope_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        workflow = _id_param(self.request, "workflow")
        return queryset if workflow is None else queryset.filter(workflow_id=workflow)


@extend_schema(tags=["statements"])
class StatementViewSet(
    _ByIncident,
    IncidentScopedMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    CreateMixin,
    TenantScopedViewSet,
):
    """Official statements of incidents (``?incident=``), drafted from a template (``template``,
    the tenant's or its agency's, with ``values`` for every placeholder) or as ``text``; the first
    version is a draft. ``revise`` makes a new version."""

    queryset = Statement.objects.all()
    serializer_class = StatementSerializer
    ordering_fields = ("created_at",)
    capabilities = {"list": VIEW, "retrieve": VIEW, "create": DRAFT, "revise": DRAFT}

    def get_serializer_class(self) -> Any:
        return StatementCreateSerializer if self.action == "create" else StatementSerializer

    def scope_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return self.by_incident(selectors.statements(tenant=self.tenant, internal=self.internal))

    @extend_schema(request=ReviseSerializer, responses={201: StatementVersionSerializer})
    @action(detail=True, methods=["post"])
    def revise(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """A new draft version (waiting older ones are withdrawn; approved ones stay)."""
        statement = self.get_object()
        params = ReviseSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        with service_errors():
            version = services.revise_statement(
                statement=statement, authority=self.authority, **params.validated_data
            )
        return Response(StatementVersionSerializer(version).data, status=201)


@extend_schema(tags=["statements"])
class StatementVersionViewSet(
    _ByIncident,
    IncidentScopedMixin,
    PatchMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    TenantScopedViewSet,
):
    """Versions of statements (``?incident=``, ``?statement=``), newest first. A draft's text
    changes (PATCH); ``submit`` sends it to its workflow; ``approve`` and ``client_decision``
    decide on the current step; ``diff`` compares with another version."""

    queryset = StatementVersion.objects.all()
    serializer_class = StatementVersionSerializer
    ordering_fields = ("created_at", "number")
    capabilities = {
        "list": VIEW,
        "retrieve": VIEW,
        "partial_update": DRAFT,
        "submit": DRAFT,
        "approve": APPROVE,
        "client_decision": CLIENT_APPROVE,
        "diff": VIEW,
    }

    def scope_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        rows = self.by_incident(selectors.versions(tenant=self.tenant, internal=self.internal))
        statement = _id_param(self.request, "statement")
        return rows if statement is None else rows.filter(statement_id=statement)

    def _answer(self, version: StatementVersion) -> Response:
        fresh = StatementVersion.objects.for_tenant(self.tenant).get(pk=version.pk)
        return Response(StatementVersionSerializer(fresh).data)

    @extend_schema(request=None, responses={200: StatementVersionSerializer})
    @action(detail=True, methods=["post"])
    def submit(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Send the draft to the approval workflow of the incident's severity."""
        version = self.get_object()
        with service_errors():
            services.submit_version(version=version, authority=self.authority)
        return self._answer(version)

    def _decide(self, request: Request, via: str) -> Response:
        version = self.get_object()
        params = DecisionSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        with service_errors():
            services.decide(
                version=version, authority=self.authority, via=via, **params.validated_data
            )
        return self._answer(version)

    @extend_schema(request=DecisionSerializer, responses={200: StatementVersionSerializer})
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Approve or reject (with a comment) the current step. Refused on ``version``: your
        own version, an old version, a step that is not yours."""
        return self._decide(request, DecisionVia.API)

    @extend_schema(request=DecisionSerializer, responses={200: StatementVersionSerializer})
    @action(detail=True, methods=["post"])
    def client_decision(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The incident's client approver approves or rejects (with a comment) a client step."""
        return self._decide(request, DecisionVia.API)

    @extend_schema(parameters=[DiffParamsSerializer], responses={200: DiffSerializer})
    @action(detail=True, methods=["get"])
    def diff(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """A readable diff from another version of the same statement (default: the previous
        one) to this one: unified by line, and word by word."""
        version = self.get_object()
        params = DiffParamsSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        rows = self.get_queryset().filter(statement_id=version.statement_id)
        against = params.validated_data.get("against")
        if against is not None:
            older = rows.filter(pk=against).first()
        else:
            older = rows.filter(number__lt=version.number).order_by("-number").first()
        if older is None:
            raise serializers.ValidationError(
                {"against": "No other version of this statement to compare with."},
                code="not_found",
            )
        return Response(DiffSerializer(selectors.diff(older, version)).data)


@extend_schema(tags=["statements"])
class StatementApprovalViewSet(
    _ByIncident,
    IncidentScopedMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    TenantScopedViewSet,
):
    """Every decision on statement versions (``?version=``): who, which step, via what."""

    queryset = StatementApproval.objects.all()
    serializer_class = StatementApprovalSerializer
    ordering_fields = ("at",)
    capabilities = {"list": INTERNAL, "retrieve": INTERNAL}

    def scope_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        version = _id_param(self.request, "version")
        rows = selectors.approvals(tenant=self.tenant)
        return rows if version is None else rows.filter(version_id=version)


EXPORT_COLUMNS = ("id", "incident", "version", "channel", "published_at", "url", "text")


@extend_schema(tags=["statements"])
class PublishRecordViewSet(
    _ByIncident,
    IncidentScopedMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    CreateMixin,
    TenantScopedViewSet,
):
    """Where and when approved versions were published (``?incident=``). Sigap does not post:
    record each publication here; the first one stamps the incident's first statement.
    ``export`` gives them as CSV."""

    queryset = PublishRecord.objects.all()
    serializer_class = PublishRecordSerializer
    ordering_fields = ("published_at",)
    capabilities = {"list": VIEW, "retrieve": VIEW, "create": DRAFT, "export": VIEW}

    def scope_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return self.by_incident(selectors.publications(tenant=self.tenant, internal=self.internal))

    @extend_schema(responses={(200, "text/csv"): OpenApiResponse(description="CSV")})
    @action(detail=False, methods=["get"])
    def export(self, request: Request, *args: Any, **kwargs: Any) -> HttpResponse:
        """The publish records (``?incident=``) as CSV, with the published text."""
        rows = list(self.get_queryset().order_by("published_at", "pk")[:10000])
        texts = dict(
            StatementVersion.objects.for_tenant(self.tenant)
            .filter(pk__in={row.version_id for row in rows})
            .values_list("pk", "text")
        )
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(EXPORT_COLUMNS)
        for row in rows:
            writer.writerow(
                [
                    row.pk,
                    row.incident_id,
                    row.version_id,
                    row.channel,
                    row.published_at.isoformat(),
                    row.url,
                    texts[row.version_id],
                ]
            )
        response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="publish-records.csv"'
        return response


@extend_schema(tags=["statements"])
class CrisisModeViewSet(
    _ByIncident,
    IncidentScopedMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    CreateMixin,
    TenantScopedViewSet,
):
    """The tenant's crisis mode: periods tied to an open incident, newest first; ``current``
    answers the running one. Starting (POST) and ``end`` need ``crisis_mode.manage`` or being
    the incident's commander; it also ends at ``ends_at`` and when the incident resolves."""

    queryset = CrisisMode.objects.all()
    serializer_class = CrisisModeSerializer
    ordering_fields = ("started_at",)
    capabilities = {
        "list": VIEW,
        "retrieve": VIEW,
        "create": MANAGE,
        "end": MANAGE,
        "current": VIEW,
    }

    def scope_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return self.by_incident(selectors.crisis_modes(tenant=self.tenant, internal=self.internal))

    @extend_schema(request=CrisisEndSerializer, responses={200: CrisisModeSerializer})
    @action(detail=True, methods=["post"])
    def end(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """End the crisis mode now, with a reason."""
        crisis = self.get_object()
        params = CrisisEndSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        with service_errors():
            crisis = services.end_crisis_mode(
                crisis_mode=crisis, authority=self.authority, **params.validated_data
            )
        return Response(CrisisModeSerializer(crisis, context=self.get_serializer_context()).data)

    @extend_schema(responses={200: CrisisStateSerializer})
    @action(detail=False, methods=["get"])
    def current(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Whether the tenant is in crisis mode now, and the running period."""
        running = selectors.running_crisis_mode(tenant=self.tenant, internal=self.internal)
        return Response(
            CrisisStateSerializer(
                {"active": running is not None, "crisis_mode": running},
                context=self.get_serializer_context(),
            ).data
        )


@extend_schema(tags=["stakeholders"])
class StakeholderViewSet(TenantCrudViewSet):
    """The tenant's contacts (``?kind=``, ``?tag=``): journalists and outlets, regulators, key
    opinion leaders, partners, employees."""

    queryset = Stakeholder.objects.all()
    serializer_class = StakeholderSerializer
    ordering_fields = ("name", "created_at")
    capabilities = crud_capabilities(INTERNAL, STAKEHOLDERS)
    delete_service = staticmethod(services.delete_stakeholder)

    def scope_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        kind = self.request.query_params.get("kind")
        tag = self.request.query_params.get("tag")
        if kind:
            queryset = queryset.filter(kind=kind)
        if tag:
            queryset = queryset.filter(tags__contains=[tag.strip().lower()])
        return queryset


@extend_schema(tags=["stakeholders"])
class InteractionViewSet(
    _ByIncident,
    IncidentScopedMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    CreateMixin,
    TenantScopedViewSet,
):
    """The engagement log of incidents (``?incident=``): each interaction with a contact, also
    on the timeline (internal unless ``visible_to_client``). A log: never changed."""

    queryset = StakeholderInteraction.objects.all()
    serializer_class = InteractionSerializer
    ordering_fields = ("at",)
    capabilities = {"list": VIEW, "retrieve": VIEW, "create": STAKEHOLDERS}

    def scope_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return self.by_incident(selectors.interactions(tenant=self.tenant, internal=self.internal))


@extend_schema(tags=["stakeholders"])
class RightOfReplyViewSet(
    _ByIncident,
    IncidentScopedMixin,
    PatchMixin,
    DestroyMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    CreateMixin,
    TenantScopedViewSet,
):
    """The right-of-reply (hak jawab) tracker (``?incident=``): outlet, article, request sent,
    answer due, published or not."""

    queryset = RightOfReply.objects.all()
    serializer_class = RightOfReplySerializer
    ordering_fields = ("answer_due_at", "created_at")
    capabilities = {
        "list": INTERNAL,
        "retrieve": INTERNAL,
        "create": STAKEHOLDERS,
        "partial_update": STAKEHOLDERS,
        "destroy": STAKEHOLDERS,
    }
    delete_service = staticmethod(services.delete_right_of_reply)

    def scope_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return self.by_incident(selectors.rights_of_reply(tenant=self.tenant))
