"""Agencies, tenants, users, memberships and credentials.

``TenantOwnedModel`` is the base of every row of client data in every app: it carries an indexed
``tenant`` foreign key (ready for PostgreSQL row-level security keyed on ``tenant_id``) and the
``TenantQuerySet.for_tenant`` scope that the REST, GraphQL and admin layers all go through.

Tenant-pinned writes: every statement Django sends for a tenant row names its tenant, as a
database sharded by tenant (Citus) needs and as ``tests/sqlpin.py`` checks. ``save()`` updates
``WHERE tenant_id = ... AND id = ...`` and ``refresh_from_db()`` reads the same way (so the
tenant of a row never changes: a save that changed it matches no row); ``delete()`` on a row or a
``TenantQuerySet`` (and on tenants) goes through ``TenantCollector``, which pins every cascade
and every DELETE or UPDATE it sends to the tenants of the rows it deletes.

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
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from operator import attrgetter
from typing import Any, ClassVar, Self, TypeVar

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models, router, transaction
from django.db.models import QuerySet, signals, sql
from django.db.models.deletion import Collector
from django.db.models.sql.constants import GET_ITERATOR_CHUNK_SIZE
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework_api_key.crypto import KeyGenerator
from rest_framework_api_key.models import AbstractAPIKey, APIKeyManager

from tenants.roles import Role

slug_validator = RegexValidator(
    r"^[a-z0-9](?:[a-z0-9-]{0,48}[a-z0-9])?$",
    _("Use 1-50 lowercase letters, digits and inner hyphens."),
    code="invalid_slug",
)


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(
            _("'%(value)s' is not a known IANA time zone (e.g. Asia/Jakarta)."),
            code="invalid_time_zone",
            params={"value": value},
        )


class Agency(models.Model):
    """The customer account: a digital agency that serves many client brands."""

    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=50, unique=True, validators=[slug_validator])
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("agency")
        verbose_name_plural = _("agencies")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


# Retention defaults (docs/data-lifecycle.md): about 13 months of mentions, a month of raw JSON.
DEFAULT_MENTION_RETENTION_DAYS = 400
DEFAULT_RAW_PAYLOAD_RETENTION_DAYS = 30
MAX_RETENTION_DAYS = 36_500


def _is_tenant_model(model: type[models.Model]) -> bool:
    from tenants.dbtables import is_tenant_model

    return is_tenant_model(model)


def _tenant_ids(objs: Iterable[Any]) -> set[int] | None:
    """The tenants of rows about to be deleted: their ``tenant_id`` (a tenant's own id for
    tenants); None when any of them is a shared row without a tenant (a user)."""
    ids: set[int] = set()
    for obj in objs:
        if isinstance(obj, Tenant):
            ids.add(obj.pk)
        elif isinstance(getattr(obj, "tenant_id", None), int):
            ids.add(obj.tenant_id)
        else:
            return None
    return ids


def _pin(rows: QuerySet[Any], tenant_ids: Iterable[int]) -> QuerySet[Any]:
    ids = sorted(tenant_ids)
    return rows.filter(tenant_id=ids[0]) if len(ids) == 1 else rows.filter(tenant_id__in=ids)


def _by_tenant(objs: Iterable[Any]) -> dict[int, list[Any]]:
    groups: dict[int, list[Any]] = defaultdict(list)
    for obj in objs:
        groups[obj.tenant_id].append(obj.pk)
    return groups


class _RelatedTenantRows(models.QuerySet[Any]):
    """Related rows of a tenant table as the collector reads them: it may defer the columns it
    does not need (``Collector.collect`` calls ``only``), but never ``tenant_id``, which pins
    the next level of the cascade (a review's lessons) and the final statements."""

    def only(self, *fields: Any) -> Self:
        return super().only(*fields, "tenant_id")


class TenantCollector(Collector):
    """Django's deletion collector with every statement on a tenant table pinned to a tenant.

    Related rows of a tenant table are looked up (and cascaded, set null, fast-deleted) with the
    tenants of the rows being deleted; the final DELETE and UPDATE statements name the tenant
    beside the ids. A cascade from a shared row (deleting a user clears the mentions assigned to
    it) cannot name one tenant and stays as Django sends it. ``delete`` follows Django 5.2's
    ``Collector.delete`` step for step; only the statements differ.
    """

    def related_objects(
        self, related_model: type[models.Model], related_fields: Any, objs: Any
    ) -> QuerySet[Any]:
        rows: QuerySet[Any] = super().related_objects(
            related_model,
            related_fields,
            objs,
        )
        tenant_ids = _tenant_ids(objs) if _is_tenant_model(related_model) else None
        if not tenant_ids:
            return rows
        pinned = _pin(rows, tenant_ids)
        return _RelatedTenantRows(model=related_model, query=pinned.query, using=pinned.db)

    def _delete_rows(self, model: type[models.Model], instances: Sequence[Any]) -> int:
        if not _is_tenant_model(model):
            count: int = sql.DeleteQuery(model).delete_batch(
                [obj.pk for obj in instances], self.using
            )
            return count
        deleted = 0
        for tenant_id, pks in sorted(_by_tenant(instances).items()):
            query = sql.DeleteQuery(model)
            for start in range(0, len(pks), GET_ITERATOR_CHUNK_SIZE):
                query.clear_where()
                chunk = pks[start : start + GET_ITERATOR_CHUNK_SIZE]
                query.add_q(models.Q(tenant_id=tenant_id, pk__in=chunk))
                deleted += query.do_query(model._meta.db_table, query.where, using=self.using)
        return deleted

    def _update_rows(self, objs: Sequence[Any], values: dict[str, Any]) -> None:
        model = type(objs[0])
        if not _is_tenant_model(model):
            query = sql.UpdateQuery(model)
            query.update_batch(list({obj.pk for obj in objs}), values, self.using)
            return
        for tenant_id, pks in sorted(_by_tenant(objs).items()):
            model._base_manager.using(self.using).filter(
                tenant_id=tenant_id, pk__in=sorted(set(pks))
            ).update(**values)

    def delete(self) -> tuple[int, dict[str, int]]:
        for model, instances in self.data.items():
            self.data[model] = sorted(instances, key=attrgetter("pk"))
        self.sort()
        deleted_counter: Counter[str] = Counter()

        # One row without dependencies: Django's shortcut, pinned.
        if len(self.data) == 1:
            (only_model, only_rows), *_ = self.data.items()
            if len(only_rows) == 1:
                instance = next(iter(only_rows))
                if self.can_fast_delete(instance):
                    with transaction.mark_for_rollback_on_error(self.using):
                        count = self._delete_rows(only_model, [instance])
                    setattr(instance, instance._meta.pk.attname, None)
                    return count, {only_model._meta.label: count}

        with transaction.atomic(using=self.using, savepoint=False):
            for model, obj in self.instances_with_model():
                if not model._meta.auto_created:
                    signals.pre_delete.send(
                        sender=model, instance=obj, using=self.using, origin=self.origin
                    )
            for rows in self.fast_deletes:
                count = rows._raw_delete(using=self.using)
                if count:
                    deleted_counter[rows.model._meta.label] += count
            for (field, value), instances_list in self.field_updates.items():
                objs: list[Any] = []
                for batch in instances_list:
                    if isinstance(batch, models.QuerySet) and batch._result_cache is None:
                        # One UPDATE per pinned queryset (Django ORs them into one, which
                        # would lose the tenant condition under the OR).
                        batch.update(**{field.name: value})
                    else:
                        objs.extend(batch)  # type: ignore[arg-type]  # rows, as in Django
                if objs:
                    self._update_rows(objs, {field.name: value})
            for instances in self.data.values():
                instances.reverse()  # type: ignore[union-attr]  # lists here, as in Django
            for model, instances in self.data.items():
                count = self._delete_rows(model, list(instances))
                if count:
                    deleted_counter[model._meta.label] += count
                if not model._meta.auto_created:
                    for obj in instances:
                        signals.post_delete.send(
                            sender=model, instance=obj, using=self.using, origin=self.origin
                        )
        for model, instances in self.data.items():
            for instance in instances:
                setattr(instance, model._meta.pk.attname, None)
        return sum(deleted_counter.values()), dict(deleted_counter)


def delete_pinned(rows: QuerySet[Any]) -> tuple[int, dict[str, int]]:
    """``QuerySet.delete()`` through ``TenantCollector`` (Django 5.2's steps)."""
    rows._not_support_combined_queries("delete")  # type: ignore[attr-defined]
    if rows.query.is_sliced:
        raise TypeError("Cannot use 'limit' or 'offset' with delete().")
    if rows.query.distinct_fields:
        raise TypeError("Cannot call delete() after .distinct(*fields).")
    if rows._fields is not None:  # type: ignore[attr-defined]
        raise TypeError("Cannot call delete() after .values() or .values_list()")
    del_query = rows._chain()  # type: ignore[attr-defined]
    del_query._for_write = True
    del_query.query.select_for_update = False
    del_query.query.select_related = False
    del_query.query.clear_ordering(force=True)
    collector = TenantCollector(using=del_query.db, origin=rows)
    collector.collect(del_query)
    result = collector.delete()
    rows._result_cache = None
    return result


def _delete_instance(
    instance: models.Model, using: str | None, keep_parents: bool
) -> tuple[int, dict[str, int]]:
    """``Model.delete()`` through ``TenantCollector``."""
    if instance.pk is None:
        raise ValueError(
            f"{instance._meta.object_name} object can't be deleted because its "
            f"{instance._meta.pk.attname} attribute is set to None."
        )
    using = using or router.db_for_write(type(instance), instance=instance)
    collector = TenantCollector(using=using, origin=instance)
    collector.collect([instance], keep_parents=keep_parents)
    return collector.delete()


class TenantRowsQuerySet(models.QuerySet["Tenant"]):
    """Tenants: deleting them pins every cascade to the deleted tenants."""

    def delete(self) -> tuple[int, dict[str, int]]:
        return delete_pinned(self)

    delete.alters_data = True  # type: ignore[attr-defined]
    delete.queryset_only = True  # type: ignore[attr-defined]


class Tenant(models.Model):
    """A client brand's workspace. Every row of client data belongs to exactly one tenant.

    ``mention_retention_days`` and ``raw_payload_retention_days`` say how long its personal data
    is kept; ``monitoring.retention`` applies them daily."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        SUSPENDED = "suspended", _("Suspended")

    class Language(models.TextChoices):
        INDONESIAN = "id", _("Indonesian")
        ENGLISH = "en", _("English")

    agency = models.ForeignKey(
        Agency, on_delete=models.PROTECT, related_name="tenants", verbose_name=_("agency")
    )
    slug = models.SlugField(
        _("slug"),
        max_length=50,
        unique=True,
        validators=[slug_validator],
        help_text=_("URL name of the workspace, unique across Sigap."),
    )
    name = models.CharField(
        _("name"), max_length=200, help_text=_("Display name of the client brand.")
    )
    time_zone = models.CharField(
        _("time zone"),
        max_length=64,
        default="Asia/Jakarta",
        validators=[validate_time_zone],
        help_text=_(
            "IANA time zone of the tenant's reports, buckets, admin pages and e-mails: "
            "Asia/Jakarta (WIB), Asia/Makassar (WITA) or Asia/Jayapura (WIT)."
        ),
    )
    default_language = models.CharField(
        _("default language"),
        max_length=2,
        choices=Language.choices,
        default=Language.INDONESIAN,
        help_text=_("Language of members who have not chosen one, and of e-mails to them."),
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.ACTIVE
    )
    mention_retention_days = models.PositiveIntegerField(
        _("mention retention (days)"),
        null=True,
        blank=True,
        default=DEFAULT_MENTION_RETENTION_DAYS,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_RETENTION_DAYS)],
        help_text=_(
            "Mentions published longer ago than this are deleted daily (their rollups "
            "stay). Empty: kept until the tenant is deleted."
        ),
    )
    raw_payload_retention_days = models.PositiveIntegerField(
        _("raw payload retention (days)"),
        null=True,
        blank=True,
        default=DEFAULT_RAW_PAYLOAD_RETENTION_DAYS,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_RETENTION_DAYS)],
        help_text=_(
            "The raw JSON stored with a mention (and the items of an unfinished ingest "
            "chunk) is cleared after this many days. Empty: kept as long as the mention."
        ),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = models.Manager.from_queryset(TenantRowsQuerySet)()

    class Meta:
        verbose_name = _("tenant")
        verbose_name_plural = _("tenants")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE

    def delete(
        self, using: str | None = None, keep_parents: bool = False
    ) -> tuple[int, dict[str, int]]:
        return _delete_instance(self, using, keep_parents)


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

    def tenant_ids(self) -> list[int]:
        """The tenants that have rows in this queryset, in order: how a sweep across tenants
        (outbox, pruning) chooses the tenants to work on before it works pinned to each. An
        unlocked read; the one unpinned read such sweeps make (``tests/sqlpin_allow.py``)."""
        return list(self.order_by("tenant_id").values_list("tenant_id", flat=True).distinct())

    def delete(self) -> tuple[int, dict[str, int]]:
        """Django's ``delete()`` with every statement pinned to a tenant (``TenantCollector``)."""
        return delete_pinned(self)

    delete.alters_data = True  # type: ignore[attr-defined]
    delete.queryset_only = True  # type: ignore[attr-defined]


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
    """Abstract base for every tenant's row. Query it through ``for_tenant``.

    ``save()``, ``refresh_from_db()`` and ``delete()`` name the row's tenant in their SQL (see
    the module docstring)."""

    tenant = models.ForeignKey(
        Tenant, on_delete=models.CASCADE, related_name="%(class)ss", db_index=True
    )

    objects: ClassVar[TenantManager[Self]] = TenantManager()

    class Meta:
        abstract = True

    def _do_update(self, base_qs: Any, *args: Any, **kwargs: Any) -> Any:
        # UPDATE ... WHERE tenant_id = %s AND id = %s; Django adds the id.
        return super()._do_update(base_qs.filter(tenant_id=self.tenant_id), *args, **kwargs)

    def refresh_from_db(
        self,
        using: str | None = None,
        fields: Iterable[str] | None = None,
        from_queryset: QuerySet[Any] | None = None,
    ) -> None:
        # Read the attribute without loading it: when ``tenant_id`` itself is deferred (the
        # deletion collector fetches rows with only their keys), reading it would call this
        # method again, without end.
        tenant_id = self.__dict__.get("tenant_id")
        if from_queryset is None and tenant_id is not None:
            from_queryset = type(self)._base_manager.filter(tenant_id=tenant_id)
        super().refresh_from_db(using=using, fields=fields, from_queryset=from_queryset)

    def delete(
        self, using: str | None = None, keep_parents: bool = False
    ) -> tuple[int, dict[str, int]]:
        return _delete_instance(self, using, keep_parents)


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

    email = models.EmailField(_("e-mail address"), unique=True, max_length=254)
    full_name = models.CharField(_("full name"), max_length=200, blank=True)
    agency = models.ForeignKey(
        Agency,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="staff",
        verbose_name=_("agency"),
    )
    is_agency_admin = models.BooleanField(
        _("agency admin"), default=False, help_text=_("Administers every tenant of the agency.")
    )
    is_staff = models.BooleanField(
        _("staff"), default=False, help_text=_("May sign in to the admin site.")
    )
    is_active = models.BooleanField(_("active"), default=True)
    language = models.CharField(
        _("language"),
        max_length=2,
        blank=True,
        default="",
        choices=Tenant.Language.choices,
        help_text=_("Language of the admin, e-mails and error messages. Empty: the tenant's."),
    )
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)
    password_changed_at = models.DateTimeField(
        _("password changed at"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("When the password was last changed (the audit log records each change)."),
    )

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
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
            raise ValidationError({"is_agency_admin": _("Only agency staff can be agency admins.")})

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

    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("user")
    )
    role = models.CharField(_("role"), max_length=16, choices=Role.choices)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
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

    email = models.EmailField(_("e-mail address"), max_length=254)
    role = models.CharField(_("role"), max_length=16, choices=Role.choices)
    full_name = models.CharField(
        _("full name"),
        max_length=200,
        blank=True,
        help_text=_("For a new account; an existing one keeps its own."),
    )
    invited_by = models.ForeignKey(
        User,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("invited by"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        ACCEPTED = "accepted", _("Accepted")
        EXPIRED = "expired", _("Expired")

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
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

    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="api_tokens", verbose_name=_("user")
    )
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)

    class Meta(AbstractAPIKey.Meta):
        verbose_name = _("personal API token")  # type: ignore[assignment]
        verbose_name_plural = _("personal API tokens")  # type: ignore[assignment]


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

    tenant = models.ForeignKey(
        Tenant, on_delete=models.CASCADE, related_name="api_keys", verbose_name=_("tenant")
    )
    created_by = models.ForeignKey(
        User,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("created by"),
    )
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)

    class Meta(AbstractAPIKey.Meta):
        verbose_name = _("tenant API key")  # type: ignore[assignment]
        verbose_name_plural = _("tenant API keys")  # type: ignore[assignment]

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

    # How much work one row is for a batch subscriber (``register_subscriber(batch_weight=...)``):
    # an SQL expression over the row's columns (alias ``e``), constant here.
    outbox_weight: ClassVar[str] = "1"

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


# Notification channels, the delivery log, the on-call rota, quiet hours and action links
# (``tenants.notify``), defined in their own module and registered with this app.
from tenants.notify.models import ActionLink as ActionLink  # noqa: E402
from tenants.notify.models import Channel as Channel  # noqa: E402
from tenants.notify.models import Delivery as Delivery  # noqa: E402
from tenants.notify.models import OnCallShift as OnCallShift  # noqa: E402
from tenants.notify.models import QuietHours as QuietHours  # noqa: E402
