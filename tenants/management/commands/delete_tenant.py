"""``manage.py delete_tenant <slug> --yes``: delete every row of a tenant, in every app.

Without ``--yes`` it only prints what would be deleted and refuses. The deletion is recorded in
the audit trail (``tenants.lifecycle``); export first if the data must be handed over.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError

from tenants import dbscope, lifecycle
from tenants.management.base import ScopedCommand
from tenants.models import Tenant


class Command(ScopedCommand):
    help = "Delete a tenant and every row of its data (refuses without --yes)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("slug")
        parser.add_argument("--yes", action="store_true", help="really delete")

    def handle(self, *args: Any, **options: Any) -> None:
        tenant = Tenant.objects.filter(slug=options["slug"]).first()
        if tenant is None:
            raise CommandError(f"No tenant {options['slug']!r}.")
        with dbscope.tenant_scope(tenant):
            if not options["yes"]:
                for label, count in lifecycle.count_rows(tenant).items():
                    self.stdout.write(f"{label}: {count}")
                raise CommandError(
                    f"Refusing to delete {tenant.slug} without --yes (the rows above would go)."
                )
            deleted = lifecycle.delete_tenant(tenant=tenant)
            for label, count in sorted(deleted.items()):
                self.stdout.write(f"{label}: {count} deleted")
            self.stdout.write(self.style.SUCCESS(f"deleted {options['slug']}"))
