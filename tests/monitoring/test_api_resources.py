"""Queries, sources, terms, lexicon, low-credibility domains and batches over REST."""

from __future__ import annotations

from typing import Any

import pytest

from monitoring.models import MonitoredQuery, Source
from tests.monitoring.factories import (
    IngestBatchFactory,
    LexiconEntryFactory,
    MonitoredQueryFactory,
    SourceFactory,
    TrackedTermFactory,
)
from tests.openapi_spec import openapi_spec


def url(tenant: Any, resource: str, pk: Any = None, extra: str = "") -> str:
    base = f"/api/v1/tenants/{tenant.slug}/{resource}/"
    return f"{base}{pk}/{extra}" if pk else base


def first_error(response: Any) -> dict[str, Any]:
    return response.json()["errors"][0]


# --- queries ---------------------------------------------------------------------------------


def test_queries_filter_by_activity_and_name(
    api: Any, tenant: Any, members: dict[str, Any]
) -> None:
    # CRUD, refusals and isolation: TestMonitoredQueries in test_resources.py.
    MonitoredQueryFactory(tenant=tenant, name="Boikot", is_active=False)
    MonitoredQueryFactory(tenant=tenant, name="Pujian")
    client = api(members["client"])
    active = client.get(url(tenant, "queries"), {"is_active": "true"}).json()["results"]
    assert [q["name"] for q in active] == ["Pujian"]
    named = client.get(url(tenant, "queries"), {"name": "boik"}).json()["results"]
    assert [q["name"] for q in named] == ["Boikot"]


@pytest.mark.parametrize(
    ("text", "position"),
    [("kopi AND (basi", 9), ("kopi AND", 5), ('"tarik produk', 0)],
)
def test_malformed_query_is_refused_with_position(
    api: Any, tenant: Any, members: dict[str, Any], text: str, position: int
) -> None:
    response = api(members["admin"]).post(
        url(tenant, "queries"), {"name": "Rusak", "query": text}, format="json"
    )
    assert response.status_code == 400
    error = first_error(response)
    assert error["attr"] == "query" and error["code"] == "invalid_query"
    assert error["detail"].endswith(f"(position {position})"), error["detail"]
    assert error["detail"].count("position") == 1, error["detail"]  # named once
    assert not MonitoredQuery.objects.exists()


def test_query_validation_names_the_field(api: Any, tenant: Any, members: dict[str, Any]) -> None:
    client = api(members["admin"])
    MonitoredQueryFactory(tenant=tenant, name="Boikot")
    duplicate = client.post(url(tenant, "queries"), {"name": "Boikot", "query": "x"}, format="json")
    assert duplicate.status_code == 400 and first_error(duplicate)["attr"] == "name"
    platform = client.post(
        url(tenant, "queries"), {"name": "P", "query": "x", "platforms": ["myspace"]}, format="json"
    )
    assert platform.status_code == 400 and first_error(platform)["attr"].startswith("platforms")
    unknown = client.post(
        url(tenant, "queries"), {"name": "U", "query": "x", "tenant": 1}, format="json"
    )
    assert unknown.status_code == 400 and first_error(unknown)["attr"] == "tenant"


def test_same_query_name_in_another_tenant_is_fine(
    api: Any, tenant: Any, other_tenant: Any, members: dict[str, Any]
) -> None:
    MonitoredQueryFactory(tenant=other_tenant, name="Boikot")
    response = api(members["admin"]).post(
        url(tenant, "queries"), {"name": "Boikot", "query": "boikot"}, format="json"
    )
    assert response.status_code == 201


# --- sources ---------------------------------------------------------------------------------


def test_source_secret_is_shown_at_creation_and_rotation_only(
    api: Any, tenant: Any, members: dict[str, Any]
) -> None:
    client = api(members["analyst"])
    created = client.post(
        url(tenant, "sources"), {"name": "Mitra", "kind": "webhook"}, format="json"
    )
    assert created.status_code == 201, created.content
    secret = created.json()["webhook_secret"]
    source = Source.objects.get(pk=created.json()["id"])
    assert secret == source.webhook_secret and len(secret) >= 40
    detail = client.get(url(tenant, "sources", source.pk)).json()
    assert "webhook_secret" not in detail and "cursor" not in detail
    assert "webhook_secret" not in client.get(url(tenant, "sources")).json()["results"][0]
    rotated = client.post(url(tenant, "sources", source.pk, "rotate-secret/"))
    assert rotated.status_code == 200
    source.refresh_from_db()
    assert rotated.json() == {"id": source.pk, "webhook_secret": source.webhook_secret}
    assert source.webhook_secret != secret
    refused = api(members["responder"]).post(url(tenant, "sources", source.pk, "rotate-secret/"))
    assert refused.status_code == 403


