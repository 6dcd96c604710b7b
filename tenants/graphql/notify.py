"""GraphQL of notifications: ``channels``, ``deliveries``, ``on_call_shifts`` and
``quiet_hours`` (reads), and ``create_channel``, ``update_channel``, ``delete_channel``
(writes through ``tenants.notify.services``). Channel secrets are never readable here; the
mutations take them write-only, like REST."""

from __future__ import annotations

from datetime import time
from typing import Any

import strawberry
import strawberry_django
from strawberry.scalars import JSON

from tenants.graphql.context import Info
from tenants.graphql.errors import bad_input, service_errors
from tenants.graphql.permissions import AUTHENTICATED as _authenticated
from tenants.graphql.permissions import tenant_for
from tenants.graphql.types import TenantOwnedType, public_type
from tenants.models import Channel, Delivery, OnCallShift, QuietHours
from tenants.notify import fields, services
from tenants.roles import Cap

MAX_DELIVERIES = 200


@public_type(fields.CHANNEL)
class ChannelType(TenantOwnedType):
    read_capability = Cap.MANAGE_CHANNELS

    @strawberry_django.field(only=["secret"])  # type: ignore[untyped-decorator]
    def has_secret(self, root: Channel) -> bool:
        return bool(root.secret)


@public_type(fields.DELIVERY)
class DeliveryType(TenantOwnedType):
    read_capability = Cap.MANAGE_CHANNELS

    @strawberry_django.field(only=["channel_id"])  # type: ignore[untyped-decorator]
    def channel(self, root: Delivery) -> strawberry.ID | None:
        return strawberry.ID(str(root.channel_id)) if root.channel_id else None

    @strawberry_django.field(only=["user_id"])  # type: ignore[untyped-decorator]
    def user(self, root: Delivery) -> strawberry.ID | None:
        return strawberry.ID(str(root.user_id)) if root.user_id else None


@public_type(fields.ON_CALL_SHIFT)
class OnCallShiftType(TenantOwnedType):
    read_capability = Cap.MANAGE_ESCALATION

    @strawberry_django.field(only=["user_id"])  # type: ignore[untyped-decorator]
    def user(self, root: OnCallShift) -> strawberry.ID:
        return strawberry.ID(str(root.user_id))


@public_type(fields.QUIET_HOURS)
class QuietHoursType(TenantOwnedType):
    read_capability = Cap.MANAGE_ESCALATION
    starts: time
    ends: time

    @strawberry_django.field(only=["user_id"])  # type: ignore[untyped-decorator]
    def user(self, root: QuietHours) -> strawberry.ID:
        return strawberry.ID(str(root.user_id))


@strawberry.type
class NotifyQuery:
    @strawberry_django.field(extensions=_authenticated)  # type: ignore[untyped-decorator]
    def channels(self, info: Info, slug: str) -> list[ChannelType]:
        """The tenant's notification channels (secrets never shown)."""
        tenant = tenant_for(info, slug, Cap.MANAGE_CHANNELS)
        return Channel.objects.for_tenant(tenant).order_by("name", "id")  # type: ignore[return-value]

    @strawberry_django.field(extensions=_authenticated)  # type: ignore[untyped-decorator]
    def deliveries(
        self, info: Info, slug: str, status: str | None = None, limit: int = 50
    ) -> list[DeliveryType]:
        """The delivery log, newest first (at most 200)."""
        tenant = tenant_for(info, slug, Cap.MANAGE_CHANNELS)
        if not 1 <= limit <= MAX_DELIVERIES:
            raise bad_input(f"limit: from 1 to {MAX_DELIVERIES}.", "limit")
        rows = Delivery.objects.for_tenant(tenant).order_by("-created_at", "-id")
        if status is not None:
            rows = rows.filter(status=status)
        return list(rows[:limit])  # type: ignore[arg-type]

    @strawberry_django.field(extensions=_authenticated)  # type: ignore[untyped-decorator]
    def on_call_shifts(self, info: Info, slug: str) -> list[OnCallShiftType]:
        """The on-call rota."""
        tenant = tenant_for(info, slug, Cap.MANAGE_ESCALATION)
        return OnCallShift.objects.for_tenant(tenant).order_by("starts_at", "id")  # type: ignore[return-value]

    @strawberry_django.field(extensions=_authenticated)  # type: ignore[untyped-decorator]
    def quiet_hours(self, info: Info, slug: str) -> list[QuietHoursType]:
        """Members' quiet hours."""
        tenant = tenant_for(info, slug, Cap.MANAGE_ESCALATION)
        return QuietHours.objects.for_tenant(tenant).order_by("user_id", "id")  # type: ignore[return-value]


def _channel(tenant: Any, id: strawberry.ID) -> Channel:
    found = (
        Channel.objects.for_tenant(tenant).filter(pk=int(id)).first()
        if str(id).isdigit() and len(str(id)) < 19
        else None
    )
    if found is None:
        raise bad_input("No such channel in this tenant.", "id")
    return found


@strawberry.type
class NotifyMutation:
    @strawberry_django.mutation(extensions=_authenticated)  # type: ignore[untyped-decorator]
    def create_channel(
        self,
        info: Info,
        slug: str,
        name: str,
        kind: str,
        target: str = "",
        secret: str = "",
        signing_secret: str = "",
        options: JSON | None = None,
        enabled: bool = True,
    ) -> ChannelType:
        """A new channel; ``secret`` and ``signing_secret`` are stored encrypted, never shown."""
        tenant = tenant_for(info, slug, Cap.MANAGE_CHANNELS)
        with service_errors():
            return services.create_channel(  # type: ignore[return-value]
                tenant=tenant,
                name=name,
                kind=kind,
                target=target,
                secret=secret,
                signing_secret=signing_secret,
                options=options if options is not None else {},
                enabled=enabled,
            )

    @strawberry_django.mutation(extensions=_authenticated)  # type: ignore[untyped-decorator]
    def update_channel(
        self,
        info: Info,
        slug: str,
        id: strawberry.ID,
        name: str | None = None,
        target: str | None = None,
        secret: str | None = None,
        signing_secret: str | None = None,
        options: JSON | None = None,
        enabled: bool | None = None,
    ) -> ChannelType:
        """Change a channel; a secret left out keeps the stored one."""
        tenant = tenant_for(info, slug, Cap.MANAGE_CHANNELS)
        channel = _channel(tenant, id)
        given = {
            "name": name,
            "target": target,
            "secret": secret,
            "signing_secret": signing_secret,
            "options": options,
            "enabled": enabled,
        }
        with service_errors():
            return services.update_channel(  # type: ignore[return-value]
                instance=channel, **{k: v for k, v in given.items() if v is not None}
            )

    @strawberry_django.mutation(extensions=_authenticated)  # type: ignore[untyped-decorator]
    def delete_channel(self, info: Info, slug: str, id: strawberry.ID) -> bool:
        """Delete a channel (its deliveries stay in the log)."""
        tenant = tenant_for(info, slug, Cap.MANAGE_CHANNELS)
        channel = _channel(tenant, id)
        with service_errors():
            services.delete_channel(instance=channel)
        return True
