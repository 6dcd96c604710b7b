"""django-filter filter sets of the tenants app, and the strict filters every app's filter sets
use: whole numbers (ASCII digits within a 64-bit column's range) and date-times given to the
database in UTC, or a 400 naming the parameter."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django_filters.fields import IsoDateTimeField

from tenants.models import Membership, Tenant
from tenants.roles import Role

BIGINT_MAX = 2**63 - 1
WHOLE_NUMBER = re.compile(r"-?[0-9]{1,19}")


class StrictIntegerField(forms.IntegerField):
    """Only ``-?[0-9]+`` (no ``1e30``, ``1.0``, ``١٢٣`` or spaces), within a bigint."""

    default_error_messages = {
        "invalid": _("Enter a whole number."),
        "out_of_range": _("Must be from %(minimum)d to %(maximum)d."),
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", -BIGINT_MAX)
        kwargs.setdefault("max_value", BIGINT_MAX)
        super().__init__(*args, **kwargs)

    def to_python(self, value: Any) -> int | None:
        if value in self.empty_values:
            return None
        text = str(value)
        if not WHOLE_NUMBER.fullmatch(text):
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        number = int(text)
        if not self.min_value <= number <= self.max_value:  # type: ignore[operator]
            raise ValidationError(
                self.error_messages["out_of_range"],
                code="out_of_range",
                params={"minimum": self.min_value, "maximum": self.max_value},
            )
        return number


class IntegerFilter(django_filters.NumberFilter):  # type: ignore[misc]
    """``NumberFilter`` for whole numbers and ids, parsed by ``StrictIntegerField``."""

    field_class = StrictIntegerField


class UtcDateTimeField(IsoDateTimeField):  # type: ignore[misc]
    """An ISO 8601 date-time, given to the database in UTC.

    Python accepts UTC offsets up to 24 hours, PostgreSQL only up to 15:59; converting to UTC
    here means an offset such as ``+20:14`` filters correctly instead of failing in the database,
    and a date that leaves the calendar in UTC (year 1 with a positive offset) is a 400.
    """

    def to_python(self, value: Any) -> datetime | None:
        moment: datetime | None = super().to_python(value)
        if moment is None:
            return None
        try:
            return moment.astimezone(UTC)
        except OverflowError:
            raise forms.ValidationError(
                _("This date and time is out of range."), code="overflow"
            ) from None


class UtcDateTimeFilter(django_filters.IsoDateTimeFilter):  # type: ignore[misc]
    field_class = UtcDateTimeField


class OrderingChoiceFilter(django_filters.ChoiceFilter):  # type: ignore[misc]
    """``ordering``: one name of ``orderings`` (ascending) or ``-name`` (descending); an unknown
    one is a 400 naming the parameter (BAD_USER_INPUT on GraphQL), never silently ignored.

    ``orderings`` maps each public name to its columns; the last column is unique (``id``), so
    the order is total, and all columns go in the one direction, so a keyset pagination
    (``tenants.api.pagination.KeysetPagination.orderings``) pages by the same columns.
    """

    def __init__(self, orderings: dict[str, tuple[str, ...]], **kwargs: Any) -> None:
        self.orderings = orderings
        choices = [(f"{sign}{name}", f"{sign}{name}") for name in orderings for sign in ("", "-")]
        kwargs.setdefault("label", "Order: " + ", ".join(value for value, _label in choices))
        super().__init__(choices=choices, **kwargs)

    def columns(self, value: str) -> list[str]:
        descending = value.startswith("-")
        return [
            f"-{column}" if descending else column
            for column in self.orderings[value.removeprefix("-")]
        ]

    def filter(self, qs: Any, value: Any) -> Any:
        if not value:
            return qs
        return qs.order_by(*self.columns(value))


class TenantFilterSet(django_filters.FilterSet):  # type: ignore[misc]
    q = django_filters.CharFilter(field_name="name", lookup_expr="icontains", label="Name contains")

    class Meta:
        model = Tenant
        fields = ("status", "default_language")


class MembershipFilterSet(django_filters.FilterSet):  # type: ignore[misc]
    role = django_filters.ChoiceFilter(choices=Role.choices)
    email = django_filters.CharFilter(field_name="user__email", lookup_expr="icontains")

    class Meta:
        model = Membership
        fields = ("role", "email")
