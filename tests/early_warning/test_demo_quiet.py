"""The full demo (``seed_demo`` with its default mentions) on fresh tenants raises a handful of
alerts of different kinds, each once per episode, and opens at most two incidents: a demo that
pages dozens of times would teach alert fatigue, not early warning."""

from __future__ import annotations

from collections import Counter
from io import StringIO
from typing import Any

import pytest
import time_machine
from django.core.management import call_command

from incidents.models import Incident
from monitoring.models import Alert, HoaxCluster
from tenants.demo import TENANTS
from tenants.models import Tenant
from tests.early_warning.test_demo_alerts import mid_bucket
from tests.monitoring.test_outbox import run_queued


@pytest.mark.django_db
def test_the_full_demo_raises_a_handful_of_alerts_and_at_most_two_incidents(db: Any) -> None:
    with time_machine.travel(mid_bucket(), tick=False):
        call_command("seed_demo", stdout=StringIO())
        run_queued()
    for slug, *_ in TENANTS:
        tenant = Tenant.objects.get(slug=slug)
        kinds = Counter(Alert.objects.for_tenant(tenant).values_list("kind", flat=True))
        clusters = HoaxCluster.objects.for_tenant(tenant)
        print(slug, dict(kinds), clusters.count(), Incident.objects.for_tenant(tenant).count())
        for c in clusters.filter(author_count__gte=3):
            print("   ", c.author_count, c.member_count, c.text[:80])
        assert {"spike", "hoax-spread"} <= set(kinds), (slug, kinds)
        assert kinds["hoax-spread"] == 1, (slug, kinds)  # the story's campaign, once
        assert all(n == 1 for n in kinds.values()), (slug, kinds)  # each kind once
        assert sum(kinds.values()) <= 6, (slug, kinds)
        assert Incident.objects.for_tenant(tenant).count() <= 2, slug
