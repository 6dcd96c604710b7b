"""Row-level security, the database's own wall between tenants (``tenants/rls.py``,
``tenants/dbscope.py``).

The whole suite runs as the application role with every policy on (``tests/conftest.py``).
Here: the role and its grants; unscoped ORM and raw SQL in one tenant's scope see and write
nothing of another; the scope's rules (no scope sees nothing, nesting restores, settings never
outlive their transaction, crossing tenants logs one line); every kind of entry point (REST,
GraphQL, the admin, a task, a command) runs scoped, shown by *forgetting* the application's
tenant filter (``forgotten_filter``) and finding nothing of the other tenant all the same;
the meta-tests (every tenant table has a forced policy; every task and command declares its
scope); and web and workers refusing to start as a role that bypasses the policies.
"""

from __future__ import annotations

import inspect
import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from importlib import import_module
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command, get_commands, load_command_class
from django.db import ProgrammingError, connection, transaction
from django.test import Client

from config.startup import require_row_security_for_command
from monitoring.models import Mention, TrackedTerm
from tenants import dbscope, rls
from tenants.admin_mixins import AgencyScopedAdminMixin
from tenants.dbtables import tenant_models, tenant_tables
from tenants.management.base import OwnerMixin, ScopedCommand
from tenants.models import TenantQuerySet
from tests import sqlpin
from tests.factories import UserFactory
from tests.monitoring.factories import MentionFactory, TrackedTermFactory

ROOT = Path(__file__).resolve().parents[1]
SIGAP_APPS = ("tenants", "monitoring", "incidents", "playbooks")


@pytest.fixture
def rows(tenant: Any, other_tenant: Any) -> dict[str, list[Mention]]:
    """Three mentions of ``tenant``, two of ``other_tenant``."""
    return {
        "ours": [MentionFactory(tenant=tenant, author_handle=f"ours_{n}") for n in range(3)],
        "theirs": [
            MentionFactory(tenant=other_tenant, author_handle=f"theirs_{n}") for n in range(2)
        ],
    }


@pytest.fixture
def forgotten_filter(
    monkeypatch: Any, tenant: Any, rows: dict[str, list[Mention]]
) -> Iterator[list[Any]]:
    """The application's tenant filter forgotten everywhere: ``for_tenant`` keeps every row.
    The statements that therefore name no tenant are collected (``tests/sqlpin.py`` would fail
    the run with them) and must exist: the filter is really gone, only the database is left."""
    monkeypatch.setattr(TenantQuerySet, "for_tenant", lambda self, tenant: self.all())
    # The test body sees every tenant: the filter is really gone.
    assert Mention.objects.for_tenant(tenant).count() == 5
    with sqlpin.expect_unpinned() as unpinned:
        yield unpinned
    assert unpinned, "the entry point sent no statement without its tenant"


def count_raw(where: str = "", params: tuple[Any, ...] = ()) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM monitoring_mention {where}", params)  # noqa: S608
        return int(cursor.fetchone()[0])


# --- the roles ----------------------------------------------------------------------------


def test_the_suite_runs_as_the_application_role(db: Any) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_user, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user"
        )
        role, superuser, bypass = cursor.fetchone()
    assert role == settings.SIGAP_DATABASE_APP_ROLE == "sigap_app"
    assert not superuser and not bypass
    assert settings.SIGAP_RLS and rls.unsafe_role() is None


