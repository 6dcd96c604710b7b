"""REST serializers of the monitoring app. Public fields are declared once in
``monitoring.fields`` and shared with the GraphQL types.

Every serializer that writes is given the tenant in its context (``TenantScopedMixin`` does
it); uniqueness rules that include the tenant are checked here so a duplicate answers 400
naming the field instead of failing in the database.
"""

from __future__ import annotations

import re
import zoneinfo
from datetime import timedelta
from typing import Any, ClassVar

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Model, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from monitoring import fields as public_fields
from monitoring.choices import Platform, TriageStatus
from monitoring.models import (
    IngestBatch,
    LexiconEntry,
    LowCredibilityDomain,
    Mention,
    MonitoredQuery,
    Source,
    TrackedTerm,
    validate_source_config,
)
from monitoring.scoring import TRIGGER_LABELS
from tenants.api.serializers import StrictSerializerMixin, UserSummarySerializer
from tenants.models import Membership, Tenant, User


class TenantUniqueMixin:
    """Checks ``tenant_unique`` (tuples of field names unique together within the tenant)."""

    tenant_unique: ClassVar[tuple[tuple[str, ...], ...]] = ()
    instance: Any
    context: Any
    Meta: Any

    def check_tenant_unique(self, attrs: dict[str, Any]) -> None:
        tenant: Tenant = self.context["tenant"]
        model: type[Model] = self.Meta.model
        for names in self.tenant_unique:
            values = {
                name: attrs[name] if name in attrs else getattr(self.instance, name, None)
                for name in names
            }
            clash = model._default_manager.filter(tenant_id=tenant.pk, **values)
            if self.instance is not None:
                clash = clash.exclude(pk=self.instance.pk)
            if clash.exists():
                label = " and ".join(names)
                raise serializers.ValidationError(
                    {names[-1]: f"This tenant already has one with this {label}."}, code="unique"
                )


class MonitoredQuerySerializer(
    StrictSerializerMixin, TenantUniqueMixin, serializers.ModelSerializer
):
    tenant_unique = (("name",),)
    languages = serializers.ListField(
        child=serializers.RegexField(r"^[a-z]{2,3}$", max_length=8),
        required=False,
        max_length=20,
        help_text="ISO 639-1 codes such as 'id' or 'en'; empty: every language.",
    )
    platforms = serializers.ListField(
        child=serializers.ChoiceField(choices=Platform.choices),
        required=False,
        max_length=len(Platform.choices),
        help_text="Empty: every platform.",
    )

    class Meta:
        model = MonitoredQuery
        fields: tuple[str, ...] = public_fields.QUERY
        read_only_fields: tuple[str, ...] = ("id", "created_at", "updated_at")

    def validate_languages(self, value: list[str]) -> list[str]:
        return sorted(set(value))

    def validate_platforms(self, value: list[str]) -> list[str]:
        return sorted(set(value))

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        self.check_tenant_unique(attrs)
        return attrs


class SourceSerializer(StrictSerializerMixin, TenantUniqueMixin, serializers.ModelSerializer):
    """A source. The webhook secret is never part of it; see ``SourceCreatedSerializer``."""

    tenant_unique = (("name",),)
    config = serializers.JSONField(
        required=False,
        help_text=(
            "rss: {url}; mastodon: {base_url, hashtag | query}; webhook, api, upload: free-form "
            "settings such as a field mapping."
        ),
    )
    poll_interval_s = serializers.IntegerField(
        min_value=60, max_value=86400, required=False, help_text="Seconds between polls."
    )

    class Meta:
        model = Source
        fields: tuple[str, ...] = public_fields.SOURCE
        read_only_fields: tuple[str, ...] = (
            "id",
            *public_fields.SOURCE_HEALTH,
            "created_at",
        )

    def validate_config(self, value: Any) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise serializers.ValidationError("Must be a JSON object.", code="invalid_config")
        if len(str(value)) > 4000:
            raise serializers.ValidationError("Too large (4000 characters at most).")
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        kind = attrs.get("kind", getattr(self.instance, "kind", None))
        if self.instance is not None and "kind" in attrs and attrs["kind"] != self.instance.kind:
            raise serializers.ValidationError(
                {"kind": "The kind of a source cannot change; create another source."},
                code="immutable",
            )
        config = attrs.get("config", getattr(self.instance, "config", None) or {})
        try:
            attrs["config"] = validate_source_config(kind, config)
        except DjangoValidationError as exc:
            error = exc.error_dict["config"][0]
            raise serializers.ValidationError(
                {"config": error.messages[0]}, code=error.code
            ) from None
        self.check_tenant_unique(attrs)
        return attrs

    def to_representation(self, instance: Source) -> dict[str, Any]:
        data = super().to_representation(instance)
        if "config" in data:
            data["config"] = instance.public_config
        return data


