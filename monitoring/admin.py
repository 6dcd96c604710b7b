"""Admin screens of the monitoring app, scoped per agency by ``ScopedModelAdmin``.

Mentions, rollups, batches, chunks, pipeline events and webhook deliveries are written by the
pipeline: the admin shows them (mentions allow triage) but does not create them. Tenant filters
list only the tenants that have rows the staff user may see.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

from django import forms
from django.contrib import admin
from django.core.paginator import Paginator
from django.http import HttpRequest

from monitoring.models import (
    IngestBatch,
    IngestChunk,
    LexiconEntry,
    LowCredibilityDomain,
    Mention,
    MetricBucket,
    MonitoredQuery,
    PipelineEvent,
    Source,
    TermBucket,
    TrackedTerm,
    WebhookDelivery,
)
from monitoring.scoring import TRIGGER_LABELS
from tenants.admin_mixins import ScopedModelAdmin, TenantFilter

TENANT_FILTER = TenantFilter


class BoundedCountPaginator(Paginator):
    """Counts at most 10,001 rows, so a changelist of a million mentions stays fast."""

    limit = 10_000

    @cached_property
    def count(self) -> int:  # type: ignore[override]
        return self.object_list[: self.limit + 1].count()  # type: ignore[attr-defined,index]


class ReadOnlyMixin:
    """Rows written by the pipeline: viewable, never added or changed here."""

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(MonitoredQuery)
class MonitoredQueryAdmin(ScopedModelAdmin):
    fields = ("tenant", "name", "query", "languages", "platforms", "is_active")
    list_display = ("name", "tenant", "query", "is_active", "updated_at")
    list_filter = ("is_active", TENANT_FILTER)
    search_fields = ("name", "query", "tenant__slug")
    list_select_related = ("tenant",)


@admin.register(Source)
class SourceAdmin(ScopedModelAdmin):
    list_display = (
        "name",
        "tenant",
        "kind",
        "status",
        "last_success_at",
        "consecutive_failures",
        "last_error_at",
        "accepted_count",
        "rejected_count",
    )
    list_filter = ("kind", "status", TENANT_FILTER)
    search_fields = ("name", "tenant__slug", "last_error")
    list_select_related = ("tenant",)
    readonly_fields = (
        "next_poll_at",
        "cursor",
        "consecutive_failures",
        "last_success_at",
        "last_error",
        "last_error_at",
        "received_count",
        "accepted_count",
        "rejected_count",
        "created_at",
    )
    fieldsets = (
        (None, {"fields": ("tenant", "name", "kind", "status", "config", "poll_interval_s")}),
        (
            "Health",
            {
                "fields": (
                    "last_success_at",
                    "consecutive_failures",
                    "last_error",
                    "last_error_at",
                    "next_poll_at",
                    "cursor",
                    ("received_count", "accepted_count", "rejected_count"),
                    "created_at",
                )
            },
        ),
    )


@admin.register(IngestBatch)
class IngestBatchAdmin(ReadOnlyMixin, ScopedModelAdmin):
    list_display = (
        "id",
        "tenant",
        "source",
        "status",
        "item_count",
        "inserted_count",
        "duplicate_count",
        "chunks_done",
        "chunk_count",
        "received_at",
        "finished_at",
    )
    list_filter = ("status", TENANT_FILTER)
    search_fields = ("=id", "tenant__slug", "source__name", "error")
    list_select_related = ("tenant", "source")
    date_hierarchy = "received_at"


@admin.register(IngestChunk)
class IngestChunkAdmin(ReadOnlyMixin, ScopedModelAdmin):
    list_display = ("batch", "index", "tenant", "inserted", "duplicates", "done_at")
    list_filter = (TENANT_FILTER,)
    search_fields = ("=batch__id",)
    list_select_related = ("tenant", "batch")
    exclude = ("items",)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyMixin, ScopedModelAdmin):
    list_display = ("delivery_id", "source", "tenant", "batch", "received_at")
    list_filter = (TENANT_FILTER,)
    search_fields = ("delivery_id", "source__name")
    list_select_related = ("tenant", "source")


@admin.register(Mention)
class MentionAdmin(ScopedModelAdmin):
    """Read-mostly: triage (status, tags, assignee) is the only change allowed."""

    list_display = (
        "published_at",
        "tenant",
        "platform",
        "author_handle",
        "short_text",
        "sentiment",
        "risk",
        "status",
        "assignee",
    )
    list_filter = ("sentiment", "status", "platform", "language", TENANT_FILTER)
    search_fields = ("=author_handle", "=external_id")
    list_select_related = ("tenant", "assignee")
    raw_id_fields = ("assignee",)
    paginator = BoundedCountPaginator
    show_full_result_count = False
    ordering = ("-published_at", "-id")
    fields = (
        "tenant",
        "platform",
        "external_id",
        "url",
        ("author_handle", "author_name", "author_followers", "author_verified"),
        "text",
        ("language", "language_confidence"),
        "published_at",
        "ingested_at",
        ("likes", "shares", "replies", "views"),
        "matched_queries",
        ("sentiment", "provocation", "risk"),
        "triggers",
        "hashtags",
        "scores",
        "status",
        "tags",
        "assignee",
    )
    triage = ("status", "tags", "assignee")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        names: list[str] = []
        for entry in self.fields:
            names += list(entry) if isinstance(entry, tuple) else [entry]
        return [name for name in names if name not in self.triage]

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Mention, form: Any, change: bool) -> None:
        # Only the triage columns: the pipeline may be updating engagement at the same time.
        changed = [name for name in self.triage if name in form.changed_data]
        if changed:
            obj.save(update_fields=changed)

    @admin.display(description="text")
    def short_text(self, obj: Mention) -> str:
        return obj.text if len(obj.text) <= 80 else f"{obj.text[:79]}…"


@admin.register(MetricBucket)
class MetricBucketAdmin(ReadOnlyMixin, ScopedModelAdmin):
    list_display = (
        "bucket",
        "tenant",
        "query_id",
        "mentions",
        "positive",
        "neutral",
        "negative",
        "reach",
        "engagement",
    )
    list_filter = (TENANT_FILTER,)
    search_fields = ("=query_id",)
    list_select_related = ("tenant",)
    paginator = BoundedCountPaginator
    show_full_result_count = False
    ordering = ("-bucket",)


@admin.register(TermBucket)
class TermBucketAdmin(ReadOnlyMixin, ScopedModelAdmin):
    list_display = ("bucket", "tenant", "query_id", "kind", "text", "mentions")
    list_filter = (TENANT_FILTER, "kind")
    search_fields = ("text", "=query_id")
    list_select_related = ("tenant",)
    paginator = BoundedCountPaginator
    show_full_result_count = False
    ordering = ("-bucket",)


@admin.register(PipelineEvent)
class PipelineEventAdmin(ReadOnlyMixin, ScopedModelAdmin):
    """The outbox: an event with no ``delivered at`` is waiting for a subscriber (see the log)."""

    list_display = ("id", "tenant", "batch", "created_at", "dispatched_at", "delivered_at")
    list_filter = (TENANT_FILTER, ("delivered_at", admin.EmptyFieldListFilter))
    search_fields = ("=id", "=batch__id")
    list_select_related = ("tenant", "batch")
    paginator = BoundedCountPaginator
    show_full_result_count = False
    ordering = ("-created_at",)


@admin.register(TrackedTerm)
class TrackedTermAdmin(ScopedModelAdmin):
    list_display = ("text", "kind", "tenant")
    list_filter = ("kind", TENANT_FILTER)
    search_fields = ("text", "tenant__slug")
    list_select_related = ("tenant",)


class LexiconEntryForm(forms.ModelForm):
    label = forms.ChoiceField(choices=[(label, label) for label in TRIGGER_LABELS])

    class Meta:
        model = LexiconEntry
        fields = ("tenant", "label", "phrase", "weight")


@admin.register(LexiconEntry)
class LexiconEntryAdmin(ScopedModelAdmin):
    form = LexiconEntryForm
    list_display = ("phrase", "label", "weight", "tenant")
    list_filter = ("label", TENANT_FILTER)
    search_fields = ("phrase", "tenant__slug")
    list_select_related = ("tenant",)


@admin.register(LowCredibilityDomain)
class LowCredibilityDomainAdmin(ScopedModelAdmin):
    list_display = ("domain", "tenant")
    list_filter = (TENANT_FILTER,)
    search_fields = ("domain", "tenant__slug")
    list_select_related = ("tenant",)
