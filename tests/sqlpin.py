"""The tenant-pinning check of the test suite: every SQL statement on a tenant table names its
tenant.

A pytest plugin (``tests/conftest.py`` loads it). It installs a Django ``execute_wrapper`` on
every database connection the suite opens in this process (the main thread, live-server threads
and any other thread: it hooks ``connection_created``), and checks each statement that touches a
tenant table (``tenants.dbtables.tenant_tables()``):

* an ``INSERT`` pins the tenant by its column list (``tenant_id`` among the columns);
* a ``SELECT``, ``UPDATE`` or ``DELETE`` pins each tenant table it reads or writes by a
  condition on that table's ``tenant_id`` in the ``WHERE`` or ``JOIN ... ON`` of the same
  query level: ``= value``, ``IN (...)``, ``= ANY(...)``, or equality with the ``tenant_id``
  of another table of that level that is pinned itself. A condition under ``OR`` pins nothing.

Statements are parsed with sqlglot (PostgreSQL dialect); a statement it cannot parse counts as
unpinned, so nothing slips through unread.

An unpinned statement is exempt when it comes from the test code itself (its innermost frame in
this repository is under ``tests/``: factories, fixtures, assertions) or when a frame of its call
stack, out to its innermost frame in this repository, matches an entry of the allowlist
(``tests/sqlpin_allow.py``: agency-wide reads, migrations, sweeps). Every other unpinned
statement fails the run: the summary lists each one with the test that sent it and the code
that sent it.

Not covered: statements sent by other processes (real django-q2 clusters, gunicorn, the fuzz
runner); the pipeline, poller and outbox code they run is exercised in-process by other tests.

``SIGAP_SQLPIN=report`` lists unpinned statements without failing; ``SIGAP_SQLPIN=off`` skips the
check; ``SIGAP_SQLPIN_STACKS=1`` adds each one's whole call stack to the list.
"""

from __future__ import annotations

import os
import re
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from types import FrameType
from typing import Any

import pytest
import sqlglot
from sqlglot import exp

ROOT = Path(__file__).resolve().parents[1]
_ROOT = str(ROOT) + os.sep
_TESTS = str(ROOT / "tests") + os.sep
_VENV = str(ROOT / ".venv") + os.sep
_HERE = {str(Path(__file__).resolve()), str(ROOT / "tests" / "sqlpin_allow.py")}

MODE = os.environ.get("SIGAP_SQLPIN", "fail")
STACKS = bool(os.environ.get("SIGAP_SQLPIN_STACKS"))
UNPARSED = "<not parsed>"


# --- the analysis: which tenant tables a statement leaves unpinned ----------------------------

_REPEATS = re.compile(r"%s(?:\s*,\s*%s)+")
_ROWS = re.compile(r"(\(%s\))(?:\s*,\s*\(%s\))+")
_NAMED = re.compile(r"%\(\w+\)s")


def normalise(sql: str) -> str:
    """The statement with every run of placeholders folded into one (``IN (%s, %s)`` and
    multi-row ``VALUES`` read like their one-element forms), named placeholders as ``%s``."""
    sql = _NAMED.sub("%s", sql)
    sql = _REPEATS.sub("%s", sql)
    return _ROWS.sub(r"\1", sql).replace("%%", "%")


def _conjuncts(condition: exp.Expression | None) -> Iterator[exp.Expression]:
    """The terms of a condition joined by AND (through parentheses)."""
    if condition is None:
        return
    if isinstance(condition, exp.Paren):
        yield from _conjuncts(condition.this)
    elif isinstance(condition, exp.And):
        yield from _conjuncts(condition.this)
        yield from _conjuncts(condition.expression)
    else:
        yield condition


def _tenant_column(node: exp.Expression | None) -> exp.Column | None:
    while isinstance(node, exp.Paren | exp.Cast):
        node = node.this
    if isinstance(node, exp.Column) and node.name.lower() == "tenant_id":
        return node
    return None


