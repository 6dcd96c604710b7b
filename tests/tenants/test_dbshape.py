"""The tenant in every key (``tenants/db/``, ``tenants/dbshape.py``): the migrated database has
it, the catalog lint finds every key that lacks it, a cross-tenant reference is refused by the
database, and a new app's tables are born with it through Django's own migration operations."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import pytest
from django.apps import apps as installed_apps
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, connection, migrations, models, transaction
from django.db.migrations.state import ProjectState

from monitoring.models import IngestBatch, IngestChunk, Mention, Source, WebhookDelivery
from tenants import rls
from tenants.db.schema import PlainReferenceError
from tenants.dbshape import Problem, catalog_problems, check_models, model_problems
from tenants.dbtables import SHARED_MODELS, tenant_models, tenant_tables
from tests.factories import TenantFactory
from tests.monitoring.factories import MentionFactory, SourceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module", autouse=True)
def as_the_owner(django_db_setup: None) -> Iterator[None]:
    """These tests create and alter tables (in each test's transaction, rolled back after it):
    the owner's work, refused to the application role the suite otherwise runs as."""
    with rls.owner_connection("tests: the schema's shape"):
        yield


APP = "alerts"  # a new app, known only to the migration state of each test


def constraints(table: str) -> dict[str, str]:
    """Constraint name -> definition, as PostgreSQL prints it."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = %s::regclass ORDER BY conname",
            [table],
        )
        return dict(cursor.fetchall())


def definitions(table: str) -> set[str]:
    return set(constraints(table).values())


def indexes(table: str) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE tablename = %s", [table])
        return {row[0].split(" USING btree ")[-1] for row in cursor.fetchall()}


def kinds(problems: Iterable[Problem]) -> set[tuple[str, str, str]]:
    return {(p.table, p.kind, p.name) for p in problems}


def migrate(state: ProjectState, *operations: Any) -> ProjectState:
    """Run migration operations of the app ``alerts`` through the project's schema editor,
    as ``manage.py migrate`` does."""
    with connection.schema_editor() as editor:
        for operation in operations:
            new_state = state.clone()
            operation.state_forwards(APP, new_state)
            operation.database_forwards(APP, editor, state, new_state)
            state = new_state
    return state


def tenant_fk(to: str = "tenants.tenant", **options: Any) -> models.ForeignKey[Any, Any]:
    return models.ForeignKey(to, on_delete=options.pop("on_delete", models.CASCADE), **options)


def pk() -> models.BigAutoField[Any, Any]:
    return models.BigAutoField(auto_created=True, primary_key=True, serialize=False)


# --- the project's own tables -------------------------------------------------------------------


def test_every_tenant_table_has_the_tenant_in_every_key() -> None:
    labels = {m._meta.label for m in tenant_models()}
    assert {"monitoring.Mention", "monitoring.IngestChunk", "tenants.OutboxDelivery"} <= labels
    assert not labels & SHARED_MODELS
    assert catalog_problems() == []
    assert definitions("monitoring_mention") >= {
        "PRIMARY KEY (tenant_id, id)",
        "FOREIGN KEY (tenant_id, batch_id) REFERENCES monitoring_ingestbatch(tenant_id, id) "
        "DEFERRABLE INITIALLY DEFERRED",
        # a foreign key to a shared table keeps its one column
        "FOREIGN KEY (assignee_id) REFERENCES tenants_user(id) DEFERRABLE INITIALLY DEFERRED",
        "UNIQUE (tenant_id, platform, external_id)",
    }
    assert constraints("monitoring_ingestchunk")["chunk_unique_index"] == (
        "UNIQUE (tenant_id, batch_id, index)"
    )
    assert constraints("monitoring_webhookdelivery")["delivery_unique"] == (
        "UNIQUE (tenant_id, source_id, delivery_id)"
    )
    assert constraints("tenants_outboxdelivery")["outbox_delivery_once"] == (
        "UNIQUE (tenant_id, topic, event_id, subscriber)"
    )
    # The primary key starts with tenant_id: no separate index on it.
    assert "(tenant_id)" not in indexes("monitoring_mention")


def test_the_models_keep_the_shape() -> None:
    assert check_models() == []


def test_a_row_cannot_reference_another_tenants_row() -> None:
    mine, theirs = TenantFactory(), TenantFactory()
    their_batch = IngestBatch.objects.create(tenant=theirs)
    their_source = SourceFactory(tenant=theirs)
    with pytest.raises(IntegrityError, match="monitoring_ingestbatch"), transaction.atomic():
        MentionFactory(tenant=mine, batch=their_batch)
        connection.cursor().execute("SET CONSTRAINTS ALL IMMEDIATE")
    with pytest.raises(IntegrityError, match="monitoring_source"), transaction.atomic():
        WebhookDelivery.objects.create(tenant=mine, source=their_source, delivery_id="d-1")
        connection.cursor().execute("SET CONSTRAINTS ALL IMMEDIATE")
    # The same ids within one tenant are fine, and equal ids in two tenants do not collide.
    batch = IngestBatch.objects.create(tenant=mine)
    MentionFactory(tenant=mine, batch=batch)
    IngestChunk.objects.create(tenant=mine, batch=batch, index=0)
    IngestChunk.objects.create(tenant=theirs, batch=their_batch, index=0)
    connection.cursor().execute("SET CONSTRAINTS ALL IMMEDIATE")
    assert Mention.objects.for_tenant(mine).get().batch == batch
    assert Source.objects.for_tenant(theirs).get() == their_source


# --- the catalog lint finds what lacks the tenant -------------------------------------------------


def test_the_lint_reports_every_kind_of_key_without_tenant() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            CREATE TABLE lint_parent (
                id bigint PRIMARY KEY, tenant_id bigint NOT NULL, code text UNIQUE
            );
            CREATE TABLE lint_child (
                id bigint, tenant_id bigint NOT NULL, parent_id bigint REFERENCES lint_parent (id),
                code text, PRIMARY KEY (tenant_id, id), UNIQUE (tenant_id, code)
            );
            CREATE UNIQUE INDEX lint_child_include ON lint_child (parent_id) INCLUDE (tenant_id);
            CREATE UNIQUE INDEX lint_child_lower ON lint_child (lower(code)) WHERE code <> '';
            CREATE UNIQUE INDEX lint_child_fine ON lint_child (tenant_id, lower(code));
            """
        )
    extra = [("lint_parent", "id"), ("lint_child", "id"), ("lint_missing", "id")]
    assert kinds(catalog_problems(extra=extra)) == {
        ("lint_parent", "primary key", "lint_parent_pkey"),
        ("lint_parent", "unique", "lint_parent_code_key"),
        ("lint_child", "foreign key", "lint_child_parent_id_fkey"),
        ("lint_child", "unique", "lint_child_include"),  # an INCLUDE column is not a key column
        ("lint_child", "unique", "lint_child_lower"),
    }
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE lint_keyless (id bigint, tenant_id bigint)")
    (problem,) = catalog_problems(extra=[("lint_keyless", "id")])
    assert str(problem) == ("lint_keyless: primary key -: is missing, must be (tenant_id, id)")


