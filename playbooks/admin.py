"""The admin of the playbooks app: a playbook with its steps inline. Staff see their agency's
playbooks (agency-owned and those of its tenants); every write goes through
``playbooks.services`` (the steps as a whole through ``set_steps``, so keys, offsets and
dependencies are checked together), with the staff user's rights on agency-owned playbooks.

Canned answers are written, approved and retired here through ``playbooks.services`` (the
same rules as REST and GraphQL: an approved answer whose text changes becomes a draft). The
chat widget's key is shown read-only; its allowed origins and switch are edited here.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from playbooks import services
from playbooks.models import AnswerWidget, CannedAnswer, Playbook, PlaybookStep
from tenants.admin_mixins import AgencyFilter, ServiceModelAdmin, TenantFilter, is_admin_user


class StepInline(admin.TabularInline):  # type: ignore[type-arg]
    model = PlaybookStep
    extra = 1
    fields = (
        "position",
        "key",
        "title",
        "role",
        "due_offset_minutes",
        "checklist",
        "depends_on",
        "visible_to_client",
    )

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_admin_user(request.user)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_admin_user(request.user)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_admin_user(request.user)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_admin_user(request.user)


@admin.register(Playbook)
class PlaybookAdmin(ServiceModelAdmin):
    list_display = ("name", "agency", "tenant", "language", "min_severity", "is_active", "version")
    list_filter = (AgencyFilter, "language", "is_active")
    list_select_related = ("agency", "tenant")
    search_fields = ("name",)
    fields = (
        "agency",
        "tenant",
        "name",
        "description",
        "language",
        "trigger_types",
        "min_severity",
        "tags",
        "do_guidance",
        "dont_guidance",
        "key_messages",
        "is_active",
        "version",
    )
    readonly_fields = ("version",)
    inlines = (StepInline,)
    delete_service = staticmethod(services.delete_playbook)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        base = ("version",)
        return (*base, "agency", "tenant") if obj is not None else base

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return is_admin_user(request.user)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        data = {
            name: form.cleaned_data[name]
            for name in services.PLAYBOOK_WRITABLE
            if name in form.cleaned_data
        }
        if change:
            # The form has set its values on ``obj`` already: the service compares with the
            # stored row.
            changed = {name: data[name] for name in form.changed_data if name in data}
            stored = Playbook.objects.get(pk=obj.pk)
            services.update_playbook(instance=stored, user=request.user, **changed)
            obj.version = stored.version
            return
        agency, tenant = form.cleaned_data["agency"], form.cleaned_data.get("tenant")
        owner_tenant = tenant or agency.tenants.order_by("pk").first()
        if owner_tenant is None or (tenant is not None and tenant.agency_id != agency.pk):
            raise PermissionDenied("The tenant must belong to the agency.")
        created = services.create_playbook(
            tenant=owner_tenant,
            owner="tenant" if tenant is not None else "agency",
            user=request.user,
            name=data.pop("name"),
            **data,
        )
        for field in Playbook._meta.concrete_fields:
            setattr(obj, field.attname, getattr(created, field.attname))
        obj._state.adding = False

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        if formset.model is not PlaybookStep:
            super().save_formset(request, form, formset, change)
            return
        rows = []
        for step_form in formset.forms:
            data = getattr(step_form, "cleaned_data", None)
            if not data or data.get("DELETE"):
                continue
            rows.append(
                (
                    data.get("position") or 0,
                    {name: data[name] for name in services.STEP_FIELDS if name in data},
                )
            )
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        rows.sort(key=lambda row: row[0])
        services.set_steps(
            playbook=form.instance, steps=[row for _, row in rows], user=request.user
        )

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        services.delete_playbook(instance=obj, user=request.user)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        for obj in queryset:
            services.delete_playbook(instance=obj, user=request.user)


# --- canned answers and the chat widget (issue 16) ---
@admin.register(CannedAnswer)
class CannedAnswerAdmin(ServiceModelAdmin):
    list_display = ("question", "tenant", "language", "status", "usage_count", "updated_at")
    list_filter = (TenantFilter, "language", "status")
    list_select_related = ("tenant",)
    search_fields = ("question",)
    fields = ("tenant", "question", "answer", "language", "status", "usage_count")
    readonly_fields = ("usage_count",)
    create_service = staticmethod(services.create_answer)
    update_service = staticmethod(services.update_answer)
    delete_service = staticmethod(services.delete_answer)


@admin.register(AnswerWidget)
class AnswerWidgetAdmin(ServiceModelAdmin):
    list_display = ("name", "tenant", "is_enabled", "created_at")
    list_filter = (TenantFilter,)
    list_select_related = ("tenant",)
    fields = ("tenant", "name", "key", "allowed_origins", "is_enabled")
    readonly_fields = ("key",)
    create_service = staticmethod(services.create_widget)
    update_service = staticmethod(services.update_widget)
    delete_service = staticmethod(services.delete_widget)
