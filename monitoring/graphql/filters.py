"""GraphQL inputs of the monitoring app. ``MentionFilter`` is built from ``MentionFilterSet``
and applied by it (``tenants.graphql.filters``), so both APIs filter identically."""

from __future__ import annotations

import strawberry
from django.db.models import QuerySet

from monitoring.filtersets import MentionFilterSet
from monitoring.models import Mention
from tenants.graphql.errors import bad_input
from tenants.graphql.filters import apply_filters, filter_input

MAX_LIMIT = 200
MAX_OFFSET = 10_000


@filter_input(MentionFilterSet, name="MentionFilter")
class MentionFilter:
    pass  # one argument per MentionFilterSet filter (no docstring: it would be the description)


@strawberry.input(name="MentionPagination")
class MentionPagination:
    """An offset into the ordered list. For deep paging use ``published_before`` (or the REST
    cursor)."""

    offset: int = 0
    limit: int = 50


def filter_mentions(
    queryset: QuerySet[Mention], filters: MentionFilter | None, ordering: str | None = None
) -> QuerySet[Mention]:
    """The mentions matching ``filters``, in the order ``ordering`` names (REST's names:
    ``monitoring.filtersets.MENTION_ORDERINGS``; default: the queryset's, newest first)."""
    return apply_filters(MentionFilterSet, queryset, filters, ordering)


def paginate(queryset: QuerySet[Mention], pagination: MentionPagination | None) -> list[Mention]:
    page = pagination or MentionPagination()
    if not 1 <= page.limit <= MAX_LIMIT:
        raise bad_input(f"limit: between 1 and {MAX_LIMIT}.", "limit")
    if not 0 <= page.offset <= MAX_OFFSET:
        raise bad_input(
            f"offset: between 0 and {MAX_OFFSET}; page further with published_before.", "offset"
        )
    return list(queryset[page.offset : page.offset + page.limit])