def test_the_application_role_may_read_and_write_every_table_and_own_none(db: Any) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.relname,
                has_table_privilege(c.oid, 'SELECT, INSERT, UPDATE, DELETE'),
                has_table_privilege(c.oid, 'TRUNCATE'), pg_get_userbyid(c.relowner)
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')
            """
        )
        tables = {name: (rights, truncate, owner) for name, rights, truncate, owner in cursor}
    assert {"monitoring_mention", "django_q_ormq", "sigap_cache"} <= set(tables)
    assert all(rights and not truncate for rights, truncate, _ in tables.values()), tables
    assert {owner for *_, owner in tables.values()} == {settings.SIGAP_DATABASE_OWNER["USER"]}
    refused = pytest.raises(ProgrammingError, match="must be owner")
    with refused, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("ALTER TABLE monitoring_mention DISABLE ROW LEVEL SECURITY")


# --- one tenant's scope -------------------------------------------------------------------


def test_unscoped_orm_and_raw_sql_see_nothing_of_another_tenant(
    tenant: Any, other_tenant: Any, rows: dict[str, list[Mention]]
) -> None:
    theirs = rows["theirs"][0]
    assert Mention.objects.count() == 5  # the test body's cross-tenant scope
    with dbscope.tenant_scope([tenant]):
        assert Mention.objects.count() == 3
        assert not Mention.objects.filter(tenant=other_tenant).exists()
        assert Mention.objects.filter(pk=theirs.pk).first() is None
        assert count_raw() == 3
        assert count_raw("WHERE tenant_id = %s", (other_tenant.pk,)) == 0
        # a raw psycopg cursor (as the pipeline's COPY uses) is scoped too
        assert connection.connection.execute(
            "SELECT count(*) FROM monitoring_mention"
        ).fetchone() == (3,)
        assert Mention.objects.filter(pk=theirs.pk).update(text="changed") == 0
        with sqlpin.expect_unpinned():  # a delete by id alone, on purpose
            assert Mention.objects.filter(pk=theirs.pk).delete()[0] == 0
    theirs.refresh_from_db()
    assert theirs.text == "Kopi Senja enak banget"


def test_writing_into_another_tenant_is_refused(
    tenant: Any, other_tenant: Any, rows: dict[str, list[Mention]]
) -> None:
    ours = rows["ours"][0]
    with dbscope.tenant_scope([tenant]):
        refused = pytest.raises(ProgrammingError, match="violates row-level security policy")
        with refused, transaction.atomic():
            MentionFactory(tenant=other_tenant)
        with refused, transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO monitoring_mention (tenant_id, platform, external_id, text)"
                " SELECT %s, platform, 'moved', text FROM monitoring_mention WHERE id = %s",
                [other_tenant.pk, ours.pk],
            )
        with refused, transaction.atomic():  # moving a row out of the scope
            Mention.objects.filter(pk=ours.pk).update(tenant=other_tenant)
        MentionFactory(tenant=tenant)  # its own tenant: fine
    assert Mention.objects.filter(tenant=other_tenant).count() == 2


def test_without_a_scope_no_tenant_table_shows_or_takes_a_row(
    tenant: Any, rows: dict[str, list[Mention]]
) -> None:
    TrackedTermFactory(tenant=tenant)
    with dbscope.no_tenants():
        for model in tenant_models():
            assert not model._base_manager.exists(), model
        with pytest.raises(ProgrammingError, match="row-level security"), transaction.atomic():
            MentionFactory(tenant=tenant)
    assert TrackedTerm.objects.exists()


def test_nested_scopes_restore_the_previous_one_inside_a_transaction(
    tenant: Any, other_tenant: Any, rows: dict[str, list[Mention]]
) -> None:
    raw = connection.connection
    with transaction.atomic(), dbscope.tenant_scope([tenant]):
        assert Mention.objects.count() == 3
        with dbscope.tenant_scope([other_tenant]):
            assert Mention.objects.count() == 2
            with dbscope.all_tenants("test: nesting"):
                assert count_raw() == 5
            assert raw.execute("SELECT count(*) FROM monitoring_mention").fetchone() == (2,)
        assert raw.execute("SELECT count(*) FROM monitoring_mention").fetchone() == (3,)
        assert Mention.objects.count() == 3


def test_a_scope_set_in_a_savepoint_that_rolls_back_still_applies(
    tenant: Any, rows: dict[str, list[Mention]]
) -> None:
    """PostgreSQL undoes ``SET LOCAL`` with the savepoint; the next statement sets it again."""
    with dbscope.entry_point():
        with pytest.raises(ZeroDivisionError), transaction.atomic():
            dbscope.set_entry_scope(dbscope.tenants([tenant]))
            assert Mention.objects.count() == 3
            raise ZeroDivisionError
        assert Mention.objects.count() == 3


@transaction.atomic
def _write_through_a_nested_service(tenant: Any, handle: str) -> Mention:
    """A decorated service calling another: its first statement is a SAVEPOINT, its last one
    runs outside the savepoint."""
    with transaction.atomic():
        mention = MentionFactory(tenant=tenant, author_handle=handle)
    assert Mention.objects.filter(pk=mention.pk).exists()
    return mention


@pytest.mark.django_db(transaction=True)
def test_each_transaction_of_a_decorated_service_gets_the_scope(tenant: Any) -> None:
    """A decorator's ``Atomic`` is one object for every call: the second call's transaction,
    opened by a savepoint, is not taken for the first one's and gets the settings again (the
    fuzz run's seeding once wrote its second incident with no scope)."""
    with dbscope.tenant_scope([tenant]):
        first = _write_through_a_nested_service(tenant, "satu")
        second = _write_through_a_nested_service(tenant, "dua")
        assert {first.pk, second.pk} <= set(Mention.objects.values_list("pk", flat=True))


