"""``manage.py export_tenant <slug> --output DIR``: all of a tenant's data as files.

One JSON Lines file per model and ``manifest.json`` with counts and checksums; no secrets
(``tenants.lifecycle``). The export is recorded in the audit trail.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import CommandError

from tenants import dbscope, lifecycle
from tenants.management.base import ScopedCommand
from tenants.models import Tenant


class Command(ScopedCommand):
    help = "Export every row of a tenant as JSON Lines files with a manifest (no secrets)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("slug")
        parser.add_argument("--output", required=True, type=Path, help="new or empty directory")

    def handle(self, *args: Any, **options: Any) -> None:
        tenant = Tenant.objects.filter(slug=options["slug"]).first()
        if tenant is None:
            raise CommandError(f"No tenant {options['slug']!r}.")
        with dbscope.tenant_scope(tenant):
            try:
                manifest = lifecycle.export_tenant(tenant=tenant, output=Path(options["output"]))
            except FileExistsError as exc:
                raise CommandError(f"{exc}: choose a new directory.") from None
            for name, entry in manifest["files"].items():
                self.stdout.write(f"{name}: {entry['count']}")
            self.stdout.write(self.style.SUCCESS(f"exported {tenant.slug} to {options['output']}"))
