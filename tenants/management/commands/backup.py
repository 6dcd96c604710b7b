"""``manage.py backup [--output FILE]``: dump the database with the wheel's ``pg_dump``
(``tenants.backups``). ``make backup`` runs it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from tenants import backups
from tenants.management.base import OwnerMixin


class Command(OwnerMixin, BaseCommand):
    help = "Back up the whole database to one pg_dump file (default: backups/)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--output", type=Path, default=None, help="file to write")
        parser.add_argument(
            "--database-name", default=None, help="another database of the same server"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            output = Path(options["output"]) if options["output"] else None
            path = backups.backup(output=output, database_name=options["database_name"])
        except (RuntimeError, FileNotFoundError) as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(self.style.SUCCESS(f"backup written to {path}"))
