"""REST endpoints of the playbooks app under ``/api/v1/tenants/{tenant_slug}/``.

``playbooks/`` lists the tenant's own playbooks and its agency's (``playbooks.view``, every
role) and writes them with ``playbooks.manage``; an agency-owned playbook is written by the
agency's admins only (403 otherwise, checked by the services). Reads go through
``playbooks.selectors``.

Canned answers and the chat widget (issue 16): ``canned-answers/`` (read with
``incidents.view_internal``, written with ``answers.manage``) and ``answer-widget/`` (the widget's
key and allowed origins, ``answers.manage``). The chat widget itself,
``widget/answers/``, is public (``config.public``): it is authenticated by the tenant's
publishable widget key (``X-Widget-Key`` or ``?key=``), reads approved answers only, answers
browsers only from the tenant's listed origins (CORS) and is rate-limited per client IP.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, permissions, serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from playbooks import fields as public_fields
from playbooks import selectors, services
from playbooks.api.serializers import PlaybookSerializer
from playbooks.choices import AnswerLanguage, AnswerStatus
from playbooks.filtersets import PlaybookFilterSet
from playbooks.models import AnswerWidget, CannedAnswer, Playbook
from tenants import dbscope
from tenants.api.base import TenantCrudViewSet, crud_capabilities
from tenants.api.serializers import ServiceModelSerializer, service_errors
from tenants.models import Tenant
from tenants.roles import Cap
from tenants.throttling import AtomicRateThrottle


@extend_schema(tags=["playbooks"])
class PlaybookViewSet(TenantCrudViewSet):
    """Crisis playbooks: conditions (trigger types, minimum severity, tags), ordered steps
    (incident role, due offset, checklist, dependencies), do and don't guidance and key
    messages. Matching playbooks attach to incidents by themselves (docs/playbooks.md)."""

    queryset = Playbook.objects.all()
    serializer_class = PlaybookSerializer
    filterset_class = PlaybookFilterSet
    ordering_fields = ("name", "updated_at")
    capabilities = crud_capabilities(Cap.VIEW_PLAYBOOKS, Cap.MANAGE_PLAYBOOKS)

    def scope_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return selectors.playbooks(tenant=self.tenant)

    def perform_create(self, serializer: Any) -> None:
        with service_errors():
            serializer.save(tenant=self.tenant)

    def perform_update(self, serializer: Any) -> None:
        with service_errors():
            serializer.save()

    def perform_destroy(self, instance: Any) -> None:
        with service_errors():
            services.delete_playbook(instance=instance, user=self.request.user)


# --- canned answers and the chat widget (issue 16) ---
MAX_QUERY = 500
MAX_LISTED = 100


class CannedAnswerSerializer(ServiceModelSerializer):
    create_service = staticmethod(services.create_answer)
    update_service = staticmethod(services.update_answer)

    approved_by = serializers.PrimaryKeyRelatedField(read_only=True)  # type: ignore[var-annotated]
    status = serializers.ChoiceField(
        choices=AnswerStatus.choices,
        required=False,
        help_text="Setting 'approved' approves it (only approved answers are used); changing "
        "the text of an approved answer makes it a draft again.",
    )

    class Meta:
        model = CannedAnswer
        fields: tuple[str, ...] = public_fields.CANNED_ANSWER.names
        read_only_fields: tuple[str, ...] = public_fields.CANNED_ANSWER.read_only


class AnswerWidgetSerializer(ServiceModelSerializer):
    create_service = staticmethod(services.create_widget)
    update_service = staticmethod(services.update_widget)

    class Meta:
        model = AnswerWidget
        fields: tuple[str, ...] = public_fields.ANSWER_WIDGET.names
        read_only_fields: tuple[str, ...] = public_fields.ANSWER_WIDGET.read_only


@extend_schema(tags=["canned answers"])
class CannedAnswerViewSet(TenantCrudViewSet):
    """The tenant's library of answers to common questions, per language. Only approved
    answers are suggested for mentions (``reply-suggestions/``) and served by the chat widget;
    ``usage_count`` counts the replies that used one."""

    queryset = CannedAnswer.objects.all()
    serializer_class = CannedAnswerSerializer
    ordering_fields = ("question", "usage_count", "updated_at")
    capabilities = crud_capabilities(Cap.VIEW_INCIDENT_INTERNALS, Cap.MANAGE_ANSWERS)
    delete_service = staticmethod(services.delete_answer)

    def scope_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.filter(**self._filters())

    def _filters(self) -> dict[str, str]:
        found = {}
        for name, choices in (("status", AnswerStatus.values), ("language", AnswerLanguage.values)):
            value = self.request.query_params.get(name)
            if value is None:
                continue
            if value not in choices:
                raise serializers.ValidationError(
                    {name: [_("Write one of: %(values)s.") % {"values": ", ".join(choices)}]}
                )
            found[name] = value
        return found

    def perform_create(self, serializer: Any) -> None:
        serializer.save(tenant=self.tenant, actor=self.request.user)

    def perform_update(self, serializer: Any) -> None:
        serializer.save(actor=self.request.user)


@extend_schema(tags=["canned answers"])
class AnswerWidgetViewSet(TenantCrudViewSet):
    """The tenant's chat widgets (one per website): the publishable key of each (read-only;
    ``rotate-key`` gives a new one) and the web origins allowed to call ``widget/answers/``."""

    queryset = AnswerWidget.objects.all()
    serializer_class = AnswerWidgetSerializer
    capabilities = {
        **crud_capabilities(Cap.MANAGE_ANSWERS, Cap.MANAGE_ANSWERS),
        "rotate_key": Cap.MANAGE_ANSWERS,
    }
    delete_service = staticmethod(services.delete_widget)

    @extend_schema(request=None, responses={200: AnswerWidgetSerializer})
    @action(detail=True, methods=["post"], url_path="rotate-key", url_name="rotate-key")
    def rotate_key(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """A new key; the old one stops working at once."""
        with service_errors():
            widget = services.rotate_widget_key(instance=self.get_object())
        return Response(AnswerWidgetSerializer(widget).data)


# --- the public chat widget ------------------------------------------------------------------


class WidgetRateThrottle(AtomicRateThrottle):
    """The chat widget, per client IP (``THROTTLE_RATE_WIDGET``)."""

    scope = "widget"

    def get_cache_key(self, request: Any, view: Any) -> str | None:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class WidgetAnswerSerializer(serializers.Serializer):  # type: ignore[type-arg]
    id = serializers.IntegerField()
    question = serializers.CharField()
    answer = serializers.CharField()
    language = serializers.CharField()
    score = serializers.FloatField(
        required=False, help_text="Similarity to ``q`` (0 to 1), with ``q`` only."
    )


def _refuse_origin() -> exceptions.PermissionDenied:
    return exceptions.PermissionDenied(
        _("This origin may not use the widget."), code="origin_not_allowed"
    )


@extend_schema(
    tags=["canned answers"],
    auth=[],
    parameters=[
        OpenApiParameter("key", str, description="The publishable widget key (or X-Widget-Key)."),
        OpenApiParameter("q", str, description="The visitor's question: the three closest."),
        OpenApiParameter("language", str, enum=AnswerLanguage.values),
    ],
    responses={200: WidgetAnswerSerializer(many=True)},
)
class WidgetAnswersView(APIView):
    """Approved canned answers for a tenant's chat widget (public: authenticated by the
    publishable widget key, which can read nothing else). With ``q``, the three closest
    answers and their scores; without, up to 100 answers. Browsers are answered only from the
    origins listed for the widget (CORS); each client IP is rate-limited."""

    authentication_classes: list[Any] = []
    permission_classes = [permissions.AllowAny]
    throttle_classes = [WidgetRateThrottle]

    def get_authenticate_header(self, request: Request) -> str:
        return 'WidgetKey realm="api"'  # a refused key answers 401, not 403

    def widget(self, request: Request, tenant_slug: str) -> AnswerWidget:
        key = request.headers.get("X-Widget-Key") or request.query_params.get("key") or ""
        tenant = Tenant.objects.filter(slug=tenant_slug, status=Tenant.Status.ACTIVE).first()
        widget = None
        if tenant is not None and key:
            dbscope.set_entry_scope(dbscope.tenants([tenant.pk]))
            widget = selectors.widget_for_key(tenant=tenant, key=key)
        if widget is None:
            raise exceptions.AuthenticationFailed(_("Unknown or disabled widget key."))
        origin = request.headers.get("Origin")
        if origin is not None and origin not in widget.allowed_origins:
            raise _refuse_origin()
        return widget

    def get(self, request: Request, tenant_slug: str) -> Response:
        widget = self.widget(request, tenant_slug)
        language = request.query_params.get("language") or None
        if language is not None and language not in AnswerLanguage.values:
            raise serializers.ValidationError(
                {"language": [_("Write one of: %(values)s.") % {"values": "id, en"}]}
            )
        question = request.query_params.get("q", "")
        if len(question) > MAX_QUERY:
            raise serializers.ValidationError(
                {"q": [_("At most %(count)d characters.") % {"count": MAX_QUERY}]}
            )
        if question.strip():
            rows: list[dict[str, Any]] = [
                {**_public(s.answer), "score": s.score}
                for s in selectors.suggest(
                    tenant=widget.tenant_id, text=question, language=language
                )
            ]
        else:
            answers = selectors.approved_answers(tenant=widget.tenant_id, language=language)
            rows = [_public(a) for a in answers.order_by("-usage_count", "id")[:MAX_LISTED]]
        return self.cors(request, Response(WidgetAnswerSerializer(rows, many=True).data))

    def options(self, request: Request, *args: Any, **kwargs: Any) -> Response:  # type: ignore[override]
        """The browser's preflight: allowed only from the widget's origins."""
        widget_origin = request.headers.get("Origin")
        tenant = Tenant.objects.filter(slug=kwargs.get("tenant_slug", "")).first()
        allowed: list[str] = []
        if tenant is not None:
            dbscope.set_entry_scope(dbscope.tenants([tenant.pk]))
            widgets = AnswerWidget.objects.for_tenant(tenant).filter(is_enabled=True)
            allowed = [o for w in widgets[:50] for o in w.allowed_origins]
        if widget_origin is None or widget_origin not in allowed:
            raise _refuse_origin()
        response = Response(status=204)
        response["Access-Control-Allow-Methods"] = "GET, OPTIONS"
        response["Access-Control-Allow-Headers"] = "X-Widget-Key"
        response["Access-Control-Max-Age"] = "600"
        return self.cors(request, response)

    @staticmethod
    def cors(request: Request, response: Response | HttpResponse) -> Any:
        origin = request.headers.get("Origin")
        if origin is not None:
            response["Access-Control-Allow-Origin"] = origin
        response["Vary"] = "Origin"
        return response


def _public(answer: CannedAnswer) -> dict[str, Any]:
    return {name: getattr(answer, name) for name in public_fields.WIDGET_ANSWER}
