"""RSS/Atom poller against the local fixture server."""

from __future__ import annotations

import json
import time
from datetime import datetime
from typing import Any

import pytest

from monitoring.pollers import PollError, poll_feed
from monitoring.pollers.base import strip_html

from .conftest import LocalServer

RSS = "application/rss+xml; charset=UTF-8"
ATOM = "application/atom+xml"
ETAG = '"5f3c-61853e2a9b3c0"'
LAST_MODIFIED = "Tue, 14 May 2024 02:41:07 GMT"


def test_rss_items_are_normalised(fixture_server: LocalServer) -> None:
    url = fixture_server.serve_file("/rss/terkini", "rss_berita.xml", RSS, etag=ETAG)
    result = poll_feed(url)
    assert result.status == 200
    assert not result.not_modified
    assert result.etag == ETAG
    assert len(result.items) == 5
    # oldest first
    stamps = [datetime.fromisoformat(i["published_at"]) for i in result.items]
    assert stamps == sorted(stamps)

    boikot = result.items[-1]
    assert boikot["platform"] == "rss"
    assert boikot["external_id"] == "https://kabarnusantara.example/?p=184201"
    assert boikot["url"].endswith("/warganet-serukan-boikot-merek-kopi-susu")
    assert boikot["published_at"] == "2024-05-14T02:30:00+00:00"  # 09:30 +07:00
    assert boikot["lang"] == "id"
    assert boikot["text"].startswith(
        "Warganet Serukan Boikot Merek Kopi Susu Usai Video Viral Karyawan\n\nJakarta \u2013 Tagar "
        "#BoikotKopiKita menjadi trending"
    )
    assert "<" not in boikot["text"] and "&hellip;" not in boikot["text"]
    assert "…" in boikot["text"]
    assert boikot["author"] == {
        "handle": "Rina Kartika",
        "name": "Rina Kartika",
        "followers": 0,
        "verified": False,
    }
    assert boikot["engagement"] == {"likes": 0, "shares": 0, "replies": 0, "views": 0}
    assert boikot["raw"]["tags"] == ["Ekonomi", "Viral"]
    assert boikot["raw"]["feed"]["title"] == "Kabar Nusantara - Berita Terkini"
    json.dumps(result.items)  # items must be JSON-serialisable as they are


def test_rss_entry_without_guid_or_author(fixture_server: LocalServer) -> None:
    url = fixture_server.serve_file("/rss/terkini", "rss_berita.xml", RSS)
    promo = next(i for i in poll_feed(url).items if i["text"].startswith("Promo Gajian"))
    assert promo["external_id"] == promo["url"]
    assert promo["author"]["handle"] == "kabarnusantara.example"
    assert promo["author"]["name"] == "Kabar Nusantara - Berita Terkini"
    assert "&amp;" not in next(i for i in poll_feed(url).items if "BBM" in i["text"])["text"]


def test_atom_feed(fixture_server: LocalServer) -> None:
    url = fixture_server.serve_file("/siaran-pers.atom", "atom_siaran_pers.xml", ATOM)
    result = poll_feed(url)
    assert [i["lang"] for i in result.items] == ["en", "id"]
    english, indonesian = result.items
    assert indonesian["external_id"].startswith("tag:airsehat.example,2024-05-14:")
    assert indonesian["published_at"] == "2024-05-14T04:00:00+00:00"
    assert indonesian["author"]["handle"] == "Divisi Komunikasi Korporat (media@airsehat.example)"
    assert indonesian["author"]["name"] == "Divisi Komunikasi Korporat"
    assert "lolos uji laboratorium & memiliki izin edar BPOM" in indonesian["text"]
    # no <published>: falls back to <updated>; no <summary>: falls back to <content>
    assert english["published_at"] == "2024-05-10T02:30:00+00:00"
    assert english["text"] == (
        "Air Sehat Nusantara Opens New Bottling Plant in Central Java\n\n"
        "The plant in Boyolali adds 400 jobs and doubles regional capacity."
    )


def test_conditional_get_with_etag_gives_304(fixture_server: LocalServer) -> None:
    url = fixture_server.serve_file("/rss/terkini", "rss_berita.xml", RSS, etag=ETAG)
    first = poll_feed(url)
    second = poll_feed(url, etag=first.etag, modified=first.modified)
    assert second.not_modified and second.status == 304
    assert second.items == []
    assert second.etag == ETAG
    sent = fixture_server.hits("/rss/terkini")
    assert "if-none-match" not in sent[0].headers
    assert sent[1].headers["if-none-match"] == ETAG


