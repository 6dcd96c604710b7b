"""Writes and business rules for agencies, tenants, members and credentials.

Shared by the REST API, GraphQL, the admin and the demo seeding; keyword-only arguments.
Invitations reach only the tenant's agency staff, free client users or new addresses, and refuse
every other account with one and the same error (``invitable``).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, cast

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tenants.models import (
    Agency,
    Membership,
    PersonalToken,
    Tenant,
    TenantApiKey,
    User,
    validate_expiry_in_future,
)
from tenants.roles import Role


def _refuse_unknown(changes: dict[str, Any], writable: tuple[str, ...]) -> None:
    unknown = sorted(set(changes) - set(writable))
    if unknown:
        raise ValidationError(
            {
                name: ValidationError(_("This field cannot be changed."), "read_only")
                for name in unknown
            }
        )


@transaction.atomic
def create_agency(*, name: str, slug: str) -> Agency:
    agency = Agency(name=name, slug=slug)
    agency.full_clean()
    agency.save()
    return agency


@transaction.atomic
def update_agency(*, agency: Agency, **changes: Any) -> Agency:
    """Rename an agency (its slug never changes)."""
    _refuse_unknown(changes, ("name",))
    for name, value in changes.items():
        setattr(agency, name, value)
    agency.full_clean(validate_unique=False)
    if changes:
        agency.save(update_fields=list(changes))
    return agency


@transaction.atomic
def create_tenant(
    *,
    agency: Agency,
    slug: str,
    name: str,
    time_zone: str = "Asia/Jakarta",
    default_language: str = "id",
    **options: Any,
) -> Tenant:
    """A new tenant; ``options`` are other fields ``update_tenant`` may change (status,
    retention periods)."""
    _refuse_unknown(options, TENANT_WRITABLE)
    tenant = Tenant(
        agency=agency,
        slug=slug,
        name=name,
        time_zone=time_zone,
        default_language=default_language,
        **options,
    )
    tenant.full_clean()
    tenant.save()
    return tenant


TENANT_WRITABLE = (
    "name",
    "time_zone",
    "default_language",
    "status",
    "mention_retention_days",
    "raw_payload_retention_days",
)


@transaction.atomic
def update_tenant(*, tenant: Tenant, **changes: Any) -> Tenant:
    """Change a tenant's name, time zone, default language, status or retention periods (its
    slug and agency never change); the model's rules apply (known IANA time zone, choices,
    retention bounds)."""
    _refuse_unknown(changes, TENANT_WRITABLE)
    for name, value in changes.items():
        setattr(tenant, name, value)
    tenant.full_clean(exclude=["agency"], validate_unique=False)
    if changes:
        tenant.save(update_fields=[*changes, "updated_at"])
    return tenant


NOT_INVITABLE = _("This address cannot be invited to this tenant with this role.")


def invitable(user: User, tenant: Tenant, role: str) -> bool:
    """Whether an existing account may be invited into ``tenant`` as ``role``.

    Only the tenant's own agency staff, or a client user (no agency, no staff or superuser
    flag) who belongs to no other tenant, with the ``client`` role. Anyone else (the platform
    superuser or staff, another agency's staff, another tenant's client) stays out of reach:
    inviting them would make the account editable by this agency in the admin.
    """
    if user.is_superuser:
        return False
    if user.agency_id is not None:
        return user.agency_id == tenant.agency_id
    if user.is_staff or user.is_agency_admin or role != Role.CLIENT:
        return False
    return not user.memberships.exclude(tenant=tenant).exists()


@transaction.atomic
def invite_member(
    *, tenant: Tenant, email: str, role: str, full_name: str = "", invited_by: Any = None
) -> Membership:
    """Add a person to the tenant, creating their account if needed.

    A new ``client`` is created as a client user (no agency); any other new person is created
    as staff of the tenant's agency. New accounts get no usable password and an email. An
    existing account that may not be invited (see ``invitable``) gets one error on ``email``,
    the same whatever the reason, so answers tell no more about other people's accounts.
    """
    email = User.objects.normalize_email(email).lower()
    user = User.objects.select_for_update().filter(email__iexact=email).first()
    created = user is None
    if user is None:
        user = User.objects.create_user(
            email,
            password=None,
            full_name=full_name,
            agency=None if role == Role.CLIENT else tenant.agency,
        )
    elif Membership.objects.for_tenant(tenant).filter(user=user).exists():
        raise ValidationError(
            {"email": ValidationError(_("This person is already a member of this tenant."))}
        )
    elif not invitable(user, tenant, role):
        raise ValidationError({"email": ValidationError(NOT_INVITABLE, code="not_invitable")})
    membership = Membership(tenant=tenant, user=user, role=role)
    membership.full_clean(validate_unique=False)
    membership.save()
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


@transaction.atomic
def add_member(*, tenant: Tenant, user: User, role: str, added_by: Any = None) -> Membership:
    """Add an existing account (picked in the admin): ``invite_member`` for its address, so the
    same rules (``invitable``) and the same email apply; errors name ``user``."""
    try:
        return invite_member(tenant=tenant, email=user.email, role=role, invited_by=added_by)
    except ValidationError as exc:
        errors = exc.error_dict if hasattr(exc, "error_dict") else {"email": exc.error_list}
        raise ValidationError(
            {("user" if name == "email" else name): value for name, value in errors.items()}
        ) from None


def _lock_admins(tenant: Tenant) -> int:
    return len(
        Membership.objects.for_tenant(tenant)
        .select_for_update()
        .filter(role=Role.ADMIN)
        .values_list("pk", flat=True)
    )


@transaction.atomic
def change_role(*, membership: Membership, role: str) -> Membership:
    if role == membership.role:
        return membership
    # The invitation rule again; the member is known to the caller, so the error may say why.
    if membership.user.agency_id is None and role != Role.CLIENT:
        raise ValidationError(
            {"role": _("People outside the agency can only hold the 'client' role.")}
        )
    if not invitable(membership.user, membership.tenant, role):
        raise ValidationError({"role": _("This person cannot hold a role in this tenant.")})
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


API_KEY_WRITABLE = ("name", "expiry_date", "revoked")


@transaction.atomic
def update_api_key(*, key: TenantApiKey, **changes: Any) -> TenantApiKey:
    """Rename a tenant's key, move its expiry (into the future only) or revoke it. A revoked
    key stays revoked and changes no more."""
    _refuse_unknown(changes, API_KEY_WRITABLE)
    changes = {name: value for name, value in changes.items() if getattr(key, name) != value}
    if changes and key.revoked:
        raise ValidationError({"revoked": _("A revoked key cannot be changed.")})
    for name, value in changes.items():
        setattr(key, name, value)
    key.full_clean(validate_unique=False)
    if changes:
        key.save(update_fields=list(changes))
    return key


@transaction.atomic
def create_api_key(
    *, tenant: Tenant, name: str, created_by: Any = None, expires_at: datetime | None = None
) -> tuple[TenantApiKey, str]:
    """A new machine key and its secret (shown once). ``expires_at`` must be in the future."""
    try:
        validate_expiry_in_future(expires_at)
    except ValidationError as exc:
        raise ValidationError({"expires_at": exc.error_list}) from None
    key, secret = TenantApiKey.objects.create_key(
        tenant=tenant,
        name=name,
        created_by=created_by if isinstance(created_by, User) else None,
        expiry_date=expires_at,
    )
    return cast(TenantApiKey, key), secret
