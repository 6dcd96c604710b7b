from __future__ import annotations

import factory

from monitoring.models import EscalationPolicy
from tenants.models import Channel
from tests.factories import TenantFactory


class ChannelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Channel

    tenant = factory.SubFactory(TenantFactory)
    name = factory.Sequence(lambda n: f"Tim krisis {n}")
    kind = "email"
    target = "krisis@kopi.test"


class EscalationPolicyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EscalationPolicy

    tenant = factory.SubFactory(TenantFactory)
    name = factory.Sequence(lambda n: f"Eskalasi {n}")
    severity = "sev2"
    steps = factory.LazyFunction(lambda: [{"on_call": True, "wait_minutes": 5}])
