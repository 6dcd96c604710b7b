"""The client portal's two APIs agree: every REST metric has its GraphQL field with the same
argument names and the same answer on the same data, and lists count alike."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from dateutil.parser import isoparse

from config.graphql import schema
from monitoring import pipeline, services
from monitoring.api import views
from monitoring.filtersets import MentionFilterSet
from monitoring.models import IngestChunk, TrackedTerm
from tenants.filtersets import OrderingChoiceFilter
from tests.conftest import error_codes
from tests.monitoring.factories import NOW, MonitoredQueryFactory

# GraphQL field -> (REST path under metrics/, REST parameter serializer)
METRICS = {
    "volume": ("volume", views.VolumeView.params_class),
    "share_of_voice": ("share-of-voice", views.ShareOfVoiceView.params_class),
    "top_authors": ("top-authors", views.TopAuthorsView.params_class),
    "top_hashtags": ("top-hashtags", views.TopHashtagsView.params_class),
    "top_terms": ("top-terms", views.TopTermsView.params_class),
}
SELECTIONS = {
    "volume": "{ bucket mentions positive neutral negative reach engagement }",
    "share_of_voice": "{ since until total results { query name mentions share } }",
    "top_authors": (
        "{ since until results { platform author_handle author_name mentions reach } }"
    ),
    "top_hashtags": "{ since until results { text mentions } }",
    "top_terms": "{ since until results { text mentions } }",
}
DEPRECATED = {"volume": {"query_id"}}


def graphql_arguments(field: str) -> set[str]:
    return set(schema._schema.query_type.fields[field].args) - {"slug"}


def test_every_rest_metric_has_a_graphql_field_with_the_same_arguments() -> None:
    from monitoring.api.urls import metrics

    rest_paths = {str(p.pattern).removeprefix("metrics/").rstrip("/") for p in metrics}
    assert rest_paths == {path for path, _ in METRICS.values()}
    for field, (_path, params) in METRICS.items():
        assert graphql_arguments(field) - DEPRECATED.get(field, set()) == set(params().fields), (
            field
        )


def test_mention_lists_take_the_same_filters_and_ordering() -> None:
    filters = {
        name
        for name, flt in MentionFilterSet.base_filters.items()
        if not isinstance(flt, OrderingChoiceFilter)
    }
    mention_filter = schema._schema.type_map["MentionFilter"]
    assert set(mention_filter.fields) == filters  # type: ignore[attr-defined]
    assert graphql_arguments("mentions") == {"filters", "ordering", "pagination"}
    assert graphql_arguments("mentions_count") == {"filters"}


@pytest.fixture
def portal(tenant: Any, other_tenant: Any) -> dict[str, Any]:
    """A few days of mentions through the real pipeline: rollups, hashtags, terms, handles
    written with and without '@' and in mixed case."""
    kopi = MonitoredQueryFactory(tenant=tenant, name="Kopi Senja", query="kopi")
    MonitoredQueryFactory(tenant=tenant, name="Boikot", query="boikot*")
    MonitoredQueryFactory(tenant=tenant, name="Sepi", query="tidakadayangcocok")
    TrackedTerm.objects.create(tenant=tenant, text="Kopi Senja", kind="brand")
    posts = [
        ("@Budi_K", 1200, "Kopi Senja basi, ayo boikot! #boikot #KopiSenja", 1),
        ("budi_k", 1500, "Masih kecewa sama Kopi Senja #boikot", 5),
        ("@MediaKota", 90000, "Berita: ajakan boikot Kopi Senja meluas #boikot", 20),
        ("sari", 40, "Kopi susu di Kopi Senja enak #kopisenja", 30),
        ("sari", 40, "Antri lama tapi enak", 50),
        ("@Lama", 10, "Kopi tua #arsip", 24 * 9),
    ]
    services.accept_items(
        tenant=tenant,
        objects=[
            {
                "platform": "x",
                "external_id": str(n),
                "text": text,
                "published_at": (NOW - timedelta(hours=hours)).isoformat(),
                "author": {"handle": handle, "followers": followers},
                "engagement": {"likes": n, "shares": 1},
            }
            for n, (handle, followers, text, hours) in enumerate(posts)
        ],
    )
    services.accept_items(
        tenant=other_tenant,
        objects=[
            {
                "platform": "x",
                "external_id": "9",
                "text": "Kopi Senja #boikot",
                "published_at": NOW.isoformat(),
                "author": {"handle": "@Budi_K", "followers": 10**8},
            }
        ],
    )
    for chunk in IngestChunk.objects.filter(done_at__isnull=True).order_by("pk"):
        pipeline.process_chunk(chunk.tenant_id, chunk.pk)
    return {"kopi": kopi}


PERIOD = {"since": (NOW - timedelta(days=3)).isoformat(), "until": NOW.isoformat()}


def rest(api: Any, user: Any, tenant: Any, path: str, **params: Any) -> Any:
    response = api(user).get(f"/api/v1/tenants/{tenant.slug}/metrics/{path}/", params)
    assert response.status_code == 200, response.content
    return response.json()


def graphql(gql: Any, user: Any, tenant: Any, field: str, **args: Any) -> Any:
    declared = ", ".join(f"${name}: {TYPES[name]}" for name in args)
    passed = ", ".join(f"{name}: ${name}" for name in args)
    document = (
        f"query($slug: String!{', ' if args else ''}{declared}) "
        f"{{ {field}(slug: $slug{', ' if args else ''}{passed}) {SELECTIONS[field]} }}"
    )
    body = gql(document, user=user, variables={"slug": tenant.slug, **args})
    assert "errors" not in body, body
    return body["data"][field]


TYPES = {
    "since": "DateTime",
    "until": "DateTime",
    "query": "Int",
    "limit": "Int",
    "interval": "String!",
    "tz": "String",
}


def same_moment(a: str, b: str) -> bool:
    return isoparse(a) == isoparse(b)


@pytest.mark.parametrize("field", ["share_of_voice", "top_authors", "top_hashtags", "top_terms"])
@pytest.mark.parametrize("narrow", [False, True])
def test_rest_and_graphql_metrics_answer_alike(
    api: Any,
    gql: Any,
    tenant: Any,
    members: dict[str, Any],
    portal: dict[str, Any],
    field: str,
    narrow: bool,
) -> None:
    path, params = METRICS[field]
    args: dict[str, Any] = dict(PERIOD)
    if narrow and "limit" in params().fields:
        args.update(query=portal["kopi"].pk, limit=2)
    by_rest = rest(api, members["client"], tenant, path, **args)
    by_graphql = graphql(gql, members["client"], tenant, field, **args)
    assert by_rest["results"] == by_graphql["results"]
    assert by_rest["results"], "the data must give each metric something to compare"
    assert same_moment(by_rest["since"], by_graphql["since"])
    assert same_moment(by_rest["until"], by_graphql["until"])
    if field == "share_of_voice":
        assert by_rest["total"] == by_graphql["total"] > 0


def test_volume_answers_alike(
    api: Any, gql: Any, tenant: Any, members: dict[str, Any], portal: dict[str, Any]
) -> None:
    args = {**PERIOD, "interval": "1d", "tz": "Asia/Makassar", "query": portal["kopi"].pk}
    by_rest = rest(api, members["client"], tenant, "volume", **args)["series"]
    by_graphql = graphql(gql, members["client"], tenant, "volume", **args)
    assert [{**p, "bucket": isoparse(p["bucket"])} for p in by_rest] == [
        {**p, "bucket": isoparse(p["bucket"])} for p in by_graphql
    ]
    assert sum(p["mentions"] for p in by_rest) == 4


def test_top_authors_count_at_handles_and_case_as_one_author(
    api: Any, tenant: Any, members: dict[str, Any], portal: dict[str, Any]
) -> None:
    authors = rest(api, members["client"], tenant, "top-authors", **PERIOD)["results"]
    assert [(a["author_handle"], a["mentions"], a["reach"]) for a in authors] == [
        ("mediakota", 1, 90000),
        ("budi_k", 2, 1500),
        ("sari", 2, 40),
    ]


@pytest.mark.parametrize(
    "filters",
    [
        {},
        {"author": "@BUDI_K"},
        {"author": "budi_k", "platform": "x"},
        {"risk_band": "low", "sentiment": "negative"},
        {"q": "boikot", "published_after": (NOW - timedelta(hours=10)).isoformat()},
        {"query": 0},
    ],
)
def test_mention_lists_and_counts_agree(
    api: Any,
    gql: Any,
    tenant: Any,
    members: dict[str, Any],
    portal: dict[str, Any],
    filters: dict[str, Any],
) -> None:
    if filters == {"query": 0}:
        filters = {"query": portal["kopi"].pk}
    client = api(members["client"])
    base = f"/api/v1/tenants/{tenant.slug}/mentions/"
    listed = client.get(base, {**filters, "ordering": "-reach", "page_size": 100}).json()
    counted = client.get(f"{base}count/", filters).json()
    document = """query($slug: String!, $filters: MentionFilter) {
      mentions(slug: $slug, filters: $filters, ordering: "-reach", pagination: {limit: 100}) {
        id author_handle risk_band
      }
      mentions_count(slug: $slug, filters: $filters)
    }"""
    variables = {"slug": tenant.slug, "filters": filters}
    body = gql(document, user=members["client"], variables=variables)
    assert [int(m["id"]) for m in body["data"]["mentions"]] == [m["id"] for m in listed["results"]]
    assert counted["count"] == body["data"]["mentions_count"] == len(listed["results"])
    if "author" in filters:
        assert counted["count"] >= 1
        assert {m["author_handle"] for m in listed["results"]} == {"budi_k"}


@pytest.mark.parametrize(
    ("field", "args", "bad"),
    [
        ("top_authors", {"limit": 101}, "limit"),
        ("top_hashtags", {"since": NOW.isoformat(), "until": PERIOD["since"]}, "since"),
        ("top_terms", {"query": 987654}, "query"),
        ("volume", {"interval": "2h"}, "interval"),
        ("volume", {"interval": "1h", "tz": "Mars/Base"}, "tz"),
    ],
)
def test_bad_arguments_are_refused_alike_naming_them(
    api: Any,
    gql: Any,
    tenant: Any,
    members: dict[str, Any],
    field: str,
    args: dict[str, Any],
    bad: str,
) -> None:
    path, _params = METRICS[field]
    response = api(members["client"]).get(f"/api/v1/tenants/{tenant.slug}/metrics/{path}/", args)
    assert response.status_code == 400 and response.json()["errors"][0]["attr"] == bad
    declared = ", ".join(f"${name}: {TYPES[name]}" for name in args)
    passed = ", ".join(f"{name}: ${name}" for name in args)
    document = (
        f"query($slug: String!, {declared}) {{ {field}(slug: $slug, {passed}) {{ __typename }} }}"
    )
    body = gql(document, user=members["client"], variables={"slug": tenant.slug, **args})
    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["extensions"]["field"] == bad


def test_counting_mentions_needs_the_same_access(
    api: Any, gql: Any, tenant: Any, outsider: Any
) -> None:
    assert api(outsider).get(f"/api/v1/tenants/{tenant.slug}/mentions/count/").status_code == 404
    body = gql(
        "query($slug: String!) { mentions_count(slug: $slug) }",
        user=outsider,
        variables={"slug": tenant.slug},
    )
    assert error_codes(body) == ["NOT_FOUND"]
