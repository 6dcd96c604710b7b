"""The page body every list endpoint answers with: ``{count, next, previous, results}``.

``page`` and ``page_size`` are read strictly: ASCII digits within range, or a 400 naming the
parameter (never a silent default, never a database error for ``1e30``).
"""

from __future__ import annotations

import re
from typing import Any

from django.utils.translation import gettext as _
from rest_framework import pagination, serializers
from rest_framework.request import Request

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
