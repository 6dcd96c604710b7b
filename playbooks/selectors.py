"""Reads of the playbooks app, always given the tenant. The owner index
(``playbook_owner``: agency, tenant) serves ``Playbook.objects.for_tenant``."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from playbooks import rules
from playbooks.models import Playbook, PlaybookQuerySet, PlaybookVersion
from tenants.models import Tenant


def playbooks(*, tenant: Tenant) -> PlaybookQuerySet:
    """The tenant's own playbooks and its agency's, by name (index ``playbook_owner``)."""
    return Playbook.objects.for_tenant(tenant).prefetch_related("steps")


def matching(
    *, tenant: Tenant, trigger: str, severity: str, tags: Iterable[str] = ()
) -> list[Playbook]:
    """The active playbooks of the tenant (and its agency) whose conditions hold for an
    incident of ``trigger``, ``severity`` and ``tags`` (``playbooks.rules.matches``)."""
    tag_list = list(tags)
    return [
        playbook
        for playbook in Playbook.objects.for_tenant(tenant).filter(is_active=True).order_by("pk")
        if rules.matches(
            trigger_types=playbook.trigger_types,
            min_severity=playbook.min_severity,
            tags=playbook.tags,
            language=playbook.language,
            incident_trigger=trigger,
            incident_severity=severity,
            incident_tags=tag_list,
            tenant_language=tenant.default_language,
        )
    ]


def current_snapshot(playbook: Playbook) -> dict[str, Any]:
    """The snapshot of the playbook's current version (index ``playbook_version_once``)."""
    version = PlaybookVersion.objects.filter(playbook=playbook, number=playbook.version).first()
    if version is not None:
        return dict(version.snapshot)
    from playbooks.services import snapshot

    return snapshot(playbook)
