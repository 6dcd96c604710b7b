"""Row-level security of the agency tables (playbooks, steps, versions; statement templates
in tests/statements/test_template_rls.py): a tenant's scope sees
its own playbooks and its agency's, never a sibling tenant's or another agency's, and cannot
write any of those; an agency's scope (the admin of an agency admin) sees the agency's."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import ProgrammingError, connection, transaction

from playbooks import services
from playbooks.models import Playbook, PlaybookStep, PlaybookVersion
from tenants import dbscope, rls
from tenants.dbtables import agency_tables
from tests.factories import TenantFactory

STEPS = [{"key": "a", "title": "A", "role": "analyst"}]


@pytest.fixture
def rows(tenant: Any, other_tenant: Any) -> dict[str, Playbook]:
    sibling = TenantFactory(agency=tenant.agency)
    return {
        "own": services.create_playbook(tenant=tenant, name="Own", steps=STEPS),
        "agency": services.create_playbook(tenant=tenant, name="Agency", owner="agency"),
        "sibling": services.create_playbook(tenant=sibling, name="Sibling", steps=STEPS),
        "other": services.create_playbook(
            tenant=other_tenant, name="Other", owner="agency", steps=STEPS
        ),
    }


def test_agency_tables_have_forced_row_level_security(db: Any) -> None:
    assert agency_tables() == {
        "playbooks_playbook",
        "playbooks_playbookstep",
        "playbooks_playbookversion",
        "playbooks_statementtemplate",  # tests/statements/test_template_rls.py
    }
    assert rls.missing_policies() == {}


def test_a_tenant_scope_sees_its_own_and_its_agencys_rows_only(
    tenant: Any, rows: dict[str, Playbook]
) -> None:
    with dbscope.tenant_scope([tenant]):
        # unfiltered: the database alone keeps the other rows away
        assert set(Playbook.objects.values_list("name", flat=True)) == {"Own", "Agency"}
        assert set(PlaybookStep.objects.values_list("playbook_id", flat=True)) == {rows["own"].pk}
        assert set(PlaybookVersion.objects.values_list("playbook_id", flat=True)) == {
            rows["own"].pk,
            rows["agency"].pk,
        }
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM playbooks_playbook")
            assert cursor.fetchone() == (2,)
        assert Playbook.objects.filter(pk=rows["other"].pk).update(name="x") == 0
        assert Playbook.objects.filter(pk=rows["sibling"].pk).update(name="x") == 0


def test_a_tenant_scope_cannot_write_another_agencys_or_a_siblings_rows(
    tenant: Any, other_tenant: Any, rows: dict[str, Playbook]
) -> None:
    with dbscope.tenant_scope([tenant]):
        refused = pytest.raises(ProgrammingError, match="row-level security")
        with refused, transaction.atomic():
            Playbook.objects.create(agency=other_tenant.agency, name="Injected")
        with refused, transaction.atomic():
            Playbook.objects.filter(pk=rows["own"].pk).update(tenant=other_tenant)
        Playbook.objects.create(agency=tenant.agency, name="Ours, agency-wide")  # fine
    assert not Playbook.objects.filter(name="Injected").exists()


def test_an_agency_scope_sees_the_agency_rows(tenant: Any, rows: dict[str, Playbook]) -> None:
    with dbscope.tenant_scope([], agency_id=tenant.agency_id):
        assert set(Playbook.objects.values_list("name", flat=True)) == {"Agency"}