def test_conditional_get_with_last_modified_gives_304(fixture_server: LocalServer) -> None:
    url = fixture_server.serve_file(
        "/rss/terkini", "rss_berita.xml", RSS, last_modified=LAST_MODIFIED
    )
    first = poll_feed(url)
    assert first.modified == LAST_MODIFIED and first.etag is None
    second = poll_feed(url, etag=first.etag, modified=first.modified)
    assert second.not_modified
    assert second.modified == LAST_MODIFIED
    assert fixture_server.hits("/rss/terkini")[1].headers["if-modified-since"] == LAST_MODIFIED


def test_changed_feed_is_fetched_again(fixture_server: LocalServer) -> None:
    url = fixture_server.serve_file("/rss/terkini", "rss_berita.xml", RSS, etag=ETAG)
    result = poll_feed(url, etag='"an-older-version"')
    assert not result.not_modified and len(result.items) == 5


def test_gzip_response(fixture_server: LocalServer) -> None:
    url = fixture_server.serve_file("/rss/gz", "rss_berita.xml", RSS, gzip=True)
    assert len(poll_feed(url).items) == 5
    assert "gzip" in fixture_server.hits("/rss/gz")[0].headers["accept-encoding"]


@pytest.mark.parametrize(
    ("status", "retryable"),
    [(500, True), (502, True), (503, True), (429, True), (404, False), (410, False), (403, False)],
)
def test_http_errors(fixture_server: LocalServer, status: int, retryable: bool) -> None:
    url = fixture_server.serve_file("/rss/terkini", "rss_berita.xml", RSS)
    fixture_server.fail("/rss/terkini", status, headers={"Retry-After": "120"}, times=1)
    with pytest.raises(PollError) as info:
        poll_feed(url)
    assert info.value.status == status
    assert info.value.retryable is retryable
    assert info.value.retry_after == 120
    assert str(status) in str(info.value)
    # the failure was one-off: the next poll succeeds
    assert len(poll_feed(url).items) == 5


def test_timeout_is_retryable(fixture_server: LocalServer) -> None:
    url = fixture_server.serve_file("/rss/slow", "rss_berita.xml", RSS)
    fixture_server.slow("/rss/slow", delay=3)
    started = time.monotonic()
    with pytest.raises(PollError, match="timed out") as info:
        poll_feed(url, timeout=0.3)
    assert info.value.retryable
    assert time.monotonic() - started < 2


def test_trickling_body_hits_the_total_deadline(fixture_server: LocalServer) -> None:
    url = fixture_server.serve_file("/rss/trickle", "rss_berita.xml", RSS)
    fixture_server.slow("/rss/trickle", trickle=0.05)  # 5 kB in 16-byte chunks: ~16 s
    started = time.monotonic()
    with pytest.raises(PollError, match="timed out") as info:
        poll_feed(url, timeout=0.5)
    assert info.value.retryable
    assert time.monotonic() - started < 3


def test_connection_refused_is_retryable(settings: Any) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings.SIGAP_OUTBOUND_ALLOWLIST = [f"127.0.0.1:{port}"]
    with pytest.raises(PollError, match="cannot reach") as info:
        poll_feed(f"http://127.0.0.1:{port}/feed", timeout=2)
    assert info.value.retryable


def test_not_a_feed_is_not_retryable(fixture_server: LocalServer) -> None:
    url = fixture_server.serve_file("/blog", "not_a_feed.html", "text/html; charset=utf-8")
    with pytest.raises(PollError, match="unparseable feed") as info:
        poll_feed(url)
    assert not info.value.retryable


def test_unsupported_scheme_is_refused() -> None:
    with pytest.raises(PollError, match="blocked: unsupported URL scheme") as info:
        poll_feed("file:///etc/passwd")
    assert not info.value.retryable


def test_strip_html() -> None:
    html = (
        "<p>Harga <b>naik</b> &amp; langka&nbsp;lagi</p><p>Baris&nbsp;dua<br/>baris tiga</p>"
        "<script>alert(1)</script><style>p{}</style>"
    )
    assert strip_html(html) == "Harga naik & langka lagi\nBaris dua\nbaris tiga"
    assert strip_html(None) == ""
    assert strip_html("teks biasa  saja") == "teks biasa saja"
