"""GraphQL filter inputs built from the django-filter ``FilterSet`` that REST uses, and applied
by that same ``FilterSet``: both APIs accept the same filters and answer bad values alike
(BAD_USER_INPUT naming the argument, 400 naming the parameter).

``filter_input(FilterSet)`` decorates an empty ``@strawberry.input`` class: one optional
argument per filter, in the filter set's order, typed from the filter (whole numbers, date-times,
text). ``apply_filters`` runs the filter set on a queryset.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

import django_filters
import strawberry
from django.db.models import QuerySet

from tenants.filtersets import OrderingChoiceFilter
from tenants.graphql.errors import bad_input

T = TypeVar("T", bound=type)


def _python_type(flt: django_filters.Filter) -> Any:
    if isinstance(flt, django_filters.NumberFilter):
        return int
    if isinstance(flt, django_filters.IsoDateTimeFilter | django_filters.DateTimeFilter):
        return datetime
    if isinstance(flt, django_filters.BooleanFilter):
        return bool
    return str


def filter_input(
    filterset: type[django_filters.FilterSet], *, name: str, **options: Any
) -> Callable[[T], T]:
    """The input type of ``filterset``'s filters; its ordering (``OrderingChoiceFilter``) is
    a separate argument of the field (``ordering``), as REST's ``?ordering=`` is no filter."""

    def wrap(cls: T) -> T:
        annotations: dict[str, Any] = {}
        for field_name, flt in filterset.base_filters.items():
            if isinstance(flt, OrderingChoiceFilter):
                continue
            annotations[field_name] = _python_type(flt) | None
            setattr(cls, field_name, strawberry.UNSET)
        cls.__annotations__ = annotations
        return strawberry.input(cls, name=name, **options)

    return wrap


def apply_filters(
    filterset: type[django_filters.FilterSet],
    queryset: QuerySet[Any],
    filters: object | None,
    ordering: str | None = None,
) -> QuerySet[Any]:
    """``queryset`` narrowed by the given arguments of a ``filter_input``, and ordered by
    ``ordering`` (a value of the filter set's ``ordering`` filter), checked like REST's."""
    if filters is None and ordering is None:
        return queryset
    return bound_filterset(filterset, queryset, filters, ordering).qs  # type: ignore[no-any-return]


def bound_filterset(
    filterset: type[django_filters.FilterSet],
    queryset: QuerySet[Any],
    filters: object | None,
    ordering: str | None = None,
) -> django_filters.FilterSet:
    """The filter set bound to the given arguments of a ``filter_input`` and validated
    (BAD_USER_INPUT naming the first bad one), for callers that read its cleaned values."""
    data: dict[str, Any] = {} if ordering is None else {"ordering": ordering}
    for name, value in (vars(filters) if filters is not None else {}).items():
        if value is strawberry.UNSET or value is None:
            continue
        data[name] = value.isoformat() if isinstance(value, datetime) else value
    applied = filterset(data=data, queryset=queryset)
    if not applied.is_valid():
        field, messages = next(iter(applied.errors.items()))
        raise bad_input(f"{field}: {' '.join(messages)}", field)
    return applied