class SourceCreatedSerializer(SourceSerializer):
    webhook_secret = serializers.CharField(
        read_only=True, help_text="The HMAC secret of signed webhooks, shown only now."
    )

    class Meta(SourceSerializer.Meta):
        fields: tuple[str, ...] = (*public_fields.SOURCE, "webhook_secret")


class SourceSecretSerializer(serializers.ModelSerializer):
    webhook_secret = serializers.CharField(
        read_only=True, help_text="The new HMAC secret, shown only now."
    )

    class Meta:
        model = Source
        fields: tuple[str, ...] = ("id", "webhook_secret")
        read_only_fields: tuple[str, ...] = fields


class TrackedTermSerializer(StrictSerializerMixin, TenantUniqueMixin, serializers.ModelSerializer):
    tenant_unique = (("text",),)

    class Meta:
        model = TrackedTerm
        fields: tuple[str, ...] = public_fields.TRACKED_TERM
        read_only_fields: tuple[str, ...] = ("id",)

    def validate_text(self, value: str) -> str:
        value = " ".join(value.split())
        if not value:
            raise serializers.ValidationError("This field may not be blank.", code="blank")
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        self.check_tenant_unique(attrs)
        return attrs


class LexiconEntrySerializer(StrictSerializerMixin, TenantUniqueMixin, serializers.ModelSerializer):
    tenant_unique = (("label", "phrase"),)
    # A field named like Field.label: DRF's metaclass moves it into the declared fields.
    label = serializers.ChoiceField(  # type: ignore[assignment]
        choices=[(label, label) for label in TRIGGER_LABELS]
    )
    weight = serializers.FloatField(
        min_value=0.0,
        max_value=1.0,
        required=False,
        allow_null=True,
        help_text="0-1; empty: the lexicon's default weight.",
    )

    class Meta:
        model = LexiconEntry
        fields: tuple[str, ...] = public_fields.LEXICON_ENTRY
        read_only_fields: tuple[str, ...] = ("id",)

    def validate_phrase(self, value: str) -> str:
        value = " ".join(value.split()).lower()
        if not value:
            raise serializers.ValidationError("This field may not be blank.", code="blank")
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        self.check_tenant_unique(attrs)
        return attrs


DOMAIN_RE = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


@extend_schema_field(
    {
        "type": "string",
        "maxLength": 253,
        "pattern": r"^([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$",
        "example": "hoaks.example",
    }
)
class DomainField(serializers.CharField):
    """A domain name; the OpenAPI pattern tells clients (and fuzzers) what is accepted."""


class LowCredibilityDomainSerializer(
    StrictSerializerMixin, TenantUniqueMixin, serializers.ModelSerializer
):
    tenant_unique = (("domain",),)
    domain = DomainField(max_length=253)

    class Meta:
        model = LowCredibilityDomain
        fields: tuple[str, ...] = public_fields.LOW_CREDIBILITY_DOMAIN
        read_only_fields: tuple[str, ...] = ("id",)

    def validate_domain(self, value: str) -> str:
        value = value.strip().lower().lstrip(".")
        if not DOMAIN_RE.match(value):
            raise serializers.ValidationError(
                "Enter a domain name such as 'hoaks.example', without scheme or path.",
                code="invalid_domain",
            )
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        self.check_tenant_unique(attrs)
        return attrs


