"""``python manage.py check_db_shape``: the tenant in every key, checked on the database.

Lists every tenant table whose primary key is not ``(tenant_id, id)``, every UNIQUE constraint or
unique index of a tenant table without ``tenant_id``, and every foreign key to a tenant table
that does not pair ``tenant_id``; exits 1 when there is any (``tenants.dbshape``)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError

from tenants.dbshape import catalog_problems
from tenants.dbtables import tenant_tables
from tenants.management.base import ScopedCommand


class Command(ScopedCommand):
    help = "Check that every key of every tenant table carries tenant_id (exit 1 if not)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--database", default="default", help="database alias")

    def handle(self, *args: Any, **options: Any) -> None:
        problems = catalog_problems(options["database"])
        if problems:
            lines = "\n".join(f"  {problem}" for problem in problems)
            raise CommandError(
                f"{len(problems)} key(s) of tenant tables lack tenant_id:\n{lines}",
                returncode=1,
            )
        self.stdout.write(
            f"{len(tenant_tables())} tenant tables: every primary key is (tenant_id, id), every "
            "unique constraint and foreign key includes tenant_id."
        )
