"""Agencies, tenants, users, memberships and credentials.

``TenantOwnedModel`` is the base of every row of client data in every app: it carries an indexed
``tenant`` foreign key (ready for PostgreSQL row-level security keyed on ``tenant_id``) and the
``TenantQuerySet.for_tenant`` scope that the REST, GraphQL and admin layers all go through.
"""

from __future__ import annotations

import zoneinfo
from typing import Any, ClassVar

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone
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


class Tenant(models.Model):
    """A client brand's workspace. Every row of client data belongs to exactly one tenant."""

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
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE


class TenantQuerySet(models.QuerySet):
    def for_tenant(self, tenant: Tenant | int) -> TenantQuerySet:
        tenant_id = tenant.pk if isinstance(tenant, Tenant) else tenant
        return self.filter(tenant_id=tenant_id)


class TenantOwnedModel(models.Model):
    """Abstract base for every tenant's row. Query it through ``for_tenant``."""

    tenant = models.ForeignKey(
        Tenant, on_delete=models.CASCADE, related_name="%(class)ss", db_index=True
    )

    objects: ClassVar[Any] = TenantQuerySet.as_manager()

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

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        ordering = ["email"]

    def __str__(self) -> str:
        return self.email

    def clean(self) -> None:
        super().clean()
        self.email = self.__class__.objects.normalize_email(self.email).lower()
        if self.is_agency_admin and self.agency_id is None:
            raise ValidationError({"is_agency_admin": "Only agency staff can be agency admins."})


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


class PersonalTokenManager(APIKeyManager):
    def get_usable_keys(self) -> models.QuerySet[Any]:
        # Authentication needs the owner too: one query, not two.
        return super().get_usable_keys().select_related("user")


class TenantApiKeyManager(APIKeyManager):
    def get_usable_keys(self) -> models.QuerySet[Any]:
        return super().get_usable_keys().select_related("tenant")


class PersonalToken(AbstractAPIKey):
    """A user's personal API token, sent as ``Authorization: Bearer <token>``. Stored hashed."""

    objects: ClassVar[PersonalTokenManager] = PersonalTokenManager()  # type: ignore[assignment]

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta(AbstractAPIKey.Meta):
        verbose_name = "personal API token"
        verbose_name_plural = "personal API tokens"


class TenantApiKey(AbstractAPIKey):
    """A tenant's machine key for ingestion, sent as ``Authorization: Api-Key <key>``."""

    objects: ClassVar[TenantApiKeyManager] = TenantApiKeyManager()  # type: ignore[assignment]

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="api_keys")
    created_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta(AbstractAPIKey.Meta):
        verbose_name = "tenant API key"
        verbose_name_plural = "tenant API keys"


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
