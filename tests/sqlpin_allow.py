"""The allowlist of ``tests/sqlpin.py``: code that may send SQL on tenant tables without pinning
``tenant_id``, each entry with the reason.

An entry matches when a frame of the statement's call stack is in ``path`` (a path relative to
the repository, or to the package root for libraries, such as ``django/core/...``) and, when
``function`` is given, in that function (its qualified name, or a method of that class).
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
        if not (frame.path == self.path or frame.path.endswith("/" + self.path)):
            if not (self.path.endswith("/") and self.path in frame.path):
                return False
        return self.function is None or (
            frame.function == self.function or frame.function.startswith(self.function + ".")
        )


ALLOWED: tuple[Allowed, ...] = (
    Allowed(
        "django/core/management/commands/migrate.py",
        None,
        "migrations: schema and data migrations run before any tenant exists in a request",
    ),
    Allowed(
        "/migrations/",
        None,
        "migrations: a data migration walks every tenant's rows by design",
    ),
)


def allowed(frames: Iterable[Any], tables: frozenset[str]) -> str | None:
    """The reason of the first entry a frame of the stack matches, or None."""
    frames = list(frames)
    for entry in ALLOWED:
        if any(entry.matches(frame, tables) for frame in frames):
            return entry.why
    return None
