"""REST endpoints of replies to mentions and of the consistency check, under
``/api/v1/tenants/{tenant_slug}/``.

``replies/`` are read with ``incidents.view_internal`` and drafted, changed, deleted (drafts only)
and submitted with ``replies.draft``; ``approve`` and ``return`` need ``statements.approve``;
``override`` needs ``incidents.manage`` and the commander's powers on the reply's incident
(checked by the service: 403). ``consistency-check/`` checks any outgoing text without writing
anything; ``reply-suggestions/?mention=`` gives the three closest approved canned answers. The
rules are ``incidents.replies``'s.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from incidents import fields as public_fields
from incidents import replies
from incidents.api.serializers import TenantRowField
from incidents.api.views import IncidentScopedMixin
from incidents.filtersets import ReplyFilterSet
from incidents.models import Incident, Reply
from monitoring.models import Mention
from playbooks.models import CannedAnswer
from tenants.api.base import TenantScopedAPIView, TenantScopedViewSet
from tenants.api.pagination import DIGITS
from tenants.api.serializers import StrictSerializerMixin, service_errors
from tenants.roles import Cap


class FindingSerializer(serializers.Serializer):  # type: ignore[type-arg]
    category = serializers.ChoiceField(
        choices=["number", "date", "negation", "promise", "must_not", "tone"]
    )
    start = serializers.IntegerField(help_text="Offset of the span in the text (characters).")
    end = serializers.IntegerField()
    excerpt = serializers.CharField()
    reason = serializers.CharField()


class ReplySerializer(StrictSerializerMixin, serializers.ModelSerializer):  # type: ignore[type-arg]
    mention = TenantRowField(Mention)
    incident = TenantRowField(
        Incident,
        required=False,
        allow_null=True,
        help_text="Default: the open incident the mention is linked to, if any.",
    )
    canned_answer = TenantRowField(
        CannedAnswer, required=False, allow_null=True, help_text="An approved canned answer used."
    )
    text = serializers.CharField(max_length=replies.MAX_TEXT)
    findings = FindingSerializer(many=True, read_only=True)
    overridden_by = serializers.PrimaryKeyRelatedField(read_only=True)  # type: ignore[var-annotated]
    approved_by = serializers.PrimaryKeyRelatedField(read_only=True)  # type: ignore[var-annotated]
    sent_by = serializers.PrimaryKeyRelatedField(read_only=True)  # type: ignore[var-annotated]
    created_by = serializers.PrimaryKeyRelatedField(read_only=True)  # type: ignore[var-annotated]

    class Meta:
        model = Reply
        fields: tuple[str, ...] = public_fields.REPLY.names
        read_only_fields: tuple[str, ...] = public_fields.REPLY.read_only

    def create(self, validated_data: dict[str, Any]) -> Reply:
        with service_errors():
            return replies.draft_reply(authority=self.context["authority"], **validated_data)

    def update(self, instance: Reply, validated_data: dict[str, Any]) -> Reply:
        unchangeable = sorted(set(validated_data) - {"text"})
        if unchangeable:
            raise serializers.ValidationError(
                {unchangeable[0]: [_("Only the text of a draft can change.")]}, code="read_only"
            )
        with service_errors():
            return replies.update_reply(
                instance=instance, authority=self.context["authority"], **validated_data
            )


class OverrideSerializer(StrictSerializerMixin, serializers.Serializer):  # type: ignore[type-arg]
    reason = serializers.CharField(max_length=1000, help_text="Why the flagged text may go out.")


class CheckSerializer(StrictSerializerMixin, serializers.Serializer):  # type: ignore[type-arg]
    text = serializers.CharField(max_length=replies.MAX_TEXT)
    incident = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        max_value=2**63 - 1,
        help_text="The incident whose approved line the text is checked against (its id).",
    )


class CheckResultSerializer(serializers.Serializer):  # type: ignore[type-arg]
    flagged = serializers.BooleanField()
    findings = FindingSerializer(many=True)


class SuggestionSerializer(serializers.Serializer):  # type: ignore[type-arg]
    id = serializers.IntegerField(source="answer.pk")
    question = serializers.CharField(source="answer.question")
    answer = serializers.CharField(source="answer.answer")
    language = serializers.CharField(source="answer.language")
    score = serializers.FloatField(help_text="Similarity to the mention, 0 to 1.")


@extend_schema(tags=["replies"])
class ReplyViewSet(
    IncidentScopedMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    TenantScopedViewSet,
):
    """Replies to mentions, newest first: drafted and checked against the approved line of
    their incident, approved where the policy requires (SEV1-SEV2, or flagged), recorded as
    sent (the mention becomes ``responded``). See docs/replies.md."""

    queryset = Reply.objects.all()
    serializer_class = ReplySerializer
    filterset_class = ReplyFilterSet
    ordering_fields = ("created_at", "sent_at")
    capabilities = {
        "list": Cap.VIEW_INCIDENT_INTERNALS,
        "retrieve": Cap.VIEW_INCIDENT_INTERNALS,
        "create": Cap.DRAFT_REPLIES,
        "partial_update": Cap.DRAFT_REPLIES,
        "destroy": Cap.DRAFT_REPLIES,
        "submit": Cap.DRAFT_REPLIES,
        "approve": Cap.APPROVE_STATEMENTS,
        "send_back": Cap.APPROVE_STATEMENTS,
        "override": Cap.MANAGE_INCIDENTS,
    }

    def perform_create(self, serializer: Any) -> None:
        serializer.save(tenant=self.tenant)

    def perform_destroy(self, instance: Reply) -> None:
        with service_errors():
            replies.delete_reply(instance=instance, authority=self.authority)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Change a draft's text (checked again; an override no longer applies)."""
        serializer = self.get_serializer(self.get_object(), data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        serializer.save()
        return Response(serializer.data)

    def _answer(self, reply: Reply) -> Response:
        fresh = Reply.objects.for_tenant(self.tenant).get(pk=reply.pk)
        return Response(ReplySerializer(fresh, context=self.get_serializer_context()).data)

    @extend_schema(request=None, responses={200: ReplySerializer})
    @action(detail=True, methods=["post"])
    def submit(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Check the draft once more and send it, or leave it waiting for approval where the
        policy requires. A flagged reply at SEV1-SEV2 without the commander's override answers
        400 on ``text`` (code ``flagged``)."""
        with service_errors():
            reply = replies.submit_reply(instance=self.get_object(), authority=self.authority)
        return self._answer(reply)

    @extend_schema(request=None, responses={200: ReplySerializer})
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Approve a reply waiting for approval: it is recorded as sent."""
        with service_errors():
            reply = replies.approve_reply(instance=self.get_object(), authority=self.authority)
        return self._answer(reply)

    @extend_schema(request=None, responses={200: ReplySerializer})
    @action(detail=True, methods=["post"], url_path="return", url_name="return")
    def send_back(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Send a reply waiting for approval back to its drafter (a draft again)."""
        with service_errors():
            reply = replies.return_reply(instance=self.get_object(), authority=self.authority)
        return self._answer(reply)

    @extend_schema(request=OverrideSerializer, responses={200: ReplySerializer})
    @action(detail=True, methods=["post"])
    def override(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The commander's override of a flagged reply at SEV1-SEV2, with a reason (on the
        incident's timeline)."""
        params = OverrideSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        with service_errors():
            reply = replies.override_check(
                instance=self.get_object(), authority=self.authority, **params.validated_data
            )
        return self._answer(reply)


@extend_schema(tags=["replies"], request=CheckSerializer, responses={200: CheckResultSerializer})
class ConsistencyCheckView(TenantScopedAPIView):
    """Check any outgoing text (a reply, a channel variant of a statement) against the approved
    line of an incident: every finding with its span and reason. Writes nothing."""

    capabilities = {"post": Cap.VIEW_INCIDENT_INTERNALS}

    def post(self, request: Request, tenant_slug: str) -> Response:
        params = CheckSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        incident = None
        if params.validated_data.get("incident") is not None:
            incident = (
                Incident.objects.for_tenant(self.tenant)
                .filter(pk=params.validated_data["incident"])
                .first()
            )
            if incident is None:
                raise serializers.ValidationError(
                    {"incident": [_("No such incident in this tenant.")]}, code="not_found"
                )
        with service_errors():
            findings = replies.check_text(text=params.validated_data["text"], incident=incident)
        return Response(
            CheckResultSerializer({"flagged": bool(findings), "findings": findings}).data
        )


@extend_schema(
    tags=["replies"],
    parameters=[
        OpenApiParameter("mention", int, required=True, description="The mention to answer.")
    ],
    responses={200: SuggestionSerializer(many=True)},
)
class ReplySuggestionsView(TenantScopedAPIView):
    """The three approved canned answers most similar to a mention (character n-grams over
    slang-normalised text), best first, with their scores."""

    capabilities = {"get": Cap.VIEW_INCIDENT_INTERNALS}

    def get(self, request: Request, tenant_slug: str) -> Response:
        mention = request.query_params.get("mention", "")
        if not DIGITS.fullmatch(mention):
            raise serializers.ValidationError({"mention": [_("A mention id is required.")]})
        with service_errors():
            suggestions = replies.suggest_answers(tenant=self.tenant, mention=int(mention))
        return Response(SuggestionSerializer(suggestions, many=True).data)
