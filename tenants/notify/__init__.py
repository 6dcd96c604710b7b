"""Notifications: channels per tenant, the delivery log, the senders, the on-call rota and
quiet hours (``docs/notifications.md``).

The public API other apps call (always inside the transaction that decided to notify), in
``tenants.notify.services``:

- ``notify_user`` / ``notify_channel``: record one delivery (idempotent by its ``key``) and
  queue its send;
- ``emit_event``: a signed delivery to every enabled webhook channel of a tenant;
- ``on_call_now``, ``in_quiet_hours``: who is on call, who must not be woken.

Every send happens in a django-q2 task (``tenants.notify.tasks.send_delivery``) queued in the
deciding transaction, never inline. This package's ``__init__`` imports nothing (``tenants.
models`` loads ``tenants.notify.models`` while the app registry is still being built).
"""

from __future__ import annotations

from typing import Any


def emit_event(tenant_id: int, event_type: str, payload: dict[str, Any]) -> int:
    """Queue a signed delivery of ``payload`` to every enabled webhook channel of the tenant
    (the shared seam for crisis-mode events); returns how many were queued."""
    from tenants.notify import services

    return services.emit_event(tenant_id, event_type, payload)
