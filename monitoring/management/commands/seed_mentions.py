"""``python manage.py seed_mentions [--tenant kopi-senja] [--count 3000]``: the demo data of one
tenant (queries, tracked terms, sources and realistic mentions through the real pipeline, see
``monitoring.demo``); ``seed_demo`` runs it for both demo tenants.

The mentions appear once the task cluster has processed the queued chunks (``make run`` starts
it). Safe to run again: nothing already stored is sent twice, and what is stored moves up to
now.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError

from monitoring.demo import COUNT, seed_mentions
from tenants import dbscope
from tenants.management.base import ScopedCommand
from tenants.models import Tenant


class Command(ScopedCommand):
    help = "Create demo queries and terms and queue realistic demo mentions for a tenant."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--tenant", default="kopi-senja", help="tenant slug")
        parser.add_argument("--count", type=int, default=COUNT, help="mentions to generate")

    def handle(self, *args: Any, **options: Any) -> None:
        tenant = Tenant.objects.filter(slug=options["tenant"]).first()
        if tenant is None:
            raise CommandError(f"no tenant '{options['tenant']}' (run `manage.py seed_demo` first)")
        if options["count"] < 0:
            raise CommandError("--count must be 0 or more")
        with dbscope.tenant_scope(tenant):
            done = seed_mentions(tenant, options["count"])
            self.stdout.write(
                f"Demo mentions for '{tenant.slug}': {done.queries_created} queries and "
                f"{done.terms_created} terms created; {done.sent} mentions queued in "
                f"{len(done.batches)} batches ({done.already_stored} already stored)."
                + (" The task cluster scores them within seconds." if done.sent else "")
            )