def test_source_health_fields_are_read_only(api: Any, tenant: Any, members: dict[str, Any]) -> None:
    source = SourceFactory(tenant=tenant, consecutive_failures=3, last_error="timeout")
    client = api(members["admin"])
    body = client.get(url(tenant, "sources", source.pk)).json()
    assert body["consecutive_failures"] == 3 and body["last_error"] == "timeout"
    assert body["config"] == {"url": "https://news.example/feed.xml"}
    changed = client.patch(
        url(tenant, "sources", source.pk),
        {"status": "paused", "consecutive_failures": 0, "poll_interval_s": 600},
        format="json",
    )
    assert changed.status_code == 200
    source.refresh_from_db()
    assert (source.status, source.consecutive_failures, source.poll_interval_s) == (
        "paused",
        3,
        600,
    )


@pytest.mark.parametrize(
    ("kind", "config"),
    [
        ("rss", {}),
        ("rss", {"url": "ftp://feeds.example/x"}),
        ("rss", {"url": "not a url"}),
        ("rss", {"url": "https://a.example/feed", "extra": 1}),
        ("mastodon", {"hashtag": "kopi"}),
        ("mastodon", {"base_url": "https://mastodon.example"}),
        ("mastodon", {"base_url": "https://mastodon.example", "hashtag": "kopi", "query": "kopi"}),
        ("mastodon", {"base_url": "https://mastodon.example", "hashtag": "two words"}),
        ("webhook", ["not", "an", "object"]),
    ],
)
def test_source_config_is_checked_per_kind(
    api: Any, tenant: Any, members: dict[str, Any], kind: str, config: Any
) -> None:
    response = api(members["admin"]).post(
        url(tenant, "sources"), {"name": "S", "kind": kind, "config": config}, format="json"
    )
    assert response.status_code == 400, response.content
    assert first_error(response)["attr"] == "config"


def test_valid_source_configs(api: Any, tenant: Any, members: dict[str, Any]) -> None:
    client = api(members["admin"])
    rss = client.post(
        url(tenant, "sources"),
        {"name": "Berita", "kind": "rss", "config": {"url": "https://berita.example/rss"}},
        format="json",
    )
    assert rss.status_code == 201, rss.content
    masto = client.post(
        url(tenant, "sources"),
        {
            "name": "Masto",
            "kind": "mastodon",
            "config": {"base_url": "https://mastodon.example", "hashtag": "#KopiSenja"},
            "poll_interval_s": 120,
        },
        format="json",
    )
    assert masto.status_code == 201, masto.content
    assert masto.json()["config"] == {
        "base_url": "https://mastodon.example",
        "hashtag": "KopiSenja",
    }
    kind = client.patch(url(tenant, "sources", rss.json()["id"]), {"kind": "api"}, format="json")
    assert kind.status_code == 400 and first_error(kind)["attr"] == "kind"
    short = client.patch(
        url(tenant, "sources", rss.json()["id"]), {"poll_interval_s": 5}, format="json"
    )
    assert short.status_code == 400 and first_error(short)["attr"] == "poll_interval_s"
    clash = client.post(url(tenant, "sources"), {"name": "Berita", "kind": "api"}, format="json")
    assert clash.status_code == 400 and first_error(clash)["attr"] == "name"
    filtered = client.get(url(tenant, "sources"), {"kind": "mastodon"}).json()
    assert [s["name"] for s in filtered["results"]] == ["Masto"]


# --- terms, lexicon, domains -----------------------------------------------------------------


def test_terms_crud_and_uniqueness(api: Any, tenant: Any, members: dict[str, Any]) -> None:
    client = api(members["analyst"])
    created = client.post(
        url(tenant, "terms"), {"text": "  Kopi   Senja ", "kind": "brand"}, format="json"
    )
    assert created.status_code == 201 and created.json()["text"] == "Kopi Senja"
    again = client.post(url(tenant, "terms"), {"text": "Kopi Senja"}, format="json")
    assert again.status_code == 400 and first_error(again)["attr"] == "text"
    kind = client.post(url(tenant, "terms"), {"text": "X", "kind": "villain"}, format="json")
    assert kind.status_code == 400 and first_error(kind)["attr"] == "kind"
    TrackedTermFactory(tenant=tenant, text="Senja Latte", kind="product")
    products = client.get(url(tenant, "terms"), {"kind": "product"}).json()["results"]
    assert [t["text"] for t in products] == ["Senja Latte"]
    pk = created.json()["id"]
    assert (
        client.patch(url(tenant, "terms", pk), {"kind": "competitor"}, format="json").json()["kind"]
        == "competitor"
    )
    assert client.delete(url(tenant, "terms", pk)).status_code == 204


def test_lexicon_labels_are_trigger_labels(api: Any, tenant: Any, members: dict[str, Any]) -> None:
    client = api(members["admin"])
    good = client.post(
        url(tenant, "lexicon"),
        {"label": "hoax", "phrase": "Vaksin Chip", "weight": 0.8},
        format="json",
    )
    assert good.status_code == 201, good.content
    assert good.json()["phrase"] == "vaksin chip"
    bad = client.post(url(tenant, "lexicon"), {"label": "gossip", "phrase": "x"}, format="json")
    assert bad.status_code == 400 and first_error(bad)["attr"] == "label"
    heavy = client.post(
        url(tenant, "lexicon"), {"label": "hoax", "phrase": "y", "weight": 7}, format="json"
    )
    assert heavy.status_code == 400 and first_error(heavy)["attr"] == "weight"
    dup = client.post(
        url(tenant, "lexicon"), {"label": "hoax", "phrase": "vaksin chip"}, format="json"
    )
    assert dup.status_code == 400 and first_error(dup)["attr"] == "phrase"
    LexiconEntryFactory(tenant=tenant, label="cyber_attack", phrase="diretas")
    listed = client.get(url(tenant, "lexicon"), {"label": "cyber_attack"}).json()
    assert [e["phrase"] for e in listed["results"]] == ["diretas"]


