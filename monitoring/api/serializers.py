"""REST serializers of the monitoring app. Public fields are declared once in
``monitoring.fields`` and shared with the GraphQL types.

Serializers check the shape of the input; every write is a service of ``monitoring.services``
(``ServiceModelSerializer``), which keeps the rules (uniqueness within the tenant, source
config, assignee membership) and answers by field.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from monitoring import fields as public_fields
from monitoring import services
from monitoring.choices import Platform, RiskBand, TriageStatus
from monitoring.models import (
    IngestBatch,
    LexiconEntry,
    LowCredibilityDomain,
    Mention,
    MonitoredQuery,
    Source,
    TrackedTerm,
)
from monitoring.scoring.risk import describe_bands
from tenants.api import errors as api_errors
from tenants.api.pagination import DIGITS
from tenants.api.params import ZonedDateTimeField
from tenants.api.serializers import (
    ServiceModelSerializer,
    StrictSerializerMixin,
    UserSummarySerializer,
    service_errors,
)
from tenants.choices import CrisisTrigger
from tenants.models import User


class MonitoredQuerySerializer(ServiceModelSerializer):
    error_codes = (api_errors.INVALID_QUERY,)
    create_service = staticmethod(services.create_query)
    update_service = staticmethod(services.update_query)

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
        fields: tuple[str, ...] = public_fields.QUERY.names
        read_only_fields: tuple[str, ...] = public_fields.QUERY.read_only


class SourceSerializer(ServiceModelSerializer):
    """A source. The webhook secret is never part of it; see ``SourceCreatedSerializer``."""

    error_codes = (api_errors.INVALID_CONFIG, api_errors.URL_BLOCKED)
    create_service = staticmethod(services.create_source)
    update_service = staticmethod(services.update_source)

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
        fields: tuple[str, ...] = public_fields.SOURCE.names
        read_only_fields: tuple[str, ...] = public_fields.SOURCE.read_only

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
        fields: tuple[str, ...] = (*public_fields.SOURCE.names, "webhook_secret")


class SourceSecretSerializer(serializers.ModelSerializer):
    webhook_secret = serializers.CharField(
        read_only=True, help_text="The new HMAC secret, shown only now."
    )

    class Meta:
        model = Source
        fields: tuple[str, ...] = ("id", "webhook_secret")
        read_only_fields: tuple[str, ...] = fields


class TrackedTermSerializer(ServiceModelSerializer):
    create_service = staticmethod(services.create_tracked_term)
    update_service = staticmethod(services.update_tracked_term)

    class Meta:
        model = TrackedTerm
        fields: tuple[str, ...] = public_fields.TRACKED_TERM.names
        read_only_fields: tuple[str, ...] = public_fields.TRACKED_TERM.read_only


class LexiconEntrySerializer(ServiceModelSerializer):
    create_service = staticmethod(services.create_lexicon_entry)
    update_service = staticmethod(services.update_lexicon_entry)

    # A field named like Field.label: DRF's metaclass moves it into the declared fields.
    label = serializers.ChoiceField(  # type: ignore[assignment]
        choices=[(label, label) for label in CrisisTrigger.values]
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
        fields: tuple[str, ...] = public_fields.LEXICON_ENTRY.names
        read_only_fields: tuple[str, ...] = public_fields.LEXICON_ENTRY.read_only


@extend_schema_field(
    {
        "type": "string",
        "maxLength": 253,
        "pattern": r"^([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$",
        "example": "hoaks.example",
    }
)
class DomainField(serializers.CharField):
    """A domain name; the OpenAPI pattern tells clients (and fuzzers) what is accepted (the
    model's ``clean()`` is the rule)."""


class LowCredibilityDomainSerializer(ServiceModelSerializer):
    create_service = staticmethod(services.create_low_credibility_domain)
    update_service = staticmethod(services.update_low_credibility_domain)

    domain = DomainField(max_length=253)

    class Meta:
        model = LowCredibilityDomain
        fields: tuple[str, ...] = public_fields.LOW_CREDIBILITY_DOMAIN.names
        read_only_fields: tuple[str, ...] = public_fields.LOW_CREDIBILITY_DOMAIN.read_only


class IngestBatchSerializer(serializers.ModelSerializer):
    rejected = serializers.JSONField(
        read_only=True, help_text="Items refused at intake: [{index, field, message}]."
    )

    class Meta:
        model = IngestBatch
        fields: tuple[str, ...] = public_fields.BATCH.names
        read_only_fields: tuple[str, ...] = public_fields.BATCH.read_only


class MentionSerializer(serializers.ModelSerializer):
    assignee = UserSummarySerializer(read_only=True, allow_null=True)
    # Not ``format: uri``: a source may give no link (an empty string).
    url = serializers.CharField(read_only=True, help_text="Link to the post; empty if none.")
    risk_band = serializers.ChoiceField(
        choices=RiskBand.choices,
        read_only=True,
        help_text=f"The band of `risk`: {describe_bands()} (docs/scoring.md).",
    )

    class Meta:
        model = Mention
        fields: tuple[str, ...] = public_fields.MENTION.names
        read_only_fields: tuple[str, ...] = public_fields.MENTION.names


class AssigneeIdField(serializers.PrimaryKeyRelatedField):
    """A user id. Whether it names a member of the tenant is ``services.triage_mention``'s rule
    (an id of no account and of someone else's account get the same error there)."""

    default_error_messages = {
        **serializers.PrimaryKeyRelatedField.default_error_messages,
        "does_not_exist": services.NOT_A_MEMBER,
    }

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int | str):
            self.fail("incorrect_type", data_type=type(data).__name__)
        if not DIGITS.fullmatch(str(data)):
            self.fail("does_not_exist", pk_value=data)
        return int(data)


