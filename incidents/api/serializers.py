"""REST serializers of the incidents app. They check the input's shape only; every write goes
through ``incidents.services`` (its ``ValidationError`` answers 400 naming the field). Ids of
rows of another tenant read like ids that do not exist."""

from __future__ import annotations

from typing import Any

from django.db.models import Model, QuerySet
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from incidents import fields as public_fields
from incidents import playbooks as incident_playbooks
from incidents import services
from incidents.choices import MANUAL_KINDS, IncidentStatus
from incidents.models import (
    Incident,
    IncidentLink,
    IncidentMember,
    IncidentPlaybook,
    IncidentTask,
    ResponseAdvice,
    RolePolicy,
    SeverityPolicy,
    TimelineEntry,
)
from monitoring.models import Alert, HoaxCluster, Mention, MonitoredQuery, OwnedAccount
from tenants.api.pagination import DIGITS
from tenants.api.serializers import ServiceModelSerializer, StrictSerializerMixin, service_errors
from tenants.choices import Severity


class TenantRowField(serializers.PrimaryKeyRelatedField):  # type: ignore[type-arg]
    """The id of a row of the URL's tenant (digits only; another tenant's id reads like none)."""

    model: type[Model]

    def __init__(self, model: type[Model], **kwargs: Any) -> None:
        self.model = model
        super().__init__(**kwargs)

    def get_queryset(self) -> QuerySet[Any]:
        return self.model._default_manager.for_tenant(self.context["tenant"])  # type: ignore[attr-defined,no-any-return]

    def to_internal_value(self, data: Any) -> Any:
        if (
            isinstance(data, bool)
            or not isinstance(data, int | str)
            or not DIGITS.fullmatch(str(data))
        ):
            self.fail("does_not_exist", pk_value=data)
        return super().to_internal_value(int(data))


@extend_schema_field({"type": "integer", "description": "A user id: a member of this tenant."})
class MemberIdField(serializers.Field):  # type: ignore[type-arg]
    """A user id; whether it names a member of the tenant is the service's rule."""

    def to_internal_value(self, data: Any) -> int:
        if (
            isinstance(data, bool)
            or not isinstance(data, int | str)
            or not DIGITS.fullmatch(str(data))
        ):
            raise serializers.ValidationError(
                "Must be a member of this tenant.", code="not_a_member"
            )
        return int(data)

    def to_representation(self, value: Any) -> int | None:
        return getattr(value, "pk", value)


def _authority(serializer: serializers.Serializer) -> Any:  # type: ignore[type-arg]
    return serializer.context["authority"]


class IncidentSerializer(ServiceModelSerializer):
    create_service = staticmethod(services.open_incident)
    update_service = staticmethod(services.update_incident)

    class Meta:
        model = Incident
        fields: tuple[str, ...] = public_fields.INCIDENT.names
        read_only_fields: tuple[str, ...] = public_fields.INCIDENT.read_only

    def create(self, validated_data: dict[str, Any]) -> Any:
        return super().create({**validated_data, "authority": _authority(self)})

    def update(self, instance: Any, validated_data: dict[str, Any]) -> Any:
        return super().update(instance, {**validated_data, "authority": _authority(self)})


class TransitionSerializer(StrictSerializerMixin, serializers.Serializer):  # type: ignore[type-arg]
    to = serializers.ChoiceField(choices=IncidentStatus.choices, help_text="The stage to move to.")
    reason = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")


class SeverityChangeSerializer(StrictSerializerMixin, serializers.Serializer):  # type: ignore[type-arg]
    severity = serializers.ChoiceField(choices=Severity.choices)
    reason = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")


class StatementSerializer(StrictSerializerMixin, serializers.Serializer):  # type: ignore[type-arg]
    text = serializers.CharField(max_length=5000, help_text="What was published.")
    at = serializers.DateTimeField(required=False, help_text="When (default: now).")


class TimerSerializer(serializers.Serializer):  # type: ignore[type-arg]
    target = serializers.CharField()
    minutes = serializers.IntegerField()
    due_at = serializers.DateTimeField()
    met_at = serializers.DateTimeField(allow_null=True)
    state = serializers.ChoiceField(choices=["met", "breached", "running"])
    late_minutes = serializers.IntegerField()


