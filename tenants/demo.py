"""The demo agency: two client tenants and one user per role (``manage.py seed_demo``, which
also loads their monitoring data from ``monitoring.demo``).

Safe to run again: it updates what exists and resets a demo password only when it was changed
(a password change revokes that user's API tokens).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction

from tenants.models import Agency, Membership, Tenant, User
from tenants.roles import Role

AGENCY = ("Nusantara Digital", "nusantara-digital")
TENANTS = [
    ("kopi-senja", "Kopi Senja", "id"),
    ("bank-lestari", "Bank Lestari", "id"),
]
# (email, full name, role in the tenants, agency staff?, agency admin?). Staff hold their role
# in both tenants; the client user belongs to the first only.
PEOPLE = [
    ("agency-admin@demo.sigap", "Agency Admin", None, True, True),
    ("admin@demo.sigap", "Ayu Admin", Role.ADMIN, True, False),
    ("analyst@demo.sigap", "Budi Analyst", Role.ANALYST, True, False),
    ("responder@demo.sigap", "Citra Responder", Role.RESPONDER, True, False),
    ("approver@demo.sigap", "Dedi Approver", Role.APPROVER, True, False),
    ("client@demo.sigap", "Eka Client", Role.CLIENT, False, False),
]
PASSWORD_SUFFIX = "-sigap-demo"  # noqa: S105 - demo accounts, printed on purpose

# Apps that ``seed_demo``'s own app cannot import (incidents) add their demo rows here, from
# their ``AppConfig.ready``: name -> seeder(tenant) returning one line for the command's output.
# ``seed_demo`` runs them per tenant after the monitoring data; each must be idempotent.
DEMO_SEEDERS: dict[str, Callable[[Tenant], str]] = {}


def register_seeder(name: str, seeder: Callable[[Tenant], str]) -> None:
    DEMO_SEEDERS[name] = seeder


@dataclass
class DemoAccounts:
    agency: Agency
    tenants: list[Tenant]
    users: list[tuple[str, str, str]]
    """(email, password, what the user is) of every demo user."""


def demo_password(email: str) -> str:
    return email.split("@")[0] + PASSWORD_SUFFIX


@transaction.atomic
def seed_accounts() -> DemoAccounts:
    """Create or refresh the demo agency, its two tenants and the demo users."""
    agency, _ = Agency.objects.update_or_create(slug=AGENCY[1], defaults={"name": AGENCY[0]})
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
        password = demo_password(email)
        if not user.check_password(password):
            # Only when it differs: a password change revokes the user's tokens.
            user.set_password(password)
        user.save()
        if role is not None:
            for tenant in tenants if staff else tenants[:1]:
                Membership.objects.update_or_create(
                    tenant=tenant, user=user, defaults={"role": role}
                )
        rows.append((email, password, str(role or "agency admin (all tenants, /admin/)")))
    return DemoAccounts(agency=agency, tenants=tenants, users=rows)
