"""``@handle`` and ``handle`` are one author: stored without '@' (and in lower case on platforms
whose handles ignore case), found by either form, counted once in top lists, and rows stored
before the rule are rewritten by migration 0009."""

from __future__ import annotations

import importlib
from typing import Any

import pytest
from django.apps import apps

from monitoring import pipeline, services
from monitoring.choices import CASE_INSENSITIVE_HANDLES, Platform
from monitoring.ingest import normalise_handle, validate_item
from monitoring.models import IngestChunk, Mention
from tests.monitoring.factories import NOW, MentionFactory


@pytest.mark.parametrize(
    ("platform", "given", "stored"),
    [
        ("x", "@KopiSenja", "kopisenja"),
        ("x", "  @@KopiSenja ", "kopisenja"),
        ("instagram", "@Kopi.Senja", "kopi.senja"),
        ("tiktok", "@KOPI", "kopi"),
        ("youtube", "@KopiSenjaTV", "kopisenjatv"),
        ("facebook", "KopiSenjaID", "kopisenjaid"),
        ("mastodon", "@Budi@Mastodon.Social", "budi@mastodon.social"),
        ("news", "@Redaksi Kompas", "Redaksi Kompas"),
        ("rss", "Penulis@Media.example", "Penulis@Media.example"),
        ("forum", "@KaskusUser", "KaskusUser"),
        ("other", " Sari ", "Sari"),
        ("x", "", ""),
    ],
)
def test_intake_stores_the_handle_normalised(platform: str, given: str, stored: str) -> None:
    item = validate_item(
        {
            "platform": platform,
            "external_id": "1",
            "text": "Kopi",
            "published_at": NOW.isoformat(),
            "author": {"handle": given},
        }
    )
    assert item["author"]["handle"] == stored
    assert normalise_handle(platform, stored) == stored  # idempotent


def test_the_case_rule_is_decided_for_every_platform() -> None:
    assert set(Platform.values) > CASE_INSENSITIVE_HANDLES
    assert set(Platform.values) - CASE_INSENSITIVE_HANDLES == {"rss", "news", "forum", "other"}


def test_the_pipeline_stores_one_author_and_filters_agree(
    api: Any, gql: Any, tenant: Any, members: dict[str, Any]
) -> None:
    sent = ["@KopiLover", "kopilover", "KOPILOVER", " @kopilover"]
    services.accept_items(
        tenant=tenant,
        objects=[
            {
                "platform": "x",
                "external_id": str(n),
                "text": "Kopi Senja mantap",
                "published_at": NOW.isoformat(),
                "author": {"handle": handle, "followers": 10 + n},
            }
            for n, handle in enumerate(sent)
        ]
        + [
            {
                "platform": "news",
                "external_id": "n1",
                "text": "Berita Kopi Senja",
                "published_at": NOW.isoformat(),
                "author": {"handle": "@Redaksi"},
            }
        ],
    )
    for chunk in IngestChunk.objects.filter(done_at__isnull=True):
        pipeline.process_chunk(chunk.tenant_id, chunk.pk)
    stored = sorted(Mention.objects.for_tenant(tenant).values_list("author_handle", flat=True))
    assert stored == ["Redaksi", "kopilover", "kopilover", "kopilover", "kopilover"]
    client = api(members["client"])
    path = f"/api/v1/tenants/{tenant.slug}/mentions/"
    for given in ("@KopiLover", "kopilover", "KopiLover", " @kopilover "):
        assert len(client.get(path, {"author": given}).json()["results"]) == 4, given
        body = gql(
            "query($slug: String!, $a: String) { mentions_count(slug: $slug, "
            "filters: {author: $a}) }",
            user=members["client"],
            variables={"slug": tenant.slug, "a": given},
        )
        assert body["data"]["mentions_count"] == 4, given
    assert len(client.get(path, {"author": "@Redaksi"}).json()["results"]) == 1
    top = client.get(
        f"/api/v1/tenants/{tenant.slug}/metrics/top-authors/",
        {"since": "2026-11-19T00:00:00Z", "until": "2026-11-21T00:00:00Z"},
    ).json()["results"]
    assert [(a["platform"], a["author_handle"], a["mentions"]) for a in top] == [
        ("x", "kopilover", 4),
        ("news", "Redaksi", 1),
    ]


def test_the_admin_search_finds_a_handle_written_with_at(tenant: Any) -> None:
    from django.test import Client

    from tests.factories import UserFactory

    MentionFactory(tenant=tenant, author_handle="kopilover", text="dicari")
    MentionFactory(tenant=tenant, author_handle="lainnya", text="bukan")
    staff = UserFactory(agency=tenant.agency, is_agency_admin=True, is_staff=True)
    client = Client()
    client.force_login(staff)
    for term in ("@KopiLover", "kopilover"):
        page = client.get("/admin/monitoring/mention/", {"q": term}).content
        assert b"dicari" in page and b"bukan" not in page, term


def test_the_migration_rewrites_handles_stored_before_the_rule(
    tenant: Any, monkeypatch: Any
) -> None:
    rows = {
        ("x", "@KopiSenja"): "kopisenja",
        ("instagram", " Kopi.Senja"): "kopi.senja",
        ("tiktok", "ÇAĞLA"): "çağla",
        ("mastodon", "@Budi@Mastodon.Social"): "budi@mastodon.social",
        ("news", "@Redaksi Kompas "): "Redaksi Kompas",
        ("forum", "KaskusUser"): "KaskusUser",
        ("x", "already"): "already",
    }
    made = {
        key: MentionFactory(tenant=tenant, platform=key[0], author_handle=key[1]) for key in rows
    }
    migration = importlib.import_module("monitoring.migrations.0009_normalise_author_handles")
    monkeypatch.setattr(migration, "BATCH", 2)  # several batches
    migration.forwards(apps, None)
    for key, mention in made.items():
        mention.refresh_from_db()
        assert mention.author_handle == rows[key], key
        assert migration.normalise(*key) == normalise_handle(*key), key  # the copy agrees
