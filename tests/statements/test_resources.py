"""Statements, templates, workflows and stakeholders on the shared resource test base
(tests/resource_base.py): CRUD, refusals, other tenants' objects and pinned query counts."""

from __future__ import annotations

from typing import Any

from incidents.statements.models import (
    ApprovalStep,
    ApprovalWorkflow,
    CrisisMode,
    PublishRecord,
    RightOfReply,
    Stakeholder,
    StakeholderInteraction,
    Statement,
    StatementApproval,
    StatementVersion,
)
from playbooks import services as playbook_services
from playbooks.models import StatementTemplate
from tenants.models import Tenant
from tenants.roles import Cap
from tests.incidents.factories import IncidentFactory
from tests.resource_base import Ctx, GraphQLMutation, TenantResourceTests

VIEW, INTERNAL, MANAGE = Cap.VIEW_INCIDENTS, Cap.VIEW_INCIDENT_INTERNALS, Cap.MANAGE_INCIDENTS
STAKEHOLDERS, DRAFT = Cap.MANAGE_STAKEHOLDERS, Cap.DRAFT_STATEMENTS
PAGED = 5

TEMPLATE = {
    "name": "Gangguan layanan",
    "language": "id",
    "part_confirmed": "Kami mengonfirmasi gangguan {layanan}.",
    "part_actions": "Tim kami sedang memperbaikinya.",
    "part_empathy": "Kami mohon maaf.",
    "part_next_update": "Kabar berikutnya pukul {jam}.",
    "placeholders": ["layanan", "jam"],
    "must_not": [{"category": "blame", "phrase": "kesalahan vendor"}],
}


def stakeholder(tenant: Tenant, name: str = "Rina") -> Stakeholder:
    return Stakeholder.objects.create(tenant=tenant, name=name, kind="journalist")


class TestStatementTemplates(TenantResourceTests):
    model = StatementTemplate
    basename = "statement-template"
    capabilities = {
        "list": INTERNAL,
        "retrieve": INTERNAL,
        "create": MANAGE,
        "update": MANAGE,
        "partial_update": MANAGE,
        "destroy": MANAGE,
    }
    create_data = TEMPLATE
    update_data = {"part_empathy": "Kami memahami kekhawatiran Anda."}
    rest_list_queries = PAGED

    def make(self, tenant: Tenant) -> StatementTemplate:
        count = StatementTemplate.objects.for_tenant(tenant).count()
        return playbook_services.create_statement_template(
            tenant=tenant, **{**TEMPLATE, "name": f"Template {count}"}
        )


class TestApprovalWorkflows(TenantResourceTests):
    model = ApprovalWorkflow
    basename = "approval-workflow"
    capabilities = {
        "list": INTERNAL,
        "retrieve": INTERNAL,
        "create": Cap.COMMAND_INCIDENTS,
        "update": Cap.COMMAND_INCIDENTS,
        "partial_update": Cap.COMMAND_INCIDENTS,
        "destroy": Cap.COMMAND_INCIDENTS,
    }
    create_data = {"severity": "sev1", "name": "SEV1: approver then client"}
    update_data = {"name": "SEV1"}
    rest_list_queries = PAGED
    rows_per_count = 1

    def make(self, tenant: Tenant) -> ApprovalWorkflow:
        taken = set(ApprovalWorkflow.objects.for_tenant(tenant).values_list("severity", flat=True))
        severity = next(s for s in ("sev2", "sev3", "sev4", "sev1") if s not in taken)
        return ApprovalWorkflow.objects.create(tenant=tenant, severity=severity)


def sev2_workflow(tenant: Tenant) -> ApprovalWorkflow:
    found = ApprovalWorkflow.objects.for_tenant(tenant).filter(severity="sev2").first()
    return found or ApprovalWorkflow.objects.create(tenant=tenant, severity="sev2")


class TestApprovalSteps(TenantResourceTests):
    model = ApprovalStep
    basename = "approval-step"
    capabilities = {
        "list": INTERNAL,
        "retrieve": INTERNAL,
        "create": Cap.COMMAND_INCIDENTS,
        "update": Cap.COMMAND_INCIDENTS,
        "partial_update": Cap.COMMAND_INCIDENTS,
        "destroy": Cap.COMMAND_INCIDENTS,
    }
    update_data = {"mode": "all", "time_box_minutes": 10}
    rest_list_queries = PAGED

    def make(self, tenant: Tenant) -> ApprovalStep:
        workflow = sev2_workflow(tenant)
        position = ApprovalStep.objects.for_tenant(tenant).filter(workflow=workflow).count() + 1
        return ApprovalStep.objects.create(tenant=tenant, workflow=workflow, position=position)

    def create_payload(self, ctx: Ctx) -> dict[str, Any]:
        workflow = sev2_workflow(ctx.tenant)
        taken = ApprovalStep.objects.for_tenant(ctx.tenant).filter(workflow=workflow).count()
        return {
            "workflow": workflow.pk,
            "position": taken + 10,
            "approvers": [ctx.members["approver"].pk],
            "backup": ctx.members["admin"].pk,
        }

    def expected_after_create(self, ctx: Ctx) -> dict[str, Any]:
        return {"approvers": [ctx.members["approver"].pk], "backup": ctx.members["admin"].pk}

    def foreign_body(self, ctx: Ctx) -> dict[str, Any]:
        return {"workflow": sev2_workflow(ctx.other_tenant).pk, "backup": ctx.outsider.pk}


