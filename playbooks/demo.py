"""The demo's playbooks: the starter playbooks (one per crisis trigger, in Indonesian and
English) loaded for the demo agency, agency-owned. Idempotent; the incidents demo calls it
before it opens the demo incident, so the matching playbook attaches by itself."""

from __future__ import annotations

from playbooks.models import Playbook
from playbooks.services import load_starter_playbooks
from tenants.models import Tenant


def seed_playbooks(tenant: Tenant) -> str:
    created = load_starter_playbooks(agency=tenant.agency)
    total = Playbook.objects.filter(agency_id=tenant.agency_id, tenant__isnull=True).count()
    return f"starter playbooks: {len(created)} loaded, {total} for the agency"
