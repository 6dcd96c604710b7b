"""The tenant in every key, checked: on the real database (one catalog query) and on the models.

``catalog_problems`` runs ``SHAPE_SQL`` over ``pg_constraint`` and ``pg_index`` for the tenant
tables of ``tenants.dbtables`` and lists

- every tenant table whose primary key is not ``(tenant_id, <pk>)``;
- every UNIQUE constraint or unique index on a tenant table whose key columns lack
  ``tenant_id`` (partial and expression indexes included);
- every foreign key that references a tenant table without pairing ``tenant_id`` with
  ``tenant_id``.

``manage.py check_db_shape`` prints that list and exits 1 when it is not empty;
``tests/tenants/test_dbshape.py`` runs it on the migrated test database, so CI fails on a table
that lacks the tenant in a key. ``check_models`` is the same rule on the models, registered as a
system check (``manage.py check``, so ``make lint``): it catches a bad model before any
migration is written. The schema editor (``tenants.db``) builds the keys; this module only
reports.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.core import checks
from django.db import connections, models

from tenants.dbtables import TENANT_COLUMN, TENANT_FIELD, is_tenant_model, tenant_models

SHAPE_SQL = """
WITH tenant_table AS (
    SELECT c.oid, c.relname::text AS name, expected.pk
    FROM unnest(%(tables)s::text[], %(pks)s::text[]) AS expected(name, pk)
    JOIN pg_class c ON c.relname = expected.name AND c.relkind IN ('r', 'p')
    WHERE pg_table_is_visible(c.oid)
)
SELECT table_name, problem, name, detail FROM (
    -- 1. The primary key is (tenant_id, <pk>).
    SELECT t.name AS table_name, 'primary key' AS problem, coalesce(pk.conname::text, '-') AS name,
           'is ' || coalesce('(' || array_to_string(pk.cols, ', ') || ')', 'missing')
           || ', must be (' || %(tenant)s || ', ' || t.pk || ')' AS detail
    FROM tenant_table t
    LEFT JOIN LATERAL (
        SELECT con.conname, array_agg(a.attname::text ORDER BY k.ord) AS cols
        FROM pg_constraint con
        CROSS JOIN LATERAL unnest(con.conkey) WITH ORDINALITY AS k(attnum, ord)
        JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum
        WHERE con.conrelid = t.oid AND con.contype = 'p'
        GROUP BY con.conname
    ) pk ON true
    WHERE pk.cols IS DISTINCT FROM ARRAY[%(tenant)s, t.pk]
    UNION ALL
    -- 2. Every other unique index (UNIQUE constraints have one) has tenant_id among its key
    --    columns.
    SELECT t.name, 'unique', ic.relname::text, pg_get_indexdef(i.indexrelid)
    FROM tenant_table t
    JOIN pg_index i ON i.indrelid = t.oid AND i.indisunique AND NOT i.indisprimary
    JOIN pg_class ic ON ic.oid = i.indexrelid
    WHERE NOT EXISTS (
        SELECT 1
        FROM unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
        JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
        WHERE k.ord <= i.indnkeyatts AND a.attname = %(tenant)s
    )
    UNION ALL
    -- 3. Every foreign key to a tenant table pairs tenant_id with tenant_id.
    SELECT src.relname::text, 'foreign key', con.conname::text, pg_get_constraintdef(con.oid)
    FROM pg_constraint con
    JOIN tenant_table dst ON dst.oid = con.confrelid
    JOIN pg_class src ON src.oid = con.conrelid
    WHERE con.contype = 'f' AND NOT EXISTS (
        SELECT 1
        FROM unnest(con.conkey, con.confkey) AS k(src_att, dst_att)
        JOIN pg_attribute sa ON sa.attrelid = con.conrelid AND sa.attnum = k.src_att
        JOIN pg_attribute da ON da.attrelid = con.confrelid AND da.attnum = k.dst_att
        WHERE sa.attname = %(tenant)s AND da.attname = %(tenant)s
    )
) AS problems
ORDER BY table_name, problem, name
"""


@dataclass(frozen=True)
class Problem:
    """One key of a tenant table that lacks ``tenant_id``."""

    table: str
    kind: str  # "primary key", "unique" or "foreign key"
    name: str
    detail: str

    def __str__(self) -> str:
        return f"{self.table}: {self.kind} {self.name}: {self.detail}"


def expected_keys(extra: Iterable[tuple[str, str]] = ()) -> dict[str, str]:
    """Tenant table name -> its primary-key column (``id``), plus ``extra`` pairs."""
    keys = {m._meta.db_table: str(m._meta.pk.column) for m in tenant_models()}
    keys.update(extra)
    return keys


def catalog_problems(
    using: str = "default", *, extra: Iterable[tuple[str, str]] = ()
) -> list[Problem]:
    """Every key of a tenant table that lacks ``tenant_id``, read from the database catalog.
    ``extra``: more (table, primary-key column) pairs to treat as tenant tables."""
    keys = expected_keys(extra)
    with connections[using].cursor() as cursor:
        cursor.execute(
            SHAPE_SQL,
            {"tables": list(keys), "pks": list(keys.values()), "tenant": TENANT_COLUMN},
        )
        return [Problem(*row) for row in cursor.fetchall()]


# --- the same rules on the models (a system check) ---------------------------------------------


def _names_tenant(constraint: models.UniqueConstraint) -> bool:
    if TENANT_FIELD in constraint.fields or TENANT_COLUMN in constraint.fields:
        return True
    for expression in constraint.expressions:
        nodes = expression.flatten() if hasattr(expression, "flatten") else [expression]
        for node in nodes:
            if isinstance(node, models.F) and getattr(node, "name", None) in (
                TENANT_FIELD,
                TENANT_COLUMN,
            ):
                return True
    return False


def model_problems(model: type[models.Model]) -> list[checks.CheckMessage]:
    """What keeps ``model`` from the tenant-key shape, as system-check errors."""
    meta = model._meta
    errors: list[checks.CheckMessage] = []
    if not is_tenant_model(model):
        for field in meta.local_concrete_fields:
            target = getattr(field, "related_model", None)
            if (
                target is not None
                and getattr(field, "db_constraint", False)
                and not isinstance(target, str)
                and is_tenant_model(target)
            ):
                errors.append(
                    checks.Error(
                        f"{meta.label}.{field.name} references the tenant table of "
                        f"{target._meta.label}, but {meta.label} has no tenant key.",
                        hint="A foreign key to a tenant table is (tenant_id, x_id): subclass "
                        "TenantOwnedModel (for a many-to-many field: an explicit through model "
                        "that does), or set db_constraint=False.",
                        obj=model,
                        id="tenants.E010",
                    )
                )
        return errors
    if meta.parents:
        errors.append(
            checks.Error(
                f"{meta.label} inherits the table of {next(iter(meta.parents))._meta.label}: a "
                "tenant table's child table would have no tenant_id for its keys.",
                hint="Use an abstract base model instead of multi-table inheritance.",
                obj=model,
                id="tenants.E011",
            )
        )
    for field in meta.local_concrete_fields:
        if field.unique and not field.primary_key:
            errors.append(
                checks.Error(
                    f"{meta.label}.{field.name} is unique=True: a tenant table's uniqueness "
                    "must include the tenant.",
                    hint=f"Use UniqueConstraint(fields=['tenant', '{field.name}'], ...) (for a "
                    "one-to-one field: a ForeignKey with that constraint).",
                    obj=model,
                    id="tenants.E012",
                )
            )
    for names in meta.unique_together:
        if TENANT_FIELD not in names:
            errors.append(
                checks.Error(
                    f"{meta.label}: unique_together {tuple(names)} lacks the tenant.",
                    hint="Add 'tenant' to it (better: a UniqueConstraint with 'tenant').",
                    obj=model,
                    id="tenants.E013",
                )
            )
    for constraint in meta.constraints:
        if isinstance(constraint, models.UniqueConstraint) and not _names_tenant(constraint):
            errors.append(
                checks.Error(
                    f"{meta.label}: UniqueConstraint {constraint.name!r} lacks the tenant.",
                    hint="Put 'tenant' first in its fields: every UNIQUE constraint of a tenant "
                    "table includes tenant_id.",
                    obj=model,
                    id="tenants.E013",
                )
            )
    return errors


def check_models(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """System check: every model keeps the tenant-key shape (see the module docstring)."""
    errors: list[checks.CheckMessage] = []
    for model in apps.get_models(include_auto_created=True):
        if app_configs is None or model._meta.app_config in app_configs:
            errors.extend(model_problems(model))
    return errors