class TestStatements(TenantResourceTests):
    model = Statement
    basename = "statement"
    capabilities = {"list": VIEW, "retrieve": VIEW, "create": DRAFT}
    rest_list_queries = PAGED
    graphql_list = "query($slug: String!) { statements(slug: $slug) { id title } }"
    graphql_list_path = ("statements",)
    graphql_list_queries = 4

    def make(self, tenant: Tenant) -> Statement:
        statement = Statement.objects.create(
            tenant=tenant, incident=IncidentFactory(tenant=tenant), title="Klarifikasi"
        )
        StatementVersion.objects.create(
            tenant=tenant,
            statement=statement,
            incident_id=statement.incident_id,
            number=1,
            text="Kami mengonfirmasi.",
            status="approved",
        )
        return statement

    def create_payload(self, ctx: Ctx) -> dict[str, Any]:
        return {
            "incident": IncidentFactory(tenant=ctx.tenant).pk,
            "title": "Klarifikasi",
            "text": "Kami mengonfirmasi gangguan.",
        }

    def expected_after_create(self, ctx: Ctx) -> dict[str, Any]:
        return {"title": "Klarifikasi", "must_not": []}

    def foreign_body(self, ctx: Ctx) -> dict[str, Any]:
        theirs = playbook_services.create_statement_template(tenant=ctx.other_tenant, **TEMPLATE)
        return {"incident": IncidentFactory(tenant=ctx.other_tenant).pk, "template": theirs.pk}


class TestStakeholders(TenantResourceTests):
    model = Stakeholder
    basename = "stakeholder"
    capabilities = {
        "list": INTERNAL,
        "retrieve": INTERNAL,
        "create": STAKEHOLDERS,
        "update": STAKEHOLDERS,
        "partial_update": STAKEHOLDERS,
        "destroy": STAKEHOLDERS,
    }
    create_data = {"name": "Kementerian Perdagangan", "kind": "regulator", "tags": ["pusat"]}
    update_data = {"phone": "+62 21 555 0101"}
    rest_list_queries = PAGED

    def make(self, tenant: Tenant) -> Stakeholder:
        return stakeholder(tenant)


class TestInteractions(TenantResourceTests):
    model = StakeholderInteraction
    basename = "stakeholder-interaction"
    capabilities = {"list": VIEW, "retrieve": VIEW, "create": STAKEHOLDERS}
    rest_list_queries = PAGED

    def make(self, tenant: Tenant) -> StakeholderInteraction:
        return StakeholderInteraction.objects.create(
            tenant=tenant,
            incident=IncidentFactory(tenant=tenant),
            stakeholder=stakeholder(tenant),
            channel="email",
            summary="Mengirim pernyataan.",
            visible_to_client=True,
        )

    def create_payload(self, ctx: Ctx) -> dict[str, Any]:
        return {
            "incident": IncidentFactory(tenant=ctx.tenant).pk,
            "stakeholder": stakeholder(ctx.tenant).pk,
            "channel": "phone",
            "summary": "Menjelaskan kronologi.",
        }

    def expected_after_create(self, ctx: Ctx) -> dict[str, Any]:
        return {"channel": "phone", "visible_to_client": False}

    def foreign_body(self, ctx: Ctx) -> dict[str, Any]:
        return {
            "incident": IncidentFactory(tenant=ctx.other_tenant).pk,
            "stakeholder": stakeholder(ctx.other_tenant).pk,
        }


class TestRightsOfReply(TenantResourceTests):
    model = RightOfReply
    basename = "right-of-reply"
    capabilities = {
        "list": INTERNAL,
        "retrieve": INTERNAL,
        "create": STAKEHOLDERS,
        "partial_update": STAKEHOLDERS,
        "destroy": STAKEHOLDERS,
    }
    update_data = {"notes": "Redaksi minta versi tertulis."}
    rest_list_queries = PAGED

    def make(self, tenant: Tenant) -> RightOfReply:
        return RightOfReply.objects.create(
            tenant=tenant,
            incident=IncidentFactory(tenant=tenant),
            outlet=stakeholder(tenant, "Harian Kota"),
            article_url="https://berita.example/1",
        )

    def create_payload(self, ctx: Ctx) -> dict[str, Any]:
        return {
            "incident": IncidentFactory(tenant=ctx.tenant).pk,
            "outlet": stakeholder(ctx.tenant, "Harian Kota").pk,
            "article_url": "https://berita.example/2",
        }

    def expected_after_create(self, ctx: Ctx) -> dict[str, Any]:
        return {"article_url": "https://berita.example/2", "published": False}

    def foreign_body(self, ctx: Ctx) -> dict[str, Any]:
        return {
            "incident": IncidentFactory(tenant=ctx.other_tenant).pk,
            "outlet": stakeholder(ctx.other_tenant).pk,
        }


