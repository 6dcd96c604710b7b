"""The database scope: which tenants' rows the running code may touch, enforced by PostgreSQL.

Every tenant table sits behind a row-level-security policy (``tenants.rls``) that shows and
accepts only rows whose ``tenant_id`` is in the transaction's ``sigap.tenant_ids`` setting (or
every row while ``sigap.all_tenants`` is ``on``). This module is the one place that sets them.

What it guarantees:

* **One scope at a time, held by the code, applied per transaction.** The scope lives in a
  context variable (per thread and per task). An execute wrapper installed on every database
  connection issues ``SELECT set_config(name, value, true)`` (``SET LOCAL``) before the first
  statement of each transaction, and again whenever the scope changed or a savepoint that may
  have held the setting was left. A statement outside any ``transaction.atomic()`` block that
  names a table behind a policy runs in a short transaction of its own (``BEGIN``,
  ``set_config``, the statement and ``COMMIT``, sent together in one pipeline). The settings
  therefore never outlive their transaction: a pooled or persistent connection never carries one
  request's tenants into the next.
* **Fail closed.** Without a scope nothing is set, and the policies show no tenant rows and
  refuse every write to them. A forgotten entry point answers empty, it does not leak.
* **Entry points clear, then set their own.** ``entry_point()`` (the request middleware, the
  task decorators, ``ScopedCommand``) starts from the empty scope whatever the caller held,
  and restores the caller's scope on exit; inside it ``set_entry_scope`` / ``widen_entry_scope``
  give the rest of the request its tenants once authentication and ``tenants.access`` resolved
  them.
* **Crossing tenants is explicit.** ``all_tenants(reason)`` (scheduling, agency-wide admin
  lists, retention and outbox sweeps, demo seeding, key rotation) logs exactly one line on
  entry, with the reason.
* **Nesting restores.** ``tenant_scope`` and ``all_tenants`` put the previous scope back on
  exit, also in the middle of an outer transaction (the next statement sets it again).

Tasks declare their scope with ``tenant_task`` (from their ``tenant_id`` argument),
``cross_tenant_task(reason)`` or ``platform_task`` (touches no tenant table); a test fails when a
task in an app's ``tasks.py`` declares none. Connections opened as the tables' owner
(``tenants.rls.owner_connection``: migrate, backups) and runs with ``SIGAP_RLS=off`` skip all
of this.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import logging
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, ParamSpec, TypeVar

from psycopg import ServerCursor, sql
from psycopg.pq import TransactionStatus

logger = logging.getLogger("sigap.dbscope")

GUC_TENANT_IDS = "sigap.tenant_ids"
GUC_AGENCY_ID = "sigap.agency_id"
GUC_ALL_TENANTS = "sigap.all_tenants"


@dataclass(frozen=True)
class Scope:
    """The tenants a piece of work may touch: ``tenant_ids``, or every tenant (``all_tenants``);
    ``agency_id`` lets it create and change the agency's tenants, memberships and keys."""

    tenant_ids: tuple[int, ...] = ()
    agency_id: int | None = None
    all_tenants: bool = False
    reason: str = field(default="", compare=False)

    def values(self) -> tuple[str, str, str]:
        """The three settings, as ``set_config`` gets them ('' for none)."""
        return (
            ",".join(str(tenant_id) for tenant_id in self.tenant_ids),
            "" if self.agency_id is None else str(self.agency_id),
            "on" if self.all_tenants else "",
        )


EMPTY = Scope()
_current: ContextVar[Scope] = ContextVar("sigap_db_scope", default=EMPTY)
_in_entry: ContextVar[bool] = ContextVar("sigap_db_entry", default=False)


def current() -> Scope:
    """The scope the next statement runs in."""
    return _current.get()


def tenant_ids_of(tenants: Iterable[Any] | Any) -> tuple[int, ...]:
    """Sorted, distinct ids from tenants (rows or ids), one tenant or several."""
    items = tenants if isinstance(tenants, Iterable) and not isinstance(tenants, str) else [tenants]
    ids = {int(getattr(item, "pk", item)) for item in items}
    return tuple(sorted(ids))


def tenants(tenant_ids: Iterable[Any] | Any, agency_id: int | None = None) -> Scope:
    return Scope(tenant_ids=tenant_ids_of(tenant_ids), agency_id=agency_id)


def everything(reason: str) -> Scope:
    """The cross-tenant scope; logs one line (who asked, and why)."""
    if not reason:
        raise ValueError("A cross-tenant scope needs a reason.")
    logger.info("cross-tenant database scope", extra={"reason": reason})
    return Scope(all_tenants=True, reason=reason)


@contextmanager
def _use(scope: Scope) -> Iterator[Scope]:
    token = _current.set(scope)
    failed = False
    try:
        _sync_now()
        yield scope
    except BaseException:
        failed = True
        raise
    finally:
        _current.reset(token)
        try:
            _sync_now()
        except Exception:
            if not failed:  # the block's own error matters more than the restore's
                raise


