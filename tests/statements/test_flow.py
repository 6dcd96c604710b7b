"""Statements through REST: templates with placeholders checked on save, drafts filled from a
template, versions and their diff, the approval workflow by severity (ordered steps, any/all,
no self-approval, no old version, an approved version never changes), the client approver,
publishing (the first publication stamps the first statement) and the bad input of issue 15."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from incidents import services as incident_services
from incidents.line import approved_line
from incidents.models import Incident, TimelineEntry
from incidents.statements import selectors, services
from incidents.statements.models import (
    ApprovalStep,
    ApprovalWorkflow,
    PublishRecord,
    Statement,
    StatementApproval,
    StatementVersion,
)
from playbooks.models import StatementTemplate
from tenants.models import Delivery
from tenants.notify.tasks import send_delivery
from tenants.roles import Role
from tests.factories import MembershipFactory, UserFactory
from tests.incidents.factories import IncidentFactory

TEMPLATE = {
    "name": "Holding: outage",
    "language": "id",
    "part_confirmed": "Kami mengonfirmasi gangguan {service} sejak {since}.",
    "part_actions": "Tim kami sedang memulihkan layanan.",
    "part_empathy": "Kami memahami ketidaknyamanan yang Anda alami.",
    "part_next_update": "Kabar berikutnya pukul {next_update}.",
    "placeholders": ["service", "since", "next_update"],
    "must_not": [{"category": "speculation", "phrase": "kemungkinan diretas"}],
}
VALUES = {"service": "aplikasi", "since": "09.00 WIB", "next_update": "12.00 WIB"}


def url(tenant: Any, basename: str, pk: Any = None, action: str | None = None) -> str:
    action = action.replace("_", "-") if action else None
    if pk is None:
        name = f"{basename}-{action}" if action else f"{basename}-list"
        return reverse(name, kwargs={"tenant_slug": tenant.slug})
    name = f"{basename}-{action}" if action else f"{basename}-detail"
    return reverse(name, kwargs={"tenant_slug": tenant.slug, "pk": pk})


def error(response: Any) -> tuple[str, str]:
    first = response.json()["errors"][0]
    return first["attr"], first["code"]


@pytest.fixture
def incident(tenant: Any) -> Incident:
    return IncidentFactory(tenant=tenant, severity="sev2")


@pytest.fixture
def template(api: Any, tenant: Any, members: Any) -> dict[str, Any]:
    response = api(members[Role.RESPONDER]).post(
        url(tenant, "statement-template"), TEMPLATE, format="json"
    )
    assert response.status_code == 201, response.content
    return response.json()  # type: ignore[no-any-return]


def draft(api: Any, tenant: Any, members: Any, incident: Any, template: Any) -> dict[str, Any]:
    response = api(members[Role.RESPONDER]).post(
        url(tenant, "statement"),
        {
            "incident": incident.pk,
            "title": "Gangguan",
            "template": template["id"],
            "values": VALUES,
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    return response.json()  # type: ignore[no-any-return]


def deliver() -> list[str]:
    """Run the send task of every pending delivery (the approval e-mails go through the
    delivery log, ``tenants.notify``); their statuses after."""
    return [
        send_delivery(row.tenant_id, row.pk)
        for row in Delivery.objects.filter(status="pending").order_by("pk")
    ]


def only_version(statement: dict[str, Any]) -> StatementVersion:
    return StatementVersion.objects.get(statement_id=statement["id"])


@pytest.mark.parametrize(
    ("change", "field", "code"),
    [
        ({"part_actions": "Kami memperbaiki {sistem}."}, "part_actions", "placeholder_unknown"),
        (
            {"placeholders": ["service", "since", "next_update", "extra"]},
            "placeholders",
            "placeholder_unused",
        ),
        ({"part_empathy": "Maaf {Nama"}, "part_empathy", "placeholder_malformed"),
        ({"part_empathy": "  "}, "part_empathy", "blank"),
        ({"must_not": [{"category": "rumour", "phrase": "x"}]}, "must_not", "invalid_must_not"),
    ],
)
def test_template_placeholders_and_parts_are_checked_on_save(
    api: Any, tenant: Any, members: Any, change: dict[str, Any], field: str, code: str
) -> None:
    response = api(members[Role.RESPONDER]).post(
        url(tenant, "statement-template"), {**TEMPLATE, **change}, format="json"
    )
    assert response.status_code == 400, response.content
    assert error(response) == (field, code)
    assert not StatementTemplate.objects.exists()


def test_a_placeholder_left_unfilled_is_refused_and_nothing_is_made(
    api: Any, tenant: Any, members: Any, incident: Any, template: Any
) -> None:
    response = api(members[Role.RESPONDER]).post(
        url(tenant, "statement"),
        {
            "incident": incident.pk,
            "title": "Gangguan",
            "template": template["id"],
            "values": {**VALUES, "since": " "},
        },
        format="json",
    )
    assert response.status_code == 400
    assert error(response) == ("values", "placeholder_unfilled")
    assert "since" in response.json()["errors"][0]["detail"]
    assert not Statement.objects.exists()


def test_a_draft_is_filled_from_the_template_in_order(
    api: Any, tenant: Any, members: Any, incident: Any, template: Any
) -> None:
    statement = draft(api, tenant, members, incident, template)
    version = only_version(statement)
    assert version.text.split("\n\n") == [
        "Kami mengonfirmasi gangguan aplikasi sejak 09.00 WIB.",
        "Tim kami sedang memulihkan layanan.",
        "Kami memahami ketidaknyamanan yang Anda alami.",
        "Kabar berikutnya pukul 12.00 WIB.",
    ]
    assert statement["must_not"] == ["kemungkinan diretas"]
    assert version.status == "draft" and version.number == 1


def test_versions_and_a_readable_diff(
    api: Any, tenant: Any, members: Any, incident: Any, template: Any
) -> None:
    statement = draft(api, tenant, members, incident, template)
    first = only_version(statement)
    client = api(members[Role.RESPONDER])
    new_text = first.text.replace("12.00 WIB", "13.00 WIB")
    response = client.post(
        url(tenant, "statement", statement["id"], "revise"), {"text": new_text}, format="json"
    )
    assert response.status_code == 201, response.content
    second = response.json()
    assert second["number"] == 2
    first.refresh_from_db()
    assert first.status == "withdrawn"
    response = client.get(url(tenant, "statement-version", second["id"], "diff"))
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["from_number"], body["to_number"]) == (1, 2)
    assert "-Kabar berikutnya pukul 12.00 WIB." in body["unified"]
    assert "+Kabar berikutnya pukul 13.00 WIB." in body["unified"]
    replaced = [c for c in body["changes"] if c["op"] != "equal"]
    assert replaced == [{"op": "replace", "before": "12.00", "after": "13.00"}]


def two_step_workflow(tenant: Any, approvers: list[Any], backup: Any, *, mode: str = "all") -> None:
    workflow = ApprovalWorkflow.objects.create(tenant=tenant, severity="sev2")
    ApprovalStep.objects.create(
        tenant=tenant,
        workflow=workflow,
        position=1,
        kind="agency",
        mode=mode,
        approvers=[u.pk for u in approvers],
        time_box_minutes=15,
        backup=backup,
    )
    ApprovalStep.objects.create(
        tenant=tenant,
        workflow=workflow,
        position=2,
        kind="client",
        mode="any",
        time_box_minutes=30,
    )


def test_the_workflow_by_severity_all_approvers_then_the_client(
    api: Any,
    tenant: Any,
    members: Any,
    incident: Any,
    template: Any,
    mailoutbox: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    second_approver = UserFactory(email="approver2@kopi.test", agency=tenant.agency)
    MembershipFactory(tenant=tenant, user=second_approver, role=Role.APPROVER)
    two_step_workflow(tenant, [members[Role.APPROVER], second_approver], backup=None)
    incident_services.assign_role(
        incident=incident, user=members[Role.CLIENT], role="client_approver"
    )
    statement = draft(api, tenant, members, incident, template)
    version = only_version(statement)
    with django_capture_on_commit_callbacks(execute=True):
        response = api(members[Role.RESPONDER]).post(
            url(tenant, "statement-version", version.pk, "submit")
        )
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "submitted"
    assert [step["kind"] for step in response.json()["steps"]] == ["agency", "client"]
    deliver()
    assert sorted(m.to[0] for m in mailoutbox) == ["approver2@kopi.test", "approver@kopi.test"]

    approve = url(tenant, "statement-version", version.pk, "approve")
    # The client cannot decide the agency step.
    client_url = url(tenant, "statement-version", version.pk, "client_decision")
    refused = api(members[Role.CLIENT]).post(client_url, {"decision": "approved"}, format="json")
    assert refused.status_code == 400 and error(refused) == ("version", "not_an_approver")

    first = api(members[Role.APPROVER]).post(approve, {"decision": "approved"}, format="json")
    assert first.status_code == 200 and first.json()["current_step"] == 0  # "all": one more
    again = api(members[Role.APPROVER]).post(approve, {"decision": "approved"}, format="json")
    assert again.status_code == 400 and error(again) == ("version", "already_decided")
    with django_capture_on_commit_callbacks(execute=True):
        second = api(second_approver).post(approve, {"decision": "approved"}, format="json")
    assert second.json()["current_step"] == 1 and second.json()["status"] == "submitted"
    deliver()
    assert mailoutbox[-1].to == ["client@kopi.test"]

    # An approver cannot decide the client step.
    third = api(members[Role.APPROVER]).post(approve, {"decision": "approved"}, format="json")
    assert third.status_code == 400 and error(third) == ("version", "not_an_approver")
    done = api(members[Role.CLIENT]).post(
        client_url, {"decision": "approved", "comment": "OK"}, format="json"
    )
    assert done.status_code == 200, done.content
    assert done.json()["status"] == "approved"
    assert StatementApproval.objects.filter(version=version).count() == 3
    cycle = selectors.approval_cycle_times(incident)
    assert len(cycle) == 1 and cycle[0] >= timedelta(0)
    line = approved_line(incident)
    assert line.statement == version.text and line.statement_version_id == version.pk
    assert line.must_not == ("kemungkinan diretas",) and line.language == "id"


def test_a_client_who_is_not_the_incidents_client_approver_cannot_decide(
    api: Any, tenant: Any, members: Any, incident: Any, template: Any
) -> None:
    workflow = ApprovalWorkflow.objects.create(tenant=tenant, severity="sev2")
    ApprovalStep.objects.create(tenant=tenant, workflow=workflow, position=1, kind="client")
    statement = draft(api, tenant, members, incident, template)
    version = only_version(statement)
    services_submit(version)
    response = api(members[Role.CLIENT]).post(
        url(tenant, "statement-version", version.pk, "client_decision"),
        {"decision": "approved"},
        format="json",
    )
    assert response.status_code == 400 and error(response) == ("version", "not_an_approver")
    assert not StatementApproval.objects.exists()


def services_submit(version: StatementVersion) -> None:
    from incidents.authority import SYSTEM

    services.submit_version(version=version, authority=SYSTEM)


def test_self_approval_old_versions_and_editing_approved_versions_are_refused(
    api: Any, tenant: Any, members: Any, incident: Any, template: Any
) -> None:
    # A responder drafts and submits, then becomes an approver: still not for their own draft.
    both = UserFactory(email="both@kopi.test", agency=tenant.agency)
    membership = MembershipFactory(tenant=tenant, user=both, role=Role.RESPONDER)
    response = api(both).post(
        url(tenant, "statement"),
        {"incident": incident.pk, "title": "Sendiri", "text": "Kami mengonfirmasi."},
        format="json",
    )
    assert response.status_code == 201, response.content
    own = only_version(response.json())
    api(both).post(url(tenant, "statement-version", own.pk, "submit"))
    membership.role = Role.APPROVER
    membership.save()
    refused = api(both).post(
        url(tenant, "statement-version", own.pk, "approve"), {"decision": "approved"}, format="json"
    )
    assert refused.status_code == 400 and error(refused) == ("version", "self_approval")
    own.refresh_from_db()
    assert own.status == "submitted" and not StatementApproval.objects.exists()

    # An old version: v1 submitted, then v2 made; approving v1 is refused.
    statement = draft(api, tenant, members, incident, template)
    v1 = only_version(statement)
    api(members[Role.RESPONDER]).post(url(tenant, "statement-version", v1.pk, "submit"))
    api(members[Role.RESPONDER]).post(
        url(tenant, "statement", statement["id"], "revise"), {"text": "Versi kedua."}, format="json"
    )
    old = api(members[Role.APPROVER]).post(
        url(tenant, "statement-version", v1.pk, "approve"), {"decision": "approved"}, format="json"
    )
    assert old.status_code == 400 and error(old) == ("version", "stale_version")

    # An approved version never changes.
    v2 = StatementVersion.objects.get(statement_id=statement["id"], number=2)
    api(members[Role.RESPONDER]).post(url(tenant, "statement-version", v2.pk, "submit"))
    ok = api(members[Role.APPROVER]).post(
        url(tenant, "statement-version", v2.pk, "approve"), {"decision": "approved"}, format="json"
    )
    assert ok.json()["status"] == "approved"
    edit = api(members[Role.RESPONDER]).patch(
        url(tenant, "statement-version", v2.pk), {"text": "Diubah."}, format="json"
    )
    assert edit.status_code == 400 and error(edit) == ("text", "immutable")
    v2.refresh_from_db()
    assert v2.text == "Versi kedua."


def test_a_rejection_needs_a_comment(
    api: Any, tenant: Any, members: Any, incident: Any, template: Any
) -> None:
    version = only_version(draft(api, tenant, members, incident, template))
    services_submit(version)
    approve = url(tenant, "statement-version", version.pk, "approve")
    bare = api(members[Role.APPROVER]).post(approve, {"decision": "rejected"}, format="json")
    assert bare.status_code == 400 and error(bare) == ("comment", "required")
    done = api(members[Role.APPROVER]).post(
        approve, {"decision": "rejected", "comment": "Terlalu panjang."}, format="json"
    )
    assert done.json()["status"] == "rejected"


def test_a_step_out_of_time_asks_its_backup_who_may_then_approve(
    api: Any,
    tenant: Any,
    members: Any,
    incident: Any,
    template: Any,
    mailoutbox: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    backup = UserFactory(email="backup@kopi.test", agency=tenant.agency)
    MembershipFactory(tenant=tenant, user=backup, role=Role.APPROVER)
    workflow = ApprovalWorkflow.objects.create(tenant=tenant, severity="sev2")
    ApprovalStep.objects.create(
        tenant=tenant,
        workflow=workflow,
        position=1,
        approvers=[members[Role.APPROVER].pk],
        time_box_minutes=15,
        backup=backup,
    )
    version = only_version(draft(api, tenant, members, incident, template))
    services_submit(version)
    approve = url(tenant, "statement-version", version.pk, "approve")
    early = api(backup).post(approve, {"decision": "approved"}, format="json")
    assert early.status_code == 400 and error(early) == ("version", "not_an_approver")
    assert (
        services.escalate_expired_steps(
            tenant_id=tenant.pk, now=timezone.now() + timedelta(minutes=10)
        )
        == 0
    )
    with django_capture_on_commit_callbacks(execute=True):
        later = timezone.now() + timedelta(minutes=16)
        assert services.escalate_expired_steps(tenant_id=tenant.pk, now=later) == 1
    assert (
        services.escalate_expired_steps(
            tenant_id=tenant.pk, now=timezone.now() + timedelta(minutes=30)
        )
        == 0
    )
    deliver()
    assert mailoutbox[-1].to == ["backup@kopi.test"]
    late = api(backup).post(approve, {"decision": "approved"}, format="json")
    assert late.status_code == 200 and late.json()["status"] == "approved"
    assert StatementApproval.objects.get(version=version).as_backup


def test_publishing_an_approved_version_stamps_the_first_statement(
    api: Any, tenant: Any, members: Any, incident: Any, template: Any
) -> None:
    version = only_version(draft(api, tenant, members, incident, template))
    publish = url(tenant, "publish-record")
    early = api(members[Role.RESPONDER]).post(
        publish, {"version": version.pk, "channel": "x"}, format="json"
    )
    assert early.status_code == 400 and error(early) == ("version", "not_approved")
    services_submit(version)
    api(members[Role.APPROVER]).post(
        url(tenant, "statement-version", version.pk, "approve"),
        {"decision": "approved"},
        format="json",
    )
    at = timezone.now() - timedelta(minutes=3)
    first = api(members[Role.RESPONDER]).post(
        publish,
        {"version": version.pk, "channel": "instagram", "published_at": at.isoformat()},
        format="json",
    )
    assert first.status_code == 201, first.content
    api(members[Role.RESPONDER]).post(
        publish, {"version": version.pk, "channel": "website"}, format="json"
    )
    incident.refresh_from_db()
    assert incident.first_statement_at == at
    assert incident.last_update_at > at
    timers = (
        api(members[Role.RESPONDER])
        .get(reverse("incident-timers", kwargs={"tenant_slug": tenant.slug, "pk": incident.pk}))
        .json()
    )
    first_statement = [t for t in timers["timers"] if t["target"] == "first_statement"]
    assert first_statement and first_statement[0]["met_at"] is not None
    assert PublishRecord.objects.count() == 2
    assert TimelineEntry.objects.filter(incident=incident, kind="statement").count() == 2
    export = api(members[Role.CLIENT]).get(url(tenant, "publish-record", action="export"))
    assert export.status_code == 200 and export["Content-Type"].startswith("text/csv")
    import csv
    import io

    rows = list(csv.reader(io.StringIO(export.content.decode())))
    assert [row[3] for row in rows] == ["channel", "instagram", "website"]
    assert rows[1][6] == version.text


def test_the_client_sees_no_drafts(
    api: Any, tenant: Any, members: Any, incident: Any, template: Any
) -> None:
    version = only_version(draft(api, tenant, members, incident, template))
    listing = api(members[Role.CLIENT]).get(url(tenant, "statement-version"))
    assert (
        listing.json()["results"] == []
        if isinstance(listing.json(), dict)
        else listing.json() == []
    )
    services_submit(version)
    listing = api(members[Role.CLIENT]).get(url(tenant, "statement-version"))
    body = listing.json()
    rows = body["results"] if isinstance(body, dict) else body
    assert [row["id"] for row in rows] == [version.pk]


DECIDE = (
    "mutation($slug: String!, $id: ID!, $decision: String!, $comment: String!) {"
    " client_decide_statement(slug: $slug, id: $id, decision: $decision, comment: $comment)"
    " { id status } }"
)


def test_the_client_approver_decides_in_the_portal(
    api: Any, gql: Any, tenant: Any, members: Any, incident: Any, template: Any
) -> None:
    workflow = ApprovalWorkflow.objects.create(tenant=tenant, severity="sev2")
    ApprovalStep.objects.create(tenant=tenant, workflow=workflow, position=1, kind="client")
    version = only_version(draft(api, tenant, members, incident, template))
    client = members[Role.CLIENT]
    seen = gql(
        "query($slug: String!) { statement_versions(slug: $slug) { id status } }",
        user=client,
        variables={"slug": tenant.slug},
    )
    assert seen["data"]["statement_versions"] == []  # a draft stays inside the agency
    services_submit(version)
    variables = {"slug": tenant.slug, "id": str(version.pk), "decision": "rejected", "comment": ""}
    refused = gql(DECIDE, user=client, variables=variables)
    assert refused["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "version"}
    incident_services.assign_role(incident=incident, user=client, role="client_approver")
    bare = gql(DECIDE, user=client, variables=variables)
    assert bare["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "comment"}
    done = gql(DECIDE, user=client, variables={**variables, "comment": "Kurang empati."})
    assert done["data"]["client_decide_statement"] == {"id": str(version.pk), "status": "rejected"}
    approval = StatementApproval.objects.get(version=version)
    assert (approval.via, approval.comment) == ("portal", "Kurang empati.")


def test_the_e_mailed_link_handler_decides_through_the_same_rules(
    api: Any, tenant: Any, members: Any, incident: Any, template: Any
) -> None:
    from incidents.statements.links import perform_client_decision

    workflow = ApprovalWorkflow.objects.create(tenant=tenant, severity="sev2")
    ApprovalStep.objects.create(tenant=tenant, workflow=workflow, position=1, kind="client")
    version = only_version(draft(api, tenant, members, incident, template))
    services_submit(version)
    client = members[Role.CLIENT]
    incident_services.assign_role(incident=incident, user=client, role="client_approver")
    with translation.override("en"):
        text = perform_client_decision(client, version, {"decision": "approved", "comment": ""})
    assert text == "You approved version 1 of Gangguan."
    version.refresh_from_db()
    assert version.status == "approved"
    assert StatementApproval.objects.get(version=version).via == "link"
    with pytest.raises(ValidationError) as again:  # single use is the link's; the rule is ours
        perform_client_decision(client, version, {"decision": "approved"})
    assert again.value.error_dict["version"][0].code == "not_submitted"


LINK = re.compile(r"https?://\S+?(/act/\d+/[^/\s]+/)")


def test_the_client_decides_from_the_e_mailed_link_on_post_only_once(
    api: Any,
    tenant: Any,
    members: Any,
    incident: Any,
    template: Any,
    mailoutbox: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    workflow = ApprovalWorkflow.objects.create(tenant=tenant, severity="sev2")
    ApprovalStep.objects.create(tenant=tenant, workflow=workflow, position=1, kind="client")
    client = members[Role.CLIENT]
    incident_services.assign_role(incident=incident, user=client, role="client_approver")
    version = only_version(draft(api, tenant, members, incident, template))
    with django_capture_on_commit_callbacks(execute=True):
        submitted = api(members[Role.RESPONDER]).post(
            url(tenant, "statement-version", version.pk, "submit")
        )
    assert submitted.status_code == 200, submitted.content
    deliver()
    mail = mailoutbox[-1]
    assert mail.to == [client.email]
    found = LINK.search(mail.body)
    assert found is not None, mail.body
    path = found.group(1)
    browser = Client()
    assert browser.get(path).status_code == 200  # a mail scanner opening it decides nothing
    version.refresh_from_db()
    assert version.status == "submitted"
    done = browser.post(path, {"decision": "approved", "comment": "Setuju"})
    assert done.status_code == 200, done.content
    version.refresh_from_db()
    assert version.status == "approved"
    approval = StatementApproval.objects.get(version=version)
    assert (approval.user, approval.via, approval.comment) == (client, "link", "Setuju")
    assert browser.post(path, {"decision": "rejected", "comment": "x"}).status_code == 404


def test_the_approval_cycle_figure_reads_submitted_to_approved(
    api: Any, tenant: Any, members: Any, incident: Any, template: Any
) -> None:
    from incidents.evaluation.figures import approval_cycles

    assert approval_cycles(incident) == {"available": True, "minutes": [], "median_minutes": None}
    workflow = ApprovalWorkflow.objects.create(tenant=tenant, severity="sev2")
    ApprovalStep.objects.create(tenant=tenant, workflow=workflow, position=1, kind="client")
    client = members[Role.CLIENT]
    incident_services.assign_role(incident=incident, user=client, role="client_approver")
    version = only_version(draft(api, tenant, members, incident, template))
    services_submit(version)
    decided = api(client).post(
        url(tenant, "statement-version", version.pk, "client_decision"),
        {"decision": "approved"},
        format="json",
    )
    assert decided.status_code == 200, decided.content
    # Known times: submitted at 10:00, approved at 10:25 -> one cycle of 25 minutes.
    start = timezone.now().replace(hour=10, minute=0, second=0, microsecond=0)
    StatementVersion.objects.filter(pk=version.pk).update(
        submitted_at=start, approved_at=start + timedelta(minutes=25)
    )
    assert approval_cycles(incident) == {
        "available": True,
        "minutes": [25.0],
        "median_minutes": 25.0,
    }
