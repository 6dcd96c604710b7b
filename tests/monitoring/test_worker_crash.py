"""A real django-q2 cluster is killed mid-batch; a new one finishes with nothing lost or doubled.

This goes through real processes and the real PostgreSQL broker: the killed worker's open
transaction is rolled back by PostgreSQL, its task's receipt stays in the ORM queue and comes
back after ``retry`` seconds, and the chunk guard makes the redelivery store nothing twice.
"""

from __future__ import annotations

import contextlib
import signal
import time
from typing import Any

import psutil
import pytest
from django.db.models import Sum

from monitoring import services
from monitoring.models import IngestBatch, IngestChunk, Mention, MetricBucket
from tests.monitoring.test_pipeline import item
from tests.test_ops import start_cluster

ITEMS = 4000
CHUNK = 200


def kill_tree(process: Any) -> None:
    """SIGKILL a process and all its children, as a crash would."""
    parent = psutil.Process(process.pid)
    for proc in [*parent.children(recursive=True), parent]:
        with contextlib.suppress(psutil.NoSuchProcess):
            proc.send_signal(signal.SIGKILL)
    process.wait()


def wait_for(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_killing_the_cluster_mid_batch_loses_and_doubles_nothing(tenant: Any) -> None:
    objects = [item(n, f"Kopi Senja nomor {n} enak banget #kopisenja") for n in range(ITEMS)]
    objects += objects[:300]  # a retried request resends some items
    batch = services.accept_items(tenant=tenant, objects=objects, chunk_size=CHUNK)
    chunks = IngestChunk.objects.filter(batch=batch)
    env = {"Q_WORKERS": "2", "Q_TIMEOUT": "5", "Q_RETRY": "6"}

    first = start_cluster(**env)
    try:
        wait_for(lambda: chunks.filter(done_at__isnull=False).exists(), 60, "a first chunk")
    finally:
        kill_tree(first)  # in the middle: some chunks done, others in flight or queued
    done_at_kill = chunks.filter(done_at__isnull=False).count()
    assert 0 < done_at_kill < chunks.count(), "the kill did not land mid-batch"

    second = start_cluster(**env)
    try:
        wait_for(lambda: not chunks.filter(done_at__isnull=True).exists(), 120, "every chunk")
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(timeout=30)

    mentions = Mention.objects.for_tenant(tenant)
    assert mentions.count() == ITEMS
    assert mentions.values("external_id").distinct().count() == ITEMS
    total = MetricBucket.objects.for_tenant(tenant).filter(query_id=0).aggregate(n=Sum("mentions"))
    assert total["n"] == ITEMS  # rollups counted every mention exactly once
    batch = IngestBatch.objects.get(pk=batch.pk)
    assert batch.status == "done"
    assert batch.inserted_count == ITEMS and batch.duplicate_count == 300


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_database_dropping_every_connection_mid_batch_loses_and_doubles_nothing(
    tenant: Any,
) -> None:
    """What a database restart does to the workers: every connection dies at once."""
    from django.db import connection

    objects = [item(n, f"Layanan Kopi Senja lambat {n}") for n in range(ITEMS)]
    batch = services.accept_items(tenant=tenant, objects=objects, chunk_size=CHUNK)
    chunks = IngestChunk.objects.filter(batch=batch)
    cluster = start_cluster(Q_WORKERS="2", Q_TIMEOUT="5", Q_RETRY="6")
    try:
        wait_for(lambda: chunks.filter(done_at__isnull=False).exists(), 60, "a first chunk")
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            assert cursor.fetchone()[0] > 0
        assert chunks.filter(done_at__isnull=True).exists(), "the batch finished before the drop"
        wait_for(lambda: not chunks.filter(done_at__isnull=True).exists(), 120, "every chunk")
    finally:
        cluster.send_signal(signal.SIGTERM)
        cluster.wait(timeout=30)
    assert Mention.objects.for_tenant(tenant).count() == ITEMS
    total = MetricBucket.objects.for_tenant(tenant).filter(query_id=0).aggregate(n=Sum("mentions"))
    assert total["n"] == ITEMS
    assert IngestBatch.objects.get(pk=batch.pk).inserted_count == ITEMS
