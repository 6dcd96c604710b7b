"""The admin of the incidents app (staff only, scoped to the staff user's agency).

An incident's page shows its team, tasks, links and timeline inline, read-only: those are
written through the services (REST, the alert hook), so their rules and the timeline are kept.
The incident itself is opened and its title, summary and trigger changed here through the
services; stages move over the API (``transition``), where the commander's powers are checked.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from incidents import playbooks as incident_playbooks
from incidents import services
from incidents.models import (
    Incident,
    IncidentLink,
    IncidentMember,
    IncidentPlaybook,
    IncidentTask,
    Reply,
    ResponseAdvice,
    RolePolicy,
    SeverityPolicy,
    TimelineEntry,
)
from tenants.admin_mixins import (
    ReadOnlyMixin,
    ReadOnlyTenantInline,
    ScopedModelAdmin,
    ServiceModelAdmin,
    TenantFilter,
    admin_tenants,
)


class TeamInline(ReadOnlyTenantInline):
    model = IncidentMember
    fields = ("role", "user", "by_policy", "assigned_at")
    readonly_fields = fields


class TaskInline(ReadOnlyTenantInline):
    model = IncidentTask
    fields = ("title", "owner", "due_at", "status", "visible_to_client")
    readonly_fields = fields


class LinkInline(ReadOnlyTenantInline):
    model = IncidentLink
    fields = ("kind", "mention", "query", "url", "note", "visible_to_client")
    readonly_fields = fields


class PlaybookInline(ReadOnlyTenantInline):
    model = IncidentPlaybook
    fields = ("name", "version", "by_hand", "attached_by", "attached_at", "task_ids")
    readonly_fields = fields


class AdviceInline(ReadOnlyTenantInline):
    model = ResponseAdvice
    fields = ("cluster", "posture", "reasoning", "similar_incidents", "edited_by", "edited_at")
    readonly_fields = fields


class TimelineInline(ReadOnlyTenantInline):
    model = TimelineEntry
    fields = ("at", "kind", "actor", "text", "visible_to_client")
    readonly_fields = fields
    ordering = ("-at", "-id")


@admin.register(Incident)
class IncidentAdmin(ServiceModelAdmin):
    list_display = ("title", "tenant", "severity", "status", "trigger", "is_drill", "detected_at")
    list_filter = (TenantFilter, "status", "severity", "trigger", "is_drill")
    list_select_related = ("tenant",)
    search_fields = ("title",)
    fields = (
        "tenant",
        "title",
        "summary",
        "trigger",
        "severity",
        "tags",
        "is_drill",
        "status",
        "detected_at",
        "acknowledged_at",
        "first_statement_at",
        "mitigated_at",
        "resolved_at",
        "reviewed_at",
        "closed_at",
    )
    inlines = (TeamInline, AdviceInline, PlaybookInline, TaskInline, LinkInline, TimelineInline)
    create_service = staticmethod(services.open_incident)
    update_service = staticmethod(services.update_incident)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        stages = (
            "status",
            "acknowledged_at",
            "first_statement_at",
            "mitigated_at",
            "resolved_at",
            "reviewed_at",
            "closed_at",
        )
        if obj is not None:
            return (*super().get_readonly_fields(request, obj), *stages, "is_drill", "detected_at")
        return (*super().get_readonly_fields(request, obj), *stages)


class _ChildAdmin(ReadOnlyMixin, ScopedModelAdmin):
    list_select_related = ("tenant", "incident")
    list_filter = (TenantFilter,)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(IncidentMember)
class IncidentMemberAdmin(_ChildAdmin):
    list_display = ("incident", "role", "user", "by_policy", "assigned_at")


@admin.register(IncidentTask)
class IncidentTaskAdmin(_ChildAdmin):
    list_display = ("title", "incident", "owner", "due_at", "status", "visible_to_client")


@admin.register(IncidentLink)
class IncidentLinkAdmin(_ChildAdmin):
    list_display = ("incident", "kind", "url", "visible_to_client", "created_at")


@admin.register(TimelineEntry)
class TimelineEntryAdmin(_ChildAdmin):
    list_display = ("at", "incident", "kind", "text", "visible_to_client")


@admin.register(SeverityPolicy)
class SeverityPolicyAdmin(ServiceModelAdmin):
    list_display = (
        "tenant",
        "severity",
        "auto_open_from_alert",
        "acknowledge_minutes",
        "first_statement_minutes",
        "update_every_minutes",
        "resolve_minutes",
    )
    list_filter = (TenantFilter, "severity")
    list_select_related = ("tenant",)
    create_service = staticmethod(services.create_severity_policy)
    update_service = staticmethod(services.update_severity_policy)
    delete_service = staticmethod(services.delete_severity_policy)


@admin.register(RolePolicy)
class RolePolicyAdmin(ServiceModelAdmin):
    list_display = ("tenant", "role", "user", "trigger", "severity")
    list_filter = (TenantFilter, "role")
    list_select_related = ("tenant", "user")
    create_service = staticmethod(services.create_role_policy)
    update_service = staticmethod(services.update_role_policy)
    delete_service = staticmethod(services.delete_role_policy)


@admin.register(Reply)
class ReplyAdmin(_ChildAdmin):
    """Replies to mentions with their consistency findings, read-only: they are drafted,
    approved and sent over the API, where the drafter's and approver's roles and the
    commander's override are checked (``incidents.replies``)."""

    list_display = ("created_at", "incident", "mention", "status", "flagged", "sent_at")
    list_filter = (TenantFilter, "status", "flagged")  # type: ignore[assignment]
    list_select_related = ("tenant", "incident")


def attach_in_admin(*, tenant: Any, incident: Incident, playbook: Any) -> IncidentPlaybook:
    """The admin's add form: attach a playbook by hand (the service checks the rest)."""
    return incident_playbooks.attach_playbook(incident=incident, playbook=playbook)


@admin.register(IncidentPlaybook)
class IncidentPlaybookAdmin(ServiceModelAdmin):
    """Attached playbooks; *Add* attaches one by hand (its tasks are made at once)."""

    list_display = ("name", "incident", "version", "by_hand", "attached_at")
    list_filter = (TenantFilter, "by_hand")
    list_select_related = ("tenant", "incident")
    fields = ("tenant", "incident", "playbook", "name", "version", "task_ids", "attached_at")
    readonly_fields = ("name", "version", "task_ids", "attached_at")
    create_service = staticmethod(attach_in_admin)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is not None:
            return (*self.fields,)
        return self.readonly_fields

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # an attachment is a record: shown, never changed or removed

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        from playbooks.models import Playbook

        if db_field.name == "incident":
            kwargs["queryset"] = Incident.objects.for_tenant(admin_tenants(request.user))
        elif db_field.name == "playbook":
            kwargs["queryset"] = Playbook.objects.for_tenant(admin_tenants(request.user))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(ResponseAdvice)
class ResponseAdviceAdmin(_ChildAdmin):
    list_display = ("incident", "cluster", "posture", "similar_incidents", "edited_at")


# Statements, crisis mode, stakeholders and holding-statement templates.
# The evaluation's screens (reviews, report subscriptions, client reports).
from incidents.evaluation import admin as evaluation_admin  # noqa: E402, F401
from incidents.statements import admin as statements_admin  # noqa: E402, F401