@contextmanager
def tenant_scope(tenant_ids: Iterable[Any] | Any, agency_id: int | None = None) -> Iterator[Scope]:
    """Run the block in the scope of these tenants (rows or ids) only; the previous scope comes
    back on exit."""
    with _use(tenants(tenant_ids, agency_id)) as scope:
        yield scope


@contextmanager
def all_tenants(reason: str) -> Iterator[Scope]:
    """Run the block across every tenant. Logs exactly one line, with ``reason``, on entry."""
    with _use(everything(reason)) as scope:
        yield scope


@contextmanager
def no_tenants() -> Iterator[Scope]:
    """Run the block with no tenant at all (the policies show no tenant rows)."""
    with _use(EMPTY) as scope:
        yield scope


@contextmanager
def entry_point(scope: Scope = EMPTY) -> Iterator[None]:
    """Where outside work comes in (a request, a task, a command): drop whatever scope the
    caller held and start from ``scope`` (by default none); ``set_entry_scope`` may change it
    for the rest of the block, once the caller is authenticated."""
    entry = _in_entry.set(True)
    try:
        with _use(scope):
            yield
    finally:
        _in_entry.reset(entry)


def set_entry_scope(scope: Scope) -> None:
    """Give the rest of the current entry point (a request, once authenticated) this scope."""
    if not _in_entry.get():
        raise RuntimeError("set_entry_scope() belongs inside dbscope.entry_point().")
    _current.set(scope)
    _sync_now()


def widen_entry_scope(tenant_ids: Iterable[Any] | Any) -> None:
    """Add tenants the caller was just proven to reach (GraphQL resolves them field by field)."""
    scope = current()
    if scope.all_tenants:
        return
    added = tenant_ids_of(tenant_ids)
    if set(added) <= set(scope.tenant_ids):
        return
    set_entry_scope(
        Scope(tenant_ids=tenant_ids_of((*scope.tenant_ids, *added)), agency_id=scope.agency_id)
    )


# --- Tasks ----------------------------------------------------------------------------------

_P = ParamSpec("_P")
_R = TypeVar("_R")
TASK_SCOPE_ATTRIBUTE = "sigap_task_scope"


