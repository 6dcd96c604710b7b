"""Stored secrets: encrypted at rest with SIGAP_ENCRYPTION_KEYS (first key encrypts, every key
decrypts), write-only in every interface, masked in reprs, re-encrypted by ``rotate_keys``, and
the signed webhook keeps working with the decrypted secret."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet, InvalidToken
from django.apps import apps
from django.conf import settings as django_settings
from django.core.management import call_command
from django.db import connection
from django.test import Client

from monitoring.models import Source
from tenants import crypto
from tests.factories import UserFactory
from tests.monitoring.test_pipeline import item
from tests.webhooks import post_hook

KEY_A = Fernet.generate_key().decode()
KEY_B = Fernet.generate_key().decode()


ONE_ITEM = json.dumps([item(1)]).encode()


def raw_secret(source: Source) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT webhook_secret FROM monitoring_source WHERE id = %s", [source.pk])
        return str(cursor.fetchone()[0])


def test_webhook_secret_is_stored_encrypted_and_shown_once(
    api: Any, tenant: Any, members: dict[str, Any], client: Client
) -> None:
    admin = api(members["admin"])
    created = admin.post(
        f"/api/v1/tenants/{tenant.slug}/sources/",
        {"name": "Mitra", "kind": "webhook"},
        format="json",
    )
    assert created.status_code == 201
    secret = created.json()["webhook_secret"]
    source = Source.objects.get(pk=created.json()["id"])
    stored = raw_secret(source)
    assert secret not in stored and stored.startswith("gAAAA")  # a Fernet token
    assert Fernet(django_settings.SIGAP_ENCRYPTION_KEYS[0]).decrypt(stored.encode()).decode() == (
        secret
    )
    assert source.webhook_secret == secret
    # never readable afterwards, in any interface
    detail = admin.get(f"/api/v1/tenants/{tenant.slug}/sources/{source.pk}/")
    listed = admin.get(f"/api/v1/tenants/{tenant.slug}/sources/")
    assert secret not in detail.content.decode() and secret not in listed.content.decode()
    staff = Client()
    staff.force_login(UserFactory(agency=tenant.agency, is_agency_admin=True, is_staff=True))
    page = staff.get(f"/admin/monitoring/source/{source.pk}/change/")
    assert page.status_code == 200 and secret not in page.content.decode()
    assert stored not in page.content.decode()
    # the webhook checks signatures with the decrypted secret
    assert (
        post_hook(
            client, source, json.dumps([item(1)]).encode(), secret=secret, delivery="d-1"
        ).status_code
        == 202
    )
    assert (
        post_hook(
            client, source, json.dumps([item(1)]).encode(), secret="wrong-secret", delivery="d-2"
        ).status_code
        == 401
    )


def test_graphql_has_no_secret_field(gql: Any, tenant: Any, members: dict[str, Any]) -> None:
    Source.objects.create(tenant=tenant, kind="webhook", name="Mitra")
    body = gql(
        "query($slug: String!) { sources(slug: $slug) { webhook_secret } }",
        members["admin"],
        {"slug": tenant.slug},
    )
    assert body.get("errors") and "webhook_secret" in body["errors"][0]["message"]


def test_rotated_secret_is_encrypted_too(api: Any, tenant: Any, members: dict[str, Any]) -> None:
    source = Source.objects.create(tenant=tenant, kind="webhook", name="Mitra")
    rotated = api(members["admin"]).post(
        f"/api/v1/tenants/{tenant.slug}/sources/{source.pk}/rotate-secret/"
    )
    secret = rotated.json()["webhook_secret"]
    assert secret not in raw_secret(source)
    source.refresh_from_db()
    assert source.webhook_secret == secret


def test_secret_repr_is_masked(tenant: Any) -> None:
    source = Source.objects.create(tenant=tenant, kind="webhook", name="Mitra")
    source.refresh_from_db()
    assert isinstance(source.webhook_secret, crypto.Secret)
    assert source.webhook_secret not in repr(source.webhook_secret)
    assert source.webhook_secret not in repr(Source.objects.values("webhook_secret").first())


def test_rotate_keys_moves_every_secret_to_the_first_key(
    tenant: Any, settings: Any, client: Client
) -> None:
    settings.SIGAP_ENCRYPTION_KEYS = [KEY_B]
    source = Source.objects.create(tenant=tenant, kind="webhook", name="Mitra")
    secret = str(source.webhook_secret)
    with pytest.raises(InvalidToken):
        Fernet(KEY_A).decrypt(raw_secret(source).encode())

    settings.SIGAP_ENCRYPTION_KEYS = [KEY_A, KEY_B]  # new key first, old still decrypts
    source.refresh_from_db()
    assert source.webhook_secret == secret
    call_command("rotate_keys", stdout=open(os.devnull, "w"))  # noqa: SIM115

    settings.SIGAP_ENCRYPTION_KEYS = [KEY_A]  # the old key is gone
    assert Fernet(KEY_A).decrypt(raw_secret(source).encode()).decode() == secret
    source.refresh_from_db()
    assert source.webhook_secret == secret
    assert (
        post_hook(
            client, source, json.dumps([item(1)]).encode(), secret=secret, delivery="after-rotation"
        ).status_code
        == 202
    )


def test_a_secret_no_key_decrypts_is_an_error_not_clear_text(tenant: Any, settings: Any) -> None:
    settings.SIGAP_ENCRYPTION_KEYS = [KEY_B]
    source = Source.objects.create(tenant=tenant, kind="webhook", name="Mitra")
    settings.SIGAP_ENCRYPTION_KEYS = [KEY_A]
    with pytest.raises(crypto.DecryptionError):
        source.refresh_from_db()


def test_every_encrypted_field_is_known_to_rotation() -> None:
    assert ("monitoring.Source", "webhook_secret") in {
        (model._meta.label, field.name) for model, field in crypto.encrypted_fields()
    }


def test_the_data_migration_encrypts_clear_text_secrets(tenant: Any) -> None:
    from importlib import import_module

    migration = import_module("monitoring.migrations.0004_encrypt_webhook_secret")
    source = Source.objects.create(tenant=tenant, kind="webhook", name="Lama")
    with connection.cursor() as cursor:  # as it was stored before the migration
        cursor.execute(
            "UPDATE monitoring_source SET webhook_secret = %s WHERE id = %s",
            ["clear-text-secret", source.pk],
        )
    with connection.schema_editor() as editor:
        migration.encrypt_secrets(apps, editor)
    stored = raw_secret(source)
    assert "clear-text-secret" not in stored
    source.refresh_from_db()
    assert source.webhook_secret == "clear-text-secret"
    with connection.schema_editor() as editor:
        migration.encrypt_secrets(apps, editor)  # idempotent: a token is left alone
    assert raw_secret(source) == stored
    with connection.schema_editor() as editor:
        migration.decrypt_secrets(apps, editor)
    assert raw_secret(source) == "clear-text-secret"


def test_encrypted_columns_cannot_be_filtered_on(tenant: Any) -> None:
    from django.core.exceptions import FieldError

    with pytest.raises(FieldError):
        list(Source.objects.filter(webhook_secret="x"))


def _settings_import(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SIGAP_", "DEBUG"))}
    clean.update(env)
    return subprocess.run(
        [sys.executable, "-c", "import config.settings as s; print(s.SIGAP_ENCRYPTION_KEYS[0])"],
        env=clean,
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_keys_are_required_without_debug_and_derived_in_debug() -> None:
    root = Path(__file__).resolve().parents[2]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SIGAP_", "DEBUG"))}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.update({"SECRET_KEY": "prod-secret", "DEBUG": "0"})
    production = subprocess.run(
        [sys.executable, "manage.py", "qcluster"],
        env=env,
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert production.returncode != 0
    assert "SIGAP_ENCRYPTION_KEYS must be set" in production.stderr
    first = _settings_import({"SECRET_KEY": "dev-secret", "DEBUG": "1"})
    again = _settings_import({"SECRET_KEY": "dev-secret", "DEBUG": "1"})
    other = _settings_import({"SECRET_KEY": "other-secret", "DEBUG": "1"})
    assert first.returncode == 0, first.stderr
    assert first.stdout == again.stdout != other.stdout
    Fernet(first.stdout.strip())  # a valid key
    given = _settings_import({"SECRET_KEY": "prod-secret", "SIGAP_ENCRYPTION_KEYS": KEY_A})
    assert given.stdout.strip() == KEY_A


def test_bad_keys_fail_the_system_check(settings: Any) -> None:
    settings.SIGAP_ENCRYPTION_KEYS = ["not-a-fernet-key"]
    errors = crypto.check_encryption_keys()
    assert errors and errors[0].id == "tenants.E001"
    settings.SIGAP_ENCRYPTION_KEYS = [KEY_A, KEY_B]
    assert crypto.check_encryption_keys() == []
