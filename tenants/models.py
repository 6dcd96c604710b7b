"""Agencies, tenants, users, memberships and credentials.

``TenantOwnedModel`` is the base of every row of client data in every app: it carries an indexed
``tenant`` foreign key (ready for PostgreSQL row-level security keyed on ``tenant_id``) and the
``TenantQuerySet.for_tenant`` scope that the REST, GraphQL and admin layers all go through.

Account rules that every writer keeps, whatever the path (admin, services, management commands):
a change of a user's password (``set_password``, ``set_unusable_password`` or a new hash) stamps
``password_changed_at``, which the audit log records, and revokes all of the user's personal
tokens; a transparent hash upgrade at sign-in is not a change. A tenant machine key cannot be
given an expiry that has already passed. Personal tokens and machine keys are verified by a
timing-safe comparison (``hmac.compare_digest``).
"""

from __future__ import annotations

import hmac
import zoneinfo
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any, ClassVar, Self, TypeVar

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework_api_key.crypto import KeyGenerator
from rest_framework_api_key.models import AbstractAPIKey, APIKeyManager

from tenants.roles import Role

slug_validator = RegexValidator(
    r"^[a-z0-9](?:[a-z0-9-]{0,48}[a-z0-9])?$",
    "Use 1-50 lowercase letters, digits and inner hyphens.",
    code="invalid_slug",
)


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"'{value}' is not a known IANA time zone.", code="invalid_time_zone")


class Agency(models.Model):
    """The customer account: a digital agency that serves many client brands."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=50, unique=True, validators=[slug_validator])
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "agencies"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


# Retention defaults (docs/data-lifecycle.md): about 13 months of mentions, a month of raw JSON.
DEFAULT_MENTION_RETENTION_DAYS = 400
DEFAULT_RAW_PAYLOAD_RETENTION_DAYS = 30
MAX_RETENTION_DAYS = 36_500


class Tenant(models.Model):
    """A client brand's workspace. Every row of client data belongs to exactly one tenant.

    ``mention_retention_days`` and ``raw_payload_retention_days`` say how long its personal data
    is kept; ``monitoring.retention`` applies them daily."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        SUSPENDED = "suspended", "Suspended"

    class Language(models.TextChoices):
        INDONESIAN = "id", "Indonesian"
        ENGLISH = "en", "English"

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="tenants")
    slug = models.SlugField(
        max_length=50,
        unique=True,
        validators=[slug_validator],
        help_text="URL name of the workspace, unique across Sigap.",
    )
    name = models.CharField(max_length=200, help_text="Display name of the client brand.")
    time_zone = models.CharField(
        max_length=64,
        default="Asia/Jakarta",
        validators=[validate_time_zone],
        help_text="IANA time zone used for the tenant's reports and buckets.",
    )
    default_language = models.CharField(
        max_length=2, choices=Language.choices, default=Language.INDONESIAN
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    mention_retention_days = models.PositiveIntegerField(
        null=True,
        blank=True,
        default=DEFAULT_MENTION_RETENTION_DAYS,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_RETENTION_DAYS)],
        help_text="Mentions published longer ago than this are deleted daily (their rollups "
        "stay). Empty: kept until the tenant is deleted.",
    )
    raw_payload_retention_days = models.PositiveIntegerField(
        null=True,
        blank=True,
        default=DEFAULT_RAW_PAYLOAD_RETENTION_DAYS,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_RETENTION_DAYS)],
        help_text="The raw JSON stored with a mention (and the items of an unfinished ingest "
        "chunk) is cleared after this many days. Empty: kept as long as the mention.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE


_RowT = TypeVar("_RowT", bound=models.Model)


