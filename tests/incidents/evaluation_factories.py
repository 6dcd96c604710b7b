"""factory_boy factories of the evaluation. Children inherit their parent's tenant."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import factory

from incidents.evaluation.models import (
    ClientReport,
    ReportSubscription,
    Review,
    ReviewActionItem,
    ReviewFeedback,
    ReviewLesson,
)
from tests.factories import TenantFactory, UserFactory
from tests.incidents.factories import IncidentFactory


class ReviewFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Review

    tenant = factory.SubFactory(TenantFactory)
    incident = factory.SubFactory(IncidentFactory, tenant=factory.SelfAttribute("..tenant"))
    summary = "Reda dalam sehari."


class ReviewLessonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ReviewLesson

    review = factory.SubFactory(ReviewFactory)
    tenant = factory.SelfAttribute("review.tenant")
    kind = "went_well"
    text = factory.Sequence(lambda n: f"Pelajaran {n}")


class ReviewActionItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ReviewActionItem

    review = factory.SubFactory(ReviewFactory)
    tenant = factory.SelfAttribute("review.tenant")
    title = factory.Sequence(lambda n: f"Tindakan {n}")
    owner = factory.SubFactory(UserFactory)


class ReviewFeedbackFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ReviewFeedback

    review = factory.SubFactory(ReviewFactory)
    tenant = factory.SelfAttribute("review.tenant")
    participant = factory.SubFactory(UserFactory)
    rating = 4


class ClientReportFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ClientReport

    tenant = factory.SubFactory(TenantFactory)
    frequency = "weekly"
    period_start = factory.Sequence(
        lambda n: datetime(2026, 1, 4, 17, tzinfo=UTC) + timedelta(weeks=n)
    )
    period_end = factory.LazyAttribute(lambda row: row.period_start + timedelta(weeks=1))
    data = factory.LazyFunction(dict)


class ReportSubscriptionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ReportSubscription
        django_get_or_create = ("tenant", "frequency")

    tenant = factory.SubFactory(TenantFactory)
    frequency = factory.Iterator(["weekly", "monthly"])
    recipients = factory.LazyFunction(lambda: ["pr@kopi.test"])
