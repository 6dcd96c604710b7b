"""Recurring django-q2 tasks, declared by each app and kept in step after every ``migrate``.

Apps call ``keep`` from a ``post_migrate`` receiver; the schedule's name is its identity, so a
changed interval or function is corrected in place and a rename of the task's dotted path (which
schedules store) is one edit here, never a stale row.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any


def keep(
    name: str,
    func: str,
    schedule_type: str,
    *,
    minutes: int | None = None,
    first_run: datetime | None = None,
) -> None:
    """Create or correct the repeating schedule ``name`` that runs ``func``.

    ``first_run`` is used only when the schedule is created (a later migrate keeps the time the
    cluster has moved it to)."""
    from django_q.models import Schedule

    defaults: dict[str, Any] = {"func": func, "schedule_type": schedule_type, "repeats": -1}
    if minutes is not None:
        defaults["minutes"] = minutes
    create_defaults = dict(defaults)
    if first_run is not None:
        create_defaults["next_run"] = first_run
    Schedule.objects.update_or_create(name=name, defaults=defaults, create_defaults=create_defaults)
