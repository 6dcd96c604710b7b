"""REST serializers of early warning: alert rules (with their false-positive rate), alerts (with
their history and sample mentions), the alert actions, the backtest, hoax clusters and owned
accounts. Public fields are declared once in ``monitoring.fields`` and shared with GraphQL.

Serializers check the shape of the input; every write is a service of
``monitoring.early_warning.services`` (rules kept there and on the models: a rule's query is the
tenant's, windows are positive, params fit the kind), whose ``ValidationError`` answers 400 by
field.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from monitoring import fields as public_fields
from monitoring.choices import Sensitivity
from monitoring.early_warning import backtest as backtests
from monitoring.early_warning import services
from monitoring.early_warning.params import PARAMS
from monitoring.models import (
    Alert,
    AlertEvent,
    AlertRule,
    HoaxCluster,
    Mention,
    MonitoredQuery,
    OwnedAccount,
)
from tenants.api.serializers import (
    ServiceModelSerializer,
    StrictSerializerMixin,
    UserSummarySerializer,
)


class TenantQueryField(serializers.PrimaryKeyRelatedField):  # type: ignore[type-arg]
    """The id of a monitored query of the URL's tenant: another tenant's id reads like one
    that does not exist."""

    default_error_messages = {
        **serializers.PrimaryKeyRelatedField.default_error_messages,
        "does_not_exist": _("No such query in this tenant."),
        "incorrect_type": _("Give a query id (a whole number) or null."),
    }

    def get_queryset(self) -> Any:
        tenant = self.context.get("tenant")
        if tenant is None:
            return MonitoredQuery.objects.none()
        return MonitoredQuery.objects.for_tenant(tenant)

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, bool) or not isinstance(data, int | str):
            self.fail("incorrect_type", data_type=type(data).__name__)
        if not str(data).isascii() or not str(data).isdigit() or len(str(data)) > 18:
            self.fail("does_not_exist", pk_value=data)
        return super().to_internal_value(int(data))


class FalsePositiveRateSerializer(serializers.Serializer):  # type: ignore[type-arg]
    alerts = serializers.IntegerField(help_text="Alerts the rule fired.")
    dismissed = serializers.IntegerField(help_text="Of them, dismissed as false positives.")
    resolved = serializers.IntegerField(help_text="Of them, resolved (real).")
    rate = serializers.FloatField(
        allow_null=True,
        help_text="dismissed / (dismissed + resolved); null before anyone decided on one.",
    )


EMPTY_RATE = {"alerts": 0, "dismissed": 0, "resolved": 0, "rate": None}
PARAMS_HELP = "; ".join(
    f"{kind}: " + (", ".join(f"{key} ({text})" for key, text in keys.items()) or "none")
    for kind, keys in PARAMS.items()
)


class AlertRuleSerializer(ServiceModelSerializer):
    """An alert rule. ``window`` and ``cooldown`` are durations (``01:00:00``, ``1 00:00:00``
    or ISO 8601 ``PT1H``), positive and at most 30 days; ``severity`` blank means "from the
    strength of the evidence"; the kind never changes once created."""

    create_service = staticmethod(services.create_rule)
    update_service = staticmethod(services.update_rule)

    query = TenantQueryField(
        queryset=MonitoredQuery.objects.none(),  # replaced by the tenant's (get_queryset)
        required=False,
        allow_null=True,
        help_text="Only mentions of this query (null: every mention).",
    )
    params = serializers.JSONField(required=False, help_text=f"Per kind: {PARAMS_HELP}.")
    false_positive_rate = serializers.SerializerMethodField()

    class Meta:
        model = AlertRule
        fields: tuple[str, ...] = public_fields.ALERT_RULE.names
        read_only_fields: tuple[str, ...] = public_fields.ALERT_RULE.read_only

    @extend_schema_field(FalsePositiveRateSerializer)
    def get_false_positive_rate(self, rule: AlertRule) -> dict[str, Any]:
        """From the rates the view read once for the page (no query per rule)."""
        rates = self.context.get("false_positive_rates")
        if rates is None:
            from monitoring.early_warning.selectors import false_positive_rate

            return false_positive_rate(rule=rule)
        return dict(rates.get(rule.pk, EMPTY_RATE))

    def update(self, instance: AlertRule, validated_data: dict[str, Any]) -> AlertRule:
        if validated_data.get("kind") == instance.kind:
            validated_data.pop("kind")  # a PUT repeats the kind: no change
        return super().update(instance, validated_data)  # type: ignore[no-any-return]


class AlertEventSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    actor = UserSummarySerializer(read_only=True, allow_null=True)

    class Meta:
        model = AlertEvent
        fields: tuple[str, ...] = public_fields.ALERT_EVENT.names
        read_only_fields: tuple[str, ...] = public_fields.ALERT_EVENT.read_only


class SampleMentionSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    class Meta:
        model = Mention
        fields: tuple[str, ...] = (
            "id",
            "platform",
            "external_id",
            "url",
            "author_handle",
            "author_followers",
            "text",
            "published_at",
            "sentiment",
            "risk",
        )
        read_only_fields = fields


class AlertSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    """An alert: what fired, why (``explanation``, ``observed`` against ``baseline`` and
    ``threshold``, ``sigma`` where it applies), the window, sample mentions and authors, and
    where it stands. Snoozing never acknowledges: ``acknowledged_by``/``acknowledged_at`` are
    set only by ``acknowledge``."""

    acknowledged_by = UserSummarySerializer(read_only=True, allow_null=True)

    class Meta:
        model = Alert
        fields: tuple[str, ...] = public_fields.ALERT.names
        read_only_fields: tuple[str, ...] = public_fields.ALERT.read_only


class AlertDetailSerializer(AlertSerializer):
    """An alert with its history (fired, merged evidence, status changes: who, when, from, to,
    note) and its sample mentions as stored now (deleted ones are left out)."""

    history = serializers.SerializerMethodField()
    sample_mentions = serializers.SerializerMethodField()

    class Meta(AlertSerializer.Meta):
        fields: tuple[str, ...] = (*public_fields.ALERT.names, "history", "sample_mentions")
        read_only_fields = fields

    @extend_schema_field(AlertEventSerializer(many=True))
    def get_history(self, alert: Alert) -> Any:
        from monitoring.early_warning.selectors import alert_history

        return AlertEventSerializer(alert_history(alert=alert), many=True).data

    @extend_schema_field(SampleMentionSerializer(many=True))
    def get_sample_mentions(self, alert: Alert) -> Any:
        ids = list(alert.sample_mention_ids or ())
        if not ids:
            return []
        rows = {m.pk: m for m in Mention.objects.for_tenant(alert.tenant_id).filter(pk__in=ids)}
        found = [rows[pk] for pk in ids if pk in rows]
        return SampleMentionSerializer(found, many=True).data


class AlertNoteSerializer(StrictSerializerMixin, serializers.Serializer):  # type: ignore[type-arg]
    note = serializers.CharField(
        required=False, allow_blank=True, max_length=2000, help_text="Kept in the history."
    )


class AlertSnoozeSerializer(AlertNoteSerializer):
    until = serializers.DateTimeField(
        help_text="Quiet until then: in the future, at most 30 days ahead. Not an acknowledgement."
    )


class AlertDismissSerializer(StrictSerializerMixin, serializers.Serializer):  # type: ignore[type-arg]
    reason = serializers.CharField(
        allow_blank=True,
        max_length=2000,
        help_text="Why this alert is a false positive (required; counts in the rule's "
        "false-positive rate).",
    )


MAX_BACKTEST_ALERTS = 500


class BacktestRequestSerializer(StrictSerializerMixin, serializers.Serializer):  # type: ignore[type-arg]
    days = serializers.IntegerField(
        required=False,
        default=backtests.MAX_DAYS,
        min_value=1,
        max_value=backtests.MAX_DAYS,
        help_text=f"How many days back (default and at most {backtests.MAX_DAYS}).",
    )
    sensitivity = serializers.ChoiceField(
        choices=Sensitivity.choices,
        required=False,
        help_text="Try another sensitivity than the rule's own (nothing is changed).",
    )


class BacktestWindowSerializer(serializers.Serializer):  # type: ignore[type-arg]
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()


class BacktestMentionSerializer(serializers.Serializer):  # type: ignore[type-arg]
    platform = serializers.CharField()
    external_id = serializers.CharField()
    author = serializers.CharField(required=False)


# The keys of an offline backtest line that are not the subject (account, cluster, author...).
_LINE_KEYS = frozenset(
    {
        "timestamp",
        "rule",
        "observed",
        "baseline",
        "threshold",
        "window",
        "explanation",
        "severity",
        "dedupe_key",
        "sigma",
        "score",
        "cooldown_until",
        "mentions",
        "details",
    }
)


class BacktestAlertSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """One alert the rule would have fired, as ``manage.py backtest-rule`` writes it; the
    subject (account, cluster, author, keyword...) is grouped in ``subject``."""

    timestamp = serializers.DateTimeField(
        help_text="Start of the bucket (series rules) or the mention's time that tipped it."
    )
    rule = serializers.CharField()
    observed = serializers.FloatField()
    baseline = serializers.FloatField()
    threshold = serializers.FloatField()
    window = BacktestWindowSerializer()
    explanation = serializers.CharField()
    severity = serializers.CharField()
    dedupe_key = serializers.CharField()
    sigma = serializers.FloatField(allow_null=True)
    score = serializers.FloatField(allow_null=True)
    cooldown_until = serializers.DateTimeField(allow_null=True)
    subject = serializers.JSONField()
    mentions = BacktestMentionSerializer(many=True)
    details = serializers.JSONField()


class BacktestResultSerializer(serializers.Serializer):  # type: ignore[type-arg]
    rule = serializers.IntegerField()
    kind = serializers.CharField()
    query = serializers.IntegerField(allow_null=True)
    sensitivity = serializers.CharField(help_text="The sensitivity replayed.")
    days = serializers.IntegerField()
    since = serializers.DateTimeField(help_text="Start of the replay (inclusive).")
    until = serializers.DateTimeField(help_text="End of the replay (exclusive): now.")
    alert_count = serializers.IntegerField()
    truncated = serializers.BooleanField(
        help_text=f"More than {MAX_BACKTEST_ALERTS} alerts: the first ones are listed."
    )
    alerts = BacktestAlertSerializer(many=True)


def backtest_body(
    *,
    rule: Any,
    sensitivity: str,
    days: int,
    since: Any,
    until: Any,
    lines: list[dict[str, Any]],
) -> dict[str, Any]:
    """The answer of the backtest endpoint from ``backtest.backtest_rule``'s lines."""
    alerts = [
        {
            **{key: line.get(key) for key in _LINE_KEYS},
            "mentions": line.get("mentions") or [],
            "details": line.get("details") or {},
            "subject": {key: value for key, value in line.items() if key not in _LINE_KEYS},
        }
        for line in lines[:MAX_BACKTEST_ALERTS]
    ]
    return {
        "rule": rule.pk,
        "kind": rule.kind,
        "query": rule.query_id,
        "sensitivity": sensitivity,
        "days": days,
        "since": since,
        "until": until,
        "alert_count": len(lines),
        "truncated": len(lines) > MAX_BACKTEST_ALERTS,
        "alerts": alerts,
    }


class HoaxClusterSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    """Near-duplicate copies of one claim: the first poster and mention, the distinct authors,
    the links (and those on the tenant's low-credibility list) and the spread per hour."""

    first_mention = serializers.IntegerField(
        source="first_mention_id", read_only=True, allow_null=True, help_text="The first copy."
    )
    authors = serializers.JSONField(read_only=True, help_text="platform:handle of each author.")
    spread = serializers.JSONField(read_only=True, help_text="[{hour, mentions}] since the first.")

    class Meta:
        model = HoaxCluster
        fields: tuple[str, ...] = public_fields.HOAX_CLUSTER.names
        read_only_fields: tuple[str, ...] = public_fields.HOAX_CLUSTER.read_only


class OwnedAccountSerializer(ServiceModelSerializer):
    """A client's own account, watched for posts unlike its history (hijacking). The handle is
    stored as mentions store it (no '@'; lower case where the platform ignores case); only the
    label changes afterwards (another handle is another account)."""

    create_service = staticmethod(services.create_owned_account)
    update_service = staticmethod(services.update_owned_account)

    class Meta:
        model = OwnedAccount
        fields: tuple[str, ...] = public_fields.OWNED_ACCOUNT.names
        read_only_fields: tuple[str, ...] = public_fields.OWNED_ACCOUNT.read_only

    def update(self, instance: OwnedAccount, validated_data: dict[str, Any]) -> OwnedAccount:
        from monitoring.ingest import normalise_handle

        if validated_data.get("platform") == instance.platform:
            validated_data.pop("platform")
        handle = validated_data.get("handle")
        if handle is not None and normalise_handle(instance.platform, handle) == instance.handle:
            validated_data.pop("handle")
        return super().update(instance, validated_data)  # type: ignore[no-any-return]
