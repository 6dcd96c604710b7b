"""Exactly once for people: a real django-q2 worker is killed between deciding and sending (it
holds the delivery, talking to the SMTP server, which has not accepted the message yet); the
delivery is neither lost nor sent twice. A second cluster, the redelivered task and the sweep's
extra task all meet on the delivery's lock: the SMTP server gets one message and the delivery
log shows one send."""

from __future__ import annotations

import asyncio
import email
import email.policy
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from django.db import transaction
from django.test import override_settings
from django_q.models import OrmQ

from tenants.models import Delivery
from tenants.notify import services
from tenants.notify.tasks import sweep_deliveries
from tests.monitoring.test_worker_crash import kill_tree, wait_for
from tests.tenants.test_invitations import free_port
from tests.test_ops import start_cluster


class StallingInbox:
    """Holds the first message at DATA until told to go on, then refuses it (451: nothing was
    accepted, as when the sender dies before the server's answer); keeps every later one."""

    def __init__(self) -> None:
        self.messages: list[Any] = []
        self.first_arrived = threading.Event()
        self.release = threading.Event()
        self.stalled = False

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if not self.stalled:
            self.stalled = True
            self.first_arrived.set()
            while not self.release.is_set():
                await asyncio.sleep(0.05)
            return "451 4.3.0 Try again later"
        self.messages.append(
            email.message_from_bytes(envelope.content, policy=email.policy.default)
        )
        return "250 Message accepted for delivery"


@pytest.fixture
def stalling_smtp() -> Iterator[tuple[StallingInbox, int]]:
    inbox = StallingInbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield inbox, controller.port
    finally:
        inbox.release.set()
        controller.stop()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
@override_settings(SIGAP_NOTIFY_GRACE_SECONDS=1)
def test_killing_the_worker_between_deciding_and_sending_sends_once(
    tenant: Any, members: dict[str, Any], stalling_smtp: tuple[StallingInbox, int]
) -> None:
    inbox, port = stalling_smtp
    person = members["responder"]
    with transaction.atomic():  # the deciding transaction: the row and its task commit together
        delivery = services.notify_user(
            tenant_id=tenant.pk,
            user=person,
            key="alert:1:esc:1:r0:s0:u1",
            event_type="alert.escalation",
            title="[SEV1] Kopi Senja: akun diretas",
            body="Akun resmi memposting tautan aneh.",
        )
    env = {
        "Q_WORKERS": "1",
        "Q_TIMEOUT": "10",
        "Q_RETRY": "12",
        "SIGAP_TEST_EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(port),
        "SIGAP_NOTIFY_GRACE_SECONDS": "1",
    }
    first = start_cluster(**env)
    try:
        assert inbox.first_arrived.wait(60), "the worker never started sending"
    finally:
        kill_tree(first)  # killed mid-send: the message was not accepted
    inbox.release.set()
    row = Delivery.objects.get(pk=delivery.pk)
    assert row.status == "pending" and row.attempts == 0  # rolled back with the worker
    time.sleep(1.5)
    assert sweep_deliveries() == 1  # its grace is over: the sweep queues it once more

    second = start_cluster(**env)
    try:
        wait_for(lambda: Delivery.objects.get(pk=delivery.pk).status == "sent", 90, "the resend")
        # The broker hands out the killed worker's task again (Q_RETRY after it was pulled) and
        # the second cluster runs it to its end: it must find the delivery sent and send nothing.
        wait_for(lambda: not OrmQ.objects.exists(), 90, "the killed worker's task to run again")
    finally:
        second.terminate()
        second.wait(timeout=30)
    row = Delivery.objects.get(pk=delivery.pk)
    assert row.status == "sent" and row.attempts == 1
    assert len(inbox.messages) == 1
    assert inbox.messages[0]["To"] == person.email