class IncidentTimersSerializer(serializers.Serializer):  # type: ignore[type-arg]
    id = serializers.IntegerField()
    is_drill = serializers.BooleanField()
    allowed_transitions = serializers.ListField(child=serializers.CharField())
    timers = TimerSerializer(many=True)


class FiguresSerializer(serializers.Serializer):  # type: ignore[type-arg]
    since = serializers.DateTimeField()
    until = serializers.DateTimeField()
    incidents = serializers.IntegerField()
    by_status = serializers.DictField(child=serializers.IntegerField())
    by_severity = serializers.DictField(child=serializers.IntegerField())
    by_trigger = serializers.DictField(child=serializers.IntegerField())
    median_minutes_to_acknowledge = serializers.FloatField(allow_null=True)
    median_minutes_to_first_statement = serializers.FloatField(allow_null=True)
    median_minutes_to_resolve = serializers.FloatField(allow_null=True)
    targets_missed = serializers.IntegerField()


class TeamMemberSerializer(StrictSerializerMixin, serializers.ModelSerializer):  # type: ignore[type-arg]
    incident = TenantRowField(Incident)
    user = MemberIdField()

    class Meta:
        model = IncidentMember
        fields: tuple[str, ...] = public_fields.TEAM_MEMBER.names
        read_only_fields: tuple[str, ...] = public_fields.TEAM_MEMBER.read_only

    def create(self, validated_data: dict[str, Any]) -> IncidentMember:
        with service_errors():
            return services.assign_role(
                incident=validated_data["incident"],
                user=validated_data["user"],
                role=validated_data["role"],
                authority=_authority(self),
            )


class TaskSerializer(StrictSerializerMixin, serializers.ModelSerializer):  # type: ignore[type-arg]
    incident = TenantRowField(Incident)
    owner = MemberIdField(required=False, allow_null=True)
    checklist = serializers.JSONField(
        required=False, help_text='A list of {"text": "...", "done": false} items (at most 50).'
    )
    depends_on = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**63 - 1),
        required=False,
        max_length=50,
        help_text="Ids of tasks of the same incident to finish first.",
    )
    is_overdue = serializers.BooleanField(read_only=True)

    class Meta:
        model = IncidentTask
        fields: tuple[str, ...] = public_fields.TASK.names
        read_only_fields: tuple[str, ...] = public_fields.TASK.read_only

    def validate(self, attrs: Any) -> Any:
        attrs = super().validate(attrs)
        if self.instance is not None and "incident" in attrs:
            if attrs["incident"] != self.instance.incident:
                raise serializers.ValidationError(
                    {"incident": "A task never moves to another incident."}, code="read_only"
                )
            attrs.pop("incident")
        return attrs

    def create(self, validated_data: dict[str, Any]) -> IncidentTask:
        with service_errors():
            validated_data.pop("tenant", None)
            return services.create_task(authority=_authority(self), **validated_data)

    def update(self, instance: IncidentTask, validated_data: dict[str, Any]) -> IncidentTask:
        with service_errors():
            return services.update_task(
                instance=instance, authority=_authority(self), **validated_data
            )


class LinkSerializer(StrictSerializerMixin, serializers.ModelSerializer):  # type: ignore[type-arg]
    incident = TenantRowField(Incident)
    alert = TenantRowField(Alert, required=False, allow_null=True)
    hoax_cluster = TenantRowField(HoaxCluster, required=False, allow_null=True)
    owned_account = TenantRowField(OwnedAccount, required=False, allow_null=True)
    mention = TenantRowField(Mention, required=False, allow_null=True)
    query = TenantRowField(MonitoredQuery, required=False, allow_null=True)

    class Meta:
        model = IncidentLink
        fields: tuple[str, ...] = public_fields.LINK.names
        read_only_fields: tuple[str, ...] = public_fields.LINK.read_only

    def create(self, validated_data: dict[str, Any]) -> IncidentLink:
        with service_errors():
            validated_data.pop("tenant", None)
            return services.create_link(authority=_authority(self), **validated_data)


