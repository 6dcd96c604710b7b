"""A real cluster dies between a chunk's commit and its subscriber's turn: nothing lost or doubled.

The first cluster runs with a test subscriber that writes its row and then hangs with its
transaction open (``SIGAP_TEST_OUTBOX_HANG``); it is SIGKILLed there, so chunks are committed
with their events while no subscriber has applied anything. The sweeper then queues every
undelivered event again (on top of the dead cluster's own task receipts, which the broker hands
out again after ``Q_RETRY``) and a second cluster delivers: every event is applied exactly once.
"""

from __future__ import annotations

import signal
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django_q.models import OrmQ

from monitoring import services
from monitoring.models import IngestChunk, Mention, PipelineEvent
from tenants import outbox
from tests.monitoring.test_pipeline import item
from tests.monitoring.test_worker_crash import kill_tree, wait_for
from tests.outbox_subscriber.models import Application
from tests.test_ops import start_cluster

ITEMS = 600
CHUNK = 100


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_killing_the_worker_before_the_subscriber_commits_loses_and_doubles_nothing(
    tenant: Any, tmp_path: Path
) -> None:
    objects = [item(n, f"Kopi Senja cabang {n} antre lama") for n in range(ITEMS)]
    batch = services.accept_items(tenant=tenant, objects=objects, chunk_size=CHUNK)
    chunks = IngestChunk.objects.filter(batch=batch)
    hang = tmp_path / "subscriber-hangs"

    # Q_RETRY: how long the dead cluster's task receipts wait before the broker hands them out
    # again; the test waits for them below (an empty queue). Q_TIMEOUT (below it) is three times
    # what the second cluster, and tests/monitoring/test_worker_crash.py, give a chunk's task.
    first = start_cluster(
        Q_WORKERS="2", Q_TIMEOUT="15", Q_RETRY="16", SIGAP_TEST_OUTBOX_HANG=str(hang)
    )
    try:
        wait_for(hang.exists, 90, "the subscriber to be called")
    finally:
        kill_tree(first)  # the chunk committed, its subscriber's transaction still open
    events = PipelineEvent.objects.for_tenant(tenant)
    assert events.exists() and not events.filter(delivered_at__isnull=False).exists()
    assert not Application.objects.exists(), "the killed subscriber's work was committed"

    second_env = {"Q_WORKERS": "2", "Q_TIMEOUT": "5", "Q_RETRY": "6"}
    assert outbox.sweep(grace=timedelta(0)) == events.count()  # queued on top of the receipts
    second = start_cluster(**second_env)
    try:
        wait_for(lambda: not chunks.filter(done_at__isnull=True).exists(), 120, "every chunk")
        wait_for(lambda: not events.filter(delivered_at__isnull=True).exists(), 60, "delivery")
        # Let the dead cluster's task receipts come back and be consumed too.
        wait_for(lambda: not OrmQ.objects.exists(), 60, "an empty queue")
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(timeout=30)

    assert events.count() == ITEMS // CHUNK
    rows = list(Application.objects.filter(subscriber="test_recorder"))
    assert sorted(row.event_id for row in rows) == sorted(events.values_list("pk", flat=True))
    assert {row.applications for row in rows} == {1}, "an event was applied twice"
    seen = [mention for row in rows for mention in row.inserted_ids]
    stored = Mention.objects.for_tenant(tenant).values_list("pk", flat=True)
    assert sorted(seen) == sorted(stored) and len(seen) == ITEMS
