"""Factories of the playbooks app (children inherit their parent's tenant)."""

from __future__ import annotations

import factory

from playbooks.models import AnswerWidget, CannedAnswer
from tests.factories import TenantFactory


class CannedAnswerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CannedAnswer

    tenant = factory.SubFactory(TenantFactory)
    question = factory.Sequence(lambda n: f"Pertanyaan umum {n}?")
    answer = "Terima kasih kak, tim kami segera membantu lewat DM ya."
    language = "id"
    status = "approved"


class AnswerWidgetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AnswerWidget

    tenant = factory.SubFactory(TenantFactory)
    name = factory.Sequence(lambda n: f"Situs {n}")
    allowed_origins = factory.LazyFunction(lambda: ["https://www.kopisenja.co.id"])
