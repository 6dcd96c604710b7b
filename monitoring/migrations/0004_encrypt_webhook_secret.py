"""Webhook secrets encrypted at rest (tenants.crypto): the column becomes text, then every
stored clear-text secret is replaced by its Fernet token made with the first key of
SIGAP_ENCRYPTION_KEYS. Reversible: going back decrypts them again.

The data step works on raw SQL: the historical model's field would try to decrypt clear text.
"""

from django.db import migrations

import monitoring.models
import tenants.crypto


def _rewrite(apps, schema_editor, convert):
    Source = apps.get_model("monitoring", "Source")
    connection = schema_editor.connection
    table = connection.ops.quote_name(Source._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id, webhook_secret FROM {table} WHERE webhook_secret IS NOT NULL")  # noqa: S608
        rows = cursor.fetchall()
        for pk, value in rows:
            new = convert(value)
            if new is not None:
                cursor.execute(
                    f"UPDATE {table} SET webhook_secret = %s WHERE id = %s", [new, pk]  # noqa: S608
                )


def _encrypt(value):
    try:
        tenants.crypto.decrypt(value)
    except tenants.crypto.DecryptionError:
        return tenants.crypto.encrypt(value)
    return None  # already a token of a configured key


def _decrypt(value):
    try:
        return str(tenants.crypto.decrypt(value))
    except tenants.crypto.DecryptionError:
        return None  # clear text already


def encrypt_secrets(apps, schema_editor):
    _rewrite(apps, schema_editor, _encrypt)


def decrypt_secrets(apps, schema_editor):
    _rewrite(apps, schema_editor, _decrypt)


class Migration(migrations.Migration):

    dependencies = [
        ("monitoring", "0003_query_syntax_validator"),
    ]

    operations = [
        migrations.AlterField(
            model_name="source",
            name="webhook_secret",
            field=tenants.crypto.EncryptedTextField(
                default=monitoring.models.new_webhook_secret,
                editable=False,
                help_text="Shared HMAC secret of a signed webhook, encrypted at rest "
                "(tenants.crypto); shown once, at creation and rotation.",
            ),
        ),
        migrations.RunPython(encrypt_secrets, decrypt_secrets),
    ]
