"""One sender per channel kind: turn a ``Delivery`` into the receiver's request and its answer
into a :class:`Result`. Every HTTP call goes through ``tenants.outbound.post`` (the SSRF-safe
client); e-mail goes through Django's mail (the configured SMTP server).

What each receiver gets (``docs/notifications.md`` has examples):

- **e-mail**: a plain-text message; its ``Message-ID`` is derived from the delivery's key, so a
  repeated send is recognisable as the same message;
- **webhook**: ``{"id", "type", "created_at", "data"}`` as JSON with ``X-Sigap-Delivery`` (the
  key: receivers drop a delivery id they have seen), ``X-Sigap-Timestamp`` and
  ``X-Sigap-Signature: sha256=HMAC(signing secret, timestamp + "." + body)``, the format of
  Sigap's own inbound webhooks;
- **Slack** / **Teams**: an incoming-webhook message (Slack ``text`` + ``blocks``; Teams a
  ``MessageCard``) with the links as buttons;
- **Telegram**: the Bot API's ``sendMessage`` with the links as an inline keyboard;
- **WhatsApp**: a Cloud API *template* message (``options.template`` and ``language``) whose
  body parameters are the title and the first link.

Errors: 429 and 5xx answers, timeouts and refused connections are retryable; other 4xx answers
(an invalid token, a removed webhook) are permanent and shown on the channel.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage, get_connection

from tenants import outbound
from tenants.models import Channel, Delivery
from tenants.notify.choices import ChannelKind

# Cloud API error codes that mean "slow down" (throughput, pair rate limit, app rate limit).
WHATSAPP_RATE_CODES = frozenset({4, 80007, 130429, 131048, 131056})


@dataclass(frozen=True)
class Result:
    ok: bool
    retryable: bool = False
    error: str = ""
    status: int | None = None


def _json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def signature(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


def _links(delivery: Delivery) -> list[dict[str, str]]:
    links = (delivery.payload or {}).get("links") or []
    return [link for link in links if isinstance(link, dict) and link.get("url")]


def _http(url: str, body: bytes, headers: dict[str, str]) -> Result:
    try:
        response = outbound.post(
            url,
            body=body,
            headers={"Content-Type": "application/json", **headers},
            timeout=float(getattr(settings, "SIGAP_NOTIFY_TIMEOUT", 10)),
        )
    except outbound.OutboundError as exc:
        return Result(ok=False, retryable=exc.retryable, error=exc.message)
    return _judge(response.status, response.body)


def _judge(status: int, body: bytes) -> Result:
    text = body[:500].decode("utf-8", "replace")
    if 200 <= status < 300:
        return Result(ok=True, status=status)
    retryable = status == 429 or status >= 500
    return Result(ok=False, retryable=retryable, status=status, error=f"HTTP {status}: {text}")


def send_email(
    delivery: Delivery, channel: Channel | None, extra_lines: Sequence[str] = ()
) -> Result:
    if channel is not None:
        to = [a.strip() for a in channel.target.split(",") if a.strip()]
    else:
        to = [delivery.recipient]
    digest = hashlib.sha256(f"{delivery.tenant_id}:{delivery.key}".encode()).hexdigest()[:32]
    message = EmailMessage(
        subject=" ".join(delivery.title.split()),
        body="\n".join([delivery.body, "", *extra_lines]) if extra_lines else delivery.body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=to,
        headers={"Message-ID": f"<{digest}@sigap.notify>", "X-Sigap-Delivery": digest},
        connection=get_connection(fail_silently=False, timeout=10),
    )
    try:
        message.send()
    except Exception as exc:  # noqa: BLE001 - SMTP and socket errors alike: tried again later
        return Result(ok=False, retryable=True, error=f"{type(exc).__name__}: {exc}"[:500])
    return Result(ok=True)


def send_webhook(delivery: Delivery, channel: Channel) -> Result:
    body = _json(
        {
            "id": delivery.key,
            "type": delivery.event_type,
            "created_at": delivery.created_at.isoformat(),
            "data": delivery.payload,
        }
    )
    stamp = str(int(time.time()))
    headers = {
        "X-Sigap-Delivery": delivery.key,
        "X-Sigap-Timestamp": stamp,
        "X-Sigap-Signature": signature(str(channel.signing_secret), stamp, body),
    }
    return _http(str(channel.secret), body, headers)


def send_slack(delivery: Delivery, channel: Channel) -> Result:
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": f"*{delivery.title}*"}},
        {"type": "section", "text": {"type": "plain_text", "text": delivery.body[:2900] or " "}},
    ]
    buttons = [
        {
            "type": "button",
            "text": {"type": "plain_text", "text": link["label"]},
            "url": link["url"],
        }
        for link in _links(delivery)
    ]
    if buttons:
        blocks.append({"type": "actions", "elements": buttons})
    body = _json({"text": f"{delivery.title}\n{delivery.body}"[:3000], "blocks": blocks})
    return _http(str(channel.secret), body, {})


def send_teams(delivery: Delivery, channel: Channel) -> Result:
    card = {
        "@type": "MessageCard",
        "@context": "https://schema.org/extensions",
        "summary": delivery.title,
        "title": delivery.title,
        "text": delivery.body[:20000],
        "potentialAction": [
            {
                "@type": "OpenUri",
                "name": link["label"],
                "targets": [{"os": "default", "uri": link["url"]}],
            }
            for link in _links(delivery)
        ],
    }
    return _http(str(channel.secret), _json(card), {})


def send_telegram(delivery: Delivery, channel: Channel) -> Result:
    base = settings.SIGAP_TELEGRAM_API_URL.rstrip("/")
    message: dict[str, Any] = {
        "chat_id": channel.target,
        "text": f"{delivery.title}\n\n{delivery.body}"[:4096],
        "disable_web_page_preview": True,
    }
    buttons = [[{"text": link["label"], "url": link["url"]}] for link in _links(delivery)]
    if buttons:
        message["reply_markup"] = {"inline_keyboard": buttons}
    result = _http(f"{base}/bot{channel.secret}/sendMessage", _json(message), {})
    if not result.ok:
        # The token is in the URL: never keep it in an error text.
        error = result.error.replace(str(channel.secret), "***")
        return Result(ok=False, retryable=result.retryable, status=result.status, error=error)
    return result


def send_whatsapp(delivery: Delivery, channel: Channel) -> Result:
    options = channel.options or {}
    base = settings.SIGAP_WHATSAPP_API_URL.rstrip("/")
    links = _links(delivery)
    parameters = [{"type": "text", "text": delivery.title[:1000]}]
    if links:
        parameters.append({"type": "text", "text": links[0]["url"]})
    message = {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": channel.target,
        "type": "template",
        "template": {
            "name": options["template"],
            "language": {"code": options.get("language") or "id"},
            "components": [{"type": "body", "parameters": parameters}],
        },
    }
    try:
        response = outbound.post(
            f"{base}/{options['phone_number_id']}/messages",
            body=_json(message),
            headers={
                "Content-Type": "application/json",
                "Authorization": f"Bearer {channel.secret}",
            },
            timeout=float(getattr(settings, "SIGAP_NOTIFY_TIMEOUT", 10)),
        )
    except outbound.OutboundError as exc:
        return Result(ok=False, retryable=exc.retryable, error=exc.message)
    result = _judge(response.status, response.body)
    if result.ok:
        return result
    try:
        code = int(json.loads(response.body)["error"]["code"])
    except (ValueError, KeyError, TypeError):
        return result
    retryable = result.retryable or code in WHATSAPP_RATE_CODES
    return Result(ok=False, retryable=retryable, status=result.status, error=result.error)


SENDERS = {
    ChannelKind.WEBHOOK: send_webhook,
    ChannelKind.SLACK: send_slack,
    ChannelKind.TEAMS: send_teams,
    ChannelKind.TELEGRAM: send_telegram,
    ChannelKind.WHATSAPP: send_whatsapp,
}


def send(delivery: Delivery, channel: Channel | None, extra_lines: Sequence[str] = ()) -> Result:
    """Send one delivery now (called by the send task only, under the delivery's lock);
    ``extra_lines`` (the action links made for this send) end an e-mail's body."""
    if delivery.kind == ChannelKind.EMAIL:
        return send_email(delivery, channel, extra_lines)
    if channel is None:
        return Result(ok=False, error="the channel was deleted")
    return SENDERS[ChannelKind(delivery.kind)](delivery, channel)
