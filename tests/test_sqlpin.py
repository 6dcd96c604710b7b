"""The tenant-pinning check itself (``tests/sqlpin.py``): it reads statements right, it catches an
unpinned statement of application code sent to the real database, and such a statement fails the
run with a readable report."""

# ruff: noqa: S608 - the statements here are test data for the checker, never executed
from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from monitoring.models import Mention
from tests import sqlpin
from tests.sqlpin_allow import ALLOWED
from tests.sqlpin_allow import allowed as allowlisted

M = '"monitoring_mention"'
B = '"monitoring_ingestbatch"'


@pytest.mark.parametrize(
    "sql",
    [
        f'SELECT {M}."id" FROM {M} WHERE ({M}."tenant_id" = %s AND {M}."id" = %s) LIMIT 21',
        f'SELECT {M}."id" FROM {M} WHERE {M}."tenant_id" IN (%s, %s, %s)',
        f'SELECT 1 FROM {M} WHERE {M}."tenant_id" IN (SELECT U0."id" FROM "tenants_tenant" U0)',
        "SELECT 1 FROM monitoring_mention m WHERE m.tenant_id = ANY(%s) AND m.risk > 3",
        f'UPDATE {M} SET "raw" = %s WHERE ({M}."tenant_id" = %s AND {M}."id" IN (%s, %s))',
        f'DELETE FROM {M} WHERE ({M}."tenant_id" = %s AND {M}."id" IN (%s))',
        f'INSERT INTO {M} ("tenant_id", "text") VALUES (%s, %s), (%s, %s) RETURNING {M}."id"',
        # a join pinned through the tenant of a pinned table
        f'SELECT 1 FROM {M} INNER JOIN {B} ON ({M}."batch_id" = {B}."id" AND '
        f'{M}."tenant_id" = {B}."tenant_id") WHERE {M}."tenant_id" = %s',
        # every level pins its own table
        f'UPDATE {B} SET "status" = %s WHERE ({B}."tenant_id" = %s AND {B}."id" IN '
        f'(SELECT U0."batch_id" FROM "monitoring_ingestchunk" U0 WHERE U0."tenant_id" = %s))',
        "UPDATE monitoring_mention AS m SET likes = s.likes FROM unnest(%(a)s::text[], "
        "%(b)s::bigint[]) AS s(external_id, likes) WHERE m.tenant_id = %(t)s "
        "AND m.external_id = s.external_id RETURNING m.id",
        # no tenant table at all
        'SELECT "tenants_tenant"."id" FROM "tenants_tenant" WHERE "tenants_tenant"."id" = %s',
    ],
)
def test_pinned_statements_pass(sql: str, db: Any) -> None:
    assert sqlpin.unpinned_tables(sql) == frozenset()


@pytest.mark.parametrize(
    ("sql", "tables"),
    [
        (f'SELECT {M}."id" FROM {M} WHERE {M}."id" = %s', {"monitoring_mention"}),
        (f'UPDATE {M} SET "likes" = %s WHERE {M}."id" = %s', {"monitoring_mention"}),
        (f'DELETE FROM {M} WHERE {M}."batch_id" IN (%s)', {"monitoring_mention"}),
        (f'INSERT INTO {M} ("text") VALUES (%s)', {"monitoring_mention"}),
        # a tenant condition under OR pins nothing
        (f'SELECT 1 FROM {M} WHERE ({M}."tenant_id" = %s OR {M}."risk" > %s)', {M.strip('"')}),
        # the joined table is not pinned by the other table's tenant
        (
            f'SELECT 1 FROM {M} LEFT OUTER JOIN {B} ON ({M}."batch_id" = {B}."id") '
            f'WHERE {M}."tenant_id" = %s',
            {"monitoring_ingestbatch"},
        ),
        # the outer UPDATE of Django's "pk IN (subquery)" form
        (
            f'UPDATE {M} SET "raw" = %s WHERE {M}."id" IN (SELECT U0."id" FROM {M} U0 '
            f'WHERE U0."tenant_id" = %s)',
            {"monitoring_mention"},
        ),
        (
            "UPDATE monitoring_source SET x = 1 WHERE id = (SELECT source_id FROM "
            "monitoring_ingestbatch WHERE id = %(batch)s)",
            {"monitoring_source", "monitoring_ingestbatch"},
        ),
        ("SELECT FROM monitoring_mention WHERE ((", {sqlpin.UNPARSED}),
    ],
)
def test_unpinned_statements_are_found(sql: str, tables: set[str], db: Any) -> None:
    assert sqlpin.unpinned_tables(sql) == tables


def test_an_unpinned_query_of_application_code_is_caught_on_the_real_database(
    tenant: Any,
) -> None:
    """A function whose code lives in an application module (not in tests/) runs a look-up by
    id without the tenant through the ORM; the capture reports it with where it came from."""
    source = "def lookup(pk):\n    return Mention.objects.filter(pk=pk).first()\n"
    app_file = str(sqlpin.ROOT / "monitoring" / "selectors.py")
    namespace: dict[str, Any] = {"Mention": Mention}
    exec(compile(source, app_file, "exec"), namespace)  # noqa: S102 - code given just above
    with sqlpin.expect_unpinned() as caught:
        assert namespace["lookup"](1) is None
        # The pinned form of the same look-up passes.
        assert Mention.objects.for_tenant(tenant).filter(pk=1).first() is None
    assert len(caught) == 1
    statement = caught[0]
    assert statement.tables == {"monitoring_mention"}
    assert statement.origin is not None
    assert statement.origin.path == "monitoring/selectors.py"
    assert statement.origin.function == "lookup"
    assert statement.test.endswith(
        "test_an_unpinned_query_of_application_code_is_caught_on_the_real_database"
    )
    assert 'FROM "monitoring_mention"' in statement.sql


