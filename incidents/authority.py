"""Who is acting on an incident, and whether they hold the commander's powers there.

REST and GraphQL build an ``Authority`` from the caller's capabilities in the tenant
(``tenants.access``); tasks, the admin and the alert hook act as ``SYSTEM``. The rule
(``docs/roles.md``, "Commander powers"): the powers are held by whoever holds
``incidents.command`` in the tenant, by the incident's commander, and, while it has no
commander, by every holder of ``incidents.manage``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from tenants.models import User
from tenants.roles import Cap

if TYPE_CHECKING:
    from incidents.models import Incident


@dataclass(frozen=True)
class Authority:
    user: User | None
    capabilities: frozenset[Cap]
    system: bool = False

    @property
    def user_id(self) -> int | None:
        return self.user.pk if self.user is not None else None

    def commander_id(self, incident: Incident) -> int | None:
        from incidents.models import IncidentMember

        return (
            IncidentMember.objects.for_tenant(incident.tenant_id)
            .filter(incident=incident, role="commander")
            .values_list("user_id", flat=True)
            .first()
        )

    def command_mode(self, incident: Incident) -> str | None:
        """How this authority holds the powers on ``incident``: ``"system"``, ``"commander"``
        (the incident's own, or nobody is yet), ``"override"`` (``incidents.command`` over
        another commander), or None (it does not)."""
        if self.system:
            return "system"
        commander = self.commander_id(incident)
        if commander is not None and commander == self.user_id:
            return "commander"
        if commander is None and Cap.MANAGE_INCIDENTS in self.capabilities:
            return "commander"
        if Cap.COMMAND_INCIDENTS in self.capabilities:
            return "override" if commander is not None else "commander"
        return None


SYSTEM = Authority(user=None, capabilities=frozenset(), system=True)
