"""Where later apps plug into incidents without incidents importing them.

- ``on_target_breached(handler)``: ``handler(incident, timer)`` runs when the sweep records a
  missed response-time target (``incidents.services.check_targets``);
- ``on_task_reminder(handler)``: ``handler(task)`` runs when a task's reminder is recorded;
- ``on_crisis_mode(handler)``: ``handler(tenant_id, event_type, payload)`` runs inside the
  transaction that started or ended the tenant's crisis mode (``crisis_mode.started`` /
  ``crisis_mode.ended``; ``payload`` carries the per-tenant increasing ``sequence`` and the full
  current state, ``incidents.statements.services.crisis_payload``). Never for drills.

Notification channels and escalation policies (a later issue) register here from their
``AppConfig.ready()``. Handlers run inside the sweep's transaction: they must only write to
the database or queue a django-q2 task (the ORM broker keeps that atomic), never call out
directly. Drills never reach a handler: their notices stay on the timeline, marked DRILL.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

BreachHandler = Callable[[Any, Any], object]
ReminderHandler = Callable[[Any], object]
CrisisModeHandler = Callable[[int, str, dict[str, Any]], object]

_breach_handlers: list[BreachHandler] = []
_reminder_handlers: list[ReminderHandler] = []
_crisis_handlers: list[CrisisModeHandler] = []


def on_target_breached(handler: BreachHandler) -> BreachHandler:
    if handler not in _breach_handlers:
        _breach_handlers.append(handler)
    return handler


def on_task_reminder(handler: ReminderHandler) -> ReminderHandler:
    if handler not in _reminder_handlers:
        _reminder_handlers.append(handler)
    return handler


def target_breached(incident: Any, timer: Any) -> int:
    """Tell the registered handlers; none for a drill. Returns how many were told."""
    if incident.is_drill:
        return 0
    for handler in list(_breach_handlers):
        handler(incident, timer)
    return len(_breach_handlers)


def task_reminder(task: Any, incident: Any) -> int:
    if incident.is_drill:
        return 0
    for handler in list(_reminder_handlers):
        handler(task)
    return len(_reminder_handlers)


def on_crisis_mode(handler: CrisisModeHandler) -> CrisisModeHandler:
    if handler not in _crisis_handlers:
        _crisis_handlers.append(handler)
    return handler


def crisis_mode_changed(
    tenant_id: int, event_type: str, payload: dict[str, Any], *, is_drill: bool
) -> int:
    """Tell the registered handlers; none for a drill. Returns how many were told."""
    if is_drill:
        return 0
    for handler in list(_crisis_handlers):
        handler(tenant_id, event_type, payload)
    return len(_crisis_handlers)
