"""GraphQL types of the playbooks app, built from ``playbooks.fields`` so names match REST.
``PlaybookType`` derives from ``TenantOwnedType`` with ``playbooks.view``: a caller sees the
playbooks of the tenants where it holds it, and those of their agencies."""

from __future__ import annotations

from typing import Any

import strawberry_django
from strawberry.scalars import JSON

from playbooks import fields
from playbooks.models import Playbook
from tenants.graphql.types import TenantOwnedType, public_type
from tenants.roles import Cap


@public_type(fields.PLAYBOOK)
class PlaybookType(TenantOwnedType):
    read_capability = Cap.VIEW_PLAYBOOKS

    @strawberry_django.field(only=["tenant_id"])
    def owner(self, root: Playbook) -> str:
        return root.owner

    @strawberry_django.field(prefetch_related=["steps"])
    def steps(self, root: Playbook) -> list[JSON]:
        rows: list[Any] = sorted(root.steps.all(), key=lambda step: (step.position, step.pk))
        result: list[Any] = [
            {
                "key": step.key,
                "title": step.title,
                "role": step.role,
                "due_offset_minutes": step.due_offset_minutes,
                "checklist": list(step.checklist),
                "depends_on": list(step.depends_on),
                "visible_to_client": step.visible_to_client,
            }
            for step in rows
        ]
        return result
