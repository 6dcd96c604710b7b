"""Mastodon poller against the local fixture server's emulated API."""

from __future__ import annotations

import json

import pytest

from monitoring.pollers import PollError, poll_mastodon

from .conftest import SEARCH_TOKEN, LocalServer

TAG_PATH = "/api/v1/timelines/tag/banjir"
NEWEST = "112441503329283117"
OLDEST = "112440915530116204"


def test_tag_timeline_items(fixture_server: LocalServer) -> None:
    base = fixture_server.serve_mastodon_tag("banjir")
    result = poll_mastodon(base, hashtag="#banjir")
    assert result.max_id == NEWEST
    assert not result.truncated
    ids = [i["raw"]["id"] for i in result.items]
    assert ids[0] == OLDEST and ids[-1] == NEWEST and len(ids) == 6  # oldest first

    newest = result.items[-1]
    assert newest["platform"] == "mastodon"
    assert newest["external_id"] == (
        "https://mastodon.example/users/budisantoso/statuses/112441503329283117"
    )
    assert newest["url"] == "https://mastodon.example/@budisantoso/112441503329283117"
    assert newest["lang"] == "id"
    assert newest["published_at"] == "2024-05-14T02:41:18+00:00"
    assert newest["text"] == (
        "Air sudah sepinggang di Perumahan Pondok Gede Permai 😭 Listrik dipadamkan sejak "
        "subuh. #banjir #Bekasi\nYang butuh evakuasi bisa hubungi posko di masjid Al-Ikhlas ya."
    )
    assert newest["author"] == {
        "handle": "budisantoso@mastodon.example",  # local account: server added
        "name": "Budi Santoso 🌧️",
        "followers": 1287,
        "verified": True,  # a profile link with verified_at
    }
    assert newest["engagement"] == {"likes": 57, "shares": 31, "replies": 4, "views": 0}
    json.dumps(result.items)

    by_id = {i["raw"]["id"]: i for i in result.items}
    bot = by_id["112441477195032856"]
    assert bot["author"]["handle"] == "infobanjir@social.kotaair.example"
    assert bot["author"]["verified"] is False
    assert bot["raw"]["account"]["bot"] is True
    english = by_id["112441388412705390"]
    assert english["lang"] == "en"
    reply = by_id["112441301050398821"]
    assert reply["text"].startswith("@budisantoso semoga cepat surut")
    assert "& posko" in reply["text"]
    warned = by_id["112441287790064117"]
    assert warned["text"] == (
        "banjir, foto rumah tergenang\n\nMulai masuk rumah. Tolong yang di sekitar Jatiasih "
        "hati-hati. #banjir"
    )
    assert by_id[OLDEST]["lang"] is None


def test_request_shape(fixture_server: LocalServer) -> None:
    base = fixture_server.serve_mastodon_tag("banjir")
    poll_mastodon(base, hashtag="banjir", since_id=OLDEST, limit=10)
    (req,) = fixture_server.hits(TAG_PATH)
    assert req.query == {"limit": "10", "since_id": OLDEST}
    assert req.headers["accept"] == "application/json"
    assert "authorization" not in req.headers


def test_resumes_from_since_id(fixture_server: LocalServer) -> None:
    base = fixture_server.serve_mastodon_tag("banjir")
    first = poll_mastodon(base, hashtag="banjir", since_id="112441301050398821")
    assert [i["raw"]["id"] for i in first.items] == [
        "112441388412705390",
        "112441477195032856",
        NEWEST,
    ]
    assert first.max_id == NEWEST
    again = poll_mastodon(base, hashtag="banjir", since_id=first.max_id)
    assert again.items == []
    assert again.max_id == NEWEST  # nothing new: keep the same cursor


def test_pages_back_to_since_id_when_a_page_is_full(fixture_server: LocalServer) -> None:
    base = fixture_server.serve_mastodon_tag("banjir")
    result = poll_mastodon(base, hashtag="banjir", since_id=OLDEST, limit=2)
    assert len(result.items) == 5
    assert result.max_id == NEWEST
    assert not result.truncated
    queries = [r.query for r in fixture_server.hits(TAG_PATH)]
    assert queries[0] == {"limit": "2", "since_id": OLDEST}
    assert queries[1] == {"limit": "2", "since_id": OLDEST, "max_id": "112441477195032856"}
    assert len(queries) == 3


