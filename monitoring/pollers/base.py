"""Shared pieces of the pollers: result and error types, the mention item
shape, HTTP fetching with a total deadline, and HTML-to-text."""

from __future__ import annotations

import http.client
import re
import time
import urllib.error
import urllib.parse
import urllib.request
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import Message
from email.utils import parsedate_to_datetime
from html.parser import HTMLParser
from typing import Any, Literal, TypedDict

__all__ = [
    "USER_AGENT",
    "Author",
    "Engagement",
    "HttpResponse",
    "MentionItem",
    "PollError",
    "PollResult",
    "http_get",
    "parse_retry_after",
    "primary_language",
    "strip_html",
]

USER_AGENT = "Sigap/0.1 (social listening; feed and timeline poller)"
MAX_RESPONSE_BYTES = 10 * 1024 * 1024
_CHUNK = 64 * 1024
# Statuses worth retrying later without a human changing anything.
_RETRYABLE_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504, 520, 521, 522, 523, 524})


class Author(TypedDict):
    handle: str
    name: str
    followers: int
    verified: bool


class Engagement(TypedDict):
    likes: int
    shares: int
    replies: int
    views: int


class MentionItem(TypedDict):
    """One mention, in the shape the ingest API accepts."""

    platform: Literal["rss", "mastodon"]
    external_id: str
    url: str
    text: str
    lang: str | None
    published_at: str
    author: Author
    engagement: Engagement
    raw: dict[str, Any]


