"""A real cluster is SIGKILLed between the outbox and the alert: the alert is neither lost nor
doubled.

The first cluster runs with ``SIGAP_TEST_ALERTS_HANG``: early warning's subscriber evaluates a
chunk, writes its alert, touches the file and hangs with its transaction open; it is killed
there. Nothing of the alert was committed. The outbox sweeper queues the undelivered events
again and a second cluster delivers them: exactly one alert, fired once, for the rule.
"""

from __future__ import annotations

import signal
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from django_q.models import OrmQ

from monitoring import services as monitoring_services
from monitoring.early_warning import services
from monitoring.models import Alert, AlertEvent, AlertRule, IngestChunk, PipelineEvent
from tenants import outbox
from tests.early_warning.test_live import post
from tests.monitoring.test_worker_crash import kill_tree, wait_for
from tests.test_ops import start_cluster

ITEMS = 300
CHUNK = 50


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_killing_the_worker_between_outbox_and_alert_loses_and_doubles_nothing(
    tenant: Any, tmp_path: Path
) -> None:
    rule = services.create_rule(
        tenant=tenant,
        name="Kebakaran",
        kind="trigger-keywords",
        sensitivity="high",
        params={"keywords": ["kebakaran"]},
    )
    AlertRule.objects.for_tenant(tenant).exclude(pk=rule.pk).update(enabled=False)
    now = timezone.now()
    objects = [post(n, f"Ada kebakaran di Kopi Senja cabang {n}", now) for n in range(ITEMS)]
    batch = monitoring_services.accept_items(tenant=tenant, objects=objects, chunk_size=CHUNK)
    chunks = IngestChunk.objects.filter(batch=batch)
    hang = tmp_path / "alerts-hang"

    # The dead cluster's task receipts come back after Q_RETRY (the empty queue waited for
    # below); Q_TIMEOUT is three times what the second cluster gives a task.
    first = start_cluster(
        Q_WORKERS="2", Q_TIMEOUT="15", Q_RETRY="16", SIGAP_TEST_ALERTS_HANG=str(hang)
    )
    try:
        wait_for(hang.exists, 90, "the alert subscriber to be called")
    finally:
        kill_tree(first)  # the alert written, its transaction still open
    events = PipelineEvent.objects.for_tenant(tenant)
    assert events.exists()
    assert not Alert.objects.for_tenant(tenant).exists(), "the killed worker's alert committed"

    assert outbox.sweep(grace=timedelta(0)) >= 1
    second = start_cluster(Q_WORKERS="2", Q_TIMEOUT="5", Q_RETRY="6")
    try:
        wait_for(lambda: not chunks.filter(done_at__isnull=True).exists(), 120, "every chunk")
        wait_for(lambda: not events.filter(delivered_at__isnull=True).exists(), 60, "delivery")
        wait_for(lambda: not OrmQ.objects.exists(), 60, "an empty queue")
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(timeout=30)

    assert events.count() == ITEMS // CHUNK
    alert = Alert.objects.for_tenant(tenant).get()  # not lost, not doubled
    assert alert.rule_id == rule.pk
    fired = AlertEvent.objects.for_tenant(tenant).filter(alert=alert, kind="fired")
    assert fired.count() == 1
