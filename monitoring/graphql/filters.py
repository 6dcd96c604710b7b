"""GraphQL inputs of the monitoring app. Mention filters are applied by the same
``MentionFilterSet`` as REST, so both APIs filter identically."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from django.db.models import QuerySet
from graphql import GraphQLError

from monitoring.filtersets import MentionFilterSet
from monitoring.models import Mention

MAX_LIMIT = 200
MAX_OFFSET = 10_000


@strawberry.input(name="MentionFilter")
class MentionFilter:
    query: int | None = strawberry.UNSET
    sentiment: str | None = strawberry.UNSET
    language: str | None = strawberry.UNSET
    platform: str | None = strawberry.UNSET
    author: str | None = strawberry.UNSET
    published_after: datetime | None = strawberry.UNSET
    published_before: datetime | None = strawberry.UNSET
    min_risk: int | None = strawberry.UNSET
    status: str | None = strawberry.UNSET
    tag: str | None = strawberry.UNSET
    q: str | None = strawberry.UNSET


@strawberry.input(name="MentionPagination")
class MentionPagination:
    """Newest first. For deep paging use ``published_before`` (or the REST cursor)."""

    offset: int = 0
    limit: int = 50


def bad_input(message: str, field: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": "BAD_USER_INPUT", "field": field})


def filter_mentions(queryset: QuerySet[Mention], filters: MentionFilter | None) -> Any:
    if filters is None:
        return queryset
    data: dict[str, Any] = {}
    for name, value in vars(filters).items():
        if value is strawberry.UNSET or value is None:
            continue
        data[name] = value.isoformat() if isinstance(value, datetime) else value
    filterset = MentionFilterSet(data=data, queryset=queryset)
    if not filterset.is_valid():
        field, messages = next(iter(filterset.errors.items()))
        raise bad_input(f"{field}: {' '.join(messages)}", field)
    return filterset.qs


def paginate(queryset: QuerySet[Mention], pagination: MentionPagination | None) -> list[Mention]:
    page = pagination or MentionPagination()
    if not 1 <= page.limit <= MAX_LIMIT:
        raise bad_input(f"limit: between 1 and {MAX_LIMIT}.", "limit")
    if not 0 <= page.offset <= MAX_OFFSET:
        raise bad_input(
            f"offset: between 0 and {MAX_OFFSET}; page further with published_before.", "offset"
        )
    return list(queryset[page.offset : page.offset + page.limit])