class TenantQuerySet(models.QuerySet[_RowT]):
    """The row filter of every tenant-owned model: ``for_tenant``, the one spelling that the
    REST, GraphQL, admin, service and task layers use (never ``filter(tenant_id=...)``)."""

    def for_tenant(self, tenant: Tenant | int | Iterable[Tenant | int] | QuerySet[Tenant]) -> Self:
        """Rows of one tenant (a row or an id), or of several (ids, rows or a queryset of
        tenants, e.g. those a staff user may see)."""
        if isinstance(tenant, Tenant | int):
            return self.filter(tenant_id=tenant.pk if isinstance(tenant, Tenant) else tenant)
        if isinstance(tenant, models.QuerySet):
            return self.filter(tenant_id__in=tenant.values("pk"))
        ids = [item.pk if isinstance(item, Tenant) else item for item in tenant]
        return self.filter(tenant_id__in=ids)


class TenantManager(models.Manager[_RowT]):
    """The default manager of tenant-owned models, typed so ``Model.objects.for_tenant(...)``
    is checked: it hands out ``TenantQuerySet``s."""

    def get_queryset(self) -> TenantQuerySet[_RowT]:
        return TenantQuerySet(self.model, using=self._db)

    def for_tenant(
        self, tenant: Tenant | int | Iterable[Tenant | int] | QuerySet[Tenant]
    ) -> TenantQuerySet[_RowT]:
        return self.get_queryset().for_tenant(tenant)


class TenantOwnedModel(models.Model):
    """Abstract base for every tenant's row. Query it through ``for_tenant``."""

    tenant = models.ForeignKey(
        Tenant, on_delete=models.CASCADE, related_name="%(class)ss", db_index=True
    )

    objects: ClassVar[TenantManager[Self]] = TenantManager()

    class Meta:
        abstract = True


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who signs in with an email address.

    Agency staff have ``agency`` set; client users have no agency and are invited into one tenant.
    ``is_agency_admin`` staff administer every tenant of their agency.
    """

    email = models.EmailField(unique=True, max_length=254)
    full_name = models.CharField(max_length=200, blank=True)
    agency = models.ForeignKey(
        Agency, null=True, blank=True, on_delete=models.PROTECT, related_name="staff"
    )
    is_agency_admin = models.BooleanField(
        default=False, help_text="Administers every tenant of the agency."
    )
    is_staff = models.BooleanField(default=False, help_text="May sign in to the admin site.")
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(default=timezone.now)
    password_changed_at = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="When the password was last changed (the audit log records each change).",
    )

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        ordering = ["email"]

    def __str__(self) -> str:
        return self.email

    # True while ``check_password`` upgrades the stored hash: not a change of password.
    _rehashing = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The hash as loaded, to notice any new one on save (None when the field is deferred).
        self._saved_password: str | None = self.__dict__.get("password")

    def clean(self) -> None:
        super().clean()
        self.email = self.__class__.objects.normalize_email(self.email).lower()
        if self.is_agency_admin and self.agency_id is None:
            raise ValidationError({"is_agency_admin": "Only agency staff can be agency admins."})

    def check_password(self, raw_password: str | None) -> bool:
        self._rehashing = True
        try:
            return super().check_password(raw_password)
        finally:
            self._rehashing = False

    async def acheck_password(self, raw_password: str | None) -> bool:
        self._rehashing = True
        try:
            return await super().acheck_password(raw_password)
        finally:
            self._rehashing = False

    def _password_changing(self, update_fields: Any) -> bool:
        if self._state.adding or self._rehashing or "password" not in self.__dict__:
            return False
        if update_fields is not None and "password" not in update_fields:
            return False
        # ``_password`` is set by ``set_password``; a new hash may also be assigned directly.
        return getattr(self, "_password", None) is not None or (
            self._saved_password is not None and self.password != self._saved_password
        )

    def save(self, *args: Any, **kwargs: Any) -> None:
        changing = self._password_changing(kwargs.get("update_fields"))
        if changing:
            self.password_changed_at = timezone.now()
            if kwargs.get("update_fields") is not None:
                kwargs["update_fields"] = {*kwargs["update_fields"], "password_changed_at"}
        with transaction.atomic(using=kwargs.get("using")):
            super().save(*args, **kwargs)
            if changing:
                self._revoke_tokens()
        if "password" in self.__dict__:
            self._saved_password = self.password

    def _revoke_tokens(self) -> None:
        """A new password ends every personal token (one audited save per token)."""
        for token in PersonalToken.objects.filter(user_id=self.pk, revoked=False):
            token.revoked = True
            token.save(update_fields=["revoked"])


class Membership(TenantOwnedModel):
    """A user's role in one tenant."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["tenant", "user__email"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "user"], name="membership_unique_user")
        ]

    def __str__(self) -> str:
        return f"{self.user} as {self.role} in {self.tenant}"

    def clean(self) -> None:
        """Agency staff join only their agency's tenants; a client user (no agency) holds the
        ``client`` role in one tenant only."""
        super().clean()
        if self.user_id is None or self.tenant_id is None:
            return
        user, tenant = self.user, self.tenant
        if user.agency_id is not None and user.agency_id != tenant.agency_id:
            raise ValidationError({"user": _("Staff of another agency cannot join this tenant.")})
        if user.agency_id is None:
            if self.role and self.role != Role.CLIENT:
                raise ValidationError(
                    {"role": _("People outside the agency can only hold the 'client' role.")}
                )
            if user.memberships.exclude(tenant_id=tenant.pk).exists():
                raise ValidationError({"user": _("A client user belongs to one tenant only.")})


