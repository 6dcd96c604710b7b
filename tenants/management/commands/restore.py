"""``manage.py restore FILE --yes``: replace the database's contents with a backup made by
``manage.py backup`` (``tenants.backups``). ``make restore FILE=...`` runs it; stop the web
server and the workers first."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from tenants import backups
from tenants.management.base import OwnerMixin


class Command(OwnerMixin, BaseCommand):
    help = "Restore a backup file over the database (refuses without --yes)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--yes", action="store_true", help="really replace the data")
        parser.add_argument(
            "--database-name", default=None, help="another database of the same server"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not options["yes"]:
            raise CommandError(
                "Refusing to restore without --yes: every table in the backup is replaced."
            )
        try:
            backups.restore(path=Path(options["file"]), database_name=options["database_name"])
        except (RuntimeError, FileNotFoundError) as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(self.style.SUCCESS(f"restored {options['file']}"))
