"""``seed_demo`` holds a spike and a hoax campaign relative to now: alerts show at once."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command

from monitoring.demo import HOAX_EDITS
from monitoring.models import Alert, AlertRule, HoaxCluster, OwnedAccount
from tenants.demo import TENANTS
from tenants.models import Tenant
from tests.monitoring.test_outbox import run_queued


@pytest.mark.django_db
def test_the_demo_raises_a_spike_and_a_hoax_alert_once(db: Any) -> None:
    call_command("seed_demo", "--mentions", "300", stdout=StringIO())
    run_queued()  # chunks, then their deliveries to early warning, as the workers would
    counts = {}
    for slug, *_ in TENANTS:
        tenant = Tenant.objects.get(slug=slug)
        assert AlertRule.objects.for_tenant(tenant).filter(kind="spike").exists()
        assert OwnedAccount.objects.for_tenant(tenant).exists()
        kinds = set(Alert.objects.for_tenant(tenant).values_list("kind", flat=True))
        assert {"spike", "hoax-spread"} <= kinds, (slug, kinds)
        # the story's campaign (the generated history has copy-paste hoaxes of its own)
        topic = "bank" if "bank" in slug else "kopi"
        cluster = HoaxCluster.objects.for_tenant(tenant).get(key=f"x:demo-{topic}-hoax-0")
        assert cluster.author_count == len(HOAX_EDITS) and cluster.low_credibility_links
        assert Alert.objects.for_tenant(tenant).filter(cluster=cluster).count() == 1
        counts[slug] = Alert.objects.for_tenant(tenant).count()
    call_command("seed_demo", "--mentions", "300", stdout=StringIO())
    run_queued()
    for slug, *_ in TENANTS:
        tenant = Tenant.objects.get(slug=slug)
        assert Alert.objects.for_tenant(tenant).count() == counts[slug]  # idempotent
