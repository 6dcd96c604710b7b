"""Load the demo agency: two client tenants and one user per role, printed with passwords.

Safe to run again: it updates what exists and resets a demo password only when it was changed
(a password change revokes that user's API tokens).
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from tenants import dbscope
from tenants.management.base import ScopedCommand
from tenants.models import Agency, Membership, Tenant, User
from tenants.roles import Role

AGENCY = ("Nusantara Digital", "nusantara-digital")
TENANTS = [
    ("kopi-senja", "Kopi Senja", "id"),
    ("bank-lestari", "Bank Lestari", "id"),
]
# (email, full name, role in the first tenant, agency staff?, agency admin?)
PEOPLE = [
    ("agency-admin@demo.sigap", "Agency Admin", None, True, True),
    ("admin@demo.sigap", "Ayu Admin", Role.ADMIN, True, False),
    ("analyst@demo.sigap", "Budi Analyst", Role.ANALYST, True, False),
    ("responder@demo.sigap", "Citra Responder", Role.RESPONDER, True, False),
    ("approver@demo.sigap", "Dedi Approver", Role.APPROVER, True, False),
    ("client@demo.sigap", "Eka Client", Role.CLIENT, False, False),
]
PASSWORD_SUFFIX = "-sigap-demo"  # noqa: S105 - demo accounts, printed on purpose


class Command(ScopedCommand):
    help = "Create or refresh the demo agency, tenants and users."

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        with dbscope.all_tenants("manage.py seed_demo"):
            agency, _ = Agency.objects.update_or_create(
                slug=AGENCY[1], defaults={"name": AGENCY[0]}
            )
            tenants = []
            for slug, name, lang in TENANTS:
                tenant, _ = Tenant.objects.update_or_create(
                    slug=slug, defaults={"name": name, "agency": agency, "default_language": lang}
                )
                tenants.append(tenant)
            rows: list[tuple[str, str, str]] = []
            for email, full_name, role, staff, agency_admin in PEOPLE:
                user = User.objects.filter(email=email).first() or User(email=email)
                user.full_name = full_name
                user.agency = agency if staff else None
                user.is_agency_admin = agency_admin
                user.is_staff = agency_admin
                password = email.split("@")[0] + PASSWORD_SUFFIX
                if not user.check_password(password):
                    # Only when it differs: a password change revokes the user's tokens.
                    user.set_password(password)
                user.save()
                if role is not None:
                    Membership.objects.update_or_create(
                        tenant=tenants[0], user=user, defaults={"role": role}
                    )
                    if staff:
                        Membership.objects.update_or_create(
                            tenant=tenants[1], user=user, defaults={"role": role}
                        )
                rows.append((email, password, str(role or "agency admin (all tenants, /admin/)")))
            self.stdout.write(
                f"Demo agency '{agency.name}' with tenants: " + ", ".join(t.slug for t in tenants)
            )
            self.stdout.write("Demo users (email / password / role):")
            for email, password, described in rows:
                self.stdout.write(f"  {email:28} {password:28} {described}")