def submitted_version(tenant: Tenant, *, client_step: bool) -> StatementVersion:
    """A version awaiting its first step (the incident's client approver's when
    ``client_step``; the tenant's client member is made that approver)."""
    from django.utils import timezone

    from incidents.models import IncidentMember
    from tenants.models import Membership

    incident = IncidentFactory(tenant=tenant)
    statement = Statement.objects.create(tenant=tenant, incident=incident, title="Klarifikasi")
    now = timezone.now()
    step = {
        "position": 1,
        "kind": "client" if client_step else "agency",
        "mode": "any",
        "approvers": [],
        "time_box_minutes": 60,
        "backup": None,
    }
    client = Membership.objects.for_tenant(tenant).filter(role="client").first()
    if client is not None:
        IncidentMember.objects.create(
            tenant=tenant, incident=incident, user_id=client.user_id, role="client_approver"
        )
    return StatementVersion.objects.create(
        tenant=tenant,
        statement=statement,
        incident=incident,
        number=1,
        text="Kami mengonfirmasi gangguan.",
        status="submitted",
        steps=[step],
        submitted_at=now,
        step_started_at=now,
    )


DECIDE = (
    "mutation($slug: String!, $id: ID!, $decision: String!, $comment: String!) {"
    " client_decide_statement(slug: $slug, id: $id, decision: $decision, comment: $comment)"
    " { id status } }"
)


class TestStatementVersions(TenantResourceTests):
    model = StatementVersion
    basename = "statement-version"
    capabilities = {"list": VIEW, "retrieve": VIEW}
    rest_list_queries = PAGED
    graphql_list = "query($slug: String!) { statement_versions(slug: $slug) { id status } }"
    graphql_list_path = ("statement_versions",)
    graphql_list_queries = 4
    graphql_mutations = (
        GraphQLMutation(
            action="update",
            document=DECIDE,
            capability=Cap.CLIENT_APPROVE_STATEMENTS,
            variables=lambda ctx: {"decision": "approved", "comment": "Setuju."},
            expect=lambda ctx: {"status": "approved"},
        ),
    )

    def make(self, tenant: Tenant) -> StatementVersion:
        return submitted_version(tenant, client_step=True)


class TestStatementApprovals(TenantResourceTests):
    model = StatementApproval
    basename = "statement-approval"
    capabilities = {"list": INTERNAL, "retrieve": INTERNAL}
    rest_list_queries = PAGED

    def make(self, tenant: Tenant) -> StatementApproval:
        version = submitted_version(tenant, client_step=False)
        return StatementApproval.objects.create(
            tenant=tenant, version=version, step=0, decision="approved"
        )


def approved_version(tenant: Tenant) -> StatementVersion:
    version = submitted_version(tenant, client_step=False)
    version.status = "approved"
    version.approved_at = version.submitted_at
    version.save()
    return version


class TestPublishRecords(TenantResourceTests):
    model = PublishRecord
    basename = "publish-record"
    capabilities = {"list": VIEW, "retrieve": VIEW, "create": DRAFT}
    rest_list_queries = PAGED

    def make(self, tenant: Tenant) -> PublishRecord:
        version = approved_version(tenant)
        return PublishRecord.objects.create(
            tenant=tenant, version=version, incident_id=version.incident_id, channel="x"
        )

    def create_payload(self, ctx: Ctx) -> dict[str, Any]:
        return {"version": approved_version(ctx.tenant).pk, "channel": "press_release"}

    def expected_after_create(self, ctx: Ctx) -> dict[str, Any]:
        return {"channel": "press_release"}

    def foreign_body(self, ctx: Ctx) -> dict[str, Any]:
        return {"version": approved_version(ctx.other_tenant).pk}


class TestCrisisModes(TenantResourceTests):
    model = CrisisMode
    basename = "crisis-mode"
    capabilities = {"list": VIEW, "retrieve": VIEW, "create": MANAGE}
    rest_list_queries = PAGED

    def make(self, tenant: Tenant) -> CrisisMode:
        from django.utils import timezone

        return CrisisMode.objects.create(
            tenant=tenant,
            incident=IncidentFactory(tenant=tenant),
            reason="Latihan",
            ended_at=timezone.now(),
            end_reason="selesai",
        )

    def create_payload(self, ctx: Ctx) -> dict[str, Any]:
        return {"incident": IncidentFactory(tenant=ctx.tenant).pk, "reason": "Viral"}

    def expected_after_create(self, ctx: Ctx) -> dict[str, Any]:
        return {"reason": "Viral", "is_active": True}

    def foreign_body(self, ctx: Ctx) -> dict[str, Any]:
        return {"incident": IncidentFactory(tenant=ctx.other_tenant).pk}
