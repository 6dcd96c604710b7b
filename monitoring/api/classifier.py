"""REST endpoints of score corrections and the tenant's classifier (docs/scoring.md).

``POST mentions/{id}/correct/`` (``scores.correct``) corrects a mention's scores through the
triage service; ``score-corrections/`` lists them (``scores.correct``); ``classifier/`` lists the
classifier's versions with their accuracy against the base models and ``classifier/suggestions/``
the mentions whose labels would help most (``monitoring.view``: the client sees both); training,
activation, rollback and re-scoring need ``scores.correct``.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from monitoring import classifier
from monitoring import fields as public_fields
from monitoring.api.serializers import MentionSerializer
from monitoring.choices import Sentiment
from monitoring.models import Mention, ScoreCorrection, ScoringModel
from monitoring.scoring import TRIGGER_LABELS
from monitoring.services import correct_mention
from tenants.api.base import TenantScopedViewSet
from tenants.api.serializers import (
    StrictSerializerMixin,
    UserSummarySerializer,
    service_errors,
)
from tenants.choices import CrisisTrigger
from tenants.models import User
from tenants.roles import Cap


class MentionCorrectionSerializer(StrictSerializerMixin, serializers.Serializer):  # type: ignore[type-arg]
    """One or more corrections of a mention's scores; the shape is checked here, the rules by
    ``services.triage_mentions``."""

    sentiment = serializers.ChoiceField(choices=Sentiment.choices, required=False)
    language = serializers.RegexField(
        r"^(?:[a-z]{2,3}|other)$",
        max_length=8,
        required=False,
        help_text="'id', 'en', another ISO 639 code, or 'other'.",
    )
    provocation = serializers.BooleanField(required=False, help_text="The provocation flag.")
    triggers = serializers.ListField(
        child=serializers.ChoiceField(choices=CrisisTrigger.choices),
        required=False,
        max_length=len(TRIGGER_LABELS),
        help_text="The mention's full list of crisis triggers.",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        if not attrs:
            raise serializers.ValidationError(
                {
                    "sentiment": _(
                        "Give at least one of sentiment, language, provocation, triggers."
                    )
                },
                code="required",
            )
        return attrs


class ScoreCorrectionSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    corrected_by = UserSummarySerializer(read_only=True, allow_null=True)
    old_value = serializers.JSONField(read_only=True)
    new_value = serializers.JSONField(read_only=True)

    class Meta:
        model = ScoreCorrection
        fields: tuple[str, ...] = public_fields.SCORE_CORRECTION.names
        read_only_fields: tuple[str, ...] = public_fields.SCORE_CORRECTION.read_only


class ScoringModelSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    metrics = serializers.JSONField(
        read_only=True,
        help_text=(
            "Per head (sentiment, provocation): examples, base_accuracy and the cross-validated "
            "accuracy of this version on the tenant's own labels, live, languages, penalty."
        ),
    )

    class Meta:
        model = ScoringModel
        fields: tuple[str, ...] = public_fields.SCORING_MODEL.names
        read_only_fields: tuple[str, ...] = public_fields.SCORING_MODEL.read_only


class LabelSuggestionSerializer(serializers.Serializer):  # type: ignore[type-arg]
    id = serializers.IntegerField()
    text = serializers.CharField()
    sentiment = serializers.CharField()
    provocation = serializers.FloatField()
    published_at = serializers.DateTimeField()
    uncertainty = serializers.FloatField(help_text="0-1; the higher, the more a label helps.")
    reason = serializers.ChoiceField(choices=("sentiment", "provocation"))


class RescoreSerializer(StrictSerializerMixin, serializers.Serializer):  # type: ignore[type-arg]
    days = serializers.IntegerField(min_value=1, max_value=classifier.MAX_RESCORE_DAYS)


class QueuedSerializer(serializers.Serializer):  # type: ignore[type-arg]
    queued = serializers.BooleanField()


class MentionCorrectionMixin:
    """The ``correct`` action of ``MentionViewSet``."""

    tenant: Any
    get_object: Any
    request: Any

    @extend_schema(request=MentionCorrectionSerializer, responses={200: MentionSerializer})
    @action(detail=True, methods=["post"], url_path="correct")
    def correct(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Correct the mention's sentiment, language, provocation flag or triggers: stored as
        corrections (who, when, old and new value) that teach the tenant's classifier."""
        mention: Mention = self.get_object()
        payload = MentionCorrectionSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        with service_errors():
            user = request.user if isinstance(request.user, User) else None
            correct_mention(mention=mention, corrected_by=user, **payload.validated_data)
        return Response(MentionSerializer(self.get_object()).data)


