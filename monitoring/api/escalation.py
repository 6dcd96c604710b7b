"""REST resource of escalation policies: ``/api/v1/tenants/{slug}/escalation-policies/``, CRUD
with ``escalation.manage`` (one policy per severity; steps name members and channels)."""

from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema

from monitoring.escalation import fields as public_fields
from monitoring.escalation import services
from monitoring.escalation.models import EscalationPolicy
from tenants.api.base import TenantCrudViewSet, crud_capabilities
from tenants.api.serializers import ServiceModelSerializer
from tenants.roles import Cap


class EscalationPolicySerializer(ServiceModelSerializer):
    """What happens when an alert of ``severity`` opens: ``steps`` in order, each
    ``{"users": [ids], "channels": [ids], "on_call": bool, "wait_minutes": n}``, then the steps
    again up to ``repeat`` times, until someone acknowledges."""

    create_service = staticmethod(services.create_policy)
    update_service = staticmethod(services.update_policy)

    class Meta:
        model = EscalationPolicy
        fields: tuple[str, ...] = public_fields.ESCALATION_POLICY.names
        read_only_fields: tuple[str, ...] = public_fields.ESCALATION_POLICY.read_only


@extend_schema(tags=["notifications"])
class EscalationPolicyViewSet(TenantCrudViewSet):
    """The tenant's escalation policies, one per severity."""

    queryset = EscalationPolicy.objects.all()
    serializer_class = EscalationPolicySerializer
    ordering_fields = ("severity", "name")
    capabilities = crud_capabilities(Cap.MANAGE_ESCALATION, Cap.MANAGE_ESCALATION)
    delete_service = staticmethod(services.delete_policy)

    def scope_queryset(self, queryset: QuerySet[EscalationPolicy]) -> QuerySet[EscalationPolicy]:
        return queryset.order_by("severity", "id")
