"""The schema editor that gives every tenant table the tenant in every key.

For a tenant model (``tenants.dbtables.is_tenant_model``: a ``tenant`` foreign key, not a shared
table), whatever migration operation creates or changes it:

- the table's primary key is ``(tenant_id, id)``; Django keeps ``pk = id`` (a composite
  primary key could not be the target of a foreign key in Django 5.2);
- a foreign key to another tenant table is ``FOREIGN KEY (tenant_id, x_id) REFERENCES
  target (tenant_id, id)``, deferrable like Django's own, so a row can never reference another
  tenant's row; foreign keys to shared tables (the tenant, users) stay on one column;
- ``tenant_id`` gets no index of its own: the primary key starts with it.

``CreateModel``, ``AddField`` (including adding the ``tenant`` key to an existing table, which
converts it), ``AlterField`` and ``RemoveField`` all keep this shape, so a new app's migrations
are born in it. A table without a tenant key cannot hold a foreign-key constraint to a tenant
table (there is no unique ``id`` to point at): the editor refuses it with a message that says
what to do, as the system check in ``tenants.dbshape`` does earlier.

``add_tenant_keys`` and ``remove_tenant_keys`` convert tables created in the old shape and back;
the migrations ``tenants.0006_tenant_keys`` and ``monitoring.0008_tenant_keys`` call them through
``tenant_keys_operation``. UNIQUE constraints are declared on the models
(``UniqueConstraint(fields=["tenant", ...])``); the catalog lint (``manage.py check_db_shape``)
checks all three rules on the real database.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from django.db import migrations
from django.db.backends.ddl_references import Columns, Statement, Table
from django.db.backends.postgresql.schema import DatabaseSchemaEditor
from django.db.models import Model

from tenants.dbtables import TENANT_COLUMN, is_tenant_key, is_tenant_model, may_hold_tenant_rows

FK_SUFFIX = "_fk_%(to_table)s_%(to_column)s"


class PlainReferenceError(ValueError):
    """A table without a tenant key was given a foreign-key constraint to a tenant table."""


def _fk_fields(model: type[Model]) -> Iterator[Any]:
    """The concrete foreign keys of ``model``'s own table that have a database constraint."""
    for field in model._meta.local_concrete_fields:
        if field.remote_field is not None and getattr(field, "db_constraint", False):
            yield field


def _incoming(model: type[Model]) -> Iterator[Any]:
    """The relations of other fields to ``model`` (hidden ones, ``related_name="+"``, too)."""
    for field in model._meta.get_fields(include_hidden=True):
        if field.auto_created and not field.concrete and field.is_relation:
            yield field


def _target(field: Any) -> type[Model]:
    return field.target_field.model  # type: ignore[no-any-return]


def refuse_plain_reference(model: type[Model], field: Any) -> None:
    """Raise ``PlainReferenceError`` when ``field`` of a model without a tenant key would be a
    foreign-key constraint to a tenant table."""
    if not (field.remote_field is not None and getattr(field, "db_constraint", False)):
        return
    target = _target(field)
    if is_tenant_model(target) and not is_tenant_model(model):
        automatic = model._meta.auto_created
        through = " (the table Django creates for a many-to-many field)" if automatic else ""
        raise PlainReferenceError(
            f"{model._meta.label}.{field.name}{through} references the tenant table "
            f"{target._meta.db_table}, whose primary key is (tenant_id, id): only a tenant model "
            "(a subclass of tenants.models.TenantOwnedModel) may hold that foreign key, as "
            f"FOREIGN KEY (tenant_id, {field.column}). Give {model._meta.label} a tenant key, use "
            "an explicit through model that subclasses TenantOwnedModel, or set "
            "db_constraint=False."
        )


def pk_column(model: type[Model]) -> str:
    return str(model._meta.pk.column)


def pk_name(table: str) -> str:
    """PostgreSQL's own name for a table's primary key, ``<table>_pkey`` (cut to 63 bytes)."""
    return f"{table[:58]}_pkey"


