"""The admin of statements: every screen answers the agency admin, lists only its agency's
rows, and the forms offer only its agency's workflows and templates; the demo's rows show."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from incidents.demo import seed_incident
from incidents.statements.models import ApprovalWorkflow
from playbooks.models import StatementTemplate
from tests.factories import UserFactory

SCREENS = (
    "playbooks/statementtemplate",
    "incidents/approvalworkflow",
    "incidents/approvalstep",
    "incidents/statement",
    "incidents/statementversion",
    "incidents/statementapproval",
    "incidents/publishrecord",
    "incidents/crisismode",
    "incidents/crisismodeevent",
    "incidents/stakeholder",
    "incidents/stakeholderinteraction",
    "incidents/rightofreply",
)


@pytest.fixture
def agency_admin(tenant: Any) -> Any:
    return UserFactory(agency=tenant.agency, is_agency_admin=True, is_staff=True, language="en")


def test_every_screen_lists_only_the_agencys_rows(
    agency_admin: Any, tenant: Any, other_tenant: Any, members: Any
) -> None:
    seed_incident(tenant)
    theirs = ApprovalWorkflow.objects.create(tenant=other_tenant, severity="sev4", name="THEIRS")
    StatementTemplate.objects.create(
        agency=other_tenant.agency,
        name="THEIR TEMPLATE",
        part_confirmed="a",
        part_actions="b",
        part_empathy="c",
        part_next_update="d",
    )
    client = Client()
    client.force_login(agency_admin)
    for screen in SCREENS:
        page = client.get(f"/admin/{screen}/")
        assert page.status_code == 200, screen
        assert b"THEIR" not in page.content, screen
    assert b"Tanggapan atas keluhan pelanggan" in client.get("/admin/incidents/statement/").content
    form = client.get("/admin/incidents/approvalstep/add/")
    choices = list(form.context["adminform"].form.fields["workflow"].queryset)
    assert choices and theirs not in choices
    assert client.get(f"/admin/incidents/approvalworkflow/{theirs.pk}/change/").status_code == 302


def test_a_running_crisis_mode_shows_first_on_the_start_pages(
    agency_admin: Any, tenant: Any, members: Any
) -> None:
    from incidents.statements import services
    from tests.incidents.factories import IncidentFactory

    incident = IncidentFactory(tenant=tenant, title="Boikot")
    services.start_crisis_mode(incident=incident, reason="Boikot meluas")
    client = Client()
    client.force_login(agency_admin)
    url = reverse("admin:tenants_tenant_overview", args=[tenant.pk])
    page = client.get(url).content.decode()
    assert "Boikot meluas" in page
    assert page.index("Boikot meluas") < page.index("Boikot (")


def test_the_agency_admin_keeps_agency_wide_and_tenant_templates_on_one_screen(
    agency_admin: Any, tenant: Any, other_tenant: Any
) -> None:
    client = Client()
    client.force_login(agency_admin)
    parts = {
        "language": "id",
        "part_confirmed": "Kami mengonfirmasi.",
        "part_actions": "Kami menangani.",
        "part_empathy": "Kami mohon maaf.",
        "part_next_update": "Kabar berikutnya segera.",
        "placeholders": "",
        "must_not": "[]",
    }
    add = "/admin/playbooks/statementtemplate/add/"
    made = client.post(add, {"agency": tenant.agency_id, "tenant": "", "name": "Umum", **parts})
    assert made.status_code == 302, made.content
    shared = StatementTemplate.objects.get(name="Umum")
    assert (shared.agency_id, shared.tenant_id, shared.owner) == (tenant.agency_id, None, "agency")
    again = client.post(add, {"agency": tenant.agency_id, "tenant": "", "name": "Umum", **parts})
    assert again.status_code == 200 and not again.context["adminform"].form.is_valid()
    own = client.post(
        add, {"agency": tenant.agency_id, "tenant": tenant.pk, "name": "Umum", **parts}
    )
    assert own.status_code == 302, own.content  # the tenant's own may share the agency's name
    assert StatementTemplate.objects.filter(tenant=tenant, name="Umum").count() == 1
    theirs = client.post(
        add, {"agency": other_tenant.agency_id, "tenant": "", "name": "Asing", **parts}
    )
    assert theirs.status_code == 200  # another agency is no choice
    assert not StatementTemplate.objects.filter(name="Asing").exists()
    change = f"/admin/playbooks/statementtemplate/{shared.pk}/change/"
    changed = client.post(change, {"name": "Umum baru", **parts})
    assert changed.status_code == 302, changed.content
    shared.refresh_from_db()
    assert (shared.name, shared.tenant_id) == ("Umum baru", None)
