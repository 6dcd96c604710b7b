"""Reading CSV, JSON and NDJSON exports of other listening tools into mention items.

A file that cannot be read as a whole (not UTF-8 or UTF-16, no header row, a field larger than
the CSV reader's limit, an unterminated quote) is refused naming ``file``; a row that can be
read but is wrong (too many or too few fields, a bad value) is refused alone, with its index.

A mapping that names no ``external_id`` column gives each row one derived from the row itself
(``derived_external_id``): uploading the same export again adds nothing twice.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import json
import zoneinfo
from datetime import datetime
from typing import Any

from monitoring.ingest import (
    AUTHOR_FIELDS,
    ENGAGEMENT_FIELDS,
    ITEM_FIELDS,
    MAX_ITEMS,
    BadRow,
    BodyError,
    parse_body,
)

FORMATS = ("csv", "json", "ndjson")
# Mapping targets: the ingest item's fields, nested ones written as "author.handle".
COUNT_FIELDS = {"author.followers", *(f"engagement.{name}" for name in ENGAGEMENT_FIELDS)}
TARGETS = (
    (ITEM_FIELDS - {"author", "engagement", "raw"})
    | {f"author.{name}" for name in AUTHOR_FIELDS}
    | COUNT_FIELDS
)
# The mapping the API documents (monitoring.api.ingest.UploadView): columns of a typical export.
EXAMPLE_MAPPING = {
    "text": "Content",
    "published_at": "Date",
    "author.handle": "Author",
    "platform": "=x",
}
DATE_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%d/%m/%Y %H:%M", "%d/%m/%Y", "%Y-%m-%d")


class UploadError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def _format(name: str, given: str | None) -> str:
    if given:
        if given not in FORMATS:
            raise UploadError("format", f"One of {', '.join(FORMATS)}.")
        return given
    suffix = name.rsplit(".", 1)[-1].lower()
    if suffix in ("jsonl", "ndjson"):
        return "ndjson"
    if suffix in FORMATS:
        return suffix
    raise UploadError("format", "Name the format (csv, json or ndjson) or use that file suffix.")


def _mapping(mapping: Any) -> dict[str, str]:
    if isinstance(mapping, str):
        try:
            mapping = json.loads(mapping)
        except json.JSONDecodeError:
            raise UploadError("mapping", "Must be a JSON object of field -> column.") from None
    if not isinstance(mapping, dict):
        raise UploadError("mapping", "Must be a JSON object of field -> column.")
    unknown = sorted(set(mapping) - TARGETS)
    if unknown:
        raise UploadError(
            "mapping", f"Unknown field '{unknown[0]}'; fields: {', '.join(sorted(TARGETS))}."
        )
    if not all(isinstance(column, str) for column in mapping.values()):
        raise UploadError("mapping", "Each column must be a string.")
    return mapping


def _number(value: Any) -> Any:
    if isinstance(value, str):
        cleaned = value.replace(",", "").replace(".", "").strip()
        return int(cleaned) if cleaned.isdigit() else (value or 0)
    return value


def _time(value: Any, tz: zoneinfo.ZoneInfo) -> Any:
    if not isinstance(value, str) or not value.strip():
        return value
    text = value.strip()
    moment: datetime | None = None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        for fmt in DATE_FORMATS:
            try:
                moment = datetime.strptime(text, fmt)
                break
            except ValueError:
                continue
        if moment is None:
            return value  # the item validator names the field
    if moment.tzinfo is None:  # exports often give local times: the tenant's time zone
        moment = moment.replace(tzinfo=tz)
    return moment.isoformat()


def derived_external_id(row: dict[str, Any]) -> str:
    """A stable id for a row whose export has no id column: a digest of all its values."""
    digest = hashlib.sha256(json.dumps(row, sort_keys=True, default=str).encode()).hexdigest()
    return f"upload-{digest[:32]}"


def _apply(row: dict[str, Any], mapping: dict[str, str], tz: zoneinfo.ZoneInfo) -> Any:
    if not mapping:
        return row
    item: dict[str, Any] = {}
    if "external_id" not in mapping:
        item["external_id"] = derived_external_id(row)
    for target, column in mapping.items():
        value = column[1:] if column.startswith("=") else row.get(column)
        if value is None or value == "":
            continue
        if target in COUNT_FIELDS:
            value = _number(value)
        elif target == "author.verified" and isinstance(value, str):
            value = value.strip().lower() in ("1", "true", "yes", "y", "ya")
        elif target == "published_at":
            value = _time(value, tz)
        if "." in target:
            group, name = target.split(".", 1)
            item.setdefault(group, {})[name] = value
        else:
            item[target] = value
    return item


def _decode(data: bytes) -> str:
    """UTF-8 (with or without a byte order mark), or UTF-16 with one (Excel's "Unicode text")."""
    try:
        if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return data.decode("utf-16")
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UploadError(
            "file", f"The file is not UTF-8 (or UTF-16 with a BOM) text (byte {exc.start})."
        ) from None


def _read_csv(data: bytes, fields: dict[str, str], tz: zoneinfo.ZoneInfo) -> list[Any]:
    # newline="" lets the csv module see bare CR and CRLF line ends, and newlines in quotes.
    reader = csv.reader(io.StringIO(_decode(data), newline=""))
    try:
        header = next(reader, None)
        if not header or not any(name.strip() for name in header):
            raise UploadError("file", "The CSV file has no header row.")
        missing = sorted({c for c in fields.values() if not c.startswith("=")} - set(header))
        if missing:
            raise UploadError("mapping", f"Column '{missing[0]}' is not in the file.")
        rows: list[Any] = []
        for values in reader:
            if not values:
                continue  # a blank line
            if len(values) != len(header):
                rows.append(
                    BadRow(
                        f"Line {reader.line_num} has {len(values)} fields; "
                        f"the header has {len(header)}."
                    )
                )
            else:
                rows.append(_apply(dict(zip(header, values, strict=True)), fields, tz))
            if len(rows) > MAX_ITEMS:
                raise UploadError("file", f"At most {MAX_ITEMS} rows per upload.")
    except csv.Error as exc:
        raise UploadError("file", f"Line {reader.line_num} cannot be read as CSV: {exc}.") from None
    return rows


def read_export(
    data: bytes, *, name: str, format: str | None, mapping: Any, time_zone: str
) -> list[Any]:
    """Rows of an export as raw items (validated later, item by item)."""
    kind = _format(name, format)
    fields = _mapping(mapping)
    tz = zoneinfo.ZoneInfo(time_zone)
    if kind == "csv":
        return _read_csv(data, fields, tz)
    try:
        objects = parse_body(
            data, "application/x-ndjson" if kind == "ndjson" else "application/json"
        )
    except BodyError as exc:
        raise UploadError("file", exc.message) from None
    return [_apply(obj, fields, tz) if isinstance(obj, dict) else obj for obj in objects]
