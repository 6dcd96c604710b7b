"""Admin screens of notifications (registered by ``tenants.admin``): channels (secrets
write-only), the delivery log (read-only), the on-call rota and quiet hours. Every write goes
through ``tenants.notify.services``."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from tenants.admin_mixins import ReadOnlyMixin, ScopedModelAdmin, ServiceModelAdmin, TenantFilter
from tenants.models import Channel, Delivery, OnCallShift, QuietHours
from tenants.notify import services


class ChannelForm(forms.ModelForm):  # type: ignore[type-arg]
    """Secrets are typed in and never shown back; left empty, the stored one stays."""

    secret = forms.CharField(
        label=_("secret"),
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text=Channel._meta.get_field("secret").help_text,
    )
    signing_secret = forms.CharField(
        label=_("signing secret"),
        required=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text=Channel._meta.get_field("signing_secret").help_text,
    )

    class Meta:
        model = Channel
        fields = ("tenant", "name", "kind", "enabled", "target", "secret", "signing_secret")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.initial["secret"] = ""
        self.initial["signing_secret"] = ""

    def _post_clean(self) -> None:
        # An empty secret on a change keeps the stored one: check the row as it will be saved.
        if self.instance.pk:
            for name in ("secret", "signing_secret"):
                if not self.cleaned_data.get(name):
                    self.cleaned_data[name] = getattr(self.instance, name)
        super()._post_clean()  # type: ignore[misc]


@admin.register(Channel)
class ChannelAdmin(ServiceModelAdmin):
    form = ChannelForm
    create_service = staticmethod(services.create_channel)
    update_service = staticmethod(services.update_channel)
    delete_service = staticmethod(services.delete_channel)
    fields = (
        "tenant",
        "name",
        "kind",
        "enabled",
        "target",
        "secret",
        "signing_secret",
        "options",
        "last_success_at",
        "last_error",
        "last_error_at",
    )
    readonly_fields = ("last_success_at", "last_error", "last_error_at")
    list_display = ("name", "kind", "enabled", "tenant", "last_success_at", "last_error_at")
    list_filter = ("kind", "enabled", TenantFilter)
    search_fields = ("name", "tenant__slug")
    list_select_related = ("tenant",)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        names = tuple(super().get_readonly_fields(request, obj))
        return (*names, "kind") if obj is not None else names  # a kind never changes


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyMixin, ScopedModelAdmin):
    list_display = ("created_at", "event_type", "kind", "recipient", "status", "attempts", "tenant")
    list_filter = ("status", "kind", TenantFilter)
    search_fields = ("recipient", "event_type", "subject_ref", "tenant__slug")
    list_select_related = ("tenant",)
    readonly_fields = (
        "tenant",
        "key",
        "kind",
        "channel",
        "user",
        "recipient",
        "event_type",
        "subject_ref",
        "title",
        "body",
        "status",
        "attempts",
        "next_attempt_at",
        "last_error",
        "response_status",
        "created_at",
        "sent_at",
    )
    fields = readonly_fields
    ordering = ("-created_at", "-id")

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(OnCallShift)
class OnCallShiftAdmin(ServiceModelAdmin):
    create_service = staticmethod(services.create_shift)
    update_service = staticmethod(services.update_shift)
    delete_service = staticmethod(services.delete_shift)
    fields = ("tenant", "user", "starts_at", "ends_at", "note")
    list_display = ("user", "starts_at", "ends_at", "note", "tenant")
    list_filter = (TenantFilter,)
    list_select_related = ("tenant", "user")
    ordering = ("-starts_at",)


@admin.register(QuietHours)
class QuietHoursAdmin(ServiceModelAdmin):
    create_service = staticmethod(services.create_quiet_hours)
    update_service = staticmethod(services.update_quiet_hours)
    delete_service = staticmethod(services.delete_quiet_hours)
    fields = ("tenant", "user", "starts", "ends")
    list_display = ("user", "starts", "ends", "tenant")
    list_filter = (TenantFilter,)
    list_select_related = ("tenant", "user")
