"""Encryption at rest for stored secrets (webhook secrets now; channel URLs and bot tokens later).

What it guarantees:

* a value of an :class:`EncryptedTextField` is written to the database only as a Fernet token
  (AES-128-CBC with HMAC-SHA256) made with the **first** key of ``SIGAP_ENCRYPTION_KEYS``, and
  every key of the list decrypts (``cryptography``'s ``MultiFernet``), so keys can be rotated:
  put the new key first, run ``manage.py rotate_keys`` (re-encrypts every encrypted field of
  every model with the first key), then drop the old key;
* a stored value that no configured key decrypts raises :class:`DecryptionError` instead of
  being returned as if it were clear text;
* the decrypted value is a :class:`Secret`: an ordinary ``str`` whose ``repr`` is masked, so
  tracebacks, debug pages and logs that print objects do not show it;
* an encrypted column cannot be filtered on (every token differs), only ``isnull``.

Without ``SIGAP_ENCRYPTION_KEYS`` the settings derive a development key from ``SECRET_KEY``
when ``DEBUG`` is on (``config.settings.development_encryption_key``) and refuse to start
otherwise. Whether a secret is ever shown is the interfaces' business: REST shows a webhook
secret once (creation, rotation), GraphQL and the admin never.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.apps import apps
from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.db import models, transaction

__all__ = [
    "DecryptionError",
    "EncryptedTextField",
    "Secret",
    "decrypt",
    "encrypt",
    "encrypted_fields",
    "rotate_all",
]


class DecryptionError(Exception):
    """A stored value could not be decrypted with any key of ``SIGAP_ENCRYPTION_KEYS``."""


class Secret(str):
    """A decrypted secret: a ``str`` whose ``repr`` does not show it."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "Secret('********')"


@lru_cache(maxsize=8)
def _multi_fernet(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ImproperlyConfigured("SIGAP_ENCRYPTION_KEYS is empty.")
    try:
        return MultiFernet([Fernet(key) for key in keys])
    except (ValueError, TypeError):
        raise ImproperlyConfigured(
            "SIGAP_ENCRYPTION_KEYS must be comma-separated Fernet keys (32 url-safe base64 "
            "bytes each, e.g. from `python -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())'`)."
        ) from None


def _fernet() -> MultiFernet:
    return _multi_fernet(tuple(settings.SIGAP_ENCRYPTION_KEYS))


def check_keys(keys: Sequence[str]) -> None:
    """Raise ``ImproperlyConfigured`` unless ``keys`` is a usable non-empty key list."""
    _multi_fernet(tuple(keys))


def check_encryption_keys(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """System check (``manage.py check``, every start): the keys given must be usable. No keys
    at all is the start-up rule's to refuse (``config/startup.py``), so that commands that never
    read a secret (``score``) run without them."""
    if not settings.SIGAP_ENCRYPTION_KEYS:
        return []
    try:
        check_keys(settings.SIGAP_ENCRYPTION_KEYS)
    except ImproperlyConfigured as exc:
        return [checks.Error(str(exc), id="tenants.E001")]
    return []


def encrypt(value: str) -> str:
    """A Fernet token of ``value`` made with the first configured key."""
    return _fernet().encrypt(value.encode("utf-8")).decode("ascii")


def decrypt(token: str) -> Secret:
    """The clear text of a token made with any configured key."""
    try:
        return Secret(_fernet().decrypt(token.encode("ascii")).decode("utf-8"))
    except (InvalidToken, UnicodeError):
        raise DecryptionError(
            "A stored secret cannot be decrypted with any key of SIGAP_ENCRYPTION_KEYS."
        ) from None


class EncryptedTextField(models.TextField):  # type: ignore[type-arg]
    """Text stored encrypted with ``SIGAP_ENCRYPTION_KEYS`` (see the module docstring)."""

    description = "Text encrypted at rest"

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None:
            return None
        return encrypt(str(value))

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Secret | None:
        if value is None:
            return None
        return decrypt(value)

    def get_lookup(self, lookup_name: str) -> Any:
        # Tokens are randomised: comparing them with anything but NULL is meaningless.
        return super().get_lookup(lookup_name) if lookup_name == "isnull" else None


def encrypted_fields() -> Iterator[tuple[type[models.Model], EncryptedTextField]]:
    """Every concrete encrypted field of every installed model."""
    for model in apps.get_models():
        if model._meta.proxy or not model._meta.managed:
            continue
        for field in model._meta.concrete_fields:
            if isinstance(field, EncryptedTextField):
                yield model, field


def rotate_all(*, batch_size: int = 500) -> dict[str, int]:
    """Re-encrypt every value of every encrypted field with the first key; returns the number
    of rows rewritten per ``app_label.Model.field``. Rows are locked while rewritten, so a
    concurrent change (a secret rotation) is never overwritten with an older value. Tenant
    tables are rewritten tenant by tenant, every statement pinned to its tenant."""
    from tenants.dbtables import is_tenant_model
    from tenants.models import Tenant

    counts: dict[str, int] = {}
    for model, field in encrypted_fields():
        label = f"{model._meta.label}.{field.name}"
        counts[label] = 0
        if is_tenant_model(model):
            for tenant_id in Tenant.objects.order_by("pk").values_list("pk", flat=True):
                rows = model._base_manager.filter(tenant_id=tenant_id)
                counts[label] += _rotate(rows, field, batch_size)
        else:
            counts[label] += _rotate(model._base_manager.all(), field, batch_size)
    return counts


def _rotate(rows: models.QuerySet[Any], field: EncryptedTextField, batch_size: int) -> int:
    rewritten = 0
    pks = list(
        rows.filter(**{f"{field.attname}__isnull": False})
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    for start in range(0, len(pks), batch_size):
        with transaction.atomic():
            locked = (
                rows.select_for_update()
                .filter(pk__in=pks[start : start + batch_size])
                .values_list("pk", field.attname)
            )
            for pk, value in locked:
                if value is None:
                    continue
                rows.filter(pk=pk).update(**{field.attname: value})
                rewritten += 1
    return rewritten
