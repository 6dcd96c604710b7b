"""django-filter filter sets of the incidents app, shared by REST and GraphQL. Lists are small
per tenant; the incident filters map onto ``incident_status`` / ``incident_detected``."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from django.utils import timezone

from incidents.choices import (
    FINISHED_TASK_STATUSES,
    IncidentStatus,
    LinkKind,
    ReplyStatus,
    TaskStatus,
    TimelineKind,
)
from incidents.models import (
    Incident,
    IncidentLink,
    IncidentMember,
    IncidentPlaybook,
    IncidentTask,
    Reply,
    ResponseAdvice,
    TimelineEntry,
)
from tenants.choices import CrisisTrigger, IncidentRole, Severity
from tenants.filtersets import IntegerFilter


class IncidentFilterSet(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=IncidentStatus.choices)
    severity = django_filters.MultipleChoiceFilter(choices=Severity.choices)
    trigger = django_filters.MultipleChoiceFilter(choices=CrisisTrigger.choices)
    drill = django_filters.BooleanFilter(field_name="is_drill", label="Drills only (true) or none")
    query = IntegerFilter(
        method="filter_query", min_value=1, label="Linked to this monitored query (id)"
    )
    mention = IntegerFilter(
        method="filter_mention", min_value=1, label="Linked to this mention (id)"
    )

    class Meta:
        model = Incident
        fields: list[str] = []

    def _linked(self, queryset: QuerySet[Incident], **link: Any) -> QuerySet[Incident]:
        """Incidents with such a link (the other side of a link), pinned to the URL's tenant."""
        view = (getattr(self.request, "parser_context", None) or {}).get("view")
        tenant = getattr(view, "tenant", None)
        if tenant is None:
            return queryset.none()
        linked = IncidentLink.objects.for_tenant(tenant).filter(**link)
        return queryset.filter(pk__in=linked.values("incident_id"))

    def filter_query(
        self, queryset: QuerySet[Incident], name: str, value: int
    ) -> QuerySet[Incident]:
        return self._linked(queryset, query_id=value)

    def filter_alert(
        self, queryset: QuerySet[Incident], name: str, value: int
    ) -> QuerySet[Incident]:
        return self._linked(queryset, alert_id=value)

    def filter_mention(
        self, queryset: QuerySet[Incident], name: str, value: int
    ) -> QuerySet[Incident]:
        return self._linked(queryset, mention_id=value)


class _ByIncident(django_filters.FilterSet):
    incident = IntegerFilter(field_name="incident_id", min_value=1, label="Of this incident (id)")


class IncidentMemberFilterSet(_ByIncident):
    role = django_filters.ChoiceFilter(choices=IncidentRole.choices)

    class Meta:
        model = IncidentMember
        fields: list[str] = []


class IncidentTaskFilterSet(_ByIncident):
    status = django_filters.MultipleChoiceFilter(choices=TaskStatus.choices)
    overdue = django_filters.BooleanFilter(method="filter_overdue", label="Overdue (true) or not")

    class Meta:
        model = IncidentTask
        fields: list[str] = []

    def filter_overdue(
        self, queryset: QuerySet[IncidentTask], name: str, value: bool
    ) -> QuerySet[IncidentTask]:
        late = queryset.filter(due_at__lt=timezone.now()).exclude(status__in=FINISHED_TASK_STATUSES)
        return late if value else queryset.exclude(pk__in=late.values("pk"))


class IncidentLinkFilterSet(_ByIncident):
    kind = django_filters.ChoiceFilter(choices=LinkKind.choices)
    alert = IntegerFilter(field_name="alert_id", min_value=1, label="Of this alert (id)")
    query = IntegerFilter(field_name="query_id", min_value=1, label="Of this query (id)")
    hoax_cluster = IntegerFilter(
        field_name="hoax_cluster_id", min_value=1, label="Of this hoax cluster (id)"
    )
    owned_account = IntegerFilter(
        field_name="owned_account_id", min_value=1, label="Of this owned account (id)"
    )

    class Meta:
        model = IncidentLink
        fields: list[str] = []


class TimelineEntryFilterSet(_ByIncident):
    kind = django_filters.MultipleChoiceFilter(choices=TimelineKind.choices)

    class Meta:
        model = TimelineEntry
        fields: list[str] = []


class ReplyFilterSet(_ByIncident):
    status = django_filters.MultipleChoiceFilter(choices=ReplyStatus.choices)
    mention = IntegerFilter(field_name="mention_id", min_value=1, label="To this mention (id)")
    flagged = django_filters.BooleanFilter(label="Flagged by the consistency check")

    class Meta:
        model = Reply
        fields: list[str] = []


class IncidentPlaybookFilterSet(_ByIncident):
    class Meta:
        model = IncidentPlaybook
        fields: list[str] = []


class ResponseAdviceFilterSet(_ByIncident):
    class Meta:
        model = ResponseAdvice
        fields: list[str] = []