def _level_tables(level: exp.Expression) -> list[exp.Table]:
    """The tables read or written at one query level (not those of its subqueries)."""
    tables: list[exp.Table] = []
    candidates: list[exp.Expression | None] = []
    if isinstance(level, exp.Update | exp.Delete):
        candidates.append(level.this)
    from_ = level.args.get("from") or level.args.get("from_")
    if from_ is not None:
        candidates.append(from_.this)
        candidates.extend(from_.expressions or [])
    candidates.extend(level.args.get("using") or [])
    candidates.extend(join.this for join in level.args.get("joins") or [])
    for candidate in candidates:
        if isinstance(candidate, exp.Table):
            tables.append(candidate)
    return tables


def _pinned_names(level: exp.Expression, tables: list[exp.Table]) -> set[str]:
    """Aliases (or names) of the tables of ``level`` whose ``tenant_id`` the level's WHERE and
    JOIN conditions fix."""
    names = {table.alias_or_name for table in tables}
    conditions: list[exp.Expression] = []
    where = level.args.get("where")
    if where is not None:
        conditions.append(where.this)
    for join in level.args.get("joins") or []:
        if join.args.get("on") is not None:
            conditions.append(join.args["on"])

    def owners(column: exp.Column) -> set[str]:
        # An unqualified tenant_id is unambiguous in valid SQL: it names the one table of the
        # level that has the column.
        return {column.table} & names if column.table else set(names)

    fixed: set[str] = set()
    links: list[tuple[set[str], set[str]]] = []
    for condition in conditions:
        for term in _conjuncts(condition):
            if isinstance(term, exp.EQ):
                left, right = _tenant_column(term.this), _tenant_column(term.expression)
                left_own = owners(left) if left else set()
                right_own = owners(right) if right else set()
                if left_own and right_own:
                    links.append((left_own, right_own))
                elif left_own:
                    fixed |= left_own  # = a value, a parameter or an outer query's column
                elif right_own:
                    fixed |= right_own
            elif isinstance(term, exp.In):
                subject = term.this
                columns = (
                    [_tenant_column(e) for e in subject.expressions]
                    if isinstance(subject, exp.Tuple)
                    else [_tenant_column(subject)]
                )
                for column in columns:
                    if column is not None:
                        fixed |= owners(column)
    changed = True
    while changed:
        changed = False
        for left, right in links:
            if left & fixed and not right <= fixed:
                fixed |= right
                changed = True
            if right & fixed and not left <= fixed:
                fixed |= left
                changed = True
    return fixed


def _insert_pins(insert: exp.Insert) -> bool:
    target = insert.this
    if isinstance(target, exp.Schema):
        return any(
            isinstance(column, exp.Identifier | exp.Column) and column.name.lower() == "tenant_id"
            for column in target.expressions
        )
    return False


@lru_cache(maxsize=20_000)
def _unpinned(sql: str, tenant_tables: frozenset[str]) -> frozenset[str]:
    try:
        statements = sqlglot.parse(sql, read="postgres")
    except sqlglot.errors.SqlglotError:
        return frozenset({UNPARSED})
    unpinned: set[str] = set()
    for statement in statements:
        if statement is None:
            continue
        for table in statement.find_all(exp.Table):
            if table.name not in tenant_tables:
                continue
            level = table.find_ancestor(exp.Select, exp.Update, exp.Delete, exp.Insert)
            if level is None:
                continue  # DDL, COPY, TRUNCATE, LOCK: not queries
            if isinstance(level, exp.Insert):
                target = level.this.this if isinstance(level.this, exp.Schema) else level.this
                if target is table and not _insert_pins(level):
                    unpinned.add(table.name)
                continue
            tables = _level_tables(level)
            if not any(t is table for t in tables):
                continue  # e.g. a table named in a clause this check does not read
            if table.alias_or_name not in _pinned_names(level, tables):
                unpinned.add(table.name)
    return frozenset(unpinned)


def unpinned_tables(sql: str) -> frozenset[str]:
    """The tenant tables ``sql`` touches without pinning their ``tenant_id``."""
    if not touches_tenant_table(sql):
        return frozenset()
    return _unpinned(normalise(sql), _tenant_tables())


def touches_tenant_table(sql: str) -> bool:
    """A query (not DDL) whose text names a tenant table."""
    lowered = sql.lower()
    head = lowered.lstrip(" (\n\t")
    return head.startswith(("select", "insert", "update", "delete", "with")) and any(
        name in lowered for name in _tenant_tables()
    )


@lru_cache(maxsize=1)
def _tenant_tables() -> frozenset[str]:
    from tenants.dbtables import tenant_tables

    return tenant_tables()


