"""REST serializers of the playbooks app: the input's shape only; every write goes through
``playbooks.services`` (its ``ValidationError`` answers 400 naming the field)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from rest_framework import serializers

from playbooks import fields as public_fields
from playbooks import services
from playbooks.models import Playbook, PlaybookStep
from tenants.api.errors import UNKNOWN_FIELD
from tenants.api.serializers import ServiceModelSerializer
from tenants.choices import IncidentRole


class StepSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    """One step; ``due_offset_minutes`` counts from the incident's start (0 or more),
    ``depends_on`` names keys of steps of the same playbook (no cycles). Unknown fields are
    refused (a nested item has no ``initial_data`` of its own for the strict base)."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError(
                    {name: _(UNKNOWN_FIELD.detail) for name in unknown}, code=UNKNOWN_FIELD.code
                )
        return super().to_internal_value(data)

    role = serializers.ChoiceField(choices=IncidentRole.choices)
    due_offset_minutes = serializers.IntegerField(required=False, default=60)
    checklist = serializers.ListField(
        child=serializers.CharField(max_length=200), required=False, default=list, max_length=50
    )
    depends_on = serializers.ListField(
        child=serializers.CharField(max_length=40), required=False, default=list, max_length=50
    )

    class Meta:
        model = PlaybookStep
        fields: tuple[str, ...] = services.STEP_FIELDS
        extra_kwargs: dict[str, Any] = {"key": {"validators": []}}


class PlaybookSerializer(ServiceModelSerializer):
    """A playbook of the tenant (``owner: "tenant"``) or of its agency (``owner:
    "agency"``, written by agency admins only). Sending ``steps`` replaces them all."""

    create_service = staticmethod(services.create_playbook)
    update_service = staticmethod(services.update_playbook)

    owner = serializers.ChoiceField(choices=services.OWNERS, required=False, default="tenant")
    steps = StepSerializer(many=True, required=False)
    trigger_types = serializers.ListField(
        child=serializers.CharField(max_length=32), required=False, max_length=6
    )
    tags = serializers.ListField(
        child=serializers.CharField(max_length=40), required=False, max_length=20
    )
    do_guidance = serializers.ListField(
        child=serializers.CharField(max_length=500), required=False, max_length=30
    )
    dont_guidance = serializers.ListField(
        child=serializers.CharField(max_length=500), required=False, max_length=30
    )
    key_messages = serializers.ListField(
        child=serializers.CharField(max_length=500), required=False, max_length=30
    )

    class Meta:
        model = Playbook
        fields: tuple[str, ...] = public_fields.PLAYBOOK.names
        read_only_fields: tuple[str, ...] = public_fields.PLAYBOOK.read_only
        validators: list[Any] = []

    def _user(self) -> Any:
        request = self.context.get("request")
        return getattr(request, "user", None)

    def create(self, validated_data: dict[str, Any]) -> Any:
        steps = validated_data.pop("steps", None)
        return super().create({**validated_data, "steps": steps, "user": self._user()})

    def update(self, instance: Any, validated_data: dict[str, Any]) -> Any:
        if "owner" in validated_data and validated_data["owner"] != instance.owner:
            raise serializers.ValidationError(
                {"owner": "A playbook's owner never changes."}, code="read_only"
            )
        validated_data.pop("owner", None)
        if "steps" not in self.initial_data:
            validated_data.pop("steps", None)
        return super().update(instance, {**validated_data, "user": self._user()})

    def to_representation(self, instance: Any) -> Any:
        data = super().to_representation(instance)
        data["owner"] = instance.owner
        return data