class IngestBatchSerializer(serializers.ModelSerializer):
    rejected = serializers.JSONField(
        read_only=True, help_text="Items refused at intake: [{index, field, message}]."
    )

    class Meta:
        model = IngestBatch
        fields: tuple[str, ...] = public_fields.BATCH
        read_only_fields: tuple[str, ...] = public_fields.BATCH


class MentionSerializer(serializers.ModelSerializer):
    assignee = UserSummarySerializer(read_only=True, allow_null=True)

    class Meta:
        model = Mention
        fields: tuple[str, ...] = public_fields.MENTION
        read_only_fields: tuple[str, ...] = public_fields.MENTION


class TenantMemberField(serializers.PrimaryKeyRelatedField):
    """A user id among the members of the serializer's ``tenant`` (context). An id of no
    account and an id of someone else's account get the same error, so ids reveal nothing."""

    default_error_messages = {
        **serializers.PrimaryKeyRelatedField.default_error_messages,
        "does_not_exist": _("The assignee must be a member of this tenant."),
    }

    def get_queryset(self) -> QuerySet[User]:
        tenant: Tenant = self.context["tenant"]
        return User.objects.filter(
            pk__in=Membership.objects.filter(tenant=tenant).values("user_id")
        )


class MentionTriageSerializer(StrictSerializerMixin, serializers.ModelSerializer):
    """What a triager may change: status, tags and the assignee (a member of the tenant)."""

    status = serializers.ChoiceField(choices=TriageStatus.choices, required=False)
    tags = serializers.ListField(
        child=serializers.CharField(max_length=50, allow_blank=False),
        required=False,
        max_length=20,
    )
    assignee = TenantMemberField(
        queryset=User.objects.all(),  # narrowed to the tenant's members by the field
        required=False,
        allow_null=True,
        help_text="User id of a member of this tenant; null to unassign.",
    )

    class Meta:
        model = Mention
        fields: tuple[str, ...] = public_fields.MENTION_TRIAGE

    def validate_tags(self, value: list[str]) -> list[str]:
        seen: dict[str, None] = {}
        for tag in value:
            tag = " ".join(tag.split()).lower()
            if tag:
                seen.setdefault(tag, None)
        return list(seen)

    def update(self, instance: Mention, validated_data: dict[str, Any]) -> Mention:
        # Only the triage columns: the pipeline may be updating engagement at the same time.
        for name, value in validated_data.items():
            setattr(instance, name, value)
        if validated_data:
            instance.save(update_fields=list(validated_data))
        return instance


# --- metrics parameters ----------------------------------------------------------------------

MAX_PERIOD = timedelta(days=366)
MAX_FIVE_MINUTE_PERIOD = timedelta(days=31)
DEFAULT_PERIOD = timedelta(days=7)


class PeriodSerializer(serializers.Serializer):
    """``since``/``until`` (ISO 8601); the default period is the last 7 days, at most 366."""

    since = serializers.DateTimeField(
        required=False, help_text="Start (inclusive); default: 7 days before `until`."
    )
    until = serializers.DateTimeField(required=False, help_text="End (exclusive); default: now.")
    query = serializers.IntegerField(
        required=False, min_value=1, help_text="Only mentions matched by this query (id)."
    )

    max_period: ClassVar[timedelta] = MAX_PERIOD

    def validate_query(self, value: int) -> int:
        tenant: Tenant = self.context["tenant"]
        if not MonitoredQuery.objects.for_tenant(tenant).filter(pk=value).exists():
            raise serializers.ValidationError("No such query in this tenant.", code="not_found")
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        until = attrs.get("until") or timezone.now()
        since = attrs.get("since") or until - DEFAULT_PERIOD
        if since >= until:
            raise serializers.ValidationError(
                {"since": "Must be before 'until'."}, code="invalid_period"
            )
        limit = self.period_limit(attrs)
        if until - since > limit:
            raise serializers.ValidationError(
                {"since": f"The period may not exceed {limit.days} days."}, code="period_too_long"
            )
        attrs["since"], attrs["until"] = since, until
        return attrs

    def period_limit(self, attrs: dict[str, Any]) -> timedelta:
        return self.max_period