# --- where a statement comes from -------------------------------------------------------------


@dataclass(frozen=True)
class Frame:
    path: str  # relative to the repository, or from the package root for libraries
    line: int
    function: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line} in {self.function}"


def _relative(filename: str) -> str:
    if filename.startswith(_ROOT) and not filename.startswith(_VENV):
        return filename[len(_ROOT) :]
    for marker in (f"{os.sep}site-packages{os.sep}",):
        if marker in filename:
            return filename.split(marker, 1)[1]
    return filename


def _is_project(filename: str) -> bool:
    return filename.startswith(_ROOT) and not filename.startswith(_VENV)


def stack(frame: FrameType | None) -> list[tuple[str, Frame]]:
    """(absolute file name, frame) from the innermost frame out, this module left out."""
    frames = []
    while frame is not None:
        filename = frame.f_code.co_filename
        if filename not in _HERE:
            qualname = getattr(frame.f_code, "co_qualname", frame.f_code.co_name)
            frames.append((filename, Frame(_relative(filename), frame.f_lineno, qualname)))
        frame = frame.f_back
    return frames


@dataclass
class Statement:
    sql: str
    tables: frozenset[str]
    test: str
    origin: Frame | None  # innermost frame in this repository
    caller: Frame | None  # innermost frame outside the database drivers (often Django's)
    count: int = 1
    frames: tuple[Frame, ...] = ()  # the whole call stack, innermost first


@dataclass
class Tally:
    statements: int = 0  # on tenant tables
    pinned: int = 0
    test_code: int = 0
    allowed: Counter[str] = field(default_factory=Counter)
    unpinned: dict[tuple[str, str], Statement] = field(default_factory=dict)


_tally = Tally()
_current_test = "(outside any test)"
_lock = threading.Lock()
_diverted: list[Statement] | None = None


def _library_noise(filename: str) -> bool:
    return any(
        part in filename for part in ("/django/db/backends/", "/psycopg/", "/django/db/models/sql/")
    )


def _classify(sql: str, tables: frozenset[str]) -> tuple[str, Statement]:
    """("test" | "allowed:<why>" | "app", the statement) for an unpinned statement."""
    from tests.sqlpin_allow import allowed

    frames = stack(sys._getframe())
    origin = next((f for name, f in frames if _is_project(name)), None)
    origin_file = next((name for name, _ in frames if _is_project(name)), "")
    caller = next((f for name, f in frames if not _library_noise(name)), None)
    statement = Statement(
        sql, tables, _current_test, origin, caller, frames=tuple(f for _, f in frames)
    )
    if origin_file.startswith(_TESTS):
        return "test", statement
    # Only the frames from the statement out to the first frame of this repository: an entry
    # for a library function (the admin's list) does not cover application code it calls.
    own = next((i for i, (name, _) in enumerate(frames) if _is_project(name)), len(frames))
    inner = [frame for _, frame in frames[: own + 1]]
    reason = allowed(inner, tables)
    if reason is not None:
        return f"allowed:{reason}", statement
    return "app", statement