def test_low_credibility_domains(api: Any, tenant: Any, members: dict[str, Any]) -> None:
    client = api(members["analyst"])
    good = client.post(
        url(tenant, "low-credibility-domains"), {"domain": " .Hoaks.Example "}, format="json"
    )
    assert good.status_code == 201 and good.json()["domain"] == "hoaks.example"
    for bad in ("https://hoaks.example/x", "not a domain", "localhost"):
        response = client.post(
            url(tenant, "low-credibility-domains"), {"domain": bad}, format="json"
        )
        assert response.status_code == 400 and first_error(response)["attr"] == "domain", bad
    dup = client.post(
        url(tenant, "low-credibility-domains"), {"domain": "hoaks.example"}, format="json"
    )
    assert dup.status_code == 400


# --- batches ---------------------------------------------------------------------------------


def test_batches_are_read_only_with_counts_and_rejections(
    api: Any, tenant: Any, other_tenant: Any, members: dict[str, Any]
) -> None:
    batch = IngestBatchFactory(
        tenant=tenant,
        status="done",
        rejected=[{"index": 2, "field": "text", "message": "This field is required."}],
        inserted_count=2,
    )
    IngestBatchFactory(tenant=tenant, status="failed", error="boom")
    theirs = IngestBatchFactory(tenant=other_tenant)
    client = api(members["client"])
    listed = client.get(url(tenant, "batches")).json()
    assert listed["count"] == 2
    detail = client.get(url(tenant, "batches", batch.pk)).json()
    assert detail["rejected"][0]["field"] == "text" and detail["inserted_count"] == 2
    assert detail["source"] == batch.source_id
    failed = client.get(url(tenant, "batches"), {"status": "failed"}).json()["results"]
    assert [b["error"] for b in failed] == ["boom"]
    assert theirs.pk not in [b["id"] for b in listed["results"]]
    # Refusals (writes fail closed) and isolation: TestIngestBatches in test_resources.py.


@pytest.mark.parametrize(
    ("resource", "name"),
    [
        ("batches", "received_before"),
        ("batches", "received_after"),
        ("mentions", "published_after"),
    ],
)
def test_date_filters_take_any_utc_offset(
    api: Any, tenant: Any, members: dict[str, Any], resource: str, name: str
) -> None:
    """Python accepts UTC offsets up to 24 h, PostgreSQL only up to 15:59: such a filter used to
    answer 500 (found by the Schemathesis run)."""
    client = api(members["analyst"])
    response = client.get(url(tenant, resource), {name: "2026-11-20T08:00:00+20:14"})
    assert response.status_code == 200, response.content
    out_of_range = client.get(url(tenant, resource), {name: "0001-01-01T00:00:00+05:00"})
    assert out_of_range.status_code == 400
    assert first_error(out_of_range)["attr"] == name


def test_batch_date_filter_compares_instants(
    api: Any, tenant: Any, members: dict[str, Any]
) -> None:
    from datetime import UTC, datetime

    from monitoring.models import IngestBatch

    batch = IngestBatchFactory(tenant=tenant)
    IngestBatch.objects.filter(pk=batch.pk).update(
        received_at=datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
    )
    client = api(members["analyst"])
    # 2026-11-20T08:00Z is 2026-11-21T04:14+20:14: strictly before 04:15 there, not before 04:14.
    listed = client.get(url(tenant, "batches"), {"received_before": "2026-11-21T04:15:00+20:14"})
    assert [row["id"] for row in listed.json()["results"]] == [batch.pk]
    listed = client.get(url(tenant, "batches"), {"received_before": "2026-11-21T04:14:00+20:14"})
    assert listed.json()["results"] == []


def test_documented_domain_pattern_is_accepted(
    api: Any, tenant: Any, members: dict[str, Any]
) -> None:
    """openapi.yaml gives the domain's pattern, so generated clients (and the fuzzer) send
    domains the API takes; a domain it describes must be accepted. (The committed file is the
    served schema: tests/test_schema_drift.py.)"""
    import re

    schema = openapi_spec()
    field = schema["components"]["schemas"]["LowCredibilityDomainRequest"]["properties"]["domain"]
    pattern = re.compile(field["pattern"])
    api_client = api(members["analyst"])
    for domain in (field["example"], "X1-y.example", "0.co", "berita-VIRAL.blogspot.com"):
        assert pattern.fullmatch(domain), domain
        response = api_client.post(
            url(tenant, "low-credibility-domains"), {"domain": domain}, format="json"
        )
        assert response.status_code == 201, (domain, response.content)
