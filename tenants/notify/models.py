"""Models of notifications (imported by ``tenants.models``): channels, the delivery log, the
on-call rota, quiet hours and action links. Every one is a tenant table with row-level
security."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, validate_email
from django.db import models
from django.utils.translation import gettext_lazy as _

from tenants.crypto import EncryptedTextField

# ``tenants.models`` imports this module at its end, when these names exist.
from tenants.models import TenantOwnedModel
from tenants.notify.choices import URL_SECRET_KINDS, ChannelKind, DeliveryStatus


class Channel(TenantOwnedModel):
    """Where a tenant's notifications go besides people's own e-mail: a list of addresses, a
    signed webhook, a Slack or Teams incoming webhook, a Telegram chat, a WhatsApp number.

    ``secret`` holds the URL (webhook, Slack, Teams) or the token (Telegram bot, WhatsApp
    access token), encrypted at rest and never shown by any interface. ``target`` is what is
    not secret: addresses, a Telegram chat id, a WhatsApp recipient number. ``options``: for
    WhatsApp ``phone_number_id``, ``template`` and ``language``."""

    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("kind"), max_length=16, choices=ChannelKind.choices)
    enabled = models.BooleanField(_("enabled"), default=True)
    target = models.CharField(
        _("target"),
        max_length=500,
        blank=True,
        help_text=_(
            "E-mail: comma-separated addresses. Telegram: the chat id. WhatsApp: the "
            "recipient's number in international format. Empty for the other kinds."
        ),
    )
    secret = EncryptedTextField(
        _("secret"),
        blank=True,
        default="",
        help_text=_(
            "Webhook, Slack and Teams: the URL to post to. Telegram: the bot token. WhatsApp: "
            "the access token. Stored encrypted; never shown again."
        ),
    )
    signing_secret = EncryptedTextField(
        _("signing secret"),
        blank=True,
        default="",
        help_text=_(
            "Webhook only: the key of the HMAC-SHA256 signature the receiver checks (at least "
            "16 characters). Stored encrypted; never shown again."
        ),
    )
    options = models.JSONField(_("options"), default=dict, blank=True)
    last_success_at = models.DateTimeField(_("last success"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    last_error_at = models.DateTimeField(_("last error at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("notification channel")
        verbose_name_plural = _("notification channels")
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "name"], name="channel_unique_name")
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def has_secret(self) -> bool:
        """Whether the URL or token is set (the value itself is never shown)."""
        return bool(self.secret)

    def clean(self) -> None:
        from tenants.outbound import validate_outbound_url

        super().clean()
        errors: dict[str, Any] = {}
        secret = str(self.secret or "")
        if self.kind in URL_SECRET_KINDS:
            if not secret:
                errors["secret"] = _("This kind of channel needs the URL to post to.")
            else:
                try:
                    validate_outbound_url(secret)
                except ValidationError as exc:
                    errors["secret"] = exc.messages
        elif self.kind in (ChannelKind.TELEGRAM, ChannelKind.WHATSAPP) and not secret:
            errors["secret"] = _("This kind of channel needs its token.")
        if self.kind == ChannelKind.WEBHOOK and len(str(self.signing_secret or "")) < 16:
            errors["signing_secret"] = _(
                "A webhook needs a signing secret of 16 characters or more."
            )
        if self.kind == ChannelKind.EMAIL:
            addresses = [a.strip() for a in self.target.split(",") if a.strip()]
            if not addresses:
                errors["target"] = _("Give at least one e-mail address.")
            for address in addresses:
                try:
                    validate_email(address)
                except ValidationError:
                    errors["target"] = _("%(value)s is not an e-mail address.") % {"value": address}
        elif self.kind in (ChannelKind.TELEGRAM, ChannelKind.WHATSAPP) and not self.target:
            errors["target"] = _("Give the chat id (Telegram) or the recipient number (WhatsApp).")
        if not isinstance(self.options, dict):
            errors["options"] = _("Options must be an object.")
        elif self.kind == ChannelKind.WHATSAPP:
            missing = [k for k in ("phone_number_id", "template") if not self.options.get(k)]
            if missing:
                errors["options"] = _("WhatsApp needs %(names)s in the options.") % {
                    "names": ", ".join(missing)
                }
        if errors:
            raise ValidationError(errors)


class Delivery(TenantOwnedModel):
    """The delivery log: one row per message to one person (e-mail) or one channel. Its
    ``key`` makes deciding idempotent (the same decision twice is one row), and the send task
    claims the row under a lock, so a person gets one message however often the task runs."""

    key = models.CharField(_("key"), max_length=200)
    kind = models.CharField(_("kind"), max_length=16, choices=ChannelKind.choices)
    channel = models.ForeignKey(
        Channel, null=True, blank=True, on_delete=models.SET_NULL, related_name="deliveries"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    recipient = models.CharField(_("recipient"), max_length=500, blank=True)
    event_type = models.CharField(_("event"), max_length=64)
    subject_ref = models.CharField(_("about"), max_length=100, blank=True)
    title = models.CharField(_("title"), max_length=300, blank=True)
    body = models.TextField(_("body"), blank=True)
    payload = models.JSONField(_("payload"), default=dict, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    response_status = models.PositiveIntegerField(_("response status"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("delivery log")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "key"], name="delivery_unique_key")
        ]
        indexes = [
            models.Index(fields=["tenant", "-created_at"], name="delivery_by_time"),
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(status="pending"),
                name="delivery_due",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} to {self.recipient}"


class OnCallShift(TenantOwnedModel):
    """One person on call for the tenant from ``starts_at`` to ``ends_at``: the rota is the
    tenant's shifts; escalation steps that name "on call" reach whoever's shift covers now."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("user")
    )
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("on-call shift")
        verbose_name_plural = _("on-call rota")
        ordering = ["starts_at", "id"]
        indexes = [models.Index(fields=["tenant", "ends_at"], name="oncall_by_end")]

    def __str__(self) -> str:
        return f"{self.user} {self.starts_at:%Y-%m-%d %H:%M}"

    def clean(self) -> None:
        super().clean()
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValidationError({"ends_at": _("A shift must end after it starts.")})


class QuietHours(TenantOwnedModel):
    """A person's quiet hours in this tenant, in the tenant's time zone (may cross midnight,
    e.g. 22:00 to 06:00): escalation skips them then, unless the alert is SEV1."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("user")
    )
    starts = models.TimeField(_("starts"))
    ends = models.TimeField(_("ends"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("quiet hours")
        verbose_name_plural = _("quiet hours")
        ordering = ["user_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "user"], name="quiet_hours_one_per_user")
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.starts:%H:%M}-{self.ends:%H:%M}"

    def clean(self) -> None:
        super().clean()
        if self.starts is not None and self.starts == self.ends:
            raise ValidationError({"ends": _("Quiet hours must end at another time.")})


class ActionLink(TenantOwnedModel):
    """A link in a message that acts for one user on one object (``tenants.action_links``).
    Only the SHA-256 of its token is stored."""

    kind = models.CharField(_("kind"), max_length=64)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("user")
    )
    target_model = models.CharField(max_length=100)
    target_id = models.BigIntegerField(validators=[MaxValueValidator(2**63 - 1)])
    token_hash = models.CharField(max_length=64)
    expires_at = models.DateTimeField(_("expires at"))
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("action link")
        verbose_name_plural = _("action links")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "token_hash"], name="action_link_token")
        ]

    def __str__(self) -> str:
        return f"{self.kind} for {self.user_id}"
