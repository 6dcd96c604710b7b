"""The approval workflow's e-mails go through the notification delivery log
(``tenants.notify``): asking a step's approvers writes one ``Delivery`` per person, the send task
mails it through a real SMTP server (``tests/mail.py``) in the recipient's language, and a send
that fails is recorded, retried with back-off by the sweep, and failed for good in the end."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.db import transaction
from django.test import override_settings
from django.utils import timezone
from django_q.models import OrmQ

from incidents.authority import SYSTEM
from incidents.statements import services
from incidents.statements.models import ApprovalStep, ApprovalWorkflow, StatementVersion
from incidents.statements.notify import EVENT_ASK, EVENT_BACKUP
from tenants.models import Delivery
from tenants.notify.tasks import MAX_ATTEMPTS, send_delivery, sweep_deliveries
from tenants.roles import Role
from tests.incidents.factories import IncidentFactory
from tests.mail import free_port, smtp_server

LINK = re.compile(r"https?://\S+/act/\d+/[^/\s]+/")


def submitted(
    tenant: Any,
    approvers: list[Any],
    *,
    kind: str = "agency",
    backup: Any = None,
    workflow: bool = True,
) -> Any:
    """A version submitted to the tenant's SEV2 workflow (made first unless ``workflow`` is
    False): one step of ``kind``."""
    if workflow:
        ApprovalStep.objects.create(
            tenant=tenant,
            workflow=ApprovalWorkflow.objects.create(tenant=tenant, severity="sev2"),
            position=1,
            kind=kind,
            approvers=[user.pk for user in approvers],
            time_box_minutes=15,
            backup=backup,
        )
    incident = IncidentFactory(tenant=tenant, severity="sev2", title="Gangguan aplikasi")
    with transaction.atomic():
        statement = services.create_statement(
            incident=incident, title="Klarifikasi", text="Kami mengonfirmasi gangguan."
        )
        version = StatementVersion.objects.get(statement=statement)
        services.submit_version(version=version, authority=SYSTEM)
    return version


def rows(version: Any) -> list[Delivery]:
    return list(
        Delivery.objects.filter(subject_ref=f"incident:{version.incident_id}").order_by("pk")
    )


@pytest.fixture
def approver(members: dict[str, Any]) -> Any:
    user = members[Role.APPROVER]
    user.language = "en"
    user.save(update_fields=["language"])
    return user


def test_an_approval_request_is_a_delivery_row_sent_through_smtp(
    tenant: Any, approver: Any
) -> None:
    version = submitted(tenant, [approver])
    (delivery,) = rows(version)
    assert (delivery.kind, delivery.event_type, delivery.status) == ("email", EVENT_ASK, "pending")
    assert (delivery.user_id, delivery.recipient) == (approver.pk, approver.email)
    assert delivery.title == "Approval needed: Klarifikasi"
    assert OrmQ.objects.exists()  # its send is queued with the decision
    with smtp_server() as inbox:
        assert send_delivery(tenant.pk, delivery.pk) == "sent"
        (message,) = inbox.to(approver.email)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("sent", 1, "")
    assert message["Subject"] == "Approval needed: Klarifikasi"
    text = message.get_content()
    assert "Kami mengonfirmasi gangguan." in text and "Approve or reject it in Sigap." in text
    # Deciding again (a retried task) mails nobody twice.
    with transaction.atomic():
        from incidents.statements import notify

        notify.ask([approver], version, client=False)
    assert len(rows(version)) == 1


def test_a_failed_send_is_recorded_retried_by_the_sweep_and_failed_in_the_end(
    tenant: Any, approver: Any
) -> None:
    version = submitted(tenant, [approver])
    (delivery,) = rows(version)
    with override_settings(
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=free_port(),  # nobody listens there
        EMAIL_USE_TLS=False,
    ):
        assert send_delivery(tenant.pk, delivery.pk) == "pending"
    delivery.refresh_from_db()
    assert delivery.status == "pending" and delivery.attempts == 1
    assert "ConnectionRefusedError" in delivery.last_error
    assert delivery.next_attempt_at is not None and delivery.next_attempt_at > timezone.now()
    # Due: the sweep queues the retry, which now reaches the server.
    Delivery.objects.filter(pk=delivery.pk).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1)
    )
    assert sweep_deliveries() == 1
    with smtp_server() as inbox:
        assert send_delivery(tenant.pk, delivery.pk) == "sent"
        assert len(inbox.to(approver.email)) == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("sent", 2, "")

    # A delivery that keeps failing is failed after MAX_ATTEMPTS, its error kept.
    (other,) = rows(submitted(tenant, [approver], workflow=False))
    Delivery.objects.filter(pk=other.pk).update(attempts=MAX_ATTEMPTS - 1)
    with override_settings(
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=free_port(),
        EMAIL_USE_TLS=False,
    ):
        assert send_delivery(tenant.pk, other.pk) == "failed"
    other.refresh_from_db()
    assert other.attempts == MAX_ATTEMPTS and other.next_attempt_at is None
    assert "ConnectionRefusedError" in other.last_error


def test_the_backup_and_the_clients_link_go_through_the_log_without_a_stored_token(
    tenant: Any, members: dict[str, Any], approver: Any
) -> None:
    from incidents import services as incident_services

    client = members[Role.CLIENT]
    version = submitted(tenant, [], kind="client", backup=approver)
    incident_services.assign_role(incident=version.incident, user=client, role="client_approver")
    with transaction.atomic():
        from incidents.statements import notify

        notify.ask([client], version, client=True)
    (asked,) = [row for row in rows(version) if row.user_id == client.pk]
    assert asked.event_type == EVENT_ASK
    assert "/act/" not in asked.body and "/act/" not in str(asked.payload)
    with smtp_server() as inbox:
        assert send_delivery(tenant.pk, asked.pk) == "sent"
        (message,) = inbox.to(client.email)
    assert LINK.search(message.get_content())
    with transaction.atomic():
        later = timezone.now() + timedelta(minutes=16)
        assert services.escalate_expired_steps(tenant_id=tenant.pk, now=later) == 1
    (backup,) = [row for row in rows(version) if row.event_type == EVENT_BACKUP]
    assert backup.user_id == approver.pk
    assert backup.title == "Backup approval needed: Klarifikasi"
    assert backup.payload["actions"][0]["kind"] == "statements.client_decision"