class PollError(Exception):
    """A poll failed. ``retryable`` says whether trying again later (with
    back-off) may succeed without anyone changing the source: true for
    timeouts, connection failures, 5xx and 429; false for 4xx, unsupported
    URLs and responses that are not a feed or timeline at all.
    ``retry_after`` is the server's requested wait in seconds, if it gave one.
    """

    def __init__(
        self,
        message: str,
        retryable: bool,
        *,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.retryable = retryable
        self.status = status
        self.retry_after = retry_after

    def __repr__(self) -> str:
        return (
            f"PollError({self.message!r}, retryable={self.retryable}, status={self.status}, "
            f"retry_after={self.retry_after})"
        )


@dataclass(frozen=True, slots=True)
class PollResult:
    """What one poll brought back.

    ``items`` are normalised mentions, oldest first. For feeds, store ``etag``
    and ``modified`` and pass them to the next poll; ``not_modified`` is true
    when the server answered 304 (no items). For Mastodon, store ``max_id`` and
    pass it as ``since_id`` next time; ``truncated`` means more new statuses
    were waiting than the pages fetched in one poll.
    """

    items: list[MentionItem] = field(default_factory=list)
    not_modified: bool = False
    etag: str | None = None
    modified: str | None = None
    max_id: str | None = None
    status: int = 200
    url: str = ""
    truncated: bool = False


@dataclass(frozen=True, slots=True)
class HttpResponse:
    status: int
    headers: Message
    body: bytes
    url: str


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (seconds or HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)


def _decode_body(body: bytes, encoding: str | None, max_bytes: int) -> bytes:
    """Undo gzip/deflate content encoding, refusing to inflate past ``max_bytes``."""
    encoding = (encoding or "").strip().lower()
    if encoding in ("gzip", "x-gzip"):
        wbits = 16 + zlib.MAX_WBITS
    elif encoding == "deflate":
        wbits = zlib.MAX_WBITS if body[:1] == b"\x78" else -zlib.MAX_WBITS  # zlib or raw
    else:
        return body
    inflater = zlib.decompressobj(wbits)
    out = inflater.decompress(body, max_bytes + 1)
    if len(out) > max_bytes:
        raise PollError(f"decompressed response is larger than {max_bytes} bytes", False)
    return out


def http_get(
    url: str,
    *,
    headers: dict[str, str] | None = None,
    timeout: float = 10,
    max_bytes: int = MAX_RESPONSE_BYTES,
) -> HttpResponse:
    """GET ``url`` and return the response; 304 is returned, not raised.

    ``timeout`` bounds each socket operation and the whole download. Every
    failure is raised as :class:`PollError` with ``retryable`` set.
    """
    scheme = urllib.parse.urlsplit(url).scheme.lower()
    if scheme not in ("http", "https"):
        raise PollError(f"unsupported URL scheme {scheme!r} in {url!r}", retryable=False)
    request = urllib.request.Request(  # noqa: S310 - scheme checked above
        url,
        headers={"User-Agent": USER_AGENT, "Accept-Encoding": "gzip, deflate", **(headers or {})},
    )
    deadline = time.monotonic() + timeout
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            chunks: list[bytes] = []
            size = 0
            while True:
                if time.monotonic() > deadline:
                    raise PollError(f"timed out after {timeout:g}s reading {url}", retryable=True)
                chunk = response.read1(_CHUNK)  # what one socket read brings
                if not chunk:
                    break
                size += len(chunk)
                if size > max_bytes:
                    raise PollError(
                        f"response from {url} is larger than {max_bytes} bytes", retryable=False
                    )
                chunks.append(chunk)
            body = _decode_body(
                b"".join(chunks), response.headers.get("Content-Encoding"), max_bytes
            )
            return HttpResponse(response.status, response.headers, body, response.url)
    except urllib.error.HTTPError as exc:
        if exc.code == 304:
            return HttpResponse(304, exc.headers, b"", url)
        raise PollError(
            f"HTTP {exc.code} {exc.reason} from {url}",
            retryable=exc.code in _RETRYABLE_STATUS,
            status=exc.code,
            retry_after=parse_retry_after(exc.headers.get("Retry-After")),
        ) from exc
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, TimeoutError):
            raise PollError(f"timed out after {timeout:g}s fetching {url}", True) from exc
        raise PollError(f"cannot reach {url}: {reason}", retryable=True) from exc
    except TimeoutError as exc:
        raise PollError(f"timed out after {timeout:g}s fetching {url}", retryable=True) from exc
    except (http.client.HTTPException, ConnectionError) as exc:
        raise PollError(f"connection to {url} failed: {exc!r}", retryable=True) from exc
    except zlib.error as exc:
        raise PollError(f"corrupt compressed response from {url}: {exc}", True) from exc
    except ValueError as exc:  # e.g. a malformed URL
        raise PollError(f"invalid URL {url!r}: {exc}", retryable=False) from exc


_BLOCK_TAGS = frozenset(
    {"p", "br", "div", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "hr"}
    | {"blockquote", "pre", "tr", "table", "section", "article"}
)
_SKIP_TAGS = frozenset({"script", "style", "template", "noscript"})


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP_TAGS:
            self.skipping += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_TAGS:
            self.skipping = max(0, self.skipping - 1)
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)


_SPACES = re.compile(r"[ \t\r\f\v\u00a0]+")
_BLANK_LINES = re.compile(r"\s*\n\s*")


def strip_html(html: str | None) -> str:
    """Plain text of an HTML fragment: tags removed, entities decoded, block
    elements (``<p>``, ``<br>``, ...) turned into line breaks, whitespace
    collapsed."""
    if not html:
        return ""
    if "<" not in html and "&" not in html:
        text = html
    else:
        parser = _TextExtractor()
        parser.feed(html)
        parser.close()
        text = "".join(parser.parts)
    text = _SPACES.sub(" ", text)
    return _BLANK_LINES.sub("\n", text).strip()


def primary_language(tag: str | None) -> str | None:
    """``"id-ID"`` -> ``"id"``; ``None`` or empty -> ``None``."""
    if not tag:
        return None
    primary = tag.strip().replace("_", "-").split("-")[0].lower()
    return primary or None


def utc_iso(moment: datetime) -> str:
    """ISO-8601 with an explicit offset, in UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat()
