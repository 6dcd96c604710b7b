"""REST serializers for tenants, members, tokens and keys, and the serializer bases of every
app: ``StrictSerializerMixin`` (unknown fields are refused), ``TenantUniqueMixin`` and
``ServiceModelSerializer`` (writes go through the app's services; their ``ValidationError``
becomes a 400 naming the field, with its code). Public fields are declared once in
``tenants.fields`` and shared with the GraphQL types."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, ClassVar, NoReturn

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Model
from django.utils.translation import gettext as _
from rest_framework import exceptions, serializers
from rest_framework.serializers import as_serializer_error
from rest_framework.settings import api_settings

from tenants import fields as public_fields
from tenants.api import errors
from tenants.api.errors import UNKNOWN_FIELD
from tenants.models import Invitation, Membership, PersonalToken, Tenant, TenantApiKey, User
from tenants.roles import Role
from tenants.writes import scoped


def _refusal(field: serializers.Field, key: str, **params: Any) -> Any:  # type: ignore[type-arg]
    """The field's own error (message and code) for ``key``."""
    try:
        field.fail(key, **params)
    except serializers.ValidationError as exc:
        return exc.detail[0]  # type: ignore[index]
    raise AssertionError("Field.fail() always raises")  # pragma: no cover


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def type_refusal(field: serializers.Field, value: Any) -> Any:  # type: ignore[type-arg]
    """The error for a JSON value whose type is not the one the field's schema states, or None.

    DRF coerces (``"name": 0`` becomes ``"0"``, ``"5"`` and ``true`` become integers, ``"true"``
    and ``0`` booleans); a request body is taken as its schema types it, or refused naming the
    field with the field's own code. ``null`` is left to the field (``allow_null``)."""
    if value is None:
        return None
    if isinstance(field, serializers.ListField):
        if not isinstance(value, list):
            return _refusal(field, "not_a_list", input_type=type(value).__name__)
        found = {
            index: [error]
            for index, item in enumerate(value)
            if (error := type_refusal(field.child, item)) is not None
        }
        return found or None
    if isinstance(field, serializers.BooleanField):
        return None if isinstance(value, bool) else _refusal(field, "invalid")
    if isinstance(field, serializers.IntegerField):
        return None if _is_int(value) else _refusal(field, "invalid")
    if isinstance(field, serializers.FloatField):
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        return None if ok else _refusal(field, "invalid")
    if isinstance(field, serializers.PrimaryKeyRelatedField):
        if _is_int(value):
            return None
        return _refusal(field, "incorrect_type", data_type=type(value).__name__)
    if isinstance(field, serializers.ChoiceField) and not isinstance(
        field, serializers.MultipleChoiceField
    ):
        if isinstance(value, str) or not all(isinstance(key, str) for key in field.choices):
            return None
        return _refusal(field, "invalid_choice", input=value)
    if isinstance(field, serializers.DateTimeField | serializers.DateField):
        return None if isinstance(value, str) else _refusal(field, "invalid", format="ISO 8601")
    if isinstance(field, serializers.CharField):
        return None if isinstance(value, str) else _refusal(field, "invalid")
    return None


