"""REST endpoints of the playbooks app under ``/api/v1/tenants/{tenant_slug}/``.

``playbooks/`` lists the tenant's own playbooks and its agency's (``playbooks.view``, every
role) and writes them with ``playbooks.manage``; an agency-owned playbook is written by the
agency's admins only (403 otherwise, checked by the services). Reads go through
``playbooks.selectors``.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions

from playbooks import selectors, services
from playbooks.api.serializers import PlaybookSerializer
from playbooks.filtersets import PlaybookFilterSet
from playbooks.models import Playbook
from tenants.api.base import TenantCrudViewSet, crud_capabilities
from tenants.api.serializers import service_errors
from tenants.roles import Cap


@extend_schema(tags=["playbooks"])
class PlaybookViewSet(TenantCrudViewSet):
    """Crisis playbooks: conditions (trigger types, minimum severity, tags), ordered steps
    (incident role, due offset, checklist, dependencies), do and don't guidance and key
    messages. Matching playbooks attach to incidents by themselves (docs/playbooks.md)."""

    queryset = Playbook.objects.all()
    serializer_class = PlaybookSerializer
    filterset_class = PlaybookFilterSet
    ordering_fields = ("name", "updated_at")
    capabilities = crud_capabilities(Cap.VIEW_PLAYBOOKS, Cap.MANAGE_PLAYBOOKS)

    def scope_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return selectors.playbooks(tenant=self.tenant)

    def perform_create(self, serializer: Any) -> None:
        try:
            serializer.save(tenant=self.tenant)
        except DjangoPermissionDenied as exc:
            raise exceptions.PermissionDenied(str(exc)) from None

    def perform_update(self, serializer: Any) -> None:
        try:
            serializer.save()
        except DjangoPermissionDenied as exc:
            raise exceptions.PermissionDenied(str(exc)) from None

    def perform_destroy(self, instance: Any) -> None:
        try:
            with service_errors():
                services.delete_playbook(instance=instance, user=self.request.user)
        except DjangoPermissionDenied as exc:
            raise exceptions.PermissionDenied(str(exc)) from None
