"""django-filter filter sets of the tenants app, and the strict filters every app's filter sets
use for numbers: ASCII digits within a 64-bit column's range, or a 400 naming the parameter."""

from __future__ import annotations

import re
from typing import Any

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

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
