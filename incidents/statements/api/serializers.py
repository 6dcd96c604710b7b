"""REST serializers of statements, crisis mode, stakeholders and templates. They check the
input's shape only; every write goes through ``incidents.statements.services`` (or
``playbooks.services``), whose ``ValidationError`` answers 400 naming the field."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from incidents.api.serializers import MemberIdField, TenantRowField
from incidents.models import Incident
from incidents.statements import fields as public_fields
from incidents.statements import services
from incidents.statements.choices import Channel, Decision
from incidents.statements.models import (
    ApprovalStep,
    ApprovalWorkflow,
    CrisisMode,
    PublishRecord,
    RightOfReply,
    Stakeholder,
    StakeholderInteraction,
    Statement,
    StatementApproval,
    StatementVersion,
)
from playbooks import services as playbook_services
from playbooks.models import StatementTemplate
from tenants.api.serializers import ServiceModelSerializer, StrictSerializerMixin, service_errors


def _authority(serializer: serializers.Serializer) -> Any:  # type: ignore[type-arg]
    return serializer.context["authority"]


class StatementTemplateSerializer(ServiceModelSerializer):
    create_service = staticmethod(playbook_services.create_statement_template)
    update_service = staticmethod(playbook_services.update_statement_template)

    placeholders = serializers.ListField(
        child=serializers.CharField(max_length=40), required=False, max_length=30
    )
    must_not = serializers.JSONField(
        required=False,
        help_text='[{"category": "speculation|blame|argument|legal_threat", "phrase": "..."}]',
    )
    owner = serializers.ChoiceField(
        choices=["tenant", "agency"],
        read_only=True,
        help_text="tenant: the tenant's own; agency: its agency's (read-only here).",
    )

    class Meta:
        model = StatementTemplate
        fields: tuple[str, ...] = public_fields.STATEMENT_TEMPLATE.names
        read_only_fields: tuple[str, ...] = public_fields.STATEMENT_TEMPLATE.read_only


class AgencyStatementTemplateSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    class Meta:
        model = StatementTemplate
        fields: tuple[str, ...] = public_fields.AGENCY_STATEMENT_TEMPLATE.names
        read_only_fields: tuple[str, ...] = public_fields.AGENCY_STATEMENT_TEMPLATE.read_only


class ApprovalWorkflowSerializer(ServiceModelSerializer):
    create_service = staticmethod(services.create_workflow)
    update_service = staticmethod(services.update_workflow)

    class Meta:
        model = ApprovalWorkflow
        fields: tuple[str, ...] = public_fields.APPROVAL_WORKFLOW.names
        read_only_fields: tuple[str, ...] = public_fields.APPROVAL_WORKFLOW.read_only


class ApprovalStepSerializer(StrictSerializerMixin, serializers.ModelSerializer):  # type: ignore[type-arg]
    workflow = TenantRowField(ApprovalWorkflow)
    approvers = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**63 - 1),
        required=False,
        max_length=20,
        help_text="User ids of members (agency steps); empty: every holder of statements.approve.",
    )
    backup = MemberIdField(required=False, allow_null=True)

    class Meta:
        model = ApprovalStep
        fields: tuple[str, ...] = public_fields.APPROVAL_STEP.names
        read_only_fields: tuple[str, ...] = public_fields.APPROVAL_STEP.read_only

    def create(self, validated_data: dict[str, Any]) -> ApprovalStep:
        validated_data.pop("tenant", None)
        with service_errors():
            return services.create_step(**validated_data)

    def update(self, instance: ApprovalStep, validated_data: dict[str, Any]) -> ApprovalStep:
        if "workflow" in validated_data and validated_data.pop("workflow").pk != (
            instance.workflow_id
        ):
            raise serializers.ValidationError(
                {"workflow": "A step never moves to another workflow."}, code="read_only"
            )
        with service_errors():
            return services.update_step(instance=instance, **validated_data)


class StatementSerializer(StrictSerializerMixin, serializers.ModelSerializer):  # type: ignore[type-arg]
    incident = TenantRowField(Incident)
    template = TenantRowField(
        StatementTemplate,
        required=False,
        allow_null=True,
        help_text="A template of the tenant or of its agency.",
    )
    created_by = serializers.PrimaryKeyRelatedField(read_only=True)  # type: ignore[var-annotated]

    class Meta:
        model = Statement
        fields: tuple[str, ...] = public_fields.STATEMENT.names
        read_only_fields: tuple[str, ...] = public_fields.STATEMENT.read_only


class StatementCreateSerializer(StatementSerializer):
    text = serializers.CharField(
        max_length=10000, required=False, allow_blank=True, help_text="Without a template."
    )
    values = serializers.DictField(
        child=serializers.CharField(max_length=1000, allow_blank=True),
        required=False,
        help_text="A value for every placeholder of the template.",
    )

    class Meta(StatementSerializer.Meta):
        fields: tuple[str, ...] = (*public_fields.STATEMENT.names, "text", "values")

    def create(self, validated_data: dict[str, Any]) -> Statement:
        validated_data.pop("tenant", None)
        with service_errors():
            return services.create_statement(authority=_authority(self), **validated_data)

    def to_representation(self, instance: Statement) -> dict[str, Any]:
        return StatementSerializer(instance, context=self.context).data  # type: ignore[return-value]


class StatementVersionSerializer(StrictSerializerMixin, serializers.ModelSerializer):  # type: ignore[type-arg]
    author = serializers.PrimaryKeyRelatedField(read_only=True)  # type: ignore[var-annotated]
    statement = serializers.PrimaryKeyRelatedField(read_only=True)  # type: ignore[var-annotated]
    incident = serializers.PrimaryKeyRelatedField(read_only=True)  # type: ignore[var-annotated]
    steps = serializers.JSONField(read_only=True)

    class Meta:
        model = StatementVersion
        fields: tuple[str, ...] = public_fields.STATEMENT_VERSION.names
        read_only_fields: tuple[str, ...] = public_fields.STATEMENT_VERSION.read_only

    def update(self, instance: StatementVersion, validated_data: dict[str, Any]) -> Any:
        with service_errors():
            return services.update_version(
                instance=instance, authority=_authority(self), **validated_data
            )


class ReviseSerializer(StrictSerializerMixin, serializers.Serializer):  # type: ignore[type-arg]
    text = serializers.CharField(max_length=10000, help_text="The new version's text.")


class DecisionSerializer(StrictSerializerMixin, serializers.Serializer):  # type: ignore[type-arg]
    decision = serializers.ChoiceField(choices=Decision.choices)
    comment = serializers.CharField(
        max_length=2000,
        required=False,
        allow_blank=True,
        default="",
        help_text="Required when rejecting.",
    )


class DiffParamsSerializer(StrictSerializerMixin, serializers.Serializer):  # type: ignore[type-arg]
    against = serializers.IntegerField(
        required=False, min_value=1, help_text="Another version's id (default: the previous)."
    )


class DiffChangeSerializer(serializers.Serializer):  # type: ignore[type-arg]
    op = serializers.ChoiceField(choices=["equal", "insert", "delete", "replace"])
    before = serializers.CharField()
    after = serializers.CharField()


class DiffSerializer(serializers.Serializer):  # type: ignore[type-arg]
    from_number = serializers.IntegerField()
    to_number = serializers.IntegerField()
    unified = serializers.CharField()
    changes = DiffChangeSerializer(many=True)


class StatementApprovalSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    class Meta:
        model = StatementApproval
        fields: tuple[str, ...] = public_fields.STATEMENT_APPROVAL.names
        read_only_fields: tuple[str, ...] = public_fields.STATEMENT_APPROVAL.read_only


class PublishRecordSerializer(StrictSerializerMixin, serializers.ModelSerializer):  # type: ignore[type-arg]
    version = TenantRowField(StatementVersion)
    channel = serializers.ChoiceField(choices=Channel.choices)
    recorded_by = serializers.PrimaryKeyRelatedField(read_only=True)  # type: ignore[var-annotated]
    incident = serializers.PrimaryKeyRelatedField(read_only=True)  # type: ignore[var-annotated]

    class Meta:
        model = PublishRecord
        fields: tuple[str, ...] = public_fields.PUBLISH_RECORD.names
        read_only_fields: tuple[str, ...] = public_fields.PUBLISH_RECORD.read_only

    def create(self, validated_data: dict[str, Any]) -> PublishRecord:
        validated_data.pop("tenant", None)
        with service_errors():
            return services.record_publication(authority=_authority(self), **validated_data)


class CrisisModeSerializer(StrictSerializerMixin, serializers.ModelSerializer):  # type: ignore[type-arg]
    incident = TenantRowField(Incident)
    is_active = serializers.BooleanField(read_only=True)

    class Meta:
        model = CrisisMode
        fields: tuple[str, ...] = public_fields.CRISIS_MODE.names
        read_only_fields: tuple[str, ...] = public_fields.CRISIS_MODE.read_only

    def create(self, validated_data: dict[str, Any]) -> CrisisMode:
        validated_data.pop("tenant", None)
        with service_errors():
            return services.start_crisis_mode(authority=_authority(self), **validated_data)


class CrisisEndSerializer(StrictSerializerMixin, serializers.Serializer):  # type: ignore[type-arg]
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class CrisisStateSerializer(serializers.Serializer):  # type: ignore[type-arg]
    active = serializers.BooleanField()
    crisis_mode = CrisisModeSerializer(allow_null=True)


class StakeholderSerializer(ServiceModelSerializer):
    create_service = staticmethod(services.create_stakeholder)
    update_service = staticmethod(services.update_stakeholder)

    tags = serializers.ListField(
        child=serializers.CharField(max_length=50), required=False, max_length=20
    )

    class Meta:
        model = Stakeholder
        fields: tuple[str, ...] = public_fields.STAKEHOLDER.names
        read_only_fields: tuple[str, ...] = public_fields.STAKEHOLDER.read_only


class InteractionSerializer(StrictSerializerMixin, serializers.ModelSerializer):  # type: ignore[type-arg]
    incident = TenantRowField(Incident)
    stakeholder = TenantRowField(Stakeholder)
    by = serializers.PrimaryKeyRelatedField(read_only=True)  # type: ignore[var-annotated]

    class Meta:
        model = StakeholderInteraction
        fields: tuple[str, ...] = public_fields.INTERACTION.names
        read_only_fields: tuple[str, ...] = public_fields.INTERACTION.read_only

    def create(self, validated_data: dict[str, Any]) -> StakeholderInteraction:
        validated_data.pop("tenant", None)
        with service_errors():
            return services.log_interaction(authority=_authority(self), **validated_data)


class RightOfReplySerializer(StrictSerializerMixin, serializers.ModelSerializer):  # type: ignore[type-arg]
    incident = TenantRowField(Incident)
    outlet = TenantRowField(Stakeholder)

    class Meta:
        model = RightOfReply
        fields: tuple[str, ...] = public_fields.RIGHT_OF_REPLY.names
        read_only_fields: tuple[str, ...] = public_fields.RIGHT_OF_REPLY.read_only

    def create(self, validated_data: dict[str, Any]) -> RightOfReply:
        validated_data.pop("tenant", None)
        with service_errors():
            return services.create_right_of_reply(authority=_authority(self), **validated_data)

    def update(self, instance: RightOfReply, validated_data: dict[str, Any]) -> RightOfReply:
        for name in ("incident", "outlet"):
            if name in validated_data and validated_data.pop(name) != getattr(instance, name):
                raise serializers.ValidationError(
                    {name: "This never changes: record a new request."}, code="read_only"
                )
        with service_errors():
            return services.update_right_of_reply(
                instance=instance, authority=_authority(self), **validated_data
            )