@pytest.mark.django_db(transaction=True)
def test_settings_never_outlive_their_transaction(
    tenant: Any, rows: dict[str, list[Mention]]
) -> None:
    """Outside ``atomic`` each scoped statement is its own transaction: the connection (pooled
    or persistent) never keeps a tenant for the next piece of work."""
    raw = connection.connection
    setting = (
        "SELECT current_setting('sigap.tenant_ids', true),"
        " current_setting('sigap.all_tenants', true)"
    )
    with dbscope.tenant_scope([tenant]):
        assert Mention.objects.count() == 3
        assert raw.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
        assert raw.execute(setting).fetchone() in {(None, None), ("", "")}
        # a server-side cursor (QuerySet.iterator) is scoped too, and read after its commit
        ours = {m.pk for m in rows["ours"]}
        assert {m.pk for m in Mention.objects.order_by("pk").iterator(chunk_size=2)} == ours
    with dbscope.no_tenants():
        assert Mention.objects.count() == 0


def test_crossing_tenants_logs_exactly_one_line_with_the_reason(
    rows: dict[str, list[Mention]], caplog: Any
) -> None:
    with (
        caplog.at_level(logging.INFO, logger="sigap.dbscope"),
        dbscope.all_tenants("test: retention sweep"),
    ):
        assert Mention.objects.count() == 5
        assert count_raw() == 5
    lines = [r for r in caplog.records if r.name == "sigap.dbscope"]
    assert len(lines) == 1 and lines[0].reason == "test: retention sweep"
    with pytest.raises(ValueError, match="reason"):
        dbscope.everything("")


@dbscope.platform_task
def count_without_a_tenant() -> int:
    return Mention.objects.count()


@dbscope.tenant_task
def count_in(tenant_id: int) -> int:
    return Mention.objects.count()


def test_entry_points_drop_the_scope_they_inherit(
    tenant: Any, other_tenant: Any, rows: dict[str, list[Mention]]
) -> None:
    assert Mention.objects.count() == 5  # the caller sees every tenant
    assert count_without_a_tenant() == 0
    assert count_in(tenant.pk) == 3
    assert count_in(tenant_id=other_tenant.pk) == 2
    assert Mention.objects.count() == 5  # and gets its scope back
    with pytest.raises(RuntimeError, match="entry_point"):
        dbscope.set_entry_scope(dbscope.tenants([tenant]))


# --- every entry point is scoped: the application's filter forgotten, nothing leaks --------


def test_rest_is_scoped_to_the_url_tenant(
    forgotten_filter: Any, api: Any, tenant: Any, members: dict[str, Any], rows: Any
) -> None:
    response = api(members["analyst"]).get(f"/api/v1/tenants/{tenant.slug}/mentions/")
    assert response.status_code == 200, response.content
    ids = {row["id"] for row in response.json()["results"]}
    assert ids == {m.pk for m in rows["ours"]}