def test_truncated_when_more_pages_than_allowed(fixture_server: LocalServer) -> None:
    base = fixture_server.serve_mastodon_tag("banjir")
    result = poll_mastodon(base, hashtag="banjir", limit=2, max_pages=2)
    assert len(result.items) == 4
    assert result.truncated
    assert result.max_id == NEWEST


def test_server_ignoring_since_id_does_not_bring_old_statuses(
    fixture_server: LocalServer,
) -> None:
    fixture_server.serve_file(TAG_PATH, "mastodon_tag_banjir.json", "application/json")
    result = poll_mastodon(fixture_server.base_url, hashtag="banjir", since_id="112441388412705390")
    assert [i["raw"]["id"] for i in result.items] == ["112441477195032856", NEWEST]


def test_rate_limited_is_retryable_with_retry_after(fixture_server: LocalServer) -> None:
    base = fixture_server.serve_mastodon_tag("banjir")
    fixture_server.fail(
        TAG_PATH,
        429,
        headers={"Retry-After": "90", "Content-Type": "application/json"},
        body=b'{"error":"Too many requests"}',
    )
    with pytest.raises(PollError) as info:
        poll_mastodon(base, hashtag="banjir")
    assert info.value.retryable and info.value.status == 429
    assert info.value.retry_after == 90


def test_rate_limited_without_retry_after_waits_a_window(fixture_server: LocalServer) -> None:
    base = fixture_server.serve_mastodon_tag("banjir")
    fixture_server.fail(TAG_PATH, 429)
    with pytest.raises(PollError) as info:
        poll_mastodon(base, hashtag="banjir")
    assert info.value.retry_after == 300


@pytest.mark.parametrize(("status", "retryable"), [(503, True), (500, True), (404, False)])
def test_http_errors(fixture_server: LocalServer, status: int, retryable: bool) -> None:
    base = fixture_server.serve_mastodon_tag("banjir")
    fixture_server.fail(TAG_PATH, status)
    with pytest.raises(PollError) as info:
        poll_mastodon(base, hashtag="banjir")
    assert info.value.retryable is retryable


def test_timeout(fixture_server: LocalServer) -> None:
    base = fixture_server.serve_mastodon_tag("banjir")
    fixture_server.slow(TAG_PATH, delay=3)
    with pytest.raises(PollError, match="timed out") as info:
        poll_mastodon(base, hashtag="banjir", timeout=0.3)
    assert info.value.retryable


def test_non_json_is_not_retryable(fixture_server: LocalServer) -> None:
    fixture_server.serve_file(TAG_PATH, "not_a_feed.html", "text/html")
    with pytest.raises(PollError, match="not JSON") as info:
        poll_mastodon(fixture_server.base_url, hashtag="banjir")
    assert not info.value.retryable


def test_search_needs_a_token(fixture_server: LocalServer) -> None:
    base = fixture_server.serve_mastodon_search()
    with pytest.raises(PollError, match="access token") as info:
        poll_mastodon(base, query="banjir bekasi")
    assert info.value.status == 401 and not info.value.retryable


def test_search_with_token_resumes_with_min_id(fixture_server: LocalServer) -> None:
    base = fixture_server.serve_mastodon_search()
    result = poll_mastodon(base, query="banjir bekasi", access_token=SEARCH_TOKEN)
    assert [i["raw"]["id"] for i in result.items] == ["112441388412705390", NEWEST]
    assert result.max_id == NEWEST
    again = poll_mastodon(
        base, query="banjir bekasi", access_token=SEARCH_TOKEN, since_id=result.max_id
    )
    assert again.items == [] and again.max_id == NEWEST
    first, second = fixture_server.hits("/api/v2/search")
    assert first.query == {"q": "banjir bekasi", "type": "statuses", "limit": "40"}
    assert first.headers["authorization"] == f"Bearer {SEARCH_TOKEN}"
    assert second.query["min_id"] == NEWEST


def test_needs_exactly_one_of_hashtag_or_query() -> None:
    with pytest.raises(ValueError):
        poll_mastodon("https://mastodon.example")
    with pytest.raises(ValueError):
        poll_mastodon("https://mastodon.example", hashtag="a", query="b")
