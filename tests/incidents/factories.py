"""factory_boy factories of the incidents app. Children inherit their parent's tenant."""

from __future__ import annotations

import factory

from incidents.models import (
    Incident,
    IncidentLink,
    IncidentMember,
    IncidentTask,
    RolePolicy,
    SeverityPolicy,
    TimelineEntry,
)
from tests.factories import TenantFactory, UserFactory


class IncidentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Incident

    tenant = factory.SubFactory(TenantFactory)
    title = factory.Sequence(lambda n: f"Incident {n}")
    trigger = "negative_news"
    severity = "sev2"


class TimelineEntryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TimelineEntry

    incident = factory.SubFactory(IncidentFactory)
    tenant = factory.SelfAttribute("incident.tenant")
    kind = "note"
    text = factory.Sequence(lambda n: f"Note {n}")
    actor = factory.SubFactory(UserFactory)
    visible_to_client = True


class IncidentTaskFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = IncidentTask

    incident = factory.SubFactory(IncidentFactory)
    tenant = factory.SelfAttribute("incident.tenant")
    title = factory.Sequence(lambda n: f"Task {n}")
    owner = factory.SubFactory(UserFactory)


class IncidentLinkFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = IncidentLink

    incident = factory.SubFactory(IncidentFactory)
    tenant = factory.SelfAttribute("incident.tenant")
    kind = "url"
    url = factory.Sequence(lambda n: f"https://news.example/{n}")


class IncidentMemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = IncidentMember

    incident = factory.SubFactory(IncidentFactory)
    tenant = factory.SelfAttribute("incident.tenant")
    user = factory.SubFactory(UserFactory)
    role = "analyst"


class SeverityPolicyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SeverityPolicy
        django_get_or_create = ("tenant", "severity")

    tenant = factory.SubFactory(TenantFactory)
    severity = factory.Iterator(["sev1", "sev2", "sev3", "sev4"])
    acknowledge_minutes = 10


class RolePolicyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RolePolicy

    tenant = factory.SubFactory(TenantFactory)
    role = "analyst"
    user = factory.SubFactory(UserFactory)
    trigger = factory.Iterator(["hoax", "provocation", "negative_news", "cyber_attack", ""])
