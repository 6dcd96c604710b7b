"""Row-level security in PostgreSQL: the two roles, the grants and the policies.

**Roles.** The *owner* owns every table: ``migrate`` (with its ``post_migrate`` handlers),
``createcachetable``, ``flush``, ``backup`` and ``restore`` connect as it through
``owner_connection`` (``DATABASE_OWNER_URL``; the superuser ``postgres`` on the embedded
server). The *application role* is what the web server, the workers and every other command
connect as (``DATABASE_URL``'s user; ``sigap_app`` on the embedded server): LOGIN, NOSUPERUSER,
NOBYPASSRLS, owner of nothing, with SELECT, INSERT, UPDATE and DELETE on the tables and USAGE
on the sequences, granted after every ``migrate`` and by default privileges for tables the owner
creates later (the cache table). ``unsafe_role`` is the start-up check of web and workers
(``config/startup.py``).

**Policies**, kept by ``apply`` after every ``migrate`` (idempotent: a missing or outdated
policy is created, a current one left alone, so a new tenant table gets its policy with the
migration that creates it):

* every tenant table (``tenants.dbtables``): ENABLE and FORCE ROW LEVEL SECURITY, one policy for
  every command: ``tenant_id`` must be in ``sigap.tenant_ids``, or ``sigap.all_tenants`` is
  ``on`` (both set with ``SET LOCAL`` by ``tenants.dbscope``). Reading shows nothing else;
  writing anything else is refused.
* every agency table (``tenants.dbtables.AGENCY_MODELS``: rows of an agency, ``tenant_id``
  empty, or of one of its tenants): ENABLE and FORCE, one policy for every command
  (``AGENCY_ROWS``): a tenant's row as above; an agency-wide row when its agency is
  ``sigap.agency_id`` or the agency of a tenant in ``sigap.tenant_ids``, or with
  ``sigap.all_tenants``.
* the shared tables read before a tenant is known (``SHARED_POLICIES``: agencies, tenants,
  memberships, tenant API keys): anyone may read (authentication and ``tenants.access`` need
  them); writes only within the scope (its tenants, its agency, or all tenants). Users and
  personal tokens are written at sign-in, invitations read by their link's page, before any
  scope: the application alone guards them (and the scheduling tables, which hold no client
  data).

Each setting is read through ``NULLIF(current_setting(name, true), '')`` (unset or emptied, it
is NULL, which matches nothing) inside a scalar sub-select, so PostgreSQL evaluates it once per
statement rather than once per row.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.db import connections
from psycopg import sql

from tenants.dbscope import GUC_AGENCY_ID, GUC_ALL_TENANTS, GUC_TENANT_IDS

logger = logging.getLogger("sigap.rls")

POLICY_PREFIX = "sigap_"
# Bump when a policy's expression changes: ``apply`` replaces policies of older versions.
POLICY_VERSION = 4

# A boolean computed once per statement (a row only reads the result).
_ALL = f"(SELECT coalesce(current_setting('{GUC_ALL_TENANTS}', true), '') = 'on')"
# The sub-select makes PostgreSQL compute the list once per statement (an InitPlan), cast to
# bigint[] inside it; the cast repeated outside is a no-op that makes ``= ANY (...)`` read it as
# an array (without it, ``= ANY (sub-select)`` would compare with each row of the sub-select).
_IDS = (
    f"(SELECT string_to_array(NULLIF(current_setting('{GUC_TENANT_IDS}', true), ''), ',')"
    "::bigint[])::bigint[]"
)
# The first tenant alone (NULL without one): most scopes hold one tenant, and comparing with a
# number costs a row far less than searching an array.
_FIRST = (
    f"(SELECT NULLIF(split_part(current_setting('{GUC_TENANT_IDS}', true), ',', 1), '')::bigint)"
)
_AGENCY = f"(SELECT NULLIF(current_setting('{GUC_AGENCY_ID}', true), '')::bigint)"

# The tenant tests first: one is true for every row a scoped statement sees, so PostgreSQL stops
# there (the cross-tenant flag is read only when neither is).
TENANT_ROWS = f"(tenant_id = {_FIRST} OR tenant_id = ANY ({_IDS}) OR {_ALL})"
_AGENCY_TENANTS = f"(SELECT t.id FROM tenants_tenant t WHERE t.agency_id = {_AGENCY})"  # noqa: S608 - constants
# Agency tables (``tenants.dbtables.AGENCY_MODELS``): a tenant's row as in a tenant table; an
# agency-wide row (no tenant) within the scope of its agency or of one of the agency's tenants.
_SCOPE_AGENCIES = f"(SELECT t.agency_id FROM tenants_tenant t WHERE t.id = ANY ({_IDS}))"  # noqa: S608
AGENCY_ROWS = (
    f"(tenant_id = {_FIRST} OR tenant_id = ANY ({_IDS}) OR {_ALL} OR (tenant_id IS NULL AND "
    f"(agency_id = {_AGENCY} OR agency_id IN {_SCOPE_AGENCIES})))"
)
# Shared tables: model label -> the condition for writing a row.
SHARED_POLICIES: dict[str, str] = {
    "tenants.Agency": f"(id = {_AGENCY} OR {_ALL})",
    "tenants.Tenant": f"(id = ANY ({_IDS}) OR agency_id = {_AGENCY} OR {_ALL})",
    "tenants.Membership": (
        f"(tenant_id = ANY ({_IDS}) OR {_ALL} OR tenant_id IN {_AGENCY_TENANTS})"
    ),
    "tenants.TenantApiKey": (
        f"(tenant_id = ANY ({_IDS}) OR {_ALL} OR tenant_id IN {_AGENCY_TENANTS})"
    ),
}


def policy_name(kind: str) -> str:
    return f"{POLICY_PREFIX}{kind}_v{POLICY_VERSION}"


def tenant_policies() -> dict[str, str]:
    """Policy name -> CREATE POLICY body (after ``ON table``) of a tenant table."""
    return {policy_name("tenant"): f"FOR ALL USING {TENANT_ROWS} WITH CHECK {TENANT_ROWS}"}


def agency_policies() -> dict[str, str]:
    """Policy name -> CREATE POLICY body of an agency table."""
    return {policy_name("agency"): f"FOR ALL USING {AGENCY_ROWS} WITH CHECK {AGENCY_ROWS}"}


def shared_policies(write: str) -> dict[str, str]:
    """Policies of a shared table: read by anyone, written within the scope."""
    return {
        policy_name("read"): "FOR SELECT USING (true)",
        policy_name("insert"): f"FOR INSERT WITH CHECK {write}",
        policy_name("update"): f"FOR UPDATE USING {write} WITH CHECK {write}",
        policy_name("delete"): f"FOR DELETE USING {write}",
    }


def desired_policies() -> dict[str, dict[str, str]]:
    """Table -> its policies, for every table that must have row-level security."""
    from django.apps import apps

    from tenants.dbtables import agency_tables, tenant_tables

    wanted = {table: tenant_policies() for table in tenant_tables()}
    wanted.update({table: agency_policies() for table in agency_tables()})
    for label, write in SHARED_POLICIES.items():
        wanted[apps.get_model(label)._meta.db_table] = shared_policies(write)
    return wanted


def _existing(cursor: Any, tables: list[str]) -> dict[str, tuple[bool, bool, set[str]]]:
    """Table -> (RLS enabled, forced, names of its policies) for the tables that exist."""
    cursor.execute(
        """
        SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity,
               coalesce(array_agg(p.polname) FILTER (WHERE p.polname IS NOT NULL), '{}')
        FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = current_schema()
        LEFT JOIN pg_policy p ON p.polrelid = c.oid
        WHERE c.relname = ANY(%s) AND c.relkind IN ('r', 'p')
        GROUP BY c.relname, c.relrowsecurity, c.relforcerowsecurity
        """,
        [tables],
    )
    return {name: (enabled, forced, set(names)) for name, enabled, forced, names in cursor}


def _statements(table: str, enabled: bool, forced: bool, names: set[str]) -> list[sql.Composed]:
    """What brings one table's row-level security to the wanted state (nothing when it is)."""
    policies = desired_policies()[table]
    target = sql.Identifier(table)
    statements = []
    if not enabled:
        statements.append(sql.SQL("ALTER TABLE {} ENABLE ROW LEVEL SECURITY").format(target))
    if not forced:
        statements.append(sql.SQL("ALTER TABLE {} FORCE ROW LEVEL SECURITY").format(target))
    for name in sorted(n for n in names if n.startswith(POLICY_PREFIX) and n not in policies):
        statements.append(sql.SQL("DROP POLICY {} ON {}").format(sql.Identifier(name), target))
    for name, body in policies.items():
        if name not in names:
            statements.append(
                sql.SQL("CREATE POLICY {} ON {} ").format(sql.Identifier(name), target)
                + sql.SQL(body)  # our own constant text (no caller input)
            )
    return statements


