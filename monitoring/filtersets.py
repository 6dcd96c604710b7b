"""django-filter filter sets of the monitoring app, shared by REST and GraphQL.

Every mention filter maps onto an index of ``Mention`` (timeline, sentiment, risk, author, the
GIN indexes on ``matched_queries`` and ``search``), so lists stay fast on large tenants. Numbers
are parsed strictly (``tenants.filtersets.IntegerFilter``): ``1e30`` or an id beyond a bigint
answers 400 naming the parameter.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet

from monitoring import selectors
from monitoring.choices import (
    AlertKind,
    AlertStatus,
    BatchStatus,
    Platform,
    RiskBand,
    Sensitivity,
    Sentiment,
    SourceKind,
    SourceStatus,
    TermKind,
    TriageStatus,
)
from monitoring.ingest import handle_forms
from monitoring.models import (
    Alert,
    AlertRule,
    HoaxCluster,
    IngestBatch,
    LexiconEntry,
    LowCredibilityDomain,
    Mention,
    MonitoredQuery,
    OwnedAccount,
    Source,
    TrackedTerm,
)
from monitoring.scoring import TRIGGER_LABELS
from monitoring.scoring.risk import band_range, describe_bands
from tenants.choices import Severity
from tenants.filtersets import IntegerFilter, OrderingChoiceFilter, UtcDateTimeFilter

# How mention lists may be ordered, on REST (``?ordering=-risk``) and GraphQL (``ordering:
# "-risk"``): a name, or ``-name`` for descending, to the columns it sorts by. Ties go to the
# newest mention, then the largest id, so the order is total and the REST cursor pages by these
# same columns (``tenants.api.pagination.KeysetPagination``). ``reach`` is the author's follower
# count (as in the metrics). The default is ``-published_at``.
MENTION_ORDERINGS: dict[str, tuple[str, ...]] = {
    "published_at": ("published_at", "id"),
    "risk": ("risk", "published_at", "id"),
    "reach": ("author_followers", "published_at", "id"),
}


class MentionFilterSet(django_filters.FilterSet):
    query = IntegerFilter(method="filter_query", min_value=1, label="Matched by this query (id)")
    sentiment = django_filters.ChoiceFilter(choices=Sentiment.choices)
    language = django_filters.CharFilter(max_length=8, label="Language code, e.g. 'id'")
    platform = django_filters.ChoiceFilter(choices=Platform.choices)
    author = django_filters.CharFilter(
        method="filter_author",
        max_length=200,
        label="Author handle: a leading @ is ignored, and so is case where handles ignore it",
    )
    published_after = UtcDateTimeFilter(
        field_name="published_at", lookup_expr="gte", label="Published at or after (ISO 8601)"
    )
    published_before = UtcDateTimeFilter(
        field_name="published_at", lookup_expr="lt", label="Published before (ISO 8601)"
    )
    min_risk = IntegerFilter(
        field_name="risk", lookup_expr="gte", min_value=0, max_value=100, label="Risk at least"
    )
    risk_band = django_filters.ChoiceFilter(
        choices=RiskBand.choices,
        method="filter_risk_band",
        label=f"Risk band: {describe_bands()}",
    )
    status = django_filters.ChoiceFilter(choices=TriageStatus.choices)
    tag = django_filters.CharFilter(method="filter_tag", max_length=50, label="Has this tag")
    q = django_filters.CharFilter(
        method="filter_text",
        max_length=500,
        label='Full-text search (web syntax: words, "phrases", -exclusions, OR)',
    )
    ordering = OrderingChoiceFilter(MENTION_ORDERINGS)

    class Meta:
        model = Mention
        fields: tuple[str, ...] = ()

    def filter_query(self, queryset: QuerySet[Mention], name: str, value: Any) -> Any:
        return queryset.filter(matched_queries__contains=[int(value)])

    def filter_author(self, queryset: QuerySet[Mention], name: str, value: str) -> Any:
        return queryset.filter(author_handle__in=handle_forms(value))

    def filter_risk_band(self, queryset: QuerySet[Mention], name: str, value: str) -> Any:
        lowest, highest = band_range(value)
        return queryset.filter(risk__gte=lowest, risk__lte=highest)

    def filter_tag(self, queryset: QuerySet[Mention], name: str, value: str) -> Any:
        return queryset.filter(tags__contains=[" ".join(value.split()).lower()])

    def filter_text(self, queryset: QuerySet[Mention], name: str, value: str) -> Any:
        return selectors.search_mentions(queryset, value)


class MonitoredQueryFilterSet(django_filters.FilterSet):
    name = django_filters.CharFilter(lookup_expr="icontains", label="Name contains")

    class Meta:
        model = MonitoredQuery
        fields: tuple[str, ...] = ("is_active", "name")


class SourceFilterSet(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=SourceKind.choices)
    status = django_filters.ChoiceFilter(choices=SourceStatus.choices)
    name = django_filters.CharFilter(lookup_expr="icontains", label="Name contains")

    class Meta:
        model = Source
        fields: tuple[str, ...] = ("kind", "status", "name")


class TrackedTermFilterSet(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=TermKind.choices)
    text = django_filters.CharFilter(lookup_expr="icontains", label="Text contains")

    class Meta:
        model = TrackedTerm
        fields: tuple[str, ...] = ("kind", "text")


class LexiconEntryFilterSet(django_filters.FilterSet):
    label = django_filters.ChoiceFilter(choices=[(label, label) for label in TRIGGER_LABELS])
    phrase = django_filters.CharFilter(lookup_expr="icontains", label="Phrase contains")

    class Meta:
        model = LexiconEntry
        fields: tuple[str, ...] = ("label", "phrase")


class LowCredibilityDomainFilterSet(django_filters.FilterSet):
    domain = django_filters.CharFilter(lookup_expr="icontains", label="Domain contains")

    class Meta:
        model = LowCredibilityDomain
        fields: tuple[str, ...] = ("domain",)


class IngestBatchFilterSet(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=BatchStatus.choices)
    source = IntegerFilter(field_name="source_id", min_value=1, label="Source id")
    received_after = UtcDateTimeFilter(field_name="received_at", lookup_expr="gte")
    received_before = UtcDateTimeFilter(field_name="received_at", lookup_expr="lt")

    class Meta:
        model = IngestBatch
        fields: tuple[str, ...] = ("status", "source")


# --- early warning ---------------------------------------------------------------------------

# How alert lists may be ordered (REST ``?ordering=``, GraphQL ``ordering``), as for mentions:
# the REST cursor pages by the same columns. The default is ``-created_at``.
ALERT_ORDERINGS: dict[str, tuple[str, ...]] = {
    "created_at": ("created_at", "id"),
    "last_evidence_at": ("last_evidence_at", "id"),
    "severity": ("severity", "created_at", "id"),
}


class AlertFilterSet(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=AlertStatus.choices)
    active = django_filters.BooleanFilter(
        method="filter_active", label="Open, acknowledged or snoozed (true) or not (false)"
    )
    severity = django_filters.ChoiceFilter(choices=Severity.choices)
    kind = django_filters.ChoiceFilter(choices=AlertKind.choices)
    rule = IntegerFilter(field_name="rule_id", min_value=1, label="Fired by this rule (id)")
    query = IntegerFilter(field_name="query_id", min_value=1, label="Of this query (id)")
    created_after = UtcDateTimeFilter(
        field_name="created_at", lookup_expr="gte", label="Created at or after (ISO 8601)"
    )
    created_before = UtcDateTimeFilter(
        field_name="created_at", lookup_expr="lt", label="Created before (ISO 8601)"
    )
    ordering = OrderingChoiceFilter(ALERT_ORDERINGS)

    class Meta:
        model = Alert
        fields: tuple[str, ...] = ()

    def filter_active(self, queryset: QuerySet[Alert], name: str, value: Any) -> Any:
        from monitoring.choices import ACTIVE_ALERT_STATUSES

        if value is None:
            return queryset
        if value:
            return queryset.filter(status__in=ACTIVE_ALERT_STATUSES)
        return queryset.exclude(status__in=ACTIVE_ALERT_STATUSES)


class AlertRuleFilterSet(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=AlertKind.choices)
    sensitivity = django_filters.ChoiceFilter(choices=Sensitivity.choices)
    query = IntegerFilter(field_name="query_id", min_value=1, label="Narrowed to this query (id)")
    name = django_filters.CharFilter(lookup_expr="icontains", label="Name contains")

    class Meta:
        model = AlertRule
        fields: tuple[str, ...] = ("kind", "sensitivity", "enabled", "query", "name")


class HoaxClusterFilterSet(django_filters.FilterSet):
    min_authors = IntegerFilter(
        field_name="author_count",
        lookup_expr="gte",
        min_value=0,
        label="At least this many authors",
    )
    alerted = django_filters.BooleanFilter(
        field_name="alerted_at", lookup_expr="isnull", exclude=True, label="Raised an alert"
    )
    active_after = UtcDateTimeFilter(
        field_name="last_at", lookup_expr="gte", label="Last copy at or after (ISO 8601)"
    )

    class Meta:
        model = HoaxCluster
        fields: tuple[str, ...] = ("min_authors", "alerted", "active_after")


class OwnedAccountFilterSet(django_filters.FilterSet):
    platform = django_filters.ChoiceFilter(choices=Platform.choices)
    handle = django_filters.CharFilter(lookup_expr="icontains", label="Handle contains")

    class Meta:
        model = OwnedAccount
        fields: tuple[str, ...] = ("platform", "handle")
