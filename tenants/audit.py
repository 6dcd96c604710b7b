"""Audit trail (django-auditlog) of who created, changed or deleted tenants, members,
invitations and keys."""

from __future__ import annotations

from typing import Any

from auditlog.context import auditlog_value
from auditlog.registry import auditlog


def register_models() -> None:
    from tenants.models import (
        Agency,
        Invitation,
        Membership,
        PersonalToken,
        Tenant,
        TenantApiKey,
        User,
    )

    auditlog.register(Agency)
    auditlog.register(Tenant)
    auditlog.register(Membership)
    auditlog.register(Invitation)  # no token is stored: the link's token is made when sent
    auditlog.register(User, exclude_fields=["password", "last_login"])
    # Key rows carry only hashes, but even those stay out of the log.
    auditlog.register(TenantApiKey, exclude_fields=["id", "hashed_key", "last_used_at"])
    auditlog.register(PersonalToken, exclude_fields=["id", "hashed_key", "last_used_at"])


def attach_actor(user: Any) -> None:
    """Name the authenticated user as the actor of this request's audit entries.

    The audit middleware runs before DRF authenticates a bearer token, so API views call this
    after authentication; the middleware's context is then updated in place.
    """
    from tenants.models import User

    try:
        context = auditlog_value.get()
    except LookupError:
        return
    if isinstance(user, User) and user.is_authenticated and context.get("actor") is None:
        context["actor"] = user
