"""The client approver's e-mailed decision link (``tenants.action_links``).

``perform_client_decision`` is the link's ``perform``: the page (POST only, single-use,
expiring, bound to the user and to the version) hands it the user, the version and the form's
``decision`` and ``comment``; it decides through ``services.decide`` (every rule of the
workflow applies: an old version, a closed step, a rejection without a comment are refused) and
answers the confirmation text. ``register`` is called from ``IncidentsConfig.ready``.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from incidents.authority import Authority
from incidents.statements import services
from incidents.statements.choices import Decision, DecisionVia
from incidents.statements.notify import ACTION_KIND
from tenants import action_links
from tenants.access import roles_in
from tenants.roles import capabilities_of


def perform_client_decision(user: Any, target: Any, data: dict[str, Any]) -> str:
    """Decide on ``target`` (a ``StatementVersion``) as ``user``; the confirmation text."""
    incident = services.attach(target).incident
    authority = Authority(user=user, capabilities=capabilities_of(roles_in(user, incident.tenant)))
    version = services.decide(
        version=target,
        decision=str(data.get("decision") or ""),
        comment=str(data.get("comment") or ""),
        authority=authority,
        via=DecisionVia.LINK,
    )
    if data.get("decision") == Decision.REJECTED:
        return _("You rejected version %(number)d of %(title)s.") % {
            "number": version.number,
            "title": version.statement.title,
        }
    return _("You approved version %(number)d of %(title)s.") % {
        "number": version.number,
        "title": version.statement.title,
    }


def register() -> None:
    """Register the client's decision link kind (called from ``IncidentsConfig.ready``)."""
    action_links.register(
        ACTION_KIND,
        label=gettext_lazy("Approve or reject a statement"),
        perform=perform_client_decision,
        fields=("decision", "comment"),
    )
