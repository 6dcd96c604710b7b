"""Writes and business rules for agencies, tenants, members and credentials.

Shared by the REST API, GraphQL, the admin and the demo seeding; keyword-only arguments.
Invitations reach only the tenant's agency staff, free client users or new addresses
(``invitable``); the inviter gets the same answer (a pending invitation) for every address,
and the person joins by following the e-mailed link (``accept_invitation``).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, cast

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tenants import invitations
from tenants.models import (
    Agency,
    Invitation,
    Membership,
    PersonalToken,
    Tenant,
    TenantApiKey,
    User,
    validate_expiry_in_future,
)
from tenants.roles import Role
from tenants.signals import tenant_created


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
    tenant_created.send(sender=Tenant, tenant=tenant)
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


def invite_member(
    *, tenant: Tenant, email: str, role: str, full_name: str = "", invited_by: Any = None
) -> Invitation:
    """Invite an address into the tenant: a pending invitation and one e-mail to the address.

    The answer is the same whether the address has an account or not, and whether that account
    may join (``invitable``) or not: the inviter learns nothing about other people's accounts.
    An address that may join gets the invitation with its link (``tenants.invitations``); the
    membership (and, for a new address, the account) is made when the person follows it
    (``accept_invitation``). An account that may not join gets a notice instead, and its
    invitation can never be accepted. Inviting an address again replaces its pending
    invitation (a new link; the old one stops working). Only a current member is refused
    (the inviter sees the members anyway), except one who has no usable password yet, who
    gets a link to choose one.
    """
    email = User.objects.normalize_email(email).lower()
    with transaction.atomic():
        tenant = Tenant.objects.select_for_update().get(pk=tenant.pk)  # one inviter at a time
        user = invitations.account_for(email)
        if (
            user is not None
            and user.has_usable_password()
            and Membership.objects.for_tenant(tenant).filter(user=user).exists()
        ):
            raise ValidationError(
                {"email": ValidationError(_("This person is already a member of this tenant."))}
            )
        Invitation.objects.for_tenant(tenant).filter(email=email, accepted_at=None).delete()
        invitation = Invitation(
            tenant=tenant,
            email=email,
            role=role,
            full_name=full_name,
            invited_by=invited_by if isinstance(invited_by, User) else None,
        )
        invitation.full_clean()
        invitation.save()
        joins = user is None or may_join(user, tenant, role)
    if joins:
        invitations.send_invitation(invitation)
    else:
        invitations.send_refusal_notice(invitation)
    return invitation


def may_join(user: User, tenant: Tenant, role: str) -> bool:
    """Whether an existing account may accept an invitation: active, and ``invitable`` or
    already a member (who is only choosing a password)."""
    if not user.is_active:
        return False
    return invitable(user, tenant, role) or (
        Membership.objects.for_tenant(tenant).filter(user=user).exists()
    )


CANNOT_JOIN = _(
    "This invitation cannot be accepted with your account. Ask whoever invited you to invite "
    "another address."
)


@transaction.atomic
def accept_invitation(*, invitation: Invitation, password: str | None = None) -> Membership:
    """Join the tenant through an invitation (its link's POST; check the token first).

    A new address gets its account here (agency staff for every role but ``client``), with
    ``password``; an account without a usable password must choose one too. The password
    meets ``AUTH_PASSWORD_VALIDATORS`` (errors on ``password``). The invitation rule is checked
    again (``invitable``): an account that may not join is refused. Marks the invitation
    accepted, which ends its link.
    """
    invitation = (
        Invitation.objects.select_for_update().select_related("tenant").get(pk=invitation.pk)
    )
    if invitation.accepted_at is not None or invitation.status != Invitation.Status.PENDING:
        raise ValidationError(_("This invitation was used already or has expired."))
    tenant, role = invitation.tenant, invitation.role
    user = User.objects.select_for_update().filter(email__iexact=invitation.email).first()
    if user is None:
        user = User(
            email=invitation.email,
            full_name=invitation.full_name,
            agency=None if role == Role.CLIENT else tenant.agency,
        )
    elif not may_join(user, tenant, role):
        raise ValidationError(CANNOT_JOIN, code="not_invitable")
    if user.pk is None or not user.has_usable_password():
        if not password:
            raise ValidationError({"password": _("Choose a password.")}, code="required")
        try:
            validate_password(password, user)
        except ValidationError as exc:
            raise ValidationError({"password": exc.error_list}) from None
        user.set_password(password)
        user.full_clean(exclude=["password"])
        user.save()
    membership = Membership.objects.for_tenant(tenant).filter(user=user).first()
    if membership is None:
        membership = Membership(tenant=tenant, user=user, role=role)
        membership.full_clean(validate_unique=False)
        membership.save()
    invitation.accepted_at = timezone.now()
    invitation.save(update_fields=["accepted_at"])
    return membership


@transaction.atomic
def revoke_invitation(*, invitation: Invitation) -> None:
    """Withdraw a pending invitation: its link stops working. Accepted ones stay as a record."""
    if invitation.accepted_at is not None:
        raise ValidationError({"detail": _("An accepted invitation cannot be withdrawn.")})
    invitation.delete()


def add_member(*, tenant: Tenant, user: User, role: str, added_by: Any = None) -> Membership:
    """Add an existing account picked in the admin (where the agency admin sees it already):
    the membership at once, under the invitation rule (``invitable``, errors on ``user``), and
    an e-mail to the person: a notice, or, for an account without a usable password, an
    invitation whose link lets them choose one."""
    with transaction.atomic():
        if not invitable(user, tenant, role):
            raise ValidationError({"user": ValidationError(NOT_INVITABLE, code="not_invitable")})
        if Membership.objects.for_tenant(tenant).filter(user=user).exists():
            raise ValidationError(
                {"user": ValidationError(_("This person is already a member of this tenant."))}
            )
        membership = Membership(tenant=tenant, user=user, role=role)
        try:
            membership.full_clean(validate_unique=False)
        except ValidationError as exc:
            raise ValidationError(
                {"user": [m for messages in exc.message_dict.values() for m in messages]}
            ) from None
        membership.save()
        inviter = added_by if isinstance(added_by, User) else None
        notice = Invitation(tenant=tenant, email=user.email, role=role, invited_by=inviter)
        if not user.has_usable_password():
            Invitation.objects.for_tenant(tenant).filter(
                email=user.email, accepted_at=None
            ).delete()
            notice.save()
    if notice.pk is not None:
        invitations.send_invitation(notice)
    else:
        invitations.send_added_notice(notice)
    return membership


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
