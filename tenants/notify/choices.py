from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class ChannelKind(models.TextChoices):
    EMAIL = "email", _("E-mail")
    WEBHOOK = "webhook", _("Signed webhook")
    SLACK = "slack", _("Slack")
    TEAMS = "teams", _("Microsoft Teams")
    TELEGRAM = "telegram", _("Telegram")
    WHATSAPP = "whatsapp", _("WhatsApp (Cloud API template)")


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    SKIPPED = "skipped", _("Skipped")


# Kinds whose ``secret`` is the URL posted to (encrypted, write-only).
URL_SECRET_KINDS = frozenset({ChannelKind.WEBHOOK, ChannelKind.SLACK, ChannelKind.TEAMS})
