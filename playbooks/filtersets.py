"""Filters of the playbooks list (REST and GraphQL)."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet

from playbooks.models import Language, Playbook
from tenants.choices import CrisisTrigger


class PlaybookFilterSet(django_filters.FilterSet):
    trigger = django_filters.ChoiceFilter(
        choices=CrisisTrigger.choices, method="by_trigger", label="Attaches to this trigger"
    )
    language = django_filters.ChoiceFilter(choices=Language.choices)
    owner = django_filters.ChoiceFilter(
        choices=[("tenant", "tenant"), ("agency", "agency")], method="by_owner"
    )
    is_active = django_filters.BooleanFilter()

    class Meta:
        model = Playbook
        fields: list[str] = []

    def by_trigger(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        return queryset.filter(trigger_types__contains=[value]) | queryset.filter(trigger_types=[])

    def by_owner(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        return queryset.filter(tenant__isnull=value == "agency")