def validate_tz(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise serializers.ValidationError(
            f"'{value}' is not a known IANA time zone.", code="invalid_time_zone"
        )


class VolumeParamsSerializer(PeriodSerializer):
    interval = serializers.ChoiceField(
        choices=[("5m", "5 minutes"), ("1h", "1 hour"), ("1d", "1 day")],
        default="1h",
        help_text="Bucket size. 5m allows a period of at most 31 days.",
    )
    tz = serializers.CharField(
        required=False,
        max_length=64,
        validators=[validate_tz],
        help_text="IANA time zone of the bucket boundaries; default: the tenant's.",
    )

    def period_limit(self, attrs: dict[str, Any]) -> timedelta:
        return MAX_FIVE_MINUTE_PERIOD if attrs.get("interval") == "5m" else MAX_PERIOD


class TopParamsSerializer(PeriodSerializer):
    limit = serializers.IntegerField(
        required=False, default=20, min_value=1, max_value=100, help_text="At most 100."
    )


class ZonedDateTimeField(serializers.DateTimeField):
    """Keeps the offset the value carries instead of converting to the server's zone."""

    def to_representation(self, value: Any) -> Any:
        return value.isoformat() if value is not None else None


class VolumePointSerializer(serializers.Serializer):
    bucket = ZonedDateTimeField(help_text="Start of the bucket, with the requested zone's offset.")
    mentions = serializers.IntegerField()
    positive = serializers.IntegerField()
    neutral = serializers.IntegerField()
    negative = serializers.IntegerField()
    reach = serializers.IntegerField()
    engagement = serializers.IntegerField()


class VolumeSerializer(serializers.Serializer):
    interval = serializers.CharField()
    tz = serializers.CharField()
    query = serializers.IntegerField(allow_null=True)
    since = serializers.DateTimeField()
    until = serializers.DateTimeField()
    series = VolumePointSerializer(many=True, help_text="Buckets without mentions are left out.")


class ShareOfVoiceRowSerializer(serializers.Serializer):
    query = serializers.IntegerField()
    name = serializers.CharField()
    mentions = serializers.IntegerField()
    share = serializers.FloatField(help_text="0-1, of the mentions of every active query.")


class ShareOfVoiceSerializer(serializers.Serializer):
    since = serializers.DateTimeField()
    until = serializers.DateTimeField()
    total = serializers.IntegerField()
    results = ShareOfVoiceRowSerializer(many=True)


class TopAuthorSerializer(serializers.Serializer):
    platform = serializers.CharField()
    author_handle = serializers.CharField()
    author_name = serializers.CharField()
    mentions = serializers.IntegerField()
    reach = serializers.IntegerField(help_text="The author's largest follower count seen.")


class TopCountSerializer(serializers.Serializer):
    text = serializers.CharField()
    mentions = serializers.IntegerField()


def _top_envelope(name: str, child: serializers.Serializer) -> type[serializers.Serializer]:
    return type(
        name,
        (serializers.Serializer,),
        {
            "since": serializers.DateTimeField(),
            "until": serializers.DateTimeField(),
            "results": child,
            "__module__": __name__,
        },
    )


TopAuthorsSerializer = _top_envelope("TopAuthorsSerializer", TopAuthorSerializer(many=True))
TopHashtagsSerializer = _top_envelope("TopHashtagsSerializer", TopCountSerializer(many=True))
TopTermsSerializer = _top_envelope("TopTermsSerializer", TopCountSerializer(many=True))
