"""Fixtures of the notification tests: the chat APIs' stand-in (``replay``), allowed through
the SSRF-safe client by ``SIGAP_OUTBOUND_ALLOWLIST``, and a real SMTP server (``smtp``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.test import override_settings

from tests.notify.replay import Replay, serve
from tests.tenants.test_invitations import Inbox, smtp


@pytest.fixture
def replay() -> Iterator[Replay]:
    box = Replay()
    server = serve(box)
    try:
        with override_settings(
            SIGAP_OUTBOUND_ALLOWLIST=[f"127.0.0.1:{box.port}"],
            SIGAP_TELEGRAM_API_URL=f"{box.base}/telegram",
            SIGAP_WHATSAPP_API_URL=f"{box.base}/whatsapp/v21.0",
        ):
            yield box
    finally:
        server.shutdown()
        server.server_close()


__all__ = ["Inbox", "replay", "smtp"]
