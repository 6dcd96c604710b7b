"""Admin screens of the monitoring app, scoped per agency by ``ScopedModelAdmin``.

Mentions, rollups, batches, chunks, pipeline events and webhook deliveries are written by the
pipeline: the admin shows them (mentions allow triage) but does not create them. Tenant filters
list only the tenants that have rows the staff user may see.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from monitoring import services
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
from tenants.admin_mixins import (
    BoundedCountPaginator,
    ReadOnlyMixin,
    ScopedModelAdmin,
    ServiceModelAdmin,
    TenantFilter,
)
from tenants.choices import CrisisTrigger

TENANT_FILTER = TenantFilter


@admin.register(MonitoredQuery)
class MonitoredQueryAdmin(ServiceModelAdmin):
    create_service = staticmethod(services.create_query)
    update_service = staticmethod(services.update_query)
    delete_service = staticmethod(services.delete_query)
    fields = ("tenant", "name", "query", "languages", "platforms", "is_active")
    list_display = ("name", "tenant", "query", "is_active", "updated_at")
    list_filter = ("is_active", TENANT_FILTER)
    search_fields = ("name", "query", "tenant__slug")
    list_select_related = ("tenant",)


@admin.register(Source)
class SourceAdmin(ServiceModelAdmin):
    create_service = staticmethod(services.create_source)
    update_service = staticmethod(services.update_source)
    delete_service = staticmethod(services.delete_source)
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

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        names = tuple(super().get_readonly_fields(request, obj))
        # The kind of a source never changes (services.update_source): another source instead.
        return (*names, "kind") if obj is not None else names


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


class MentionTriageForm(forms.ModelForm):
    """Shows the triage rules of ``services.triage_changes`` (the assignee must be a member of
    the mention's tenant) as form errors, before ``save_model`` triages."""

    class Meta:
        model = Mention
        fields = ("status", "tags", "assignee")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        given = {name: data[name] for name in MentionAdmin.triage if name in data}
        try:
            services.triage_changes(mention=self.instance, **given)
        except ValidationError as exc:
            self.add_error(None, exc)
        return data


@admin.register(Mention)
class MentionAdmin(ScopedModelAdmin):
    """Read-mostly: triage (status, tags, assignee) is the only change allowed, through
    ``services.triage_mention``."""

    form = MentionTriageForm

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
        changed = {
            name: form.cleaned_data[name] for name in self.triage if name in form.changed_data
        }
        if changed:
            services.triage_mention(mention=obj, **changed)

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
class TrackedTermAdmin(ServiceModelAdmin):
    create_service = staticmethod(services.create_tracked_term)
    update_service = staticmethod(services.update_tracked_term)
    delete_service = staticmethod(services.delete_tracked_term)
    list_display = ("text", "kind", "tenant")
    list_filter = ("kind", TENANT_FILTER)
    search_fields = ("text", "tenant__slug")
    list_select_related = ("tenant",)


class LexiconEntryForm(forms.ModelForm):
    label = forms.ChoiceField(choices=[(label, label) for label in CrisisTrigger.values])

    class Meta:
        model = LexiconEntry
        fields = ("tenant", "label", "phrase", "weight")


@admin.register(LexiconEntry)
class LexiconEntryAdmin(ServiceModelAdmin):
    create_service = staticmethod(services.create_lexicon_entry)
    update_service = staticmethod(services.update_lexicon_entry)
    delete_service = staticmethod(services.delete_lexicon_entry)
    form = LexiconEntryForm
    list_display = ("phrase", "label", "weight", "tenant")
    list_filter = ("label", TENANT_FILTER)
    search_fields = ("phrase", "tenant__slug")
    list_select_related = ("tenant",)


@admin.register(LowCredibilityDomain)
class LowCredibilityDomainAdmin(ServiceModelAdmin):
    create_service = staticmethod(services.create_low_credibility_domain)
    update_service = staticmethod(services.update_low_credibility_domain)
    delete_service = staticmethod(services.delete_low_credibility_domain)
    list_display = ("domain", "tenant")
    list_filter = (TENANT_FILTER,)
    search_fields = ("domain", "tenant__slug")
    list_select_related = ("tenant",)
