"""REST serializers for tenants, members, tokens and keys. Public fields are declared once in
``tenants.fields`` and shared with the GraphQL types."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from tenants import fields as public_fields
from tenants.models import Membership, PersonalToken, Tenant, TenantApiKey, User
from tenants.roles import Role


class StrictSerializerMixin:
    """Refuse unknown fields instead of silently ignoring them."""

    initial_data: Any
    fields: Any

    def validate(self, attrs: Any) -> Any:
        if isinstance(self.initial_data, dict):
            unknown = sorted(set(self.initial_data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError(
                    {name: "Unknown field." for name in unknown}, code="unknown_field"
                )
        return super().validate(attrs)  # type: ignore[misc]


def raise_as_drf(exc: DjangoValidationError) -> None:
    raise serializers.ValidationError(
        exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
    )


class UserSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields: tuple[str, ...] = public_fields.USER_SUMMARY
        read_only_fields: tuple[str, ...] = public_fields.USER_SUMMARY


class TenantSerializer(StrictSerializerMixin, serializers.ModelSerializer):
    agency: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="slug", read_only=True
    )

    class Meta:
        model = Tenant
        fields: tuple[str, ...] = public_fields.TENANT
        read_only_fields: tuple[str, ...] = ("id", "agency", "created_at", "updated_at")


class TenantCreateSerializer(TenantSerializer):
    class Meta(TenantSerializer.Meta):
        read_only_fields: tuple[str, ...] = ("id", "agency", "status", "created_at", "updated_at")


class TenantUpdateSerializer(TenantSerializer):
    class Meta(TenantSerializer.Meta):
        read_only_fields: tuple[str, ...] = ("id", "agency", "slug", "created_at", "updated_at")


class MembershipSerializer(StrictSerializerMixin, serializers.ModelSerializer):
    user = UserSummarySerializer(read_only=True)

    class Meta:
        model = Membership
        fields: tuple[str, ...] = public_fields.MEMBERSHIP
        read_only_fields: tuple[str, ...] = ("id", "user", "created_at", "updated_at")


class MemberInviteSerializer(StrictSerializerMixin, serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    role = serializers.ChoiceField(choices=Role.choices)
    full_name = serializers.CharField(max_length=200, required=False, allow_blank=True)


class MemberRoleSerializer(StrictSerializerMixin, serializers.Serializer):
    role = serializers.ChoiceField(choices=Role.choices)


class MeSerializer(serializers.ModelSerializer):
    agency: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="slug", read_only=True
    )
    memberships = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields: tuple[str, ...] = (*public_fields.USER, "memberships")
        read_only_fields: tuple[str, ...] = public_fields.USER

    def get_memberships(self, user: User) -> list[dict[str, str]]:
        return [
            {"tenant": m.tenant.slug, "role": m.role}
            for m in user.memberships.select_related("tenant").order_by("tenant__slug")
        ]


class TokenCreateSerializer(StrictSerializerMixin, serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(max_length=128, trim_whitespace=False, write_only=True)
    name = serializers.CharField(max_length=50, required=False, allow_blank=True)


class KeyFieldsMixin(serializers.Serializer):
    """Keys are named by their public prefix; the secret is never returned after creation."""

    id = serializers.CharField(source="prefix", read_only=True)
    created_at = serializers.DateTimeField(source="created", read_only=True)
    expires_at = serializers.DateTimeField(source="expiry_date", required=False, allow_null=True)


class TokenSerializer(KeyFieldsMixin, serializers.ModelSerializer):
    class Meta:
        model = PersonalToken
        fields: tuple[str, ...] = (
            "id",
            "name",
            "created_at",
            "expires_at",
            "last_used_at",
            "revoked",
        )
        read_only_fields: tuple[str, ...] = fields


class IssuedTokenSerializer(TokenSerializer):
    token = serializers.CharField(read_only=True, help_text="The secret, shown only once.")

    class Meta(TokenSerializer.Meta):
        fields: tuple[str, ...] = ("id", "token", "name", "created_at", "expires_at")
        read_only_fields: tuple[str, ...] = fields


class ApiKeySerializer(StrictSerializerMixin, KeyFieldsMixin, serializers.ModelSerializer):
    class Meta:
        model = TenantApiKey
        fields: tuple[str, ...] = (
            "id",
            "name",
            "created_at",
            "expires_at",
            "last_used_at",
            "revoked",
        )
        read_only_fields: tuple[str, ...] = ("id", "created_at", "last_used_at", "revoked")
        extra_kwargs = {"name": {"required": True, "allow_blank": False, "max_length": 50}}


class IssuedApiKeySerializer(ApiKeySerializer):
    key = serializers.CharField(read_only=True, help_text="The secret, shown only once.")

    class Meta(ApiKeySerializer.Meta):
        fields: tuple[str, ...] = ("id", "key", "name", "created_at", "expires_at")
        read_only_fields: tuple[str, ...] = fields
