"""Pagination of every REST list.

``PageNumberPagination`` is the default page body: ``{count, next, previous, results}``.
``KeysetPagination`` pages large, growing lists (mentions; later alerts and timelines) on a
``(timestamp, id)`` key, newest first (or on the key of another ordering the list offers, such
as ``-risk``), without any COUNT: ``{next, previous, results}`` with an opaque cursor.
``page``, ``page_size`` and ``cursor`` are read strictly: ASCII digits within range (or a
well-formed cursor), or a 400 naming the parameter (never a silent default, never a database
error for ``1e30``).
"""

from __future__ import annotations

import base64
import binascii
import re
from datetime import UTC, datetime
from typing import Any, ClassVar

from django.db.models import DateTimeField, F, Model, QuerySet
from django.db.models.fields.tuple_lookups import Tuple, TupleGreaterThan, TupleLessThan
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from rest_framework import pagination, serializers
from rest_framework.request import Request
from rest_framework.utils.urls import remove_query_param, replace_query_param

from tenants.api import errors

DIGITS = re.compile(r"[0-9]{1,18}")
KEY_NUMBER = re.compile(r"-?[0-9]{1,19}")
BIGINT_MAX = 2**63 - 1
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
    error_codes: ClassVar[tuple[errors.ErrorCode, ...]] = (errors.BAD_PAGE, errors.BAD_PAGE_SIZE)
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
    queryset: QuerySet[Any],
    columns: tuple[str, ...],
    values: tuple[Any, ...],
    *,
    descending: bool,
) -> QuerySet[Any]:
    """Keyset step on ``columns`` (the last one unique, e.g. ``id``): the rows after ``values``
    in the order of the columns, all descending or all ascending, in that order.

    A row comparison, so PostgreSQL walks an index on ``(tenant, *columns)`` from the cursor
    instead of counting past earlier pages.
    """
    key = Tuple(*(F(column) for column in columns))
    if descending:
        step = queryset.filter(TupleLessThan(key, values))
        return step.order_by(*(f"-{column}" for column in columns))
    return queryset.filter(TupleGreaterThan(key, values)).order_by(*columns)


class KeysetPagination(pagination.CursorPagination):
    """Keyset pagination, newest first by default, without any COUNT.

    Subclasses set ``key_field`` (a datetime column; by default the list is ordered by
    ``-key_field, -id`` and an index should cover ``(tenant, -key_field, -id)``) and may offer
    more orders in ``orderings``: a public name (given as ``?ordering=name`` or ``-name`` for
    descending) to its key columns, the last one unique; the filter set validates the parameter
    (``tenants.filtersets.OrderingChoiceFilter``) and this class pages by the same columns. The
    cursor is opaque: it names the ordering, the last (or first) row's key and a direction; a
    cursor of another ordering is refused (400 on ``cursor``).
    """

    error_codes: ClassVar[tuple[errors.ErrorCode, ...]] = (
        errors.BAD_PAGE_SIZE,
        errors.BAD_CURSOR,
        errors.UNKNOWN_ORDERING,
    )
    key_field = "created_at"
    orderings: ClassVar[dict[str, tuple[str, ...]]] = {}
    ordering_param = "ordering"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    @property
    def ordering(self) -> tuple[str, str]:  # type: ignore[override]
        return (f"-{self.key_field}", "-id")

    def key_orderings(self) -> dict[str, tuple[str, ...]]:
        return self.orderings or {self.key_field: (self.key_field, "id")}

    def keyset(self, request: Request) -> tuple[str, tuple[str, ...], bool]:
        """The list's ordering: its name (default ``-key_field``), key columns and direction."""
        name = request.query_params.get(self.ordering_param) or f"-{self.key_field}"
        columns = self.key_orderings().get(name.removeprefix("-"))
        if columns is None:
            raise serializers.ValidationError(
                {self.ordering_param: _("Unknown ordering '%(name)s'.") % {"name": name}},
                code="invalid_choice",
            )
        return name, columns, name.startswith("-")

    def get_page_size(self, request: Request) -> int:
        size = int_param(request, self.page_size_query_param, minimum=1, maximum=self.max_page_size)
        return size or self.page_size

    def paginate_queryset(  # type: ignore[override]
        self, queryset: QuerySet[Any], request: Request, view: Any = None
    ) -> list[Any]:
        self.request = request
        self.page_url = request.build_absolute_uri()
        size = self.get_page_size(request) or self.page_size
        self.ordering_name, self.columns, descending = self.keyset(request)
        cursor = self.decode_cursor(request, queryset.model)
        reverse = False
        if cursor is None:
            queryset = queryset.order_by(
                *(f"-{column}" if descending else column for column in self.columns)
            )
        else:
            values, reverse = cursor
            queryset = keyset_after(
                queryset, self.columns, values, descending=descending != reverse
            )
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

    def decode_cursor(  # type: ignore[override]
        self, request: Request, model: type[Model] | None = None
    ) -> tuple[tuple[Any, ...], bool] | None:
        """The key values and direction (True: towards the start) of the request's cursor."""
        encoded = request.query_params.get(self.cursor_query_param)
        if not encoded:
            return None
        try:
            text = base64.urlsafe_b64decode(encoded.encode("ascii")).decode("ascii")
            name, *raw, direction = text.split("|")
            if name != self.ordering_name or len(raw) != len(self.columns):
                raise ValueError(text)
            if direction not in ("n", "p"):
                raise ValueError(text)
            values = tuple(
                _key_value(model, column, value)
                for column, value in zip(self.columns, raw, strict=True)
            )
            return values, direction == "p"
        except (ValueError, OverflowError, UnicodeError, binascii.Error):
            raise serializers.ValidationError(
                {self.cursor_query_param: _("Invalid cursor.")}, code="invalid_cursor"
            ) from None

    def link(self, row: Model, direction: str) -> str:
        values = []
        for column in self.columns:
            value = getattr(row, column)
            values.append(value.isoformat() if isinstance(value, datetime) else str(value))
        raw = "|".join([self.ordering_name, *values, direction])
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


def _key_value(model: type[Model] | None, column: str, raw: str) -> Any:
    """One key value of a cursor, typed like its column (a date-time or a whole number);
    ``ValueError`` (or ``OverflowError``) when it is not one."""
    field = model._meta.get_field(column) if model is not None else None
    if isinstance(field, DateTimeField):
        value = parse_datetime(raw)
        if value is None:
            raise ValueError(raw)
        value.astimezone(UTC)  # OverflowError for a time out of range in UTC
        return value
    if not KEY_NUMBER.fullmatch(raw) or not -BIGINT_MAX <= int(raw) <= BIGINT_MAX:
        raise ValueError(raw)
    return int(raw)
