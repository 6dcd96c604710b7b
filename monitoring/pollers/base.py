"""Shared pieces of the pollers: result and error types, the mention item
shape, HTTP fetching (through the SSRF-safe ``tenants.outbound`` client: checked
addresses, checked redirects, a total deadline and a size cap) and HTML-to-text."""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from html.parser import HTMLParser

from monitoring.ingest import IngestItem, ItemAuthor, ItemEngagement
from tenants import outbound

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
MAX_RESPONSE_BYTES = outbound.MAX_RESPONSE_BYTES
# Statuses worth retrying later without a human changing anything.
_RETRYABLE_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504, 520, 521, 522, 523, 524})


# The pollers produce the one ingest item shape (``monitoring.ingest.IngestItem``).
Author = ItemAuthor
Engagement = ItemEngagement
MentionItem = IngestItem


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
    headers: Mapping[str, str]
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


def http_get(
    url: str,
    *,
    headers: dict[str, str] | None = None,
    timeout: float = 10,
    max_bytes: int = MAX_RESPONSE_BYTES,
) -> HttpResponse:
    """GET ``url`` through the SSRF-safe client (``tenants.outbound``) and return the
    response; 304 is returned, not raised.

    ``timeout`` bounds the whole exchange, redirects included. Every failure is raised as
    :class:`PollError` with ``retryable`` set; a refused URL or address gives a message that
    starts with ``blocked:`` and names no internal address.
    """
    try:
        response = outbound.get(
            url,
            headers={"User-Agent": USER_AGENT, **(headers or {})},
            timeout=timeout,
            max_bytes=max_bytes,
        )
    except outbound.OutboundError as exc:
        raise PollError(exc.message, retryable=exc.retryable) from exc
    if response.status == 304 or 200 <= response.status < 300:
        return HttpResponse(response.status, response.headers, response.body, response.url)
    raise PollError(
        f"HTTP {response.status} {response.reason} from {response.url}".replace("  ", " "),
        retryable=response.status in _RETRYABLE_STATUS,
        status=response.status,
        retry_after=parse_retry_after(response.headers.get("Retry-After")),
    )


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