def test_check_db_shape_command() -> None:
    call_command("check_db_shape")  # the migrated database passes
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE monitoring_trackedterm ADD CONSTRAINT lint_bad UNIQUE (text)")
    with pytest.raises(CommandError) as refused:
        call_command("check_db_shape")
    assert refused.value.returncode == 1
    assert "1 key(s) of tenant tables lack tenant_id" in str(refused.value)
    assert "monitoring_trackedterm: unique lint_bad: CREATE UNIQUE INDEX lint_bad" in str(
        refused.value
    )


# --- a new app is born in the shape -------------------------------------------------------------


@pytest.fixture
def state() -> ProjectState:
    return ProjectState.from_apps(installed_apps)


def test_a_new_tenant_model_with_a_foreign_key_to_mention(state: ProjectState) -> None:
    state = migrate(
        state,
        migrations.CreateModel(
            "Alert",
            [
                ("id", pk()),
                ("tenant", tenant_fk(related_name="+")),
                ("mention", tenant_fk("monitoring.mention", related_name="+")),
                ("owner", tenant_fk("tenants.user", null=True, on_delete=models.SET_NULL)),
                ("note", models.CharField(max_length=20)),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(fields=["tenant", "mention"], name="alert_once")
                ]
            },
        ),
    )
    table = "alerts_alert"
    found = definitions(table)
    assert "PRIMARY KEY (tenant_id, id)" in found
    assert (
        "FOREIGN KEY (tenant_id, mention_id) REFERENCES monitoring_mention(tenant_id, id) "
        "DEFERRABLE INITIALLY DEFERRED"
    ) in found
    owner_fk = "FOREIGN KEY (owner_id) REFERENCES tenants_user(id) DEFERRABLE INITIALLY DEFERRED"
    assert owner_fk in found
    assert "(tenant_id)" not in indexes(table)
    assert catalog_problems(extra=[(table, "id")]) == []

    # A later AddField of a foreign key to another tenant table, then AlterField and RemoveField.
    state = migrate(
        state,
        migrations.AddField(
            "alert", "source", tenant_fk("monitoring.source", null=True, related_name="+")
        ),
    )
    source_fk = (
        "FOREIGN KEY (tenant_id, source_id) REFERENCES monitoring_source(tenant_id, id) "
        "DEFERRABLE INITIALLY DEFERRED"
    )
    assert source_fk in definitions(table)
    assert "(source_id)" in indexes(table)
    state = migrate(
        state,
        migrations.AlterField(
            "alert",
            "source",
            tenant_fk("monitoring.source", null=True, db_index=False, related_name="+"),
        ),
    )
    assert source_fk in definitions(table)
    assert "(source_id)" not in indexes(table)
    assert catalog_problems(extra=[(table, "id")]) == []
    migrate(state, migrations.RemoveField("alert", "source"))
    assert not any("source_id" in definition for definition in definitions(table))

    # The database refuses an alert on another tenant's mention.
    mine, theirs = TenantFactory(), TenantFactory()
    their_mention = MentionFactory(tenant=theirs)
    with pytest.raises(IntegrityError, match="monitoring_mention"), transaction.atomic():
        connection.cursor().execute(
            "INSERT INTO alerts_alert (tenant_id, mention_id, note) VALUES (%s, %s, 'x'); "
            "SET CONSTRAINTS ALL IMMEDIATE",
            [mine.pk, their_mention.pk],
        )


