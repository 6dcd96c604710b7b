"""Admin screens of the monitoring app, scoped per agency by ``ScopedModelAdmin``.

Mentions, rollups, batches, chunks, pipeline events and webhook deliveries are written by the
pipeline: the admin shows them (mentions allow triage, one at a time or as bulk actions, and
deletion by tenant admins) but does not create them; all but mentions say ``internal = True``,
which lists them under the index's internals (``tenants.admin_site``). Tenant filters
list only the tenants that have rows the staff user may see.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from monitoring import classifier, selectors, services
from monitoring.choices import RiskBand, TriageStatus
from monitoring.early_warning import selectors as alert_selectors
from monitoring.early_warning import services as alert_services
from monitoring.escalation import services as escalation_services
from monitoring.escalation.models import AlertEscalation, EscalationPolicy
from monitoring.ingest import handle_forms
from monitoring.models import (
    Alert,
    AlertEvent,
    AlertRule,
    AuthorBucket,
    AuthorSlot,
    HoaxCluster,
    IngestBatch,
    IngestChunk,
    LexiconEntry,
    LowCredibilityDomain,
    Mention,
    MentionTally,
    MetricBucket,
    MonitoredQuery,
    OwnedAccount,
    PipelineEvent,
    ScoreCorrection,
    ScoringModel,
    Source,
    TermBucket,
    TrackedTerm,
    WebhookDelivery,
)
from monitoring.scoring.risk import band_range
from tenants import access
from tenants.admin_mixins import (
    BoundedCountPaginator,
    ReadOnlyMixin,
    ScopedModelAdmin,
    ServiceErrorsMixin,
    ServiceModelAdmin,
    TenantFilter,
    admin_tenants,
    refusal_text,
    scoped_users,
)
from tenants.choices import CrisisTrigger
from tenants.models import User
from tenants.roles import Cap

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
    internal = True  # listed under the index's internals (tenants.admin_site)
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
    internal = True  # listed under the index's internals (tenants.admin_site)
    list_display = ("batch", "index", "tenant", "inserted", "duplicates", "done_at")
    list_filter = (TENANT_FILTER,)
    search_fields = ("=batch__id",)
    list_select_related = ("tenant", "batch")
    exclude = ("items",)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyMixin, ScopedModelAdmin):
    internal = True  # listed under the index's internals (tenants.admin_site)
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


class MentionActionForm(helpers.ActionForm):
    """The values the bulk actions apply to the selected mentions (next to the action list)."""

    status = forms.ChoiceField(
        label=_("status"), required=False, choices=[("", "---------"), *TriageStatus.choices]
    )
    assignee = forms.CharField(
        label=_("assignee e-mail"),
        required=False,
        max_length=254,
        help_text=_("Assign: a member's e-mail address; empty unassigns."),
    )
    tags = forms.CharField(
        label=_("tags"), required=False, max_length=500, help_text=_("Comma-separated.")
    )


class RiskBandFilter(admin.SimpleListFilter):
    """Mentions of one risk band (``monitoring.scoring.risk``)."""

    title = _("risk band")
    parameter_name = "risk_band"

    def lookups(self, request: HttpRequest, model_admin: Any) -> Any:
        return RiskBand.choices

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if value not in RiskBand.values:
            return queryset
        lowest, highest = band_range(value)
        return queryset.filter(risk__gte=lowest, risk__lte=highest)


@admin.register(Mention)
class MentionAdmin(ServiceErrorsMixin, ScopedModelAdmin):
    """Read-mostly: triage (status, tags, assignee) is the only change allowed, one mention
    at a time or as actions on up to 500 selected, always through ``services.triage_mentions``;
    deleting is for those who may delete mentions in the tenant (``mentions.delete``: tenant
    admins), through ``services.delete_mentions``, which writes the audit log."""

    form = MentionTriageForm
    action_form = MentionActionForm
    actions = ("set_status", "assign", "add_tags", "remove_tags")

    list_display = (
        "published_at",
        "tenant",
        "platform",
        "author_handle",
        "short_text",
        "sentiment",
        "risk_badge",
        "status",
        "assignee",
    )
    list_filter = ("sentiment", RiskBandFilter, "status", "platform", "language", TENANT_FILTER)
    search_fields = ("text",)  # searched by get_search_results: the API's full-text search
    search_help_text = _(
        'Words of the post (as the API\'s q: "a phrase", -excluded, OR); @handle for an author.'
    )
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
        ("sentiment", "provocation", "risk_badge"),
        "triggers",
        "hashtags",
        "scores",
        "status",
        "tags",
        "assignee",
    )
    triage = ("status", "tags", "assignee")

    class Media:
        css = {"all": ("monitoring/admin/risk.css",)}

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        names: list[str] = []
        for entry in self.fields:
            names += list(entry) if isinstance(entry, tuple) else [entry]
        return [name for name in names if name not in self.triage]

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Any], search_term: str
    ) -> tuple[QuerySet[Any], bool]:
        """The words of a post through the API's full-text search
        (``selectors.search_mentions``, GIN index ``mention_search``); ``@handle`` alone finds
        an author's mentions (stored without '@' and searched without case, index
        ``mention_author``)."""
        term = search_term.strip()
        if not term:
            return queryset, False
        if term.startswith("@") and " " not in term:
            return queryset.filter(author_handle__in=handle_forms(term)), False
        condition = selectors.search_condition(term)
        if term.isidentifier() or term.replace(".", "").replace("_", "").isalnum():
            # One bare word may also be a handle written without '@'.
            condition |= Q(author_handle__in=handle_forms(term))
        return queryset.filter(condition), False

    # --- who may do what: the capabilities of tenants.roles, per tenant ----------------------

    def _allowed(self, request: HttpRequest, cap: Cap, tenant_id: int | None = None) -> bool:
        """Whether the user holds ``cap`` in the tenant (in any tenant when None)."""
        if request.user.is_superuser:
            return True
        by_tenant = getattr(request, "_sigap_capabilities", None)
        if by_tenant is None:
            by_tenant = access.tenant_capabilities(request.user)
            request._sigap_capabilities = by_tenant  # type: ignore[attr-defined]
        if tenant_id is None:
            return any(cap in caps for caps in by_tenant.values())
        return cap in by_tenant.get(tenant_id, frozenset())

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_delete_permission(request, obj) and self._allowed(
            request, Cap.DELETE_MENTIONS, obj.tenant_id if obj is not None else None
        )

    def has_triage_permission(self, request: HttpRequest) -> bool:
        return self.has_change_permission(request) and self._allowed(request, Cap.TRIAGE_MENTIONS)

    def _by_tenant(
        self, request: HttpRequest, queryset: QuerySet[Any], cap: Cap
    ) -> dict[int, list[int]]:
        """The selected ids per tenant; ``ValidationError`` when there are more than the bulk
        limit or the user lacks ``cap`` in one of their tenants."""
        selected = list(
            queryset.order_by().values_list("tenant_id", "pk")[: services.MAX_BULK_TRIAGE + 1]
        )
        if len(selected) > services.MAX_BULK_TRIAGE:
            raise ValidationError(
                _("Select at most %(n)d mentions at a time.") % {"n": services.MAX_BULK_TRIAGE}
            )
        by_tenant: dict[int, list[int]] = defaultdict(list)
        for tenant_id, pk in selected:
            if not self._allowed(request, cap, tenant_id):
                raise ValidationError(
                    _("Your role does not allow '%(cap)s' in every selected mention's tenant.")
                    % {"cap": cap}
                )
            by_tenant[tenant_id].append(pk)
        return by_tenant

    # --- writes: every one through the services ----------------------------------------------

    def save_model(self, request: HttpRequest, obj: Mention, form: Any, change: bool) -> None:
        changed = {
            name: form.cleaned_data[name] for name in self.triage if name in form.changed_data
        }
        if changed:
            services.triage_mention(mention=obj, **changed)

    def delete_model(self, request: HttpRequest, obj: Mention) -> None:
        services.delete_mention(instance=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        for tenant_id, ids in self._by_tenant(request, queryset, Cap.DELETE_MENTIONS).items():
            services.delete_mentions(tenant=tenant_id, ids=ids)

    def _triage_selected(
        self, request: HttpRequest, queryset: QuerySet[Any], **changes: Any
    ) -> None:
        """Triage the selected mentions of every tenant in one transaction: all or nothing."""
        try:
            with transaction.atomic():
                by_tenant = self._by_tenant(request, queryset, Cap.TRIAGE_MENTIONS)
                results = [
                    services.triage_mentions(tenant=tenant_id, ids=ids, **changes)
                    for tenant_id, ids in by_tenant.items()
                ]
        except ValidationError as exc:
            self.message_user(request, refusal_text(exc), messages.ERROR)
            return
        updated = sum(result.updated for result in results)
        skipped = sum(len(result.errors) for result in results)
        text = _("%(updated)d mentions triaged, %(unchanged)d already so.") % {
            "updated": updated,
            "unchanged": sum(result.unchanged for result in results),
        }
        if skipped:
            text += " " + _("%(n)d left alone (too many tags).") % {"n": skipped}
        self.message_user(request, text, messages.WARNING if skipped else messages.SUCCESS)

    def _action_value(self, request: HttpRequest, name: str) -> str:
        form = self.action_form(request.POST)
        form.is_valid()
        return str(form.cleaned_data.get(name) or "").strip()

    def _tag_list(self, request: HttpRequest) -> list[str] | None:
        tags = [tag for tag in self._action_value(request, "tags").split(",") if tag.strip()]
        if not tags:
            self.message_user(request, _("Give the tags, comma-separated."), messages.ERROR)
            return None
        return tags

    @admin.action(description=_("Set the status of the selected mentions"), permissions=["triage"])
    def set_status(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        status = self._action_value(request, "status")
        if not status:
            self.message_user(request, _("Choose the status to set."), messages.ERROR)
            return
        self._triage_selected(request, queryset, status=status)

    @admin.action(
        description=_("Assign the selected mentions (e-mail; empty unassigns)"),
        permissions=["triage"],
    )
    def assign(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        email = self._action_value(request, "assignee")
        assignee: User | None = None
        if email:
            assignee = scoped_users(request.user).filter(email__iexact=email).first()
            if assignee is None:
                self.message_user(request, str(services.NOT_A_MEMBER), messages.ERROR)
                return
        self._triage_selected(request, queryset, assignee=assignee)

    @admin.action(description=_("Add tags to the selected mentions"), permissions=["triage"])
    def add_tags(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        tags = self._tag_list(request)
        if tags is not None:
            self._triage_selected(request, queryset, add_tags=tags)

    @admin.action(description=_("Remove tags from the selected mentions"), permissions=["triage"])
    def remove_tags(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        tags = self._tag_list(request)
        if tags is not None:
            self._triage_selected(request, queryset, remove_tags=tags)

    @admin.display(description=_("text"))
    def short_text(self, obj: Mention) -> str:
        return obj.text if len(obj.text) <= 80 else f"{obj.text[:79]}…"

    @admin.display(description=_("risk"), ordering="risk")
    def risk_badge(self, obj: Mention) -> str:
        band = RiskBand(obj.risk_band)
        html = '<span class="sigap-risk sigap-risk--{}">{} · {}</span>'
        return format_html(html, band.value, obj.risk, band.label)


@admin.register(MetricBucket)
class MetricBucketAdmin(ReadOnlyMixin, ScopedModelAdmin):
    internal = True  # listed under the index's internals (tenants.admin_site)
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


@admin.register(AuthorBucket, AuthorSlot)  # the same rollup per hour and per 5 minutes
class AuthorBucketAdmin(ReadOnlyMixin, ScopedModelAdmin):
    list_display = (
        "bucket",
        "tenant",
        "query_id",
        "platform",
        "author_handle",
        "author_name",
        "mentions",
        "reach",
    )
    list_filter = (TENANT_FILTER, "platform")
    search_fields = ("author_handle", "=query_id")
    list_select_related = ("tenant",)
    paginator = BoundedCountPaginator
    show_full_result_count = False
    ordering = ("-bucket",)


@admin.register(MentionTally)
class MentionTallyAdmin(ReadOnlyMixin, ScopedModelAdmin):
    list_display = ("bucket", "tenant", "sentiment", "mentions")
    list_filter = (TENANT_FILTER, "sentiment")
    list_select_related = ("tenant",)
    paginator = BoundedCountPaginator
    show_full_result_count = False
    ordering = ("-bucket",)


@admin.register(TermBucket)
class TermBucketAdmin(ReadOnlyMixin, ScopedModelAdmin):
    internal = True  # listed under the index's internals (tenants.admin_site)
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

    internal = True

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


# --- early warning (docs/alerts.md) ---------------------------------------------------------
# Rules and owned accounts are written through monitoring.early_warning.services; alerts change
# only through its actions (acknowledge, resolve, dismiss with a reason); hoax clusters are
# the detector's and read-only. The detector's own tables (DetectorState, HoaxMember,
# HoaxBand, HoaxClusterAuthor, EngagementSnapshot) are internal and not registered.


def _alert_capable(request: HttpRequest, cap: Cap, tenant_id: int) -> bool:
    """Whether the staff user holds ``cap`` in the tenant (the superuser everywhere)."""
    if request.user.is_superuser:
        return True
    by_tenant = getattr(request, "_sigap_capabilities", None)
    if by_tenant is None:
        by_tenant = access.tenant_capabilities(request.user)
        request._sigap_capabilities = by_tenant  # type: ignore[attr-defined]
    return cap in by_tenant.get(tenant_id, frozenset())


@admin.register(AlertRule)
class AlertRuleAdmin(ServiceModelAdmin):
    create_service = staticmethod(alert_services.create_rule)
    update_service = staticmethod(alert_services.update_rule)
    delete_service = staticmethod(alert_services.delete_rule)
    fields = (
        "tenant",
        "name",
        "kind",
        "query",
        ("sensitivity", "severity"),
        ("window", "cooldown"),
        "enabled",
        "params",
        "false_positive_rate",
    )
    readonly_fields = ("false_positive_rate",)
    list_display = ("name", "tenant", "kind", "sensitivity", "severity", "enabled", "updated_at")
    list_filter = ("kind", "enabled", "sensitivity", TENANT_FILTER)
    search_fields = ("name", "tenant__slug")
    list_select_related = ("tenant",)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        names = tuple(super().get_readonly_fields(request, obj))
        # A rule's kind never changes (alert_services.update_rule): another rule instead.
        return (*names, "kind") if obj is not None else names

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "query":
            kwargs["queryset"] = MonitoredQuery.objects.for_tenant(
                admin_tenants(request.user)
            ).select_related("tenant")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description=_("false-positive rate"))
    def false_positive_rate(self, obj: AlertRule) -> str:
        if obj.pk is None:
            return "-"
        rate = alert_selectors.false_positive_rate(rule=obj)
        if rate["rate"] is None:
            return _("%(alerts)d alerts, none decided yet") % rate
        return _(
            "%(percent)d%% (%(dismissed)d dismissed, %(resolved)d resolved, %(alerts)d alerts)"
        ) % {
            **rate,
            "percent": round(100 * rate["rate"]),
        }


class AlertEventInline(admin.TabularInline):  # type: ignore[type-arg]
    """An alert's history, as written by the services: read-only."""

    model = AlertEvent
    extra = 0
    can_delete = False
    fields = ("at", "kind", "actor", "from_status", "to_status", "note")
    readonly_fields = fields
    ordering = ("at", "id")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return super().get_queryset(request).select_related("actor")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


