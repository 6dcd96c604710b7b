"""A tenant's data as a whole: export it to files, or delete every row of it (UU PDP requests).

Which rows are the tenant's is found, not listed: the tenant itself, every row of every model of
every app with a foreign key to ``Tenant`` (so a new app's models are included without
touching this module), and the tenant's client users (people outside the agency, who belong to
one tenant only). Agency staff are the agency's people and are kept.

``export_tenant`` writes one JSON Lines file per model (``<app>.<model>.jsonl``, rows in primary
key order) and ``manifest.json`` with the count and SHA-256 of every file, from one
REPEATABLE READ snapshot, so the files agree with each other. No secret leaves: encrypted fields
(webhook secrets), key and token hashes and password hashes are left out, and the manifest names
what was left out.

``delete_tenant`` deletes model by model in bounded batches (one short transaction each, so the
database never holds a huge transaction and a run that is cut short can simply run again), the
tenant last. The tenant is suspended first, which stops new data arriving while it runs. Every
statement on a tenant table names the tenant (``tenants.models.TenantCollector``), except the
cascade of deleting the client users, which clears their assignments wherever they are.

Both leave an audit entry (django-auditlog ``LogEntry`` on the tenant, with the counts and the
operating-system user who ran the command); the entry outlives the tenant.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.apps import apps
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models, transaction
from django.utils import timezone

from tenants.crypto import EncryptedTextField
from tenants.models import Membership, Tenant, User, delete_pinned

logger = logging.getLogger("sigap.lifecycle")

FORMAT = "sigap-tenant-export/1"
BATCH_SIZE = 2000
# Secrets that are not encrypted fields: hashes of keys, tokens and passwords. The primary key
# of an API key row is "<prefix>.<hash>"; its ``prefix`` is exported instead.
SECRET_FIELDS = {
    "tenants.tenantapikey": {"id", "hashed_key"},
    "tenants.user": {"password"},
}
# Exported and deleted first after the rows holding protected keys (``_protects``): the large
# tables.
FIRST = (
    "monitoring.mention",
    "monitoring.authorbucket",
    "monitoring.authorslot",
    "monitoring.mentiontally",
    "monitoring.metricbucket",
    "monitoring.termbucket",
)


@dataclass
class TenantRows:
    """Where a model's rows of one tenant are: ``queryset`` and its label."""

    label: str
    model: type[models.Model]
    queryset: models.QuerySet[Any]
    excluded: list[str] = field(default_factory=list)


def _tenant_foreign_keys(model: type[models.Model]) -> list[str]:
    return [
        f.attname
        for f in model._meta.concrete_fields
        if f.many_to_one and f.related_model is Tenant
    ]


def client_users(tenant: Tenant) -> models.QuerySet[User]:
    """The tenant's people outside the agency: users without an agency whose memberships are
    all in this tenant (a client user belongs to one tenant only: ``Membership.clean``)."""
    return (
        User.objects.filter(agency__isnull=True, memberships__tenant=tenant)
        .exclude(memberships__in=Membership.objects.exclude(tenant=tenant))
        .filter(is_superuser=False)
        .distinct()
    )


def tenant_rows(tenant: Tenant) -> list[TenantRows]:
    """Every model's rows of ``tenant``, the large tables first and the tenant last."""
    found: list[TenantRows] = []
    for model in apps.get_models():
        if model._meta.proxy or not model._meta.managed:
            continue
        keys = _tenant_foreign_keys(model)
        if not keys:
            continue
        condition = models.Q()
        for attname in keys:
            condition |= models.Q(**{attname: tenant.pk})
        found.append(
            TenantRows(
                label=model._meta.label_lower,
                model=model,
                queryset=model._base_manager.filter(condition),
            )
        )
    found.sort(
        key=lambda r: (
            not _protects(r.model),
            FIRST.index(r.label) if r.label in FIRST else len(FIRST),
            r.label,
        )
    )
    found.append(TenantRows("tenants.user", User, client_users(tenant)))
    found.append(TenantRows("tenants.tenant", Tenant, Tenant.objects.filter(pk=tenant.pk)))
    for rows in found:
        rows.excluded = sorted(_excluded_fields(rows.model))
    return found


def _protects(model: type[models.Model]) -> bool:
    """True when ``model`` holds a PROTECT or RESTRICT foreign key: its rows go before the rows
    they hold (a publish record before its statement version), so deleting a tenant's rows in
    this order never meets a protected row."""
    return any(
        getattr(f.remote_field, "on_delete", None) in (models.PROTECT, models.RESTRICT)
        for f in model._meta.concrete_fields
        if f.is_relation and f.many_to_one
    )