class MentionTriageSerializer(StrictSerializerMixin, serializers.ModelSerializer):
    """What a triager may change: status, tags and the assignee (a member of the tenant)."""

    # The shape is checked here; the rules by ``services.triage_mention``.

    status = serializers.ChoiceField(choices=TriageStatus.choices, required=False)
    tags = serializers.ListField(
        child=serializers.CharField(max_length=50, allow_blank=False),
        required=False,
        max_length=20,
    )
    assignee = AssigneeIdField(
        queryset=User.objects.none(),  # never queried: the service resolves the id
        required=False,
        allow_null=True,
        help_text="User id of a member of this tenant; null to unassign.",
    )

    class Meta:
        model = Mention
        fields: tuple[str, ...] = public_fields.MENTION_TRIAGE

    def update(self, instance: Mention, validated_data: dict[str, Any]) -> Mention:
        with service_errors():
            return services.triage_mention(mention=instance, **validated_data)


def _tag_list(help_text: str) -> serializers.ListField:
    return serializers.ListField(
        child=serializers.CharField(max_length=services.MAX_TAG_LENGTH, allow_blank=False),
        required=False,
        max_length=services.MAX_TAGS,
        help_text=help_text,
    )


class BulkTriageSerializer(StrictSerializerMixin, serializers.Serializer):  # type: ignore[type-arg]
    """Up to 500 mentions triaged at once (``services.triage_mentions``): the shape is checked
    here, the rules by the service."""

    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=services.BIGINT_MAX),
        min_length=1,
        max_length=services.MAX_BULK_TRIAGE,
        help_text=f"Mention ids, at most {services.MAX_BULK_TRIAGE} (repeats count once).",
    )
    status = serializers.ChoiceField(choices=TriageStatus.choices, required=False)
    add_tags = _tag_list("Tags added to every mention (trimmed, lower-case).")
    remove_tags = _tag_list("Tags removed from every mention.")
    assignee = AssigneeIdField(
        queryset=User.objects.none(),  # never queried: the service resolves the id
        required=False,
        allow_null=True,
        help_text="User id of a member of this tenant; null to unassign.",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)  # unknown fields first
        if not set(attrs) - {"ids"}:
            raise serializers.ValidationError(
                _("Give at least one change: status, add_tags, remove_tags or assignee."),
                code="required",
            )
        return attrs


class BulkTriageErrorSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.ChoiceField(choices=[("not_found", "not_found"), ("max_tags", "max_tags")])
    detail = serializers.CharField()


class BulkTriageResultSerializer(serializers.Serializer):
    requested = serializers.IntegerField(help_text="Distinct ids in the request.")
    updated = serializers.IntegerField(help_text="Mentions whose triage changed.")
    unchanged = serializers.IntegerField(help_text="Mentions that had these values already.")
    # A field named like Serializer.errors: DRF's metaclass moves it into the declared fields.
    errors = BulkTriageErrorSerializer(  # type: ignore[assignment]
        many=True,
        help_text="Ids left alone: not_found (no such mention in this tenant) or max_tags.",
    )


class MentionCountSerializer(serializers.Serializer):
    count = serializers.IntegerField(help_text="Mentions matching the filters.")


# --- metrics ---------------------------------------------------------------------------------


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