class Invitation(TenantOwnedModel):
    """An invitation of an address into a tenant with a role, pending until the person follows
    the link e-mailed to them (``tenants.invitations``), which creates their membership (and
    their account, with the password they choose, for a new address). The link works once and
    for ``SIGAP_INVITATION_TTL_HOURS``; a new invitation of the same address replaces a pending
    one. Nothing here says whether the address has an account: the answer to the inviter is
    the same either way. A shared table: the link's page reads it before the tenant is known.
    """

    email = models.EmailField(max_length=254)
    role = models.CharField(max_length=16, choices=Role.choices)
    full_name = models.CharField(
        max_length=200, blank=True, help_text="For a new account; an existing one keeps its own."
    )
    invited_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    accepted_at = models.DateTimeField(null=True, blank=True)

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        ACCEPTED = "accepted", _("Accepted")
        EXPIRED = "expired", _("Expired")

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "email"],
                condition=models.Q(accepted_at__isnull=True),
                name="invitation_one_pending",
            )
        ]

    def __str__(self) -> str:
        return f"{self.email} as {self.role} in {self.tenant}"

    @property
    def expires_at(self) -> datetime:
        return self.created_at + timedelta(hours=settings.SIGAP_INVITATION_TTL_HOURS)

    @property
    def status(self) -> str:
        if self.accepted_at is not None:
            return self.Status.ACCEPTED
        if self.expires_at <= timezone.now():
            return self.Status.EXPIRED
        return self.Status.PENDING


class TimingSafeKeyGenerator(KeyGenerator):
    """The library's generator, with the secret's hash compared by ``hmac.compare_digest``."""

    def verify(self, key: str, hashed_key: str) -> bool:
        if self.using_preferred_hasher(hashed_key):
            return hmac.compare_digest(self.hash(key).encode(), hashed_key.encode())
        return super().verify(key, hashed_key)  # Django's check_password: constant time too


class PersonalTokenManager(APIKeyManager):  # type: ignore[type-arg]
    key_generator = TimingSafeKeyGenerator()

    def get_usable_keys(self) -> models.QuerySet[Any]:
        # Authentication needs the owner too: one query, not two.
        return super().get_usable_keys().select_related("user")


class TenantApiKeyManager(APIKeyManager):  # type: ignore[type-arg]
    """Machine keys belong to a tenant: the same ``for_tenant`` row filter as tenant-owned
    models."""

    key_generator = TimingSafeKeyGenerator()

    def get_queryset(self) -> TenantQuerySet[Any]:
        return TenantQuerySet(self.model, using=self._db)

    def for_tenant(
        self, tenant: Tenant | int | Iterable[Tenant | int] | QuerySet[Tenant]
    ) -> TenantQuerySet[Any]:
        return self.get_queryset().for_tenant(tenant)

    def get_usable_keys(self) -> models.QuerySet[Any]:
        return super().get_usable_keys().select_related("tenant")