SNOOZE_CHOICES = (
    ("", "---------"),
    ("1h", _("1 hour")),
    ("4h", _("4 hours")),
    ("1d", _("1 day")),
    ("3d", _("3 days")),
    ("7d", _("7 days")),
)
SNOOZE_DURATIONS = {
    "1h": timedelta(hours=1),
    "4h": timedelta(hours=4),
    "1d": timedelta(days=1),
    "3d": timedelta(days=3),
    "7d": timedelta(days=7),
}


class AlertActionForm(helpers.ActionForm):
    """The reason the dismiss action records and the snooze's duration (next to the action
    list)."""

    reason = forms.CharField(
        label=_("reason"),
        required=False,
        max_length=2000,
        help_text=_("Dismiss: why the selected alerts are false positives."),
    )
    snooze_for = forms.ChoiceField(
        label=_("snooze for"),
        required=False,
        choices=SNOOZE_CHOICES,
        help_text=_("Snooze: how long the selected alerts stay quiet (not an acknowledgement)."),
    )


@admin.register(Alert)
class AlertAdmin(ReadOnlyMixin, ScopedModelAdmin):
    """Alerts as the detectors wrote them, each explaining itself, with its history. Changes
    are the actions (through ``monitoring.early_warning.services``, for those holding
    ``alerts.ack`` in the alert's tenant); snoozing takes a duration chosen next to the action
    list and never acknowledges."""

    action_form = AlertActionForm
    actions = ("acknowledge", "snooze", "resolve", "dismiss")
    inlines = (AlertEventInline,)
    list_display = ("created_at", "title", "tenant", "kind", "severity", "status", "observed")
    list_filter = ("status", "severity", "kind", TENANT_FILTER)
    search_fields = ("title", "dedupe_key", "tenant__slug")
    list_select_related = ("tenant",)
    paginator = BoundedCountPaginator
    show_full_result_count = False
    ordering = ("-created_at", "-id")
    fields = (
        "tenant",
        "title",
        ("kind", "severity", "status"),
        ("rule_name", "query_name", "cluster_key"),
        "explanation",
        ("observed", "baseline", "threshold", "sigma", "score"),
        ("window_start", "window_end"),
        "sample_authors",
        "sample_mention_ids",
        "subject",
        "details",
        ("evidence_count", "first_evidence_at", "last_evidence_at"),
        ("cooldown_until", "snoozed_until"),
        ("acknowledged_by", "acknowledged_at"),
        ("resolved_at", "dismissed_reason"),
        "dedupe_key",
        "created_at",
    )

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        names: list[str] = []
        for entry in self.fields:
            names += list(entry) if isinstance(entry, tuple) else [entry]
        return names

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # alerts are the record of what happened; dismiss a false one

    # Relations read within the alert's tenant (Django would load them by id alone).
    @staticmethod
    def _related(model: Any, tenant_id: int, pk: int | None) -> str:
        row = model.objects.for_tenant(tenant_id).filter(pk=pk).first() if pk else None
        return str(row) if row is not None else "-"

    @admin.display(description=_("rule"))
    def rule_name(self, obj: Alert) -> str:
        return self._related(AlertRule, obj.tenant_id, obj.rule_id)

    @admin.display(description=_("query"))
    def query_name(self, obj: Alert) -> str:
        return self._related(MonitoredQuery, obj.tenant_id, obj.query_id)

    @admin.display(description=_("hoax cluster"))
    def cluster_key(self, obj: Alert) -> str:
        return self._related(HoaxCluster, obj.tenant_id, obj.cluster_id)

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions: dict[str, Any] = super().get_actions(request)
        if not request.user.is_superuser and not any(
            Cap.ACK_ALERTS in caps for caps in access.tenant_capabilities(request.user).values()
        ):
            return {}
        return actions

    def _apply(self, request: HttpRequest, queryset: QuerySet[Any], run: Any) -> None:
        """Run ``run(alert)`` on every selected alert in one transaction: all or nothing."""
        selected = list(queryset.order_by("id")[:500])
        try:
            with transaction.atomic():
                for alert in selected:
                    if not _alert_capable(request, Cap.ACK_ALERTS, alert.tenant_id):
                        raise ValidationError(
                            _(
                                "Your role does not allow '%(cap)s' in every selected "
                                "alert's tenant."
                            )
                            % {"cap": Cap.ACK_ALERTS}
                        )
                    run(alert)
        except ValidationError as exc:
            self.message_user(request, refusal_text(exc), messages.ERROR)
            return
        self.message_user(
            request, _("%(n)d alerts changed.") % {"n": len(selected)}, messages.SUCCESS
        )

    @admin.action(description=_("Acknowledge the selected alerts"))
    def acknowledge(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        user = request.user if isinstance(request.user, User) else None
        self._apply(request, queryset, lambda a: alert_services.acknowledge(alert=a, user=user))

    @admin.action(description=_("Snooze the selected alerts (choose how long)"))
    def snooze(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        form = self.action_form(request.POST)
        form.is_valid()
        duration = SNOOZE_DURATIONS.get(str(form.cleaned_data.get("snooze_for") or ""))
        if duration is None:
            self.message_user(
                request, _("Choose how long to snooze the selected alerts."), messages.ERROR
            )
            return
        until = timezone.now() + duration
        user = request.user if isinstance(request.user, User) else None
        self._apply(
            request, queryset, lambda a: alert_services.snooze(alert=a, user=user, until=until)
        )

    @admin.action(description=_("Resolve the selected alerts"))
    def resolve(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        user = request.user if isinstance(request.user, User) else None
        self._apply(request, queryset, lambda a: alert_services.resolve(alert=a, user=user))

    @admin.action(description=_("Dismiss the selected alerts as false positives (give a reason)"))
    def dismiss(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        form = self.action_form(request.POST)
        form.is_valid()
        reason = str(form.cleaned_data.get("reason") or "").strip()
        user = request.user if isinstance(request.user, User) else None
        self._apply(
            request,
            queryset,
            lambda a: alert_services.dismiss(alert=a, user=user, reason=reason),
        )


@admin.register(HoaxCluster)
class HoaxClusterAdmin(ReadOnlyMixin, ScopedModelAdmin):
    """Near-duplicate copies of one claim, found by the hoax-spread rule: read-only."""

    list_display = ("first_at", "tenant", "first_poster", "author_count", "member_count", "last_at")
    list_filter = (TENANT_FILTER,)
    search_fields = ("key", "first_poster", "text")
    list_select_related = ("tenant",)
    ordering = ("-last_at", "-id")

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(OwnedAccount)
class OwnedAccountAdmin(ServiceModelAdmin):
    create_service = staticmethod(alert_services.create_owned_account)
    update_service = staticmethod(alert_services.update_owned_account)
    delete_service = staticmethod(alert_services.delete_owned_account)
    fields = ("tenant", "platform", "handle", "label", "posts_seen")
    readonly_fields = ("posts_seen",)
    list_display = ("handle", "platform", "label", "tenant", "posts_seen")
    list_filter = ("platform", TENANT_FILTER)
    search_fields = ("handle", "label", "tenant__slug")
    list_select_related = ("tenant",)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        names = tuple(super().get_readonly_fields(request, obj))
        # Only the label changes; another handle is another account.
        return (*names, "platform", "handle") if obj is not None else names


@admin.register(EscalationPolicy)
class EscalationPolicyAdmin(ServiceModelAdmin):
    create_service = staticmethod(escalation_services.create_policy)
    update_service = staticmethod(escalation_services.update_policy)
    delete_service = staticmethod(escalation_services.delete_policy)
    fields = ("tenant", "name", "severity", "steps", "repeat", "enabled")
    list_display = ("name", "severity", "repeat", "enabled", "tenant")
    list_filter = ("severity", "enabled", TENANT_FILTER)
    search_fields = ("name", "tenant__slug")
    list_select_related = ("tenant",)


@admin.register(AlertEscalation)
class AlertEscalationAdmin(ReadOnlyMixin, ScopedModelAdmin):
    """Where each alert's escalation stands (written only by the escalation engine)."""

    list_display = ("alert", "policy", "state", "round", "step", "next_at", "tenant")
    list_filter = ("state", TENANT_FILTER)
    list_select_related = ("tenant", "alert", "policy")
    fields = ("tenant", "alert", "policy", "state", "round", "step", "next_at", "stopped_reason")
    readonly_fields = fields
    ordering = ("-created_at", "-id")

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


# --- score corrections and the tenant's classifier (docs/scoring.md) ---------------------------


@admin.register(ScoreCorrection)
class ScoreCorrectionAdmin(ReadOnlyMixin, ScopedModelAdmin):
    """Corrections of mentions' scores as the team made them (through the API's correct
    endpoint and ``services.triage_mentions``): who, when, the old and the new value."""

    list_display = ("created_at", "tenant", "mention_id", "field", "old_value", "new_value")
    list_filter = ("field", TENANT_FILTER)
    search_fields = ("=mention__id", "tenant__slug")
    list_select_related = ("tenant",)
    paginator = BoundedCountPaginator
    show_full_result_count = False
    ordering = ("-created_at", "-id")
    exclude = ("corrected_by",)


def _accuracy(metrics: dict[str, Any], head: str) -> str:
    got = (metrics or {}).get(head) or {}
    if not got.get("examples"):
        return "-"
    return _("%(acc).1f%% (base %(base).1f%%, %(n)d labels)") % {
        "acc": 100 * float(got["accuracy"]),
        "base": 100 * float(got["base_accuracy"]),
        "n": got["examples"],
    }


@admin.register(ScoringModel)
class ScoringModelAdmin(ReadOnlyMixin, ScopedModelAdmin):
    """Versions of each tenant's classifier with their cross-validated accuracy against the
    base models, and the mentions whose labels would help most. Activating a version, rolling
    back and training are actions (``monitoring.classifier``), for those holding
    ``scores.correct`` in the version's tenant."""

    actions = ("activate", "rollback", "train")
    list_display = (
        "version",
        "tenant",
        "status",
        "sentiment_accuracy",
        "provocation_accuracy",
        "corrections",
        "created_at",
        "live_since",
    )
    list_filter = ("status", TENANT_FILTER)
    list_select_related = ("tenant",)
    ordering = ("tenant", "-version")
    fields = (
        "tenant",
        ("version", "status"),
        ("sentiment_accuracy", "provocation_accuracy"),
        "corrections",
        ("created_at", "live_since"),
        "base",
        "suggestions",
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return super().get_queryset(request).defer("weights")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        names: list[str] = []
        for entry in self.fields:
            names += list(entry) if isinstance(entry, tuple) else [entry]
        return names

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # versions are the record of what scored the tenant; roll back instead

    @admin.display(description=_("sentiment accuracy"))
    def sentiment_accuracy(self, obj: ScoringModel) -> str:
        return _accuracy(obj.metrics, "sentiment")

    @admin.display(description=_("provocation accuracy"))
    def provocation_accuracy(self, obj: ScoringModel) -> str:
        return _accuracy(obj.metrics, "provocation")

    @admin.display(description=_("mentions to label next"))
    def suggestions(self, obj: ScoringModel) -> str:
        rows = classifier.label_suggestions(obj.tenant_id, limit=10)
        if not rows:
            return "-"
        return format_html(
            "<ol>{}</ol>",
            format_html_join(
                "",
                "<li>#{} ({}, {}): {}</li>",
                ((r["id"], r["reason"], r["uncertainty"], r["text"][:140]) for r in rows),
            ),
        )

    def _each(self, request: HttpRequest, rows: list[Any], run: Any) -> None:
        try:
            with transaction.atomic():
                for row in rows:
                    if not _alert_capable(request, Cap.CORRECT_SCORES, row.tenant_id):
                        raise ValidationError(
                            _("Your role does not allow '%(cap)s' in this tenant.")
                            % {"cap": Cap.CORRECT_SCORES}
                        )
                    run(row)
        except ValidationError as exc:
            self.message_user(request, refusal_text(exc), messages.ERROR)
            return
        self.message_user(request, _("Done."), messages.SUCCESS)

    @admin.action(description=_("Make the selected version live"))
    def activate(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        rows = list(queryset[:2])
        if len(rows) != 1:
            self.message_user(request, _("Select exactly one version."), messages.ERROR)
            return
        self._each(request, rows, lambda r: classifier.activate_scoring_model(instance=r))

    @admin.action(description=_("Roll back the live version of the selected versions' tenants"))
    def rollback(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        tenants = {row.tenant_id: row for row in queryset.order_by("tenant_id")[:50]}
        self._each(
            request,
            list(tenants.values()),
            lambda r: classifier.rollback_scoring_model(tenant=r.tenant_id),
        )

    @admin.action(description=_("Train a new version for the selected versions' tenants"))
    def train(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        tenants = {row.tenant_id: row for row in queryset.order_by("tenant_id")[:50]}
        self._each(
            request,
            list(tenants.values()),
            lambda r: classifier.request_training(r.tenant_id),
        )