class TimelineEntrySerializer(StrictSerializerMixin, serializers.ModelSerializer):  # type: ignore[type-arg]
    incident = TenantRowField(Incident)
    kind = serializers.ChoiceField(
        choices=[(kind.value, kind.label) for kind in MANUAL_KINDS],
        help_text="What a person may write: a note, a legal review or a pinned mention.",
    )
    mention = TenantRowField(Mention, required=False, allow_null=True)
    actor = serializers.PrimaryKeyRelatedField(read_only=True)  # type: ignore[var-annotated]
    visible_to_client = serializers.BooleanField(
        required=False, help_text="Default false: notes, legal review and pins are internal."
    )

    class Meta:
        model = TimelineEntry
        fields: tuple[str, ...] = public_fields.TIMELINE_ENTRY.names
        read_only_fields: tuple[str, ...] = public_fields.TIMELINE_ENTRY.read_only

    def to_representation(self, instance: TimelineEntry) -> dict[str, Any]:
        data = super().to_representation(instance)
        data["kind"] = instance.kind  # entries the services wrote have other kinds
        return data

    def create(self, validated_data: dict[str, Any]) -> TimelineEntry:
        with service_errors():
            validated_data.pop("tenant", None)
            return services.add_entry(authority=_authority(self), **validated_data)


class SeverityPolicySerializer(ServiceModelSerializer):
    create_service = staticmethod(services.create_severity_policy)
    update_service = staticmethod(services.update_severity_policy)

    class Meta:
        model = SeverityPolicy
        fields: tuple[str, ...] = public_fields.SEVERITY_POLICY.names
        read_only_fields: tuple[str, ...] = public_fields.SEVERITY_POLICY.read_only


class RolePolicySerializer(ServiceModelSerializer):
    create_service = staticmethod(services.create_role_policy)
    update_service = staticmethod(services.update_role_policy)

    user = MemberIdField()

    class Meta:
        model = RolePolicy
        fields: tuple[str, ...] = public_fields.ROLE_POLICY.names
        read_only_fields: tuple[str, ...] = public_fields.ROLE_POLICY.read_only


class IncidentPlaybookSerializer(StrictSerializerMixin, serializers.ModelSerializer):  # type: ignore[type-arg]
    """A playbook attached to an incident: the snapshot of its version then and the tasks
    made from its steps (step key -> task id). ``POST`` attaches one by hand."""

    incident = TenantRowField(Incident)
    playbook = serializers.IntegerField(
        source="playbook_id", min_value=1, help_text="A playbook of this tenant or its agency."
    )

    class Meta:
        model = IncidentPlaybook
        fields: tuple[str, ...] = public_fields.INCIDENT_PLAYBOOK.names
        read_only_fields: tuple[str, ...] = public_fields.INCIDENT_PLAYBOOK.read_only

    def create(self, validated_data: dict[str, Any]) -> Any:
        with service_errors():
            return incident_playbooks.attach_playbook(
                incident=validated_data["incident"],
                playbook=validated_data["playbook_id"],
                authority=_authority(self),
            )


class ResponseAdviceSerializer(StrictSerializerMixin, serializers.ModelSerializer):  # type: ignore[type-arg]
    """The recommended response of an incident (SCCT cluster, posture, reasoning); the
    commander may change it (docs/playbooks.md)."""

    cluster = serializers.CharField(max_length=16, required=False)
    posture = serializers.CharField(max_length=32, required=False)
    reasoning = serializers.CharField(max_length=5000, required=False)
    is_edited = serializers.BooleanField(read_only=True)

    class Meta:
        model = ResponseAdvice
        fields: tuple[str, ...] = public_fields.RESPONSE_ADVICE.names
        read_only_fields: tuple[str, ...] = public_fields.RESPONSE_ADVICE.read_only

    def update(self, instance: Any, validated_data: dict[str, Any]) -> Any:
        with service_errors():
            return incident_playbooks.update_advice(
                instance=instance, authority=_authority(self), **validated_data
            )