class PersonalToken(AbstractAPIKey):
    """A user's personal API token, sent as ``Authorization: Bearer <token>``. Stored hashed."""

    objects: ClassVar[PersonalTokenManager] = PersonalTokenManager()

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta(AbstractAPIKey.Meta):
        verbose_name = "personal API token"
        verbose_name_plural = "personal API tokens"


def validate_expiry_in_future(value: datetime | None) -> None:
    """A key must not be created (or moved to) an expiry that has already passed."""
    if value is not None and value <= timezone.now():
        raise ValidationError(_("The expiry must be in the future."), code="expired")


def _to_second(value: datetime | None) -> datetime | None:
    # Forms send whole seconds back: an unchanged expiry must not look changed.
    return value.replace(microsecond=0) if value is not None else None


class TenantApiKey(AbstractAPIKey):
    """A tenant's machine key for ingestion, sent as ``Authorization: Api-Key <key>``.

    A new expiry (at creation or when it is changed) must lie in the future."""

    objects: ClassVar[TenantApiKeyManager] = TenantApiKeyManager()

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="api_keys")
    created_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta(AbstractAPIKey.Meta):
        verbose_name = "tenant API key"
        verbose_name_plural = "tenant API keys"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._saved_expiry: datetime | None = self.__dict__.get("expiry_date")

    def clean(self) -> None:
        super().clean()
        if self._state.adding or _to_second(self.expiry_date) != _to_second(self._saved_expiry):
            try:
                validate_expiry_in_future(self.expiry_date)
            except ValidationError as exc:
                raise ValidationError({"expiry_date": exc.error_list}) from None


class RateCounter(models.Model):
    """One rate-limit window: how many requests ``key`` made until ``window_ends_at``.

    Written only by ``tenants.ratelimit.hit`` with one atomic upsert (so parallel requests can
    never both read the same count); rows whose window ended are pruned there. The table is
    UNLOGGED: counters are worth nothing after a crash and need no write-ahead log.
    """

    key = models.CharField(max_length=255, primary_key=True)
    count = models.PositiveIntegerField(default=0)
    window_ends_at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = "rate-limit counter"

    def __str__(self) -> str:
        return f"{self.key}: {self.count}"


class OutboxEvent(TenantOwnedModel):
    """Base of an outbox table: one row per thing that happened, written (by
    ``tenants.outbox.publish``) in the same transaction as the work it describes.

    ``dispatched_at`` is when a delivery task was last queued; ``delivered_at`` is set once every
    subscriber registered for the table has processed the row (or when none is registered).
    Concrete tables add their payload columns and ``outbox_indexes(...)`` to their ``Meta``.
    """

    created_at = models.DateTimeField(default=timezone.now)
    dispatched_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True


def outbox_indexes(prefix: str) -> list[models.Index]:
    """The indexes every outbox table needs: pending rows for the sweeper, delivered rows for
    pruning. ``prefix`` keeps the index names unique (at most 20 characters)."""
    return [
        models.Index(
            fields=["dispatched_at"],
            condition=models.Q(delivered_at__isnull=True),
            name=f"{prefix}_pending",
        ),
        models.Index(fields=["delivered_at"], name=f"{prefix}_delivered"),
    ]


class OutboxDelivery(TenantOwnedModel):
    """One subscriber's acknowledgement of one outbox row.

    Written by ``tenants.outbox.deliver`` in the same transaction as the subscriber's work; the
    UNIQUE (tenant, topic, event_id, subscriber) constraint is the claim, so two deliveries of one
    row can never both apply it. ``topic`` is the outbox table's model label
    (``monitoring.pipelineevent``).
    """

    topic = models.CharField(max_length=100)
    event_id = models.BigIntegerField()
    subscriber = models.CharField(max_length=100)
    processed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "outbox deliveries"
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "topic", "event_id", "subscriber"], name="outbox_delivery_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.topic} {self.event_id} → {self.subscriber}"
