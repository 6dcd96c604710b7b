"""The base of Sigap's management commands: each is an entry point of the database scope.

``ScopedCommand.execute`` runs the command inside ``tenants.dbscope.entry_point()``: whatever
scope its caller held (a test, another command) is dropped, and the command starts with no
tenant. A command that reads or writes tenant rows says which in ``handle``
(``dbscope.tenant_scope`` for one tenant, ``dbscope.all_tenants(reason)`` across them);
``OwnerCommand`` runs as the tables' owner instead (``tenants.rls.owner_connection``).
``tests/test_rls.py`` checks that every command of Sigap's apps is one of these.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from tenants import dbscope, rls


class ScopedCommand(BaseCommand):
    def execute(self, *args: Any, **options: Any) -> Any:
        with dbscope.entry_point():
            return super().execute(*args, **options)


class OwnerMixin:
    """For commands that do owner work (schema, whole-database copies): connects as the owner."""

    def execute(self, *args: Any, **options: Any) -> Any:
        with rls.owner_connection(f"manage.py {type(self).__module__.rsplit('.', 1)[-1]}"):
            return super().execute(*args, **options)  # type: ignore[misc]
