"""Audit trail (django-auditlog) of who created, changed or deleted tenants, members,
invitations and keys, and of the writes to tenant data that services record themselves
(``record``).

Registered models (tenants, members, invitations, users, keys) are logged by auditlog's signals.
Tenant data that is written in bulk (mentions: triage of up to 500 rows, deletions) is not
registered, so the pipeline's and retention's bulk writes stay fast and unlogged; the services
that act for a person call ``record`` instead: one entry per row, in two INSERTs at most, with
the request's actor.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from auditlog.context import auditlog_value
from auditlog.registry import auditlog
from django.db import models


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


def audit_value(value: Any) -> str:
    """A value as auditlog writes it in ``changes``: its text, ``None`` as ``"None"``, a row as
    its primary key."""
    if isinstance(value, models.Model):
        return str(value.pk)
    return str(value)


def record(
    rows: Iterable[tuple[models.Model, dict[str, tuple[Any, Any]]]],
    *,
    action: int,
    details: dict[str, Any] | None = None,
) -> int:
    """One audit entry per ``(row, changes)``, in two INSERTs at most: ``changes`` maps a field to
    its ``(old, new)`` values (stored as auditlog stores them, ``{field: [old, new]}`` as text);
    ``details`` go to ``additional_data``. The actor, address and correlation id are the
    current request's (none in a task). Returns the number of entries."""
    from auditlog.cid import get_cid
    from auditlog.models import LogEntry
    from django.contrib.contenttypes.models import ContentType

    cid = get_cid()
    entries = [
        LogEntry(
            content_type=ContentType.objects.get_for_model(row),
            object_pk=str(row.pk),
            object_id=row.pk if isinstance(row.pk, int) else None,
            object_repr=str(row),
            action=action,
            changes={
                name: [audit_value(old), audit_value(new)] for name, (old, new) in changes.items()
            },
            cid=cid,
            additional_data=details,
        )
        for row, changes in rows
    ]
    if not entries:
        return 0
    # The first entry is saved alone: auditlog's request context (when there is one) names the
    # actor and address as it saves; the others copy them and go in one INSERT.
    first, *others = entries
    first.save()
    for entry in others:
        entry.actor_id = first.actor_id
        entry.actor_email = first.actor_email
        entry.remote_addr = first.remote_addr
        entry.remote_port = first.remote_port
    LogEntry.objects.bulk_create(others)
    return len(entries)
