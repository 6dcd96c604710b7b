"""Every channel kind against its receiver: e-mail through a real SMTP server, the signed
webhook, Slack, Teams, Telegram and the WhatsApp Cloud API through a local server replaying
their recorded answers (success, rate limit, invalid token), reached through the SSRF-safe
client by its allowlist setting. Secrets are encrypted at rest; a failing channel never holds
up the others and its error is visible on it."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

import pytest
from django.db import connection, transaction
from django.test import override_settings

from tenants.models import Channel, Delivery
from tenants.notify import services
from tenants.notify.tasks import send_delivery, sweep_deliveries
from tenants.outbound import ADDRESS_BLOCKED
from tests.notify.replay import Replay

SIGNING = "rahasia-penandatangan-1234"


def channel(tenant: Any, kind: str, replay: Replay | None = None, **values: Any) -> Channel:
    defaults: dict[str, Any] = {"name": f"{kind} channel"}
    if kind == "email":
        defaults["target"] = "krisis@kopi.test, direksi@kopi.test"
    elif kind == "webhook":
        defaults["secret"] = f"{replay.base}/hooks/sigap" if replay else ""
        defaults["signing_secret"] = SIGNING
    elif kind == "slack":
        defaults["secret"] = f"{replay.base}/slack/services/T000/B000/XXXX" if replay else ""
    elif kind == "teams":
        defaults["secret"] = f"{replay.base}/teams/webhookb2/abc" if replay else ""
    elif kind == "telegram":
        defaults["secret"] = "7012345678:AAH-rahasia-token"
        defaults["target"] = "-1001987654321"
    elif kind == "whatsapp":
        defaults["secret"] = "EAAG-rahasia-akses"
        defaults["target"] = "+6281234567890"
        defaults["options"] = {"phone_number_id": "1098765432", "template": "sigap_alert"}
    return services.create_channel(tenant=tenant, kind=kind, **{**defaults, **values})


def decide(ch: Channel, key: str = "k1", **extra: Any) -> Delivery:
    with transaction.atomic():
        delivery = services.notify_channel(
            channel=ch,
            key=key,
            event_type="alert.escalation",
            title="[SEV2] Kopi Senja: Volume spike",
            body="60 mentions in 15 minutes",
            payload={"links": [{"label": "Open", "url": "http://sigap.test/admin/x/"}], **extra},
        )
    assert delivery is not None
    return delivery


def run(delivery: Delivery) -> Delivery:
    send_delivery(delivery.tenant_id, delivery.pk)
    return Delivery.objects.get(pk=delivery.pk)


def test_email_channel_reaches_every_address_through_smtp(tenant: Any, smtp: Any) -> None:
    delivery = run(decide(channel(tenant, "email")))
    assert delivery.status == "sent" and delivery.attempts == 1
    for address in ("krisis@kopi.test", "direksi@kopi.test"):
        message = smtp.messages[0]
        assert address in message["To"]
    assert len(smtp.messages) == 1
    assert smtp.messages[0]["Subject"] == "[SEV2] Kopi Senja: Volume spike"
    assert smtp.messages[0]["Message-ID"].endswith("@sigap.notify>")


def test_webhook_is_signed_with_timestamp_and_delivery_id(tenant: Any, replay: Replay) -> None:
    replay.script("/hooks/", "webhook", "ok")
    delivery = run(decide(channel(tenant, "webhook", replay), extra_field="x"))
    assert delivery.status == "sent" and delivery.response_status == 204
    (request,) = replay.to("/hooks/sigap")
    stamp = request.headers["X-Sigap-Timestamp"]
    expected = hmac.new(SIGNING.encode(), stamp.encode() + b"." + request.body, hashlib.sha256)
    assert request.headers["X-Sigap-Signature"] == "sha256=" + expected.hexdigest()
    assert request.headers["X-Sigap-Delivery"] == delivery.key
    body = request.json()
    assert body["type"] == "alert.escalation" and body["data"]["extra_field"] == "x"


def test_webhook_retries_with_back_off_on_the_queue(tenant: Any, replay: Replay) -> None:
    replay.script("/hooks/", "webhook", "server_error", "ok")
    delivery = run(decide(channel(tenant, "webhook", replay)))
    assert delivery.status == "pending" and delivery.attempts == 1
    assert "HTTP 503" in delivery.last_error
    assert delivery.next_attempt_at is not None
    assert 50 <= (delivery.next_attempt_at - delivery.created_at).total_seconds() <= 70
    assert Channel.objects.get(pk=delivery.channel_id).last_error.startswith("HTTP 503")
    # Not due yet: the sweep queues nothing; once due it queues the retry, which succeeds.
    from django_q.models import OrmQ

    before = OrmQ.objects.count()
    assert sweep_deliveries() == 0
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=delivery.created_at)
    assert sweep_deliveries() == 1 and OrmQ.objects.count() == before + 1
    delivery = run(delivery)
    assert delivery.status == "sent" and delivery.attempts == 2
    assert len(replay.to("/hooks/sigap")) == 2


@pytest.mark.parametrize(
    ("kind", "prefix", "service"),
    [
        ("slack", "/slack/", "slack"),
        ("teams", "/teams/", "teams"),
        ("telegram", "/telegram/", "telegram"),
        ("whatsapp", "/whatsapp/", "whatsapp"),
    ],
)
def test_chat_channels_send_their_payload(
    tenant: Any, replay: Replay, kind: str, prefix: str, service: str
) -> None:
    replay.script(prefix, service, "ok")
    delivery = run(decide(channel(tenant, kind, replay)))
    assert delivery.status == "sent", delivery.last_error
    (request,) = replay.to(prefix)
    body = request.json()
    if kind == "slack":
        assert body["text"].startswith("[SEV2] Kopi Senja")
        assert body["blocks"][-1]["elements"][0]["url"] == "http://sigap.test/admin/x/"
    elif kind == "teams":
        assert body["@type"] == "MessageCard" and body["title"].startswith("[SEV2]")
        assert body["potentialAction"][0]["targets"][0]["uri"] == "http://sigap.test/admin/x/"
    elif kind == "telegram":
        assert request.path == "/telegram/bot7012345678:AAH-rahasia-token/sendMessage"
        assert body["chat_id"] == "-1001987654321"
        assert body["reply_markup"]["inline_keyboard"][0][0]["url"] == "http://sigap.test/admin/x/"
    else:
        assert request.path == "/whatsapp/v21.0/1098765432/messages"
        assert request.headers["Authorization"] == "Bearer EAAG-rahasia-akses"
        assert body["type"] == "template" and body["template"]["name"] == "sigap_alert"
        assert body["template"]["components"][0]["parameters"][0]["text"].startswith("[SEV2]")


@pytest.mark.parametrize(
    ("kind", "prefix", "service", "answer", "retryable"),
    [
        ("slack", "/slack/", "slack", "rate_limited", True),
        ("slack", "/slack/", "slack", "invalid_token", False),
        ("teams", "/teams/", "teams", "rate_limited", True),
        ("telegram", "/telegram/", "telegram", "rate_limited", True),
        ("telegram", "/telegram/", "telegram", "unauthorized", False),
        ("whatsapp", "/whatsapp/", "whatsapp", "rate_limited", True),
        ("whatsapp", "/whatsapp/", "whatsapp", "invalid_token", False),
    ],
)
def test_chat_errors_are_retried_or_failed_and_visible(
    tenant: Any, replay: Replay, kind: str, prefix: str, service: str, answer: str, retryable: bool
) -> None:
    replay.script(prefix, service, answer)
    ch = channel(tenant, kind, replay)
    delivery = run(decide(ch))
    assert delivery.status == ("pending" if retryable else "failed")
    assert delivery.last_error
    ch.refresh_from_db()
    assert ch.last_error and ch.last_error_at is not None
    assert "AAH-rahasia-token" not in ch.last_error  # the bot token is in Telegram's URL


def test_a_failing_channel_never_holds_up_the_others(tenant: Any, replay: Replay) -> None:
    replay.script("/slack/", "slack", "invalid_token")
    replay.script("/telegram/", "telegram", "ok")
    broken = run(decide(channel(tenant, "slack", replay)))
    working = run(decide(channel(tenant, "telegram", replay), key="k2"))
    assert broken.status == "failed" and working.status == "sent"


def test_deciding_twice_is_one_delivery(tenant: Any, replay: Replay) -> None:
    ch = channel(tenant, "slack", replay)
    assert decide(ch).pk == decide(ch).pk
    assert Delivery.objects.filter(tenant=tenant).count() == 1


def test_secrets_are_encrypted_at_rest(tenant: Any, replay: Replay) -> None:
    ch = channel(tenant, "webhook", replay)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT secret, signing_secret FROM tenants_channel WHERE tenant_id = %s AND id = %s",
            [tenant.pk, ch.pk],
        )
        stored = cursor.fetchone()
    assert "127.0.0.1" not in stored[0] and SIGNING not in stored[1]
    assert stored[0].startswith("gAAAA")  # a Fernet token


def test_outbound_rules_still_apply_to_channel_urls(tenant: Any) -> None:
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as refused:
        channel(tenant, "slack", secret="http://169.254.169.254/latest/meta-data/")
    assert "secret" in refused.value.message_dict


@override_settings(SIGAP_OUTBOUND_ALLOWLIST=[])
def test_a_url_that_turns_internal_is_refused_at_send_time(tenant: Any) -> None:
    ch = Channel.objects.create(
        tenant=tenant, name="sneaky", kind="slack", secret="http://localhost/hook"
    )  # written past the save-time check, as a URL whose host later resolves inside would be
    delivery = run(decide(ch))
    assert delivery.status == "failed" and delivery.last_error == ADDRESS_BLOCKED