class StrictSerializerMixin:
    """Refuse unknown fields instead of silently ignoring them, and values of another JSON
    type than the field's (``type_refusal``): the base of every request body."""

    initial_data: Any
    fields: Any

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            found = {}
            for name, field in self.fields.items():
                if field.read_only or name not in data:
                    continue
                error = type_refusal(field, data[name])
                if error is not None:
                    found[name] = error if isinstance(error, dict) else [error]
            if found:
                raise serializers.ValidationError(found)
        return super().to_internal_value(data)  # type: ignore[misc]

    def validate(self, attrs: Any) -> Any:
        if isinstance(self.initial_data, dict):
            unknown = sorted(set(self.initial_data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError(
                    {name: _(UNKNOWN_FIELD.detail) for name in unknown},
                    code=UNKNOWN_FIELD.code,
                )
        return super().validate(attrs)  # type: ignore[misc]


def raise_as_drf(exc: DjangoValidationError) -> NoReturn:
    """A ``ValidationError`` of the tenants services as DRF's (the messages by field; code
    ``invalid``, as the tenants endpoints have always answered)."""
    raise serializers.ValidationError(
        exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
    ) from None


@contextmanager
def service_errors() -> Iterator[None]:
    """Run a service call; its ``ValidationError`` becomes a 400 naming the field, with the
    error's code, and its ``PermissionDenied`` a 403 with the service's reason."""
    try:
        yield
    except DjangoPermissionDenied as exc:
        raise exceptions.PermissionDenied(str(exc) or None) from None
    except DjangoValidationError as exc:
        detail = as_serializer_error(exc)  # keeps each error's code (unique, invalid_query, ...)
        if not hasattr(exc, "error_dict"):
            detail = {"detail": detail[api_settings.NON_FIELD_ERRORS_KEY]}
        raise serializers.ValidationError(detail) from None


class TenantUniqueMixin:
    """Checks ``tenant_unique`` (tuples of field names unique together within the tenant)
    while validating, for serializers that are not backed by a service (services check it
    themselves through ``tenants.writes``)."""

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
            clash = scoped(model, tenant).filter(**values)
            if self.instance is not None:
                clash = clash.exclude(pk=self.instance.pk)
            if clash.exists():
                label = " and ".join(names)
                raise serializers.ValidationError(
                    {
                        names[-1]: _("This tenant already has one with this %(label)s.")
                        % {"label": label}
                    },
                    code="unique",
                )


class ServiceModelSerializer(StrictSerializerMixin, serializers.ModelSerializer):  # type: ignore[type-arg]
    # A model serializer that validates the shape of the input and leaves the write to the
    # app's services: ``create_service(tenant=..., **data)`` and
    # ``update_service(instance=..., **data)`` (set them with ``staticmethod``). The services
    # keep the rules (``tenants.writes``); their ``ValidationError`` answers 400 by field.
    # (No docstring: the OpenAPI description of each resource comes from the first one in the
    # MRO, and the contract keeps the one it had.)

    create_service: ClassVar[Callable[..., Any]]
    update_service: ClassVar[Callable[..., Any]]

    def create(self, validated_data: dict[str, Any]) -> Any:
        with service_errors():
            return self.create_service(**validated_data)

    def update(self, instance: Any, validated_data: dict[str, Any]) -> Any:
        with service_errors():
            return self.update_service(instance=instance, **validated_data)


class UserSummarySerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    class Meta:
        model = User
        fields: tuple[str, ...] = public_fields.USER_SUMMARY.names
        read_only_fields: tuple[str, ...] = public_fields.USER_SUMMARY.read_only


class TenantSerializer(StrictSerializerMixin, serializers.ModelSerializer):  # type: ignore[type-arg]
    error_codes = (errors.TENANT_TIME_ZONE,)
    agency: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="slug", read_only=True
    )

    class Meta:
        model = Tenant
        fields: tuple[str, ...] = public_fields.TENANT.names
        read_only_fields: tuple[str, ...] = public_fields.TENANT.read_only


class TenantCreateSerializer(TenantSerializer):
    class Meta(TenantSerializer.Meta):
        read_only_fields: tuple[str, ...] = ("id", "agency", "status", "created_at", "updated_at")


class TenantUpdateSerializer(TenantSerializer):
    class Meta(TenantSerializer.Meta):
        read_only_fields: tuple[str, ...] = ("id", "agency", "slug", "created_at", "updated_at")


class MembershipSerializer(StrictSerializerMixin, serializers.ModelSerializer):  # type: ignore[type-arg]
    user = UserSummarySerializer(read_only=True)

    class Meta:
        model = Membership
        fields: tuple[str, ...] = public_fields.MEMBERSHIP.names
        read_only_fields: tuple[str, ...] = public_fields.MEMBERSHIP.read_only


class InvitationSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    """An invitation as the inviter sees it: the same for every address (``pending`` until the
    person follows the e-mailed link, then ``accepted``; ``expired`` after
    ``SIGAP_INVITATION_TTL_HOURS``)."""

    status = serializers.ChoiceField(choices=Invitation.Status.choices, read_only=True)
    expires_at = serializers.DateTimeField(read_only=True)

    class Meta:
        model = Invitation
        fields: tuple[str, ...] = public_fields.INVITATION.names
        read_only_fields: tuple[str, ...] = public_fields.INVITATION.read_only


class MemberInviteSerializer(StrictSerializerMixin, serializers.Serializer):  # type: ignore[type-arg]
    email = serializers.EmailField(max_length=254)
    role = serializers.ChoiceField(choices=Role.choices)
    full_name = serializers.CharField(max_length=200, required=False, allow_blank=True)


class MemberRoleSerializer(StrictSerializerMixin, serializers.Serializer):  # type: ignore[type-arg]
    role = serializers.ChoiceField(choices=Role.choices)


class MeSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    agency: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="slug", read_only=True
    )
    memberships = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields: tuple[str, ...] = (*public_fields.USER.names, "memberships")
        read_only_fields: tuple[str, ...] = public_fields.USER.read_only

    def get_memberships(self, user: User) -> list[dict[str, str]]:
        return [
            {"tenant": m.tenant.slug, "role": m.role}
            for m in user.memberships.select_related("tenant").order_by("tenant__slug")
        ]


class MeUpdateSerializer(StrictSerializerMixin, serializers.ModelSerializer):  # type: ignore[type-arg]
    """What a person changes of their own account: name and language (empty: the tenant's)."""

    class Meta:
        model = User
        fields: tuple[str, ...] = ("full_name", "language")


class TokenCreateSerializer(StrictSerializerMixin, serializers.Serializer):  # type: ignore[type-arg]
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(max_length=128, trim_whitespace=False, write_only=True)
    name = serializers.CharField(max_length=50, required=False, allow_blank=True)


class KeyFieldsMixin(serializers.Serializer):  # type: ignore[type-arg]
    """Keys are named by their public prefix; the secret is never returned after creation."""

    id = serializers.CharField(source="prefix", read_only=True)
    created_at = serializers.DateTimeField(source="created", read_only=True)
    expires_at = serializers.DateTimeField(source="expiry_date", required=False, allow_null=True)


class TokenSerializer(KeyFieldsMixin, serializers.ModelSerializer):  # type: ignore[type-arg]
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


class ApiKeySerializer(StrictSerializerMixin, KeyFieldsMixin, serializers.ModelSerializer):  # type: ignore[type-arg]
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
