"""Filter sets of the tenants app, and filters every app's filter sets share."""

from datetime import UTC, datetime
from typing import Any

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _
from django_filters.fields import IsoDateTimeField

from tenants.models import Membership, Tenant
from tenants.roles import Role


class UtcDateTimeField(IsoDateTimeField):
    """An ISO 8601 date-time, given to the database in UTC.

    Python accepts UTC offsets up to 24 hours, PostgreSQL only up to 15:59; converting to UTC
    here means an offset such as ``+20:14`` filters correctly instead of failing in the database,
    and a date that leaves the calendar in UTC (year 1 with a positive offset) is a 400.
    """

    def to_python(self, value: Any) -> datetime | None:
        moment = super().to_python(value)
        if moment is None:
            return None
        try:
            return moment.astimezone(UTC)
        except OverflowError:
            raise forms.ValidationError(
                _("This date and time is out of range."), code="overflow"
            ) from None


class UtcDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcDateTimeField


class TenantFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(field_name="name", lookup_expr="icontains", label="Name contains")

    class Meta:
        model = Tenant
        fields = ("status", "default_language")


class MembershipFilterSet(django_filters.FilterSet):
    role = django_filters.ChoiceFilter(choices=Role.choices)
    email = django_filters.CharFilter(field_name="user__email", lookup_expr="icontains")

    class Meta:
        model = Membership
        fields = ("role", "email")
