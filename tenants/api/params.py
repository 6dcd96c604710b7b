"""Query parameters shared by report endpoints of every app: a period and a time zone.

``PeriodSerializer`` reads ``since``/``until`` (ISO 8601; default the last 7 days, at most
``max_period``), ``ZoneField`` an IANA time zone, ``ZonedDateTimeField`` writes a datetime with
the offset it carries. Bad values answer 400 naming the parameter. Also used by GraphQL
resolvers of the same apps to read their arguments alike.
"""

from __future__ import annotations

import zoneinfo
from datetime import timedelta
from typing import Any, ClassVar

from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import serializers

from tenants.api import errors

MAX_PERIOD = timedelta(days=366)
DEFAULT_PERIOD = timedelta(days=7)


def validate_tz(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise serializers.ValidationError(
            _("'%(value)s' is not a known IANA time zone.") % {"value": value},
            code=errors.INVALID_TIME_ZONE.code,
        )


class PeriodSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """``since``/``until`` (ISO 8601); the default period is the last 7 days, at most 366."""

    since = serializers.DateTimeField(
        required=False, help_text="Start (inclusive); default: 7 days before `until`."
    )
    until = serializers.DateTimeField(required=False, help_text="End (exclusive); default: now.")

    error_codes: ClassVar[tuple[errors.ErrorCode, ...]] = (
        errors.INVALID_PERIOD,
        errors.PERIOD_TOO_LONG,
    )
    max_period: ClassVar[timedelta] = MAX_PERIOD
    default_period: ClassVar[timedelta] = DEFAULT_PERIOD

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        until = attrs.get("until") or timezone.now()
        since = attrs.get("since") or until - self.default_period
        if since >= until:
            raise serializers.ValidationError(
                {"since": _("Must be before 'until'.")},
                code=errors.INVALID_PERIOD.code,
            )
        limit = self.period_limit(attrs)
        if until - since > limit:
            raise serializers.ValidationError(
                {"since": _("The period may not exceed %(days)d days.") % {"days": limit.days}},
                code=errors.PERIOD_TOO_LONG.code,
            )
        attrs["since"], attrs["until"] = since, until
        return attrs

    def period_limit(self, attrs: dict[str, Any]) -> timedelta:
        return self.max_period


def zone_field(**kwargs: Any) -> serializers.CharField:
    """An IANA time zone parameter (``tz``)."""
    kwargs.setdefault("required", False)
    kwargs.setdefault("max_length", 64)
    return serializers.CharField(validators=[validate_tz], **kwargs)


class ZonedDateTimeField(serializers.DateTimeField):
    """Keeps the offset the value carries instead of converting to the server's zone."""

    def to_representation(self, value: Any) -> Any:
        return value.isoformat() if value is not None else None
