"""Writes and business rules for agencies, tenants, members and credentials.

Shared by the REST API, GraphQL, the admin and the demo seeding; keyword-only arguments.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, cast

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from tenants.models import Agency, Membership, PersonalToken, Tenant, TenantApiKey, User
from tenants.roles import Role


@transaction.atomic
def create_tenant(
    *,
    agency: Agency,
    slug: str,
    name: str,
    time_zone: str = "Asia/Jakarta",
    default_language: str = "id",
) -> Tenant:
    tenant = Tenant(
        agency=agency,
        slug=slug,
        name=name,
        time_zone=time_zone,
        default_language=default_language,
    )
    tenant.full_clean()
    tenant.save()
    return tenant


def _check_can_join(user: User, tenant: Tenant, role: str) -> None:
    if user.agency_id is not None and user.agency_id != tenant.agency_id:
        raise ValidationError(
            {"email": "This person is staff of another agency and cannot join this tenant."}
        )
    if user.agency_id is None:
        if role != Role.CLIENT:
            raise ValidationError(
                {"role": "People outside the agency can only hold the 'client' role."}
            )
        if user.memberships.exclude(tenant=tenant).exists():
            raise ValidationError({"email": "A client user belongs to one tenant only."})


@transaction.atomic
def invite_member(
    *, tenant: Tenant, email: str, role: str, full_name: str = "", invited_by: Any = None
) -> Membership:
    """Add a person to the tenant, creating their account if needed.

    A new ``client`` is created as a client user (no agency); any other new person is created
    as staff of the tenant's agency. New accounts get no usable password and an email.
    """
    email = User.objects.normalize_email(email).lower()
    user = User.objects.filter(email__iexact=email).first()
    created = user is None
    if user is None:
        user = User.objects.create_user(
            email,
            password=None,
            full_name=full_name,
            agency=None if role == Role.CLIENT else tenant.agency,
        )
    _check_can_join(user, tenant, role)
    if Membership.objects.filter(tenant=tenant, user=user).exists():
        raise ValidationError({"email": "This person is already a member of this tenant."})
    membership = Membership.objects.create(tenant=tenant, user=user, role=role)
    inviter = getattr(invited_by, "email", "An administrator")
    send_mail(
        subject=f"You have been added to {tenant.name} on Sigap",
        message=(
            f"{inviter} added you to {tenant.name} as {role}.\n"
            + ("Ask your administrator for a password to sign in.\n" if created else "")
        ),
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=[user.email],
        fail_silently=True,
    )
    return membership


def _lock_admins(tenant: Tenant) -> int:
    return len(
        Membership.objects.select_for_update()
        .filter(tenant=tenant, role=Role.ADMIN)
        .values_list("pk", flat=True)
    )


@transaction.atomic
def change_role(*, membership: Membership, role: str) -> Membership:
    if role == membership.role:
        return membership
    _check_can_join(membership.user, membership.tenant, role)
    if membership.role == Role.ADMIN and _lock_admins(membership.tenant) <= 1:
        raise ValidationError({"role": "A tenant must keep at least one admin."})
    membership.role = role
    membership.save(update_fields=["role", "updated_at"])
    return membership


@transaction.atomic
def remove_member(*, membership: Membership) -> None:
    if membership.role == Role.ADMIN and _lock_admins(membership.tenant) <= 1:
        raise ValidationError({"detail": "A tenant must keep at least one admin."})
    membership.delete()


def issue_token(*, user: User, name: str = "") -> tuple[PersonalToken, str]:
    expires = timezone.now() + timedelta(days=settings.SIGAP_TOKEN_TTL_DAYS)
    token, secret = PersonalToken.objects.create_key(
        user=user, name=name or "API token", expiry_date=expires
    )
    return cast(PersonalToken, token), secret


def revoke(key: PersonalToken | TenantApiKey) -> None:
    if not key.revoked:
        key.revoked = True
        key.save(update_fields=["revoked"])


def create_api_key(
    *, tenant: Tenant, name: str, created_by: Any = None, expires_at: datetime | None = None
) -> tuple[TenantApiKey, str]:
    key, secret = TenantApiKey.objects.create_key(
        tenant=tenant,
        name=name,
        created_by=created_by if isinstance(created_by, User) else None,
        expiry_date=expires_at,
    )
    return cast(TenantApiKey, key), secret
