"""Pagination of every REST list.

``PageNumberPagination`` is the default page body: ``{count, next, previous, results}``.
``KeysetPagination`` pages large, growing lists (mentions; later alerts and timelines) on a
``(timestamp, id)`` key, newest first, without any COUNT: ``{next, previous, results}`` with an
opaque cursor. ``page``, ``page_size`` and ``cursor`` are read strictly: ASCII digits within
range (or a well-formed cursor), or a 400 naming the parameter (never a silent default, never a
database error for ``1e30``).
"""

from __future__ import annotations

import base64
import binascii
import re
from datetime import UTC, datetime
from typing import Any

from django.db.models import F, Model, QuerySet
from django.db.models.fields.tuple_lookups import Tuple, TupleGreaterThan, TupleLessThan
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from rest_framework import pagination, serializers
from rest_framework.request import Request
from rest_framework.utils.urls import remove_query_param, replace_query_param

DIGITS = re.compile(r"[0-9]{1,18}")
MAX_PAGE = 10**9


def int_param(request: Request, name: str, *, minimum: int, maximum: int) -> int | None:
    """A whole-number query parameter within ``[minimum, maximum]``; None when absent or empty."""
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    value = int(raw) if DIGITS.fullmatch(raw) else None
    if value is None or not minimum <= value <= maximum:
        raise serializers.ValidationError(
            {
                name: _("Must be a whole number from %(minimum)d to %(maximum)d.")
                % {"minimum": minimum, "maximum": maximum}
            },
            code="invalid",
        )
    return value


class PageNumberPagination(pagination.PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500

    def get_page_size(self, request: Request) -> int:
        size = int_param(request, self.page_size_query_param, minimum=1, maximum=self.max_page_size)
        return size or self.page_size

    def get_page_number(self, request: Request, paginator: Any) -> Any:
        raw = request.query_params.get(self.page_query_param)
        if raw in self.last_page_strings:
            return paginator.num_pages
        return int_param(request, self.page_query_param, minimum=1, maximum=MAX_PAGE) or 1


def keyset_after(
    queryset: QuerySet[Any], key: str, value: datetime, pk: int, *, reverse: bool = False
) -> QuerySet[Any]:
    """Keyset step on ``(key, id)``: rows older than the cursor (newer if ``reverse``).

    A row comparison, so PostgreSQL walks a ``(tenant, -key, -id)`` index from the cursor
    instead of counting past earlier pages.
    """
    pair = Tuple(F(key), F("id"))
    if reverse:
        return queryset.filter(TupleGreaterThan(pair, (value, pk))).order_by(key, "id")
    return queryset.filter(TupleLessThan(pair, (value, pk))).order_by(f"-{key}", "-id")


class KeysetPagination(pagination.CursorPagination):
    """Keyset pagination on ``(key_field, id)``, newest first, without any COUNT.

    Subclasses set ``key_field`` (a datetime column; the list must be ordered by
    ``-key_field, -id`` and an index should cover ``(tenant, -key_field, -id)``) and may
    override ``after`` to use a selector. The cursor is opaque: it names the last (or first)
    row of the page and a direction.
    """

    key_field = "created_at"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    @property
    def ordering(self) -> tuple[str, str]:  # type: ignore[override]
        return (f"-{self.key_field}", "-id")

    def after(
        self, queryset: QuerySet[Any], value: datetime, pk: int, *, reverse: bool
    ) -> QuerySet[Any]:
        return keyset_after(queryset, self.key_field, value, pk, reverse=reverse)

    def get_page_size(self, request: Request) -> int:
        size = int_param(request, self.page_size_query_param, minimum=1, maximum=self.max_page_size)
        return size or self.page_size

    def paginate_queryset(  # type: ignore[override]
        self, queryset: QuerySet[Any], request: Request, view: Any = None
    ) -> list[Any]:
        self.request = request
        self.page_url = request.build_absolute_uri()
        size = self.get_page_size(request) or self.page_size
        cursor = self.decode_cursor(request)
        reverse = False
        if cursor is not None:
            value, pk, reverse = cursor
            queryset = self.after(queryset, value, pk, reverse=reverse)
        rows = list(queryset[: size + 1])
        more = len(rows) > size
        rows = rows[:size]
        if reverse:
            rows.reverse()
            self.has_next, self.has_previous = bool(rows), more
        else:
            self.has_next, self.has_previous = more, cursor is not None and bool(rows)
        self.rows = rows
        return rows

    def decode_cursor(self, request: Request) -> Any:
        encoded = request.query_params.get(self.cursor_query_param)
        if not encoded:
            return None
        try:
            text = base64.urlsafe_b64decode(encoded.encode("ascii")).decode("ascii")
            stamp, pk, direction = text.split("|")
            value = parse_datetime(stamp)
            if value is None or direction not in ("n", "p") or not DIGITS.fullmatch(pk):
                raise ValueError(text)
            value.astimezone(UTC)  # OverflowError for a time out of range in UTC
            return value, int(pk), direction == "p"
        except (ValueError, OverflowError, UnicodeError, binascii.Error):
            raise serializers.ValidationError(
                {self.cursor_query_param: _("Invalid cursor.")}, code="invalid_cursor"
            ) from None

    def link(self, row: Model, direction: str) -> str:
        raw = f"{getattr(row, self.key_field).isoformat()}|{row.pk}|{direction}"
        token = base64.urlsafe_b64encode(raw.encode("ascii")).decode("ascii")
        return replace_query_param(self.page_url, self.cursor_query_param, token)

    def get_next_link(self) -> str | None:
        return self.link(self.rows[-1], "n") if self.has_next and self.rows else None

    def get_previous_link(self) -> str | None:
        if not self.has_previous:
            return None
        if not self.rows:
            return remove_query_param(self.page_url, self.cursor_query_param)
        return self.link(self.rows[0], "p")