def check(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
    """The execute wrapper: check the statement, then run it."""
    if isinstance(sql, str) and touches_tenant_table(sql):
        tables = _unpinned(normalise(sql), _tenant_tables())
        verdict, statement = _classify(sql, tables) if tables else ("pinned", None)
        with _lock:
            _tally.statements += 1
            if statement is None:
                _tally.pinned += 1
            elif verdict == "test":
                _tally.test_code += 1
            elif verdict.startswith("allowed:"):
                _tally.allowed[verdict.removeprefix("allowed:")] += 1
            elif _diverted is not None:
                _diverted.append(statement)
            else:
                key = (str(statement.origin), normalise(sql))
                seen = _tally.unpinned.get(key)
                if seen is None:
                    _tally.unpinned[key] = statement
                else:
                    seen.count += 1
    return execute(sql, params, many, context)


@contextmanager
def expect_unpinned() -> Iterator[list[Statement]]:
    """Collect the unpinned statements of application code sent inside the block instead of
    failing the run with them (for the tests of this check)."""
    global _diverted
    previous, _diverted = _diverted, []
    try:
        yield _diverted
    finally:
        _diverted = previous


# --- wiring -----------------------------------------------------------------------------------


def install(connection: Any) -> None:
    if check not in connection.execute_wrappers:
        connection.execute_wrappers.insert(0, check)


def _on_connection_created(sender: Any, connection: Any, **kwargs: Any) -> None:
    install(connection)


def pytest_sessionstart(session: pytest.Session) -> None:
    if MODE == "off":
        return
    from django.db import connections
    from django.db.backends.signals import connection_created

    connection_created.connect(_on_connection_created, dispatch_uid="sigap-sqlpin")
    for connection in connections.all(initialized_only=True):
        install(connection)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    global _current_test
    _current_test = item.nodeid
    try:
        yield
    finally:
        _current_test = "(between tests)"


def report() -> list[str]:
    lines = [
        f"sqlpin: {_tally.statements} statements on tenant tables; {_tally.pinned} pinned, "
        f"{sum(_tally.allowed.values())} allowlisted, {_tally.test_code} sent by test code, "
        f"{sum(s.count for s in _tally.unpinned.values())} unpinned from application code "
        f"({len(_tally.unpinned)} distinct, "
        f"{len({str(s.origin) for s in _tally.unpinned.values()})} code locations)"
    ]
    for reason, count in sorted(_tally.allowed.items()):
        lines.append(f"  allowlisted x{count}: {reason}")
    for statement in sorted(_tally.unpinned.values(), key=lambda s: str(s.origin)):
        lines += [
            "",
            f"UNPINNED x{statement.count} on {', '.join(sorted(statement.tables))}",
            f"  code:  {statement.origin}",
            f"  via:   {statement.caller}",
            f"  test:  {statement.test}",
            f"  sql:   {_short(statement.sql)}",
        ]
        if STACKS:
            lines += [f"    {frame}" for frame in statement.frames]
    return lines


def _short(sql: str, limit: int = 600) -> str:
    flat = " ".join(sql.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: Any) -> None:
    if MODE == "off" or not _tally.statements:
        return
    terminalreporter.section("tenant-pinned SQL (tests/sqlpin.py)")
    for line in report():
        terminalreporter.write_line(line)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    workeroutput = getattr(getattr(session, "config", None), "workeroutput", None)
    if workeroutput is not None:
        # A pytest-xdist worker: the controller sums every worker's tally, reports and fails.
        workeroutput["sqlpin"] = _export(_tally)
        return
    if MODE == "fail" and _tally.unpinned and exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    """pytest-xdist's controller, as a worker ends: add the worker's tally to its own."""
    data = getattr(node, "workeroutput", {}).get("sqlpin")
    if data is not None:
        with _lock:
            _merge(_tally, data)


def _frame_data(frame: Frame | None) -> tuple[str, int, str] | None:
    return None if frame is None else (frame.path, frame.line, frame.function)


def _frame(data: Any) -> Frame | None:
    return None if data is None else Frame(data[0], data[1], data[2])


def _export(tally: Tally) -> dict[str, Any]:
    """The tally in the plain types a pytest-xdist worker can send to its controller."""
    return {
        "statements": tally.statements,
        "pinned": tally.pinned,
        "test_code": tally.test_code,
        "allowed": dict(tally.allowed),
        "unpinned": [
            {
                "key": list(key),
                "sql": s.sql,
                "tables": sorted(s.tables),
                "test": s.test,
                "origin": _frame_data(s.origin),
                "caller": _frame_data(s.caller),
                "count": s.count,
                "frames": [_frame_data(f) for f in s.frames],
            }
            for key, s in tally.unpinned.items()
        ],
    }


def _merge(tally: Tally, data: dict[str, Any]) -> None:
    tally.statements += data["statements"]
    tally.pinned += data["pinned"]
    tally.test_code += data["test_code"]
    tally.allowed.update(data["allowed"])
    for row in data["unpinned"]:
        key = (row["key"][0], row["key"][1])
        seen = tally.unpinned.get(key)
        if seen is not None:
            seen.count += row["count"]
            continue
        tally.unpinned[key] = Statement(
            row["sql"],
            frozenset(row["tables"]),
            row["test"],
            _frame(row["origin"]),
            _frame(row["caller"]),
            count=row["count"],
            frames=tuple(f for f in map(_frame, row["frames"]) if f is not None),
        )
