"""REST resources of notifications, under ``/api/v1/tenants/{slug}/``:

* ``channels/``: CRUD with ``channels.manage``. ``secret`` and ``signing_secret`` are
  write-only (never in an answer; ``has_secret`` says whether one is set); an update that leaves
  them out keeps them;
* ``deliveries/``: the delivery log, read-only with ``channels.manage``, newest first;
* ``on-call-shifts/`` and ``quiet-hours/``: CRUD with ``escalation.manage``.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers

from tenants.api.base import TenantCrudViewSet, TenantScopedViewSet, crud_capabilities
from tenants.api.pagination import KeysetPagination
from tenants.api.serializers import ServiceModelSerializer
from tenants.models import Channel, Delivery, Membership, OnCallShift, QuietHours, User
from tenants.notify import fields as public_fields
from tenants.notify import services
from tenants.notify.choices import ChannelKind, DeliveryStatus
from tenants.roles import Cap


@extend_schema_field({"type": "integer", "description": "A user id: a member of this tenant."})
class MemberField(serializers.Field):  # type: ignore[type-arg]
    """A member of the URL's tenant, by user id (anyone else reads like no such user)."""

    def to_internal_value(self, data: Any) -> User:
        if isinstance(data, bool) or not isinstance(data, int | str) or not str(data).isdigit():
            raise serializers.ValidationError(
                "Must be a member of this tenant.", code="not_a_member"
            )
        if len(str(data)) > 18:
            raise serializers.ValidationError(
                "Must be a member of this tenant.", code="not_a_member"
            )
        member = (
            Membership.objects.for_tenant(self.context["tenant"])
            .select_related("user")
            .filter(user_id=int(data))
            .first()
        )
        if member is None:
            raise serializers.ValidationError(
                "Must be a member of this tenant.", code="not_a_member"
            )
        return member.user

    def to_representation(self, value: Any) -> int | None:
        pk = getattr(value, "pk", value)
        return int(pk) if pk is not None else None


class ChannelSerializer(ServiceModelSerializer):
    """A notification channel. ``secret``: the URL (webhook, Slack, Teams) or token (Telegram
    bot, WhatsApp access token); ``signing_secret``: the webhook's HMAC key. Both write-only."""

    create_service = staticmethod(services.create_channel)
    update_service = staticmethod(services.update_channel)
    secret = serializers.CharField(
        write_only=True, required=False, allow_blank=True, max_length=2000, trim_whitespace=True
    )
    signing_secret = serializers.CharField(
        write_only=True, required=False, allow_blank=True, max_length=500
    )
    has_secret = serializers.BooleanField(read_only=True)

    class Meta:
        model = Channel
        fields: tuple[str, ...] = (*public_fields.CHANNEL.names, *public_fields.CHANNEL_SECRETS)
        read_only_fields: tuple[str, ...] = public_fields.CHANNEL.read_only


class DeliverySerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    """One message to one person or channel: what, to whom, its status and last error."""

    class Meta:
        model = Delivery
        fields: tuple[str, ...] = public_fields.DELIVERY.names
        read_only_fields: tuple[str, ...] = public_fields.DELIVERY.read_only


class OnCallShiftSerializer(ServiceModelSerializer):
    """One member on call from ``starts_at`` to ``ends_at``."""

    create_service = staticmethod(services.create_shift)
    update_service = staticmethod(services.update_shift)
    user = MemberField()

    class Meta:
        model = OnCallShift
        fields: tuple[str, ...] = public_fields.ON_CALL_SHIFT.names
        read_only_fields: tuple[str, ...] = public_fields.ON_CALL_SHIFT.read_only


class QuietHoursSerializer(ServiceModelSerializer):
    """A member's quiet hours, in the tenant's time zone (may cross midnight); SEV1 alerts
    still reach them."""

    create_service = staticmethod(services.create_quiet_hours)
    update_service = staticmethod(services.update_quiet_hours)
    user = MemberField()

    class Meta:
        model = QuietHours
        fields: tuple[str, ...] = public_fields.QUIET_HOURS.names
        read_only_fields: tuple[str, ...] = public_fields.QUIET_HOURS.read_only


class ChannelFilterSet(django_filters.FilterSet):  # type: ignore[misc]
    kind = django_filters.ChoiceFilter(choices=ChannelKind.choices)
    enabled = django_filters.BooleanFilter()

    class Meta:
        model = Channel
        fields: tuple[str, ...] = ("kind", "enabled")


class DeliveryFilterSet(django_filters.FilterSet):  # type: ignore[misc]
    status = django_filters.ChoiceFilter(choices=DeliveryStatus.choices)
    kind = django_filters.ChoiceFilter(choices=ChannelKind.choices)
    event_type = django_filters.CharFilter()
    subject_ref = django_filters.CharFilter()

    class Meta:
        model = Delivery
        fields: tuple[str, ...] = ("status", "kind", "event_type", "subject_ref")


class DeliveryPagination(KeysetPagination):
    """Newest first (``created_at``, then ``id``), without any COUNT."""

    key_field = "created_at"


@extend_schema(tags=["notifications"])
class ChannelViewSet(TenantCrudViewSet):
    """The tenant's notification channels (admins only: they hold secrets and outbound URLs)."""

    queryset = Channel.objects.all()
    serializer_class = ChannelSerializer
    filterset_class = ChannelFilterSet
    ordering_fields = ("name", "created_at")
    capabilities = crud_capabilities(Cap.MANAGE_CHANNELS, Cap.MANAGE_CHANNELS)
    delete_service = staticmethod(services.delete_channel)

    def scope_queryset(self, queryset: QuerySet[Channel]) -> QuerySet[Channel]:
        return queryset.order_by("name", "id")


@extend_schema(tags=["notifications"])
class DeliveryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantScopedViewSet):
    """The delivery log, newest first."""

    queryset = Delivery.objects.all()
    serializer_class = DeliverySerializer
    filterset_class = DeliveryFilterSet
    pagination_class = DeliveryPagination
    capabilities = {"list": Cap.MANAGE_CHANNELS, "retrieve": Cap.MANAGE_CHANNELS}

    def scope_queryset(self, queryset: QuerySet[Delivery]) -> QuerySet[Delivery]:
        return queryset.order_by("-created_at", "-id")


@extend_schema(tags=["notifications"])
class OnCallShiftViewSet(TenantCrudViewSet):
    """The on-call rota: who is on call when."""

    queryset = OnCallShift.objects.all()
    serializer_class = OnCallShiftSerializer
    ordering_fields = ("starts_at", "ends_at")
    capabilities = crud_capabilities(Cap.MANAGE_ESCALATION, Cap.MANAGE_ESCALATION)
    delete_service = staticmethod(services.delete_shift)

    def scope_queryset(self, queryset: QuerySet[OnCallShift]) -> QuerySet[OnCallShift]:
        return queryset.select_related("user").order_by("starts_at", "id")


@extend_schema(tags=["notifications"])
class QuietHoursViewSet(TenantCrudViewSet):
    """Members' quiet hours."""

    queryset = QuietHours.objects.all()
    serializer_class = QuietHoursSerializer
    capabilities = crud_capabilities(Cap.MANAGE_ESCALATION, Cap.MANAGE_ESCALATION)
    delete_service = staticmethod(services.delete_quiet_hours)

    def scope_queryset(self, queryset: QuerySet[QuietHours]) -> QuerySet[QuietHours]:
        return queryset.select_related("user").order_by("user_id", "id")