def _excluded_fields(model: type[models.Model]) -> set[str]:
    excluded = set(SECRET_FIELDS.get(model._meta.label_lower, ()))
    for f in model._meta.concrete_fields:
        if isinstance(f, EncryptedTextField | models.GeneratedField):
            excluded.add(f.name)  # secrets, and derived columns (the search vector)
    return excluded


def _audit(tenant: Tenant, action: int, details: dict[str, Any]) -> None:
    from auditlog.models import LogEntry

    LogEntry.objects.log_create(
        tenant,
        force_log=True,
        action=action,
        changes={},
        additional_data={**details, "os_user": _os_user()},
    )


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return str(os.getuid()) if hasattr(os, "getuid") else ""


def count_rows(tenant: Tenant) -> dict[str, int]:
    return {rows.label: rows.queryset.count() for rows in tenant_rows(tenant)}


def export_tenant(*, tenant: Tenant, output: Path) -> dict[str, Any]:
    """Write the tenant's data under ``output`` (created, or empty); returns the manifest."""
    from auditlog.models import LogEntry

    output.mkdir(mode=0o700, parents=True, exist_ok=True)
    if any(output.iterdir()):
        raise FileExistsError(f"{output} is not empty")
    files: dict[str, Any] = {}
    outer = connection.in_atomic_block  # inside a caller's transaction, its snapshot rules
    with transaction.atomic():
        if not outer:
            with connection.cursor() as cursor:  # one snapshot for every file
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        for rows in tenant_rows(tenant):
            names = [
                f.attname for f in rows.model._meta.concrete_fields if f.name not in rows.excluded
            ]
            name = f"{rows.label}.jsonl"
            digest = hashlib.sha256()
            count = 0
            with (output / name).open("w", encoding="utf-8") as out:
                for row in rows.queryset.order_by("pk").values(*names).iterator(BATCH_SIZE):
                    line = json.dumps(row, cls=DjangoJSONEncoder, ensure_ascii=False) + "\n"
                    out.write(line)
                    digest.update(line.encode())
                    count += 1
            files[name] = {
                "model": rows.model._meta.label,
                "count": count,
                "sha256": digest.hexdigest(),
                "excluded_fields": rows.excluded,
            }
    manifest = {
        "format": FORMAT,
        "tenant": {"id": tenant.pk, "slug": tenant.slug, "name": tenant.name},
        "exported_at": timezone.now().isoformat(),
        "files": files,
    }
    (output / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False))
    counts = {name: entry["count"] for name, entry in files.items()}
    _audit(tenant, LogEntry.Action.ACCESS, {"operation": "export_tenant", "counts": counts})
    logger.info("tenant exported", extra={"tenant_id": tenant.pk, "counts": counts})
    return manifest


def _delete_users(user_ids: list[int]) -> dict[str, int]:
    """Delete the tenant's client users. Users are shared rows: the cascade (clearing the
    mentions assigned to them) cannot name one tenant, and is allowlisted as such."""
    return User.objects.filter(pk__in=user_ids).delete()[1]


def delete_tenant(*, tenant: Tenant, batch_size: int = BATCH_SIZE) -> dict[str, int]:
    """Delete every row of ``tenant`` in bounded batches; rows deleted per model label."""
    from auditlog.models import LogEntry

    planned = count_rows(tenant)
    _audit(tenant, LogEntry.Action.DELETE, {"operation": "delete_tenant", "counts": planned})
    if tenant.status != Tenant.Status.SUSPENDED:
        tenant.status = Tenant.Status.SUSPENDED
        tenant.save(update_fields=["status", "updated_at"])
    users = list(client_users(tenant).values_list("pk", flat=True))
    deleted: dict[str, int] = {}

    def add(counts: dict[str, int]) -> None:
        for label, n in counts.items():
            if n:
                deleted[label.lower()] = deleted.get(label.lower(), 0) + n

    for rows in tenant_rows(tenant):
        if rows.label in ("tenants.tenant", "tenants.user"):
            continue
        while True:
            with transaction.atomic():
                ids = list(rows.queryset.order_by().values_list("pk", flat=True)[:batch_size])
                if ids:
                    add(delete_pinned(rows.queryset.filter(pk__in=ids))[1])
            if len(ids) < batch_size:
                break
    with transaction.atomic():
        add(_delete_users(users))
        add(Tenant.objects.filter(pk=tenant.pk).delete()[1])
    logger.info("tenant deleted", extra={"tenant_id": tenant.pk, "counts": deleted})
    return deleted