def tenant_task(func: Callable[_P, _R]) -> Callable[_P, _R]:
    """A django-q2 task that runs in the scope of its ``tenant_id`` argument."""
    signature = inspect.signature(func)
    if "tenant_id" not in signature.parameters:
        raise TypeError(f"{func.__qualname__} takes no tenant_id; use cross_tenant_task.")

    @functools.wraps(func)
    def run(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        tenant_id = signature.bind(*args, **kwargs).arguments["tenant_id"]
        with entry_point(tenants([tenant_id])):
            return func(*args, **kwargs)

    setattr(run, TASK_SCOPE_ATTRIBUTE, "tenant")
    return run


def cross_tenant_task(reason: str) -> Callable[[Callable[_P, _R]], Callable[_P, _R]]:
    """A django-q2 task that works across tenants (schedulers, sweeps); logs one line a run."""

    def decorate(func: Callable[_P, _R]) -> Callable[_P, _R]:
        @functools.wraps(func)
        def run(*args: _P.args, **kwargs: _P.kwargs) -> _R:
            with entry_point(everything(reason)):
                return func(*args, **kwargs)

        setattr(run, TASK_SCOPE_ATTRIBUTE, "all")
        return run

    return decorate


def tenant_hook(func: Callable[[Any], _R]) -> Callable[[Any], _R]:
    """A django-q2 hook (called with the finished task) of a task whose first argument is its
    ``tenant_id``: runs in that tenant's scope."""

    @functools.wraps(func)
    def run(task: Any) -> _R:
        args = getattr(task, "args", None) or ()
        scope = tenants([args[0]]) if args else EMPTY
        with entry_point(scope):
            return func(task)

    setattr(run, TASK_SCOPE_ATTRIBUTE, "tenant")
    return run


def platform_task(func: Callable[_P, _R]) -> Callable[_P, _R]:
    """A django-q2 task that touches no tenant table (rate counters): the empty scope."""

    @functools.wraps(func)
    def run(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        with entry_point():
            return func(*args, **kwargs)

    setattr(run, TASK_SCOPE_ATTRIBUTE, "none")
    return run


# --- Applying the scope to the database ---------------------------------------------------

_SAVEPOINT_SQL = ("SAVEPOINT ", "RELEASE SAVEPOINT ", "ROLLBACK TO SAVEPOINT ")
_SET = sql.SQL(
    "SELECT set_config({}, %s, true), set_config({}, %s, true), set_config({}, %s, true)"
).format(sql.Literal(GUC_TENANT_IDS), sql.Literal(GUC_AGENCY_ID), sql.Literal(GUC_ALL_TENANTS))


@dataclass(frozen=True)
class _Applied:
    """What the connection's open transaction holds: the scope, set in which transaction
    (its outermost ``Atomic``) and under which savepoints."""

    scope: Scope
    block: Any
    savepoints: tuple[str | None, ...]


def _active(db: Any) -> bool:
    from django.conf import settings

    return bool(settings.SIGAP_RLS) and not db.settings_dict.get("SIGAP_OWNER")


def _held(db: Any, status: TransactionStatus) -> Scope | None:
    """The scope in force in the connection's transaction; None when unknown."""
    if status == TransactionStatus.IDLE:
        return EMPTY  # the next statement starts a transaction: nothing set yet
    applied: _Applied | None = getattr(db, "_sigap_applied", None)
    if status != TransactionStatus.INTRANS or applied is None:
        return None
    block = db.atomic_blocks[0] if db.atomic_blocks else None
    savepoints = tuple(db.savepoint_ids)
    if applied.block is not block or savepoints[: len(applied.savepoints)] != applied.savepoints:
        return None  # another transaction, or a savepoint that held the setting was left
    return applied.scope


def _sync(db: Any, want: Scope) -> None:
    """Inside a transaction block: make the transaction hold ``want``."""
    pg = db.connection
    status = pg.info.transaction_status
    if status not in (TransactionStatus.IDLE, TransactionStatus.INTRANS):
        return  # a failed transaction refuses everything anyway
    held = _held(db, status)
    if held != want:
        with db.wrap_database_errors:
            pg.execute(_SET, want.values())
    db._sigap_applied = _Applied(
        scope=want,
        block=db.atomic_blocks[0] if db.atomic_blocks else None,
        savepoints=tuple(db.savepoint_ids),
    )


def _sync_now() -> None:
    """Apply a scope change at once when a transaction block is open (raw cursors, such as the
    pipeline's COPY, do not pass through the wrapper)."""
    from django.db import connection

    if connection.connection is not None and connection.in_atomic_block and _active(connection):
        _sync(connection, current())


def _own_transaction(db: Any, want: Scope, run: Callable[[], Any], *, pipelined: bool) -> Any:
    """Run one statement in a transaction of its own that holds ``want``. ``pipelined``: BEGIN,
    the settings, the statement and COMMIT go out together (one round trip), and the statement's
    results are read from its cursor as usual once the pipeline is synced; server-side cursors
    (``QuerySet.iterator()``) cannot be pipelined and take one round trip each."""
    pg = db.connection
    try:
        with db.wrap_database_errors, pg.pipeline() if pipelined else contextlib.nullcontext():
            pg.execute("BEGIN")
            pg.execute(_SET, want.values())
            result = run()
            pg.execute("COMMIT")
    except BaseException:
        if not pg.closed and pg.info.transaction_status != TransactionStatus.IDLE:
            with db.wrap_database_errors:
                pg.execute("ROLLBACK")
        raise
    return result


_protected: tuple[str, ...] = ()


def _names_protected(sql_text: Any) -> bool:
    """Whether a statement names a table behind a policy. A statement outside a transaction
    that names none (the rate counter's upsert, the task queue's) runs as it is: the scope could
    only show it rows of those tables, and without it they show none (fail closed)."""
    global _protected
    if not _protected:
        from tenants.rls import desired_policies

        _protected = tuple(sorted(desired_policies()))
    text = sql_text if isinstance(sql_text, str) else str(sql_text)
    return any(table in text for table in _protected)


def scope_statements(
    execute: Callable[..., Any], sql_text: Any, params: Any, many: bool, context: dict[str, Any]
) -> Any:
    """The execute wrapper every connection gets (``install``)."""
    db = context["connection"]
    if not _active(db):
        return execute(sql_text, params, many, context)
    want = current()
    if not db.in_atomic_block:
        status = db.connection.info.transaction_status
        if want == EMPTY or status != TransactionStatus.IDLE or not _names_protected(sql_text):
            return execute(sql_text, params, many, context)
        pipelined = not isinstance(getattr(context["cursor"], "cursor", None), ServerCursor)
        return _own_transaction(
            db, want, lambda: execute(sql_text, params, many, context), pipelined=pipelined
        )
    if (
        isinstance(sql_text, str)
        and sql_text.startswith(_SAVEPOINT_SQL)
        and db.connection.info.transaction_status != TransactionStatus.IDLE
    ):
        return execute(sql_text, params, many, context)
    # A savepoint that opens the transaction (a decorated atomic service called inside another
    # decorated one) is preceded by the settings: a decorator's Atomic is one object for every
    # call, so the next transaction must not be taken for the one that held them.
    _sync(db, want)
    return execute(sql_text, params, many, context)


def install(sender: Any = None, connection: Any = None, **kwargs: Any) -> None:
    """``connection_created`` receiver: every new connection gets the scope wrapper."""
    if connection is not None and scope_statements not in connection.execute_wrappers:
        # Innermost: wrappers that observe statements (the test suite's) see the caller's frames.
        connection.execute_wrappers.append(scope_statements)
