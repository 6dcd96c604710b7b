"""GraphQL of escalation policies: ``escalation_policies`` (read) and
``create_escalation_policy``, ``update_escalation_policy``, ``delete_escalation_policy``
(through ``monitoring.escalation.services``), all with ``escalation.manage``."""

from __future__ import annotations

from typing import Any

import strawberry
import strawberry_django
from strawberry.scalars import JSON

from monitoring.escalation import fields, services
from monitoring.escalation.models import EscalationPolicy
from tenants.graphql.context import Info
from tenants.graphql.errors import bad_input, service_errors
from tenants.graphql.permissions import AUTHENTICATED as _authenticated
from tenants.graphql.permissions import tenant_for
from tenants.graphql.types import TenantOwnedType, public_type
from tenants.roles import Cap


@public_type(fields.ESCALATION_POLICY)
class EscalationPolicyType(TenantOwnedType):
    read_capability = Cap.MANAGE_ESCALATION


def _policy(tenant: Any, id: strawberry.ID) -> EscalationPolicy:
    found = (
        EscalationPolicy.objects.for_tenant(tenant).filter(pk=int(id)).first()
        if str(id).isdigit() and len(str(id)) < 19
        else None
    )
    if found is None:
        raise bad_input("No such escalation policy in this tenant.", "id")
    return found


@strawberry.type
class EscalationQuery:
    @strawberry_django.field(extensions=_authenticated)
    def escalation_policies(self, info: Info, slug: str) -> list[EscalationPolicyType]:
        """The tenant's escalation policies, one per severity."""
        tenant = tenant_for(info, slug, Cap.MANAGE_ESCALATION)
        return EscalationPolicy.objects.for_tenant(tenant).order_by("severity", "id")  # type: ignore[return-value]


@strawberry.type
class EscalationMutation:
    @strawberry_django.mutation(extensions=_authenticated)
    def create_escalation_policy(
        self,
        info: Info,
        slug: str,
        name: str,
        severity: str,
        steps: JSON,
        repeat: int = 0,
        enabled: bool = True,
    ) -> EscalationPolicyType:
        """A new policy: ``steps`` as in REST (users, channels, on_call, wait_minutes)."""
        tenant = tenant_for(info, slug, Cap.MANAGE_ESCALATION)
        with service_errors():
            return services.create_policy(  # type: ignore[return-value]
                tenant=tenant,
                name=name,
                severity=severity,
                steps=steps,
                repeat=repeat,
                enabled=enabled,
            )

    @strawberry_django.mutation(extensions=_authenticated)
    def update_escalation_policy(
        self,
        info: Info,
        slug: str,
        id: strawberry.ID,
        name: str | None = None,
        severity: str | None = None,
        steps: JSON | None = None,
        repeat: int | None = None,
        enabled: bool | None = None,
    ) -> EscalationPolicyType:
        """Change a policy (alerts already escalating follow the new steps from their next)."""
        tenant = tenant_for(info, slug, Cap.MANAGE_ESCALATION)
        policy = _policy(tenant, id)
        given = {
            "name": name,
            "severity": severity,
            "steps": steps,
            "repeat": repeat,
            "enabled": enabled,
        }
        with service_errors():
            return services.update_policy(  # type: ignore[return-value]
                instance=policy, **{k: v for k, v in given.items() if v is not None}
            )

    @strawberry_django.mutation(extensions=_authenticated)
    def delete_escalation_policy(self, info: Info, slug: str, id: strawberry.ID) -> bool:
        """Delete a policy (alerts escalating under it stop at their next step)."""
        tenant = tenant_for(info, slug, Cap.MANAGE_ESCALATION)
        policy = _policy(tenant, id)
        with service_errors():
            services.delete_policy(instance=policy)
        return True
