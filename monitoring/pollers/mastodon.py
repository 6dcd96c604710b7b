"""Poll a Mastodon server's hashtag timeline or status search.

Hashtag timelines are public on most servers:
``GET /api/v1/timelines/tag/{hashtag}?since_id=...&limit=...``. Statuses come
newest first; when a page is full there may be more new statuses between it and
``since_id``, so up to ``max_pages`` pages are fetched backwards (``max_id`` =
the oldest id of the previous page). If new statuses are still left after
that, the result says ``truncated=True``: the gap is not filled later, because
the next poll resumes from the newest id.

Status search is ``GET /api/v2/search?q=...&type=statuses`` and resumes with
``min_id``. Most servers only answer it for an authenticated user (and only
return statuses the server already knows and that opted in to search): pass an
``access_token``, otherwise expect a non-retryable 401 ``PollError``. Search is
fetched one page per poll.

Mapping to a mention item:

* ``external_id``: the status ``uri`` (the same post seen through two servers
  has different ``id``s but one ``uri``), falling back to ``{host}:{id}``;
  ``raw`` keeps the whole status, including its server-local ``id``;
* ``text``: ``spoiler_text`` (the content warning) then ``content``, HTML
  stripped; hashtags and mentions stay as ``#tag`` and ``@user``;
* ``author.handle``: ``acct``, with ``@{server}`` added for local accounts (the
  host of their profile URL) so it is always ``user@server``;
* ``author.verified``: Mastodon has no verified badge, so it is true only when
  a profile field carries a ``verified_at`` (a link the server checked back to
  the profile);
* ``engagement``: favourites, reblogs and replies; Mastodon has no view count.

Boosts (a status with ``reblog``) are skipped: the original is what counts.
Items are returned oldest first; ``max_id`` is the newest id seen (or the given
``since_id`` when nothing new came), to pass as ``since_id`` next time.
"""

from __future__ import annotations

import json
import urllib.parse
from datetime import UTC, datetime
from typing import Any

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

__all__ = ["MAX_LIMIT", "poll_mastodon", "server_origin", "status_to_item"]

MAX_LIMIT = 40  # Mastodon's cap for timeline and search pages


def _id_key(status_id: str) -> tuple[int, str]:
    # Mastodon ids are decimal strings; compare numerically, longest is newest.
    return (len(status_id), status_id) if status_id.isdigit() else (0, status_id)


def _newer(a: str | None, b: str | None) -> str | None:
    if a is None:
        return b
    if b is None:
        return a
    return a if _id_key(a) >= _id_key(b) else b


def server_origin(base_url: str) -> str:
    """``scheme://host[:port]`` of a Mastodon server; a base URL with a path, query or
    fragment (``#`` would cut the API path off) is refused, so API paths are always ours."""
    try:
        parts = urllib.parse.urlsplit(base_url.strip())
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise PollError("invalid Mastodon server URL", retryable=False) from None
    if parts.path not in ("", "/") or parts.query or parts.fragment or "#" in base_url:
        raise PollError(
            "a Mastodon server URL must be scheme and host only (no path, query or '#')",
            retryable=False,
        )
    if not parts.scheme or not parts.netloc:
        raise PollError("invalid Mastodon server URL", retryable=False)
    return f"{parts.scheme.lower()}://{parts.netloc}"


def _get_json(url: str, headers: dict[str, str], timeout: float) -> tuple[Any, str]:
    try:
        response = http_get(url, headers=headers, timeout=timeout)
    except PollError as exc:
        if exc.status == 429 and exc.retry_after is None:
            exc.retry_after = 300.0  # Mastodon's rate-limit window is 5 minutes
        if exc.status in (401, 403) and "/api/v2/search" in url:
            exc.message = (
                f"{exc.message}: this server only allows status search with an access token"
            )
            exc.args = (exc.message,)
        raise
    try:
        return json.loads(response.body), response.url
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PollError(f"response from {url} is not JSON: {exc}", retryable=False) from exc