def test_statements_of_the_test_code_itself_are_exempt(tenant: Any) -> None:
    with sqlpin.expect_unpinned() as caught:
        assert Mention.objects.filter(pk=1).first() is None  # sent from this file
    assert caught == []


def test_an_unpinned_statement_fails_the_run_with_a_readable_report(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tally = sqlpin.Tally(statements=3, pinned=2)
    statement = sqlpin.Statement(
        sql=f'SELECT 1 FROM {M} WHERE {M}."id" = %s',
        tables=frozenset({"monitoring_mention"}),
        test="tests/x.py::test_y",
        origin=sqlpin.Frame("monitoring/selectors.py", 12, "lookup"),
        caller=sqlpin.Frame("django/db/models/query.py", 93, "ModelIterable.__iter__"),
    )
    tally.unpinned[("x", "y")] = statement
    monkeypatch.setattr(sqlpin, "_tally", tally)
    monkeypatch.setattr(sqlpin, "MODE", "fail")
    session = SimpleNamespace(exitstatus=0)
    sqlpin.pytest_sessionfinish(session, 0)  # type: ignore[arg-type]
    assert session.exitstatus == pytest.ExitCode.TESTS_FAILED
    text = "\n".join(sqlpin.report())
    assert "1 unpinned from application code" in text
    assert "UNPINNED x1 on monitoring_mention" in text
    assert "code:  monitoring/selectors.py:12 in lookup" in text
    assert "test:  tests/x.py::test_y" in text
    assert f'sql:   SELECT 1 FROM {M} WHERE {M}."id" = %s' in text

    clean = sqlpin.Tally(statements=3, pinned=3)
    monkeypatch.setattr(sqlpin, "_tally", clean)
    session = SimpleNamespace(exitstatus=0)
    sqlpin.pytest_sessionfinish(session, 0)  # type: ignore[arg-type]
    assert session.exitstatus == 0


def test_each_worker_sends_its_tally_and_the_controller_fails_on_the_sum(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Under ``make test``'s workers (pytest-xdist) each worker hands its tally to the
    controller, which adds them up, reports and fails the run as one process would."""
    origin = sqlpin.Frame("monitoring/selectors.py", 12, "lookup")
    worker_tally = sqlpin.Tally(statements=3, pinned=1, test_code=1)
    worker_tally.allowed["a sweep"] += 1
    worker_tally.unpinned[("x", "y")] = sqlpin.Statement(
        sql="SELECT 1",
        tables=frozenset({"monitoring_mention"}),
        test="tests/x.py::test_y",
        origin=origin,
        caller=None,
        count=2,
        frames=(origin,),
    )
    monkeypatch.setattr(sqlpin, "_tally", worker_tally)
    worker = SimpleNamespace(exitstatus=0, config=SimpleNamespace(workeroutput={}))
    sqlpin.pytest_sessionfinish(worker, 0)  # type: ignore[arg-type]
    assert worker.exitstatus == 0  # the controller decides
    sent = worker.config.workeroutput["sqlpin"]

    controller = sqlpin.Tally(statements=1, pinned=1)
    monkeypatch.setattr(sqlpin, "_tally", controller)
    for _ in range(2):  # two workers with the same tally
        sqlpin.pytest_testnodedown(SimpleNamespace(workeroutput={"sqlpin": sent}), None)
    assert (controller.statements, controller.pinned, controller.test_code) == (7, 3, 2)
    assert controller.allowed == {"a sweep": 2}
    (statement,) = controller.unpinned.values()
    assert statement.count == 4 and statement.origin == origin and statement.frames == (origin,)
    session = SimpleNamespace(exitstatus=0)
    sqlpin.pytest_sessionfinish(session, 0)  # type: ignore[arg-type]
    assert session.exitstatus == pytest.ExitCode.TESTS_FAILED
    assert "UNPINNED x4 on monitoring_mention" in "\n".join(sqlpin.report())


def test_every_allowlist_entry_says_why_and_matches_by_frame() -> None:
    assert all(len(entry.why) > 40 for entry in ALLOWED)
    sweep = sqlpin.Frame("tenants/models.py", 1, "TenantQuerySet.tenant_ids")
    other = sqlpin.Frame("tenants/models.py", 1, "TenantQuerySet.for_tenant")
    assert allowlisted([other, sweep], frozenset({"monitoring_pipelineevent"})) is not None
    assert allowlisted([other], frozenset({"monitoring_pipelineevent"})) is None


def test_the_capture_is_installed_on_connections_of_other_threads(db: Any) -> None:
    """Live-server and worker threads open their own connections: each gets the check."""
    import threading

    from django.db import connection as main_connection
    from django.db import connections

    assert sqlpin.check in main_connection.execute_wrappers
    seen: list[bool] = []

    def run() -> None:
        connection = connections["default"]
        connection.ensure_connection()
        seen.append(sqlpin.check in connection.execute_wrappers)
        connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    assert seen == [True]