def apply_policies(using: str = "default", cursor: Any = None) -> list[str]:
    """Enable, force and create what is missing or outdated; answers the changed tables.
    Runs on the connection ``using`` (as its owner), or on ``cursor`` when given."""
    if cursor is None:
        with connections[using].cursor() as own:
            return apply_policies(cursor=own)
    changed = []
    existing = _existing(cursor, sorted(desired_policies()))
    for table, (enabled, forced, names) in sorted(existing.items()):
        statements = _statements(table, enabled, forced, names)
        for statement in statements:
            cursor.execute(statement.as_string(None))
        if statements:
            changed.append(table)
    return changed


def grant_app_role(using: str = "default") -> bool:
    """Give the application role its rights on every table and sequence, now and for tables
    the owner creates later. False when there is no separate application role."""
    role = settings.SIGAP_DATABASE_APP_ROLE
    with connections[using].cursor() as cursor:
        cursor.execute("SELECT current_user, current_schema()")
        owner, schema = cursor.fetchone()
        if not role or role == owner:
            return False
        names = {"role": sql.Identifier(role), "schema": sql.Identifier(schema)}
        for statement in (
            "GRANT USAGE ON SCHEMA {schema} TO {role}",
            "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {role}",
            "GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {role}",
            "ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} "
            "GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {role}",
            "ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} "
            "GRANT USAGE, SELECT ON SEQUENCES TO {role}",
        ):
            cursor.execute(sql.SQL(statement).format(**names).as_string(None))
    return True