def poll_mastodon(
    base_url: str,
    *,
    hashtag: str | None = None,
    query: str | None = None,
    since_id: str | None = None,
    limit: int = MAX_LIMIT,
    timeout: float = 10,
    access_token: str | None = None,
    max_pages: int = 5,
) -> PollResult:
    """Fetch statuses newer than ``since_id`` for ``hashtag`` (public tag
    timeline) or ``query`` (status search, usually needs ``access_token``).

    Raises :class:`~.base.PollError`; a 429 is retryable with ``retry_after``
    taken from ``Retry-After`` (5 minutes when absent).
    """
    if (hashtag is None) == (query is None):
        raise ValueError("pass exactly one of hashtag= or query=")
    limit = max(1, min(limit, MAX_LIMIT))
    base = server_origin(base_url)
    host = urllib.parse.urlsplit(base).hostname or base
    headers = {"Accept": "application/json"}
    if access_token:
        headers["Authorization"] = f"Bearer {access_token}"

    statuses: list[dict[str, Any]] = []
    truncated = False
    final_url = base
    if hashtag is not None:
        tag = urllib.parse.quote(hashtag.lstrip("#"), safe="")
        if not tag:
            raise ValueError("empty hashtag")
        max_id: str | None = None
        for page in range(max_pages):
            params: dict[str, str | int] = {"limit": limit}
            if since_id:
                params["since_id"] = since_id
            if max_id:
                params["max_id"] = max_id
            url = f"{base}/api/v1/timelines/tag/{tag}?{urllib.parse.urlencode(params)}"
            data, final_url = _get_json(url, headers, timeout)
            if not isinstance(data, list):
                raise PollError(f"unexpected tag timeline payload from {url}", retryable=False)
            batch = [s for s in data if isinstance(s, dict) and isinstance(s.get("id"), str)]
            statuses.extend(batch)
            if len(data) < limit or not batch:
                break
            max_id = min((s["id"] for s in batch), key=_id_key)
            if page == max_pages - 1:
                truncated = True
    else:
        params = {"q": query or "", "type": "statuses", "limit": limit}
        if since_id:
            params["min_id"] = since_id
        url = f"{base}/api/v2/search?{urllib.parse.urlencode(params)}"
        data, final_url = _get_json(url, headers, timeout)
        found = data.get("statuses") if isinstance(data, dict) else None
        if not isinstance(found, list):
            raise PollError(f"unexpected search payload from {url}", retryable=False)
        statuses = [s for s in found if isinstance(s, dict) and isinstance(s.get("id"), str)]

    # Servers that ignore since_id/min_id must not make us ingest old statuses.
    if since_id:
        floor = _id_key(since_id)
        statuses = [s for s in statuses if _id_key(s["id"]) > floor]
    unique = {s["id"]: s for s in statuses}
    newest = since_id
    for status_id in unique:
        newest = _newer(newest, status_id)
    ordered = sorted(unique.values(), key=lambda s: _id_key(s["id"]))
    items = [status_to_item(s, host) for s in ordered if not s.get("reblog")]
    return PollResult(items=items, max_id=newest, url=final_url, truncated=truncated)


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _published(value: Any) -> str:
    if isinstance(value, str):
        try:
            return utc_iso(datetime.fromisoformat(value))
        except ValueError:
            pass
    return utc_iso(datetime.now(UTC))


def status_to_item(status: dict[str, Any], host: str) -> MentionItem:
    """One Mastodon status (as the API returns it) as a mention item."""
    account = status.get("account") or {}
    acct = str(account.get("acct") or account.get("username") or "")
    if acct and "@" not in acct:
        # a local account: its server is the one in its profile URL
        home = urllib.parse.urlsplit(str(account.get("url") or "")).hostname or host
        acct = f"{acct}@{home}"
    fields = account.get("fields") or []
    author: Author = {
        "handle": acct,
        "name": str(account.get("display_name") or account.get("username") or acct),
        "followers": _int(account.get("followers_count")),
        "verified": any(isinstance(f, dict) and f.get("verified_at") for f in fields),
    }
    engagement: Engagement = {
        "likes": _int(status.get("favourites_count")),
        "shares": _int(status.get("reblogs_count")),
        "replies": _int(status.get("replies_count")),
        "views": 0,
    }
    content = strip_html(status.get("content"))
    warning = strip_html(status.get("spoiler_text"))
    text = f"{warning}\n\n{content}" if warning and content else warning or content
    uri = status.get("uri")
    return {
        "platform": "mastodon",
        "external_id": uri if isinstance(uri, str) and uri else f"{host}:{status['id']}",
        "url": str(status.get("url") or uri or ""),
        "text": text,
        "lang": primary_language(status.get("language")),
        "published_at": _published(status.get("created_at")),
        "author": author,
        "engagement": engagement,
        "raw": status,
    }
