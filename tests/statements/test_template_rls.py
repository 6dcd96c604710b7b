"""Holding-statement templates are one agency table under row-level security
(``tenants.rls.AGENCY_ROWS``): a tenant's scope sees its own templates and its agency's, never a
sibling tenant's or another agency's, even with raw SQL, and cannot write any of those; REST
lists the tenant's own and its agency's, and leaves the agency's read-only."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import ProgrammingError, connection, transaction
from django.urls import reverse

from incidents.statements import services as statement_services
from playbooks import services
from playbooks.models import StatementTemplate
from tenants import dbscope, rls
from tenants.dbtables import agency_tables, tenant_tables
from tenants.roles import Role
from tests.factories import TenantFactory
from tests.incidents.factories import IncidentFactory

PARTS = {
    "part_confirmed": "Kami mengonfirmasi gangguan.",
    "part_actions": "Tim kami memperbaikinya.",
    "part_empathy": "Kami mohon maaf.",
    "part_next_update": "Kabar berikutnya pukul 12.00.",
}


def agency_template(agency: Any, name: str) -> StatementTemplate:
    return services.save_agency_template(
        instance=StatementTemplate(name=name, **PARTS), agency=agency
    )


@pytest.fixture
def rows(tenant: Any, other_tenant: Any) -> dict[str, StatementTemplate]:
    sibling = TenantFactory(agency=tenant.agency)
    return {
        "own": services.create_statement_template(tenant=tenant, name="Own", **PARTS),
        "agency": agency_template(tenant.agency, "Agency"),
        "sibling": services.create_statement_template(tenant=sibling, name="Sibling", **PARTS),
        "other": agency_template(other_tenant.agency, "Other agency"),
        "other tenant": services.create_statement_template(
            tenant=other_tenant, name="Other tenant", **PARTS
        ),
    }


def test_the_template_table_is_an_agency_table_with_forced_row_level_security(db: Any) -> None:
    table = StatementTemplate._meta.db_table
    assert table in agency_tables() and table not in tenant_tables()
    assert rls.missing_policies() == {}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE relname = %s", [table]
        )
        assert cursor.fetchone() == (True, True)
        cursor.execute("SELECT polname FROM pg_policy WHERE polrelid = %s::regclass", [table])
        assert [name for (name,) in cursor] == [rls.policy_name("agency")]


def test_a_tenant_scope_sees_its_own_and_its_agencys_templates_only(
    tenant: Any, rows: dict[str, StatementTemplate]
) -> None:
    with dbscope.tenant_scope([tenant]):
        # unfiltered: the database alone keeps the other rows away, raw SQL included
        assert set(StatementTemplate.objects.values_list("name", flat=True)) == {"Own", "Agency"}
        with connection.cursor() as cursor:
            cursor.execute("SELECT name FROM playbooks_statementtemplate ORDER BY name")
            assert cursor.fetchall() == [("Agency",), ("Own",)]
            cursor.execute(
                "SELECT count(*) FROM playbooks_statementtemplate WHERE id = ANY(%s)",
                [[rows["other"].pk, rows["other tenant"].pk, rows["sibling"].pk]],
            )
            assert cursor.fetchone() == (0,)
        assert StatementTemplate.objects.filter(pk=rows["other"].pk).update(name="x") == 0
        assert StatementTemplate.objects.filter(pk=rows["sibling"].pk).update(name="x") == 0
    assert set(StatementTemplate.objects.for_tenant(tenant).values_list("name", flat=True)) == {
        "Own",
        "Agency",
    }


def test_a_tenant_scope_cannot_write_another_agencys_or_another_tenants_templates(
    tenant: Any, other_tenant: Any, rows: dict[str, StatementTemplate]
) -> None:
    with dbscope.tenant_scope([tenant]):
        refused = pytest.raises(ProgrammingError, match="row-level security")
        with refused, transaction.atomic():
            StatementTemplate.objects.create(agency=other_tenant.agency, name="Injected", **PARTS)
        with refused, transaction.atomic():
            StatementTemplate.objects.create(
                agency=other_tenant.agency, tenant=other_tenant, name="Injected", **PARTS
            )
        with refused, transaction.atomic():
            StatementTemplate.objects.filter(pk=rows["own"].pk).update(tenant=other_tenant)
    assert not StatementTemplate.objects.filter(name="Injected").exists()


def test_an_agency_scope_sees_the_agency_templates(
    tenant: Any, rows: dict[str, StatementTemplate]
) -> None:
    with dbscope.tenant_scope([], agency_id=tenant.agency_id):
        assert set(StatementTemplate.objects.values_list("name", flat=True)) == {"Agency"}


def _url(tenant: Any, pk: Any = None) -> str:
    if pk is None:
        return reverse("statement-template-list", kwargs={"tenant_slug": tenant.slug})
    return reverse("statement-template-detail", kwargs={"tenant_slug": tenant.slug, "pk": pk})


def test_rest_lists_the_tenants_and_its_agencys_templates_and_keeps_the_agencys_read_only(
    api: Any, tenant: Any, members: Any, rows: dict[str, StatementTemplate]
) -> None:
    manager = api(members[Role.RESPONDER])
    listed = manager.get(_url(tenant))
    assert listed.status_code == 200, listed.content
    owners = {row["name"]: row["owner"] for row in listed.json()["results"]}
    assert owners == {"Own": "tenant", "Agency": "agency"}
    agency_id = rows["agency"].pk
    assert manager.get(_url(tenant, agency_id)).status_code == 200
    changed = manager.patch(_url(tenant, agency_id), {"name": "Mine now"}, format="json")
    assert changed.status_code == 403, changed.content
    assert manager.delete(_url(tenant, agency_id)).status_code == 403
    for theirs in ("other", "other tenant", "sibling"):
        assert manager.get(_url(tenant, rows[theirs].pk)).status_code == 404
    rows["agency"].refresh_from_db()
    assert rows["agency"].name == "Agency"
    old = reverse("agency-statement-templates", kwargs={"tenant_slug": tenant.slug})
    assert [row["name"] for row in manager.get(old).json()] == ["Agency"]


def test_a_statement_drafts_from_an_agency_template_of_its_own_agency_only(
    tenant: Any, rows: dict[str, StatementTemplate]
) -> None:
    incident = IncidentFactory(tenant=tenant)
    statement = statement_services.create_statement(
        incident=incident, title="Gangguan", template=rows["agency"].pk
    )
    assert statement.template_id == rows["agency"].pk
    assert statement.versions.get().text.startswith("Kami mengonfirmasi gangguan.")
    for theirs in ("other", "other tenant", "sibling"):
        with pytest.raises(Exception) as refused:
            statement_services.create_statement(
                incident=incident, title="x", template=rows[theirs].pk
            )
        assert refused.value.error_dict["template"][0].code == "not_found"  # type: ignore[attr-defined]
