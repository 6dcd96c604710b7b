"""``python manage.py seed_demo [--mentions 3000]``: the whole demo, in one idempotent command
(``make run`` runs it on every start).

The demo agency, its tenants ``kopi-senja`` and ``bank-lestari`` and one user per role
(``tenants.demo``, printed with their passwords), then for each tenant its queries, terms,
sources, alert rules and mentions (``monitoring.demo``), with a spike and a hoax campaign
relative to now so that alerts show at once: on a later run, every stored demo time moves up to
now first, so the last 7 days always hold the demo, and only mentions not yet stored are sent.
The mentions appear once the task cluster has processed the queued chunks.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError

from monitoring.demo import COUNT, seed_mentions
from tenants import dbscope
from tenants.demo import DEMO_SEEDERS, seed_accounts
from tenants.management.base import ScopedCommand


class Command(ScopedCommand):
    help = "Create or refresh the demo agency, tenants, users and data, moved up to now."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--mentions", type=int, default=COUNT, help="demo mentions per tenant (0: none)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["mentions"] < 0:
            raise CommandError("--mentions must be 0 or more")
        with dbscope.all_tenants("manage.py seed_demo"):
            accounts = seed_accounts()
            self.stdout.write(
                f"Demo agency '{accounts.agency.name}' with tenants: "
                + ", ".join(t.slug for t in accounts.tenants)
            )
            for tenant in accounts.tenants:
                done = seed_mentions(tenant, options["mentions"], story=options["mentions"] > 0)
                hours = int(done.shift.total_seconds() // 3600)
                self.stdout.write(
                    f"  {tenant.slug}: {done.sent} mentions queued, {done.already_stored} already "
                    f"stored"
                    + (f", moved {hours} h forward to now" if hours else "")
                    + (
                        f"; alert story (a spike and a hoax): {done.story} queued"
                        if done.story
                        else ""
                    )
                )
                for seeder in DEMO_SEEDERS.values():  # other apps' demo rows (tenants.demo)
                    self.stdout.write(f"  {tenant.slug}: {seeder(tenant)}")
            self.stdout.write("Demo users (email / password / role):")
            for email, password, described in accounts.users:
                self.stdout.write(f"  {email:28} {password:28} {described}")
