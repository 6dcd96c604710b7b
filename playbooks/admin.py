"""The admin of the playbooks app (staff only, scoped to the staff user's agency).

Canned answers are written, approved and retired here through ``playbooks.services`` (the
same rules as REST and GraphQL: an approved answer whose text changes becomes a draft). The
chat widget's key is shown read-only; its allowed origins and switch are edited here.
"""

from __future__ import annotations

from django.contrib import admin

from playbooks import services
from playbooks.models import AnswerWidget, CannedAnswer
from tenants.admin_mixins import ServiceModelAdmin, TenantFilter


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