def test_graphql_is_scoped_to_the_tenants_it_resolved(
    forgotten_filter: Any, gql: Any, tenant: Any, members: dict[str, Any], rows: Any
) -> None:
    body = gql('{ mentions(slug: "kopi-senja") { id } tenants { slug } }', user=members["analyst"])
    assert "errors" not in body, body
    assert {int(m["id"]) for m in body["data"]["mentions"]} == {m.pk for m in rows["ours"]}
    assert [t["slug"] for t in body["data"]["tenants"]] == ["kopi-senja"]


def test_the_admin_is_scoped_to_the_staff_users_tenants(
    forgotten_filter: Any, monkeypatch: Any, tenant: Any, rows: Any
) -> None:
    monkeypatch.setattr(AgencyScopedAdminMixin, "scope", lambda self, queryset, request: queryset)
    agency_admin = Client()
    agency_admin.force_login(UserFactory(agency=tenant.agency, is_agency_admin=True, is_staff=True))
    page = agency_admin.get("/admin/monitoring/mention/")
    assert page.status_code == 200
    assert b"ours_0" in page.content and b"theirs_0" not in page.content
    theirs = rows["theirs"][0]
    assert agency_admin.get(f"/admin/monitoring/mention/{theirs.pk}/change/").status_code == 302
    superuser = Client()
    superuser.force_login(UserFactory(is_staff=True, is_superuser=True))
    every = superuser.get("/admin/monitoring/mention/")  # agency-wide: all tenants, logged
    assert b"ours_0" in every.content and b"theirs_0" in every.content
    sign_in = Client().get("/admin/login/")  # before any user: no scope, and it works
    assert sign_in.status_code == 200


def test_a_task_is_scoped_to_its_tenant(
    forgotten_filter: Any, tenant: Any, rows: Any, settings: Any
) -> None:
    from django_q.tasks import async_task, result

    theirs = rows["theirs"][0]
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "sync": True}
    task_id = async_task(
        "monitoring.tasks.triage_mention", tenant.pk, theirs.pk, status="resolved", sync=True
    )
    assert result(task_id) == {"skipped": True}
    theirs.refresh_from_db()
    assert theirs.status == "new"


def test_a_command_is_scoped_to_its_tenant(
    forgotten_filter: Any, tenant: Any, other_tenant: Any, tmp_path: Path
) -> None:
    TrackedTermFactory(tenant=tenant, text="Kopi Senja", kind="brand")
    TrackedTermFactory(tenant=other_tenant, text="Bank Lestari", kind="brand")
    src, dst = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    src.write_text(json.dumps({"id": 1, "text": "Kopi Senja dan Bank Lestari"}) + "\n")
    call_command("score", input=str(src), output=str(dst), tenant=tenant.slug)
    terms = {e["text"] for e in json.loads(dst.read_text())["entities"] if e["type"] == "term"}
    assert terms == {"Kopi Senja"}


# --- meta-tests -------------------------------------------------------------------------


def test_every_tenant_table_has_forced_row_level_security_and_a_policy(db: Any) -> None:
    assert rls.missing_policies() == {}
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity,
                count(p.oid) FILTER (WHERE pg_get_expr(p.polqual, p.polrelid) LIKE '%%tenant_id%%'
                    AND pg_get_expr(p.polwithcheck, p.polrelid) LIKE '%%tenant_id%%')
            FROM pg_class c LEFT JOIN pg_policy p ON p.polrelid = c.oid
            WHERE c.relname = ANY(%s) GROUP BY c.oid
            """,
            [sorted(tenant_tables())],
        )
        found = {name: (enabled, forced, policies) for name, enabled, forced, policies in cursor}
    assert set(found) == tenant_tables()
    unprotected = {name: row for name, row in found.items() if row != (True, True, 1)}
    assert unprotected == {}


def owner_connection() -> psycopg.Connection[Any]:
    owner = rls.owner_settings(connection.settings_dict)
    return psycopg.connect(
        host=owner["HOST"],
        port=owner["PORT"],
        user=owner["USER"],
        password=owner["PASSWORD"],
        dbname=connection.settings_dict["NAME"],
    )


def test_the_meta_test_finds_a_table_without_its_policy_and_migrate_restores_it(
    db: Any,
) -> None:
    """In a transaction of the owner's that is rolled back: a tenant table loses its policy."""
    with owner_connection() as owner, owner.cursor() as cursor:
        cursor.execute("SET lock_timeout = '10s'")
        cursor.execute("ALTER TABLE monitoring_lexiconentry NO FORCE ROW LEVEL SECURITY")
        cursor.execute(f"DROP POLICY {rls.policy_name('tenant')} ON monitoring_lexiconentry")
        assert rls.missing_policies(cursor) == {
            "monitoring_lexiconentry": [
                "row level security not forced",
                f"no policy {rls.policy_name('tenant')}",
            ]
        }
        assert rls.apply_policies(cursor=cursor) == ["monitoring_lexiconentry"]  # post_migrate
        assert rls.missing_policies(cursor) == {}
        assert rls.apply_policies(cursor=cursor) == []  # idempotent
        owner.rollback()


