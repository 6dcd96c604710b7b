"""``ENGINE = "tenants.db"``: PostgreSQL (psycopg 3) with the tenant-key schema editor."""

from __future__ import annotations

from django.db.backends.postgresql import base

from tenants.db.schema import TenantKeySchemaEditor


class DatabaseWrapper(base.DatabaseWrapper):
    SchemaEditorClass = TenantKeySchemaEditor
