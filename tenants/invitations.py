"""Invitation links and e-mails.

The link in an invitation e-mail is ``SIGAP_PUBLIC_URL/invitations/<id>/<token>/``. Its page
(``tenants.views.invitation``) shows a form on GET and changes nothing; only a POST accepts
(``tenants.services.accept_invitation``), choosing a password when the account is new or has
none. The token is Django's ``PasswordResetTokenGenerator`` (an HMAC of ``SECRET_KEY``, keyed
by its own salt) over the invitation's id, its address and whether it was accepted, with the
time it was made:

- **bound**: it is valid for that one invitation, so for that address and the account that
  holds it; another invitation's token is refused;
- **single-use**: accepting stamps ``accepted_at``, which is in the hash, so the link is dead
  afterwards (a new invitation of the same address has a new id);
- **expiring**: Django refuses a token older than ``PASSWORD_RESET_TIMEOUT``, which the
  settings set from ``SIGAP_INVITATION_TTL_HOURS`` (72 by default);
- **never logged**: the request log writes the path with the token replaced
  (``config.middleware``), and nothing stores it.

The account's password hash and last sign-in are not in the hash, unlike a password reset:
the invitation's own ``accepted_at`` makes the link single-use, and a person invited into two
tenants can still follow the second link after choosing a password through the first.

E-mails are rendered from ``tenants/templates/tenants/email/`` in the recipient's language:
the account's own choice (``User.language``), else the tenant's ``default_language``
(``tenants.i18n``), with times in the tenant's zone and its abbreviation (WIB, WITA, WIT).
Every invitation sends exactly one e-mail to the address, whatever the address is: the
invitation, or, for an account that cannot join this tenant, a notice saying so; the inviter's
answer is the same in every case.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext

from tenants import i18n
from tenants.models import Invitation, User
from tenants.roles import Role

logger = logging.getLogger("sigap.invitations")


class InvitationTokenGenerator(PasswordResetTokenGenerator):
    key_salt = "sigap.tenants.invitations.InvitationTokenGenerator"

    def _make_hash_value(self, invitation: Any, timestamp: int) -> str:
        accepted = "" if invitation.accepted_at is None else invitation.accepted_at.isoformat()
        return f"{invitation.pk}|{invitation.email}|{accepted}|{timestamp}"


tokens = InvitationTokenGenerator()


def make_token(invitation: Invitation) -> str:
    return tokens.make_token(invitation)  # type: ignore[arg-type]


def check_token(invitation: Invitation, token: str) -> bool:
    """True for this invitation's unused token made within the last
    ``SIGAP_INVITATION_TTL_HOURS``."""
    return tokens.check_token(invitation, token)  # type: ignore[arg-type]


def link(invitation: Invitation, token: str) -> str:
    path = reverse("invitation", kwargs={"pk": invitation.pk, "token": token})
    return settings.SIGAP_PUBLIC_URL + path


def _context(invitation: Invitation) -> dict[str, Any]:
    inviter = invitation.invited_by
    return {
        "tenant": invitation.tenant.name,
        "role": Role(invitation.role).label,
        "inviter": inviter.email if inviter is not None else gettext("An administrator"),
        "hours": settings.SIGAP_INVITATION_TTL_HOURS,
        "expires": i18n.local_time(invitation.expires_at, tenant=invitation.tenant),
    }


def _send(invitation: Invitation, template: str, **context: Any) -> None:
    """One e-mail to the invited address; a failure to send is logged (without the link) and
    the invitation stays, to be sent again by inviting the address again."""
    with i18n.override(user=account_for(invitation.email), tenant=invitation.tenant):
        context = {**_context(invitation), **context}
        subject = render_to_string(f"tenants/email/{template}_subject.txt", context)
        body = render_to_string(f"tenants/email/{template}.txt", context)
    message = EmailMessage(
        subject=" ".join(subject.split()),
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[invitation.email],
    )
    try:
        message.send()
    except Exception:  # SMTP and socket errors alike: the invitation stays
        logger.warning(
            "invitation e-mail not sent", extra={"invitation_id": invitation.pk}, exc_info=True
        )


def send_invitation(invitation: Invitation) -> None:
    """The invitation with its link (a new token, made now)."""
    _send(invitation, "invitation", link=link(invitation, make_token(invitation)))


def send_refusal_notice(invitation: Invitation) -> None:
    """To an address whose account cannot join this tenant: what happened, and no link."""
    _send(invitation, "not_invitable")


def send_added_notice(invitation: Invitation) -> None:
    """To an existing member added in the admin who already has a password."""
    _send(invitation, "added")


def account_for(email: str) -> User | None:
    return User.objects.filter(email__iexact=email).first()
