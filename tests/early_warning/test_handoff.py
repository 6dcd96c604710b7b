"""The chunk's inserted mentions handed to early warning in the process that stored them
(``pipeline.take_inserted``) are exactly what ``live.load_mentions`` reads back from the
database, so a delivery right after the commit judges the same mentions without the read."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from monitoring import pipeline
from monitoring.demodata import generate
from monitoring.early_warning import live
from monitoring.ingest import validate_items
from monitoring.models import IngestBatch, IngestChunk, Mention, PipelineEvent
from tenants import outbox

pytestmark = pytest.mark.django_db


def store_chunk(tenant: Any, items: list[dict[str, Any]], capture: Any) -> PipelineEvent:
    """Store one chunk as a worker does, its commit callbacks run (the delivery at once left
    out), and return its outbox event."""
    valid = validate_items(items).items
    batch = IngestBatch.objects.create(tenant=tenant, item_count=len(valid), chunk_count=1)
    chunk = IngestChunk.objects.create(tenant=tenant, batch=batch, index=0, items=valid)
    with capture(execute=True):
        pipeline.process_chunk(tenant.pk, chunk.pk)
    return PipelineEvent.objects.for_tenant(tenant).get(batch=batch)


def odd_items(now: Any) -> list[dict[str, Any]]:
    """Items whose values are easy to get wrong: links (``www.``, upper case), quotes and
    backslashes, emoji, crisis triggers, no engagement, a backfill."""
    base = {"lang": "id", "author": {"handle": "odd", "followers": 12}}
    texts = [
        'Kopi Senja "racun"? \\ lihat https://WWW.Contoh-Berita.co.id/a dan http://t.co/x 😡😡',
        "Kopi Senja penipu goblok!!! bakar aja tokonya, #BoikotKopiSenja @kopisenja",
        "Keracunan massal setelah minum Kopi Senja, 12 orang masuk rumah sakit",
        "biasa aja sih",
    ]
    out = [
        {
            **base,
            "platform": "x",
            "external_id": f"odd{n}",
            "text": text,
            "published_at": (now - timedelta(minutes=n)).isoformat(),
            "engagement": {"likes": n, "shares": 2 * n, "replies": 3},
        }
        for n, text in enumerate(texts)
    ]
    out.append(
        {
            **base,
            "platform": "facebook",
            "external_id": "old",
            "text": "Kopi Senja bikin sakit perut, jangan beli di www.kopi-senja.id",
            "published_at": (now - timedelta(days=2)).isoformat(),
        }
    )
    return out


def test_the_handed_mentions_are_the_stored_ones(
    tenant: Any, monkeypatch: Any, django_capture_on_commit_callbacks: Any
) -> None:
    monkeypatch.setattr(outbox, "deliver_at_once", lambda *args: None)
    now = timezone.now()
    items = generate(300, seed=11, run_id="handoff", days=0.5) + odd_items(now)
    event = store_chunk(tenant, items, django_capture_on_commit_callbacks)
    assert len(event.inserted_ids) == len(items)
    handed = pipeline.take_inserted(event)
    assert handed is not None and pipeline.take_inserted(event) is None  # taken once
    # the raw values, field by field, as the database returns them
    read = (
        Mention.objects.for_tenant(tenant)
        .filter(pk__in=event.inserted_ids)
        .annotate(**live._SCORE_PARTS)
        .values_list(*live._FIELDS)
    )
    by_id = {row[0]: row for row in read}
    assert len(by_id) == len(handed)
    for mention in handed:
        assert tuple(mention) == by_id[mention.id], mention.external_id
        assert [type(v) for v in mention] == [type(v) for v in by_id[mention.id]]
    assert any(m.domain_texts for m in handed) and any(m.triggers for m in handed)
    assert any(m.negative > 0 for m in handed) and any(m.provocation > 0 for m in handed)
    # and as the rules see them
    assert live.live_mentions(handed) == live.load_mentions(tenant.pk, event.inserted_ids)


def test_a_delivery_reads_what_it_was_not_handed(
    tenant: Any, monkeypatch: Any, django_capture_on_commit_callbacks: Any
) -> None:
    monkeypatch.setattr(outbox, "deliver_at_once", lambda *args: None)
    now = timezone.now()
    first = store_chunk(tenant, odd_items(now), django_capture_on_commit_callbacks)
    # the next chunk re-sends one of them with more engagement: an update of the batch
    resent = {**odd_items(now)[1], "engagement": {"likes": 500, "shares": 0}}
    items = [resent, *generate(20, seed=3, run_id="next", days=0.1)]
    second = store_chunk(tenant, items, django_capture_on_commit_callbacks)
    assert second.updated_ids == [Mention.objects.for_tenant(tenant).get(external_id="odd1").pk]
    events = [first, second]
    handed = live._handed(events)
    assert set(handed) == {first.pk, second.pk}
    mentions = live.chunk_mentions(tenant.pk, events, handed)
    assert mentions == live.load_mentions(tenant.pk, [*first.inserted_ids, *second.inserted_ids])
    odd1 = next(m for m in mentions if m.event.external_id == "odd1")
    assert odd1.event.engagement == 500  # read now, not as the first chunk left it
    assert live._handed(events) == {}  # used once
    # nothing handed (another worker, a restart): everything is read
    assert live.chunk_mentions(tenant.pk, events) == mentions


def test_an_old_or_foreign_entry_is_not_used(
    tenant: Any, monkeypatch: Any, django_capture_on_commit_callbacks: Any
) -> None:
    monkeypatch.setattr(outbox, "deliver_at_once", lambda *args: None)
    event = store_chunk(tenant, odd_items(timezone.now()), django_capture_on_commit_callbacks)
    key = (event.tenant_id, event.pk)
    at, stored = pipeline._handoff[key]
    pipeline._handoff[key] = (at - pipeline.HANDOFF_TTL_S - 1, stored)
    assert pipeline.take_inserted(event) is None
    pipeline._handoff[key] = (at, stored[1:])  # not the event's mentions
    assert pipeline.take_inserted(event) is None
    for n in range(pipeline.HANDOFF_KEEP + 3):
        pipeline._keep(PipelineEvent(pk=-1 - n, tenant_id=event.tenant_id), [])
    assert len(pipeline._handoff) <= pipeline.HANDOFF_KEEP


def test_handed_text_arrays_are_what_postgresql_reads_from_their_literals() -> None:
    """The hand-off gives the triggers as the list their stored literal was written from:
    PostgreSQL reads that literal back as the same list, odd texts included."""
    from monitoring import sqlarrays

    odd = ['a "quoted" one', "back\\slash\\", "{braces},commas", "NULL", "", "é 😡", " "]
    for values in ([], odd, odd[:1], ["provocation", "scam"]):
        literal = sqlarrays.texts(values)
        with connection.cursor() as cursor:
            cursor.execute("SELECT %s::text[]", [literal])
            assert cursor.fetchone()[0] == values
