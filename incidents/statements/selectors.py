"""Reads of statements, crisis mode and stakeholders: keyword-only, given the tenant (and, for
what the client role may see, whether the caller sees internal items)."""

from __future__ import annotations

import difflib
import re
from datetime import timedelta
from typing import Any

from django.db.models import Q, QuerySet

from incidents.models import Incident
from incidents.statements.choices import VersionStatus
from incidents.statements.models import (
    CrisisMode,
    PublishRecord,
    RightOfReply,
    Stakeholder,
    StakeholderInteraction,
    Statement,
    StatementApproval,
    StatementVersion,
)
from tenants.models import Tenant

# What the client role sees of statements: versions that left the agency (never drafts, never
# withdrawn ones), of incidents that are not drills.
CLIENT_VERSION_STATUSES = (VersionStatus.SUBMITTED, VersionStatus.APPROVED, VersionStatus.REJECTED)


def _real_incidents(tenant: Tenant | int) -> QuerySet[Any]:
    """Ids of the tenant's incidents that are not drills (a pinned sub-select: a join through
    ``incident__`` would read the incidents without naming the tenant)."""
    return Incident.objects.for_tenant(tenant).filter(is_drill=False).values("pk")


def statements(*, tenant: Tenant | int, internal: bool) -> QuerySet[Statement]:
    """Statements, newest first (index ``statement_incident`` when filtered by incident)."""
    rows = Statement.objects.for_tenant(tenant)
    if internal:
        return rows
    return rows.filter(incident_id__in=_real_incidents(tenant)).filter(
        pk__in=StatementVersion.objects.for_tenant(tenant)
        .filter(status__in=CLIENT_VERSION_STATUSES)
        .values("statement_id")
    )


def versions(*, tenant: Tenant | int, internal: bool) -> QuerySet[StatementVersion]:
    """Versions (index ``version_incident`` when filtered by incident)."""
    rows = StatementVersion.objects.for_tenant(tenant)
    if internal:
        return rows
    return rows.filter(status__in=CLIENT_VERSION_STATUSES, incident_id__in=_real_incidents(tenant))


def approvals(*, tenant: Tenant | int) -> QuerySet[StatementApproval]:
    return StatementApproval.objects.for_tenant(tenant).select_related("user")


def publications(*, tenant: Tenant | int, internal: bool) -> QuerySet[PublishRecord]:
    """Publish records, newest first (index ``publish_record_incident`` by incident)."""
    rows = PublishRecord.objects.for_tenant(tenant)
    return rows if internal else rows.filter(incident_id__in=_real_incidents(tenant))


def crisis_modes(*, tenant: Tenant | int, internal: bool) -> QuerySet[CrisisMode]:
    """Crisis-mode periods, newest first; the running one has no ``ended_at``."""
    rows = CrisisMode.objects.for_tenant(tenant)
    return rows if internal else rows.filter(is_drill=False)


def running_crisis_mode(*, tenant: Tenant | int, internal: bool) -> CrisisMode | None:
    """The tenant's running crisis mode (partial unique index ``crisis_mode_one_running``)."""
    return crisis_modes(tenant=tenant, internal=internal).filter(ended_at__isnull=True).first()


def stakeholders(*, tenant: Tenant | int) -> QuerySet[Stakeholder]:
    """Contacts by name (``?kind=`` uses index ``stakeholder_kind``)."""
    return Stakeholder.objects.for_tenant(tenant)


def interactions(*, tenant: Tenant | int, internal: bool) -> QuerySet[StakeholderInteraction]:
    """The engagement log, newest first (index ``interaction_incident`` by incident)."""
    rows = StakeholderInteraction.objects.for_tenant(tenant)
    return (
        rows
        if internal
        else rows.filter(visible_to_client=True, incident_id__in=_real_incidents(tenant))
    )


def rights_of_reply(*, tenant: Tenant | int) -> QuerySet[RightOfReply]:
    return RightOfReply.objects.for_tenant(tenant)


def approval_cycle_times(incident: Incident) -> list[timedelta]:
    """Submitted → approved, per approved version of ``incident``, oldest first."""
    rows = (
        StatementVersion.objects.for_tenant(incident.tenant_id)
        .filter(
            incident_id=incident.pk,
            status=VersionStatus.APPROVED,
            submitted_at__isnull=False,
            approved_at__isnull=False,
        )
        .order_by("approved_at", "pk")
        .values_list("submitted_at", "approved_at")
    )
    return [
        approved - submitted
        for submitted, approved in rows
        if submitted is not None and approved is not None
    ]


def latest_approved(incident: Incident) -> StatementVersion | None:
    """The incident's most recently approved version (index ``version_incident``)."""
    return (
        StatementVersion.objects.for_tenant(incident.tenant_id)
        .filter(incident_id=incident.pk, status=VersionStatus.APPROVED)
        .order_by("-approved_at", "-pk")
        .first()
    )


_WORDS = re.compile(r"\s+|[^\s]+")


def diff(older: StatementVersion, newer: StatementVersion) -> dict[str, Any]:
    """A readable diff between two versions of one statement: the unified diff by line, and
    the changes word by word (``equal``/``insert``/``delete``/``replace`` with their text)."""
    unified = "\n".join(
        difflib.unified_diff(
            older.text.splitlines(),
            newer.text.splitlines(),
            fromfile=f"v{older.number}",
            tofile=f"v{newer.number}",
            lineterm="",
        )
    )
    before, after = _WORDS.findall(older.text), _WORDS.findall(newer.text)
    changes: list[dict[str, str]] = []
    matcher = difflib.SequenceMatcher(a=before, b=after, autojunk=False)
    for op, a1, a2, b1, b2 in matcher.get_opcodes():
        changes.append({"op": op, "before": "".join(before[a1:a2]), "after": "".join(after[b1:b2])})
    return {
        "from_number": older.number,
        "to_number": newer.number,
        "unified": unified,
        "changes": changes,
    }


def version_filter(incident: str | None, statement: str | None) -> Q:
    query = Q()
    if incident:
        query &= Q(incident_id=int(incident))
    if statement:
        query &= Q(statement_id=int(statement))
    return query