def after_migrate(using: str = "default", **kwargs: Any) -> None:
    """``post_migrate`` handler: the policies, then the application role's grants."""
    changed = apply_policies(using)
    if changed:
        logger.info("row-level security policies applied", extra={"tables": changed})
    grant_app_role(using)


def missing_policies(cursor: Any = None) -> dict[str, list[str]]:
    """What the catalog lacks: table -> problems (no RLS, not forced, a policy missing). Empty
    when every tenant and shared table is protected. ``cursor`` defaults to the default
    connection's (the meta-test also runs it on another connection)."""
    wanted = desired_policies()
    if cursor is None:
        with connections["default"].cursor() as own:
            existing = _existing(own, sorted(wanted))
    else:
        existing = _existing(cursor, sorted(wanted))
    problems: dict[str, list[str]] = {}
    for table, policies in sorted(wanted.items()):
        if table not in existing:
            problems[table] = ["no such table"]
            continue
        enabled, forced, names = existing[table]
        found = [] if enabled else ["row level security disabled"]
        found += [] if forced else ["row level security not forced"]
        found += [f"no policy {name}" for name in policies if name not in names]
        if found:
            problems[table] = found
    return problems


# --- Roles ------------------------------------------------------------------------------


def owner_settings(current: dict[str, Any]) -> dict[str, Any]:
    """``current`` (a connection's settings) turned to the owner role on the same database.

    The owner's sessions set ``sigap.all_tenants=on`` at connect time: an owner that is no
    superuser and lacks BYPASSRLS is subject to the forced policies, and its work (migrations,
    flush) spans every tenant."""
    owner = {key: value for key, value in settings.SIGAP_DATABASE_OWNER.items() if value}
    options = dict(current.get("OPTIONS") or {})
    flag = f"-c {GUC_ALL_TENANTS}=on"
    options["options"] = f"{options.get('options', '')} {flag}".strip()
    return {**current, **owner, "OPTIONS": options, "SIGAP_OWNER": True}