def test_adding_the_tenant_key_to_an_existing_table_converts_it(state: ProjectState) -> None:
    """How ``monitoring.TermBucket`` was made: created first, given its tenant key after."""
    state = migrate(
        state,
        migrations.CreateModel("Note", [("id", pk()), ("text", models.TextField())]),
        migrations.CreateModel(
            "Reply",
            [("id", pk()), ("note", tenant_fk("alerts.note", related_name="+"))],
        ),
    )
    assert "PRIMARY KEY (id)" in definitions("alerts_note")
    migrate(
        state,
        migrations.AddField("note", "tenant", tenant_fk(related_name="+")),
        migrations.AddField("reply", "tenant", tenant_fk(related_name="+")),
    )
    assert "PRIMARY KEY (tenant_id, id)" in definitions("alerts_note")
    assert (
        "FOREIGN KEY (tenant_id, note_id) REFERENCES alerts_note(tenant_id, id) "
        "DEFERRABLE INITIALLY DEFERRED"
    ) in definitions("alerts_reply")
    assert "(tenant_id)" not in indexes("alerts_note")
    assert catalog_problems(extra=[("alerts_note", "id"), ("alerts_reply", "id")]) == []


def test_a_table_without_tenant_key_cannot_reference_a_tenant_table(state: ProjectState) -> None:
    with pytest.raises(PlainReferenceError, match=r"alerts\.Log\.mention references the tenant"):
        migrate(
            state,
            migrations.CreateModel(
                "Log", [("id", pk()), ("mention", tenant_fk("monitoring.mention"))]
            ),
        )
    with pytest.raises(PlainReferenceError, match="many-to-many"):
        migrate(
            state,
            migrations.CreateModel(
                "Digest",
                [
                    ("id", pk()),
                    ("tenant", tenant_fk(related_name="+")),
                    ("mentions", models.ManyToManyField("monitoring.mention")),
                ],
            ),
        )


def test_the_system_check_names_models_out_of_shape(state: ProjectState) -> None:
    for operation in [
        migrations.CreateModel(
            "Case",
            [
                ("id", pk()),
                ("tenant", tenant_fk(related_name="+")),
                ("code", models.CharField(max_length=9, unique=True)),
                ("mentions", models.ManyToManyField("monitoring.mention")),
            ],
            options={
                "constraints": [models.UniqueConstraint(fields=["code"], name="case_code")],
                "unique_together": {("code", "id")},
            },
        ),
        migrations.CreateModel("Log", [("id", pk()), ("mention", tenant_fk("monitoring.mention"))]),
    ]:
        operation.state_forwards(APP, state)
    found = {
        (error.id, error.obj._meta.label)
        for model in state.apps.get_models(include_auto_created=True)
        for error in model_problems(model)
    }
    assert found == {
        ("tenants.E012", "alerts.Case"),  # unique=True
        ("tenants.E013", "alerts.Case"),  # the constraint and unique_together
        ("tenants.E010", "alerts.Case_mentions"),  # an automatic many-to-many table
        ("tenants.E010", "alerts.Log"),  # no tenant key, a foreign key to a tenant table
    }
    assert "alerts_case" not in tenant_tables()  # the real registry is untouched
