"""E-mails of the approval workflow: asking a step's approvers, and the backup when a step's
time is up. Sent after the transaction commits (nothing is sent for a write that rolled back),
in the recipient's language, times in the tenant's zone. The client approver's e-mail carries
an action link (``tenants.action_links``) that opens a page acting only on POST, single-use,
expiring and bound to that user and that version; the link is never logged."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils.translation import gettext as _

from tenants import action_links, i18n
from tenants.models import User

logger = logging.getLogger(__name__)

ACTION_KIND = "statements.client_decision"
LINK_TTL = timedelta(hours=24)


def action_link(user: User, version: Any) -> str:
    """The client approver's decision link for ``version``."""
    return action_links.issue(kind=ACTION_KIND, user=user, target=version, ttl=LINK_TTL)


def _message(user: User, version: Any, *, client: bool, backup: bool) -> EmailMessage:
    incident = version.incident
    with i18n.override(user=user, tenant=incident.tenant):
        subject = (
            _("Backup approval needed: %(title)s") if backup else _("Approval needed: %(title)s")
        ) % {"title": version.statement.title}
        lines = [
            _("Incident: %(incident)s") % {"incident": incident.title},
            _("Statement: %(title)s, version %(number)d")
            % {"title": version.statement.title, "number": version.number},
            "",
            version.text,
            "",
        ]
        if backup:
            lines.append(_("The step's approvers did not answer in time: you are its backup."))
        link = action_link(user, version) if client else None
        if link:
            lines.append(
                _("Approve or reject (the page asks you to confirm): %(link)s") % {"link": link}
            )
        else:
            lines.append(_("Approve or reject it in Sigap."))
    return EmailMessage(
        subject=subject,
        body="\n".join(lines),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[user.email],
    )


def ask(users: list[User], version: Any, *, client: bool, backup: bool = False) -> None:
    """E-mail ``users`` (after commit) that ``version`` awaits their decision. A drill never
    reaches the client."""
    if version.incident.is_drill and client:
        return

    def send() -> None:
        for user in users:
            try:
                _message(user, version, client=client, backup=backup).send()
            except Exception:  # SMTP and socket errors alike: the decision is still possible
                logger.warning(
                    "approval e-mail not sent",
                    extra={"version_id": version.pk, "user_id": user.pk},
                    exc_info=True,
                )

    transaction.on_commit(send)