def is_owner(using: str = "default") -> bool:
    return bool(connections[using].settings_dict.get("SIGAP_OWNER"))


@contextmanager
def owner_connection(reason: str, using: str = "default") -> Iterator[None]:
    """Run the block on a connection of the owner role (this thread only); logs one line.

    The connection in use is closed first and again at the end, so the block gets a fresh owner
    session and the code after it a fresh session of the application role."""
    db = connections[using]
    if is_owner(using):
        yield
        return
    if db.in_atomic_block:
        raise RuntimeError("owner_connection() cannot start inside a transaction.")
    logger.info("owner connection", extra={"reason": reason})
    original = db.settings_dict
    db.close()
    db.settings_dict = owner_settings(original)
    try:
        yield
    finally:
        db.close()
        db.settings_dict = original


_ROLE_KEYS = ("USER", "PASSWORD", "HOST", "PORT", "OPTIONS", "SIGAP_OWNER")
_application_role: dict[str, Any] = {}


def use_role(role: str, using: str = "default") -> None:
    """Point the connection ``using`` of *every* thread (their settings dict is shared) at the
    ``"owner"`` or back at the ``"application"`` role, keeping the database name. For code that
    creates its own database: the test suite creates, migrates and drops it as the owner and
    runs as the application role in between (``tests/conftest.py``, the fuzz runner)."""
    db = connections[using]
    current = db.settings_dict
    if not current.get("SIGAP_OWNER") and not _application_role:
        _application_role.update({key: current[key] for key in _ROLE_KEYS if key in current})
    if role == "owner":
        target = owner_settings(current)
    elif role == "application":
        target = dict(_application_role)
    else:
        raise ValueError(f"no role {role!r}: 'owner' or 'application'")
    db.close()
    # A pool (SIGAP_DB_POOL) keeps connections of the role it was opened with: closed, the next
    # connection opens a new pool as the role set here (PostgreSQL's backend has pools).
    close_pool = getattr(db, "close_pool", None)
    if close_pool is not None:
        close_pool()
    for key in _ROLE_KEYS:
        if key in target:
            current[key] = target[key]
        else:
            current.pop(key, None)


def unsafe_role(using: str = "default") -> str | None:
    """Why the role ``using`` connects as would bypass the policies (None: it would not): a
    superuser, a BYPASSRLS role, or the owner of a tenant table."""
    from tenants.dbtables import tenant_tables

    db = connections[using]
    with db.cursor() as cursor:
        cursor.execute(
            """
            SELECT r.rolname, r.rolsuper, r.rolbypassrls,
                (SELECT count(*) FROM pg_class c WHERE c.relowner = r.oid AND c.relname = ANY(%s))
            FROM pg_roles r WHERE r.rolname = current_user
            """,
            [sorted(tenant_tables())],
        )
        name, superuser, bypass, owned = cursor.fetchone()
    if superuser:
        return f"role {name!r} is a superuser"
    if bypass:
        return f"role {name!r} has BYPASSRLS"
    if owned:
        return f"role {name!r} owns the tenant tables"
    return None