@extend_schema(tags=["scoring"])
class ScoreCorrectionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantScopedViewSet):
    """The tenant's score corrections, newest first."""

    queryset = ScoreCorrection.objects.all()
    serializer_class = ScoreCorrectionSerializer
    capabilities = {"list": Cap.CORRECT_SCORES, "retrieve": Cap.CORRECT_SCORES}

    def scope_queryset(self, queryset: QuerySet[ScoreCorrection]) -> QuerySet[ScoreCorrection]:
        return queryset.select_related("corrected_by").order_by("-created_at", "-id")


@extend_schema(tags=["scoring"])
class ScoringModelViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantScopedViewSet):
    """Versions of the tenant's classifier with their accuracy against the base models."""

    queryset = ScoringModel.objects.all()
    serializer_class = ScoringModelSerializer
    capabilities = {
        "list": Cap.VIEW_MONITORING,
        "retrieve": Cap.VIEW_MONITORING,
        "suggestions": Cap.VIEW_MONITORING,
        "train": Cap.CORRECT_SCORES,
        "activate": Cap.CORRECT_SCORES,
        "rollback": Cap.CORRECT_SCORES,
        "rescore": Cap.CORRECT_SCORES,
    }

    def scope_queryset(self, queryset: QuerySet[ScoringModel]) -> QuerySet[ScoringModel]:
        return queryset.defer("weights").order_by("-version")

    @extend_schema(request=None, responses={202: QueuedSerializer})
    @action(detail=False, methods=["post"], pagination_class=None)
    def train(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Queue training of a new version from the corrections (slow queue)."""
        with service_errors():
            queued = classifier.request_training(self.tenant)
        return Response({"queued": queued}, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=None, responses={200: ScoringModelSerializer})
    @action(detail=True, methods=["post"])
    def activate(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Make this version live (not one below the base models' accuracy)."""
        with service_errors():
            row = classifier.activate_scoring_model(instance=self.get_object())
        return Response(ScoringModelSerializer(row).data)

    @extend_schema(request=None, responses={200: ScoringModelSerializer(allow_null=True)})
    @action(detail=False, methods=["post"], pagination_class=None)
    def rollback(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Take the live version out of use; the newest earlier accepted version (or the base
        models, answered as null) scores the tenant's new mentions."""
        with service_errors():
            row = classifier.rollback_scoring_model(tenant=self.tenant)
        return Response(ScoringModelSerializer(row).data if row is not None else None)

    @extend_schema(request=RescoreSerializer, responses={202: QueuedSerializer})
    @action(detail=False, methods=["post"], pagination_class=None)
    def rescore(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Queue re-scoring of the last ``days`` days (1-30) with the live version; corrected
        fields are kept and no live alert fires."""
        payload = RescoreSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        with service_errors():
            queued = classifier.request_rescore(self.tenant, payload.validated_data["days"])
        return Response({"queued": queued}, status=status.HTTP_202_ACCEPTED)

    @extend_schema(responses={200: LabelSuggestionSerializer(many=True)}, filters=False)
    @action(detail=False, methods=["get"], pagination_class=None)
    def suggestions(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The 20 recent mentions whose labels would help the classifier most."""
        return Response(
            LabelSuggestionSerializer(classifier.label_suggestions(self.tenant), many=True).data
        )
