"""The allowlist of ``tests/sqlpin.py``: code that may send SQL on tenant tables without pinning
``tenant_id``, each entry with the reason.

An entry matches when a frame of the statement's call stack, from the statement out to the first
frame in this repository, is in ``path`` (a path relative to the repository, or to the package
root for libraries, such as ``django/core/...``) and, when ``function`` is given, in that
function (its qualified name, or a method of that class). So an entry for a library function
(the admin's change list) never covers application code that it calls (a bulk delete through
the services), and an entry for application code covers that function's own statements.
``tables`` limits the entry to those tables. Keep it short: work that crosses tenants on purpose
(scheduling, agency-wide reads) belongs here; everything else pins its tenant.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Allowed:
    path: str
    function: str | None
    why: str
    tables: frozenset[str] | None = None

    def matches(self, frame: Any, tables: frozenset[str]) -> bool:
        if self.tables is not None and not tables <= self.tables:
            return False
        same_file = frame.path == self.path or frame.path.endswith("/" + self.path)
        in_folder = self.path.endswith("/") and self.path in frame.path
        if not (same_file or in_folder):
            return False
        return self.function is None or (
            frame.function == self.function or frame.function.startswith(self.function + ".")
        )


ALLOWED: tuple[Allowed, ...] = (
    Allowed(
        "django/contrib/admin/utils.py",
        "get_deleted_objects",
        "the admin's delete confirmation lists what a deletion would take with it: Django's "
        "collector reads the engagement snapshots and score corrections of the chosen mentions "
        "by their ids (already read within the staff user's tenants) for display; the deletion "
        "itself is the pinned service (monitoring.services.delete_mentions)",
        frozenset(
            {"monitoring_engagementsnapshot", "monitoring_scorecorrection", "monitoring_mention"}
        ),
    ),
    Allowed(
        "/migrations/",
        None,
        "migrations: a data migration walks every tenant's rows by design",
    ),
    Allowed(
        "tenants/models.py",
        "TenantQuerySet.tenant_ids",
        "sweeps choose tenants first: an unlocked, read-only look at which tenants have work "
        "(outbox sweeper and pruner, signature pruning); the work itself then runs pinned to "
        "each tenant",
    ),
    Allowed(
        "tenants/lifecycle.py",
        "_delete_users",
        "users are shared rows: deleting a tenant's client users clears the mentions assigned "
        "to them wherever they are, which no single tenant can name",
    ),
    *(
        Allowed(
            path.split(":")[0],
            path.split(":")[1] if ":" in path else None,
            "the admin's agency-wide lists (the change list, its rows, its filters): rows of "
            "every tenant for the platform superuser, of the agency's tenants for an agency "
            "admin (for_tenant over admin_tenants), with the related rows joined for display "
            "and search (a batch's source), which Django joins on the foreign key alone",
        )
        for path in (
            "django/contrib/admin/options.py:ModelAdmin.changelist_view",
            "django/contrib/admin/views/main.py",
            "django/contrib/admin/templatetags/admin_list.py",
            "django/contrib/admin/filters.py",
        )
    ),
)


def allowed(frames: Iterable[Any], tables: frozenset[str]) -> str | None:
    """The reason of the first entry a frame of the stack matches, or None."""
    frames = list(frames)
    for entry in ALLOWED:
        if any(entry.matches(frame, tables) for frame in frames):
            return entry.why
    return None
