"""Writes through the ORM name the row's tenant: ``save()``, ``refresh_from_db()`` and
``delete()`` (with its cascades) on tenant-owned rows and on tenants."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext

from monitoring.models import IngestBatch, IngestChunk, Mention, Source, WebhookDelivery
from tests import sqlpin
from tests.monitoring.factories import SourceFactory


def statements(queries: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in queries.captured_queries]


def test_save_updates_and_refresh_reads_by_tenant_and_id(tenant: Any) -> None:
    source = SourceFactory(tenant=tenant)
    source.name = "Renamed"
    with CaptureQueriesContext(connection) as queries:
        source.save(update_fields=["name"])
        source.refresh_from_db()
    # (the source's poll schedule row is kept in step too: not a tenant table)
    update, select = [sql for sql in statements(queries) if '"monitoring_source"' in sql]
    assert update.startswith('UPDATE "monitoring_source"')
    assert (
        '"monitoring_source"."tenant_id" = ' in update and '"monitoring_source"."id" = ' in update
    )
    assert '"monitoring_source"."tenant_id" = ' in select
    assert not any(sqlpin.unpinned_tables(sql) for sql in statements(queries))


def test_a_row_moved_to_another_tenant_in_memory_updates_nothing(
    tenant: Any, other_tenant: Any
) -> None:
    source = SourceFactory(tenant=tenant, name="Mine")
    source.tenant = other_tenant
    source.name = "Hijacked"
    with pytest.raises(DatabaseError, match="did not affect any rows"), transaction.atomic():
        source.save(update_fields=["name", "tenant"])
    assert Source.objects.get(pk=source.pk).name == "Mine"


def test_delete_pins_every_cascade_to_the_tenant(tenant: Any) -> None:
    source = SourceFactory(tenant=tenant)
    batch = IngestBatch.objects.create(tenant=tenant, source=source)
    IngestChunk.objects.create(tenant=tenant, batch=batch, index=0)
    WebhookDelivery.objects.create(tenant=tenant, source=source, delivery_id="d1", batch=batch)
    Mention.objects.create(
        tenant=tenant,
        platform="x",
        external_id="1",
        text="t",
        published_at="2026-01-01T00:00Z",
        batch=batch,
    )
    with CaptureQueriesContext(connection) as queries:
        source.delete()  # deliveries go, batches keep their rows with source null
        IngestBatch.objects.for_tenant(tenant).delete()  # chunks go, mentions keep theirs
    sent = statements(queries)
    assert any(sql.startswith('DELETE FROM "monitoring_ingestchunk"') for sql in sent)
    assert any(sql.startswith('UPDATE "monitoring_mention"') for sql in sent)
    assert [sql for sql in sent if sqlpin.unpinned_tables(sql)] == []
    assert Mention.objects.for_tenant(tenant).get().batch_id is None
    assert not WebhookDelivery.objects.exists() and not IngestChunk.objects.exists()


def test_deleting_a_tenant_names_it_in_every_cascade(tenant: Any, other_tenant: Any) -> None:
    SourceFactory(tenant=tenant)
    kept = SourceFactory(tenant=other_tenant)
    with CaptureQueriesContext(connection) as queries:
        tenant.delete()
    assert [sql for sql in statements(queries) if sqlpin.unpinned_tables(sql)] == []
    assert list(Source.objects.all()) == [kept]