def test_every_task_declares_its_database_scope() -> None:
    checked = 0
    for label in SIGAP_APPS:
        try:
            module = import_module(f"{label}.tasks")
        except ModuleNotFoundError:
            continue
        for name, func in inspect.getmembers(module, inspect.isfunction):
            if func.__module__ != module.__name__ or name.startswith("_"):
                continue
            checked += 1
            assert getattr(func, dbscope.TASK_SCOPE_ATTRIBUTE, None), f"{label}.tasks.{name}"
    assert checked >= 10


def test_every_command_of_sigap_is_an_entry_point_or_owner_work() -> None:
    ours = {name: app for name, app in get_commands().items() if app in SIGAP_APPS}
    assert {"migrate", "flush", "createcachetable", "export_tenant", "score"} <= set(ours)
    for name, app in ours.items():
        command = load_command_class(app, name)
        assert isinstance(command, ScopedCommand | OwnerMixin), name
    assert isinstance(load_command_class("tenants", "migrate"), OwnerMixin)


# --- unsafe starts ------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_owner_role_would_bypass_the_policies() -> None:
    assert rls.unsafe_role() is None
    with rls.owner_connection("test: the owner's role"):
        assert "superuser" in (rls.unsafe_role() or "")
    assert connection.settings_dict["USER"] == settings.SIGAP_DATABASE_APP_ROLE


@pytest.mark.django_db(transaction=True)
def test_serving_commands_refuse_the_owner_unless_sigap_rls_is_off(settings: Any) -> None:
    require_row_security_for_command(["manage.py", "qcluster"])  # the app role: fine
    with rls.owner_connection("test: serving as the owner"):
        require_row_security_for_command(["manage.py", "check"])  # serves nothing
        for name in ("runserver", "serve", "worker", "qcluster"):
            with pytest.raises(ImproperlyConfigured, match="is a superuser"):
                require_row_security_for_command(["manage.py", name])
        settings.SIGAP_RLS = False
        require_row_security_for_command(["manage.py", "qcluster"])


def owner_url() -> str:
    db = connection.settings_dict
    owner = settings.SIGAP_DATABASE_OWNER
    return f"postgres://{owner['USER']}:@/{db['NAME']}?host={db['HOST']}&port={db['PORT']}"


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "command",
    [["-c", "import config.wsgi"], ["manage.py", "qcluster"], ["manage.py", "worker"]],
)
def test_web_and_workers_refuse_to_start_as_a_role_that_bypasses_the_policies(
    command: list[str],
) -> None:
    env = {k: v for k, v in os.environ.items() if k != "SIGAP_RLS"}
    env |= {"DATABASE_URL": owner_url(), "DEBUG": "1", "DJANGO_SETTINGS_MODULE": "config.settings"}
    done = subprocess.run(
        [sys.executable, *command], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode != 0
    assert "Row-level security would not apply" in done.stderr
    assert "is a superuser" in done.stderr and "SIGAP_RLS=off" in done.stderr


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_sigap_rls_off_lets_the_web_application_start_as_the_owner() -> None:
    env = dict(os.environ) | {
        "DATABASE_URL": owner_url(),
        "DEBUG": "1",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "SIGAP_RLS": "off",
    }
    done = subprocess.run(
        [sys.executable, "-c", "import config.wsgi"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
