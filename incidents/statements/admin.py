"""The admin of statements, crisis mode, stakeholders and holding-statement templates (staff
only, scoped to the staff user's agency). Loaded by ``incidents/admin.py``.

Templates, approval workflows (with their steps) and stakeholders are kept here through the
services. Statements, versions, decisions, publish records, crisis mode and the engagement log
are read-only: they are written over the API, where the workflow's rules (no self-approval, no
old version, the client approver) and the crisis-mode events are kept.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from incidents.statements import services
from incidents.statements.models import (
    ApprovalStep,
    ApprovalWorkflow,
    CrisisMode,
    CrisisModeEvent,
    PublishRecord,
    RightOfReply,
    Stakeholder,
    StakeholderInteraction,
    Statement,
    StatementApproval,
    StatementVersion,
)
from playbooks import services as playbook_services
from playbooks.models import StatementTemplate
from tenants.admin_mixins import (
    ReadOnlyMixin,
    ReadOnlyTenantInline,
    ScopedModelAdmin,
    ServiceErrorsMixin,
    ServiceModelAdmin,
    TenantFilter,
    admin_tenants,
)

TEMPLATE_FIELDS = (
    "name",
    "language",
    "part_confirmed",
    "part_actions",
    "part_empathy",
    "part_next_update",
    "placeholders",
    "must_not",
)


class _ChildAdmin(ReadOnlyMixin, ScopedModelAdmin):
    """Rows written over the API, where their rules are kept: read-only here."""

    list_select_related: ClassVar[Any] = ("tenant", "incident")
    list_filter: ClassVar[Any] = (TenantFilter,)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(StatementTemplate)
class StatementTemplateAdmin(ServiceErrorsMixin, ScopedModelAdmin):
    """The agency's templates (tenant empty: for every tenant it serves) and its tenants' own.
    A template never moves to another agency or tenant; every write is a service of
    ``playbooks.services`` (the agency's through ``save_agency_template``)."""

    list_display = ("name", "agency", "tenant", "language", "updated_at")
    list_filter = (TenantFilter, "language")
    list_select_related = ("agency", "tenant")
    search_fields = ("name",)
    fields = ("agency", "tenant", *TEMPLATE_FIELDS)

    def scope(self, queryset: QuerySet[Any], request: HttpRequest) -> QuerySet[Any]:
        if request.user.is_superuser:
            return queryset
        return queryset.filter(agency_id=getattr(request.user, "agency_id", None) or 0)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return ("agency", "tenant") if obj is not None else ()

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if obj.tenant_id is None:
            playbook_services.save_agency_template(instance=obj)
            return
        data = {name: form.cleaned_data[name] for name in TEMPLATE_FIELDS if name in form.fields}
        if change:
            changed = {name: data[name] for name in form.changed_data if name in data}
            playbook_services.update_statement_template(instance=obj, **changed)
            return
        created = playbook_services.create_statement_template(tenant=obj.tenant, **data)
        for field in StatementTemplate._meta.concrete_fields:
            setattr(obj, field.attname, getattr(created, field.attname))
        obj._state.adding = False

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        if obj.tenant_id is None:
            playbook_services.delete_agency_template(instance=obj)
        else:
            playbook_services.delete_statement_template(instance=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        for obj in queryset:
            self.delete_model(request, obj)


class StepInline(ReadOnlyTenantInline):
    model = ApprovalStep
    fields = ("position", "kind", "mode", "approvers", "time_box_minutes", "backup")
    readonly_fields = fields
    ordering = ("position",)


@admin.register(ApprovalWorkflow)
class ApprovalWorkflowAdmin(ServiceModelAdmin):
    list_display = ("severity", "tenant", "name")
    list_filter = (TenantFilter, "severity")
    list_select_related = ("tenant",)
    inlines = (StepInline,)
    create_service = staticmethod(services.create_workflow)
    update_service = staticmethod(services.update_workflow)
    delete_service = staticmethod(services.delete_workflow)


@admin.register(ApprovalStep)
class ApprovalStepAdmin(ServiceModelAdmin):
    list_display = ("workflow", "position", "kind", "mode", "time_box_minutes", "backup")
    list_filter = (TenantFilter, "kind", "mode")
    list_select_related = ("tenant", "workflow", "backup")
    update_service = staticmethod(services.update_step)
    delete_service = staticmethod(services.delete_step)

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "workflow" and not request.user.is_superuser:
            kwargs["queryset"] = ApprovalWorkflow.objects.for_tenant(admin_tenants(request.user))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @staticmethod
    def _create(*, tenant: Any, workflow: Any, **values: Any) -> ApprovalStep:
        return services.create_step(workflow=workflow, **values)

    create_service = _create


class VersionInline(ReadOnlyTenantInline):
    model = StatementVersion
    fields = ("number", "status", "text", "author", "submitted_at", "approved_at")
    readonly_fields = fields
    ordering = ("-number",)


@admin.register(Statement)
class StatementAdmin(_ChildAdmin):
    list_display = ("title", "incident", "language", "created_by", "created_at")
    inlines = (VersionInline,)


@admin.register(StatementVersion)
class StatementVersionAdmin(_ChildAdmin):
    list_display = ("statement", "number", "status", "author", "submitted_at", "approved_at")
    list_select_related = ("tenant", "statement", "author")
    list_filter = (TenantFilter, "status")


@admin.register(StatementApproval)
class StatementApprovalAdmin(_ChildAdmin):
    list_display = ("version", "step", "user", "decision", "as_backup", "via", "at")
    list_select_related = ("tenant", "version", "user")


@admin.register(PublishRecord)
class PublishRecordAdmin(_ChildAdmin):
    list_display = ("incident", "version", "channel", "published_at", "url")
    list_filter = (TenantFilter, "channel")


@admin.register(CrisisMode)
class CrisisModeAdmin(_ChildAdmin):
    list_display = ("tenant", "incident", "is_drill", "started_at", "ends_at", "ended_at")


@admin.register(CrisisModeEvent)
class CrisisModeEventAdmin(_ChildAdmin):
    list_display = ("sequence", "tenant", "event_type", "at")
    list_select_related = ("tenant",)


@admin.register(Stakeholder)
class StakeholderAdmin(ServiceModelAdmin):
    list_display = ("name", "kind", "organisation", "tenant", "email")
    list_filter = (TenantFilter, "kind")
    list_select_related = ("tenant",)
    search_fields = ("name", "organisation")
    create_service = staticmethod(services.create_stakeholder)
    update_service = staticmethod(services.update_stakeholder)
    delete_service = staticmethod(services.delete_stakeholder)


@admin.register(StakeholderInteraction)
class StakeholderInteractionAdmin(_ChildAdmin):
    list_display = ("at", "incident", "stakeholder", "channel", "follow_up_due")
    list_select_related = ("tenant", "incident", "stakeholder")


@admin.register(RightOfReply)
class RightOfReplyAdmin(_ChildAdmin):
    list_display = ("incident", "outlet", "article_url", "answer_due_at", "published")
    list_select_related = ("tenant", "incident", "outlet")