class TenantKeySchemaEditor(DatabaseSchemaEditor):
    """Django's PostgreSQL schema editor with the tenant in every key of a tenant table."""

    # --- new tables and columns ------------------------------------------------------------

    def table_sql(self, model: type[Model]) -> tuple[str, list[Any]]:
        if not is_tenant_model(model):
            return super().table_sql(model)
        pk = self._tenant_pk_constraint(model).replace("%", "%%")
        self.sql_create_table = f"CREATE TABLE %(table)s (%(definition)s, {pk})"
        try:
            return super().table_sql(model)
        finally:
            del self.sql_create_table

    def _iter_column_sql(  # type: ignore[no-untyped-def]
        self, column_db_type, params, model, field, field_db_params, include_default
    ):
        parts = super()._iter_column_sql(  # type: ignore[misc]
            column_db_type, params, model, field, field_db_params, include_default
        )
        for part in parts:
            if part == "PRIMARY KEY" and is_tenant_model(model):
                continue  # the table constraint PRIMARY KEY (tenant_id, id) replaces it
            yield part

    def add_field(self, model: type[Model], field: Any) -> None:
        refuse_plain_reference(model, field)
        if self._composite(model, field):
            # A two-column foreign key cannot be a column constraint: Django adds it after.
            self.sql_create_column_inline_fk = None  # type: ignore[assignment]
            try:
                super().add_field(model, field)
            finally:
                del self.sql_create_column_inline_fk
        else:
            super().add_field(model, field)
        if is_tenant_key(field) and may_hold_tenant_rows(model):
            # The table has just become a tenant table (its ``tenant`` key was added).
            self.add_tenant_keys([model], becoming=True)

    def _field_should_be_indexed(self, model: type[Model], field: Any) -> bool:
        if is_tenant_key(field) and may_hold_tenant_rows(model):
            return False  # the primary key (tenant_id, id) is the index on tenant_id
        return super()._field_should_be_indexed(model, field)  # type: ignore[misc, no-any-return]

    # --- foreign keys and primary keys ---------------------------------------------------

    def _composite(self, model: type[Model], field: Any) -> bool:
        """True when ``field`` is a foreign key from a tenant table to a tenant table."""
        return (
            field.remote_field is not None
            and getattr(field, "db_constraint", False)
            and not field.many_to_many
            and field.column != TENANT_COLUMN
            and is_tenant_model(model)
            and is_tenant_model(_target(field))
        )

    def _create_fk_sql(self, model: type[Model], field: Any, suffix: str) -> Statement:
        refuse_plain_reference(model, field)
        return self._fk_sql(model, field, suffix, composite=self._composite(model, field))

    def _fk_sql(self, model: type[Model], field: Any, suffix: str, *, composite: bool) -> Statement:
        """Django's foreign-key statement (same name, deferrable), on ``(tenant_id, x_id)``
        referencing ``(tenant_id, id)`` when ``composite``."""
        statement: Statement = super()._create_fk_sql(model, field, suffix)  # type: ignore[misc]
        if composite:
            table, target = model._meta.db_table, _target(field)._meta.db_table
            statement.parts["column"] = Columns(
                table, [TENANT_COLUMN, field.column], self.quote_name
            )
            statement.parts["to_column"] = Columns(
                target, [TENANT_COLUMN, field.target_field.column], self.quote_name
            )
        return statement

    def _constraint_names(  # type: ignore[no-untyped-def]
        self, model, column_names=None, *args: Any, foreign_key=None, **kwargs: Any
    ) -> list[str]:
        """Django looks a foreign key up by its column (to drop it in ``AlterField`` and
        ``RemoveField``): the one between tenant tables is on ``(tenant_id, column)``."""
        names: list[str] = super()._constraint_names(  # type: ignore[misc]
            model, column_names, *args, foreign_key=foreign_key, **kwargs
        )
        if (
            foreign_key
            and column_names is not None
            and len(column_names) == 1
            and column_names[0] != TENANT_COLUMN
        ):
            paired = super()._constraint_names(  # type: ignore[misc]
                model, [TENANT_COLUMN, *column_names], *args, foreign_key=True, **kwargs
            )
            names += [name for name in paired if name not in names]
        return names

    def _create_primary_key_sql(self, model: type[Model], field: Any) -> Statement:
        if not is_tenant_model(model):
            return super()._create_primary_key_sql(model, field)  # type: ignore[misc, no-any-return]
        return self._pk_sql(model, [TENANT_COLUMN, field.column])

    def _pk_sql(self, model: type[Model], columns: Sequence[str]) -> Statement:
        table = model._meta.db_table
        return Statement(
            self.sql_create_pk,
            table=Table(table, self.quote_name),
            name=self.quote_name(pk_name(table)),
            columns=Columns(table, list(columns), self.quote_name),
        )

    def _tenant_pk_constraint(self, model: type[Model]) -> str:
        columns = ", ".join(self.quote_name(c) for c in (TENANT_COLUMN, pk_column(model)))
        name = self.quote_name(pk_name(model._meta.db_table))
        return f"CONSTRAINT {name} PRIMARY KEY ({columns})"

    # --- converting tables of the old shape (and back) -------------------------------------

    def _pk_columns(self, table: str) -> list[str] | None:
        with self.connection.cursor() as cursor:
            constraints = self.connection.introspection.get_constraints(cursor, table)
        for info in constraints.values():
            if info["primary_key"]:
                return list(info["columns"])
        return None

    def _keyed(self, model: type[Model]) -> bool:
        """True when ``model``'s table has the primary key ``(tenant_id, id)`` now."""
        return self._pk_columns(model._meta.db_table) == [TENANT_COLUMN, pk_column(model)]

    def _links(self, models: Sequence[type[Model]]) -> list[tuple[type[Model], Any]]:
        """The foreign keys between tenant tables that touch ``models``: theirs to tenant
        tables, and those of other tables pointing at them (``(model, field)``, each once)."""
        tables = {model._meta.db_table for model in models}
        links: dict[tuple[str, str], tuple[type[Model], Any]] = {}
        for model in models:
            for field in _fk_fields(model):
                target = _target(field)
                if field.column != TENANT_COLUMN and (
                    target._meta.db_table in tables or is_tenant_model(target)
                ):
                    links[(model._meta.db_table, field.column)] = (model, field)
            for relation in _incoming(model):
                incoming: Any = relation.field
                source: type[Model] = relation.related_model
                if relation.many_to_many or not getattr(incoming, "db_constraint", False):
                    continue
                if not incoming.concrete or source._meta.proxy:
                    continue
                if source._meta.db_table not in tables and not is_tenant_model(source):
                    refuse_plain_reference(source, incoming)
                links[(source._meta.db_table, incoming.column)] = (source, incoming)
        return list(links.values())

    def _drop_fks(self, model: type[Model], columns: list[str]) -> None:
        for name in super()._constraint_names(model, columns, foreign_key=True):  # type: ignore[misc]
            self.execute(self._delete_fk_sql(model, name))  # type: ignore[attr-defined]

    def _has_fk(self, model: type[Model], columns: list[str]) -> bool:
        return bool(super()._constraint_names(model, columns, foreign_key=True))  # type: ignore[misc]

    def _tenant_index_names(self, model: type[Model]) -> list[str]:
        declared = {index.name for index in model._meta.indexes}
        return [
            name
            for name in super()._constraint_names(  # type: ignore[misc]
                model, [TENANT_COLUMN], index=True, unique=False, primary_key=False, type_="idx"
            )
            if name not in declared
        ]

    def _set_pk(self, model: type[Model], columns: list[str]) -> None:
        for name in super()._constraint_names(model, primary_key=True):  # type: ignore[misc]
            self.execute(self._delete_primary_key_sql(model, name))  # type: ignore[attr-defined]
        self.execute(self._pk_sql(model, columns))

    def add_tenant_keys(self, models: Iterable[type[Model]], *, becoming: bool = False) -> None:
        """Give the tables of ``models`` (tenant models) their tenant keys: primary key
        ``(tenant_id, id)``, composite foreign keys to and from other tenant tables whose keys
        are ready, no separate ``tenant_id`` index. Does only what is missing, so it may run on
        tables that already have the shape. ``becoming``: the models (historical, from before
        an ``AddField``) are getting their ``tenant`` key in this operation."""
        models = [m for m in models if becoming or is_tenant_model(m)]
        tables = {m._meta.db_table for m in models}
        now, later = [], []
        for src, field in self._links(models):
            target = _target(field)
            if self._has_fk(src, [TENANT_COLUMN, field.column]):
                continue
            if not (target._meta.db_table in tables or self._keyed(target)):
                continue  # the target's own migration pairs the key once it has its tenant key
            if src._meta.db_table in tables or is_tenant_model(src):
                now.append((src, field))
            elif target._meta.db_table in tables:
                # The source gets its tenant key later in this migration (as the autodetector
                # writes it: CreateModel, then AddField of ``tenant``): pair the key at the end.
                later.append((src, field))
        for src, field in now + later:
            self._drop_fks(src, [field.column])
        for model in models:
            if not self._keyed(model):
                self._set_pk(model, [TENANT_COLUMN, pk_column(model)])
            for name in self._tenant_index_names(model):
                self.execute(self._delete_index_sql(model, name))  # type: ignore[attr-defined]
        for src, field in now:
            statement = self._fk_sql(src, field, FK_SUFFIX, composite=True)
            self.deferred_sql = [sql for sql in self.deferred_sql if str(sql) != str(statement)]
            self.execute(statement)
        for src, field in later:
            self.deferred_sql.append(self._fk_sql(src, field, FK_SUFFIX, composite=True))

    def remove_tenant_keys(self, models: Iterable[type[Model]], *, leaving: bool = False) -> None:
        """The reverse of ``add_tenant_keys``: primary key ``id``, an index on ``tenant_id``,
        one-column foreign keys to and from these tables (those between tenant tables that both
        keep their tenant keys stay composite). ``leaving``: the models are no tenant models
        any more (they became agency tables, ``tenants.dbtables.AGENCY_MODELS``) and their
        tables, made as tenant tables, lose the tenant keys now (nothing to do for a table
        that never had them)."""
        models = [m for m in models if leaving or is_tenant_model(m)]
        tables = {m._meta.db_table for m in models}
        links = [
            (src, field)
            for src, field in self._links(models)
            if _target(field)._meta.db_table in tables
            or (src._meta.db_table in tables and not self._keyed(_target(field)))
        ]
        for src, field in links:
            self._drop_fks(src, [TENANT_COLUMN, field.column])
        for model in models:
            if self._keyed(model):
                self._set_pk(model, [pk_column(model)])
            if not self._tenant_index_names(model):
                tenant = model._meta.get_field("tenant")
                self.execute(self._create_index_sql(model, fields=[tenant]))  # type: ignore[attr-defined]
        for src, field in links:
            if not self._has_fk(src, [field.column]):
                self.execute(self._fk_sql(src, field, FK_SUFFIX, composite=False))


def _editor(schema_editor: Any) -> TenantKeySchemaEditor:
    if not isinstance(schema_editor, TenantKeySchemaEditor):
        raise TypeError(
            "The tenant-key migrations need the database backend tenants.db "
            '(DATABASES["default"]["ENGINE"] = "tenants.db", as config/settings.py sets it).'
        )
    return schema_editor


def tenant_keys_operation(app_label: str) -> migrations.RunPython:
    """A migration operation that converts ``app_label``'s tenant tables to tenant keys (and
    back when the migration is reversed)."""

    def app_models(apps: Any) -> list[type[Model]]:
        return [m for m in apps.get_app_config(app_label).get_models() if is_tenant_model(m)]

    def forwards(apps: Any, schema_editor: Any) -> None:
        _editor(schema_editor).add_tenant_keys(app_models(apps))

    def backwards(apps: Any, schema_editor: Any) -> None:
        _editor(schema_editor).remove_tenant_keys(app_models(apps))

    return migrations.RunPython(forwards, backwards)
