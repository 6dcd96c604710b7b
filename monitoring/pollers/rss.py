"""Poll an RSS or Atom feed.

``poll_feed`` fetches the feed itself (urllib, so that status codes, timeouts
and conditional requests are under our control) and hands the bytes to
feedparser. Conditional GET: pass back the ``etag`` and ``modified`` of the
previous :class:`~.base.PollResult`; a server that has nothing new answers 304
and the result has ``not_modified=True`` and no items.

Each entry becomes a mention item:

* ``external_id``: the entry's id/guid, else its link, else a hash of title and
  date;
* ``text``: title, then the summary (or the content when there is no summary),
  HTML stripped;
* ``published_at``: ``published``, else ``updated``, in UTC; an entry with
  neither gets the time of the poll;
* ``lang``: the entry's ``xml:lang``, else the feed's language, reduced to its
  primary subtag (``id-ID`` -> ``id``);
* ``author``: handle is the author as written (often an e-mail address), else
  the feed's host name; name is the author's name, else the feed title.
  Feeds have no follower counts or engagement: those are 0.
"""

from __future__ import annotations

import hashlib
import io
import urllib.parse
from calendar import timegm
from datetime import UTC, datetime
from time import struct_time
from typing import Any

import feedparser

from .base import (
    Author,
    Engagement,
    MentionItem,
    PollError,
    PollResult,
    http_get,
    primary_language,
    strip_html,
    utc_iso,
)

__all__ = ["entry_to_item", "parse_feed", "poll_feed"]

_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml;q=0.9, "
    "application/xml;q=0.8, text/xml;q=0.8, */*;q=0.5"
)


def poll_feed(
    url: str,
    *,
    etag: str | None = None,
    modified: str | None = None,
    timeout: float = 10,
) -> PollResult:
    """Fetch and parse the feed at ``url``.

    Raises :class:`~.base.PollError` on HTTP errors (retryable for 5xx, 429 and
    408), timeouts and connection failures (retryable) and on a response that
    is not a feed (not retryable).
    """
    headers = {"Accept": _ACCEPT}
    if etag:
        headers["If-None-Match"] = etag
    if modified:
        headers["If-Modified-Since"] = modified
    response = http_get(url, headers=headers, timeout=timeout)
    new_etag = response.headers.get("ETag") or etag
    new_modified = response.headers.get("Last-Modified") or modified
    if response.status == 304:
        return PollResult(
            not_modified=True, etag=new_etag, modified=new_modified, status=304, url=response.url
        )
    items = parse_feed(
        response.body,
        url=response.url,
        content_type=response.headers.get("Content-Type"),
    )
    return PollResult(
        items=items, etag=new_etag, modified=new_modified, status=response.status, url=response.url
    )


def parse_feed(body: bytes, *, url: str, content_type: str | None = None) -> list[MentionItem]:
    """Parse feed bytes into mention items (oldest first)."""
    response_headers = {"content-location": url}
    if content_type:
        response_headers["content-type"] = content_type
    parsed = feedparser.parse(io.BytesIO(body), response_headers=response_headers)
    if not parsed.entries and (parsed.bozo or not parsed.get("version")):
        reason = parsed.get("bozo_exception") or "no RSS or Atom content"
        raise PollError(f"unparseable feed at {url}: {reason}", retryable=False)
    feed = parsed.feed
    now = datetime.now(UTC)
    items = [entry_to_item(entry, feed, url, now) for entry in parsed.entries]
    items.sort(key=lambda item: item["published_at"])
    return items


def _when(value: Any) -> datetime | None:
    if isinstance(value, struct_time):
        return datetime.fromtimestamp(timegm(value), UTC)
    return None


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def entry_to_item(entry: Any, feed: Any, feed_url: str, now: datetime) -> MentionItem:
    """One feedparser entry as a mention item."""
    title = strip_html(_text(entry.get("title")))
    body_html = _text(entry.get("summary"))
    if not body_html and entry.get("content"):
        body_html = _text(entry["content"][0].get("value"))
    body = strip_html(body_html)
    parts = [title] if title else []
    if body and body != title:
        parts.append(body)
    text = "\n\n".join(parts)

    link = _text(entry.get("link"))
    # dict.get: feedparser's own get() maps a missing "updated" to "published"
    # (with a DeprecationWarning); we want each field as the feed gave it.
    published = _when(dict.get(entry, "published_parsed")) or _when(
        dict.get(entry, "updated_parsed")
    )
    external_id = _text(entry.get("id")) or link
    if not external_id:
        digest = hashlib.sha256(f"{title}\n{entry.get('published', '')}".encode()).hexdigest()
        external_id = f"sha256:{digest[:32]}"

    detail = entry.get("title_detail") or entry.get("summary_detail") or {}
    lang = primary_language(detail.get("language") or feed.get("language"))

    author_detail = entry.get("author_detail") or {}
    author_raw = _text(entry.get("author"))
    host = urllib.parse.urlsplit(_text(feed.get("link")) or feed_url).hostname or feed_url
    author: Author = {
        "handle": author_raw or host,
        "name": _text(author_detail.get("name")) or author_raw or _text(feed.get("title")) or host,
        "followers": 0,
        "verified": False,
    }
    engagement: Engagement = {"likes": 0, "shares": 0, "replies": 0, "views": 0}
    raw: dict[str, Any] = {
        "id": _text(entry.get("id")) or None,
        "title": _text(entry.get("title")),
        "link": link,
        "summary": body_html,
        "published": _text(dict.get(entry, "published")) or None,
        "updated": _text(dict.get(entry, "updated")) or None,
        "author": author_raw or None,
        "tags": [t.get("term") for t in entry.get("tags", []) if t.get("term")],
        "feed": {
            "url": feed_url,
            "title": _text(feed.get("title")),
            "link": _text(feed.get("link")),
            "language": _text(feed.get("language")) or None,
        },
    }
    return {
        "platform": "rss",
        "external_id": external_id,
        "url": link,
        "text": text,
        "lang": lang,
        "published_at": utc_iso(published or now),
        "author": author,
        "engagement": engagement,
        "raw": raw,
    }
