"""GraphQL fields of score corrections and the tenant's classifier, as on REST
(``monitoring.api.classifier``): the same capabilities, services and selectors. Correcting,
training, activating, rolling back and re-scoring need ``scores.correct``; training and
re-scoring are queued on the slow queue as on REST."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
import strawberry_django

from monitoring import classifier, fields, selectors, services
from monitoring.graphql.types import MentionType
from monitoring.models import Mention, ScoreCorrection, ScoringModel
from tenants.api.pagination import DIGITS
from tenants.graphql.context import Info
from tenants.graphql.errors import bad_input, service_errors
from tenants.graphql.permissions import AUTHENTICATED as _authenticated
from tenants.graphql.permissions import tenant_for
from tenants.graphql.types import TenantOwnedType, UserSummaryType, public_type
from tenants.models import User
from tenants.roles import Cap


@public_type(fields.SCORE_CORRECTION)
class ScoreCorrectionType(TenantOwnedType):
    read_capability = Cap.CORRECT_SCORES

    corrected_by: UserSummaryType | None

    @strawberry_django.field(only=["mention_id"])
    def mention(self, root: ScoreCorrection) -> strawberry.ID:
        return strawberry.ID(str(root.mention_id))


@public_type(fields.SCORING_MODEL)
class ScoringModelType(TenantOwnedType):
    """A version of the tenant's classifier with its accuracy against the base models."""

    read_capability = Cap.VIEW_MONITORING


@strawberry.type(name="LabelSuggestion")
class LabelSuggestionType:
    id: strawberry.ID
    text: str
    sentiment: str
    provocation: float
    published_at: datetime
    uncertainty: float = strawberry.field(description="0-1; the higher, the more a label helps.")
    reason: str


@strawberry.type
class ClassifierQuery:
    @strawberry_django.field(extensions=_authenticated)
    def score_corrections(self, info: Info, slug: str) -> list[ScoreCorrectionType]:
        """The tenant's score corrections, newest first."""
        tenant = tenant_for(info, slug, Cap.CORRECT_SCORES)
        rows = (
            ScoreCorrection.objects.for_tenant(tenant)
            .select_related("corrected_by")
            .order_by("-created_at", "-id")
        )
        return rows  # type: ignore[return-value]

    @strawberry_django.field(extensions=_authenticated)
    def classifier_versions(self, info: Info, slug: str) -> list[ScoringModelType]:
        """Versions of the tenant's classifier, newest first (REST: ``classifier/``)."""
        tenant = tenant_for(info, slug, Cap.VIEW_MONITORING)
        return classifier.model_versions(tenant).order_by("-version")  # type: ignore[return-value]

    @strawberry_django.field(extensions=_authenticated)
    def label_suggestions(self, info: Info, slug: str) -> list[LabelSuggestionType]:
        """The recent mentions whose labels would help the classifier most (REST:
        ``classifier/suggestions/``)."""
        tenant = tenant_for(info, slug, Cap.VIEW_MONITORING)
        return [
            LabelSuggestionType(**{**row, "id": strawberry.ID(str(row["id"]))})
            for row in classifier.label_suggestions(tenant)
        ]


@strawberry.type
class ClassifierMutation:
    @strawberry_django.mutation(extensions=_authenticated)
    def correct_mention(
        self,
        info: Info,
        slug: str,
        id: strawberry.ID,
        sentiment: str | None = None,
        language: str | None = None,
        provocation: bool | None = None,
        triggers: list[str] | None = None,
    ) -> MentionType:
        """Correct a mention's sentiment, language, provocation flag or triggers (REST:
        ``mentions/{id}/correct/``)."""
        tenant = tenant_for(info, slug, Cap.CORRECT_SCORES)
        mention = (
            selectors.mentions(tenant.pk).filter(pk=int(id)).first()
            if DIGITS.fullmatch(str(id))
            else None
        )
        if mention is None:
            raise bad_input("No such mention in this tenant.", "id")
        given: dict[str, Any] = {
            name: value
            for name, value in (
                ("sentiment", sentiment),
                ("language", language),
                ("provocation", provocation),
                ("triggers", triggers),
            )
            if value is not None
        }
        if not given:
            raise bad_input(
                "Give at least one of sentiment, language, provocation, triggers.", "sentiment"
            )
        user = info.context.request.user
        with service_errors():
            services.correct_mention(
                mention=mention, corrected_by=user if isinstance(user, User) else None, **given
            )
        stored = Mention.objects.for_tenant(tenant.pk).select_related("assignee")
        return stored.get(pk=mention.pk)  # type: ignore[return-value]

    @strawberry_django.mutation(extensions=_authenticated)
    def activate_classifier(self, info: Info, slug: str, id: strawberry.ID) -> ScoringModelType:
        """Make a version live (not one below the base models' accuracy)."""
        tenant = tenant_for(info, slug, Cap.CORRECT_SCORES)
        row = (
            ScoringModel.objects.for_tenant(tenant).defer("weights").filter(pk=int(id)).first()
            if DIGITS.fullmatch(str(id))
            else None
        )
        if row is None:
            raise bad_input("No such classifier version in this tenant.", "id")
        with service_errors():
            return classifier.activate_scoring_model(instance=row)  # type: ignore[return-value]

    @strawberry_django.mutation(extensions=_authenticated)
    def train_classifier(self, info: Info, slug: str) -> bool:
        """Queue training of a new version from the corrections (slow queue; REST:
        ``classifier/train/``). Answers whether it queued (at most once a minute)."""
        tenant = tenant_for(info, slug, Cap.CORRECT_SCORES)
        with service_errors():
            return classifier.request_training(tenant)

    @strawberry_django.mutation(extensions=_authenticated)
    def rollback_classifier(self, info: Info, slug: str) -> ScoringModelType | None:
        """Take the live version out of use; the newest earlier accepted version (or the base
        models, answered as null) scores the tenant's new mentions (REST:
        ``classifier/rollback/``)."""
        tenant = tenant_for(info, slug, Cap.CORRECT_SCORES)
        with service_errors():
            return classifier.rollback_scoring_model(tenant=tenant)  # type: ignore[return-value]

    @strawberry_django.mutation(extensions=_authenticated)
    def rescore_mentions(self, info: Info, slug: str, days: int) -> bool:
        """Queue re-scoring of the last ``days`` days (1-30) with the live version (slow queue;
        REST: ``classifier/rescore/``); corrected fields are kept and no live alert fires."""
        tenant = tenant_for(info, slug, Cap.CORRECT_SCORES)
        with service_errors():
            return classifier.request_rescore(tenant, days)
