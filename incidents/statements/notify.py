"""E-mails of the approval workflow: asking a step's approvers, and the backup when a step's
time is up. They go through the notification delivery log (``tenants.notify``): deciding to
ask writes one ``Delivery`` per person in the deciding transaction (nothing for a write that
rolled back), and the send task mails it, records status, attempts and error, and retries with
back-off like every other delivery (``docs/notifications.md``).

Each message is written in the recipient's language, times in the tenant's zone. The client
approver's e-mail carries an action link (``tenants.action_links``) that opens a page acting
only on POST, single-use, expiring and bound to that user and that version: the send task makes
it when it sends, so no usable token is ever stored in the delivery log or logged."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from incidents.models import Incident
from incidents.statements.models import Statement
from tenants import i18n
from tenants.models import User
from tenants.notify import services as notify

ACTION_KIND = "statements.client_decision"
EVENT_ASK = "statement.approval_requested"
EVENT_BACKUP = "statement.backup_requested"


def _content(
    user: User, version: Any, incident: Incident, title: str, *, client: bool, backup: bool
) -> tuple[str, str, str]:
    """(subject, body, the action link's label or "") in ``user``'s language."""
    with i18n.override(user=user, tenant=incident.tenant):
        subject = (
            _("Backup approval needed: %(title)s") if backup else _("Approval needed: %(title)s")
        ) % {"title": title}
        lines = [
            _("Incident: %(incident)s") % {"incident": incident.title},
            _("Statement: %(title)s, version %(number)d")
            % {"title": title, "number": version.number},
            "",
            version.text,
            "",
        ]
        if backup:
            lines.append(_("The step's approvers did not answer in time: you are its backup."))
        label = ""
        if client:
            # The send task appends "<label>: <link>" after the body.
            label = _("Approve or reject (the page asks you to confirm)")
        else:
            lines.append(_("Approve or reject it in Sigap."))
    return subject, "\n".join(lines).rstrip("\n"), label


def ask(users: list[User], version: Any, *, client: bool, backup: bool = False) -> None:
    """Decide (inside the caller's transaction) to e-mail ``users`` that ``version`` awaits
    their decision at its current step: one delivery each, keyed by version, step and person,
    so a retried decision mails nobody twice. A drill never reaches the client."""
    tenant_id = version.tenant_id
    incident = (
        Incident.objects.for_tenant(tenant_id).select_related("tenant").get(pk=version.incident_id)
    )
    if incident.is_drill and client:
        return
    titles = Statement.objects.for_tenant(tenant_id).values_list("title", flat=True)
    title = str(titles.get(pk=version.statement_id))
    why = "backup" if backup else "ask"
    for user in users:
        subject, body, label = _content(
            user, version, incident, title, client=client, backup=backup
        )
        actions = (
            [
                {
                    "kind": ACTION_KIND,
                    "model": version._meta.label,
                    "id": version.pk,
                    "label": label,
                }
            ]
            if label
            else []
        )
        notify.notify_user(
            tenant_id=tenant_id,
            user=user,
            key=f"statement-version:{version.pk}:step:{version.current_step}:{why}:u{user.pk}",
            event_type=EVENT_BACKUP if backup else EVENT_ASK,
            title=subject,
            body=body,
            subject_ref=f"incident:{incident.pk}",
            actions=actions,
        )
