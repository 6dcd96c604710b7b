"""Parameters of the monitoring metrics, read alike by the REST views and the GraphQL fields:
a period and time zone (``tenants.api.params``) and an optional query of the tenant."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, ClassVar

from django.utils.translation import gettext
from rest_framework import serializers

from monitoring.models import MonitoredQuery
from tenants.api import errors
from tenants.api.params import PeriodSerializer, zone_field
from tenants.models import Tenant

MAX_FIVE_MINUTE_PERIOD = timedelta(days=31)


class MetricsPeriodSerializer(PeriodSerializer):
    """A period (``tenants.api.params``) and an optional query of the tenant."""

    error_codes: ClassVar[tuple[errors.ErrorCode, ...]] = (errors.NO_SUCH_QUERY,)

    query = serializers.IntegerField(
        required=False, min_value=1, help_text="Only mentions matched by this query (id)."
    )

    def validate_query(self, value: int) -> int:
        tenant: Tenant = self.context["tenant"]
        if not MonitoredQuery.objects.for_tenant(tenant).filter(pk=value).exists():
            raise serializers.ValidationError(
                gettext(errors.NO_SUCH_QUERY.detail), code=errors.NO_SUCH_QUERY.code
            )
        return value


class ShareOfVoiceParamsSerializer(PeriodSerializer):
    """A period only: share of voice compares every active query."""


class VolumeParamsSerializer(MetricsPeriodSerializer):
    interval = serializers.ChoiceField(
        choices=[("5m", "5 minutes"), ("1h", "1 hour"), ("1d", "1 day")],
        default="1h",
        help_text="Bucket size. 5m allows a period of at most 31 days.",
    )
    error_codes: ClassVar[tuple[errors.ErrorCode, ...]] = (errors.INVALID_TIME_ZONE,)
    tz = zone_field(help_text="IANA time zone of the bucket boundaries; default: the tenant's.")

    def period_limit(self, attrs: dict[str, Any]) -> timedelta:
        return MAX_FIVE_MINUTE_PERIOD if attrs.get("interval") == "5m" else self.max_period


class TopParamsSerializer(MetricsPeriodSerializer):
    limit = serializers.IntegerField(
        required=False, default=20, min_value=1, max_value=100, help_text="At most 100."
    )
