"""Parsing and validating mention items, as the ingest API, webhooks, uploads and pollers send
them. Each rejected item says which item, which field and why; one bad item never sinks the
others.

One item::

    {"platform": "x", "external_id": "1789", "url": "...", "text": "...", "lang": "id",
     "published_at": "2026-11-20T08:15:00+07:00",
     "author": {"handle": "...", "name": "...", "followers": 1200, "verified": false},
     "engagement": {"likes": 3, "shares": 1, "replies": 0, "views": 250}, "raw": {...}}
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypedDict

from monitoring.choices import CASE_INSENSITIVE_HANDLES, Platform
from tenants import jsonguard
from tenants.api import errors


class ItemAuthor(TypedDict):
    handle: str
    name: str
    followers: int
    verified: bool


class ItemEngagement(TypedDict):
    likes: int
    shares: int
    replies: int
    views: int


class IngestItem(TypedDict):
    """One mention, the one shape every way in speaks: the ingest API and webhooks accept it
    (optional fields may be left out), uploads map columns onto it, pollers produce it, and
    ``validate_item`` gives it back canonical (every field present, ``lang`` ``""`` when
    unknown, ``published_at`` ISO 8601 in UTC) for the pipeline."""

    platform: str
    external_id: str
    url: str
    text: str
    lang: str | None
    published_at: str
    author: ItemAuthor
    engagement: ItemEngagement
    raw: dict[str, Any]


class QueuedItem(IngestItem):
    """A canonical item as a chunk stores it: with its ``index`` in the request, so a later
    refusal can name it."""

    index: int


MAX_ITEMS = 10_000
MAX_BYTES = 10 * 1024 * 1024
MAX_TEXT = 100_000
MAX_RAW_BYTES = 64 * 1024
PLATFORMS = frozenset(Platform.values)
# The field lists are read from the item's type, so they cannot drift from it.
ENGAGEMENT_FIELDS: tuple[str, ...] = tuple(ItemEngagement.__annotations__)
ENGAGEMENT_NAMES = frozenset(ENGAGEMENT_FIELDS)
ITEM_FIELDS = frozenset(IngestItem.__annotations__)
AUTHOR_FIELDS = frozenset(ItemAuthor.__annotations__)


class BodyError(ValueError):
    """The body as a whole cannot be read (not JSON, not a list, too many items)."""

    def __init__(self, message: str, code: str = errors.BODY_UNREADABLE.code) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


@dataclass
class Validated:
    items: list[QueuedItem] = field(default_factory=list)
    rejected: list[dict[str, Any]] = field(default_factory=list)


def parse_body(body: bytes, content_type: str = "application/json") -> list[Any]:
    """A JSON array (or a single object) or NDJSON (one object per line) as a list.

    Parsed with ``tenants.jsonguard``: numbers no column could hold stay as markers that
    ``validate_item`` refuses for their item alone; only nesting too deep to parse at all
    refuses the body (or, in NDJSON, its line).
    """
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BodyError(f"The body is not UTF-8 (byte {exc.start}).") from None
    stripped = text.lstrip()
    if not stripped:
        raise BodyError("The body is empty; send a JSON array or NDJSON.")
    ndjson = (
        "ndjson" in content_type
        or "jsonl" in content_type
        or (stripped[0] == "{" and "\n{" in stripped.rstrip())
    )
    if ndjson:
        items: list[Any] = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                items.append(jsonguard.parse(line))
            except json.JSONDecodeError as exc:
                # Keep the place: a bad line becomes a rejected item, not a rejected body.
                items.append(_BadLine(number, exc.msg))
            except jsonguard.JsonRefused as exc:
                items.append(_BadLine(number, exc.problem.message.rstrip(".")))
            if len(items) > MAX_ITEMS:
                raise BodyError(
                    f"At most {MAX_ITEMS} items per request.", errors.TOO_MANY_ITEMS.code
                )
        return items
    try:
        data = jsonguard.parse(text)
    except json.JSONDecodeError as exc:
        raise BodyError(
            f"Invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}."
        ) from None
    except jsonguard.JsonRefused as exc:
        raise BodyError(exc.problem.message, exc.problem.code) from None
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list):
        raise BodyError("Expected a JSON array of mention objects (or NDJSON).")
    if len(data) > MAX_ITEMS:
        raise BodyError(f"At most {MAX_ITEMS} items per request.", errors.TOO_MANY_ITEMS.code)
    return data


@dataclass(frozen=True)
class _BadLine:
    line: int
    message: str


@dataclass(frozen=True)
class BadRow:
    """A row of an upload that could not be read into an item; refused with this message."""

    message: str


class _Reject(Exception):
    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message


def _string(
    obj: dict[str, Any], name: str, *, required: bool, max_length: int, prefix: str = ""
) -> str:
    value = obj.get(name)
    if value is None or value == "":
        if required:
            raise _Reject(prefix + name, "This field is required.")
        return ""
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise _Reject(prefix + name, "Must be a string.")
    value = str(value).strip()
    if "\x00" in value:
        raise _Reject(prefix + name, "Must not contain NUL characters.")
    if len(value) > max_length:
        raise _Reject(prefix + name, f"At most {max_length} characters.")
    return value


def _count(obj: dict[str, Any], name: str, prefix: str) -> int:
    value = obj.get(name, 0)
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
        raise _Reject(prefix + name, "Must be a whole number.")
    if value < 0 or value > 10**15:
        raise _Reject(prefix + name, "Must be between 0 and 10^15.")
    return int(value)


def parse_time(value: Any, name: str = "published_at") -> datetime:
    if not isinstance(value, str):
        raise _Reject(name, "Must be an ISO-8601 date-time string with a time zone.")
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise _Reject(name, f"'{value[:40]}' is not an ISO-8601 date-time.") from None
    if moment.tzinfo is None:
        raise _Reject(name, "Needs a time zone offset, e.g. +07:00 or Z.")
    if moment.year < 2000 or moment > latest_accepted(datetime.now(UTC)):
        raise _Reject(name, "Out of range (before 2000 or more than a year ahead).")
    return moment.astimezone(UTC)


def latest_accepted(now: datetime) -> datetime:
    """The latest publication time accepted at ``now``: a year ahead, as 366 days (a calendar
    year ahead of 29 February does not exist)."""
    return now + timedelta(days=366)


def validate_item(obj: Any) -> IngestItem:
    """One item in canonical form, or ``_Reject`` naming the first bad field."""
    if isinstance(obj, _BadLine):
        raise _Reject("", f"Line {obj.line} is not valid JSON: {obj.message}.")
    if isinstance(obj, BadRow):
        raise _Reject("", obj.message)
    if not isinstance(obj, dict):
        raise _Reject("", "Each item must be a JSON object.")
    # NUL characters, lone surrogates, numbers out of range, nesting: anywhere in the item.
    problem = jsonguard.find_problem(obj, depth=1)
    if problem is not None:
        raise _Reject(problem.path or "", problem.message)
    unknown = obj.keys() - ITEM_FIELDS  # sorted only when there is one to name
    if unknown:
        raise _Reject(sorted(str(name) for name in unknown)[0], "Unknown field.")
    platform = _string(obj, "platform", required=True, max_length=16).lower()
    if platform not in PLATFORMS:
        raise _Reject(
            "platform", f"Unknown platform '{platform}'; one of {', '.join(sorted(PLATFORMS))}."
        )
    external_id = _string(obj, "external_id", required=True, max_length=200)
    text = obj.get("text")
    if not isinstance(text, str) or not text.strip():
        raise _Reject("text", "This field is required and must be a non-empty string.")
    if len(text) > MAX_TEXT:
        raise _Reject("text", f"At most {MAX_TEXT} characters.")
    if "\x00" in text:
        raise _Reject("text", "Must not contain NUL characters.")
    url = _string(obj, "url", required=False, max_length=2000)
    if url and not url.startswith(("http://", "https://")):
        raise _Reject("url", "Must be an http(s) URL.")
    lang = _string(obj, "lang", required=False, max_length=8).lower()
    published = parse_time(obj.get("published_at"))
    author = obj.get("author") or {}
    if not isinstance(author, dict):
        raise _Reject("author", "Must be an object.")
    unknown = author.keys() - AUTHOR_FIELDS
    if unknown:
        raise _Reject(f"author.{sorted(str(name) for name in unknown)[0]}", "Unknown field.")
    verified = author.get("verified", False)
    if not isinstance(verified, bool):
        raise _Reject("author.verified", "Must be true or false.")
    engagement = obj.get("engagement") or {}
    if not isinstance(engagement, dict):
        raise _Reject("engagement", "Must be an object.")
    unknown = engagement.keys() - ENGAGEMENT_NAMES
    if unknown:
        raise _Reject(f"engagement.{sorted(str(name) for name in unknown)[0]}", "Unknown field.")
    raw = obj.get("raw") or {}
    if not isinstance(raw, dict):
        raise _Reject("raw", "Must be an object.")
    if raw and len(json.dumps(raw)) > MAX_RAW_BYTES:  # {} is 2 bytes
        raise _Reject("raw", f"At most {MAX_RAW_BYTES} bytes of JSON.")
    return {
        "platform": platform,
        "external_id": external_id,
        "url": url,
        "text": text,
        "lang": lang,
        "published_at": published.isoformat(),
        "author": {
            "handle": normalise_handle(
                platform,
                _string(author, "handle", required=False, max_length=200, prefix="author."),
            ),
            "name": _string(author, "name", required=False, max_length=200, prefix="author."),
            "followers": _count(author, "followers", "author."),
            "verified": verified,
        },
        "engagement": ItemEngagement(
            likes=_count(engagement, "likes", "engagement."),
            shares=_count(engagement, "shares", "engagement."),
            replies=_count(engagement, "replies", "engagement."),
            views=_count(engagement, "views", "engagement."),
        ),
        "raw": raw,
    }


def normalise_handle(platform: str, handle: str) -> str:
    """An author handle as stored: without surrounding whitespace and leading '@'s, in lower
    case on platforms whose handles are case-insensitive (``CASE_INSENSITIVE_HANDLES``), so
    ``@KopiSenja`` and ``kopisenja`` on X are one author in filters and top lists."""
    handle = handle.strip().lstrip("@").strip()
    return handle.lower() if platform in CASE_INSENSITIVE_HANDLES else handle


def handle_forms(value: str) -> list[str]:
    """The stored forms an author filter value may name, whatever the platform: as given and
    in lower case, each without a leading '@' (``normalise_handle``)."""
    handle = value.strip().lstrip("@").strip()
    return list(dict.fromkeys((handle, handle.lower())))


def validate_items(objects: list[Any]) -> Validated:
    """Valid items (each with its ``index`` in ``objects``, so a later refusal can name it) and
    the rejected ones."""
    result = Validated()
    for index, obj in enumerate(objects):
        try:
            result.items.append(QueuedItem(**validate_item(obj), index=index))
        except _Reject as exc:
            result.rejected.append({"index": index, "field": exc.field, "message": exc.message})
    return result


# --- The item's documented schema (openapi.yaml) ----------------------------------------------
# Built from the same names and limits ``validate_item`` checks; ``tests/monitoring`` compares
# its fields with ``IngestItem`` and posts its examples.
REQUIRED_FIELDS = ("platform", "external_id", "text", "published_at")
MAX_COUNT = 10**15


def _text(max_length: int, description: str, **extra: Any) -> dict[str, Any]:
    return {"type": "string", "maxLength": max_length, "description": description, **extra}


def _count_schema(description: str) -> dict[str, Any]:
    return {
        "type": "integer",
        "minimum": 0,
        "maximum": MAX_COUNT,
        "nullable": True,
        "description": description + " (null or left out: 0)",
    }


def item_schema() -> dict[str, Any]:
    """The JSON schema (OpenAPI 3.0) of one ingest item."""
    counts = {name: _count_schema(f"Number of {name}") for name in ENGAGEMENT_FIELDS}
    return {
        "type": "object",
        "description": (
            "One mention. Unknown fields are refused; an item that breaks a rule is rejected "
            "alone (`rejected` in the answer names its index, field and reason)."
        ),
        "additionalProperties": False,
        "required": list(REQUIRED_FIELDS),
        "properties": {
            "platform": {
                "type": "string",
                "enum": sorted(PLATFORMS),
                "description": "Where it was posted (case-insensitive).",
            },
            "external_id": {
                "oneOf": [
                    {"type": "string", "minLength": 1, "maxLength": 200},
                    {"type": "integer"},
                ],
                "description": (
                    "The post's id on its platform; with the platform it identifies the mention "
                    "(a repeat updates nothing)."
                ),
            },
            "url": _text(2000, "Link to the post: an http(s) URL.", pattern="^https?://"),
            "text": _text(MAX_TEXT, "The post's text.", minLength=1, pattern=r"\S"),
            "lang": _text(
                8, "ISO 639-1 code such as 'id'; empty or null: detected.", nullable=True
            ),
            "published_at": {
                "type": "string",
                "format": "date-time",
                "description": (
                    "ISO 8601 with a time zone offset (e.g. +07:00 or Z), from 2000 to a year "
                    "ahead."
                ),
            },
            "author": {
                "type": "object",
                "nullable": True,
                "additionalProperties": False,
                "properties": {
                    "handle": _text(
                        200,
                        "Stored without leading '@' (lower case where handles are "
                        "case-insensitive).",
                        nullable=True,
                    ),
                    "name": _text(200, "Display name.", nullable=True),
                    "followers": _count_schema("Followers"),
                    "verified": {"type": "boolean", "default": False},
                },
            },
            "engagement": {
                "type": "object",
                "nullable": True,
                "additionalProperties": False,
                "properties": counts,
            },
            "raw": {
                "type": "object",
                "nullable": True,
                "additionalProperties": True,
                "description": f"The source's own record, kept as is (at most {MAX_RAW_BYTES} "
                "bytes of JSON).",
            },
        },
    }


EXAMPLE_ITEMS: list[dict[str, Any]] = [
    {
        "platform": "x",
        "external_id": "1861000000000000001",
        "url": "https://x.com/kopisenja/status/1861000000000000001",
        "text": "Kopi Senja outlet Kemang tutup mendadak, ada apa?",
        "lang": "id",
        "published_at": "2026-11-20T08:15:00+07:00",
        "author": {"handle": "@KopiLover", "name": "Kopi Lover", "followers": 1200},
        "engagement": {"likes": 3, "shares": 1, "replies": 0, "views": 250},
    },
    {
        "platform": "instagram",
        "external_id": "C1a2b3",
        "text": "Antre lama tapi kopinya enak #kopisenja",
        "published_at": "2026-11-20T09:00:00Z",
    },
]
